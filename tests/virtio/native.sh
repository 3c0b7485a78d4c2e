# Reference: the native PF driver, virtio-pci's own sriov_configure. Its VFs carry traffic as
# pf_stub's do, but unbinding virtio-pci from the PF disables SR-IOV (virtio_pci_remove() calls
# pci_disable_sriov()): a stream through a VF stops, the VFs and their interfaces go, and binding
# virtio-pci again brings no VF back. Nothing locks the count: a disable under traffic succeeds.
virtio_pf
bind_to "$pf" virtio-pci || fail "$pf did not bind to virtio-pci"
virtio_vfs_up 4
expect_traffic "$n0" 3
# No lock: disabling under traffic is allowed, and ends it.
ping_start "$n1" 30 0.2
sleep 2
expect_write EBUSY "$d/sriov_numvfs" 2
expect_write OK "$d/sriov_numvfs" 0
expect_vfs "$pf" 0
ping_result "$n1"; set -- 30 "$PING_RX"
note "virtio-pci: sriov_numvfs=0 under traffic accepted; stream through $n1: $2/$1 answered"
[ "$2" -lt "$1" ] && [ "$2" -ge 3 ] || fail "stream through $n1 went on after the disable: $2/$1"
# Unbind under traffic: the VFs go with the PF's driver.
expect_write OK "$d/sriov_numvfs" 4
n0=$(net_up "$(vf_of "$pf" 0)") || fail "VF0: no network interface"
expect_traffic "$n0" 3
ping_start "$n0" 30 0.2
sleep 2
log_mark
unbind "$pf"
expect_vfs "$pf" 0
[ -e "/sys/class/net/$n0" ] && fail "$n0 outlived the unbind"
ping_result "$n0"; set -- 30 "$PING_RX"
note "virtio-pci unbound under traffic: VFs gone, stream through $n0: $2/$1 answered"
[ "$2" -lt "$1" ] && [ "$2" -ge 3 ] || fail "stream through $n0 went on after the unbind: $2/$1"
bind_to "$pf" virtio-pci || fail "$pf did not bind to virtio-pci again"
expect_vfs "$pf" 0
note "virtio-pci bound again: 0 VFs"
unbind "$pf"
