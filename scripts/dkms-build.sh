#!/bin/sh
# DKMS's build command for pf_stub (dkms.conf's MAKE), run in DKMS's copy of the sources:
#   scripts/dkms-build.sh KERNELVER HEADERS
# Prepares the kernel's KDIR with scripts/prepare-kdir.sh (cached in
# /var/cache/pf_stub/kdir-KERNELVER: minutes the first time, seconds after), then builds the
# module there. A kernel whose source or compiler cannot be matched is refused by prepare-kdir.sh
# with one line naming what to install; that line is printed last, prefixed with "pf_stub:", and
# the build of this kernel fails (DKMS goes on with the others).
set -u
krel=$1 headers=$2
here=$(pwd)
log=$here/prepare-kdir.log
if ! kdir=$("$here/scripts/prepare-kdir.sh" --kernel "$krel" --out "/var/cache/pf_stub/kdir-$krel" "$headers" 2>"$log"); then
	cat "$log"
	msg=$(sed -n 's/^prepare-kdir: error: //p' "$log" | tail -n 1)
	echo "pf_stub: not built for kernel $krel: ${msg:-see $log}"
	exit 1
fi
cat "$log"
exec make -C "$kdir" M="$here" modules
