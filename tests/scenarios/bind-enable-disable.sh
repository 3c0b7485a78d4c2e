# Bind each PF through driver_override + drivers_probe, create all VFs, check them, remove them,
# and create a partial count again.
load_driver || fail "loading $DRV failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind to $DRV"
	total=$(totalvfs "$pf")
	[ "$total" -gt 0 ] || fail "$pf: sriov_totalvfs=$total"
	expect_vfs "$pf" 0
	log_mark
	expect_write OK "$SYS/$pf/sriov_numvfs" "$total"
	expect_vfs "$pf" "$total"
	is_rust && expect_log "enabled $total VFs"
	# Every VF is the PF's VF device ID, from the same vendor.
	vfdev=$(cat "$SYS/$pf/sriov_vf_device")
	for l in "$SYS/$pf"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ $(($(cat "$SYS/$vf/device"))) = $((0x$vfdev)) ] || fail "$vf: device $(cat "$SYS/$vf/device"), want 0x$vfdev"
		[ "$(cat "$SYS/$vf/vendor")" = "$(cat "$SYS/$pf/vendor")" ] || fail "$vf: wrong vendor"
	done
	note "$pf: $total VFs of device $vfdev"
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
	is_rust && expect_log "disabled $total VFs"
	# Re-enable a partial count, then disable again.
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	expect_vfs "$pf" 1
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
done
