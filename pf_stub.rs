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
//! attribute groups, module init and the driver's callbacks, each handing over to the module
//! named for its job.

use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    device::Core,
    pci,
    prelude::*, //
};

mod adoption;
mod events;
#[path = "rust/mod.rs"]
pub mod kext;
mod params;
mod pf;
mod recovery;
mod sriov;
mod sysfs;
mod unbind;
mod vf_token;
mod vf_watch;

use adoption::Keeper;
use kext::{
    compat,
    notifier::BusNotifier,
    pci_driver::{
        self,
        DynamicId, //
    },
    pci_error::{
        ChannelState,
        ErsResult, //
    },
};
use params::Config;
use pf::PfStub;

/// The driver name, as used with `driver_override` and in `/sys/bus/pci/drivers/`.
const NAME: &CStr = c"pf_stub";

/// Set when `rmmod` has begun (the module's references were found zero), before the driver is
/// unregistered: its unbinds then cannot keep VFs for an adoption that can never come.
static UNLOADING: AtomicBool = AtomicBool::new(false);

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

/// Driver-wide data: the parsed parameters and the records of kept VFs.
#[pin_data(PinnedDrop)]
pub(crate) struct Shared {
    /// The module parameters.
    config: Config,
    /// Records of kept VFs, and the watcher that removes them with their PF.
    #[pin]
    keeper: BusNotifier<Keeper>,
}

#[pinned_drop]
impl PinnedDrop for Shared {
    fn drop(self: Pin<&mut Self>) {
        // Runs after the driver is unregistered (the registration drops its shared data then)
        // and before the keeper stops listening to the bus (the fields are dropped after this).
        self.keeper().settle_removals();
    }
}

impl Shared {
    /// The keeper of records.
    fn keeper(&self) -> &Keeper {
        self.keeper.handler().get_ref()
    }
}

impl pci_driver::Driver for PfStub {
    type IdInfo = ();
    type Shared = Shared;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;
    const DEV_GROUPS: Option<&'static kext::device_attr::AttributeGroups<Self>> = Some(&DEV_GROUPS);

    // pf_stub never enables bus mastering on the PF nor maps memory for it, so the PF does no
    // DMA while it is bound: its VFs stay usable by vfio when they share the PF's IOMMU group
    // (a platform without ACS). See "Shared IOMMU groups" in Documentation/pf_stub.rst.
    const DRIVER_MANAGED_DMA: bool = true;

    // Recovery of the PF's hierarchy (AER, DPC) and function resets: see `recovery`.
    const ERROR_HANDLERS: bool = true;

    fn error_detected(
        pdev: &pci::Device<Core<'_>>,
        this: Pin<&Self>,
        state: ChannelState,
    ) -> ErsResult {
        recovery::error_detected(pdev, this.get_ref(), state)
    }

    fn slot_reset(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) -> ErsResult {
        recovery::slot_reset(pdev, this.get_ref())
    }

    fn resume(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) {
        recovery::resume(pdev, this.get_ref())
    }

    fn reset_prepare(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) {
        recovery::reset_prepare(pdev, this.get_ref())
    }

    fn reset_done(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) {
        recovery::reset_done(pdev, this.get_ref())
    }

    fn probe(
        pdev: &pci::Device<Core<'_>>,
        shared: Pin<&Shared>,
        _info: Option<&'static ()>,
    ) -> impl PinInit<Self, Error> {
        pf::probe(pdev, shared)
    }

    fn dynamic_ids(shared: &Shared) -> &[DynamicId] {
        shared.config.ids.as_slice()
    }

    fn unbind(pdev: &pci::Device<Core<'_>>, shared: Pin<&Shared>, this: Pin<&Self>) {
        unbind::unbind(pdev, shared, this.get_ref())
    }

    // Locks: the PCI core's `sriov_numvfs_store()` holds the PF's device lock and
    // `pci_rescan_remove_lock`; the policy's lock is taken under both.
    fn sriov_configure(
        pdev: &pci::Device<Core<'_>>,
        this: Pin<&Self>,
        nr_virtfn: u16,
    ) -> Result<u16> {
        this.with_policy(|guard| this.configure(pdev, guard, nr_virtfn))
    }
}

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
        UNLOADING.store(true, Ordering::Release);
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
            for id in config.ids.as_slice() {
                pr_info!(
                    "add {:04X}:{:04X} sub={:04X}:{:04X} cls={:08X}/{:08X}\n",
                    id.vendor,
                    id.device,
                    id.subvendor,
                    id.subdevice,
                    id.class,
                    id.class_mask
                );
            }
            Ok(try_pin_init!(Self {
                driver <- pci_driver::Registration::new(
                    NAME,
                    module,
                    try_pin_init!(Shared {
                        config,
                        keeper <- BusNotifier::new(Keeper::new()),
                    }),
                ),
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
