# VFs handed to vfio-pci (under the emulated IOMMU: a group and an iommufd cdev; without one:
# no-IOMMU mode) and, on igb, to igbvf; disabling the VFs afterwards
# unbinds those drivers and removes the VFs.
load_driver || fail "loading $DRV failed"
load_vfio || fail "vfio-pci did not load"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	expect_write OK "$SYS/$pf/sriov_numvfs" 2
	vf0=$(basename "$(readlink "$SYS/$pf/virtfn0")")
	vf1=$(basename "$(readlink "$SYS/$pf/virtfn1")")
	bind_to "$vf0" vfio-pci || fail "VF $vf0 did not bind to vfio-pci (driver: $(driver_of "$vf0"))"
	grp=$(basename "$(readlink "$SYS/$vf0/iommu_group")")
	if [ -n "$(ls /sys/class/iommu 2>/dev/null)" ]; then
		[ -e "/dev/vfio/$grp" ] || fail "no /dev/vfio/$grp for $vf0"
		ls "$SYS/$vf0/vfio-dev" 2>/dev/null | grep -q '^vfio' || fail "no iommufd cdev for $vf0"
	else
		[ -e "/dev/vfio/noiommu-$grp" ] || fail "no /dev/vfio/noiommu-$grp for $vf0"
	fi
	if [ "$pf" = "$IGB_PF" ]; then
		modprobe igbvf || fail "igbvf did not load"
		bind_to "$vf1" igbvf || fail "VF $vf1 did not bind to igbvf (driver: $(driver_of "$vf1"))"
		ls "$SYS/$vf1/net" >/dev/null 2>&1 || fail "igbvf made no network interface on $vf1"
		note "$vf1: igbvf interface $(ls "$SYS/$vf1/net")"
	fi
	[ "$(driver_of "$vf0")" = vfio-pci ] || fail "$vf0 lost vfio-pci"
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	expect_vfs "$pf" 0
	if [ -e "$SYS/$vf0" ]; then fail "VF $vf0 still exists"; fi
done
