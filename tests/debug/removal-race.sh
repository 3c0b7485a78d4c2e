# Removal racing unbind and rmmod: rounds of `echo 1 > remove` (on the PF, or on the root port
# above it) started together with an unbind of pf_stub or an rmmod, with the PF's VFs locked and
# in use (on vfio-pci) or idle; then a rescan brings everything back. In every fourth round the
# rmmod races a removal held between its unbind of the PF and its deletion of the PF (PM resets
# of the PF, one after the other, take its device lock, which device_del() needs): an rmmod that
# stopped watching the bus then left the VFs behind (seen on bdede34). Every write must return
# within a time bound (a deadlock between the device lock and pci_rescan_remove_lock hangs both
# for good), no VF may outlive its PF, the hung-task detector (20 s here) and lockdep must stay
# silent, pf_stub must unload at the end, and kmemleak must find nothing but the known upstream
# leak of a PF removed by a walk that reached its VFs first (see check_kmemleak).
# The rounds that race a sysfs unbind run without VFs unless PFSTUB_RACE_UNBIND_VFS=1: an unbind
# that takes the PF's device lock after the remover cleared its "added" flag removes the VFs in
# its own thread while the remover holds pci_rescan_remove_lock and waits for it, which is safe
# (no device is added or removed meanwhile) but trips lockdep's assertion that the running thread
# holds the lock (pci_stop_and_remove_bus_device()), a WARN that panic_on_warn turns into a panic:
# a known defect of pf_stub on lockdep kernels (Documentation/pf_stub.rst, "PF removal"), seen in
# about one debug run in three on 2026-12-07, and 66 s into a boot running that race alone
# (PFSTUB_RACE_UNBIND_VFS=1 PFSTUB_RACE_CASE=1 PFSTUB_RACE_BIND_ROUNDS=0) on 2026-12-08.
is_rust || exit 77
[ -n "$NVME_PF" ] || [ -n "$IGB_PF" ] || exit 77
ROUNDS=${PFSTUB_RACE_ROUNDS:-12}
# PFSTUB_RACE_CASE=0, 1, 2 or 3 runs every round as that case (below) instead of taking turns.
NVFS=${PFSTUB_RACE_VFS:-16}
BOUND=90
pf=${NVME_PF:-$IGB_PF}
[ "$pf" = "$IGB_PF" ] && NVFS=8
echo 20 >/proc/sys/kernel/hung_task_timeout_secs
rp=$(basename "$(dirname "$(readlink -f "$SYS/$pf")")")
load_vfio || fail "vfio-pci did not load"
# waits for background job $1 (named $2) at most $BOUND seconds in all
wait_bounded() {
	while kill -0 "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "round $r: $2 still blocked after ${BOUND}s (deadlock)"
		sleep 1
	done
	wait "$1" 2>/dev/null
	true
}
no_orphan_vf() {
	local stray
	stray=$(stray_vfs_settled)
	[ -z "$stray" ] || {
		dmesg | grep -a pf_stub | tail -n 12
		fail "round $r: VFs outlived their PF: $(echo $stray)"
	}
}
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	[ -d /sys/module/pf_stub ] || insmod "$PFSTUB_KO" || fail "round $r: insmod failed"
	bind_to "$pf" || fail "round $r: $pf did not bind"
	if [ $((r % 2)) = 0 ]; then
		expect_write OK "$SYS/$pf/sriov_vf_driver" vfio-pci
	else
		# Idle VFs: unbind and rmmod disable them, through pci_rescan_remove_lock.
		expect_write OK "$SYS/$pf/sriov_vf_driver" no-such-driver
	fi
	case ${PFSTUB_RACE_CASE:-$((r % 4))} in
	0) target=$rp other=unbind ;;
	1) target=$pf other=unbind ;;
	2) target=$pf other=rmmod ;;
	3) target=$pf other=rmmod-resets ;;
	esac
	[ "$other" = unbind ] && [ "${PFSTUB_RACE_UNBIND_VFS:-0}" != 1 ] ||
		expect_write OK "$SYS/$pf/sriov_numvfs" "$NVFS"
	deadline=$(($(date +%s) + BOUND))
	hog=
	if [ "$other" = rmmod-resets ]; then
		# PM resets of the PF (D3hot and back, 10 ms each way), one after the other, each under
		# the PF's device lock: the removal, between its unbind and its deletion of the PF, waits
		# for the lock (device_del() takes it first) while rmmod goes on. (An FLR instead made
		# QEMU's igb abort on an assertion of its own: iotlb_to_section.)
		if echo pm >"$SYS/$pf/reset_method" 2>/dev/null; then
			(while [ -e "$SYS/$pf/reset" ]; do echo 1 >"$SYS/$pf/reset"; done) 2>/dev/null &
			hog=$!
			sleep 1
		else
			note "round $r: $pf has no PM reset: a plain rmmod race"
		fi
	fi
	echo 1 >"$SYS/$target/remove" &
	a=$!
	if [ "$other" = unbind ]; then
		echo "$pf" >/sys/bus/pci/drivers/pf_stub/unbind 2>/dev/null &
	else
		rmmod pf_stub 2>/dev/null &
	fi
	b=$!
	wait_bounded "$a" "remove of $target"
	wait_bounded "$b" "$other"
	[ -z "$hog" ] || { kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null; }
	echo 1 >/sys/bus/pci/rescan
	i=0
	while ! [ -e "$SYS/$pf/sriov_numvfs" ] && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
	[ -e "$SYS/$pf" ] || fail "round $r: $pf did not come back"
	no_orphan_vf
	note "round $r: remove $target with $other: ok ($(($(date +%s) - deadline + BOUND))s)"
	unbind "$pf"
	r=$((r + 1))
done
# Binds inside a removal: the PF removed while PM resets hold its device lock (the removal waits
# between its unbind and its deletion of the PF) and a loop binds pf_stub to it again and again
# (its bind file and drivers_probe, as an orchestrator re-binding on the unbind uevent does),
# with num_vfs=2 so that a bind that gets in would enable VFs. Every bind between the removal's
# unbind and its deletion of the PF is refused (the keeper's record of the removal), so no VF is
# ever enabled on a PF that is leaving; no bind may leave VFs without their PF, and no write may
# hang. In odd rounds the PF has no driver when the removal begins: the bind loop runs but
# cannot bind until its driver_override names pf_stub, written just after the removal began (its
# drivers_probe writes queue for the device lock all along, so one often gets it between the
# removal's unbind and its deletion of the PF); a bind that gets in there is unbound after the
# deletion's notice, and its record of the removal must not outlive the PF (rmmod at the end
# would wait for it and say the VFs stay).
BIND_ROUNDS=${PFSTUB_RACE_BIND_ROUNDS:-20}
[ -d /sys/module/pf_stub ] && { rmmod pf_stub || fail "rmmod failed before the bind rounds"; }
insmod "$PFSTUB_KO" num_vfs=2 || fail "insmod num_vfs=2 failed"
r=0 refused=0
binds() {
	(while [ -e "$SYS/$pf" ]; do
		echo "$pf" >/sys/bus/pci/drivers/pf_stub/bind
		echo "$pf" >/sys/bus/pci/drivers_probe
	done) 2>/dev/null &
	binder=$!
}
while [ "$r" -lt "$BIND_ROUNDS" ]; do
	if [ $((r % 2)) = 0 ]; then
		bind_to "$pf" || fail "bind round $r: $pf did not bind"
		expect_vfs "$pf" 2
	else
		echo >"$SYS/$pf/driver_override"
	fi
	deadline=$(($(date +%s) + BOUND))
	echo pm >"$SYS/$pf/reset_method" 2>/dev/null || fail "$pf has no PM reset"
	(while [ -e "$SYS/$pf/reset" ]; do echo 1 >"$SYS/$pf/reset"; done) 2>/dev/null &
	hog=$!
	binds
	sleep 1
	log_mark
	echo 1 >"$SYS/$pf/remove" &
	a=$!
	[ $((r % 2)) = 1 ] && { usleep 20000; echo pf_stub >"$SYS/$pf/driver_override"; }
	wait_bounded "$a" "remove of $pf with binds"
	wait_bounded "$binder" "the bind loop"
	kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null
	no_orphan_vf
	# The PF was bound when the removal began: any enable since came from a bind inside it.
	[ $((r % 2)) = 0 ] && dmesg | grep -q "pf_stub $pf: enabled" &&
		fail "bind round $r: a bind inside the removal of $pf enabled VFs: $(dmesg | grep "pf_stub $pf: " | tr '\n' '|')"
	dmesg | grep -q "pf_stub $pf: refusing to bind: the PF is being removed" && refused=$((refused + 1))
	echo 1 >/sys/bus/pci/rescan
	i=0
	while ! [ -e "$SYS/$pf/sriov_numvfs" ] && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
	[ -e "$SYS/$pf" ] || fail "bind round $r: $pf did not come back"
	no_orphan_vf
	r=$((r + 1))
done
note "binds inside a removal: $BIND_ROUNDS rounds ($refused with a bind refused inside), no VF outlived its PF"
for l in "$SYS/$pf"/virtfn*; do
	v=$(basename "$(readlink "$l")")
	[ -e "$SYS/$v/driver" ] && echo "$v" >"$SYS/$v/driver/unbind"
done
[ "$(driver_of "$pf")" = pf_stub ] && expect_write OK "$SYS/$pf/sriov_lock" unlock
unbind "$pf"
log_mark
[ -d /sys/module/pf_stub ] && { rmmod pf_stub || fail "rmmod failed at the end"; }
# No record of a removal outlived its PF.
dmesg | grep -q "unbound as removed, was deleted" &&
	fail "a removal's record outlived its PF: $(dmesg | grep pf_stub | tr '\n' '|')"
# When the removal's walk from the root port reached the VFs before pf_stub's unbind (racing it)
# could remove them with the PF, Linux 7.2 leaks the PF as it does on surprise removal.
# kmemleak only reports objects older than 5 s: let the last round's age first.
sleep 6
check_kmemleak "$pf"
