#!/usr/bin/env bash
# pf_stub on a full Debian 13 host: builds pf-stub-dkms (`make deb`), installs it into the Debian
# 13 system image of scripts/host-image.sh (apt in a chroot, DKMS building pf_stub with Debian's
# own rustc and bindgen), then boots that system from its disk under QEMU (q35, TCG, emulated
# Intel IOMMU with interrupt remapping, the igb and NVMe PFs of tests/vm.sh on root ports) and
# lets it run tests/host/guest/run.sh at each boot (a systemd unit of the image), across reboots.
#
#   tests/host/run.sh [main|all] [--log FILE]
#     main   1 boot of the system as installed and configured (tests/host/admin: modprobe.d,
#            modules-load.d): DKMS's module for the kernel; the igb PF on pf_stub (never on igb,
#            whose module is loaded) with 4 locked VFs on vfio-pci in IOMMU groups  (make test)
#     all    3 boots: main, driverctl set-override on the NVMe PF; after a reboot both again,
#            udev PF_STUB_EVENT uevents and a rule, libvirt with a VF hostdev (refusals while
#            it runs, unbind/adopt, nodedev-detach/reattach, destroy), a reboot with the VF in
#            use; after it a clean kernel log, both PFs again, apt remove; and, in a chroot,
#            the package's install on a kernel whose source is missing (tests/host/dkms-skip.sh)
#                                                                            (make test-host)
# The console goes to FILE (default out/host/host-MODE.log) with the cases between
# PFSTUB-SCENARIOS-BEGIN/END, as tests/results.py counts them; a case the guest never reported
# (a boot that did not happen) counts as failed. Exit status 0 when every case passed.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
mode=${1:-main}
shift || true
logfile=""
while [ $# -gt 0 ]; do
	case "$1" in
	--log) logfile=$2; shift 2 ;;
	*) echo "usage: tests/host/run.sh [main|all] [--log FILE]" >&2; exit 2 ;;
	esac
done
case "$mode" in
main) cases=(installed boot1.persistence) ;;
all) cases=(installed boot1.persistence driverctl-set boot2.persistence boot2.driverctl udev-events
	libvirt reboot-in-use reboot-clean-log boot3.persistence boot3.driverctl apt-remove) ;;
*) echo "usage: tests/host/run.sh [main|all]" >&2; exit 2 ;;
esac
outdir=$PF_STUB_ROOT/out/host
mkdir -p "$outdir"
logfile=${logfile:-$outdir/host-$mode.log}
log() { printf 'host: %s\n' "$*" >&2; }

t=$(date +%s)
deb=$("$PF_STUB_ROOT/scripts/make-deb.sh")
log "package $(basename "$deb"): $(($(date +%s) - t)) s"
t=$(date +%s)
img=$("$PF_STUB_ROOT/scripts/host-image.sh" "$deb")
log "image with the package installed ($img): $(($(date +%s) - t)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/pf_stub-host.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The image stays as built: each run boots a copy-on-write layer over it.
qemu-img create -q -f qcow2 -F raw -b "$img/disk.raw" "$work/root.qcow2"
# The test disk: the guest's script and its configuration, mounted by pf-stub-test.service.
mkdir -p "$work/test"
cp "$PF_STUB_ROOT/tests/host/guest/run.sh" "$work/test/run.sh"
echo "FLOWS=$mode" >"$work/test/config"
mkfs.ext4 -q -F -L PFSTUBTEST -d "$work/test" "$work/test.raw" 8M >/dev/null

# The devices of tests/vm.sh --iommu (its reasons hold here: the IOMMU before the devices it
# translates, both vCPUs on one TCG thread under it), the root and test disks on virtio-blk
# (legacy virtio: it bypasses the IOMMU, as the guest's driver expects without
# VIRTIO_F_ACCESS_PLATFORM). No -no-reboot: the guest reboots in place, QEMU ends at power-off.
qemu=(qemu-system-x86_64 -machine q35,kernel-irqchip=split -accel tcg,thread=single -cpu max -smp 2 -m 2048
	-display none -serial stdio -monitor none -nodefaults
	-device intel-iommu,intremap=on,caching-mode=on
	-device pcie-root-port,id=rp1,chassis=1,slot=1
	-device igb,bus=rp1,id=igb0
	-device pcie-root-port,id=rp2,chassis=2,slot=2
	-device nvme-subsys,id=subsys0
	-device "nvme,id=nvme0,serial=pfstub0,subsys=subsys0,bus=rp2,sriov_max_vfs=64,sriov_vq_flexible=128,sriov_vi_flexible=64,max_ioqpairs=130,msix_qsize=66"
	-drive "file=$work/root.qcow2,format=qcow2,if=none,id=root,cache=unsafe"
	-device virtio-blk-pci,drive=root
	-drive "file=$work/test.raw,format=raw,if=none,id=test,readonly=on"
	-device virtio-blk-pci,drive=test
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img"
	-append "root=LABEL=pfstubroot ro console=ttyS0 intel_iommu=on loglevel=4 systemd.show_status=error panic=-1")
timeout=$([ "$mode" = all ] && echo 1800 || echo 600)
log "booting the Debian 13 host ($mode: ${#cases[@]} cases, at most $timeout s)"
t=$(date +%s)
set +e
timeout --foreground -k 5 "$timeout" "${qemu[@]}" </dev/null >"$work/console" 2>&1
qrc=$?
set -e
secs=$(($(date +%s) - t))
tr -d '\r' <"$work/console" >"$work/console.txt"
log "QEMU exited ($qrc) after $secs s"
# Boot times, from the guest's own lines.
grep -a '^PFSTUB-HOST' "$work/console.txt" | sed 's/^/host: /' >&2 || true

rc=0
{
	echo "PFSTUB-SCENARIOS-BEGIN"
	echo "1..${#cases[@]}"
	n=0
	for c in "${cases[@]}"; do
		n=$((n + 1))
		if grep -aqx "PFSTUB-TAP ok $c" "$work/console.txt"; then
			echo "ok $n host.$c"
		elif grep -aqx "PFSTUB-TAP not ok $c" "$work/console.txt"; then
			echo "not ok $n host.$c"
			rc=1
		else
			echo "not ok $n host.$c # never reported (the boot that runs it did not come)"
			rc=1
		fi
	done
	echo "PFSTUB-SCENARIOS-END"
	[ "$qrc" = 0 ] || { echo "# QEMU exit status $qrc after $secs s"; rc=1; }
	echo "PFSTUB-DONE rc=$rc"
	echo "# --- the console of all boots ---"
	cat "$work/console.txt"
} >"$logfile"
sed -n '/PFSTUB-SCENARIOS-BEGIN/,/PFSTUB-SCENARIOS-END/p' "$logfile" | grep -E '^(ok|not ok) '
log "console and cases: $logfile"
logs=("host-$mode=$logfile")
# all: also a kernel whose source is missing, in a chroot (tests/host/dkms-skip.sh).
if [ "$mode" = all ]; then
	"$PF_STUB_ROOT/tests/host/dkms-skip.sh" "$deb" --log "$outdir/dkms-skip.log" || rc=1
	logs+=("dkms-skip=$outdir/dkms-skip.log")
fi
# The count as make test makes it (tests/results.py: these cases, kernel reports in the console).
python3 "$PF_STUB_ROOT/tests/results.py" /dev/null "${logs[@]}" | tail -n 5 || rc=1
exit "$rc"
