// SPDX-License-Identifier: GPL-2.0

//! Kernel abstractions that the Rust `kernel` crate of Linux 7.2 does not have yet.
//!
//! Everything `unsafe` in pf_stub lives below this module; the driver files build only on the
//! safe interfaces here. The modules are written against the kernel crate's conventions
//! (`rust/kernel/pci.rs`, `rust/kernel/driver.rs`) so that they can be proposed for it:
//!
//! - [`pci_sriov`]: SR-IOV methods on [`kernel::pci::Device`] and a PCI driver registration whose
//!   driver implements `sriov_configure` and can take dynamic IDs (`pci_add_dynid`).
//! - [`module_param`]: string module parameters (`module_param_string` in C).

pub mod module_param;
pub mod pci_sriov;
