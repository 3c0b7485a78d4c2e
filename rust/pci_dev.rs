// SPDX-License-Identifier: GPL-2.0

//! The C `struct pci_dev` behind a [`pci::Device`]: the one raw-pointer accessor of `kext`.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)
//!
//! Upstream: `pci::Device::as_raw()` (merged long before 7.2), private to the kernel crate; this
//! goes away when the files that use it move there.

use kernel::{
    bindings,
    device,
    pci, //
};

/// Returns the C `struct pci_dev` behind a [`pci::Device`] (`Device::as_raw()` upstream).
///
/// A `pci::Device` is, by its definition, a `#[repr(transparent)]` wrapper of
/// `Opaque<bindings::pci_dev>`, itself `#[repr(transparent)]`, so the address of the Rust object
/// is the address of the C object.
#[inline]
pub(super) fn raw<Ctx: device::DeviceContext>(dev: &pci::Device<Ctx>) -> *mut bindings::pci_dev {
    core::ptr::from_ref(dev).cast_mut().cast()
}
