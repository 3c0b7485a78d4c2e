// SPDX-License-Identifier: GPL-2.0

//! Kernel abstractions that the Rust `kernel` crates of Linux 7.2 and 7.3 do not have yet.
//!
//! Everything `unsafe` in pf_stub lives below this module; the driver files build only on the
//! safe interfaces here. The modules are written against the kernel crate's conventions
//! (`rust/kernel/pci.rs`, `rust/kernel/driver.rs`) so that they can be proposed for it:
//!
//! - [`compat`]: the version-neutral forms of the kernel crate APIs that changed between the
//!   Linux versions pf_stub supports (7.2 and 7.3);
//! - [`pci_sriov`]: SR-IOV methods on [`kernel::pci::Device`] and a PCI driver registration whose
//!   driver implements `sriov_configure`, has driver attributes and takes dynamic IDs;
//! - [`device_attr`]: sysfs attributes on the devices a driver is bound to (`dev_groups`);
//! - [`notifier`]: PCI bus notifiers;
//! - [`pci_error`]: PCI error recovery and function reset callbacks;
//! - [`module_param`]: string module parameters (`module_param_string` in C);
//! - [`module_ref`]: a reference on the module itself, to refuse `rmmod` while it is held;
//! - [`rescan`]: the PCI rescan/remove lock for SR-IOV changes outside `sriov_configure`, and a
//!   workqueue owned by the module;
//! - [`uevent`]: `change` uevents with variables.

pub mod compat;
pub mod device_attr;
pub mod module_param;
pub mod module_ref;
pub mod notifier;
pub mod pci_error;
pub mod pci_sriov;
pub mod rescan;
pub mod uevent;
