// SPDX-License-Identifier: GPL-2.0

//! The VF watcher: a PCI bus notifier per bound PF, whose handler is the PF's state
//! ([`PfState`]), that pins the PF's new VFs to the VF driver and keeps the module referenced
//! (`rmmod` refused) while the PF's VFs are locked and in use.

use crate::{
    kext::{
        driver_override::DriverOverride,
        notifier::{
            BusEvent,
            BusNotify, //
        },
        pci_sriov::SriovRelations, //
    },
    pf_state::PfState, //
};
use kernel::{
    pci,
    prelude::*, //
};

impl PfState {
    /// A driver is about to probe `vf`, and the VF has no `driver_override` though this PF pins
    /// its VFs (its pin failed when it was added, or someone cleared it): `vf` is pinned now,
    /// before the PCI core matches the override again, so that no driver but the pinned one
    /// binds it (the probe in progress is refused unless it is the pinned driver's).
    fn pin_before_bind(&self, vf: &pci::Device) {
        let knobs = *self.knobs.lock();
        if knobs.autoprobe || !matches!(vf.driver_override(), Ok(None)) {
            return;
        }
        match self.vf_pins.pin(vf, &knobs.driver) {
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
}

impl BusNotify for PfState {
    /// Pins a new VF of this PF to the VF driver, and keeps the module reference in step with
    /// the VFs' binds.
    ///
    /// # Locks
    ///
    /// Called from the PCI bus notifier chain (`bus_notify()`), with the VF's device lock held
    /// for the driver events; never takes the policy's lock, which a VF change holds around the
    /// VF adds and binds that call this (see [`crate::pf_state`]).
    fn notify(self: Pin<&Self>, event: BusEvent, dev: &pci::Device) {
        if !dev.is_vf_of(&self.pf) {
            return;
        }
        // A probe refused before the watch was detached gets its override back all the same.
        if matches!(event, BusEvent::DriverNotBound) {
            self.vf_pins.refusal_over(dev);
        }
        // `detached` is written under `module_pin`, which `update_pin` reads it under again.
        if self.is_detached() {
            return;
        }
        match event {
            BusEvent::AddDevice => {
                let knobs = *self.knobs.lock();
                if knobs.autoprobe {
                    return;
                }
                if let Err(e) = self.vf_pins.pin(dev, &knobs.driver) {
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
                    self.vf_pins.refuse_bind(dev);
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
