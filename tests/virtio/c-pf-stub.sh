# Reference: the kernel's C pci-pf-stub (pci_sriov_configure_simple(), nothing else). Its VFs
# probe virtio-pci (it pins nothing) and carry traffic. It has no lock: sriov_numvfs=0 under
# traffic is accepted and ends the stream. Unbinding it leaves the VFs enabled and working
# (the core warns "driver left SR-IOV enabled after remove"), with no record and no lock, so a
# stream goes on across its unbind and rebind; rmmod is not refused.
virtio_pf
modprobe pci-pf-stub || fail "modprobe pci-pf-stub failed"
bind_to "$pf" pci-pf-stub || fail "$pf did not bind to pci-pf-stub"
virtio_vfs_up 4
expect_traffic "$n1" 3
# Unbind and rebind under traffic.
ping_start "$n0" 50 0.2
sleep 2
log_mark
unbind "$pf"
expect_log "driver left SR-IOV enabled after remove"
expect_vfs "$pf" 4
[ "$(driver_of "$vf0")" = virtio-pci ] || fail "$vf0 lost virtio-pci at the unbind"
if ! rmmod pci_pf_stub; then fail "rmmod pci_pf_stub refused"; fi
note "pci-pf-stub unbound and unloaded: 4 VFs left enabled, unlocked"
sleep 2
modprobe pci-pf-stub || fail "modprobe pci-pf-stub failed"
bind_to "$pf" pci-pf-stub || fail "$pf did not bind to pci-pf-stub again"
expect_vfs "$pf" 4
ping_result "$n0"; set -- "$PING_TX" "$PING_RX"
note "stream through $n0 across pci-pf-stub's unbind, rmmod and rebind: $2/$1 answered"
[ "${1:-}" = 50 ] && [ "${2:-}" = 50 ] || fail "stream through $n0: $2/$1 answered, want 50/50"
# No lock: a disable under traffic is accepted and ends the traffic.
ping_start "$n1" 30 0.2
sleep 2
expect_write OK "$d/sriov_numvfs" 0
expect_vfs "$pf" 0
ping_result "$n1"; set -- 30 "$PING_RX"
note "pci-pf-stub: sriov_numvfs=0 under traffic accepted; stream through $n1: $2/$1 answered"
[ "$2" -lt "$1" ] && [ "$2" -ge 3 ] || fail "stream through $n1 went on after the disable: $2/$1"
unbind "$pf"
rmmod pci_pf_stub
