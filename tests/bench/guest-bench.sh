# Benchmark, run in the guest by tests/bench/run.sh: alternates the C pci-pf-stub and pf_stub
# (in its default configuration and with policy=simple vf_autoprobe=1) on the same PFs, round
# after round, and prints one "BENCH <metric> <driver> <ns>" line per measurement. bench, t_write
# and load: tests/bench/guest-lib.sh, which run.sh puts in front of this script.
ROUNDS=${PFSTUB_BENCH_ROUNDS:-20}
SWEEP_EVERY=${PFSTUB_BENCH_SWEEP_EVERY:-1}
REPS=200
[ -n "$IGB_PF" ] && [ -n "$NVME_PF" ] || fail "the benchmark needs both PFs"

drvname() { [ "$1" = c ] && echo pci-pf-stub || echo pf_stub; }
modname() { [ "$1" = c ] && echo pci_pf_stub || echo pf_stub; }
unlock() { [ "$1" = rust ] && echo unlock >"$SYS/$2/sriov_lock"; true; }

r=1
while [ "$r" -le "$ROUNDS" ]; do
	for d in c rust rust-simple; do
		load "$d" || fail "loading $d failed"
		for pf in $IGB_PF $NVME_PF; do
			echo "$(drvname "$d")" >"$SYS/$pf/driver_override"
			kind=igb
			[ "$pf" = "$NVME_PF" ] && kind=nvme
			t_write "probe_$kind" "$d" /sys/bus/pci/drivers_probe "$pf"
			[ "$(driver_of "$pf")" = "$(drvname "$d")" ] || fail "$pf not bound to $d"
		done
		t_write enable_igb_8 "$d" "$SYS/$IGB_PF/sriov_numvfs" 8
		unlock "$d" "$IGB_PF"
		t_write disable_igb_8 "$d" "$SYS/$IGB_PF/sriov_numvfs" 0
		t_write enable_nvme_64 "$d" "$SYS/$NVME_PF/sriov_numvfs" 64
		unlock "$d" "$NVME_PF"
		t_write disable_nvme_64 "$d" "$SYS/$NVME_PF/sriov_numvfs" 0
		if [ $(((r - 1) % SWEEP_EVERY)) = 0 ]; then
			for n in 1 2 4 8 16 32; do
				t_write "sweep_enable_nvme_$n" "$d" "$SYS/$NVME_PF/sriov_numvfs" "$n"
				unlock "$d" "$NVME_PF"
				t_write "sweep_disable_nvme_$n" "$d" "$SYS/$NVME_PF/sriov_numvfs" 0
			done
		fi
		bench read_sriov_numvfs "$d" "$(pfbench rd "$SYS/$IGB_PF/sriov_numvfs" $REPS)"
		if [ "$d" != c ]; then
			for f in sriov_policy sriov_lock sriov_vf_token sriov_vf_autoprobe sriov_vf_driver; do
				bench "read_$f" "$d" "$(pfbench rd "$SYS/$IGB_PF/$f" $REPS)"
			done
			bench write_sriov_vf_autoprobe "$d" "$(pfbench rw "$SYS/$IGB_PF/sriov_vf_autoprobe" 0 $REPS)"
			bench write_sriov_vf_driver "$d" "$(pfbench rw "$SYS/$IGB_PF/sriov_vf_driver" vfio-pci $REPS)"
			if [ "$d" = rust ]; then
				bench write_sriov_lock "$d" "$(pfbench rw "$SYS/$IGB_PF/sriov_lock" lock $REPS)"
				echo unlock >"$SYS/$IGB_PF/sriov_lock"
				bench write_sriov_vf_token "$d" "$(pfbench rw "$SYS/$IGB_PF/sriov_vf_token" 2ab74924-c335-45f4-9b16-8569e5b08258 $REPS)"
				echo clear >"$SYS/$IGB_PF/sriov_vf_token"
			fi
		fi
		for pf in $IGB_PF $NVME_PF; do
			echo "$pf" >"$SYS/$pf/driver/unbind"
			echo >"$SYS/$pf/driver_override"
		done
		rmmod "$(modname "$d")" || fail "rmmod $d failed"
	done
	r=$((r + 1))
done
