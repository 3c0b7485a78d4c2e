# Removal is a removal: a PF that leaves the system (`echo 1 > remove`, as an ACPI eject or a
# hotplug driver does it) takes its VFs with it, whatever the lock, the token or the VF users,
# both while pf_stub is bound and while the PF waits unbound for adoption. The record and the
# module reference go too; the PF found again by a rescan binds fresh and enables VFs without
# colliding with anything left of the old ones.
# pf_stub only: the C pci-pf-stub leaves VFs enabled at unbind, and removing its PF then leaves
# VFs without a PF (the ghost VFs this scenario guards against), which oopses the guest on the
# next enable.
is_rust || exit 77
T=c3b1f1a4-5d6e-4f70-8192-a3b4c5d6e7f8
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" || fail "insmod failed"
# no_vf: fails if any device of the system is a VF (a VF whose PF is gone).
no_vf() {
	for d in "$SYS"/*; do
		[ -e "$d/physfn" ] && fail "$(basename "$d") is a VF left behind by a removed PF"
	done
	true
}
# Bound: the PF is removed while pf_stub holds its locked VFs (IGB); unbound: pf_stub was
# unbound first and kept them for adoption (NVMe).
for pf in $PFS; do
	lock_vfs_in_use "$pf" "$T" 2
	vf=$VF0
	log_mark
	if [ "$pf" = "$NVME_PF" ]; then
		unbind "$pf"
		expect_vfs "$pf" 2
		expect_log "leaving 2 locked VFs in place"
	fi
	echo 1 >"$SYS/$pf/remove"
	[ -e "$SYS/$pf" ] && fail "$pf still present after remove"
	i=0
	while [ -e "$SYS/$vf" ] && [ "$i" -lt 20 ]; do sleep 1; i=$((i + 1)); done
	[ -e "$SYS/$vf" ] && fail "$vf outlived its PF"
	no_vf
	expect_log "removed with"
done
[ "$(cat /sys/module/pf_stub/refcnt)" = 0 ] || fail "module still pinned after its PFs went away"
echo 1 >/sys/bus/pci/rescan
for pf in $PFS; do
	[ -e "$SYS/$pf" ] || fail "$pf did not come back with a rescan"
	bind_to "$pf" || fail "$pf did not bind after the rescan"
	[ "$(cat "$SYS/$pf/sriov_lock")" = unlocked ] || fail "$pf: the new device inherited a lock"
	[ "$(cat "$SYS/$pf/sriov_vf_token")" = unset ] || fail "$pf: the new device inherited a token"
	expect_write OK "$SYS/$pf/sriov_numvfs" 4
	expect_vfs "$pf" 4
	expect_write OK "$SYS/$pf/sriov_lock" unlock
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	unbind "$pf"
done
no_vf
rmmod pf_stub || fail "rmmod failed"
