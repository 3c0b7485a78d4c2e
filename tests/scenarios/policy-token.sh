# The VF token: set, needed to unlock, rotated or cleared only unlocked or with the current one,
# never shown or logged; writes by a non-root user are refused.
is_rust || exit 77
T1=2ab74924-c335-45f4-9b16-8569e5b08258
T2=9F1C0B6E-7D5A-4C3E-8B2A-1E0F9D8C7B6A
insmod "$PFSTUB_KO" || fail "insmod failed"
for pf in $PFS; do
	bind_to "$pf" || fail "$pf did not bind"
	d=$SYS/$pf
	log_mark
	expect_write OK "$d/sriov_vf_token" "$T1
"
	[ "$(cat "$d/sriov_vf_token")" = set ] || fail "token not set"
	expect_log "VF token set"
	expect_write OK "$d/sriov_numvfs" 1
	expect_write EACCES "$d/sriov_lock" unlock
	expect_write EACCES "$d/sriov_lock" "unlock $T2"
	[ "$(cat "$d/sriov_lock")" = locked ] || fail "a wrong token unlocked"
	# Rotation while locked needs the current token.
	expect_write EPERM "$d/sriov_vf_token" "$T2"
	expect_write EPERM "$d/sriov_vf_token" clear
	expect_write EACCES "$d/sriov_vf_token" "$T2 $T1"
	expect_write OK "$d/sriov_vf_token" "$T1 $T2"
	expect_write EACCES "$d/sriov_lock" "unlock $T1"
	# Any case of the hex digits is the same UUID.
	expect_write OK "$d/sriov_lock" "unlock $(echo "$T2" | tr 'A-F' 'a-f')"
	[ "$(cat "$d/sriov_lock")" = unlocked ] || fail "right token did not unlock"
	# Unlocked: the token can be replaced or cleared without the current one.
	expect_write OK "$d/sriov_vf_token" "$T1"
	expect_write OK "$d/sriov_vf_token" clear
	[ "$(cat "$d/sriov_vf_token")" = unset ] || fail "token not cleared"
	expect_write OK "$d/sriov_numvfs" 0
	# Malformed tokens change nothing.
	expect_write OK "$d/sriov_vf_token" "$T1"
	# Surrounding whitespace is ignored, as the ABI says.
	expect_write OK "$d/sriov_vf_token" " $T1 "
	for bad in "x" "x $T1" "{$T1}" "2ab74924c335-45f4-9b16-8569e5b08258" "00000000-0000-0000-0000-000000000000" \
		"$T1 $T2 $T1" "clear $T1" "$T1 x"; do
		expect_write EINVAL "$d/sriov_vf_token" "$bad"
	done
	expect_write EINVAL "$d/sriov_lock" "unlock x"
	expect_write EACCES "$d/sriov_lock" unlock
	[ "$(cat "$d/sriov_vf_token")" = set ] || fail "bad input changed the token"
	expect_write OK "$d/sriov_vf_token" clear
	# Non-root writers are refused by the file mode, whatever they write.
	for f in sriov_lock sriov_vf_token sriov_policy sriov_vf_autoprobe sriov_vf_driver; do
		got=$(SWRITE_UID=65534 swrite "$d/$f" lock)
		[ "$got" = EACCES ] || fail "non-root write to $f: got $got"
		[ "$(stat -c %a "$d/$f")" = 644 ] || fail "$f mode $(stat -c %a "$d/$f")"
	done
done
# The token never reaches the kernel log, in any case.
if dmesg | grep -qi -e "$T1" -e "$T2" -e 2ab74924 -e 9f1c0b6e; then fail "a token reached the kernel log"; fi
