// SPDX-License-Identifier: GPL-2.0

//! pf_stub: a PCI driver for SR-IOV Physical Functions that have no driver of their own.
//!
//! It binds to the PFs an administrator names (the built-in ID table, the `ids=` parameter,
//! `new_id` or `driver_override`, optionally narrowed by `addrs=`), touches nothing on the
//! device, and implements `sriov_configure` so that writing `sriov_numvfs` creates and removes
//! Virtual Functions, under the policy of [`sriov`]: a VF count locked once set, VFs pinned to a
//! VF driver (vfio-pci) by default, and a VF token needed to unlock a PF whose VFs are in use.
//!
//! This file is the table of contents: the modules, the parameters, the ID table, the
//! attribute groups and the module, which registers the driver of [`driver`].

use kernel::{
    pci,
    prelude::*, //
};

mod adoption;
mod driver;
mod events;
#[path = "rust/mod.rs"]
pub mod kext;
mod params;
mod pf;
mod pf_state;
mod probe;
mod recovery;
mod shared;
mod sriov;
mod sysfs;
mod unbind;
mod vf_pins;
mod vf_token;
mod vf_watch;

use kext::{
    compat,
    pci_driver, //
};
use params::Config;
use pf::PfStub;
use shared::Shared;

crate::module_param_string!(
    ids,
    1024,
    "Comma-separated vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] hex IDs to bind, as pci-stub's ids="
);
crate::module_param_string!(
    addrs,
    1024,
    "Comma-separated PCI addresses [domain:]bus:dev.fn[@num_vfs]: bind only these PFs; @N enables N VFs at bind"
);
crate::module_param_string!(
    policy,
    16,
    "Default sriov_policy of each PF: locked (default) or simple"
);
crate::module_param_string!(
    vf_driver,
    32,
    "Default sriov_vf_driver: the driver new VFs are pinned to when VF autoprobe is off (default vfio-pci)"
);

crate::pci_id_table!(
    PCI_TABLE,
    [
        // Amazon's PF whose only function is SR-IOV, as in pci-pf-stub.c.
        pci::DeviceId::from_id(pci::Vendor::AMAZON, 0x0053),
    ]
);

crate::device_attribute_groups!(
    DEV_GROUPS,
    PfStub,
    [
        (c"sriov_policy", 0o644, sysfs::PolicyAttr),
        (c"sriov_lock", 0o644, sysfs::LockAttr),
        (c"sriov_vf_token", 0o644, sysfs::TokenAttr),
        (c"sriov_vf_autoprobe", 0o644, sysfs::AutoprobeAttr),
        (c"sriov_vf_driver", 0o644, sysfs::VfDriverAttr),
    ]
);

/// The module: the registered driver.
#[pin_data(PinnedDrop)]
struct PfStubModule {
    /// The driver, registered for the module's lifetime.
    #[pin]
    driver: pci_driver::Registration<PfStub>,
}

#[pinned_drop]
impl PinnedDrop for PfStubModule {
    fn drop(self: Pin<&mut Self>) {
        // Runs before the driver is unregistered (the fields are dropped after this).
        shared::set_unloading();
    }
}

impl kernel::InPlaceModule for PfStubModule {
    fn init(module: &'static kernel::ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let config = Config::parse(&params::Raw {
                ids: ids.value(),
                addrs: addrs.value(),
                policy: policy.value(),
                vf_driver: vf_driver.value(),
                vf_autoprobe: compat::param_value(&module_parameters::vf_autoprobe),
                num_vfs: compat::param_value(&module_parameters::num_vfs),
            })?;
            config.log_ids();
            Ok(try_pin_init!(Self {
                driver <- pci_driver::Registration::new(compat::MODULE_NAME, module, Shared::new(config)),
            }))
        })
    }
}

module! {
    type: PfStubModule,
    name: "pf_stub",
    authors: ["The pf_stub developers"],
    description: "SR-IOV PF stub driver with a VF policy (Rust)",
    license: "GPL",
    params: {
        num_vfs: u16 {
            default: 0,
            description: "VFs to enable on each PF at bind (capped at sriov_totalvfs), then locked under the locked policy",
        },
        vf_autoprobe: u8 {
            default: 0,
            description: "Default sriov_vf_autoprobe: 0 pins new VFs to vf_driver with driver_override (default), 1 lets them probe normally",
        },
    },
}
