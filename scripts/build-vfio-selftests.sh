#!/usr/bin/env bash
# Builds the kernel's own VFIO selftests (tools/testing/selftests/vfio of the test command's
# kernel tree, written by the VFIO maintainers) as static binaries for the busybox guest, into
# the cache, keyed by kernel version, compiler and this script. Prints the directory holding
# vfio_pci_device_test, vfio_dma_mapping_test, vfio_iommufd_setup_test and
# vfio_dma_mapping_mmio_test.
#
# The sources are used as shipped. Linux 7.2.12's lib/vfio_pci_device.c calls calloc_assert(),
# which nothing in its tree defines (7.3 defines it in libvfio/assert.h); for such a tree a
# forced include supplies it (calloc() that exits on failure, as the rest of libvfio treats
# allocation failures).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$(pf_stub_kernel_src)
key=$({
	cat "$PF_STUB_CACHE/linux-source-$(pf_stub_series).version"
	gcc --version | head -n1
	cat "$0"
} | sha256sum | cut -c1-16)
out="$PF_STUB_CACHE/vfio-selftests-$key"
if [ -f "$out/.pf_stub-done" ]; then
	echo "$out/bin"
	exit 0
fi
rm -rf "$out" && mkdir -p "$out/bin"
log="$out/build.log"
echo "vfio selftests: building (log: $log)" >&2
cat >"$out/calloc_assert.h" <<'SHIM'
/* Supplied by pf_stub's build: Linux 7.2.12's libvfio calls calloc_assert() but defines it
 * nowhere. */
#include <stdio.h>
#include <stdlib.h>
static inline void *calloc_assert(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb, size);

	if (!p) {
		perror("calloc");
		exit(1);
	}
	return p;
}
SHIM
shim="-include $out/calloc_assert.h"
if grep -rqs 'define calloc_assert' "$src/tools/testing/selftests/vfio/lib/include"; then shim=""; fi
{
	# The uapi headers, installed apart: the source tree must stay clean for O= builds.
	make -C "$src" O="$out/hdr" headers_install INSTALL_HDR_PATH="$out/hdr/usr"
	mkdir -p "$out/obj"
	make -C "$src/tools/testing/selftests/vfio" OUTPUT="$out/obj" \
		KHDR_INCLUDES="-isystem $out/hdr/usr/include" \
		EXTRA_CFLAGS="$shim" LDFLAGS="-static -pthread"
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
for t in vfio_pci_device_test vfio_dma_mapping_test vfio_iommufd_setup_test vfio_dma_mapping_mmio_test; do
	cp "$out/obj/$t" "$out/bin/$t"
done
rm -rf "$out/obj" "$out/hdr"
touch "$out/.pf_stub-done"
echo "$out/bin"
