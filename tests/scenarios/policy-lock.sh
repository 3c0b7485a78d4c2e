# The locked policy (the default): enabling VFs locks the count; changes are refused (EPERM)
# until sriov_lock is unlocked; the simple policy never locks and refuses 'lock'.
is_rust || exit 77
insmod "$PFSTUB_KO" || fail "insmod failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	d=$SYS/$pf
	[ "$(cat "$d/sriov_policy")" = locked ] || fail "default policy $(cat "$d/sriov_policy")"
	[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "fresh PF is locked"
	[ "$(cat "$d/sriov_vf_token")" = unset ] || fail "fresh PF has a token"
	[ "$(cat "$d/sriov_vf_autoprobe")" = 0 ] || fail "default vf_autoprobe $(cat "$d/sriov_vf_autoprobe")"
	[ "$(cat "$d/sriov_vf_driver")" = vfio-pci ] || fail "default vf_driver $(cat "$d/sriov_vf_driver")"
	log_mark
	expect_write OK "$d/sriov_numvfs" 2
	[ "$(cat "$d/sriov_lock")" = locked ] || fail "enabling did not lock"
	expect_log "VF count locked at 2"
	log_mark
	expect_write EPERM "$d/sriov_numvfs" 0
	expect_vfs "$pf" 2
	expect_log "sriov_numvfs=0 refused: the VF count is locked"
	expect_write EBUSY "$d/sriov_numvfs" 3
	expect_write OK "$d/sriov_numvfs" 2
	# The policy cannot be relaxed while locked.
	expect_write EPERM "$d/sriov_policy" simple
	[ "$(cat "$d/sriov_policy")" = locked ] || fail "policy changed while locked"
	log_mark
	expect_write OK "$d/sriov_lock" unlock
	[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "unlock did not unlock"
	expect_log "VF count unlocked at 2"
	expect_write OK "$d/sriov_numvfs" 0
	expect_vfs "$pf" 0
	# An explicit lock at 0 keeps the PF at 0 VFs.
	expect_write OK "$d/sriov_lock" lock
	expect_write EPERM "$d/sriov_numvfs" 1
	expect_write OK "$d/sriov_lock" "unlock
"
	# simple: exactly pci_sriov_configure_simple, never locked.
	expect_write OK "$d/sriov_policy" "simple
"
	expect_write OK "$d/sriov_numvfs" 2
	[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "simple policy locked"
	expect_write EPERM "$d/sriov_lock" lock
	expect_write OK "$d/sriov_numvfs" 0
	# Switching to locked with VFs enabled locks them at once.
	expect_write OK "$d/sriov_numvfs" 1
	expect_write OK "$d/sriov_policy" locked
	[ "$(cat "$d/sriov_lock")" = locked ] || fail "policy locked did not lock enabled VFs"
	expect_write OK "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_numvfs" 0
done
