# The kernel's own VFIO selftests (tools/testing/selftests/vfio, by the VFIO maintainers) on a VF
# of each PF, created by the driver under test, under the emulated Intel IOMMU (tests/vm.sh
# --iommu): vfio_pci_device_test, vfio_dma_mapping_test, vfio_iommufd_setup_test and
# vfio_dma_mapping_mmio_test, each in every IOMMU mode it has (type1, type1v2, iommufd's type1
# compatibility, iommufd). Every case is reported as a test case of its own.
#
# PFSTUB_GROUPS=shared (tests/vm.sh --shared-group): the PF shares its IOMMU group with its VFs.
# pf_stub declares driver_managed_dma, so the group stays viable for vfio; the C pci-pf-stub does
# not, and there the VFs' tests fail with EPERM: the C run checks exactly that, as the reference.
[ -e /sys/class/iommu ] && [ -n "$(ls /sys/class/iommu)" ] || fail "no IOMMU in the guest (tests/vm.sh --iommu)"
command -v vfio_pci_device_test >/dev/null || fail "the VFIO selftests are not in the guest"
groups=${PFSTUB_GROUPS:-separate}
TESTS="vfio_pci_device_test vfio_dma_mapping_test vfio_iommufd_setup_test vfio_dma_mapping_mmio_test"
# 2 MB pages for the hugetlb variants of the DMA mapping test (1 GB pages: skipped).
echo 64 >/proc/sys/vm/nr_hugepages
modprobe vfio-pci || fail "vfio-pci did not load"
modprobe vfio_iommu_type1 || fail "vfio_iommu_type1 did not load"
load_driver policy=locked || fail "loading $DRV failed"
bad=0
for pf in $PFS; do
	case "$pf" in "$IGB_PF") kind=igb ;; *) kind=nvme ;; esac
	bind_to "$pf" || fail "$pf did not bind"
	echo 0 >"$SYS/$pf/sriov_drivers_autoprobe"
	expect_write OK "$SYS/$pf/sriov_numvfs" 1
	vf=$(basename "$(readlink "$SYS/$pf/virtfn0")")
	echo vfio-pci >"$SYS/$vf/driver_override"
	echo "$vf" >/sys/bus/pci/drivers_probe
	[ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf is not on vfio-pci"
	g=$(basename "$(readlink "$SYS/$vf/iommu_group")")
	pg=$(basename "$(readlink "$SYS/$pf/iommu_group")")
	if [ "$groups" = shared ]; then
		[ "$g" = "$pg" ] || fail "$vf is in group $g, its PF in $pg: expected one shared group"
	else
		[ "$g" != "$pg" ] || fail "$vf shares group $g with its PF: expected separate groups"
	fi
	note "$kind: VF $vf in IOMMU group $g, PF in $pg"
	prefix="vfio.$DRV.$groups.$kind"
	if is_c && [ "$groups" = shared ]; then
		# The reference: pci-pf-stub keeps the kernel's DMA ownership of the shared group.
		vfio_pci_device_test "$vf" >/tmp/vfio.out 2>&1
		if grep -q "^ok " /tmp/vfio.out || ! grep -q "EPERM\|Operation not permitted\|not viable" /tmp/vfio.out; then
			sed 's/^/# /' /tmp/vfio.out | tail -n 20
			echo "PFSTUB-CASE $prefix.group-not-viable fail"
			bad=1
		else
			echo "PFSTUB-CASE $prefix.group-not-viable ok"
		fi
	else
		for t in $TESTS; do
			start=$(date +%s)
			echo "PFSTUB-RUNNING $t $vf" >/dev/console
			"$t" "$vf" >/tmp/vfio.out 2>&1
			rc=$?
			n=0
			while IFS= read -r line; do
				case "$line" in
				"ok "*"# SKIP"*) r=skip ;;
				"ok "*) r=ok ;;
				"not ok "*) r=fail ;;
				*) continue ;;
				esac
				name=${line#* }
				name=${name#ok }
				name=${name#* }
				name=${name%% *}
				echo "PFSTUB-CASE $prefix.$t.$name $r"
				n=$((n + 1))
				[ "$r" = fail ] && bad=1
			done </tmp/vfio.out
			note "$kind: $t: $n cases, exit $rc, $(($(date +%s) - start))s"
			if [ "$n" = 0 ] || { [ "$rc" != 0 ] && [ "$rc" != 4 ]; }; then
				sed 's/^/# /' /tmp/vfio.out | tail -n 30
				echo "PFSTUB-CASE $prefix.$t.runs fail"
				bad=1
			fi
		done
	fi
	echo "$vf" >/sys/bus/pci/drivers/vfio-pci/unbind
	if is_rust; then expect_write OK "$SYS/$pf/sriov_lock" unlock; fi
	expect_write OK "$SYS/$pf/sriov_numvfs" 0
	echo 1 >"$SYS/$pf/sriov_drivers_autoprobe"
	unbind "$pf"
done
[ "$bad" = 0 ] || fail "VFIO selftest cases failed"
