// SPDX-License-Identifier: GPL-2.0

//! Stopping new driver binds of a PF's VFs ([`VfBinds::stop_vf_binds`]), so that which VFs are
//! bound can be read and acted on with no bind slipping in between.
//!
//! Each VF's `driver_override` is set to `stop`, a driver that refuses VFs (a PF driver such as
//! pf_stub): the PCI core then matches no other driver to the VF, not even for a probe that
//! matched before and waits for the VF's device lock, since `__pci_device_probe()` matches the
//! override again under that lock. Taking and releasing each VF's device lock then waits for the
//! probes and releases in flight, and [`StoppedVfBinds::bound`] is read under it. Until the
//! returned object is dropped no VF of the PF becomes bound (VFs can still lose their driver);
//! dropping it sets each override back to what it was, or to `default` where it already read
//! `stop` (a bind the caller refused earlier by the same means), unless someone changed it
//! meanwhile.
//!
//! # Locks
//!
//! The caller holds the PF's device lock (the `Core` context), so no VF of the PF is added
//! meanwhile (a removal above the PF may remove some: they stay referenced), and must not hold a
//! lock that a VF driver's probe or release, or a bus notifier, waits for. Each VF's override
//! spinlock and device lock are taken and released in turn, a VF's under its PF's as in the PCI
//! core (`sriov_numvfs_store()` removes VFs under the PF's lock); none is held on return.
//!
//! Upstream: nothing; not merged nor needed by the PF drivers of upstream's `managed_sriov`, whose
//! VFs go before the PF's `remove`: pf_stub needs it only to keep locked VFs in use across an
//! unbind (Documentation/pf_stub.rst, "Upstream"). Future home: `rust/kernel/pci/sriov.rs`,
//! beside the methods of [`super::pci_sriov`].

use super::{
    driver_override::{
        DriverOverride,
        OverrideName, //
    },
    pci_dev::raw,
    pci_sriov::{
        for_each_vf,
        get_ref, //
    },
};
use kernel::{
    bindings,
    device,
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        Mutex, //
    }, //
};

/// One VF of a [`StoppedVfBinds`].
struct StoppedVf {
    /// The VF, referenced.
    vf: ARef<pci::Device>,
    /// The VF's `driver_override` before binds were stopped; `None` when it was unset.
    before: Option<OverrideName>,
    /// Whether the override was set to stop binds, and is to be set back.
    stopped: bool,
}

/// The VFs of a PF whose new binds are stopped ([`VfBinds::stop_vf_binds`]);
/// dropping it lets them bind again.
///
/// # Invariants
///
/// Every VF in `vfs` whose `stopped` is set had its `driver_override` set to `stop` by this
/// object, and `before` holds what it was until then.
pub struct StoppedVfBinds {
    /// The PF's VFs, referenced.
    vfs: KVec<StoppedVf>,
    /// The override that stops binds: a driver that refuses VFs.
    stop: &'static CStr,
    /// What a VF whose override read `stop` already gets back.
    default: Option<OverrideName>,
    /// See [`StoppedVfBinds::bound`].
    bound: u16,
}

impl StoppedVfBinds {
    /// How many VFs had a driver bound once binds were stopped and the probes in flight had
    /// ended. It can only go down until `self` is dropped.
    #[inline]
    pub fn bound(&self) -> u16 {
        self.bound
    }
}

impl Drop for StoppedVfBinds {
    fn drop(&mut self) {
        let stop = self.stop.to_bytes();
        for v in self.vfs.iter().filter(|v| v.stopped) {
            // An override someone else wrote meanwhile is theirs: leave it.
            let ours = matches!(v.vf.driver_override(), Ok(Some(n)) if n.as_bytes() == stop);
            if !ours {
                continue;
            }
            let back = match v.before {
                Some(b) if b.as_bytes() == stop => self.default,
                b => b,
            };
            let r = match back {
                Some(name) => v.vf.set_driver_override(name.as_bytes()),
                None => v.vf.clear_driver_override(),
            };
            if let Err(e) = r {
                dev_warn!(
                    v.vf.as_ref(),
                    "could not set driver_override back after stopping VF binds ({:?}): it reads {}; write it again by hand\n",
                    e,
                    core::str::from_utf8(stop).unwrap_or("?")
                );
            }
        }
    }
}

/// Waits for a probe or release of `vf`'s driver in flight, and returns whether a driver is
/// bound to `vf` once it has ended.
fn settle(vf: &pci::Device) -> bool {
    let dev = raw(vf);
    // SAFETY: `dev` is a valid, referenced `struct pci_dev`. Its `dev.mutex` is the device lock
    // (`device_lock()` is `mutex_lock(&dev->mutex)`), initialised with the device and alive as
    // long as `vf`.
    let lock = unsafe { Mutex::<()>::from_raw(&raw mut (*dev).dev.mutex) };
    let _guard = lock.lock();
    // SAFETY: `dev` is valid (see above); `device_is_bound()` is read under the device lock, as
    // it asks.
    unsafe { bindings::device_is_bound(&raw mut (*dev).dev) }
}

/// Stopping new driver binds of a PF's VFs.
pub trait VfBinds {
    /// Stops new driver binds of this PF's VFs and waits for the probes already running: see
    /// the module documentation. Dropping the returned object lets them bind again.
    ///
    /// Fails, with every override set back, with `ENOMEM`, or `E2BIG` when a VF's override is
    /// longer than an [`OverrideName`] holds.
    fn stop_vf_binds(&self, stop: &'static CStr, default: Option<&[u8]>) -> Result<StoppedVfBinds>;
}

impl VfBinds for pci::Device<device::Core<'_>> {
    #[inline]
    fn stop_vf_binds(&self, stop: &'static CStr, default: Option<&[u8]>) -> Result<StoppedVfBinds> {
        stop_binds(self, stop, default)
    }
}

/// Stops new binds of `pf`'s VFs: see the module documentation.
fn stop_binds(
    pf: &pci::Device<device::Core<'_>>,
    stop: &'static CStr,
    default: Option<&[u8]>,
) -> Result<StoppedVfBinds> {
    let default = default.map(OverrideName::new).transpose()?;
    let mut vfs = KVec::new();
    let mut pushed = Ok(());
    for_each_vf(pf, |vf| {
        if pushed.is_err() {
            return;
        }
        // SAFETY: `vf` is valid and referenced for the call.
        if let Some(vf) = unsafe { get_ref(vf) } {
            let v = StoppedVf {
                vf,
                before: None,
                stopped: false,
            };
            pushed = vfs.push(v, GFP_KERNEL).map_err(|_| ENOMEM);
        }
    });
    pushed?;
    // INVARIANT: No VF is `stopped` yet.
    let mut this = StoppedVfBinds {
        vfs,
        stop,
        default,
        bound: 0,
    };
    // On an error `this` is dropped, which sets back the overrides already set.
    for v in this.vfs.iter_mut() {
        let before = v.vf.driver_override()?;
        v.vf.set_driver_override(stop.to_bytes())?;
        // INVARIANT: The override was just set to `stop`; `before` is what it replaced.
        v.before = before;
        v.stopped = true;
    }
    let bound = this.vfs.iter().filter(|v| settle(&v.vf)).count();
    this.bound = u16::try_from(bound).unwrap_or(u16::MAX);
    Ok(this)
}
