# An admin's VF driver_override survives pf_stub refusing that VF's bind during rmmod (issue 19,
# item 5d). Two PFs bound, the igb one first, so that rmmod unbinds the NVMe one (with all its
# VFs to disable) first; the igb PF's VFs are locked and idle, unpinned (vf_autoprobe=1) and not
# probed by the core (its sriov_drivers_autoprobe off), and the admin points the last one at
# vfio-pci by hand. Once rmmod has passed its check of the references (the module "going"), that
# VF is probed: pf_stub refuses the bind, and the VF's driver_override must read the admin's
# value again as soon as the refused probe is over, before the igb PF's own unbind (which stops
# VF binds by the same means) has begun.
is_rust || exit 77
[ -n "$IGB_PF" ] && [ -n "$NVME_PF" ] || exit 77
ROUNDS=${PFSTUB_REFUSAL_ROUNDS:-3}
a=$IGB_PF b=$NVME_PF
load_vfio || fail "vfio-pci did not load"
echo 0 >"$SYS/$a/sriov_drivers_autoprobe"
echo 0 >"$SYS/$b/sriov_drivers_autoprobe"
cleanup() {
	echo 1 >"$SYS/$a/sriov_drivers_autoprobe"
	echo 1 >"$SYS/$b/sriov_drivers_autoprobe"
	[ -d /sys/module/pf_stub ] || return 0
	for pf in $a $b; do
		[ "$(driver_of "$pf")" = pf_stub ] || bind_to "$pf"
		echo unlock >"$SYS/$pf/sriov_lock"
		echo 0 >"$SYS/$pf/sriov_numvfs"
		unbind "$pf"
	done
	rmmod pf_stub
}
trap 'cleanup >/dev/null 2>&1' EXIT
r=0 checked=0
while [ "$r" -lt "$ROUNDS" ]; do
	[ -d /sys/module/pf_stub ] || insmod "$PFSTUB_KO" vf_autoprobe=1 || fail "round $r: insmod failed"
	bind_to "$a" || fail "round $r: $a did not bind"
	bind_to "$b" || fail "round $r: $b did not bind"
	expect_write OK "$SYS/$a/sriov_numvfs" 2
	expect_write OK "$SYS/$b/sriov_numvfs" "$(totalvfs "$b")"
	[ "$(cat "$SYS/$a/sriov_lock")" = locked ] || fail "round $r: VFs not locked"
	vf=$(basename "$(readlink "$SYS/$a/virtfn1")")
	echo vfio-pci >"$SYS/$vf/driver_override"
	[ -z "$(driver_of "$vf")" ] || fail "round $r: $vf bound before rmmod"
	log_mark
	rmmod pf_stub 2>/dev/null &
	job=$!
	seen="" tries=0 prober=""
	while kill -0 "$job" 2>/dev/null; do
		[ "$(cat /sys/module/pf_stub/initstate 2>/dev/null)" = going ] || continue
		# The probe runs in the background: after the refused driver, the bus may try others
		# (pf_stub itself, while the override reads pf_stub), which can wait for the unload.
		if [ -z "$prober" ] || ! kill -0 "$prober" 2>/dev/null; then
			tries=$((tries + 1))
			(echo "$vf" >/sys/bus/pci/drivers_probe) 2>/dev/null &
			prober=$!
		fi
		dmesg | grep -q "$vf: refusing a driver for this VF" || continue
		sleep 0.2
		o=$(cat "$SYS/$vf/driver_override" 2>/dev/null)
		# The igb PF's own unbind stops VF binds by the same override, its VFs in order: the
		# value read is the refusal's outcome only if the first VF's override (unset) has not
		# been changed yet.
		if [ "$(cat "$SYS/$a/virtfn0/driver_override" 2>/dev/null)" != "(null)" ]; then
			note "round $r: refusal seen, override $o, but $a's unbind had begun"
			break
		fi
		seen=$o
		break
	done
	wait "$job"
	wait
	if [ -n "$seen" ]; then
		note "round $r: bind refused during rmmod after $tries tries: $vf's driver_override reads $seen"
		[ "$seen" = vfio-pci ] ||
			fail "round $r: a refused bind during rmmod left $vf's driver_override at $seen, not the admin's vfio-pci"
		checked=$((checked + 1))
	else
		note "round $r: no refusal seen while the NVMe PF was being unbound ($tries tries)"
		dmesg | grep -E "refusing|unbind:" | sed 's/^/# log: /'
	fi
	[ -d /sys/module/pf_stub ] && fail "round $r: rmmod did not unload pf_stub"
	r=$((r + 1))
done
[ "$checked" -gt 0 ] || fail "no round reached the refusal during rmmod"
