#!/bin/sh
# DKMS's build steps for pf_stub (dkms.conf), run in DKMS's copy of the sources:
#   scripts/dkms-build.sh prepare KERNELVER HEADERS   (PRE_BUILD)
#     prepares the kernel's KDIR with scripts/prepare-kdir.sh, cached in
#     /var/cache/pf_stub/kdir-KERNELVER (minutes the first time, seconds after). A kernel whose
#     source or compiler cannot be matched is refused by prepare-kdir.sh with a line naming what
#     to install: that line is printed on DKMS's own standard error (the admin's terminal under
#     apt, not only make.log), prefixed "pf_stub: not built for kernel KERNELVER:", and the step
#     exits 77, which DKMS (3.2, Debian 13) counts as "skipped" for this kernel: the package's
#     installation and the builds for the other kernels go on.
#   scripts/dkms-build.sh make KERNELVER               (MAKE)
#     builds the module in that KDIR.
set -u
step=$1 krel=$2
kdir=/var/cache/pf_stub/kdir-$krel
here=$(pwd)
case "$step" in
make)
	exec make -C "$kdir/build" M="$here" modules
	;;
prepare) ;;
*)
	echo "usage: scripts/dkms-build.sh prepare|make KERNELVER [HEADERS]" >&2
	exit 2
	;;
esac
headers=${3:-/lib/modules/$krel/build}
log=$here/prepare-kdir.log
if "$here/scripts/prepare-kdir.sh" --kernel "$krel" --out "$kdir" "$headers" >/dev/null 2>"$log"; then
	cat "$log"
	exit 0
fi
cat "$log"
msg=$(sed -n 's/^prepare-kdir: error: //p' "$log" | tail -n 1)
msg="pf_stub: not built for kernel $krel: ${msg:-see $log} (then: dkms autoinstall -k $krel)"
echo "$msg"
# DKMS sends this step's output to make.log only: the line goes to the standard error of the
# outermost dkms process too (apt's terminal), as DKMS's own warnings do.
pid=$$ top=""
while [ "$pid" -gt 1 ]; do
	pid=$(sed 's/^.*) [A-Z] \([0-9]*\) .*$/\1/' "/proc/$pid/stat" 2>/dev/null) || break
	[ -n "$pid" ] || break
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '/dkms '; then top=$pid; fi
done
[ -z "$top" ] || printf '\n%s\n' "$msg" >>"/proc/$top/fd/2" 2>/dev/null || true
# A refusal (a missing or mismatched package) skips this kernel; a failed build fails it.
case "$msg" in
*"failed (log:"*) exit 1 ;;
esac
exit 77
