# VFs that carry traffic: pf_stub (VF autoprobe on) takes the virtio-net PF from virtio-pci, all
# its VFs (8) are enabled and probe virtio-pci and virtio_net as any virtio NIC, and each VF's
# interface pings its own QEMU user network's gateway: every ping answered, the VF's own
# counters grow. Then the lock is lifted, the VFs disabled, their interfaces gone.
is_rust || exit 77
virtio_pf
note "$pf: $(cat "$d/vendor"):$(cat "$d/device") on $(driver_of "$pf"), sriov_totalvfs $(totalvfs "$pf")"
[ "$(totalvfs "$pf")" = 8 ] || fail "$pf: sriov_totalvfs $(totalvfs "$pf"), want 8"
insmod "$PFSTUB_KO" vf_autoprobe=1 || fail "insmod failed"
bind_to "$pf" || fail "$pf did not bind to pf_stub"
log_mark
expect_write OK "$d/sriov_numvfs" 8
expect_vfs "$pf" 8
expect_log "VF count locked at 8"
ifs=""
i=0
while [ "$i" -lt 8 ]; do
	vf=$(vf_of "$pf" "$i")
	[ "$(cat "$SYS/$vf/vendor"):$(cat "$SYS/$vf/device")" = 0x1af4:0x1041 ] ||
		fail "$vf: $(cat "$SYS/$vf/vendor"):$(cat "$SYS/$vf/device"), not a virtio-net VF"
	[ "$(driver_of "$vf")" = virtio-pci ] || fail "$vf on '$(driver_of "$vf")', not virtio-pci"
	n=$(net_up "$vf") || fail "$vf: no network interface"
	note "VF$i $vf: virtio-pci, $n ($(cat "/sys/class/net/$n/address"))"
	[ "$(cat "/sys/class/net/$n/address")" = "52:54:00:22:00:0$((i + 1))" ] ||
		fail "$vf: MAC $(cat "/sys/class/net/$n/address"), not VF$i's"
	ifs="$ifs $n"
	i=$((i + 1))
done
# All eight at once, each through its own VF.
for n in $ifs; do
	eval "tx0_$n=$(if_stat "$n" tx_packets) rx0_$n=$(if_stat "$n" rx_packets)"
	ping_start "$n" 10 0.2
done
total=0
for n in $ifs; do
	ping_result "$n"; set -- "$PING_TX" "$PING_RX"
	[ "${1:-}" = 10 ] && [ "${2:-}" = 10 ] || { sed 's/^/# ping: /' "/tmp/ping.$n"; fail "$n: ${2:-no} of ${1:-no} pings answered"; }
	eval "tx=\$(($(if_stat "$n" tx_packets) - tx0_$n)) rx=\$(($(if_stat "$n" rx_packets) - rx0_$n))"
	[ "$tx" -ge 10 ] && [ "$rx" -ge 10 ] || fail "$n: counters grew by tx $tx rx $rx, want >= 10"
	note "$n: $2/$1 pings answered (tx_packets +$tx, rx_packets +$rx)"
	total=$((total + $2))
done
note "8 VFs: $total/80 pings answered"
expect_write OK "$d/sriov_lock" unlock
expect_write OK "$d/sriov_numvfs" 0
expect_vfs "$pf" 0
for n in $ifs; do [ -e "/sys/class/net/$n" ] && fail "$n outlived its VF"; done
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
