#!/usr/bin/env bash
# Builds pf_stub in tree, the way a kernel maintainer would take it: a copy of the kernel source
# with this folder as drivers/pci/pf_stub/, drivers/pci/Kconfig sourcing its Kconfig and
# drivers/pci/Makefile descending into it, configured as the base test kernel plus
# CONFIG_PCI_PF_STUB_RUST=m, built with the kernel's own `make` (no M=). Prints the build dir;
# the module is installed under modroot/ as kernel/drivers/pci/pf_stub/pf_stub.ko.
#
# The first run builds the whole kernel (as long as the base kernel: about 4-6 minutes); the
# copy and its build dir stay in the cache under a key of the base kernel's inputs and this
# script, and later runs copy the driver's sources, Kconfig and Makefile in again and rebuild
# incrementally (kbuild re-reads a changed Kconfig; the option is checked after every build).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pf_stub_toolchain_env
key=$({
	pf_stub_kernel_key base
	cat "$0"
} | sha256sum | cut -c1-16)
top="$PF_STUB_CACHE/intree-$key"
tree="$top/linux"
out="$top/build"
log="$PF_STUB_CACHE/intree.log"
src=$(pf_stub_kernel_src)
start=$(date +%s)

if [ ! -f "$tree/.pf_stub-tree" ]; then
	echo "intree: linking a kernel source copy in $tree" >&2
	# Copies under other keys are outdated: each is a whole kernel build.
	find "$PF_STUB_CACHE" -maxdepth 1 -name 'intree-*' ! -name "intree-$key" -exec rm -rf {} +
	rm -rf "$top" && mkdir -p "$top"
	# Hard links keep the copy cheap; the two files changed below are replaced, never written
	# through, so the shared source tree stays untouched.
	cp -al "$src" "$tree"
	rm -f "$tree"/.pf_stub-unpacked-*
	k="$tree/drivers/pci/Kconfig" m="$tree/drivers/pci/Makefile"
	grep -qx 'endif # PCI' "$k" || { echo "intree: drivers/pci/Kconfig has no 'endif # PCI'" >&2; exit 1; }
	sed 's|^endif # PCI$|source "drivers/pci/pf_stub/Kconfig"\n\nendif # PCI|' "$k" >"$k.new"
	grep -q '^obj-$(CONFIG_PCI_PF_STUB)' "$m" || { echo "intree: drivers/pci/Makefile has no pci-pf-stub line" >&2; exit 1; }
	sed '/^obj-$(CONFIG_PCI_PF_STUB)/a obj-$(CONFIG_PCI_PF_STUB_RUST)\t+= pf_stub/' "$m" >"$m.new"
	rm -f "$k" "$m"
	mv "$k.new" "$k"
	mv "$m.new" "$m"
	touch "$tree/.pf_stub-tree"
fi

# The driver's sources, copied by content so unchanged files keep their times and are not
# rebuilt.
mkdir -p "$tree/drivers/pci/pf_stub"
rsync -rc --delete "${PF_STUB_SOURCES[@]}" "$PF_STUB_ROOT/" "$tree/drivers/pci/pf_stub/"

if [ ! -f "$out/.pf_stub-configured" ]; then
	rm -rf "$out" && mkdir -p "$out"
	printf 'CONFIG_PCI_PF_STUB_RUST=m\n' >"$top/intree.config"
	{
		make -C "$tree" O="$out" tinyconfig
		# shellcheck disable=SC2046
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
			$(pf_stub_kernel_fragments base) "$top/intree.config"
		make -C "$tree" O="$out" olddefconfig
	} >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
	grep -qx 'CONFIG_PCI_PF_STUB_RUST=m' "$out/.config" || {
		echo "intree: CONFIG_PCI_PF_STUB_RUST=m did not survive olddefconfig" >&2
		exit 1
	}
	touch "$out/.pf_stub-configured"
	echo "intree: building the kernel with pf_stub in tree in $out (log: $log)" >&2
fi
if ! make -C "$tree" O="$out" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	grep -E 'error|Error|warning' "$log" | head -n 30 >&2
	tail -n 30 "$log" >&2
	exit 1
fi
grep -qx 'CONFIG_PCI_PF_STUB_RUST=m' "$out/.config" || {
	echo "intree: CONFIG_PCI_PF_STUB_RUST=m was dropped (its Kconfig dependencies changed?)" >&2
	exit 1
}
rm -rf "$out/modroot"
make -C "$tree" O="$out" INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1
krel=$(cat "$out/include/config/kernel.release")
[ -f "$out/modroot/lib/modules/$krel/kernel/drivers/pci/pf_stub/pf_stub.ko" ] || {
	echo "intree: modules_install did not install kernel/drivers/pci/pf_stub/pf_stub.ko" >&2
	exit 1
}
echo "intree: kernel and in-tree pf_stub ready in $(($(date +%s) - start)) s" >&2
echo "$out"
