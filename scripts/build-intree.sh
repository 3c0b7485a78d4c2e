#!/usr/bin/env bash
# Builds pf_stub in tree, the way a kernel maintainer would take it: the kernel source carries
# this folder as drivers/pci/pf_stub/, drivers/pci/Kconfig sources its Kconfig and
# drivers/pci/Makefile descends into it (pf_stub_kernel_src in scripts/lib.sh), and the kernel is
# configured as the base test kernel plus CONFIG_PCI_PF_STUB_RUST=m and built with the kernel's
# own `make` (no M=). Prints the build dir; the module is installed under modroot/ as
# kernel/drivers/pci/pf_stub/pf_stub.ko.
#
# No third kernel build: the first run copies the base kernel's build dir (same source tree, so
# kbuild's recorded commands still match) and turns the option on, so that make rebuilds only
# what depends on it (the Rust kernel crate, whose flags list every option, and
# drivers/pci/pf_stub/): about 2 minutes. The copy stays in the cache under a key of the base
# kernel's inputs and this script; later runs copy the driver's sources in again and rebuild
# incrementally (kbuild re-reads a changed Kconfig; the option is checked after every build).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pf_stub_toolchain_env
base=$("$PF_STUB_ROOT/scripts/build-kernel.sh" base)
key=$({
	pf_stub_kernel_key base
	cat "$0"
} | sha256sum | cut -c1-16)
top="$PF_STUB_CACHE/intree-$(pf_stub_series)-$key"
out="$top/build"
log="$PF_STUB_CACHE/intree.log"
src=$(pf_stub_kernel_src)
start=$(date +%s)

pf_stub_sync_intree "$src"
if [ ! -f "$out/.pf_stub-configured" ]; then
	echo "intree: turning CONFIG_PCI_PF_STUB_RUST on in a copy of $base" >&2
	rm -rf "$top" && mkdir -p "$top"
	rsync -a --exclude /modroot --exclude /.pf_stub-done "$base/" "$out/"
	printf 'CONFIG_PCI_PF_STUB_RUST=m\n' >"$top/intree.config"
	{
		"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$top/intree.config"
		make -C "$src" O="$out" olddefconfig
	} >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
	grep -qx 'CONFIG_PCI_PF_STUB_RUST=m' "$out/.config" || {
		echo "intree: CONFIG_PCI_PF_STUB_RUST=m did not survive olddefconfig" >&2
		exit 1
	}
	touch "$out/.pf_stub-configured"
fi
if ! make -C "$src" O="$out" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	grep -E 'error|Error|warning' "$log" | head -n 30 >&2
	tail -n 30 "$log" >&2
	exit 1
fi
grep -qx 'CONFIG_PCI_PF_STUB_RUST=m' "$out/.config" || {
	echo "intree: CONFIG_PCI_PF_STUB_RUST=m was dropped (its Kconfig dependencies changed?)" >&2
	exit 1
}
rm -rf "$out/modroot"
make -C "$src" O="$out" INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1
krel=$(cat "$out/include/config/kernel.release")
[ -f "$out/modroot/lib/modules/$krel/kernel/drivers/pci/pf_stub/pf_stub.ko" ] || {
	echo "intree: modules_install did not install kernel/drivers/pci/pf_stub/pf_stub.ko" >&2
	exit 1
}
echo "intree: kernel and in-tree pf_stub ready in $(($(date +%s) - start)) s" >&2
echo "$out"
