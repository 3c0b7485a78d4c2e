# The main flow on a distribution's own kernel binary (tests/vm.sh --kernel stock-X.Y --iommu):
# pf_stub, built for that kernel by scripts/prepare-kdir.sh, loads into it (unsigned: the kernel
# taints itself and says so, nothing more), binds each PF, enables 2 VFs locked and pinned to
# vfio-pci, each VF in an IOMMU group of its own (/dev/vfio/N), refuses to disable them and to
# unload while they are locked and in use, then goes away cleanly: unlock with the VF token,
# disable, unbind, rmmod.
is_rust || exit 77
T=5d3c1f0e-8a7b-4c2d-9e6f-0a1b2c3d4e5f
[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "no IOMMU: boot with tests/vm.sh --iommu"
note "kernel $(uname -r): $(cat /proc/version)"
log_mark
insmod "$PFSTUB_KO" || fail "insmod pf_stub.ko failed"
[ -d /sys/bus/pci/drivers/pf_stub ] || fail "pf_stub did not register its driver"
note "pf_stub taint flags: $(cat /sys/module/pf_stub/taint)"
dmesg | grep -E 'pf_stub|module verification' | sed 's/^/# load: /'
note "kernel taint after the load: $(cat /proc/sys/kernel/tainted)"
load_vfio || fail "vfio-pci did not load"
n=0
for pf in $PFS; do
	n=$((n + 1))
	d=$SYS/$pf
	lock_vfs_in_use "$pf" "$T" 2
	expect_vfs "$pf" 2
	[ "$(cat "$d/sriov_lock")" = locked ] || fail "$pf: enabling did not lock"
	pfgrp=$(basename "$(readlink "$d/iommu_group")")
	for l in "$d"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf on $(driver_of "$vf"), not vfio-pci"
		grp=$(basename "$(readlink "$SYS/$vf/iommu_group")")
		[ -c "/dev/vfio/$grp" ] || fail "no /dev/vfio/$grp for $vf"
		[ "$grp" != "$pfgrp" ] || fail "$vf shares IOMMU group $grp with its PF"
		[ "$(ls "/sys/kernel/iommu_groups/$grp/devices")" = "$vf" ] ||
			fail "IOMMU group $grp holds $(ls "/sys/kernel/iommu_groups/$grp/devices" | tr '\n' ' ')"
		# The group is usable: it opens (as QEMU or DPDK would open it).
		(: <>"/dev/vfio/$grp") 2>/dev/null || fail "cannot open /dev/vfio/$grp"
		note "$pf: VF $vf on vfio-pci, IOMMU group $grp (/dev/vfio/$grp), the PF in group $pfgrp"
	done
	log_mark
	expect_write EPERM "$d/sriov_numvfs" 0
	expect_vfs "$pf" 2
	expect_log "sriov_numvfs=0 refused: the VF count is locked"
	note "$pf: disable refused while locked (EPERM)"
done
[ "$n" -gt 0 ] || fail "no PF"
if rmmod pf_stub 2>/dev/null; then fail "rmmod succeeded with locked, in-use VFs"; fi
[ -d /sys/module/pf_stub ] || fail "pf_stub gone"
for pf in $PFS; do
	d=$SYS/$pf
	vf0=$(basename "$(readlink "$d/virtfn0")")
	expect_write EACCES "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_lock" "unlock $T"
	[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "$pf: still locked"
	expect_write OK "$d/sriov_numvfs" 0
	expect_vfs "$pf" 0
	if [ -e "$SYS/$vf0" ]; then fail "VF $vf0 still exists"; fi
	unbind "$pf"
	[ -z "$(driver_of "$pf")" ] || fail "$pf still bound to $(driver_of "$pf")"
	note "$pf: unlocked, disabled, unbound"
done
rmmod pf_stub || fail "rmmod pf_stub failed"
if [ -d /sys/module/pf_stub ]; then fail "pf_stub still loaded"; fi
note "pf_stub unloaded"
