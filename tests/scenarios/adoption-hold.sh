# While pf_stub keeps locked, in-use VFs for adoption, the PF is held for it (driver_override):
# the native driver of a PF bound through ids= cannot take it meanwhile, and the adoption sets
# driver_override back. Releasing the kept VFs while the PF is unbound drops the record, so
# rmmod works, as the admin guide says. When SR-IOV is disabled and enabled again in between
# (here by the C pci-pf-stub), the old token never comes back.
is_rust || exit 77
[ -n "$IGB_PF" ] || exit 77
T=0d9b6c1e-2f3a-4b5c-8d7e-9f0a1b2c3d4e
pf=$IGB_PF
vfs_of() { for l in "$SYS/$pf"/virtfn*; do basename "$(readlink "$l")"; done; }
load_vfio || fail "vfio-pci did not load"
insmod "$PFSTUB_KO" ids=8086:10c9 || fail "insmod failed"
[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf not bound through ids="
expect_write OK "$SYS/$pf/sriov_vf_token" "$T"
expect_write OK "$SYS/$pf/sriov_numvfs" 2
for vf in $(vfs_of); do [ "$(driver_of "$vf")" = vfio-pci ] || fail "$vf not on vfio-pci"; done
unbind "$pf"
expect_vfs "$pf" 2
[ "$(cat "$SYS/$pf/driver_override")" = pf_stub ] || fail "the PF is not held for pf_stub"
modprobe igb || fail "modprobe igb failed"
echo "$pf" >/sys/bus/pci/drivers_probe 2>/dev/null
[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf taken by '$(driver_of "$pf")' while its VFs were kept"
rmmod igb
log_mark
[ "$(cat "$SYS/$pf/sriov_vf_token")" = set ] || fail "token lost across the adoption"
[ "$(cat "$SYS/$pf/driver_override")" = "(null)" ] || fail "driver_override not set back after adoption"
# Release the kept VFs while the PF is unbound: the record goes, rmmod works.
unbind "$pf"
for vf in $(vfs_of); do echo "$vf" >"/sys/bus/pci/drivers/vfio-pci/unbind"; done
expect_log "the kept VFs were all released"
[ "$(cat "$SYS/$pf/driver_override")" = "(null)" ] || fail "driver_override not set back after release"
rmmod pf_stub || fail "rmmod refused after the kept VFs were released"
expect_vfs "$pf" 2
# Stale record: keep VFs again, then let the C pci-pf-stub disable and enable SR-IOV.
insmod "$PFSTUB_KO" || fail "insmod failed"
bind_to "$pf" || fail "$pf did not bind"
[ "$(cat "$SYS/$pf/sriov_lock")" = locked ] || fail "VFs found enabled were not locked"
expect_write OK "$SYS/$pf/sriov_vf_token" "$T"
for vf in $(vfs_of); do echo "$vf" >/sys/bus/pci/drivers_probe; done
[ "$(driver_of "$(vfs_of | head -n 1)")" = vfio-pci ] || fail "VF not on vfio-pci"
unbind "$pf"
modprobe pci-pf-stub || fail "modprobe pci-pf-stub failed"
bind_to "$pf" pci-pf-stub || fail "$pf did not bind pci-pf-stub"
log_mark
expect_write OK "$SYS/$pf/sriov_numvfs" 0
# Disabling unbinds the VFs from vfio-pci: the record goes with the last one (were it still
# there, the new VF devices would make it stale: KUnit adoption_needs_the_same_vfs).
expect_log "the kept VFs were all released"
expect_write OK "$SYS/$pf/sriov_numvfs" 2
unbind "$pf"
bind_to "$pf" || fail "$pf did not bind pf_stub again"
[ "$(cat "$SYS/$pf/sriov_vf_token")" = unset ] || fail "a stale token governs VFs it never protected"
expect_write OK "$SYS/$pf/sriov_lock" unlock
expect_write OK "$SYS/$pf/sriov_numvfs" 0
unbind "$pf"
rmmod pci_pf_stub
rmmod pf_stub || fail "rmmod failed"
