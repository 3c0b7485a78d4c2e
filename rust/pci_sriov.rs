// SPDX-License-Identifier: GPL-2.0

//! PCI SR-IOV: the methods a Physical Function (PF) driver calls on its device and its Virtual
//! Functions (VFs).
//!
//! The names are those of the C API and of the upstream series: `is_virtfn`, `is_physfn`,
//! `num_vf`, and, with the device lock held ([`SriovCore`]), `enable_sriov` and
//! `disable_sriov`; plus what a PF driver without a device of its own needs: a PF's VFs
//! ([`SriovRelations`]) and whether a device is still on the bus ([`SriovDevice::is_added`]).
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)
//!
//! Upstream: the Rust SR-IOV series "rust: pci: add SR-IOV support" (v3, March 2026), not merged;
//! its rework splits `sriov_configure` into `sriov_enable`/`sriov_disable` driver callbacks with
//! `SriovEnable`, `SriovEnabled` and `SriovDisable` tokens, and adds a `VfRegistration` that
//! removes the VFs at PF teardown. Merged:
//! `sriov_get_totalvfs()` (7.3, used there; 7.2 gets `SriovCore::sriov_get_totalvfs`) and
//! the SR-IOV capability's registers (`rust/kernel/pci/cap.rs`, after 7.3). The PF-VF relations,
//! `vfs_assigned`, `is_added` and `save_state`/`restore_state`: not merged. Future home:
//! `rust/kernel/pci/sriov.rs`, as inherent methods of `pci::Device`.

use super::{
    pci_dev::raw,
    rescan_lock::RescanLocked, //
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    device,
    error::to_result,
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
    }, //
};

/// `PCI_DEV_ADDED` of `pci_dev.priv_flags` (`drivers/pci/pci.h`): set while the device is on
/// the bus; the PCI core clears it, under the rescan/remove lock, before releasing the driver of a
/// device it removes.
const PCI_DEV_ADDED: u32 = 0;

/// Reads bit `bit` of `dev`'s `priv_flags`, as `test_bit()` does in the `pci_dev_*()` helpers of
/// `drivers/pci/pci.h`.
///
/// The word is changed with atomic bit operations (`set_bit()`, `test_and_clear_bit()`), so it
/// is read with an atomic load, the `READ_ONCE()` of `test_bit()`: a plain load racing with them
/// would be a data race.
#[inline]
fn test_priv_flag<Ctx: device::DeviceContext>(dev: &pci::Device<Ctx>, bit: u32) -> bool {
    // SAFETY: `raw(dev)` is a valid `struct pci_dev` (type invariant of `pci::Device`), so its
    // `priv_flags` is valid and aligned for reads while `dev` lives; `unsigned long` has the size
    // and alignment of `usize` on every architecture Linux supports. The C side changes the word
    // only with atomic bit operations, so an atomic load does not race with them.
    let flags = unsafe { Atomic::<usize>::from_ptr((&raw mut (*raw(dev)).priv_flags).cast()) }
        .load(Relaxed);
    flags & (1 << bit) != 0
}

/// SR-IOV properties of a PCI device.
///
/// Implemented for [`pci::Device`] in every device context; the methods that change the SR-IOV
/// configuration need the device lock and are in [`SriovCore`].
pub trait SriovDevice {
    /// Returns `true` if the device is an SR-IOV Virtual Function.
    fn is_virtfn(&self) -> bool;

    /// Returns `true` if the device has an SR-IOV capability that the PCI core set up, i.e. it is
    /// a Physical Function that can enable VFs.
    fn is_physfn(&self) -> bool;

    /// Returns the number of VFs currently enabled (`pci_num_vf()`).
    fn num_vf(&self) -> u16;

    /// Returns how many of this PF's VFs are marked assigned to a guest (`pci_vfs_assigned()`,
    /// the `PCI_DEV_FLAGS_ASSIGNED` flag that Xen's pciback sets).
    fn vfs_assigned(&self) -> u16;

    /// Returns `true` while the device is on the bus (`pci_dev_is_added()`): the flag is set
    /// after the first probe at enumeration and cleared when a removal begins, both under
    /// `pci_rescan_remove_lock`.
    fn is_added(&self) -> bool;

    /// Reads VF Enable in the device's SR-IOV Control register: `None` without the capability
    /// or when the device does not answer (a read of all ones).
    ///
    /// The PCI core's `num_VFs` says what was enabled; this says whether the hardware still
    /// has it (a bus reset clears it, and nobody restores it for a PF without a driver).
    fn vf_enable_in_hw(&self) -> Option<bool>;
}

impl<Ctx: device::DeviceContext> SriovDevice for pci::Device<Ctx> {
    #[inline]
    fn is_virtfn(&self) -> bool {
        // SAFETY: By the type invariant of `pci::Device`, `raw(self)` is a valid `struct pci_dev`;
        // the bit is set once at device creation and never changes.
        unsafe { (*raw(self)).is_virtfn() != 0 }
    }

    #[inline]
    fn is_physfn(&self) -> bool {
        // SAFETY: As above; `is_physfn` is set when the SR-IOV capability is initialised, before
        // the device is added to the bus, and cleared only when it is released.
        unsafe { (*raw(self)).is_physfn() != 0 }
    }

    #[inline]
    fn num_vf(&self) -> u16 {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; `pci_num_vf()` reads a counter.
        let n = unsafe { bindings::pci_num_vf(raw(self)) };
        u16::try_from(n).unwrap_or(0)
    }

    #[inline]
    fn vfs_assigned(&self) -> u16 {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the function walks the VFs under the
        // PCI core's own locking and returns 0 for a device without SR-IOV.
        let n = unsafe { bindings::pci_vfs_assigned(raw(self)) };
        u16::try_from(n).unwrap_or(u16::MAX)
    }

    #[inline]
    fn is_added(&self) -> bool {
        test_priv_flag(self, PCI_DEV_ADDED)
    }

    fn vf_enable_in_hw(&self) -> Option<bool> {
        // `PCI_EXT_CAP_ID_SRIOV`, `PCI_SRIOV_CTRL` and `PCI_SRIOV_CTRL_VFE`
        // (`include/uapi/linux/pci_regs.h`).
        const SRIOV: i32 = 0x10;
        const CTRL: u16 = 0x08;
        const VFE: u16 = 0x01;
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the search reads config space only.
        let pos = unsafe { bindings::pci_find_ext_capability(raw(self), SRIOV) };
        if pos == 0 {
            return None;
        }
        let mut ctrl: u16 = 0;
        // SAFETY: As above; `ctrl` is a valid place for the word read.
        let r = unsafe {
            bindings::pci_read_config_word(raw(self), i32::from(pos) + i32::from(CTRL), &mut ctrl)
        };
        if r != 0 || ctrl == u16::MAX {
            return None;
        }
        Some(ctrl & VFE != 0)
    }
}

/// Calls `f` with each existing VF device of `pf` (a referenced `struct pci_dev`, valid for the
/// call), found by walking all PCI devices (`pci_get_device()`).
pub(super) fn for_each_vf<Ctx: device::DeviceContext>(
    pf: &pci::Device<Ctx>,
    mut f: impl FnMut(*mut bindings::pci_dev),
) {
    let pf = raw(pf);
    let mut cur: *mut bindings::pci_dev = core::ptr::null_mut();
    loop {
        // SAFETY: `pci_get_device()` takes a reference on the device it returns and drops the
        // one on `cur` (NULL at the start), so each `cur` is valid until the next call.
        cur = unsafe { bindings::pci_get_device(!0, !0, cur) };
        if cur.is_null() {
            break;
        }
        // SAFETY: `cur` is a valid, referenced `struct pci_dev` (see above); the bit fields and
        // `physfn` are set at creation and never change.
        let is_vf =
            unsafe { (*cur).is_virtfn() != 0 && core::ptr::eq((*cur).__bindgen_anon_1.physfn, pf) };
        if is_vf {
            f(cur);
        }
    }
}

/// Returns a new reference on `dev`, for a device found by [`for_each_vf`].
///
/// # Safety
///
/// `dev` must be a valid `struct pci_dev` for the duration of the call.
#[inline]
pub(super) unsafe fn get_ref(dev: *mut bindings::pci_dev) -> Option<ARef<pci::Device>> {
    // SAFETY: By the safety requirements `dev` is valid; `pci_dev_get()` takes the reference that
    // the `ARef` owns, and `pci::Device` is a transparent wrapper of `struct pci_dev`.
    unsafe {
        NonNull::new(bindings::pci_dev_get(dev)).map(|p| ARef::<pci::Device>::from_raw(p.cast()))
    }
}

/// SR-IOV relations between a PF and its VFs.
pub trait SriovRelations {
    /// Returns `true` if `self` is a VF of `pf`.
    fn is_vf_of<Ctx: device::DeviceContext>(&self, pf: &pci::Device<Ctx>) -> bool;

    /// Counts this PF's VFs that have a driver (vfio-pci, igbvf, ...), bound or being probed:
    /// VFs in use or about to be. `failed` is left out: a VF whose probe has just failed
    /// ([`super::notifier::BusEvent::DriverNotBound`]), which still shows the driver until the
    /// driver core cleans up after telling the bus. A snapshot, read without the VFs' locks.
    fn num_vf_in_use(&self, failed: Option<&pci::Device>) -> u16;

    /// Returns the device of this PF's VF number `id` (`virtfnN`), if it exists.
    fn virtfn(&self, id: u16) -> Option<ARef<pci::Device>>;

    /// Counts the VF devices of this PF that exist, bound or not.
    fn num_vf_devices(&self) -> u16;

    /// Removes every VF device of this PF, as `echo 1 > remove` on each does
    /// (`pci_stop_and_remove_bus_device_locked()`): for VFs left behind by a PF that has been
    /// removed itself, which `pci_disable_sriov()` can no longer reach. Takes the rescan/remove
    /// lock: call it with no device lock held. Returns how many were removed.
    fn remove_vf_devices(&self) -> u16;
}

impl<Ctx: device::DeviceContext> SriovRelations for pci::Device<Ctx> {
    #[inline]
    fn is_vf_of<C: device::DeviceContext>(&self, pf: &pci::Device<C>) -> bool {
        // Only the address is compared: a VF drops its reference on its PF when it is removed
        // (`pci_iov_remove_virtfn()`), so a VF that outlives that must not reach the PF.
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; for a VF the union's `physfn` member
        // is the one in use, set at creation and never changed; it is not dereferenced.
        self.is_virtfn() && core::ptr::eq(unsafe { (*raw(self)).__bindgen_anon_1.physfn }, raw(pf))
    }

    fn num_vf_in_use(&self, failed: Option<&pci::Device>) -> u16 {
        let failed = failed.map_or(core::ptr::null_mut(), raw);
        let mut n: u16 = 0;
        for_each_vf(self, |vf| {
            // SAFETY: `vf` is a valid, referenced `struct pci_dev` for the call. The driver core
            // writes `dev.driver` with `WRITE_ONCE()` (`device_set_driver()`), so it is read
            // once, atomically, as the driver core itself does for a snapshot.
            let driver = unsafe {
                Atomic::<*mut bindings::device_driver>::from_ptr(&raw mut (*vf).dev.driver)
            }
            .load(Relaxed);
            if !driver.is_null() && !core::ptr::eq(vf, failed) {
                n = n.saturating_add(1);
            }
        });
        n
    }

    fn virtfn(&self, id: u16) -> Option<ARef<pci::Device>> {
        let mut found = None;
        for_each_vf(self, |vf| {
            // SAFETY: `vf` is a valid VF, referenced for the call; `pci_iov_vf_id()` computes its
            // number from its address and its PF's SR-IOV capability, and `get_ref()` takes the
            // reference the `ARef` owns.
            unsafe {
                if found.is_none() && bindings::pci_iov_vf_id(vf) == i32::from(id) {
                    found = get_ref(vf);
                }
            }
        });
        found
    }

    fn num_vf_devices(&self) -> u16 {
        let mut n: u16 = 0;
        for_each_vf(self, |_| n = n.saturating_add(1));
        n
    }

    fn remove_vf_devices(&self) -> u16 {
        let mut removed: u16 = 0;
        // One at a time, looking again after each: removing a device changes the list walked.
        loop {
            let mut found: Option<ARef<pci::Device>> = None;
            for_each_vf(self, |vf| {
                if found.is_none() {
                    // SAFETY: `vf` is valid and referenced for the call.
                    found = unsafe { get_ref(vf) };
                }
            });
            let Some(vf) = found else { break };
            // SAFETY: `vf` is a valid, referenced `struct pci_dev`; the function takes the
            // rescan/remove lock itself and copes with a device already removed.
            unsafe { bindings::pci_stop_and_remove_bus_device_locked(raw(&*vf)) };
            removed = removed.saturating_add(1);
            if removed == u16::MAX {
                break;
            }
        }
        removed
    }
}

/// SR-IOV configuration changes; they need the device lock, hence the `Core` context.
///
/// # Examples
///
/// ```ignore
/// // In `sriov_configure`, where the PCI core holds the device lock and the rescan/remove lock.
/// if nr_virtfn == 0 {
///     pdev.disable_sriov();
/// } else {
///     pdev.enable_sriov(nr_virtfn)?;
/// }
/// Ok(pdev.num_vf())
/// ```
pub trait SriovCore {
    /// Returns the number of VFs the device supports (`pci_sriov_get_totalvfs()`, the value of
    /// `sriov_totalvfs`), or [`None`] if SR-IOV is not available.
    ///
    /// Linux 7.2 only: 7.3's kernel crate has this method, with this signature, on
    /// `pci::Device<Core>` (see `compat`).
    #[cfg(not(linux_7_3))]
    fn sriov_get_totalvfs(&self) -> Option<core::num::NonZero<u16>>;

    /// Enables `nr_virtfn` VFs (`pci_enable_sriov()`), under the rescan/remove lock.
    ///
    /// Fails with the PCI core's error: `EINVAL` for a count above `sriov_totalvfs`, `EBUSY` when
    /// VFs are already enabled, `ENOMEM` or `EIO` when the VFs cannot be set up. The caller
    /// checks [`SriovCore::leftover_vf`] first: the core adds the VFs without looking.
    fn enable_sriov(&self, nr_virtfn: u16, locked: &RescanLocked<'_>) -> Result;

    /// Disables all VFs (`pci_disable_sriov()`), removing their devices first, under the
    /// rescan/remove lock (around `sriov_configure`, in a removal's `remove`, or through
    /// [`super::rescan::run_locked`]).
    fn disable_sriov(&self, locked: &RescanLocked<'_>);

    /// A VF device that an earlier device at this PF's address left behind (its PF was removed,
    /// and the VF's own removal is still waiting, for example for its VFIO user), if one
    /// exists: new VFs would take its name, and the PCI core would add a second device under it.
    fn leftover_vf(&self, locked: &RescanLocked<'_>) -> Option<ARef<pci::Device>>;

    /// Saves the device's configuration, SR-IOV included (`pci_save_state()`), for
    /// [`SriovCore::restore_state`] after a reset.
    fn save_state(&self) -> Result;

    /// Writes the saved configuration back (`pci_restore_state()`), SR-IOV included: after a
    /// reset that cleared VF Enable, the VFs are enabled again with the same count.
    fn restore_state(&self);

    /// The proof that the rescan/remove lock is held, for a callback that runs while the device
    /// is off the bus (`PCI_DEV_ADDED` clear): the enumeration's first probe, or `remove` in
    /// the device's removal. `None` while the device is on the bus.
    ///
    /// The flag is the proof: `pci_stop_dev()` clears it and `pci_bus_add_device()` sets it,
    /// both under the lock, and a remover holds the lock until it has deleted the device, which
    /// needs the device lock first (`device_del()`). So the lock is held by this thread, or by a
    /// remover that cannot go on before this callback returns: no other thread adds or removes
    /// devices meanwhile. Asynchronous probes, which would run after the enumerator let the lock
    /// go but before it marked the device added, never happen: [`super::pci_driver`] registers
    /// with `PROBE_FORCE_SYNCHRONOUS`. Where the holder is another thread that waits for this
    /// one, no device is added or removed meanwhile, but lockdep's `lockdep_assert_held()` in
    /// `pci_stop_and_remove_bus_device()` sees another thread's lock: the enumerator waiting in
    /// `pci_call_probe()` for the probe it queued on the device's NUMA node, and an unbind or
    /// bind that took the device lock after a remover cleared the flag. Two paths break the
    /// argument, and callers that can tell them apart do not use this: a probe or unbind by
    /// another thread (a `bind` write, a driver's registration, the deferred-probe worker) in
    /// the moment after the enumerator's own probe attempt let the device lock go and before
    /// `pci_bus_add_device()` marks the device added, while the enumerator goes on; and VMD,
    /// which adds and removes its bus without the lock (`vmd_enable_domain()`, `vmd_remove()`):
    /// `None` for a device in a PCI domain above 0xffff, where VMD puts its buses
    /// (`vmd_find_free_domain()`) and the firmware's 16-bit segments never are.
    fn rescan_locked_unadded(&self) -> Option<RescanLocked<'_>>;
}

/// Whether `pdev` is in a PCI domain above 0xffff, where VMD puts its buses: the domain part of
/// its name (`pci_setup_device()`: `%04x:%02x:%02x.%d` of `pci_domain_nr()`) has more than four
/// digits.
fn in_vmd_domain<Ctx: device::DeviceContext>(pdev: &pci::Device<Ctx>) -> bool {
    let name = pdev.as_ref().name().to_bytes();
    name.iter().position(|&b| b == b':').is_some_and(|n| n > 4)
}

impl<'a> SriovCore for pci::Device<device::Core<'a>> {
    #[cfg(not(linux_7_3))]
    #[inline]
    fn sriov_get_totalvfs(&self) -> Option<core::num::NonZero<u16>> {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the function returns 0 for a device
        // without SR-IOV.
        let n = unsafe { bindings::pci_sriov_get_totalvfs(raw(self)) };
        // The value comes from the 16-bit TotalVFs (or the driver's lower limit): it fits.
        core::num::NonZero::new(u16::try_from(n).unwrap_or(0))
    }

    #[inline]
    fn enable_sriov(&self, nr_virtfn: u16, _locked: &RescanLocked<'_>) -> Result {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the `Core` context guarantees the
        // device lock and `_locked` the rescan/remove lock, which the PCI core holds itself
        // around `sriov_configure` (`sriov_numvfs_store()`, `drivers/pci/iov.c`).
        to_result(unsafe { bindings::pci_enable_sriov(raw(self), i32::from(nr_virtfn)) })
    }

    #[inline]
    fn disable_sriov(&self, _locked: &RescanLocked<'_>) {
        // SAFETY: As for `enable_sriov`; disabling is valid in any state, a no-op without VFs.
        unsafe { bindings::pci_disable_sriov(raw(self)) }
    }

    fn leftover_vf(&self, _locked: &RescanLocked<'_>) -> Option<ARef<pci::Device>> {
        let pf = raw(self);
        let name = self.as_ref().name().to_bytes();
        let mut found = None;
        let mut cur: *mut bindings::pci_dev = core::ptr::null_mut();
        loop {
            // SAFETY: As in `for_each_vf`: each `cur` is valid and referenced until the next call.
            cur = unsafe { bindings::pci_get_device(!0, !0, cur) };
            if cur.is_null() {
                break;
            }
            // SAFETY: `cur` is valid and referenced. A VF's `physfn` is set at its creation and
            // referenced until `pci_iov_remove_virtfn()` or its release, and no VF is removed
            // while `_locked` holds the rescan/remove lock, so the old PF is valid; its name
            // lives as long as its kobject.
            let leftover = unsafe {
                let old = (*cur).__bindgen_anon_1.physfn;
                (*cur).is_virtfn() != 0
                    && !core::ptr::eq(old, pf)
                    && CStr::from_char_ptr((*old).dev.kobj.name).to_bytes() == name
            };
            if leftover && found.is_none() {
                // SAFETY: `cur` is valid for the call.
                found = unsafe { get_ref(cur) };
            }
        }
        found
    }

    #[inline]
    fn save_state(&self) -> Result {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the device lock (the `Core` context)
        // serialises this with the PCI core's own saves around resets.
        to_result(unsafe { bindings::pci_save_state(raw(self)) })
    }

    #[inline]
    fn restore_state(&self) {
        // SAFETY: As for `save_state`; without a saved state the function does nothing.
        unsafe { bindings::pci_restore_state(raw(self)) }
    }

    fn rescan_locked_unadded(&self) -> Option<RescanLocked<'_>> {
        if self.is_added() || in_vmd_domain(self) {
            return None;
        }
        // SAFETY: See the trait method: the lock is held while this device lock is, which the
        // `Core` context holds for at least the borrow of `self`.
        Some(unsafe { RescanLocked::assume() })
    }
}
