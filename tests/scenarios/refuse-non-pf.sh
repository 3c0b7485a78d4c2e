# pf_stub refuses, with a log line and ENODEV, a device without SR-IOV and a VF. The C
# pci-pf-stub binds both (its probe accepts anything it is pointed at).
load_driver || fail "loading $DRV failed"
[ -n "$NOSRIOV" ] || fail "no pci-testdev in the guest"
log_mark
echo "$DRV" >"$SYS/$NOSRIOV/driver_override"
got=$(swrite "/sys/bus/pci/drivers/$DRV/bind" "$NOSRIOV")
if is_rust; then
	[ "$got" = ENODEV ] || fail "bind of a non-SR-IOV device: got $got, want ENODEV"
	[ -z "$(driver_of "$NOSRIOV")" ] || fail "non-SR-IOV device bound"
	expect_log "refusing to bind: device has no SR-IOV capability"
else
	[ "$(driver_of "$NOSRIOV")" = "$DRV" ] || fail "C driver did not bind the non-SR-IOV device"
	note "C pci-pf-stub binds a device without SR-IOV"
	unbind "$NOSRIOV"
fi
echo >"$SYS/$NOSRIOV/driver_override"

for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	vf=$(basename "$(readlink "$SYS/$pf/virtfn0")")
	log_mark
	echo "$DRV" >"$SYS/$vf/driver_override"
	got=$(swrite "/sys/bus/pci/drivers/$DRV/bind" "$vf")
	if is_rust; then
		[ "$got" = ENODEV ] || fail "bind of VF $vf: got $got, want ENODEV"
		[ -z "$(driver_of "$vf")" ] || fail "VF $vf bound to $(driver_of "$vf")"
		expect_log "refusing to bind: device is an SR-IOV VF"
	else
		[ "$(driver_of "$vf")" = "$DRV" ] || fail "C driver did not bind VF $vf"
	fi
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
done
