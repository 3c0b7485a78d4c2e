# PF removal under traffic: the virtio-net PF is removed (`echo 1 > remove`, as an eject does it)
# while pings stream through a VF in use, its VFs locked with a token: the stream stops, the VFs
# and their interfaces are gone when `remove` returns, nothing of them is left; a rescan brings
# the PF back (on virtio-pci, its own driver), pf_stub takes it fresh (no lock, no token) and its
# new VFs carry traffic again.
is_rust || exit 77
T=$VIRTIO_TOKEN
virtio_token_vfs "$T" 4
vfs=""
i=0
while [ "$i" -lt 4 ]; do vfs="$vfs $(vf_of "$pf" "$i")"; i=$((i + 1)); done
virtio_vf0_traffic
ping_start "$n0" 40 0.2
sleep 3
log_mark
echo 1 >"$d/remove"
# When remove returns, the PF, its VFs and their interfaces are gone. If they are not, the rest
# still runs (the VFs given up to 20 s to go, the rescan, the new VFs' traffic), and the
# scenario fails at its end, naming what outlived the return.
left=""
for v in $pf $vfs; do [ -e "$SYS/$v" ] && left="$left $v"; done
[ -e "/sys/class/net/$n0" ] && left="$left $n0"
late=""
if [ -n "$left" ]; then
	late="still present when remove returned:$left"
	note "$late"
	i=0
	while [ -n "$(for v in $vfs; do [ -e "$SYS/$v" ] && echo "$v"; done)" ] && [ "$i" -lt 20 ]; do
		sleep 1
		i=$((i + 1))
	done
	note "the VFs were gone $i s after remove returned"
else
	note "remove returned: $pf, its 4 VFs and $n0 gone"
fi
for v in $vfs; do [ -e "$SYS/$v" ] && fail "$v outlived its PF by 20 s"; done
expect_log "removed with"
ping_result "$n0"; set -- 40 "$PING_RX"
note "stream through $n0 across the removal: $2/$1 pings answered"
[ "$2" -lt "$1" ] && [ "$2" -ge 3 ] || { sed 's/^/# ping: /' "/tmp/ping.$n0"; fail "stream: ${2:-no} of ${1:-no} answered, want fewer than sent"; }
[ "$2" -ge 3 ] || fail "stream: only $2 answered before the removal"
[ -z "$(stray_vfs_settled)" ] || fail "VFs outlived their PF: $(stray_vfs)"
[ "$(cat /sys/module/pf_stub/refcnt)" = 0 ] || fail "module still pinned after its PF went away"
echo 1 >/sys/bus/pci/rescan
[ -e "$d" ] || fail "$pf did not come back with a rescan"
note "rescan: $pf back on '$(driver_of "$pf")'"
bind_to "$pf" || fail "$pf did not bind after the rescan"
[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "$pf: the new device inherited a lock"
[ "$(cat "$d/sriov_vf_token")" = unset ] || fail "$pf: the new device inherited a token"
virtio_vfs_on 4 virtio-pci
i=0
while [ "$i" -lt 4 ]; do
	vf=$(vf_of "$pf" "$i")
	n=$(net_up "$vf") || fail "$vf: no network interface after the rescan"
	expect_traffic "$n" 5
	i=$((i + 1))
done
expect_write OK "$d/sriov_lock" unlock
expect_write OK "$d/sriov_numvfs" 0
unbind "$pf"
rmmod pf_stub || fail "rmmod failed"
[ -z "$late" ] || fail "$late"
