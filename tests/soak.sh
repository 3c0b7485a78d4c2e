#!/usr/bin/env bash
# `make soak`: the debug-kernel stress, fault-injection, fuzz and surprise-removal scenarios with
# ten times the bounded run's work per boot or more (12x the stress iterations, 10x the fuzz
# writes and module-parameter loads, every fault point of module load instead of every 4th), in
# three boots: igb, nvme and igb again, each with its own seed, none of them the bounded run's.
# The whole soak runs more than ten times as long as the bounded debug run of `make test`
# (about 7 minutes): about 80-90 minutes on 2 cores under TCG.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
out=out/soak
mkdir -p "$out"
logs=()
start=$(date +%s)
for run in igb:11 nvme:12 igb:13; do
	topo=${run%%:*} seed=${run#*:}
	{
		label="soak-$topo-$seed"
		echo "=== $label"
		t0=$(date +%s)
		envs=(--env PFSTUB_STRESS_ITER=300 --env PFSTUB_STRESS_SEED=$seed
			--env PFSTUB_FUZZ_COUNT=4000 --env PFSTUB_FUZZ_SEED=$seed --env PFSTUB_FUZZ_PARAMS=400
			--env PFSTUB_FAULT_ENABLE_POINTS=400 --env PFSTUB_FAULT_LOAD_STEP=1 --env PFSTUB_FAULT_LOAD_MAX=4000)
		tests/vm.sh --kernel debug --topology "$topo" --qmp --no-kunit --timeout 4500 --log "$out/$label.log" \
			"${envs[@]}" tests/debug/*.sh >/dev/null 2>&1
		if [ $? = 75 ]; then
			# The kernel died before /init: nothing ran; keep its console and boot once more.
			mv "$out/$label.log" "$out/$label.early-death.log"
			echo "=== $label: the guest kernel died before /init; booting again"
			tests/vm.sh --kernel debug --topology "$topo" --qmp --no-kunit --timeout 4500 --log "$out/$label.log" \
				"${envs[@]}" tests/debug/*.sh >/dev/null 2>&1
		fi
		grep -aE '^(ok|not ok) |# FAIL|^    # (fuzz|params|seed|after|kmemleak|operations|vf-enable|insmod|probe|numvfs|knobs|bind|vfs|module)' "$out/$label.log" || true
		echo "=== $label: $(($(date +%s) - t0)) s"
		logs+=("$label=$out/$label.log")
	}
done
echo "=== soak: $(($(date +%s) - start)) s in all"
python3 tests/results.py "$(pf_stub_kernel_src)/tools/testing/kunit/kunit.py" "${logs[@]}"
