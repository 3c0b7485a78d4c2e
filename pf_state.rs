// SPDX-License-Identifier: GPL-2.0

//! The state pf_stub keeps for a bound PF: its policy (count lock and VF token), its VF knobs,
//! the module pin and the pins of its VFs.
//!
//! One object, which is also the handler of the bus notifier that watches the PF's VFs
//! ([`crate::vf_watch`]): that handler must read the lock and the knobs where the PCI core calls
//! it, inside VF adds and driver binds.

use crate::{
    kext::{
        compat,
        module_ref::ModuleRef,
        pci_sriov::SriovRelations, //
    },
    sriov::{
        PfPolicy,
        VfKnobs, //
    },
    vf_pins::VfPins, //
};
use kernel::sync::{
    aref::ARef,
    atomic::{
        Atomic,
        Relaxed, //
    }, //
};
use kernel::{
    new_mutex,
    pci,
    prelude::*,
    sync::Mutex, //
};

/// The state of a bound PF, created at bind and dropped with the driver data after unbind.
#[pin_data]
pub(crate) struct PfState {
    /// The PF.
    pub(crate) pf: ARef<pci::Device>,
    /// The PF's policy, lock and token.
    #[pin]
    pub(crate) policy: PfPolicy,
    /// What happens to VFs as they are created; changed only while the PF has no VFs.
    #[pin]
    pub(crate) knobs: Mutex<VfKnobs>,
    /// Held while the VFs are locked and in use: `rmmod` is refused then.
    #[pin]
    pub(crate) module_pin: Mutex<Option<ModuleRef>>,
    /// Set by [`PfState::detach`] under `module_pin` at the end of the PF's unbind: the state
    /// lives on with the driver data until the driver core drops it (`post_unbind_rust`, after
    /// `remove`), and must not pin the module or refuse VF binds for a PF it no longer drives.
    detached: Atomic<bool>,
    /// The pins of the PF's VFs to the VF driver: reserves and refusals.
    #[pin]
    pub(crate) vf_pins: VfPins,
}

impl PfState {
    /// The state of `pf` at bind: its policy state, VF knobs and module pin.
    pub(crate) fn new(
        pf: ARef<pci::Device>,
        policy: impl PinInit<PfPolicy>,
        knobs: VfKnobs,
        module_pin: Option<ModuleRef>,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            pf,
            policy <- policy,
            knobs <- new_mutex!(knobs),
            module_pin <- new_mutex!(module_pin),
            detached: Atomic::new(false),
            vf_pins <- VfPins::new(),
        })
    }

    /// Takes or drops the module reference to match "locked and in use" now, a VF being in use
    /// from the moment a driver starts probing it (`failed`, whose probe has just failed, is
    /// not). Returns `false` when the reference is wanted and cannot be taken: `rmmod` has
    /// passed its check of the references, and its unbind disables the VFs
    /// ([`crate::shared::unloading`]).
    ///
    /// # Locks
    ///
    /// Takes `module_pin`, a leaf; called in VF driver events (the VF's device lock held) and
    /// under the policy's lock.
    pub(crate) fn update_pin(&self, failed: Option<&pci::Device>) -> bool {
        let mut pin = self.module_pin.lock();
        if self.detached.load(Relaxed) {
            return true;
        }
        let want = self.policy.locked() && self.pf.num_vf_in_use(failed) > 0;
        if want && pin.is_none() {
            let Some(r) = ModuleRef::try_new(compat::this_module()) else {
                return false;
            };
            *pin = Some(r);
            dev_info!(
                self.pf.as_ref(),
                "VFs locked and in use: pf_stub cannot be unloaded until they are unlocked or released\n"
            );
        } else if !want && pin.is_some() {
            *pin = None;
        }
        true
    }

    /// Ends the state's watch at the end of the PF's unbind: drops the module reference and
    /// ignores the VF events that still reach it before the driver data is dropped.
    ///
    /// Without a PF driver nothing but a record of kept VFs may pin the module, and a VF bound
    /// in that window during `rmmod` must not be refused (it would keep pf_stub's
    /// `driver_override`).
    pub(crate) fn detach(&self) {
        let mut pin = self.module_pin.lock();
        self.detached.store(true, Relaxed);
        *pin = None;
    }

    /// Whether [`PfState::detach`] has run: the PF's unbind is over.
    pub(crate) fn is_detached(&self) -> bool {
        self.detached.load(Relaxed)
    }

    /// Updates the module reference after a change of the policy state, under its lock.
    pub(crate) fn policy_changed(&self) {
        if !self.update_pin(None) {
            dev_warn!(
                self.pf.as_ref(),
                "VFs locked and in use while pf_stub is being unloaded: the unload disables them\n"
            );
        }
    }
}
