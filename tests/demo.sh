#!/usr/bin/env bash
# The main job: boots the test VM with an emulated igb PF (Intel 82576, 8 VFs), loads pf_stub,
# binds the PF through driver_override, creates the VFs and shows them. Sets up everything first.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if tests/vm.sh --topology igb --no-kunit --log "$log" tests/demo/main.sh >/dev/null; then rc=0; else rc=$?; fi
sed -n '/PFSTUB-SCENARIOS-BEGIN/,/PFSTUB-SCENARIOS-END/p' "$log" | sed '1,2d;$d' | sed 's/^    //'
exit "$rc"
