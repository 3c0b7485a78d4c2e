// SPDX-License-Identifier: GPL-2.0

//! Unbinding pf_stub from a PF: what becomes of its VFs (disabled, kept for an adoption, left
//! to a guest, or removed with the PF), decided by [`sriov::on_unbind`] with VF binds stopped.

use crate::{
    adoption::{
        Keeper,
        Kept, //
    },
    events::Event,
    kext::{
        compat,
        driver_override::DriverOverride,
        module_ref::ModuleRef,
        pci_sriov::{
            SriovCore,
            SriovDevice,
            SriovRelations, //
        },
        rescan::run_locked,
        rescan_lock::RescanLocked,
        vf_binds::{
            StoppedVfBinds,
            VfBinds, //
        },
    },
    pf::PfStub,
    pf_state::PfState,
    shared::{
        self,
        Shared, //
    },
    sriov::{
        self,
        DriverName,
        PolicyGuard,
        UnbindAction,
        UnbindFacts, //
    },
};
use kernel::{
    device::Core,
    pci,
    prelude::*, //
};

/// Unbinds pf_stub from `pdev`, whose driver data is `this`: gathers the facts with VF binds
/// stopped, asks [`sriov::on_unbind`], and carries out its answer.
///
/// # Locks
///
/// The driver core holds the PF's device lock. In a removal the remover also holds
/// `pci_rescan_remove_lock` and has cleared `PCI_DEV_ADDED` before asking for the device lock;
/// in a plain unbind (sysfs `unbind`, `rmmod`) nobody does, and a removal may start at any time:
/// see `kext::rescan`. The policy's lock is taken after the device lock, as in
/// `sriov_configure`. Stopping VF binds takes each VF's device lock in turn under these two (the
/// PCI core's order: a PF's lock, then its VFs'), while holding neither `module_pin` nor the
/// keeper's records, which VF driver events take under the VF's lock.
pub(crate) fn unbind(pdev: &pci::Device<Core<'_>>, shared: Pin<&Shared>, this: &PfStub) {
    let keeper = shared.keeper();
    let mut lock = this.policy().lock();
    let mut guard = lock.guard();
    let state = this.state();
    let mut found = Found::gather(pdev, state, guard.locked());
    let facts = &found.facts;
    match sriov::on_unbind(facts) {
        UnbindAction::Nothing => keeper.unbound(pdev),
        UnbindAction::Remove => {
            if facts.current > 0 {
                dev_warn!(
                    pdev,
                    "PF removed with {} VFs ({} in use{}): they are removed with it\n",
                    facts.current,
                    facts.in_use,
                    if facts.locked { ", locked" } else { "" }
                );
                Event::Removed.send(pdev);
            }
            // The VFs go whatever their use: their unbinds must not pin the module again.
            state.detach();
            // Off the bus from the start: this is the remover's own unbind, unless `rmmod`'s
            // detach took the device lock after the remover cleared the flag.
            let lock = if shared::unloading() {
                None
            } else {
                pdev.rescan_locked_unadded()
            };
            remove_vfs(pdev, keeper, facts.current, lock);
        }
        UnbindAction::Disable => disable_vfs(pdev, keeper, facts),
        UnbindAction::Keep => {
            dev_warn!(
                pdev,
                "unbind: leaving {} VFs enabled: {} assigned to a guest\n",
                facts.current,
                facts.assigned
            );
            keeper.unbound(pdev);
        }
        UnbindAction::KeepLocked => {
            let record_pin = found.record_pin.take();
            keep_locked_vfs(pdev, keeper, state, &mut guard, facts, record_pin);
        }
    }
    // The VFs are kept (recorded) or gone: they may bind again.
    drop(found.stopped);
    // The PF's state goes with the driver data, which the driver core drops after this returns.
    state.detach();
}

/// What unbind found on the PF, and what it holds until its VFs are kept or gone.
struct Found {
    /// The facts [`sriov::on_unbind`] decides on.
    facts: UnbindFacts,
    /// VF binds stopped (and the probes in flight ended) while the VFs in use are counted.
    stopped: Option<StoppedVfBinds>,
    /// The module pin a record of kept VFs would hold: locked VFs in use only.
    record_pin: Option<ModuleRef>,
}

impl Found {
    /// Gathers the facts of unbinding `pdev`, whose state is `state`, under the lock state
    /// `locked`.
    ///
    /// # Locks
    ///
    /// Those of [`unbind`]: the PF's device lock and the policy's lock.
    fn gather(pdev: &pci::Device<Core<'_>>, state: &PfState, locked: bool) -> Self {
        let current = pdev.num_vf();
        // "In use" is decided with VF binds stopped and the probes in flight ended: a VF bound
        // after a mere look would be torn down despite the lock. The VFs can bind again once
        // `stopped` is dropped, when they are kept or gone. A PF being removed takes its VFs
        // whatever their use.
        let stopped = if current > 0 && pdev.is_added() {
            stop_vf_binds(pdev, state)
        } else {
            None
        };
        let in_use = stopped
            .as_ref()
            .map_or_else(|| pdev.num_vf_in_use(None), StoppedVfBinds::bound);
        let assigned = pdev.vfs_assigned();
        let removing = !pdev.is_added();
        // Kept VFs pin the module through their record. Once `rmmod` has passed its check of the
        // references no pin can be taken, and its unbind (this one, or one about to run) must
        // not keep VFs for an adoption that can never come.
        let locked_in_use = locked && in_use > 0;
        let record_pin = if locked_in_use {
            let pin = state.module_pin.lock().take();
            pin.or_else(|| ModuleRef::try_new(compat::this_module()))
        } else {
            None
        };
        let unloading = shared::unloading() || (locked_in_use && record_pin.is_none());
        let facts = UnbindFacts {
            removing,
            unloading,
            current,
            assigned,
            in_use,
            locked,
        };
        Self {
            facts,
            stopped,
            record_pin,
        }
    }
}

/// Stops the binds of the VFs of `pdev` to any driver but pf_stub's own and the one VFs are
/// pinned to; `None` (logged) when they cannot be stopped.
fn stop_vf_binds(pdev: &pci::Device<Core<'_>>, state: &PfState) -> Option<StoppedVfBinds> {
    let knobs = *state.knobs.lock();
    let pinned_to = (!knobs.autoprobe).then_some(knobs.driver);
    match pdev.stop_vf_binds(
        compat::MODULE_NAME,
        pinned_to.as_ref().map(DriverName::as_bytes),
    ) {
        Ok(s) => Some(s),
        Err(e) => {
            dev_warn!(
                pdev,
                "unbind: could not stop VF binds ({:?}): deciding on the VFs in use now; a VF bound meanwhile may be disabled\n",
                e
            );
            None
        }
    }
}

/// Disables the VFs at unbind; removes them instead when the PF turns out to be being removed.
///
/// # Locks
///
/// Those of [`unbind`]; `pci_rescan_remove_lock` is taken here.
fn disable_vfs(pdev: &pci::Device<Core<'_>>, keeper: &Keeper, facts: &UnbindFacts) {
    let current = facts.current;
    if facts.locked_in_use() {
        dev_warn!(
            pdev,
            "unbind: pf_stub is being unloaded: disabling {} locked VFs, {} in use\n",
            current,
            facts.in_use
        );
    }
    match run_locked(&keeper.queue, pdev, |cx| {
        cx.pdev().disable_sriov(cx.locked())
    }) {
        Ok(()) => {
            dev_info!(pdev, "unbind: disabled {} VFs\n", current);
            Event::Disabled.send(pdev);
            keeper.unbound(pdev);
        }
        Err(e) if e == ENODEV => {
            dev_warn!(
                pdev,
                "unbind: the PF is being removed: its {} VFs are removed with it\n",
                current
            );
            // The removal began during this unbind: its remover holds the lock and waits for
            // this device lock.
            remove_vfs(pdev, keeper, current, None);
        }
        Err(e) => {
            dev_err!(
                pdev,
                "unbind: could not disable {} VFs ({:?}): leaving them enabled\n",
                current,
                e
            );
            keeper.unbound(pdev);
        }
    }
}

/// Leaves the locked VFs in use in place and records the PF's lock, token and knobs for the
/// next bind to adopt, the record holding `record_pin`.
///
/// # Locks
///
/// Those of [`unbind`].
fn keep_locked_vfs(
    pdev: &pci::Device<Core<'_>>,
    keeper: &Keeper,
    state: &PfState,
    guard: &mut PolicyGuard<'_>,
    facts: &UnbindFacts,
    record_pin: Option<ModuleRef>,
) {
    // Hold the PF for pf_stub until the adoption, so that no other driver (its native driver
    // through `ids=`, `new_id`, coldplug) binds it and tears the VFs down.
    let held = match pdev.driver_override() {
        Ok(before) => pdev
            .set_driver_override(compat::MODULE_NAME.to_bytes())
            .ok()
            .map(|()| before),
        Err(_) => None,
    };
    if held.is_none() {
        dev_warn!(
            pdev,
            "unbind: could not hold the PF for pf_stub with driver_override\n"
        );
    }
    keeper.keep(
        pdev,
        Kept {
            held,
            vf0: pdev.virtfn(0),
            num_vf: facts.current,
            policy: guard.policy(),
            token: guard.take_token(),
            knobs: *state.knobs.lock(),
            module_pin: record_pin,
        },
    );
    dev_info!(
        pdev,
        "unbind: leaving {} locked VFs in place ({} in use), the PF held for pf_stub; bind pf_stub again to adopt them\n",
        facts.current,
        facts.in_use
    );
    Event::Orphaned.send(pdev);
}

/// Removes the VFs of `pdev`, which is being removed from the system, before its removal
/// deletes it, as a native PF driver's `remove` does (`pci_disable_sriov()`): `remove` returns
/// with no VF of the PF left, and a rescan cannot find the PF again while its old VFs hold the
/// names of the new ones. A VF's removal waits for its driver to let go (vfio-pci waits for its
/// user).
///
/// Without `lock` (an unbind that is not the remover's: the remover holds the lock and waits
/// for this device lock), the keeper removes the VFs once the PF is deleted and the lock
/// released, and enables refuse their names meanwhile ([`crate::sriov::Refusal::LeftoverVf`]).
/// Either way the keeper holds a record of the removal until the PF is deleted, with or without
/// VFs: a bind in between (an orchestrator's answer to the unbind uevent) is refused.
///
/// # Locks
///
/// The PF's device lock and the policy's lock; the rescan/remove lock (`lock`), by the remover.
fn remove_vfs(
    pdev: &pci::Device<Core<'_>>,
    keeper: &Keeper,
    current: u16,
    lock: Option<RescanLocked<'_>>,
) {
    match lock {
        Some(locked) => {
            if current > 0 {
                pdev.disable_sriov(&locked);
                dev_info!(pdev, "removed its {} VFs\n", current);
            }
            // Until the PF is deleted, a bind inside its removal is refused.
            keeper.removing(pdev);
        }
        None => {
            if current > 0 {
                dev_warn!(
                    pdev,
                    "this unbind does not hold the removal's lock: the {} VFs are removed once the PF is deleted\n",
                    current
                );
            }
            keeper.removing(pdev);
        }
    }
}
