#!/usr/bin/env bash
# pf-stub-dkms on a Debian 13 system whose kernel's source is missing (linux-source-X.Y removed):
# `apt install ./pf-stub-dkms_*.deb` must succeed, say in one line which package to install, and
# leave that kernel without the module. Runs in a chroot of scripts/host-image.sh's base image
# (a throw-away overlay), on the build machine.
#   tests/host/dkms-skip.sh DEB [--log FILE]
# Writes FILE (default out/host/dkms-skip.log) with its case between PFSTUB-SCENARIOS-BEGIN/END.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
deb=$(realpath "${1:?usage: tests/host/dkms-skip.sh DEB [--log FILE]}")
logfile=${3:-$PF_STUB_ROOT/out/host/dkms-skip.log}
mkdir -p "$(dirname "$logfile")"
base=$("$PF_STUB_ROOT/scripts/host-image.sh" base)
krel=$(cat "$base/kernel.release")
series=$(echo "$krel" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
work=$(mktemp -d "${TMPDIR:-/tmp}/pf_stub-dkms-skip.XXXXXX")
m=$work/merged
mkdir -p "$work"/{upper,work,merged}
mnts=()
cleanup() {
	local i
	for ((i = ${#mnts[@]} - 1; i >= 0; i--)); do umount -l "${mnts[$i]}" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$base/root,upperdir=$work/upper,workdir=$work/work" "$m"
mnts+=("$m")
for d in proc sys dev dev/pts; do mount --bind "/$d" "$m/$d"; mnts+=("$m/$d"); done
in_chroot() { chroot "$m" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
in_chroot dpkg -r "linux-source-$series" >/dev/null
cp "$deb" "$m/tmp/"
set +e
out=$(in_chroot apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" 2>&1)
rc=$?
set -e
why=""
[ "$rc" = 0 ] || why="apt-get install failed ($rc)"
line=$(printf '%s\n' "$out" | grep "^pf_stub: not built for kernel $krel:" || true)
[ -n "$why" ] || [ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || why="no single 'pf_stub: not built' line"
case "$line" in *"linux-source-$series"*) ;; *) why=${why:-"the line does not name linux-source-$series"} ;; esac
if [ -z "$why" ] && in_chroot dkms status pf_stub | grep "$krel" | grep -q installed; then why="installed for $krel"; fi
if [ -z "$why" ] && [ "$(in_chroot dpkg-query -W -f '${Status}' pf-stub-dkms)" != "install ok installed" ]; then
	why="pf-stub-dkms not configured"
fi
{
	echo "PFSTUB-SCENARIOS-BEGIN"
	echo "1..1"
	printf '%s\n' "$out" | grep -vE '^\(Reading database|^Get:|^(Reading|Building) ' | sed 's/^/# /'
	if [ -z "$why" ]; then echo "ok 1 host.dkms-skip-missing-source"; else echo "not ok 1 host.dkms-skip-missing-source # $why"; fi
	echo "PFSTUB-SCENARIOS-END"
	echo "PFSTUB-DONE rc=0"
} >"$logfile"
grep -E '^(ok|not ok) |^# pf_stub: ' "$logfile"
[ -z "$why" ]
