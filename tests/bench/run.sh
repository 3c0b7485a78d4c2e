#!/usr/bin/env bash
# `make bench`: one VM boot, the C pci-pf-stub and pf_stub alternated on the same igb and nvme
# PFs for 20 rounds (tests/bench/guest-bench.sh), then a Markdown table of medians, min-max and
# the pf_stub / C ratio, and the modules' footprint. Writes the table to out/bench.md too.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
mkdir -p out
log=out/bench.log
tests/vm.sh --topology both --timeout 3000 --log "$log" tests/bench/guest-bench.sh >/dev/null || {
	grep -aE 'FAIL|not ok' "$log" >&2 || true
	echo "bench: the guest run failed; see $log" >&2
	exit 1
}
kdir=$(scripts/build-kernel.sh base)
ko=$(scripts/build-module.sh base)
krel=$(cat "$kdir/include/config/kernel.release")
cko=$(find "$kdir/modroot/lib/modules/$krel" -name pci-pf-stub.ko | head -n 1)
python3 tests/bench/table.py "$log" "$cko" "$ko" | tee out/bench.md
