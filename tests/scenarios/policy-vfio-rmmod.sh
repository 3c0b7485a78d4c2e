# VFs pinned to vfio-pci are protected by the lock: disabling is refused, rmmod is refused while
# they are locked and in use; once unlocked and released, they go away cleanly and rmmod works.
is_rust || exit 77
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" || fail "insmod failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	expect_write OK "$SYS/$pf/sriov_numvfs" 2
	for l in "$SYS/$pf"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf not bound to vfio-pci: $(driver_of "$vf")"
	done
	expect_write EPERM "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 2
done
log_mark
if rmmod pf_stub 2>/dev/null; then fail "rmmod succeeded with locked, in-use VFs"; fi
[ -d /sys/module/pf_stub ] || fail "module gone"
[ "$(cat /sys/module/pf_stub/refcnt)" -ge 1 ] || fail "module not referenced"
for pf in $PFS; do expect_vfs "$pf" 2; done
# Unlocking releases the module; the VFs may still be in use, but are no longer protected.
for pf in $PFS; do expect_write OK "$SYS/$pf/sriov_lock" unlock; done
[ "$(cat /sys/module/pf_stub/refcnt)" = 0 ] || fail "refcnt $(cat /sys/module/pf_stub/refcnt) after unlock"
# Release: disabling unbinds vfio-pci and removes the VFs.
for pf in $PFS; do
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
done
rmmod pf_stub || fail "rmmod failed after unlock and release"
# rmmod with unlocked (or locked but idle) VFs disables them.
insmod "$PFSTUB_KO" || fail "insmod failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not rebind"
	expect_write OK "$SYS/$pf/sriov_vf_autoprobe" 1
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
done
rmmod vfio_pci 2>/dev/null
rmmod pf_stub || fail "rmmod with locked idle VFs failed"
for pf in $PFS; do expect_vfs "$pf" 0; done
