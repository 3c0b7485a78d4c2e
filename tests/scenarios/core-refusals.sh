# The PCI core's rules hold with the driver bound: ERANGE above sriov_totalvfs, EBUSY between two
# non-zero counts, EINVAL for text that is not a count; none of them changes the VFs.
load_driver || fail "loading $DRV failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	total=$(totalvfs "$pf")
	expect_write ERANGE "$SYS/$pf/sriov_numvfs" $((total + 1))
	expect_write ERANGE "$SYS/$pf/sriov_numvfs" 65535
	expect_vfs "$pf" 0
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	expect_write EBUSY "$SYS/$pf/sriov_numvfs" 2
	expect_vfs "$pf" 1
	for bad in abc -1 1x 65536 0x " "; do
		expect_write EINVAL "$SYS/$pf/sriov_numvfs" "$bad"
	done
	expect_vfs "$pf" 1
	# Writing the current count is accepted and changes nothing.
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	expect_vfs "$pf" 1
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
done
