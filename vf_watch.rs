// SPDX-License-Identifier: GPL-2.0

//! The VF watcher: a PCI bus notifier per bound PF that pins the PF's new VFs to the VF driver
//! and keeps the module referenced (`rmmod` refused) while the PF's VFs are locked and in use.
//!
//! It holds the PF's policy state too, since it must read the lock where it runs: inside the
//! PCI core's VF adds and driver binds, which happen while a VF change holds the policy's lock.

use crate::{
    kext::{
        compat,
        driver_override::{
            DriverOverride,
            OverrideName,
            OverrideReserve, //
        },
        module_ref::ModuleRef,
        notifier::{
            BusEvent,
            BusNotify, //
        },
        pci_sriov::SriovRelations, //
    },
    sriov::{
        DriverName,
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

/// How many override buffers a watcher keeps allocated ahead for the pins of new VFs.
const RESERVES: usize = 2;

/// How many VF binds refused during `rmmod` a watcher remembers at once (one per VF probing at the
/// same time).
const REFUSALS: usize = 4;

/// A VF bind refused by [`VfWatch::refuse_bind`], its probe not yet over.
#[derive(Clone, Copy)]
struct Refused {
    /// The VF, by the address of its `struct pci_dev` (compared only, never dereferenced).
    vf: usize,
    /// The VF's `driver_override` before the refusal (the admin's, or none).
    before: Option<OverrideName>,
}

/// The key of `vf` in [`Refused::vf`].
fn vf_key(vf: &pci::Device) -> usize {
    core::ptr::from_ref(vf) as usize
}

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
    /// Override buffers allocated ahead, so that a VF is pinned even when the driver core cannot
    /// allocate the copy of the name ([`VfWatch::pin`]); refilled after use.
    #[pin]
    reserves: Mutex<[Option<OverrideReserve>; RESERVES]>,
    /// The VF binds refused during `rmmod` whose probe is not over yet, with the override to set
    /// back when it is.
    #[pin]
    refused: Mutex<[Option<Refused>; REFUSALS]>,
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
            reserves <- new_mutex!([OverrideReserve::new().ok(), OverrideReserve::new().ok()]),
            refused <- new_mutex!([None; REFUSALS]),
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

    /// Pins `vf` to `driver` with its `driver_override`, from a reserve (and one log line) when
    /// the driver core cannot allocate its copy of the name. Returns the driver core's error when
    /// no reserve is left either.
    ///
    /// # Locks
    ///
    /// Takes `reserves`, a leaf, and allocates under it (the refill).
    fn pin(&self, vf: &pci::Device, driver: &DriverName) -> Result {
        let Err(e) = vf.set_driver_override(driver.as_bytes()) else {
            return Ok(());
        };
        let name = OverrideName::new(driver.as_bytes())?;
        let mut reserves = self.reserves.lock();
        let pinned = match reserves.iter_mut().find_map(Option::take) {
            Some(reserve) => {
                vf.set_driver_override_reserved(&name, reserve);
                dev_warn!(
                    vf.as_ref(),
                    "could not set driver_override ({:?}): pinned to {} from pf_stub's reserve\n",
                    e,
                    driver.as_str()
                );
                Ok(())
            }
            None => Err(e),
        };
        for slot in reserves.iter_mut().filter(|slot| slot.is_none()) {
            *slot = OverrideReserve::new().ok();
        }
        pinned
    }

    /// A driver is about to probe `vf`, and the VF has no `driver_override` though this PF pins
    /// its VFs (its pin failed when it was added, or someone cleared it): `vf` is pinned now,
    /// before the PCI core matches the override again, so that no driver but the pinned one
    /// binds it (the probe in progress is refused unless it is the pinned driver's).
    fn pin_before_bind(&self, vf: &pci::Device) {
        let knobs = *self.knobs.lock();
        if knobs.autoprobe || !matches!(vf.driver_override(), Ok(None)) {
            return;
        }
        match self.pin(vf, &knobs.driver) {
            Ok(()) => dev_warn!(
                vf.as_ref(),
                "a driver is binding this VF, which has no driver_override: pinned it to {} first, another driver is refused\n",
                knobs.driver.as_str()
            ),
            Err(e) => dev_err!(
                vf.as_ref(),
                "could not pin this VF to {} before a driver binds it ({:?}): the bind is not refused\n",
                knobs.driver.as_str(),
                e
            ),
        }
    }

    /// A driver is about to probe `vf` of a locked PF while `rmmod` is disabling the VFs: the
    /// probe is refused, so that no bind succeeds only to be torn down. The VF's
    /// `driver_override` is set to pf_stub, which the PCI core matches again before the probe
    /// and which binds no VF; the override it had (the admin's, or none) is set back when the
    /// refused probe is over ([`VfWatch::refusal_over`]), every later bind until the unbind
    /// being refused the same way.
    fn refuse_bind(&self, vf: &pci::Device) {
        let before = vf.driver_override();
        match vf.set_driver_override(compat::MODULE_NAME.to_bytes()) {
            Ok(()) => {
                let kept = match before {
                    Ok(before) if !is_module_name(before.as_ref()) => {
                        let mut refused = self.refused.lock();
                        match refused.iter_mut().find(|slot| slot.is_none()) {
                            Some(slot) => {
                                *slot = Some(Refused {
                                    vf: vf_key(vf),
                                    before,
                                });
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
                dev_warn!(
                    vf.as_ref(),
                    "refusing a driver for this VF: its PF's VFs are locked and pf_stub is being unloaded, which disables them{}\n",
                    if kept {
                        ""
                    } else {
                        " (its driver_override stays pf_stub)"
                    }
                );
            }
            Err(e) => dev_err!(
                vf.as_ref(),
                "could not refuse a driver for this VF while pf_stub is being unloaded: {:?}\n",
                e
            ),
        }
    }

    /// The probe of `vf` is over without a driver: if pf_stub refused it
    /// ([`VfWatch::refuse_bind`]), the VF's `driver_override` gets back what it was, unless
    /// someone changed it from pf_stub meanwhile.
    fn refusal_over(&self, vf: &pci::Device) {
        let key = vf_key(vf);
        let Some(refused) = self
            .refused
            .lock()
            .iter_mut()
            .find(|slot| slot.is_some_and(|r| r.vf == key))
            .and_then(Option::take)
        else {
            return;
        };
        if !matches!(vf.driver_override(), Ok(Some(now)) if is_module_name(Some(&now))) {
            return;
        }
        let back = match refused.before {
            Some(before) => vf.set_driver_override(before.as_bytes()),
            None => vf.clear_driver_override(),
        };
        if let Err(e) = back {
            dev_err!(
                vf.as_ref(),
                "could not set driver_override back after refusing a driver ({:?}): it stays pf_stub\n",
                e
            );
        }
    }
}

/// Whether `name` is pf_stub's own name, the override of a refused VF.
fn is_module_name(name: Option<&OverrideName>) -> bool {
    name.is_some_and(|n| n.as_bytes() == compat::MODULE_NAME.to_bytes())
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
        if !dev.is_vf_of(&self.pf) {
            return;
        }
        // A probe refused before the watch was detached gets its override back all the same.
        if matches!(event, BusEvent::DriverNotBound) {
            self.refusal_over(dev);
        }
        // `detached` is written under `module_pin`, which `update_pin` reads it under again.
        if self.detached.load(Relaxed) {
            return;
        }
        match event {
            BusEvent::AddDevice => {
                let knobs = *self.knobs.lock();
                if knobs.autoprobe {
                    return;
                }
                if let Err(e) = self.pin(dev, &knobs.driver) {
                    dev_err!(
                        dev.as_ref(),
                        "could not pin the new VF to {} ({:?}): it is pinned, or its bind refused, when a driver tries to bind it\n",
                        knobs.driver.as_str(),
                        e
                    );
                }
            }
            BusEvent::BindDriver => {
                if !self.update_pin(None) {
                    self.refuse_bind(dev);
                } else {
                    self.pin_before_bind(dev);
                }
            }
            BusEvent::BoundDriver | BusEvent::UnboundDriver => {
                self.update_pin(None);
            }
            BusEvent::DriverNotBound => {
                self.update_pin(Some(dev));
            }
            BusEvent::DelDevice | BusEvent::RemovedDevice => {}
        }
    }
}
