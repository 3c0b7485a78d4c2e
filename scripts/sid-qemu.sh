#!/usr/bin/env bash
# A QEMU new enough for composable SR-IOV virtio-net (QEMU >= 10.1: `-device
# virtio-net-pci,...,sriov-pf=<PF id>`), which bookworm's backports (10.0.2) lack: a Debian sid
# system made by mmdebstrap with qemu-system-x86, kept under $PF_STUB_CACHE and run through
# `chroot DIR qemu-system-x86_64 ...` (tests/vm.sh --topology virtio). Nothing of sid is ever
# installed on this machine: sid is never an apt source of the system (a newer libc breaks
# bookworm's dpkg), only of mmdebstrap's own apt run into the new folder.
#
#   scripts/sid-qemu.sh     prints the chroot's directory (after building it once)
#
# The mirror is the one this machine's apt already uses for Debian (its sources.list.d or
# sources.list), read at run time. The folder is keyed by a hash of the inputs (suite, packages,
# apt options, mirror, mmdebstrap's version and this script), so changing any of them builds a
# new one beside the old; it is built under a temporary name and renamed when complete and
# checked (its QEMU has the sriov-pf property), so an interrupted build is never used.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
log() { printf 'sid-qemu: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

suite=sid
include=qemu-system-x86
aptopts=('Acquire::Check-Valid-Until "false"')

# The Debian archive this machine's apt uses: the URI of the source that serves its own
# release (bookworm), deb822 (.sources) or one-line (.list) format.
debian_mirror() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '
			/^[[:space:]]*$/ { if (uri != "" && suites ~ "(^| )" c "( |$)") { print uri; exit } uri = ""; suites = ""; next }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { $1 = ""; suites = substr($0, 2) }
			END { if (uri != "" && suites ~ "(^| )" c "( |$)") print uri }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '$1 == "deb" && $3 == c { print $2 }' "$f"
	done
}
mirror=$(debian_mirror | head -n1)
[ -n "$mirror" ] || die "no Debian mirror for this machine's release in /etc/apt"

command -v mmdebstrap >/dev/null || {
	log "installing mmdebstrap (bookworm)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
}
key=$({
	echo "suite=$suite include=$include"
	printf 'aptopt=%s\n' "${aptopts[@]}"
	echo "mirror=$mirror"
	mmdebstrap --version
	cat "$0"
} | sha256sum | cut -c1-16)
dir="$PF_STUB_CACHE/sid-qemu-$key"
mkdir -p "$PF_STUB_CACHE"
exec 9>"$dir.lock"
flock 9
if [ ! -x "$dir/usr/bin/qemu-system-x86_64" ]; then
	# Chroots of other keys (about 220 MB each) unused for a day go: another work tree's (another
	# version of this script) may be running a guest right now.
	find "$PF_STUB_CACHE" -maxdepth 1 -name 'sid-qemu-*' ! -name "sid-qemu-$key*" -mmin +1440 \
		-exec rm -rf {} +
	tmp="$dir.tmp"
	rm -rf "$tmp"
	start=$(date +%s)
	log "mmdebstrap $suite with $include into $dir (a few minutes the first time)"
	opts=()
	for o in "${aptopts[@]}"; do opts+=(--aptopt="$o"); done
	mmdebstrap --quiet --variant=apt "${opts[@]}" --include="$include" \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$suite" "$tmp" "$mirror" >&2 || die "mmdebstrap failed"
	v=$(chroot "$tmp" qemu-system-x86_64 --version | head -n1)
	chroot "$tmp" qemu-system-x86_64 -device virtio-net-pci,help 2>/dev/null | grep -q 'sriov-pf' ||
		die "$v has no virtio-net-pci sriov-pf property"
	echo "$v" >"$tmp/.pf_stub-qemu-version"
	mv "$tmp" "$dir"
	log "built in $(($(date +%s) - start)) s: $v"
fi
# Marks the chroot as used (the clean-up above goes by this time).
touch "$dir"
echo "$dir"
