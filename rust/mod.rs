// SPDX-License-Identifier: GPL-2.0

//! Kernel abstractions that the Rust `kernel` crates of Linux 7.2 and 7.3 do not have yet.
//!
//! Everything `unsafe` in pf_stub lives below this module; the driver files build only on the
//! safe interfaces here. The modules are written against the kernel crate's conventions
//! (`rust/kernel/pci.rs`, `rust/kernel/driver.rs`) so that they can be proposed for it; each
//! file's header names the upstream item it stands in for, whether that is merged, and its
//! future home.
//!
//! Where upstream has inherent methods on a type of the kernel crate (`pci::Device`), these files
//! have extension traits implemented for it, since a module cannot add inherent methods to a
//! foreign type; their methods are `#[inline]` and move there unchanged.
//!
//! The files depend on each other only downward, none on the driver: [`vf_binds`] on
//! [`pci_sriov`] and [`driver_override`], both on [`pci_dev`]; [`rescan`] on [`pci_sriov`];
//! [`pci_driver`] on [`pci_error`], [`device_attr`] and [`compat`].
//!
//! - [`compat`]: the version-neutral forms of the kernel crate APIs that changed between the
//!   Linux versions pf_stub supports (7.2 and 7.3);
//! - [`pci_dev`]: the C `struct pci_dev` behind a [`kernel::pci::Device`];
//! - [`pci_sriov`]: SR-IOV methods on [`kernel::pci::Device`] (`is_physfn`, `is_virtfn`,
//!   `num_vf`, `physfn`, `virtfn`, `enable_sriov`, `disable_sriov`, ...) and a PF's VFs;
//! - [`pci_driver`]: a PCI driver whose driver implements `sriov_configure`, has driver
//!   attributes and error and reset callbacks and takes dynamic IDs, and its registration;
//! - [`driver_override`]: reading and setting a device's `driver_override`;
//! - [`vf_binds`]: stopping the binds of a PF's VFs while its driver decides whether they are in
//!   use;
//! - [`device_attr`]: sysfs attributes on the devices a driver is bound to (`dev_groups`);
//! - [`notifier`]: PCI bus notifiers;
//! - [`pci_error`]: the values of PCI error recovery (channel state, the driver's vote);
//! - [`module_param`]: string module parameters (`module_param_string` in C);
//! - [`module_ref`]: a reference on the module itself, to refuse `rmmod` while it is held;
//! - [`rescan_lock`]: the PCI rescan/remove lock, and the proof that a thread holds it;
//! - [`rescan`]: running an SR-IOV change under that lock from a callback that holds the device
//!   lock, and a workqueue owned by the module;
//! - [`uevent`]: `change` uevents with variables.
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
pub mod rescan_lock;
pub mod uevent;
pub mod vf_binds;
