# Unbinding the PF with VFs enabled: pf_stub disables them (nothing else manages them once it is
# gone); the C pci-pf-stub leaves them enabled and the PCI core warns. Rebinding works either way.
load_driver || fail "loading $DRV failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	expect_write OK "$SYS/$pf/sriov_numvfs" 2
	log_mark
	unbind "$pf"
	[ -z "$(driver_of "$pf")" ] || fail "$pf still bound"
	if is_rust; then
		expect_vfs "$pf" 0
		expect_log "unbind: disabled 2 VFs"
	else
		expect_vfs "$pf" 2
		expect_log "driver left SR-IOV enabled after remove"
	fi
	# Without a driver the core refuses sriov_numvfs writes.
	is_rust && expect_write ENOENT "$SYS/$pf/sriov_numvfs" 1
	echo "$pf" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$pf")" = "$DRV" ] || fail "$pf did not rebind"
	if is_c; then expect_write OK "$SYS/$pf/sriov_numvfs" 0; fi
	expect_write OK "$SYS/$pf/sriov_numvfs" 3
	expect_vfs "$pf" 3
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
done
