#!/usr/bin/env bash
# `make bench`: one VM boot, the C pci-pf-stub and pf_stub alternated on the same igb and nvme
# PFs for 20 rounds (tests/bench/guest-bench.sh), then a Markdown table of medians, min-max and
# the pf_stub / C ratio, and the modules' footprint. Writes the table to out/bench.md too.
#
#   tests/bench/run.sh [--realtime] [--virtio-only]
# By default the guest runs with QEMU's -icount shift=0,sleep=off: its clock advances one
# nanosecond per guest instruction, plus the waits the PCI core sleeps (warped, not slept), so
# the figures count the work the guest does and do not move with the host's load; under plain
# TCG the same enable varied by +-25% from run to run. --realtime measures with the host's
# clock instead (slower: the PCI core's one-second waits are then slept).
#
# Then a second boot, on the virtio topology (a virtio-net SR-IOV PF, tests/vm.sh --topology
# virtio) under Debian's stock kernel of PF_STUB_LINUX (whose virtio-pci is the native PF driver;
# the test kernels have no virtio): the C driver, pf_stub both ways and virtio-pci's own
# sriov_configure alternated on that PF (tests/bench/guest-bench-virtio.sh), with the ratios to
# the C and to the native driver, in out/bench-virtio.md. --virtio-only runs that boot alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
clock=icount virtio_only=0
for a in "$@"; do
	case "$a" in
	--realtime) clock=realtime ;;
	--virtio-only) virtio_only=1 ;;
	*) echo "usage: $0 [--realtime] [--virtio-only]" >&2; exit 2 ;;
	esac
done
icount=(--icount 0)
[ "$clock" = icount ] || icount=()
mkdir -p out
# The guest scripts share tests/bench/guest-lib.sh: each goes to tests/vm.sh (which ships to the
# guest only the scripts it is given, and tests/guest/lib.sh) with that file in front of it, under
# its own name (the name of its test case), in out/bench-guest/.
guest_script() {
	mkdir -p out/bench-guest
	cat tests/bench/guest-lib.sh "tests/bench/$1" >"out/bench-guest/$1"
	echo "out/bench-guest/$1"
}
if [ "$virtio_only" = 0 ]; then
	log=out/bench.log
	script=$(guest_script guest-bench.sh)
	tests/vm.sh --topology both --timeout 3000 "${icount[@]}" --log "$log" "$script" >/dev/null || {
		grep -aE 'FAIL|not ok' "$log" >&2 || true
		echo "bench: the guest run failed; see $log" >&2
		exit 1
	}
	kdir=$(scripts/build-kernel.sh base)
	ko=$(scripts/build-module.sh base)
	krel=$(cat "$kdir/include/config/kernel.release")
	cko=$(find "$kdir/modroot/lib/modules/$krel" -name pci-pf-stub.ko | head -n 1)
	python3 tests/bench/table.py "$clock" "$log" "$cko" "$ko" | tee out/bench.md
fi

series=$(pf_stub_series)
log=out/bench-virtio.log
script=$(guest_script guest-bench-virtio.sh)
tests/vm.sh --kernel "stock-$series" --topology virtio --timeout 3000 "${icount[@]}" --log "$log" \
	"$script" >/dev/null || {
	grep -aE 'FAIL|not ok' "$log" >&2 || true
	echo "bench: the virtio guest run failed; see $log" >&2
	exit 1
}
stock=$(scripts/stock-kernel.sh "$series")
krel=$(cat "$stock/include/config/kernel.release")
cko=$(find "$stock/modroot/lib/modules/$krel" -name pci-pf-stub.ko | head -n 1)
echo
python3 tests/bench/table.py "$clock" "$log" "$cko" "$stock/pf_stub.ko" | tee out/bench-virtio.md
