# SPDX-License-Identifier: GPL-2.0
#
# pf_stub builds two ways:
#   out of tree:  make KDIR=<kernel build dir>   (default: the running kernel's build tree)
#   in tree:      drop this folder in as drivers/pci/pf_stub/, add
#                 `source "drivers/pci/pf_stub/Kconfig"` to drivers/pci/Kconfig (inside its
#                 `if PCI`) and `obj-$(CONFIG_PCI_PF_STUB_RUST) += pf_stub/` to
#                 drivers/pci/Makefile, then set CONFIG_PCI_PF_STUB_RUST
#                 (scripts/build-intree.sh does exactly this; `make test` runs the result).

ifneq ($(KERNELRELEASE),)

# The kernel crate's API changes between the supported versions are bridged in rust/compat.rs,
# under one cfg per change, set here from the version of the kernel being built against.
pf_stub_linux := $(shell echo $$(( $(VERSION) * 1000 + $(PATCHLEVEL) )))
ifeq ($(shell [ $(pf_stub_linux) -ge 7003 ] && echo y),y)
rustflags-y += --cfg linux_7_3
endif

ifneq ($(KBUILD_EXTMOD),)
obj-m += pf_stub.o
else
obj-$(CONFIG_PCI_PF_STUB_RUST) += pf_stub.o
endif

else

KDIR ?= /lib/modules/$(shell uname -r)/build

all modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

soak:
	./tests/soak.sh

bench:
	./tests/bench/run.sh

test:
	./tests/run-all.sh

test-distro:
	./tests/run-all.sh distro

demo:
	./tests/demo.sh

# The Debian package pf-stub-dkms (debian/), in out/deb/.
deb:
	./scripts/make-deb.sh

# A full Debian 13 host (systemd, udev, driverctl, libvirt) with pf-stub-dkms installed,
# booted under QEMU across reboots (tests/host/run.sh).
test-host:
	./tests/host/run.sh all

.PHONY: all modules modules_install install clean test test-distro test-host deb demo bench soak

endif
