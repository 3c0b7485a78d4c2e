# A VF bound while pf_stub leaves the PF is never torn down despite its lock. Rounds of an unbind
# of pf_stub (or an rmmod) from the NVMe PF with 64 locked, idle VFs, raced by binds of its
# last VF (the last one the disable removes) to vfio-pci, through vfio-pci's `bind` or through
# `drivers_probe`, started a little later each round. The promise checked after both finish:
# a bind that succeeded means the VFs are still there, with that VF bound to vfio-pci (kept
# locked at unbind, or rmmod refused); kept VFs always have a VF in use.
is_rust || exit 77
[ -n "$NVME_PF" ] || exit 77
ROUNDS=${PFSTUB_BIND_RACE_ROUNDS:-16}
# unbind or rmmod in every round (default: rmmod every third round)
ONLY_OP=${PFSTUB_BIND_RACE_OP:-}
pf=$NVME_PF
load_vfio || fail "vfio-pci did not load"
# VFs appear unbound: pf_stub does not pin them (vf_autoprobe=1) and the core does not probe
# them (its sriov_drivers_autoprobe off for this PF). The last one is then pointed at vfio-pci
# (driver_override), which does not probe it either, so that a bind can reach it at any time.
echo 0 >"$SYS/$pf/sriov_drivers_autoprobe"
cleanup() {
	echo 1 >"$SYS/$pf/sriov_drivers_autoprobe"
	[ -d /sys/module/pf_stub ] || return 0
	[ "$(driver_of "$pf")" = pf_stub ] || bind_to "$pf"
	echo unlock >"$SYS/$pf/sriov_lock"
	echo 0 >"$SYS/$pf/sriov_numvfs"
	unbind "$pf"
	rmmod pf_stub
}
trap 'cleanup >/dev/null 2>&1' EXIT
n=$(totalvfs "$pf")
last=$((n - 1))
kept=0 refused=0 early=0 r=0
while [ "$r" -lt "$ROUNDS" ]; do
	[ -d /sys/module/pf_stub ] || insmod "$PFSTUB_KO" vf_autoprobe=1 || fail "round $r: insmod failed"
	bind_to "$pf" || fail "round $r: $pf did not bind"
	if [ "$(numvfs "$pf")" != 0 ]; then
		expect_write OK "$SYS/$pf/sriov_lock" unlock
		expect_write OK "$SYS/$pf/sriov_numvfs" 0
	fi
	expect_write OK "$SYS/$pf/sriov_numvfs" "$n"
	[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "round $r: VFs not locked"
	vf=$(basename "$(readlink "$SYS/$pf/virtfn$last")")
	echo vfio-pci >"$SYS/$vf/driver_override"
	[ -z "$(driver_of "$vf")" ] || fail "round $r: $vf bound before the race"
	# the delay (ms) before the first bind
	case $((r % 8)) in
	0) shift_ms=0 ;; 1) shift_ms=5 ;; 2) shift_ms=10 ;; 3) shift_ms=20 ;;
	4) shift_ms=30 ;; 5) shift_ms=50 ;; 6) shift_ms=80 ;; *) shift_ms=120 ;;
	esac
	if [ $((r % 3)) = 2 ]; then op=rmmod; else op=unbind; fi
	[ -z "$ONLY_OP" ] || op=$ONLY_OP
	if [ $((r % 2)) = 0 ]; then how=bind; else how=drivers_probe; fi
	log_mark
	if [ "$op" = unbind ]; then
		echo "$pf" >/sys/bus/pci/drivers/pf_stub/unbind &
	else
		rmmod pf_stub 2>/dev/null &
	fi
	job=$!
	[ "$shift_ms" = 0 ] || sleep "0.$(printf '%03d' "$shift_ms")"
	bound=0 tries=0 stopped=0
	while kill -0 "$job" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$how" = bind ]; then
			if echo "$vf" >/sys/bus/pci/drivers/vfio-pci/bind 2>/dev/null; then bound=1; break; fi
		else
			echo "$vf" >/sys/bus/pci/drivers_probe 2>/dev/null
			if [ "$(driver_of "$vf")" = vfio-pci ]; then bound=1; break; fi
		fi
		# A bind that failed while the VF was still there was stopped, not too late.
		[ -e "$SYS/$vf" ] && stopped=$((stopped + 1))
	done
	wait "$job"
	op_rc=$?
	left=$(count_virtfn "$pf")
	if [ "$bound" = 1 ]; then
		if [ "$left" = 0 ] || ! [ -e "$SYS/$vf" ]; then
			dmesg | grep -E 'pf_stub|vfio' | tail -n 6 | sed 's/^/# log: /'
			fail "round $r ($op, $how after ${shift_ms} ms): $vf was bound to vfio-pci during the $op and then torn down with the VFs ($op exit $op_rc); the lock was not honoured"
		fi
		[ "$(driver_of "$vf")" = vfio-pci ] || fail "round $r: $vf lost vfio-pci"
		if [ "$op" = rmmod ] && [ "$op_rc" = 0 ]; then
			fail "round $r: rmmod succeeded while $vf was bound to vfio-pci"
		fi
		if [ -z "$(driver_of "$pf")" ]; then kept=$((kept + 1)); else early=$((early + 1)); fi
	else
		refused=$((refused + 1))
		if [ "$left" != 0 ]; then
			in_use=0
			for l in "$SYS/$pf"/virtfn*; do
				[ -n "$(driver_of "$(basename "$(readlink "$l")")")" ] && in_use=$((in_use + 1))
			done
			[ "$in_use" -gt 0 ] || fail "round $r ($op): $left locked VFs kept with none in use"
		fi
	fi
	vetoed=$(dmesg | grep -c "refusing a driver for this VF")
	note "round $r: $op, $how after ${shift_ms} ms: bind $([ "$bound" = 1 ] && echo won || echo lost) after $tries tries ($stopped failed with the VF present, $vetoed refused during rmmod), $left VFs left"
	r=$((r + 1))
done
note "$ROUNDS rounds: $kept binds kept the VFs at unbind, $early refused rmmod, $refused binds lost the race"
[ -d /sys/module/pf_stub ] || insmod "$PFSTUB_KO" vf_autoprobe=1 || fail "insmod failed"
bind_to "$pf" || fail "$pf did not bind at the end"
if [ "$(numvfs "$pf")" != 0 ]; then
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
fi
unbind "$pf"
rmmod pf_stub || fail "rmmod failed at the end"
