// SPDX-License-Identifier: GPL-2.0

//! The pins of a PF's VFs to the VF driver (`driver_override`): buffers allocated ahead for a
//! pin the driver core cannot allocate, and the VF binds refused while `rmmod` disables locked
//! VFs, with the override to set back.

use crate::{
    kext::{
        compat,
        driver_override::{
            DriverOverride,
            OverrideName,
            OverrideReserve, //
        },
    },
    sriov::DriverName, //
};
use kernel::{
    new_mutex,
    pci,
    prelude::*,
    sync::Mutex, //
};

/// How many override buffers a PF keeps allocated ahead for the pins of new VFs.
const RESERVES: usize = 2;

/// How many VF binds refused during `rmmod` a PF remembers at once (one per VF probing at the
/// same time).
const REFUSALS: usize = 4;

/// A VF bind refused by [`VfPins::refuse_bind`], its probe not yet over.
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

/// The pins of a PF's VFs: override buffers allocated ahead, and the binds refused during `rmmod`.
#[pin_data]
pub(crate) struct VfPins {
    /// Override buffers allocated ahead, so that a VF is pinned even when the driver core cannot
    /// allocate the copy of the name ([`VfPins::pin`]); refilled after use.
    #[pin]
    reserves: Mutex<[Option<OverrideReserve>; RESERVES]>,
    /// The VF binds refused during `rmmod` whose probe is not over yet, with the override to set
    /// back when it is.
    #[pin]
    refused: Mutex<[Option<Refused>; REFUSALS]>,
}

impl VfPins {
    /// No refusal yet, and the reserves allocated (as many as memory allows).
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            reserves <- new_mutex!([OverrideReserve::new().ok(), OverrideReserve::new().ok()]),
            refused <- new_mutex!([None; REFUSALS]),
        })
    }

    /// Pins `vf` to `driver` with its `driver_override`, from a reserve (and one log line) when
    /// the driver core cannot allocate its copy of the name. Returns the driver core's error when
    /// no reserve is left either.
    ///
    /// # Locks
    ///
    /// Takes `reserves`, a leaf, and allocates under it (the refill).
    pub(crate) fn pin(&self, vf: &pci::Device, driver: &DriverName) -> Result {
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

    /// A driver is about to probe `vf` of a locked PF while `rmmod` is disabling the VFs: the
    /// probe is refused, so that no bind succeeds only to be torn down. The VF's
    /// `driver_override` is set to pf_stub, which the PCI core matches again before the probe
    /// and which binds no VF; the override it had (the admin's, or none) is set back when the
    /// refused probe is over ([`VfPins::refusal_over`]), every later bind until the unbind
    /// being refused the same way.
    pub(crate) fn refuse_bind(&self, vf: &pci::Device) {
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
    /// ([`VfPins::refuse_bind`]), the VF's `driver_override` gets back what it was, unless
    /// someone changed it from pf_stub meanwhile.
    pub(crate) fn refusal_over(&self, vf: &pci::Device) {
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
