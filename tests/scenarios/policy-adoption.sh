# Adoption across PF driver restarts: unbinding pf_stub from a PF whose VFs are locked and in use
# leaves them, with the lock and token remembered; binding again adopts them in the same state.
# Locked but idle VFs are disabled at unbind.
is_rust || exit 77
T1=6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" || fail "insmod failed"
for pf in $PFS; do
	lock_vfs_in_use "$pf" "$T1" 2
	vf=$VF0
	log_mark
	unbind "$pf"
	[ -z "$(driver_of "$pf")" ] || fail "$pf still bound"
	expect_vfs "$pf" 2
	[ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf lost vfio-pci at PF unbind"
	expect_log "leaving 2 locked VFs in place"
done
if rmmod pf_stub 2>/dev/null; then fail "rmmod succeeded while VFs wait for adoption"; fi
for pf in $PFS; do
	log_mark
	echo "$pf" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf did not rebind"
	expect_log "adopted 2 locked VFs"
	[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "adopted VFs not locked"
	[ "$(cat "$SYS/$pf/sriov_vf_token")" = set ] || fail "token lost across unbind"
	expect_vfs "$pf" 2
	expect_write EPERM "$SYS/$pf/sriov_numvfs" 0
	expect_write EACCES "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_lock" "unlock $T1"
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
	# Locked but idle (no driver on the VFs): unbind disables them.
	expect_write OK "$SYS/$pf/sriov_vf_driver" no-such-driver
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "not locked"
	log_mark
	unbind "$pf"
	expect_vfs "$pf" 0
	expect_log "unbind: disabled 1 VFs"
done
rmmod pf_stub || fail "rmmod failed after adoption and release"
