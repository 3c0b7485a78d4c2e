#!/usr/bin/env bash
# Builds the test VM's kernel (flavour base or debug) of the series in use (pf_stub_series in
# scripts/lib.sh) into the cache, keyed by kernel version, config fragments and toolchain.
# Prints the build dir.
#   scripts/build-kernel.sh [base|debug]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
flavour=${1:-base}
pf_stub_toolchain_env
out=$(pf_stub_kernel_dir "$flavour")
# One build per key at a time: a second caller (another work tree, a helper) waits for the first
# and then finds its result, instead of wiping the build under it.
mkdir -p "$PF_STUB_CACHE/.locks"
exec 9>"$PF_STUB_CACHE/.locks/${out##*/}"
flock 9
if [ -f "$out/.pf_stub-done" ]; then
	echo "$out"
	exit 0
fi
src=$(pf_stub_kernel_src)
mflags=$(pf_stub_kernel_make_flags "$flavour")
log="$PF_STUB_CACHE/kernel-$(pf_stub_series)-$flavour.log"
echo "kernel: building $flavour kernel in $out (log: $log)" >&2
rm -rf "$out" && mkdir -p "$out"
start=$(date +%s)
{
	# shellcheck disable=SC2086
	make -C "$src" O="$out" $mflags tinyconfig
	# shellcheck disable=SC2046
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $(pf_stub_kernel_fragments "$flavour")
	# shellcheck disable=SC2086
	make -C "$src" O="$out" $mflags olddefconfig
} >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }

# Fail loudly when a fragment option did not survive olddefconfig (a missing
# dependency would otherwise silently drop e.g. RUST or PCI_IOV).
missing=0
for f in $(pf_stub_kernel_fragments "$flavour"); do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) sym=${line%%=*}; grep -q "^$sym=" "$out/.config" && { echo "kernel: $sym should be off" >&2; missing=1; } ;;
		CONFIG_*=*) grep -qx "$line" "$out/.config" || { echo "kernel: $line did not stick" >&2; missing=1; } ;;
		esac
	done <"$f"
done
[ "$missing" = 0 ] || exit 1

# shellcheck disable=SC2086
if ! make -C "$src" O="$out" $mflags -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -n 30 >&2
	tail -n 30 "$log" >&2
	exit 1
fi
# shellcheck disable=SC2086
make -C "$src" O="$out" $mflags INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 \
	modules_install >>"$log" 2>&1
touch "$out/.pf_stub-done"
echo "kernel: $flavour kernel built in $(($(date +%s) - start)) s" >&2
echo "$out"
