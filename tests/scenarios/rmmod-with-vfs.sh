# rmmod with VFs enabled on every PF and a VF bound to vfio-pci: pf_stub's unbind disables them
# all and the module goes away cleanly; the C driver leaves the VFs behind.
load_driver || fail "loading $DRV failed"
load_vfio || fail "vfio-pci did not load"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	expect_write OK "$SYS/$pf/sriov_numvfs" "$(totalvfs "$pf")"
	vf0=$(basename "$(readlink "$SYS/$pf/virtfn0")")
	bind_to "$vf0" vfio-pci || fail "$vf0 did not bind to vfio-pci"
done
log_mark
rmmod "$MOD" || fail "rmmod $MOD failed"
[ -d "/sys/module/$MOD" ] && fail "module still loaded"
for pf in $PFS; do
	[ -z "$(driver_of "$pf")" ] || fail "$pf still bound"
	if is_rust; then
		expect_vfs "$pf" 0
	else
		expect_vfs "$pf" "$(totalvfs "$pf")"
	fi
done
if is_c; then
	# Clean up what the C driver left: rebind and disable.
	load_driver
	for pf in $PFS; do
		bind_to "$pf" && expect_write OK "$SYS/$pf/sriov_numvfs" 0
	done
fi
# The module loads again and binds as before.
load_driver || fail "reload failed"
for pf in $PFS; do bind_to "$pf" || fail "$pf did not bind after reload"; done
