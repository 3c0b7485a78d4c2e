# Fault injection: the Nth fault-injection site (slab allocations, via failslab) inside the write
# that binds the PF (probe, and probe enabling VFs with num_vfs=), enables VFs, sets each knob,
# unbinds the PF from kept VFs, and inside module load, fails, for
# every N until the operation no longer reaches N sites. Every failure must return an error,
# leave the PF consistent and leak nothing. fail_function then fails should_failslab for VF
# enable (no PCI SR-IOV function is annotated for error injection).
is_rust || exit 77
FS=/sys/kernel/debug/failslab
FF=/sys/kernel/debug/fail_function
MAX=${PFSTUB_FAULT_MAX:-200}
[ -d "$FS" ] || fail "no failslab in this kernel"
echo 1 >$FS/verbose
echo N >$FS/ignore-gfp-wait 2>/dev/null
injected() { dmesg | grep -c "FAULT_INJECTION: forcing a failure"; }
consistent() {
	[ "$(numvfs "$1")" = "$(count_virtfn "$1")" ] ||
		fail "$1: sriov_numvfs $(numvfs "$1") but $(count_virtfn "$1") virtfn links"
}
# sweep NAME SETUP CHECK FILE VALUE: for N = 1.., run SETUP, write VALUE to FILE with the Nth
# site failing, run CHECK with the result in $r; stop when the write no longer reaches N sites.
ops=0 errs=0
sweep() {
	name=$1 setup=$2 check=$3 file=$4 value=$5
	n=1
	while [ "$n" -le "$MAX" ]; do
		$setup
		r=$(SWRITE_FAIL_NTH=$n swrite "$file" "$value")
		ops=$((ops + 1))
		case "$r" in *OK*) ;; *) errs=$((errs + 1)) ;; esac
		$check
		case "$r" in *NOTREACHED*) break ;; esac
		n=$((n + 1))
	done
	note "$name: $n fault points swept"
}

insmod "$PFSTUB_KO" || fail "insmod failed"
pf=${IGB_PF:-$NVME_PF}
d=$SYS/$pf
echo pf_stub >"$d/driver_override"
log_mark

sym() { grep " [tT] $1\$" /proc/kallsyms | head -n 1 | cut -d' ' -f1; }
next_sym() { sort /proc/kallsyms | awk -v a="$(sym "$1")" '$1 == a { hit = 1; next } hit && $1 != a { print $1; exit }'; }

# The VF pin fails closed (issue 19, item 3): every allocation of __device_set_driver_override()
# in the enabling thread fails, which is the pin of each new VF (its kstrndup(), in the
# BUS_NOTIFY_ADD_DEVICE event under device_add()). igbvf is loaded to take any VF left unpinned:
# no VF may end up on it, and each VF must read the pinned driver (vfio-pci, not loaded here).
if [ -n "$IGB_PF" ] && [ "$pf" = "$IGB_PF" ]; then
	modprobe igbvf || fail "igbvf did not load"
	echo "$pf" >/sys/bus/pci/drivers/pf_stub/bind 2>/dev/null
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf did not bind for the pin fault"
	pstart=$(sym __device_set_driver_override)
	pend=$(next_sym __device_set_driver_override)
	[ -n "$pstart" ] && [ -n "$pend" ] || fail "no __device_set_driver_override in /proc/kallsyms"
	before=$(injected)
	# Saved and set back: a require-end of 0 would keep every later fault from being injected.
	rs=$(cat $FS/require-start) re=$(cat $FS/require-end)
	echo "0x$pstart" >$FS/require-start
	echo "0x$pend" >$FS/require-end
	echo Y >$FS/task-filter
	echo 100 >$FS/probability
	echo 1 >$FS/interval
	echo 0 >$FS/space
	echo -1 >$FS/times
	r=$(SWRITE_MAKE_IT_FAIL=1 swrite "$d/sriov_numvfs" 2)
	echo 0 >$FS/times
	echo "$rs" >$FS/require-start
	echo "$re" >$FS/require-end
	echo N >$FS/task-filter
	note "pin fault: sriov_numvfs=2 under the fault: $r, $(($(injected) - before)) faults injected"
	[ "$(($(injected) - before))" -gt 0 ] || fail "no fault reached the VF pin's allocation"
	dmesg | grep -E 'driver_override|pinned|refus' | sed 's/^/# log: /'
	for l in "$d"/virtfn*; do
		[ -e "$l" ] || continue
		vf=$(basename "$(readlink "$l")")
		note "pin fault: $vf: driver $(driver_of "$vf"), driver_override $(cat "$SYS/$vf/driver_override")"
		case "$(driver_of "$vf")" in
		"" | vfio-pci) ;;
		*) fail "pin fault: $vf is bound to host driver $(driver_of "$vf"): the pin failed open" ;;
		esac
	done
	swrite "$d/sriov_lock" unlock >/dev/null
	expect_write OK "$d/sriov_numvfs" 0
	rmmod igbvf
	unbind "$pf"
	log_mark
fi

pre_bind() { unbind "$pf"; }
check_bind() {
	case "$r" in
	OK*) [ "$(driver_of "$pf")" = pf_stub ] || fail "bind returned OK but $pf is not bound" ;;
	*) [ -z "$(driver_of "$pf")" ] || fail "bind failed ($r) but $pf is bound" ;;
	esac
}
sweep probe pre_bind check_bind /sys/bus/pci/drivers/pf_stub/bind "$pf"
echo "$pf" >/sys/bus/pci/drivers/pf_stub/bind 2>/dev/null
[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf does not bind after the probe sweep"

# Bind with VFs enabled at bind (num_vfs=2): the enable runs under pci_rescan_remove_lock on a
# worker while probe waits; every allocation on the binding thread fails in turn. Bound or not,
# the PF has 0 or 2 VFs and they match its virtfn links; unbinding disables them.
unbind "$pf"
rmmod pf_stub || fail "rmmod failed before the bind-time enable sweep"
insmod "$PFSTUB_KO" num_vfs=2 || fail "insmod num_vfs=2 failed"
pre_bind_enable() {
	if [ -n "$(driver_of "$pf")" ]; then
		swrite "$d/sriov_lock" unlock >/dev/null
		unbind "$pf"
	fi
	[ "$(numvfs "$pf")" = 0 ] || fail "unbind left $(numvfs "$pf") VFs enabled"
}
check_bind_enable() {
	check_bind
	consistent "$pf"
	case "$(numvfs "$pf")" in 0 | 2) ;; *) fail "bind-time enable left $(numvfs "$pf") VFs" ;; esac
}
sweep probe-enable pre_bind_enable check_bind_enable /sys/bus/pci/drivers/pf_stub/bind "$pf"
pre_bind_enable
rmmod pf_stub || fail "rmmod failed after the bind-time enable sweep"
insmod "$PFSTUB_KO" || fail "insmod failed"
echo "$pf" >/sys/bus/pci/drivers/pf_stub/bind 2>/dev/null
[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf does not bind after the bind-time enable sweep"

pre_enable() {
	swrite "$d/sriov_lock" unlock >/dev/null
	swrite "$d/sriov_numvfs" 0 >/dev/null
}
check_enable() {
	consistent "$pf"
	case "$r" in
	OK*) expect_vfs "$pf" 4 ;;
	*) expect_vfs "$pf" 0
		[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "a failed enable left the PF locked" ;;
	esac
}
# VF enable: the PCI core does not handle a failing device_add() for a VF (pci_device_add()
# only WARNs and goes on), so allocations under device_add() are excluded with failslab's stack
# filter; every other allocation of the write is failed in turn, by a byte budget (space) that
# grows until the write no longer reaches it.
start=$(sym device_add)
end=$(next_sym device_add)
[ -n "$start" ] && [ -n "$end" ] || fail "no device_add in /proc/kallsyms"
echo "0x$start" >$FS/reject-start
echo "0x$end" >$FS/reject-end
echo Y >$FS/task-filter
echo 100 >$FS/probability
echo 1 >$FS/interval
space=0 points=0
while [ "$points" -lt "${PFSTUB_FAULT_ENABLE_POINTS:-40}" ]; do
	pre_enable
	echo "$space" >$FS/space
	echo 1 >$FS/times
	r=$(SWRITE_MAKE_IT_FAIL=1 swrite "$d/sriov_numvfs" 4)
	left=$(cat $FS/times)
	echo 0 >$FS/times
	ops=$((ops + 1))
	case "$r" in OK*) ;; *) errs=$((errs + 1)) ;; esac
	check_enable
	points=$((points + 1))
	[ "$left" = 1 ] && break # the budget outlasted the write: every point is covered
	space=$((space < 64 ? space + 16 : space * 5 / 4))
done
note "vf-enable: $points fault points swept (budget up to $space bytes)"
echo 0 >$FS/reject-start
echo 0 >$FS/reject-end
echo N >$FS/task-filter
pre_enable

nothing() { :; }
check_store() {
	case "$r" in
	OK* | ENOMEM*) ;;
	*) fail "store under fault returned $r" ;;
	esac
}
for w in sriov_vf_token:2ab74924-c335-45f4-9b16-8569e5b08258 sriov_vf_token:clear sriov_lock:lock \
	sriov_lock:unlock sriov_vf_autoprobe:1 sriov_vf_autoprobe:0 sriov_policy:simple sriov_policy:locked \
	sriov_vf_driver:pci-stub sriov_vf_driver:vfio-pci; do
	sweep "${w%%:*}=${w#*:}" nothing check_store "$d/${w%%:*}" "${w#*:}"
done
[ "$(cat "$d/sriov_policy")" = locked ] || fail "policy not restored"

# Unbind with locked VFs in use (on pci-stub), the Nth allocation of the unbinding thread failing:
# an unbind cannot fail, and it keeps the VFs whichever allocation fails (stopping VF binds falls
# back to a look at the VFs bound), then gives each VF its driver_override back; a failure to
# set one back (an allocation too) is logged.
modprobe pci-stub || fail "modprobe pci-stub failed"
expect_write OK "$d/sriov_vf_driver" pci-stub
expect_write OK "$d/sriov_numvfs" 2
pre_unbind() {
	[ -n "$(driver_of "$pf")" ] || echo "$pf" >/sys/bus/pci/drivers/pf_stub/bind
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf was not adopted again"
	log_mark
}
check_unbind() {
	# The write itself may fail before it reaches the driver (sysfs, the device lookup).
	case "$r" in
	OK*) [ -z "$(driver_of "$pf")" ] || fail "unbind returned OK but $pf is bound" ;;
	*) [ "$(driver_of "$pf")" = pf_stub ] || fail "unbind failed ($r) but $pf is unbound" ;;
	esac
	expect_vfs "$pf" 2
	for l in "$d"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ "$(driver_of "$vf")" = pci-stub ] || fail "unbind under a fault ($r): $vf lost pci-stub"
		[ "$(cat "$SYS/$vf/driver_override")" = pci-stub ] ||
			dmesg | grep -q "could not set driver_override back" ||
			fail "unbind under a fault ($r): $vf's driver_override reads $(cat "$SYS/$vf/driver_override")"
	done
	fell_back=$((fell_back + $(dmesg | grep -c "could not stop VF binds")))
	not_back=$((not_back + $(dmesg | grep -c "could not set driver_override back")))
}
fell_back=0 not_back=0
sweep unbind pre_unbind check_unbind /sys/bus/pci/drivers/pf_stub/unbind "$pf"
note "unbind: VF binds not stopped in $fell_back, an override not set back in $not_back"
[ "$fell_back" -gt 0 ] || fail "no fault reached the stopping of VF binds"
pre_unbind
expect_write OK "$d/sriov_lock" unlock
expect_write OK "$d/sriov_numvfs" 0
expect_write OK "$d/sriov_vf_driver" vfio-pci
rmmod pci_stub
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"

# Module load: fail the Nth site of finit_module(2), module init (driver registration) included;
# loading has hundreds of sites, so the bounded run takes every $LOAD_STEP-th.
LOAD_STEP=${PFSTUB_FAULT_LOAD_STEP:-4}
LOAD_MAX=${PFSTUB_FAULT_LOAD_MAX:-400}
n=1
while [ "$n" -le "$LOAD_MAX" ]; do
	r=$(FINIT_FAIL_NTH=$n finit "$PFSTUB_KO")
	ops=$((ops + 1))
	case "$r" in
	OK*) rmmod pf_stub || fail "rmmod after a faulted load failed" ;;
	*) errs=$((errs + 1))
		if [ -d /sys/module/pf_stub ]; then fail "load failed ($r) but the module stayed"; fi
		if [ -d /sys/bus/pci/drivers/pf_stub ]; then fail "load failed ($r) but the driver stayed"; fi ;;
	esac
	case "$r" in *NOTREACHED*) break ;; esac
	n=$((n + LOAD_STEP))
done
note "module load: fault points 1..$n swept, every $LOAD_STEP"

# fail_function: should_failslab returns -ENOMEM for every Nth call of the writer, during VF enable.
if [ -d "$FF" ] && grep -q '^should_failslab' "$FF/injectable"; then
	insmod "$PFSTUB_KO" || fail "insmod failed"
	echo "$pf" >/sys/bus/pci/drivers/pf_stub/bind
	echo should_failslab >"$FF/inject"
	printf '%#x' -12 >"$FF/should_failslab/retval"
	echo Y >"$FF/task-filter"
	echo 100 >"$FF/probability"
	echo 1 >"$FF/verbose"
	# As above: not under device_add(), whose failure the PCI core does not handle.
	echo "0x$start" >"$FF/reject-start"
	echo "0x$end" >"$FF/reject-end"
	for n in 1 2 3 5 8 13 21 34; do
		echo "$n" >"$FF/interval"
		echo 1 >"$FF/times"
		r=$(SWRITE_MAKE_IT_FAIL=1 swrite "$d/sriov_numvfs" 4)
		echo 0 >"$FF/times"
		ops=$((ops + 1))
		case "$r" in OK*) ;; *) errs=$((errs + 1)) ;; esac
		check_enable
		pre_enable
	done
	echo >"$FF/inject"
	note "fail_function: should_failslab swept"
fi
note "operations: $ops, failed by injected faults: $errs, faults injected: $(injected)"
[ "$(injected)" -gt 0 ] || fail "no fault was injected"
check_kmemleak
