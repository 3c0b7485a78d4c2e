// SPDX-License-Identifier: GPL-2.0

//! The VF watcher: a PCI bus notifier per bound PF that pins the PF's new VFs to the VF driver
//! and keeps the module referenced (`rmmod` refused) while the PF's VFs are locked and in use.
//!
//! It holds the PF's policy state too, since it must read the lock where it runs: inside the
//! PCI core's VF adds and driver binds, which happen while a VF change holds the policy's lock.

use crate::{
    kext::{
        compat,
        driver_override::DriverOverride,
        module_ref::ModuleRef,
        notifier::{
            BusEvent,
            BusNotify, //
        },
        pci_sriov::SriovRelations, //
    },
    sriov::{
        PfPolicy,
        VfKnobs, //
    },
};
use kernel::{
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        new_mutex,
        Mutex, //
    },
};

/// Watches the PCI bus for this PF's VFs.
#[pin_data]
pub(crate) struct VfWatch {
    /// The PF whose VFs are watched.
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
    /// Set by [`VfWatch::detach`] under `module_pin` at the end of the PF's unbind: the watcher
    /// lives on with the driver data until the driver core drops it (`post_unbind_rust`, after
    /// `remove`), and must not pin the module or refuse VF binds for a PF it no longer drives.
    detached: Atomic<bool>,
}

impl VfWatch {
    /// A watcher of `pf`'s VFs, with its policy state and VF knobs at bind.
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

    /// Ends the watch at the end of the PF's unbind: drops the module reference and ignores the
    /// VF events that still reach the watcher before the driver data is dropped.
    ///
    /// Without a PF driver nothing but a record of kept VFs may pin the module, and a VF bound
    /// in that window during `rmmod` must not be refused (it would keep pf_stub's
    /// `driver_override`).
    pub(crate) fn detach(&self) {
        let mut pin = self.module_pin.lock();
        self.detached.store(true, Relaxed);
        *pin = None;
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

    /// A driver is about to probe `vf` of a locked PF while `rmmod` is disabling the VFs: the
    /// probe is refused, so that no bind succeeds only to be torn down. The VF's
    /// `driver_override` is set to pf_stub, which the PCI core matches again before the probe
    /// and which binds no VF; the VF goes with the others, or gets its override back from the
    /// unbind's `stop_vf_binds` if it stays.
    fn refuse_bind(&self, vf: &pci::Device) {
        match vf.set_driver_override(compat::MODULE_NAME.to_bytes()) {
            Ok(()) => dev_warn!(
                vf.as_ref(),
                "refusing a driver for this VF: its PF's VFs are locked and pf_stub is being unloaded, which disables them\n"
            ),
            Err(e) => dev_err!(
                vf.as_ref(),
                "could not refuse a driver for this VF while pf_stub is being unloaded: {:?}\n",
                e
            ),
        }
    }
}

impl BusNotify for VfWatch {
    /// Pins a new VF of this PF to the VF driver, and keeps the module reference in step with
    /// the VFs' binds.
    ///
    /// # Locks
    ///
    /// Called from the PCI bus notifier chain (`bus_notify()`), with the VF's device lock held
    /// for the driver events; never takes the policy's lock (see the module comment).
    fn notify(self: Pin<&Self>, event: BusEvent, dev: &pci::Device) {
        // `detached` is written under `module_pin`, which `update_pin` reads it under again.
        if self.detached.load(Relaxed) || !dev.is_vf_of(&self.pf) {
            return;
        }
        match event {
            BusEvent::AddDevice => {
                let knobs = *self.knobs.lock();
                if knobs.autoprobe {
                    return;
                }
                if let Err(e) = dev.set_driver_override(knobs.driver.as_bytes()) {
                    dev_err!(
                        dev.as_ref(),
                        "could not set driver_override of the new VF: {:?}\n",
                        e
                    );
                }
            }
            BusEvent::BindDriver => {
                if !self.update_pin(None) {
                    self.refuse_bind(dev);
                }
            }
            BusEvent::BoundDriver | BusEvent::UnboundDriver => {
                self.update_pin(None);
            }
            BusEvent::DriverNotBound => {
                self.update_pin(Some(dev));
            }
            BusEvent::DelDevice => {}
        }
    }
}
