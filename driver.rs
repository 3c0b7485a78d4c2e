// SPDX-License-Identifier: GPL-2.0

//! The PCI driver: pf_stub's callbacks, each handing over to the file named for its job.

use crate::{
    kext::{
        device_attr::AttributeGroups,
        pci_driver::{
            self,
            DynamicId, //
        },
        pci_error::{
            ChannelState,
            ErsResult, //
        },
        rescan_lock::RescanLocked,
    },
    pf::{
        self,
        PfStub, //
    },
    recovery,
    shared::Shared,
    unbind, //
};
use kernel::{
    device::Core,
    pci,
    prelude::*, //
};

impl pci_driver::Driver for PfStub {
    type IdInfo = ();
    type Shared = Shared;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &crate::PCI_TABLE;
    const DEV_GROUPS: Option<&'static AttributeGroups<Self>> = Some(&crate::DEV_GROUPS);

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

    /// Changes the PF's VF count under its policy.
    ///
    /// # Locks
    ///
    /// The PCI core's `sriov_numvfs_store()` holds the PF's device lock and
    /// `pci_rescan_remove_lock`; the policy's lock is taken under both.
    fn sriov_configure(
        pdev: &pci::Device<Core<'_>>,
        this: Pin<&Self>,
        nr_virtfn: u16,
        locked: &RescanLocked<'_>,
    ) -> Result<u16> {
        this.with_policy(|guard| this.configure(pdev, guard, nr_virtfn, locked))
    }
}
