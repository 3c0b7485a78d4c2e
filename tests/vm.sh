#!/usr/bin/env bash
# Guest-scenario runner: boots the test kernel in QEMU (q35, TCG) with emulated SR-IOV PFs and
# runs the given shell scripts inside the guest, one test case each.
#
#   tests/vm.sh [options] SCRIPT...
#     --topology igb|nvme|both|virtio
#                                emulated PFs (default: both); a pci-testdev is always present.
#                                virtio: a virtio-net SR-IOV PF with 8 VFs that are full
#                                virtio-net devices (QEMU >= 10.1's composable SR-IOV), each VF
#                                and the PF on a QEMU user network of its own (restrict=on, the
#                                guest side 10.0.2.15, the gateway 10.0.2.2); run by the QEMU of a
#                                Debian sid chroot (scripts/sid-qemu.sh), the machine's QEMU
#                                being too old. Its guest drivers (virtio_pci, virtio_net) are
#                                modules of Debian's kernels: use it with --kernel stock-X.Y
#     --driver rust|c            pf_stub, or the kernel's C pci-pf-stub in its place (default rust)
#     --kernel base|debug|intree test kernel flavour (default base); intree is the base kernel
#                                built with pf_stub in tree (scripts/build-intree.sh)
#     --kernel stock-X.Y         Debian's own kernel binary of series X.Y (7.2, 7.3), unmodified,
#                                with pf_stub built for it by scripts/prepare-kdir.sh
#                                (scripts/stock-kernel.sh); no KUnit there (--no-kunit implied)
#     --linux X.Y                the kernel series (default: the set-up's PF_STUB_LINUX; the
#                                other one set up is PF_STUB_LINUX_ALSO, see scripts/setup.sh)
#     --no-kunit                 do not run the KUnit suites first
#     --timeout SECONDS          kill the guest after this long (default 600)
#     --log FILE                 also write the console to FILE
#     --env NAME=VALUE           set NAME in the guest's environment (e.g. PFSTUB_STRESS_ITER)
#     --icount SHIFT             deterministic guest clock: QEMU -icount shift=SHIFT,sleep=off, so
#                                the guest's nanoseconds count its instructions (2^SHIFT ns each)
#                                and idle waits, not the host's load (for the benchmark)
#     --qmp                      let the guest remove and add devices: a console line
#                                `PFSTUB-HOST device_del ID` (or device_add ...) is sent to QMP
#     --iommu                    an emulated Intel IOMMU (intel-iommu with interrupt remapping,
#                                guest intel_iommu=on): VFs get real IOMMU groups, vfio its type1
#                                and iommufd back ends; the kernel's VFIO selftests are put in
#                                the guest's /bin (scripts/build-vfio-selftests.sh)
#     --shared-group             root ports without ACS (disable-acs=on): each PF shares its IOMMU
#                                group with its VFs, as on many real platforms
#
# A script runs in the guest under /bin/sh (busybox) with tests/guest/lib.sh sourced: $DRV,
# $IGB_PF, $NVME_PF, $NOSRIOV and helpers such as expect_write and expect_vfs. It passes by
# exiting 0, fails by exiting non-zero, and is skipped by exiting 77. The console is printed;
# the exit status is non-zero when any script (or KUnit case) fails, and 75 when the guest
# kernel did not even reach /init or QEMU aborted on an assertion of its own, 76 when the guest
# timed out with no kernel report in its console.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

topology=both driver=rust flavour=base kunit=1 timeout=600 logfile="" qmp=0 icount="" iommu=0 acs=""
scripts=()
genv=()
while [ $# -gt 0 ]; do
	case "$1" in
	--topology) topology=$2; shift 2 ;;
	--driver) driver=$2; shift 2 ;;
	--kernel) flavour=$2; shift 2 ;;
	--linux) export PF_STUB_SERIES=$2; shift 2 ;;
	--no-kunit) kunit=0; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--log) logfile=$2; shift 2 ;;
	--qmp) qmp=1; shift ;;
	--iommu) iommu=1; shift ;;
	--shared-group) acs=",disable-acs=on"; shift ;;
	--icount) icount=$2; shift 2 ;;
	--env) genv+=("$2"); shift 2 ;;
	-h|--help) sed -n '2,44p' "$0"; exit 0 ;;
	-*) echo "vm.sh: unknown option $1" >&2; exit 2 ;;
	*) scripts+=("$1"); shift ;;
	esac
done
case "$topology" in igb|nvme|both|virtio) ;; *) echo "vm.sh: --topology igb|nvme|both|virtio" >&2; exit 2 ;; esac
case "$driver" in rust|c) ;; *) echo "vm.sh: --driver rust|c" >&2; exit 2 ;; esac
[ ${#scripts[@]} -gt 0 ] || { echo "vm.sh: no script given" >&2; exit 2; }

"$PF_STUB_ROOT/scripts/setup.sh"
if [ "$flavour" = intree ]; then
	kdir=$("$PF_STUB_ROOT/scripts/build-intree.sh")
	ko=""
elif [ "${flavour#stock-}" != "$flavour" ]; then
	# A distribution's kernel has no pf_stub KUnit suites (no CONFIG_KUNIT).
	kdir=$("$PF_STUB_ROOT/scripts/stock-kernel.sh" "${flavour#stock-}")
	ko=$kdir/pf_stub.ko
	kunit=0
else
	kdir=$("$PF_STUB_ROOT/scripts/build-kernel.sh" "$flavour")
	ko=$("$PF_STUB_ROOT/scripts/build-module.sh" "$flavour")
fi
krel=$(cat "$kdir/include/config/kernel.release")

# --- initramfs ---
stage=$(mktemp -d "${TMPDIR:-/tmp}/pf_stub-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,scenarios,tests,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
# The guest's own helpers (tests/guest/*.c), static so they need nothing from the initramfs.
mkdir -p "$PF_STUB_CACHE/guest-bin"
for c in "$PF_STUB_ROOT"/tests/guest/*.c; do
	bin="$PF_STUB_CACHE/guest-bin/$(basename "$c" .c)"
	if [ ! -x "$bin" ] || [ "$c" -nt "$bin" ]; then
		gcc -static -O2 -Wall -o "$bin" "$c"
	fi
	cp "$bin" "$stage/bin/"
done
cp -a "$kdir/modroot/lib/modules/$krel" "$stage/lib/modules/"
if [ -n "$ko" ]; then
	mkdir -p "$stage/lib/modules/$krel/extra"
	cp "$ko" "$stage/lib/modules/$krel/extra/pf_stub.ko"
else
	genv+=("PFSTUB_KO=/lib/modules/$krel/kernel/drivers/pci/pf_stub/pf_stub.ko")
fi
depmod -b "$stage" "$krel"
# The VFIO selftests come from the test kernels' tree; the stock kernels' scenarios use none.
if [ "$iommu" = 1 ] && [ "${flavour#stock-}" = "$flavour" ]; then
	cp "$("$PF_STUB_ROOT/scripts/build-vfio-selftests.sh")"/vfio_* "$stage/bin/"
fi
cp "$PF_STUB_ROOT/tests/guest/init.sh" "$stage/init"
cp "$PF_STUB_ROOT/tests/guest/lib.sh" "$stage/tests/lib.sh"
chmod +x "$stage/init"
i=0
for s in "${scripts[@]}"; do
	i=$((i + 1))
	cp "$s" "$stage/scenarios/$(printf '%02d' "$i")-$(basename "$s")"
done
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$stage.cpio.gz"
trap 'rm -rf "$stage" "$stage.cpio.gz"' EXIT

# --- QEMU ---
# The machine's QEMU, or (virtio topology) the sid chroot's: QEMU runs as `chroot DIR
# qemu-system-x86_64`, with the kernel, the initramfs and the QMP socket in a folder of the
# chroot's /tmp ($run, seen from the host as $croot$run).
croot="" run="" bzimage="$kdir/arch/x86/boot/bzImage" initrd="$stage.cpio.gz" qemu_bin=(qemu-system-x86_64)
if [ "$topology" = virtio ]; then
	croot=$("$PF_STUB_ROOT/scripts/sid-qemu.sh")
	run=$(mktemp -d "$croot/tmp/pf_stub-run.XXXXXX")
	run=${run#"$croot"}
	trap 'rm -rf "$stage" "$stage.cpio.gz" "$croot$run"' EXIT
	cp -L "$bzimage" "$croot$run/bzImage"
	mv "$stage.cpio.gz" "$croot$run/initrd.cpio.gz"
	bzimage=$run/bzImage initrd=$run/initrd.cpio.gz
	qemu_bin=(chroot "$croot" qemu-system-x86_64)
fi
# TCG runs both vCPUs on one host thread. With one thread per vCPU (QEMU's default), QEMU
# 10.0.2 was seen to abort (an iotlb_to_section() assertion) or hang the guest: in about one
# boot in five under the emulated IOMMU, and without it in the debug kernel's removal races
# (2026-12-07: an abort in removal-race.sh, and CI's run of 0499572, whose debug guest went
# silent for its whole 2400 s with no kernel report). The guest's two vCPUs still interleave.
qemu=("${qemu_bin[@]}" -machine q35 -accel tcg,thread=single -cpu max -smp 2 -m 1024
	-display none -serial stdio -monitor none -no-reboot -nodefaults
	-kernel "$bzimage" -initrd "$initrd")
# The IOMMU comes before the devices it translates for.
if [ "$iommu" = 1 ]; then
	qemu+=(-device intel-iommu,intremap=on,caching-mode=on)
fi
qemu+=(-device pci-testdev)
if [ -n "$icount" ]; then
	case "$icount" in [0-9]|1[0-9]) ;; *) echo "vm.sh: --icount takes a shift of 0-19" >&2; exit 2 ;; esac
	qemu+=(-icount "shift=$icount,sleep=off")
fi
if [ "$topology" = igb ] || [ "$topology" = both ]; then
	qemu+=(-device "pcie-root-port,id=rp1,chassis=1,slot=1$acs"
		-device igb,bus=rp1,id=igb0)
fi
if [ "$topology" = nvme ] || [ "$topology" = both ]; then
	qemu+=(-device "pcie-root-port,id=rp2,chassis=2,slot=2$acs"
		-device nvme-subsys,id=subsys0
		-device "nvme,id=nvme0,serial=pfstub0,subsys=subsys0,bus=rp2,sriov_max_vfs=64,sriov_vq_flexible=128,sriov_vi_flexible=64,max_ioqpairs=130,msix_qsize=66")
fi
if [ "$topology" = virtio ]; then
	# QEMU >= 10.1's composable SR-IOV: the VFs are virtio-net-pci functions naming their PF
	# (sriov-pf=), given before it, at function numbers above the PF's with a constant stride;
	# the functions are ARI-capable, so 8 VFs fill functions 1-8 (addr 0x0.0x1 to 0x1.0x0) on
	# the root port's bus. Each VF, and the PF, has a QEMU user network of its own, restricted
	# (nothing leaves QEMU): the guest reaches the network's gateway, 10.0.2.2, through that
	# function only. The MACs name the function: 52:54:00:22:00:0N for VF N, ...:00 for the PF.
	qemu+=(-device "pcie-root-port,id=rp3,chassis=3,slot=3$acs")
	for n in 8 7 6 5 4 3 2 1; do
		qemu+=(-netdev "user,id=vfnet$n,restrict=on"
			-device "virtio-net-pci,bus=rp3,addr=0x$((n / 8)).0x$((n % 8)),netdev=vfnet$n,mac=52:54:00:22:00:0$n,sriov-pf=vnet0")
	done
	qemu+=(-netdev "user,id=pfnet,restrict=on"
		-device "virtio-net-pci,bus=rp3,addr=0x0.0x0,netdev=pfnet,mac=52:54:00:22:00:00,id=vnet0")
fi
append="console=ttyS0 loglevel=4 panic=-1 oops=panic no_timer_check pfstub.driver=$driver pfstub.kunit=$kunit pfstub.qmp=$qmp"
[ "$flavour" = debug ] && append+=" panic_on_warn=1 kmemleak=on"
[ "$iommu" = 1 ] && append+=" intel_iommu=on pfstub.iommu=1"
# NAME=VALUE words without a dot are handed to /init as environment variables.
for e in "${genv[@]}"; do
	case "$e" in
	[A-Z]*=*) append+=" $e" ;;
	*) echo "vm.sh: --env takes NAME=VALUE" >&2; exit 2 ;;
	esac
done

out=$(mktemp "${TMPDIR:-/tmp}/pf_stub-console.XXXXXX")
trap 'rm -rf "$stage" "$stage.cpio.gz" "$out" ${croot:+"$croot$run"}' EXIT
if [ "$qmp" = 1 ]; then
	# Native PCIe hotplug (pciehp) on the root ports instead of q35's default ACPI hotplug.
	# Under the chroot, the socket is in its /tmp: QEMU names it from inside, the agent from here.
	qmpsock=$stage.qmp
	[ -z "$croot" ] || qmpsock=$run/qmp
	qemu+=(-qmp "unix:$qmpsock,server=on,wait=off"
		-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
	"$PF_STUB_ROOT/tests/qmp-agent.py" "${croot:+$croot}$qmpsock" "$out" &
	agent=$!
	trap 'kill $agent 2>/dev/null || true; rm -rf "$stage" "$stage.cpio.gz" "$stage.qmp" "$out" ${croot:+"$croot$run"}' EXIT
fi
set +e
timeout --foreground -k 5 "$timeout" "${qemu[@]}" -append "$append" </dev/null 2>&1 | tee "$out"
qrc=${PIPESTATUS[0]}
set -e
[ -z "$logfile" ] || cp "$out" "$logfile"
# A kernel that dies (or hangs) before /init has run nothing of pf_stub's: say so with exit
# status 75, which lets the caller boot once more instead of counting a test failure.
if ! grep -qa '^PFSTUB-INIT' "$out"; then
	echo "vm.sh: the guest kernel did not reach /init" >&2
	exit 75
fi
# QEMU itself aborting on one of its own assertions (exit status 134, SIGABRT) is not a result
# of the guest's: QEMU 10.0.2's TCG was seen once in six boots to abort in iotlb_to_section()
# under the emulated IOMMU. Same exit status 75.
if [ "$qrc" = 134 ] && grep -qa '^qemu-system-x86_64: .*Assertion' "$out"; then
	echo "vm.sh: QEMU aborted on an assertion of its own" >&2
	exit 75
fi
if [ "$qrc" = 124 ]; then
	echo "vm.sh: guest timed out after ${timeout}s" >&2
	# Exit status 76 when the console has no kernel report: the caller may boot once more.
	if python3 "$PF_STUB_ROOT/tests/results.py" --scan "$out" >/dev/null 2>&1; then exit 76; fi
	exit 1
fi
if ! python3 "$PF_STUB_ROOT/tests/results.py" --scan "$out" >&2; then
	echo "vm.sh: kernel report or test script error in the console" >&2
	exit 1
fi
grep -qa '^PFSTUB-DONE rc=0' "$out"
