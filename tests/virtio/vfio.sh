# The default pin: with pf_stub's defaults (VF autoprobe off, VF driver vfio-pci) the virtio-net
# VFs are bound to vfio-pci, not to virtio-pci: no interface appears, each VF is in an IOMMU
# group of its own, and a VFIO user (tests/guest/vfiouser.c: container, group, type1 IOMMU,
# device fd, config space, reset) opens it and reads the VF's IDs.
is_rust || exit 77
virtio_pf
[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "no IOMMU: boot with tests/vm.sh --iommu"
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" || fail "insmod failed"
bind_to "$pf" || fail "$pf did not bind to pf_stub"
virtio_vfs_on 4 vfio-pci
i=0
while [ "$i" -lt 4 ]; do
	vf=$(vf_of "$pf" "$i")
	[ "$(cat "$SYS/$vf/driver_override")" = vfio-pci ] || fail "$vf: driver_override $(cat "$SYS/$vf/driver_override")"
	[ -z "$(netdev_of "$vf")" ] || fail "$vf has an interface: $(netdev_of "$vf")"
	grp=$(basename "$(readlink "$SYS/$vf/iommu_group")")
	[ "$(ls "/sys/kernel/iommu_groups/$grp/devices")" = "$vf" ] ||
		fail "IOMMU group $grp holds $(ls "/sys/kernel/iommu_groups/$grp/devices" | tr '\n' ' ')"
	out=$(vfiouser "$grp" "$vf") || fail "$vf: $out"
	note "VF$i $out (IOMMU group $grp)"
	case "$out" in *"vendor=0x1af4 device=0x1041"*) ;; *) fail "$vf: VFIO read other IDs: $out" ;; esac
	i=$((i + 1))
done
expect_write EPERM "$d/sriov_numvfs" 0
expect_write OK "$d/sriov_lock" unlock
expect_write OK "$d/sriov_numvfs" 0
expect_vfs "$pf" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
