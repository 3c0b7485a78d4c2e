# PCI errors in the hierarchy of a PF whose VFs are locked and in use, injected with QEMU's
# pcie_aer_inject_error (tests/vm.sh --qmp) into the PF's root port: a correctable error, a
# non-fatal one (poisoned TLP) and a fatal one (data link protocol error, whose recovery resets
# the bus below the root port, PF and VFs), then a function reset of the PF through sysfs.
# (QEMU's igb has AER but keeps its Device Control error-reporting bits read-only, and its NVMe
# has no AER, so errors are injected at the root port: the PCI core then asks every driver below
# it, the PF's and the VFs', for its vote, as for an error of the PF itself.) pf_stub takes part in recovery: it succeeds, and the VF count, the lock, the token, the
# VFs and their vfio-pci binding are all still there; each step is logged and sent as a uevent.
# The C pci-pf-stub has no error handlers: the PCI core cannot recover the PF's hierarchy ("can't
# recover (no error_detected callback)", "device recovery failed"), which this scenario asserts
# for it, as the reference.
[ "${PFSTUB_QMP:-0}" = 1 ] && [ -n "$IGB_PF" ] || exit 77
pf=$IGB_PF
T=5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9
rp=$(basename "$(dirname "$(readlink -f "$SYS/$pf")")")
[ -e "$SYS/$rp/aer_rootport_total_err_cor" ] || fail "no AER on root port $rp (CONFIG_PCIEAER)"
cat >/tmp/hotplug <<'HP'
#!/bin/sh
[ -n "$PF_STUB_EVENT" ] && echo "$PF_STUB_EVENT" >>/tmp/uevents
HP
chmod +x /tmp/hotplug
: >/tmp/uevents
uevents_to /tmp/hotplug
load_vfio || fail "vfio-pci did not load"
if is_rust; then insmod "$PFSTUB_KO" || fail "insmod failed"; else load_driver || fail "load failed"; fi
bind_to "$pf" || fail "$pf did not bind"
if is_rust; then expect_write OK "$SYS/$pf/sriov_vf_token" "$T"; fi
expect_write OK "$SYS/$pf/sriov_numvfs" 2
vf=$(basename "$(readlink "$SYS/$pf/virtfn0")")
# Every VF on vfio-pci, which has error handlers: a VF without a driver fails the hierarchy's
# recovery by itself.
for l in "$SYS/$pf"/virtfn*; do
	v=$(basename "$(readlink "$l")")
	[ "$(driver_of "$v")" = vfio-pci ] || bind_to "$v" vfio-pci || fail "$v did not bind vfio-pci"
done
unchanged() {
	expect_vfs "$pf" 2
	[ "$(driver_of "$vf")" = vfio-pci ] || fail "$1: $vf lost vfio-pci"
	[ "$(driver_of "$pf")" = "$DRV" ] || fail "$1: $pf lost $DRV"
	if is_rust; then
		[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "$1: the VF count is no longer locked"
		[ "$(cat "$SYS/$pf/sriov_vf_token")" = set ] || fail "$1: the token is gone"
	fi
}
log_mark
host_request hmp pcie_aer_inject_error rp1 RCVR
wait_log "Correctable [Ee]rror" || fail "the correctable error was not reported"
sleep 1
unchanged "correctable error"
for e in "POISON_TLP non-fatal" "DLP fatal"; do
	set -- $e
	log_mark
	host_request hmp pcie_aer_inject_error rp1 "$1"
	# An error message that arrives while the root port still reports the previous one is
	# merged into it by QEMU, without an interrupt: inject once more if nothing happened.
	if ! wait_log "device recovery \(successful\|failed\)" 15; then
		note "$2 error: no recovery after 15 s, injecting again"
		host_request hmp pcie_aer_inject_error rp1 "$1"
	fi
	if ! wait_log "device recovery \(successful\|failed\)" 30; then
		dmesg | tail -n 40 | sed "s/^/# log: /"
		fail "$2 error: no end of recovery in the log"
	fi
	sleep 1
	if is_rust; then
		expect_log "device recovery successful"
		expect_log "PCI error ($2)"
		unchanged "$2 error"
	else
		expect_log "can't recover (no error_detected callback)"
		expect_log "device recovery failed"
		note "C driver, $2 error: recovery failed, as expected without error handlers"
	fi
done
if is_rust; then
	log_mark
	echo 1 >"$SYS/$pf/reset" || fail "reset of $pf failed"
	expect_log "reset of the PF: its 2 VFs are reset with it"
	expect_log "reset done: 2 VFs, locked, token set"
	unchanged "function reset"
	for ev in error recovered reset reset_done; do
		grep -qx "$ev" /tmp/uevents || fail "no '$ev' uevent"
	done
	expect_write OK "$SYS/$pf/sriov_lock" "unlock $T"
fi
for l in "$SYS/$pf"/virtfn*; do echo "$(basename "$(readlink "$l")")" >/sys/bus/pci/drivers/vfio-pci/unbind; done
expect_write OK "$SYS/$pf/sriov_numvfs" 0
unbind "$pf"
uevents_stop
true
