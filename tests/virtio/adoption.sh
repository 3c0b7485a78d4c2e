# Adoption under traffic: a steady ping stream (every 200 ms) through a VF in use by virtio_net
# while pf_stub is unbound from the PF (the locked, in-use VFs stay: "leaving 4 locked VFs in
# place"), while rmmod is refused, and while pf_stub binds again and adopts them: every ping
# answered, the stream never interrupted, the lock and the token back, a plain unlock refused.
is_rust || exit 77
T=$VIRTIO_TOKEN
virtio_token_vfs "$T" 4
[ "$(cat "$d/sriov_lock")" = locked ] || fail "enabling did not lock"
vf0=$(vf_of "$pf" 0) vf1=$(vf_of "$pf" 1)
n0=$(net_up "$vf0") || fail "$vf0: no network interface"
n1=$(net_up "$vf1") || fail "$vf1: no network interface"
expect_traffic "$n0" 3
tx0=$(if_stat "$n0" tx_packets)
# 100 pings 200 ms apart: 20 s, over the unbind, the refused rmmod and the rebind.
ping_start "$n0" 100 0.2
sleep 3
log_mark
unbind "$pf"
[ -z "$(driver_of "$pf")" ] || fail "$pf still bound to $(driver_of "$pf")"
expect_log "leaving 4 locked VFs in place"
expect_vfs "$pf" 4
[ "$(driver_of "$vf0")" = virtio-pci ] || fail "$vf0 lost virtio-pci at the PF's unbind"
[ "$(netdev_of "$vf0")" = "$n0" ] || fail "$vf0: interface $n0 gone at the PF's unbind"
note "unbound: 4 VFs kept, $vf0 still $n0 on virtio-pci"
# A second interface carries traffic while the PF has no driver at all.
expect_traffic "$n1" 5
sleep 2
if rmmod pf_stub 2>/dev/null; then fail "rmmod succeeded while VFs in use wait for adoption"; fi
[ -d /sys/module/pf_stub ] || fail "pf_stub gone"
note "rmmod pf_stub refused while the VFs wait for adoption"
sleep 2
log_mark
echo "$pf" >/sys/bus/pci/drivers_probe
[ "$(driver_of "$pf")" = pf_stub ] || fail "$pf did not bind again"
expect_log "adopted 4 locked VFs"
[ "$(cat "$d/sriov_lock")" = locked ] || fail "adopted VFs not locked"
[ "$(cat "$d/sriov_vf_token")" = set ] || fail "token lost across unbind"
expect_vfs "$pf" 4
[ "$(vf_of "$pf" 0)" = "$vf0" ] || fail "VF0 is $(vf_of "$pf" 0) after adoption, was $vf0"
note "bound again: adopted 4 locked VFs, lock and token back"
ping_result "$n0"; set -- "$PING_TX" "$PING_RX"
tx=$(($(if_stat "$n0" tx_packets) - tx0))
note "stream through $n0 across unbind, refused rmmod and rebind: $2/$1 pings answered (tx_packets +$tx)"
[ "${1:-}" = 100 ] && [ "${2:-}" = 100 ] || { sed 's/^/# ping: /' "/tmp/ping.$n0"; fail "stream: ${2:-no} of ${1:-no} answered, want 100 of 100"; }
expect_write EPERM "$d/sriov_numvfs" 0
expect_write EACCES "$d/sriov_lock" unlock
expect_write OK "$d/sriov_lock" "unlock $T"
expect_write OK "$d/sriov_numvfs" 0
expect_vfs "$pf" 0
[ -e "/sys/class/net/$n0" ] && fail "$n0 outlived its VF"
unbind "$pf"
rmmod pf_stub || fail "rmmod failed after adoption and release"
