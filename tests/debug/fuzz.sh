# Fuzzing: seeded pseudo-random and mutated payloads into every pf_stub knob, each result checked
# against a reference parser (tests/guest/fuzzw.c); random module parameters at insmod. Nothing
# but clean errors, consistent state and no kernel report.
is_rust || exit 77
COUNT=${PFSTUB_FUZZ_COUNT:-400}
SEED=${PFSTUB_FUZZ_SEED:-1}
T=2ab74924-c335-45f4-9b16-8569e5b08258
insmod "$PFSTUB_KO" || fail "insmod failed"
pf=${IGB_PF:-$NVME_PF}
d=$SYS/$pf
bind_to "$pf" || fail "$pf did not bind"
note "seed=$SEED count=$COUNT per knob"
total=0
for knob in policy:sriov_policy lock:sriov_lock token:sriov_vf_token autoprobe:sriov_vf_autoprobe driver:sriov_vf_driver; do
	k=${knob%%:*}
	f=${knob#*:}
	out=$(fuzzw "$k" "$SEED" "$COUNT" "$d/$f") || { echo "$out"; fail "fuzz $k found mismatches"; }
	note "$out"
	total=$((total + COUNT))
	# Whatever was accepted, the PF is usable: reset the knobs to a known state.
	swrite "$d/sriov_lock" "unlock $T" >/dev/null
	swrite "$d/sriov_lock" unlock >/dev/null
	swrite "$d/sriov_vf_token" "$T clear" >/dev/null
	swrite "$d/sriov_vf_token" clear >/dev/null
	expect_write OK "$d/sriov_policy" locked
	[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "cannot unlock after fuzzing $k"
	[ "$(cat "$d/sriov_vf_token")" = unset ] || fail "cannot clear the token after fuzzing $k"
done
# The same with VFs enabled and locked by the token: state refusals instead of changes. (The
# token knob is left out here: a mutated UUID accepted as a new token could not be unlocked.)
expect_write OK "$d/sriov_vf_token" "$T"
expect_write OK "$d/sriov_numvfs" 2
for knob in policy:sriov_policy autoprobe:sriov_vf_autoprobe driver:sriov_vf_driver lock:sriov_lock; do
	k=${knob%%:*}
	f=${knob#*:}
	out=$(fuzzw "$k" "$((SEED + 100))" "$((COUNT / 2))" "$d/$f") || { echo "$out"; fail "fuzz $k (locked) found mismatches"; }
	note "$out"
	total=$((total + COUNT / 2))
	expect_vfs "$pf" 2
	[ "$k" = lock ] || [ "$(cat "$d/sriov_lock")" = locked ] || fail "fuzzing $k unlocked the VFs"
done
expect_write OK "$d/sriov_lock" "unlock $T"
expect_write OK "$d/sriov_numvfs" 0
rmmod pf_stub || fail "rmmod failed"

# Module parameters: random values for each; the load fails cleanly or succeeds. Every number
# is drawn from $RANDOM in this shell (not in a command substitution's subshell, whose draws do
# not advance the sequence), so a seed replays the same loads.
# rstr N ALPHABET: sets $str to N characters drawn from ALPHABET.
rstr() {
	str="" j=0
	while [ "$j" -lt "$1" ]; do
		k=$((RANDOM % ${#2}))
		str="$str${2:$k:1}"
		j=$((j + 1))
	done
}
RANDOM=$SEED
loads=0 refused=0
for i in $(seq 1 "${PFSTUB_FUZZ_PARAMS:-40}"); do
	r=$RANDOM a=$RANDOM b=$RANDOM c=$RANDOM e=$RANDOM
	case $((r % 6)) in
	0) p=$(printf 'ids=%x:%x' $((a % 70000)) "$b"); [ $((c % 2)) = 0 ] && p="$p,zz" ;;
	1) p=$(printf 'addrs=%x:%x.%x@%d' $((a % 300)) $((b % 40)) $((c % 10)) $((e % 70000))) ;;
	2) p="num_vfs=$((a * 3 - 20000))" ;;
	3) rstr $((a % 12)) abcdefghijklmnopqrstuvwxyz; p="policy=$str" ;;
	4) rstr $((a % 40)) 'abcdefghijklmnopqrstuvwxyz/_ -'; p="vf_driver=$str" ;;
	5) p="vf_autoprobe=$((a % 4 - 1))" ;;
	esac
	if insmod "$PFSTUB_KO" "$p" 2>/dev/null; then
		loads=$((loads + 1))
		[ -d /sys/bus/pci/drivers/pf_stub ] || fail "loaded with $p but no driver"
		for q in $PFS; do
			[ "$(driver_of "$q")" = pf_stub ] && swrite "$SYS/$q/sriov_lock" unlock >/dev/null
		done
		rmmod pf_stub || fail "rmmod after $p failed"
	else
		refused=$((refused + 1))
		[ -d /sys/module/pf_stub ] && fail "failed load of $p left the module"
	fi
done
note "params: $loads loaded, $refused refused"
note "fuzz total: $total knob writes"
check_kmemleak
