# Reproducer of a PCI core deadlock that every PF driver inherits (pf_stub and the C
# pci-pf-stub alike); not part of `make test`, since it leaves the guest hung by design:
#   tests/vm.sh --topology igb --qmp --no-kunit [--driver c] tests/debug/core-aer-deadlock.sh
# A VF disable holds the PF's device lock while vfio-pci's remove of a VF waits for its user;
# a fatal error at the root port starts recovery, which walks the hierarchy under pci_bus_sem
# (read) and waits for the PF's device lock (report_error_detected()); the user lets the VF go,
# and the disable goes on to pci_destroy_dev(), which needs pci_bus_sem for writing: each waits
# for the other. The scenario passes when the disable is still blocked 30 s after the VF was
# released (the deadlock), and fails if everything returned.
[ "${PFSTUB_QMP:-0}" = 1 ] && [ -n "$IGB_PF" ] || exit 77
pf=$IGB_PF
load_vfio || fail "vfio-pci did not load"
if is_rust; then insmod "$PFSTUB_KO" policy=simple || fail "insmod failed"; else load_driver || fail "load failed"; fi
bind_to "$pf" || fail "$pf did not bind"
expect_write OK "$SYS/$pf/sriov_numvfs" 2
vf=$(basename "$(readlink "$SYS/$pf/virtfn0")")
[ "$(driver_of "$vf")" = vfio-pci ] || bind_to "$vf" vfio-pci || fail "$vf not on vfio-pci"
for l in "$SYS/$pf"/virtfn*; do
	v=$(basename "$(readlink "$l")")
	[ "$(driver_of "$v")" = vfio-pci ] || bind_to "$v" vfio-pci || fail "$v not on vfio-pci"
done
hold_vf_disable "$vf" "$pf"
log_mark
host_request hmp pcie_aer_inject_error rp1 DLP
sleep 5
exec 3<&-
i=0
while kill -0 "$dis" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
if kill -0 "$dis" 2>/dev/null; then
	dmesg | tail -n 8 | sed 's/^/# log: /'
	note "REPRODUCED with $DRV: the disable is still blocked 30 s after the VF was released"
	exit 0
fi
fail "no deadlock: the disable returned after the VF was released"
