# Concurrency: several guest processes at once write sriov_numvfs, every pf_stub knob, unbind and
# bind the PF, bind and unbind VFs to vfio-pci, and try to unload and load the module, for a
# bounded number of iterations. Afterwards the state is consistent and kmemleak reports nothing.
is_rust || exit 77
ITER=${PFSTUB_STRESS_ITER:-25}
SEED=${PFSTUB_STRESS_SEED:-7}
T=2ab74924-c335-45f4-9b16-8569e5b08258
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" || fail "insmod failed"
pf=${IGB_PF:-$NVME_PF}
d=$SYS/$pf
bind_to "$pf" || fail "$pf did not bind"
note "seed=$SEED iterations=$ITER per worker, workers: ${PFSTUB_STRESS_WORKERS:-all}"

# Each worker counts its operations and the ones that succeeded, in /tmp/stress.<name>; its
# random sequence is seeded from the run's seed and its own number.
worker() {
	name=$1 nr=$2
	shift 2
	RANDOM=$((SEED * 16 + nr))
	ops=0 okc=0
	i=0
	while [ "$i" -lt "$ITER" ]; do
		if "$@" >/dev/null 2>&1; then okc=$((okc + 1)); fi
		ops=$((ops + 1))
		i=$((i + 1))
	done
	echo "$name ops=$ops ok=$okc" >"/tmp/stress.$name"
}
# The random numbers are drawn before the pipelines: a pipeline's commands run in subshells,
# whose draws would not advance the worker's own sequence (every iteration would repeat).
w_numvfs() {
	r=$RANDOM n=$((RANDOM % 9))
	case $((r % 4)) in
	0) swrite "$d/sriov_numvfs" 0 ;;
	1) swrite "$d/sriov_numvfs" 2 ;;
	2) swrite "$d/sriov_numvfs" "$n" ;;
	3) swrite "$d/sriov_lock" "unlock $T"; swrite "$d/sriov_lock" unlock ;;
	esac | grep -q OK
}
w_knobs() {
	r=$RANDOM a=$((RANDOM % 2))
	case $((r % 8)) in
	0) swrite "$d/sriov_policy" simple ;;
	1) swrite "$d/sriov_policy" locked ;;
	2) swrite "$d/sriov_lock" lock ;;
	3) swrite "$d/sriov_vf_token" "$T" ;;
	4) swrite "$d/sriov_vf_token" "$T clear" ;;
	5) swrite "$d/sriov_vf_autoprobe" "$a" ;;
	6) swrite "$d/sriov_vf_driver" vfio-pci ;;
	7) cat "$d/sriov_lock" "$d/sriov_vf_token" "$d/sriov_policy" ;;
	esac | grep -q -e OK -e locked
}
w_bind() {
	r=$RANDOM
	if [ $((r % 2)) = 0 ]; then
		swrite /sys/bus/pci/drivers/pf_stub/unbind "$pf"
	else
		swrite /sys/bus/pci/drivers_probe "$pf"
	fi | grep -q OK
}
w_vfs() {
	r=$RANDOM
	for l in "$d"/virtfn*; do
		[ -e "$l" ] || continue
		vf=$(basename "$(readlink "$l")")
		r=$((r / 2))
		if [ $((r % 2)) = 0 ]; then
			swrite "$SYS/$vf/driver_override" vfio-pci >/dev/null
			swrite /sys/bus/pci/drivers/vfio-pci/bind "$vf"
		else
			swrite /sys/bus/pci/drivers/vfio-pci/unbind "$vf"
		fi
	done | grep -q OK
}
w_module() {
	if [ $((RANDOM % 2)) = 0 ]; then rmmod pf_stub; else insmod "$PFSTUB_KO"; fi
}
log_mark
rm -f /tmp/stress.*
# PFSTUB_STRESS_WORKERS picks some of the workers (comma-separated: it comes through the kernel
# command line), to narrow down what a failure needs.
WORKERS=$(echo "${PFSTUB_STRESS_WORKERS:-numvfs,knobs,bind,vfs,module}" | tr , ' ')
nr=0
for name in $WORKERS; do
	nr=$((nr + 1))
	case $name in
	numvfs | knobs | bind | vfs | module) worker "$name" "$nr" "w_$name" & ;;
	*) fail "no stress worker $name" ;;
	esac
done
wait
# A worker that died early would make the run pass without stressing anything.
total=0
for name in $WORKERS; do
	[ -f "/tmp/stress.$name" ] || fail "stress worker $name did not finish"
	note "$(cat "/tmp/stress.$name")"
	grep -q "^$name ops=$ITER " "/tmp/stress.$name" || fail "stress worker $name did not do $ITER operations"
	total=$((total + ITER))
done
note "operations: $total"

# Quiesce: the module loaded and the PF bound again, then check the state is coherent.
[ -d /sys/module/pf_stub ] || insmod "$PFSTUB_KO" || fail "cannot reload pf_stub"
[ "$(driver_of "$pf")" = pf_stub ] || echo "$pf" >/sys/bus/pci/drivers_probe
[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf cannot be bound after the stress"
n=$(numvfs "$pf")
expect_vfs "$pf" "$n"
lock=$(cat "$d/sriov_lock")
token=$(cat "$d/sriov_vf_token")
note "after stress: numvfs=$n lock=$lock token=$token policy=$(cat "$d/sriov_policy")"
# The lock state says what a change of the count does.
if [ "$n" -gt 0 ]; then
	if [ "$lock" = locked ]; then
		expect_write EPERM "$d/sriov_numvfs" 0
		if [ "$token" = set ]; then
			expect_write EACCES "$d/sriov_lock" unlock
			expect_write OK "$d/sriov_lock" "unlock $T"
		else
			expect_write OK "$d/sriov_lock" unlock
		fi
	fi
	expect_write OK "$d/sriov_numvfs" 0
fi
expect_vfs "$pf" 0
swrite "$d/sriov_vf_token" clear >/dev/null
# The knobs take what the last write says.
expect_write OK "$d/sriov_vf_autoprobe" 0
expect_write OK "$d/sriov_policy" locked
[ "$(cat "$d/sriov_vf_autoprobe")" = 0 ] && [ "$(cat "$d/sriov_policy")" = locked ] ||
	fail "knobs do not read back the last write"
unbind "$pf"
rmmod pf_stub || fail "rmmod after the stress failed"
check_kmemleak
