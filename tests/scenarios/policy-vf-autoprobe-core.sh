# The PF's sriov_drivers_autoprobe (the PCI core's) and pf_stub's pin (issue 19, item 5b): the
# pin is a driver_override, which the core lets probe whatever that knob says
# (pci_device_can_probe()), and pf_stub cannot read the knob (struct pci_sriov is private to
# drivers/pci). As documented (Documentation/pf_stub.rst, the ABI file), VFs pinned by pf_stub
# (sriov_vf_autoprobe 0) bind their pinned driver even with sriov_drivers_autoprobe 0; unpinned
# VFs (sriov_vf_autoprobe 1) follow the core's knob.
is_rust || exit 77
load_vfio || fail "vfio-pci did not load"
[ -n "$IGB_PF" ] && { modprobe igbvf || fail "igbvf did not load"; }
insmod "$PFSTUB_KO" || fail "insmod failed"
for pf in $PFS; do
	d=$SYS/$pf
	bind_to "$pf" || fail "$pf did not bind"
	echo 0 >"$d/sriov_drivers_autoprobe"
	expect_write OK "$d/sriov_numvfs" 2
	for l in "$d"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ "$(cat "$SYS/$vf/driver_override")" = vfio-pci ] || fail "$vf override $(cat "$SYS/$vf/driver_override")"
		[ "$(driver_of "$vf")" = vfio-pci ] ||
			fail "$vf pinned to vfio-pci with sriov_drivers_autoprobe 0: bound to '$(driver_of "$vf")', the pin is documented to override it"
	done
	expect_write OK "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_numvfs" 0
	# Unpinned: the core's knob decides; no VF probes.
	expect_write OK "$d/sriov_vf_autoprobe" 1
	expect_write OK "$d/sriov_numvfs" 2
	for l in "$d"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ -z "$(driver_of "$vf")" ] || fail "$vf unpinned bound to $(driver_of "$vf") with sriov_drivers_autoprobe 0"
	done
	expect_write OK "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_numvfs" 0
	expect_write OK "$d/sriov_vf_autoprobe" 0
	echo 1 >"$d/sriov_drivers_autoprobe"
	unbind "$pf"
done
rmmod pf_stub || fail "rmmod failed"
