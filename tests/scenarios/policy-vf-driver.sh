# VF autoprobe off (default): new VFs get driver_override = sriov_vf_driver before any driver can
# probe them, so igbvf does not grab them; on: they probe normally. Both knobs refuse changes
# while VFs are enabled (EBUSY) and bad input (EINVAL), changing nothing.
is_rust || exit 77
insmod "$PFSTUB_KO" || fail "insmod failed"
modprobe igbvf || fail "igbvf did not load"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	d=$SYS/$pf
	expect_write OK "$d/sriov_numvfs" 2
	for l in "$d"/virtfn*; do
		vf=$(basename "$(readlink "$l")")
		[ "$(cat "$SYS/$vf/driver_override")" = vfio-pci ] || fail "$vf override $(cat "$SYS/$vf/driver_override")"
		[ -z "$(driver_of "$vf")" ] || fail "$vf bound to $(driver_of "$vf") with autoprobe 0"
	done
	# A pinned VF whose override is cleared by hand is pinned again when a driver tries to
	# bind it, and that driver (igbvf) is refused: the pin fails closed (issue 19, item 3).
	if [ "$pf" = "$IGB_PF" ]; then
		vf=$(basename "$(readlink "$d/virtfn0")")
		echo >"$SYS/$vf/driver_override"
		log_mark
		expect_write ENODEV /sys/bus/pci/drivers/igbvf/bind "$vf"
		[ -z "$(driver_of "$vf")" ] || fail "$vf with its pin cleared bound to $(driver_of "$vf")"
		[ "$(cat "$SYS/$vf/driver_override")" = vfio-pci ] ||
			fail "$vf not pinned again at the bind: override $(cat "$SYS/$vf/driver_override")"
		expect_log "pinned it to vfio-pci first"
	fi
	expect_write EBUSY "$d/sriov_vf_autoprobe" 1
	expect_write EBUSY "$d/sriov_vf_driver" pci-stub
	[ "$(cat "$d/sriov_vf_autoprobe")" = 0 ] || fail "autoprobe changed while VFs enabled"
	expect_write OK "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_numvfs" 0
	for bad in 2 -1 01 on "" " 1" "1 " "1
1"; do
		[ -z "$bad" ] && continue
		expect_write EINVAL "$d/sriov_vf_autoprobe" "$bad"
	done
	for bad in "bad name" "a/b" "0123456789012345678901234567890123" "$(printf 'x\ty')"; do
		expect_write EINVAL "$d/sriov_vf_driver" "$bad"
	done
	for bad in Locked "simple locked" x; do
		expect_write EINVAL "$d/sriov_policy" "$bad"
	done
	for bad in Lock "lock lock" unlockx; do
		expect_write EINVAL "$d/sriov_lock" "$bad"
	done
	[ "$(cat "$d/sriov_vf_driver")" = vfio-pci ] || fail "bad input changed vf_driver"
	[ "$(cat "$d/sriov_policy")" = locked ] || fail "bad input changed the policy"
	# Pinned to another driver: pci-stub takes them as soon as they appear.
	modprobe pci-stub || fail "pci-stub did not load"
	expect_write OK "$d/sriov_vf_driver" "pci-stub
"
	expect_write OK "$d/sriov_numvfs" 2
	vf=$(basename "$(readlink "$d/virtfn0")")
	[ "$(driver_of "$vf")" = pci-stub ] || fail "$vf not bound to pci-stub: $(driver_of "$vf")"
	expect_write OK "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_numvfs" 0
	expect_write OK "$d/sriov_vf_driver" vfio-pci
	# Autoprobe on: VFs probe normally; igbvf binds the igb VFs.
	expect_write OK "$d/sriov_vf_autoprobe" 1
	expect_write OK "$d/sriov_numvfs" 2
	vf=$(basename "$(readlink "$d/virtfn0")")
	[ "$(cat "$SYS/$vf/driver_override")" = "(null)" ] || fail "$vf has an override with autoprobe 1"
	if [ "$pf" = "$IGB_PF" ]; then
		[ "$(driver_of "$vf")" = igbvf ] || fail "$vf not bound to igbvf with autoprobe 1"
	fi
	expect_write OK "$d/sriov_lock" unlock
	expect_write OK "$d/sriov_numvfs" 0
	expect_write OK "$d/sriov_vf_autoprobe" 0
done
