#!/usr/bin/env bash
# `make soak`: the debug-kernel stress, fault-injection, fuzz and surprise-removal scenarios with
# ten times the bounded run's work per boot or more (12x the stress iterations, 10x the fuzz
# writes and module-parameter loads, every fault point of module load instead of every 4th),
# boot after boot (igb, nvme, igb, ... each with its own seed, none of them the bounded run's)
# until PFSTUB_SOAK_MINUTES (default 90) have passed, and at least three boots. The bounded
# debug scenarios of `make test` take about 5 minutes (7-8 with the machine shared), so the soak
# runs over ten times as long. One boot takes 15-22 minutes on 2 cores under TCG, the nvme boots
# the longer (their fuzzed writes enable up to 64 VFs), hence a budget in minutes, not boots.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
out=out/soak
mkdir -p "$out"
logs=()
start=$(date +%s)
budget=$((${PFSTUB_SOAK_MINUTES:-90} * 60))
boot=0
while [ "$boot" -lt 3 ] || [ $(($(date +%s) - start)) -lt "$budget" ]; do
	topo=igb
	[ $((boot % 2)) = 1 ] && topo=nvme
	seed=$((11 + boot))
	boot=$((boot + 1))
	label="soak-$topo-$seed"
	echo "=== $label"
	t0=$(date +%s)
	envs=(--env PFSTUB_STRESS_ITER=300 --env PFSTUB_STRESS_SEED=$seed
		--env PFSTUB_FUZZ_COUNT=4000 --env PFSTUB_FUZZ_SEED=$seed --env PFSTUB_FUZZ_PARAMS=400
		--env PFSTUB_FAULT_ENABLE_POINTS=400 --env PFSTUB_FAULT_LOAD_STEP=1 --env PFSTUB_FAULT_LOAD_MAX=4000)
	pf_stub_vm "$out/$label.log" --kernel debug --topology "$topo" --qmp --no-kunit --timeout 4500 \
		"${envs[@]}" tests/debug/*.sh
	grep -aE '^(ok|not ok) |# FAIL|^    # (fuzz|params|seed|after|kmemleak|operations|vf-enable|insmod|probe|numvfs|knobs|bind|vfs|module)' "$out/$label.log" || true
	echo "=== $label: $(($(date +%s) - t0)) s"
	logs+=("$label=$out/$label.log")
done
echo "=== soak: $boot boots, $(($(date +%s) - start)) s in all"
python3 tests/results.py "$(pf_stub_kernel_src)/tools/testing/kunit/kunit.py" "${logs[@]}"
