// SPDX-License-Identifier: GPL-2.0

//! Kept VFs: the records of PFs whose locked, in-use VFs outlive an unbind, and what happens to
//! those VFs when their PF is removed from the system.
//!
//! A record is made at unbind and taken back by the next bind of the same PF (adoption). It is
//! dropped, with its token and its module reference, when
//! - its PF is removed (`remove`, hotplug, eject): the VFs are removed too, since nothing can
//!   manage VFs whose PF is gone, and the PCI core does not remove them itself when it removes a
//!   PF that has no driver;
//! - its kept VFs are all released (no driver bound to any of them): nothing needs the lock
//!   any more, and `rmmod` works again;
//! - the next bind finds that SR-IOV was disabled or enabled again on the PF in between (its
//!   VF devices are new): the record would govern VFs it never protected.
//!
//! Every bound PF reserves a slot at bind, so an unbind never fails to store its record.
//!
//! # Locks
//!
//! `records` is a leaf lock, taken in driver callbacks (device lock held) and in the PCI
//! bus notifier; nothing that adds, removes or binds a device runs while it is held. The
//! removal of kept VFs runs on [`Keeper::queue`], which takes `pci_rescan_remove_lock` once
//! the removal of their PF has released it.

use crate::{
    kext::{
        compat,
        driver_override::{
            DriverOverride,
            OverrideName, //
        },
        module_ref::ModuleRef,
        notifier::{
            BusEvent,
            BusNotify, //
        },
        pci_sriov::{
            SriovCore,
            SriovDevice,
            SriovRelations, //
        },
        rescan::OwnedQueue,
        rescan_lock::RescanRemoveLock,
    },
    sriov::{
        self,
        Policy,
        VfKnobs, //
    },
    vf_token::VfToken, //
};
use kernel::{
    device::Core,
    new_mutex, pci,
    prelude::*,
    sync::{
        aref::ARef,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
};

mod store;
#[cfg(CONFIG_KUNIT = "y")]
mod tests;

pub(crate) use store::Store;

/// What a PF whose locked, in-use VFs outlive an unbind leaves behind, to be adopted.
pub(crate) struct Kept {
    /// The PF's `driver_override` before pf_stub set it to hold the PF, to be set again when the
    /// hold ends; `None` when no hold was taken.
    pub(crate) held: Option<Option<OverrideName>>,
    /// VF 0 as it was at unbind: if SR-IOV is disabled and enabled again, VF 0 is a new device.
    pub(crate) vf0: Option<ARef<pci::Device>>,
    /// The VF count at unbind.
    pub(crate) num_vf: u16,
    /// The PF's policy.
    pub(crate) policy: Policy,
    /// The PF's VF token (wiped when dropped).
    pub(crate) token: Option<VfToken>,
    /// The PF's VF knobs.
    pub(crate) knobs: VfKnobs,
    /// Keeps `rmmod` refused while the kept VFs are in use.
    pub(crate) module_pin: Option<ModuleRef>,
}

/// Why a record exists.
enum Why {
    /// Locked, in-use VFs left in place at unbind, to be adopted.
    Kept(Kept),
    /// The PF is being removed (its unbind ran in the removal): remove its VFs once it is deleted.
    Removing,
}

/// The records, each identified by the PF's device (not its name: a PF removed and found again
/// is a new device, and names are not unique keys across PCI domains).
type Records = Store<ARef<pci::Device>, Why>;

/// The driver-wide keeper of records: a PCI bus notifier handler.
#[pin_data]
pub(crate) struct Keeper {
    /// Where VF removals, and waits for `pci_rescan_remove_lock`, run; destroyed (and waited for)
    /// after the driver is unregistered.
    pub(crate) queue: OwnedQueue,
    #[pin]
    records: Mutex<Records>,
}

/// What [`Keeper::adopt`] found.
pub(crate) enum Adoption {
    /// No record of this PF.
    None,
    /// A record that no longer matches the PF's VFs: dropped.
    Stale,
    /// The record, taken.
    Adopt(Kept),
    /// The PF is being removed, its VFs waiting for its deletion: a bind now (during the
    /// removal) would take over VFs that are about to go; the record stays.
    Removing,
}

impl Keeper {
    /// A keeper with no records.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            queue: OwnedQueue::new(c"pf_stub")?,
            records <- new_mutex!(Records::new()),
        })
    }

    /// Called at bind: reserves the slot an unbind of `pf` may fill, then takes `pf`'s record
    /// if it still describes the PF's VFs.
    pub(crate) fn bind(&self, pf: &pci::Device) -> Result<Adoption> {
        let rec = {
            let mut records = self.records.lock();
            // A removal never puts its PF back on the bus: a PF on it again was unbound in the
            // moment between its first probe and `pci_bus_add_device()` marking it added, and
            // its record is stale (taken below).
            if records.any(|k, why| is(k, pf) && matches!(why, Why::Removing)) && !pf.is_added() {
                return Ok(Adoption::Removing);
            }
            records.bind(|k| is(k, pf))?
        };
        let Some((_, why)) = rec else {
            return Ok(Adoption::None);
        };
        Ok(match why {
            Why::Kept(k) if still_valid(&k, pf) => Adoption::Adopt(k),
            Why::Kept(mut k) => {
                release_hold(pf, k.held.take());
                Adoption::Stale
            }
            Why::Removing => Adoption::Stale,
        })
    }

    /// Called at every unbind: gives the slot back, storing `why` in it if given.
    fn unbind(&self, pf: &pci::Device, why: Option<Why>) {
        let r = self
            .records
            .lock()
            .unbind(why.map(|why| (ARef::from(pf), why)));
        if r.is_err() {
            // The slot was reserved at bind; only an unbind without a bind gets here.
            dev_err!(
                pf.as_ref(),
                "no slot reserved for this PF's record: record lost\n"
            );
        }
    }

    /// Unbind without a record.
    pub(crate) fn unbound(&self, pf: &pci::Device) {
        self.unbind(pf, None);
    }

    /// Unbind leaving `kept` to be adopted. The caller decided to keep the VFs because one was
    /// in use; if all of them were released since, the record is dropped at once, as
    /// [`Keeper::drop_released`] would have done had the record been there.
    pub(crate) fn keep(&self, pf: &pci::Device, kept: Kept) {
        self.unbind(pf, Some(Why::Kept(kept)));
        self.drop_released(|k| is(k, pf), None);
    }

    /// Unbind of a PF being removed: a bind is refused until it is deleted, and then its VFs
    /// left, if any, are removed.
    pub(crate) fn removing(&self, pf: &pci::Device) {
        self.unbind(pf, Some(Why::Removing));
    }

    /// `pf` is being deleted: drops its record and, if it had one, removes its VFs from the
    /// queue (the remover holds `pci_rescan_remove_lock` and is inside the bus notifier chain
    /// here, where removing devices would nest the chain).
    fn pf_deleted(&self, pf: &pci::Device) {
        let rec = self.records.lock().take(|k, _| is(k, pf));
        let Some((rec_pf, why)) = rec else { return };
        let n = pf.num_vf_devices();
        match &why {
            Why::Kept(k) => dev_warn!(
                pf.as_ref(),
                "PF removed with {} kept VFs: removing them with it; their lock{} dropped\n",
                k.num_vf,
                if k.token.is_some() {
                    " and VF token"
                } else {
                    ""
                }
            ),
            Why::Removing if n > 0 => {
                dev_warn!(pf.as_ref(), "PF removed: removing its {} VFs with it\n", n)
            }
            Why::Removing => {}
        }
        // The token is wiped and the module reference dropped here.
        let pf = rec_pf;
        drop(why);
        if n == 0 {
            return;
        }
        let worker_pf = pf.clone();
        let queued = self.queue.try_spawn(GFP_KERNEL, move || {
            let removed = worker_pf.remove_vf_devices();
            dev_info!(
                worker_pf.as_ref(),
                "removed {} VFs left by the removed PF\n",
                removed
            );
        });
        if queued.is_err() {
            dev_err!(
                pf.as_ref(),
                "out of memory: {} VFs of the removed PF stay; remove them with 'echo 1 > remove'\n",
                n
            );
        }
    }

    /// Called at unload, after the driver is unregistered and before the keeper stops listening
    /// to the bus: waits for the removals whose unbind left a [`Why::Removing`] record to delete
    /// their PF, so that [`Keeper::pf_deleted`] still sees the deletion and queues the removal of
    /// the VFs (which dropping [`Keeper::queue`] then waits for). A removal's unbind can end, and
    /// `rmmod` with it, before that removal deletes the PF: without this wait the VFs of the
    /// removed PF would stay, named like the VFs of the PF a rescan finds again.
    ///
    /// Locks: every removal but one holds `pci_rescan_remove_lock` from before it unbinds the PF
    /// until after it has deleted it (`drivers/pci/remove.c` asserts it), so taking that lock
    /// once is the wait. The exception, `vmd_remove()` (`drivers/pci/controller/vmd.c`), stops
    /// and removes its whole bus without the lock, deleting the PF just after its unbind: it gets
    /// up to a second. The caller holds no device lock (the driver is unregistered: no callback
    /// of it runs) and `records` is released before each wait: the core's order, as for
    /// `sriov_numvfs` writes. The wait for the lock is uninterruptible, as every rescan's: a
    /// removal that waits for a VF's user (vfio-pci) holds `rmmod` with it.
    pub(crate) fn settle_removals(&self) {
        if !self.removals_pending() {
            return;
        }
        drop(RescanRemoveLock::lock());
        for _ in 0..100 {
            if !self.removals_pending() {
                return;
            }
            fsleep(Delta::from_millis(10));
        }
        // No deletion came: the PF was unbound while it was not added yet (the enumeration's
        // bind, before `pci_bus_add_device()` marks it added), or its removal is stuck.
        loop {
            let rec = self
                .records
                .lock()
                .take(|_, why| matches!(why, Why::Removing));
            let Some((pf, _)) = rec else { break };
            dev_warn!(
                pf.as_ref(),
                "pf_stub unloaded before this PF, unbound as removed, was deleted: its VFs stay; remove them with 'echo 1 > remove'\n"
            );
        }
    }

    /// Whether a [`Why::Removing`] record waits for its PF's deletion.
    fn removals_pending(&self) -> bool {
        self.records
            .lock()
            .any(|_, why| matches!(why, Why::Removing))
    }

    /// A VF lost its driver, or `failed` (a VF) failed its probe: when none of the VFs of the
    /// kept PF that `is_pf` accepts is in use any more, the record (lock, token, module
    /// reference) has nothing left to protect, and is dropped.
    fn drop_released(&self, is_pf: impl Fn(&pci::Device) -> bool, failed: Option<&pci::Device>) {
        let rec = self
            .records
            .lock()
            .take(|k, why| matches!(why, Why::Kept(_)) && is_pf(k) && k.num_vf_in_use(failed) == 0);
        let Some((pf, mut why)) = rec else { return };
        if let Why::Kept(k) = &mut why {
            release_hold(&pf, k.held.take());
        }
        dev_info!(
            pf.as_ref(),
            "the kept VFs were all released: dropping their lock and token; pf_stub can be unloaded\n"
        );
    }
}

/// Whether the kept VFs of `pf` still work in hardware: VF Enable set in its SR-IOV Control
/// register. A bus reset while the PF had no driver (error recovery of its hierarchy) clears it
/// and nobody restores it; this restores the PF's configuration from the PCI core's copy
/// (`pci_restore_state()` brings VF Enable back with the same count) and checks again. `false`
/// (logged) when the VFs stay dead: they must not be adopted as if they worked.
///
/// # Locks
///
/// The PF's device lock (`Core`), at bind.
pub(crate) fn vfs_alive(pf: &pci::Device<Core<'_>>, num_vf: u16) -> bool {
    if pf.vf_enable_in_hw() != Some(false) {
        return true;
    }
    pf.restore_state();
    if pf.vf_enable_in_hw() == Some(true) {
        dev_warn!(
            pf.as_ref(),
            "VF Enable was clear (a reset while the PF had no driver): restored the PF's configuration and its {} VFs\n",
            num_vf
        );
        return true;
    }
    dev_err!(
        pf.as_ref(),
        "not adopting the {} kept VFs: VF Enable is clear in hardware and could not be restored; disable and enable them again\n",
        num_vf
    );
    false
}

/// Ends pf_stub's hold on `pf`: sets its `driver_override` back to what it was before the hold,
/// unless the administrator changed it meanwhile.
pub(crate) fn release_hold(pf: &pci::Device, held: Option<Option<OverrideName>>) {
    let Some(before) = held else { return };
    let ours = matches!(pf.driver_override(), Ok(Some(n)) if n.as_bytes() == compat::MODULE_NAME.to_bytes());
    if !ours {
        return;
    }
    let r = match before {
        Some(name) => pf.set_driver_override(name.as_bytes()),
        None => pf.clear_driver_override(),
    };
    if r.is_err() {
        dev_warn!(
            pf.as_ref(),
            "could not restore driver_override after holding the PF\n"
        );
    }
}

/// Whether `a` and `b` are the same device.
fn is(a: &pci::Device, b: &pci::Device) -> bool {
    core::ptr::eq(a, b)
}

/// Whether `kept` still describes `pf`'s VFs: the same count, and the same VF 0 device (SR-IOV
/// was not disabled and enabled again in between, by another driver or by hand).
fn still_valid(kept: &Kept, pf: &pci::Device) -> bool {
    let same_vf0 = match (&kept.vf0, pf.virtfn(0)) {
        (Some(a), Some(b)) => is(a, &b),
        _ => false,
    };
    sriov::adoptable(kept.num_vf, pf.num_vf(), same_vf0)
}

impl BusNotify for Keeper {
    fn notify(self: Pin<&Self>, event: BusEvent, dev: &pci::Device) {
        match event {
            // Also after the deletion: a bind that got in between the removal's start and the
            // deletion (a PF without a driver then) is unbound after `DelDevice`, and its
            // unbind leaves a record of the removal that must not outlive the PF.
            BusEvent::DelDevice | BusEvent::RemovedDevice if dev.is_physfn() => {
                self.pf_deleted(dev)
            }
            BusEvent::UnboundDriver if dev.is_virtfn() => {
                self.drop_released(|pf| dev.is_vf_of(pf), None)
            }
            BusEvent::DriverNotBound if dev.is_virtfn() => {
                self.drop_released(|pf| dev.is_vf_of(pf), Some(dev))
            }
            _ => {}
        }
    }
}
