// SPDX-License-Identifier: GPL-2.0

//! Kernel abstractions that the Rust `kernel` crates of Linux 7.2 and 7.3 do not have yet.
//!
//! Everything `unsafe` in pf_stub lives below this module; the driver files build only on the
//! safe interfaces here. The modules are written against the kernel crate's conventions
//! (`rust/kernel/pci.rs`, `rust/kernel/driver.rs`) so that they can be proposed for it; each
//! file's header names its future home there. Where upstream has inherent methods on a type of
//! the kernel crate (`pci::Device`), these files have extension traits implemented for it, since
//! a module cannot add inherent methods to a foreign type; their methods are `#[inline]`.
//!
//! - [`compat`]: the version-neutral forms of the kernel crate APIs that changed between the
//!   Linux versions pf_stub supports (7.2 and 7.3);
//! - [`pci_sriov`]: SR-IOV methods on [`kernel::pci::Device`] (`is_physfn`, `is_virtfn`,
//!   `num_vf`, `physfn`, `virtfn`, `enable_sriov`, `disable_sriov`, ...) and a PF's VFs;
//! - [`pci_driver`]: a PCI driver whose driver implements `sriov_configure`, has driver
//!   attributes and error handlers and takes dynamic IDs, and its registration;
//! - [`driver_override`]: reading and setting a device's `driver_override`;
//! - [`vf_binds`]: stopping the binds of a PF's VFs while its driver decides whether they are in
//!   use;
//! - [`device_attr`]: sysfs attributes on the devices a driver is bound to (`dev_groups`);
//! - [`notifier`]: PCI bus notifiers;
//! - [`pci_error`]: PCI error recovery and function reset callbacks;
//! - [`module_param`]: string module parameters (`module_param_string` in C);
//! - [`module_ref`]: a reference on the module itself, to refuse `rmmod` while it is held;
//! - [`rescan`]: the PCI rescan/remove lock for SR-IOV changes outside `sriov_configure`, and a
//!   workqueue owned by the module;
//! - [`uevent`]: `change` uevents with variables.
//!
//! Future home: the kernel crate, file by file as each header says; [`compat`] goes away.
//!
//! The macros ([`crate::device_attribute_groups`], [`crate::module_param_string`]) name these
//! modules as `$crate::kext::...`, the mount point of `pf_stub.rs`; a crate that mounts this
//! directory elsewhere passes its path first (`in crate::path::to::kext;`).

pub mod compat;
pub mod device_attr;
pub mod driver_override;
pub mod module_param;
pub mod module_ref;
pub mod notifier;
pub mod pci_dev;
pub mod pci_driver;
pub mod pci_error;
pub mod pci_sriov;
pub mod rescan;
pub mod uevent;
pub mod vf_binds;
