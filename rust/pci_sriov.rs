// SPDX-License-Identifier: GPL-2.0

//! PCI SR-IOV support, and a PCI driver registration with `sriov_configure`.
//!
//! The PCI abstractions of Linux 7.2 and 7.3 register only `probe` and `remove`. This module adds what a
//! driver of an SR-IOV Physical Function (PF) needs, after the names of the C API and of the
//! upstream proposal "rust: pci: add SR-IOV support":
//!
//! - [`SriovDevice`]: `is_virtfn`, `is_physfn`, `num_vf`, `sriov_get_totalvfs`, `vfs_assigned`,
//!   and, with the device lock held ([`SriovCore`]), `enable_sriov` and `disable_sriov`;
//! - [`SriovRelations`]: a PF's VFs, their drivers and `driver_override`;
//! - [`SriovCore::stop_vf_binds`]: the VFs of a PF kept from binding while its driver decides
//!   whether they are in use;
//! - [`Driver`] and [`Registration`]: a PCI driver whose `sriov_configure` is called when user
//!   space writes `sriov_numvfs`, registered with a static ID table and any number of dynamic IDs
//!   (`pci_add_dynid`, as `pci-stub`'s `ids=` does).
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)

use super::{
    compat::id_info,
    device_attr::AttributeGroups,
    pci_error::{
        ChannelState,
        ErrorHandlers,
        ErsResult, //
    },
};
use core::{
    marker::PhantomData,
    num::NonZero,
    ptr::NonNull, //
};
use kernel::{
    bindings, container_of, device,
    error::{from_result, to_result},
    pci,
    prelude::*,
    sync::aref::ARef,
    types::{ForeignOwnable, Opaque},
    ThisModule,
};

/// Returns the C `struct pci_dev` behind a [`pci::Device`].
///
/// `pci::Device::as_raw()` is private to the kernel crate; a `pci::Device` is, by its definition,
/// a `#[repr(transparent)]` wrapper of `Opaque<bindings::pci_dev>`, itself `#[repr(transparent)]`,
/// so the address of the Rust object is the address of the C object.
fn raw<Ctx: device::DeviceContext>(dev: &pci::Device<Ctx>) -> *mut bindings::pci_dev {
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// SR-IOV operations on a PCI device.
///
/// Implemented for [`pci::Device`] in every device context; the methods that change the SR-IOV
/// configuration need the device lock and are only on the `Core` context.
pub trait SriovDevice {
    /// Returns `true` if the device is an SR-IOV Virtual Function.
    fn is_virtfn(&self) -> bool;

    /// Returns `true` if the device has an SR-IOV capability that the PCI core set up, i.e. it is
    /// a Physical Function that can enable VFs.
    fn is_physfn(&self) -> bool;

    /// Returns the number of VFs currently enabled (`pci_num_vf()`).
    fn num_vf(&self) -> u16;

    /// Returns the number of VFs the device supports (`pci_sriov_get_totalvfs()`, the value of
    /// `sriov_totalvfs`), or [`None`] if SR-IOV is not available. Linux 7.3's kernel crate has
    /// this method, with this signature, on `pci::Device<Core>`, where it takes precedence.
    fn sriov_get_totalvfs(&self) -> Option<NonZero<u16>>;

    /// Returns how many of this PF's VFs are marked assigned to a guest (`pci_vfs_assigned()`,
    /// the `PCI_DEV_FLAGS_ASSIGNED` flag that Xen's pciback sets).
    fn vfs_assigned(&self) -> u16;

    /// Returns `true` while the device is on the bus (`pci_dev_is_added()`): the flag is set
    /// after the first probe at enumeration and cleared when a removal begins, both under
    /// `pci_rescan_remove_lock`.
    fn is_added(&self) -> bool;
}

impl<Ctx: device::DeviceContext> SriovDevice for pci::Device<Ctx> {
    fn is_virtfn(&self) -> bool {
        // SAFETY: By the type invariant of `pci::Device`, `raw(self)` is a valid `struct pci_dev`;
        // the bit is set once at device creation and never changes.
        unsafe { (*raw(self)).is_virtfn() != 0 }
    }

    fn is_physfn(&self) -> bool {
        // SAFETY: As above; `is_physfn` is set when the SR-IOV capability is initialised, before
        // the device is added to the bus, and cleared only when it is released.
        unsafe { (*raw(self)).is_physfn() != 0 }
    }

    fn num_vf(&self) -> u16 {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; `pci_num_vf()` reads a counter.
        let n = unsafe { bindings::pci_num_vf(raw(self)) };
        u16::try_from(n).unwrap_or(0)
    }

    fn sriov_get_totalvfs(&self) -> Option<NonZero<u16>> {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the function returns 0 for a device
        // without SR-IOV.
        let n = unsafe { bindings::pci_sriov_get_totalvfs(raw(self)) };
        // The value comes from the 16-bit TotalVFs (or the driver's lower limit): it fits.
        NonZero::new(u16::try_from(n).unwrap_or(0))
    }

    fn vfs_assigned(&self) -> u16 {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the function walks the VFs under the
        // PCI core's own locking and returns 0 for a device without SR-IOV.
        let n = unsafe { bindings::pci_vfs_assigned(raw(self)) };
        u16::try_from(n).unwrap_or(u16::MAX)
    }

    fn is_added(&self) -> bool {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`. The flag word is changed with atomic
        // bit operations; a volatile load of the aligned word reads each bit whole, as
        // `test_bit()` in `pci_dev_is_added()` does.
        let flags = unsafe { core::ptr::read_volatile(&raw const (*raw(self)).priv_flags) };
        flags & (1 << PCI_DEV_ADDED) != 0
    }
}

/// Returns the PF of `vf` as a raw pointer, or NULL when `vf` is not a VF (`pci_physfn()`
/// without the fallback to the device itself).
fn physfn_raw<Ctx: device::DeviceContext>(vf: &pci::Device<Ctx>) -> *mut bindings::pci_dev {
    if !vf.is_virtfn() {
        return core::ptr::null_mut();
    }
    // SAFETY: `raw(vf)` is a valid `struct pci_dev` of a VF, whose `physfn` member of the union
    // is the one in use; a VF holds a reference on its PF for its whole life.
    unsafe { (*raw(vf)).__bindgen_anon_1.physfn }
}

/// SR-IOV operations between a PF and its VFs.
pub trait SriovRelations {
    /// Returns `true` if `self` is a VF of `pf`.
    fn is_vf_of<Ctx: device::DeviceContext>(&self, pf: &pci::Device<Ctx>) -> bool;

    /// Counts this PF's VFs that have a driver (vfio-pci, igbvf, ...), bound or being probed:
    /// VFs in use or about to be. `failed` is left out: a VF whose probe has just failed
    /// ([`super::notifier::BusEvent::DriverNotBound`]), which still shows the driver until the
    /// driver core cleans up after telling the bus. A snapshot, read without the VFs' locks.
    fn num_vf_in_use(&self, failed: Option<&pci::Device>) -> u16;

    /// Sets the VF's `driver_override`, so that only the driver `name` binds it from now on
    /// (`device_set_driver_override()`). `name` must be 1 to 63 bytes without NUL.
    fn set_driver_override(&self, name: &[u8]) -> Result;

    /// Returns the device's `driver_override` (`None` when unset), or `Err(E2BIG)` when it is
    /// longer than an [`OverrideName`] holds.
    fn driver_override(&self) -> Result<Option<OverrideName>>;

    /// Clears the device's `driver_override`.
    fn clear_driver_override(&self) -> Result;

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

/// Longest `driver_override` an [`OverrideName`] holds (a driver name is at most a few dozen).
const OVERRIDE_MAX: usize = 63;

/// A copy of a device's `driver_override`, to be set again later.
#[derive(Clone, Copy)]
pub struct OverrideName {
    buf: [u8; OVERRIDE_MAX],
    len: usize,
}

impl OverrideName {
    /// A copy of `name`: `EINVAL` when empty, `E2BIG` when longer than an `OverrideName` holds.
    pub fn new(name: &[u8]) -> Result<Self> {
        let mut out = Self {
            buf: [0; OVERRIDE_MAX],
            len: name.len(),
        };
        if name.is_empty() {
            return Err(EINVAL);
        }
        out.buf
            .get_mut(..name.len())
            .ok_or(E2BIG)?
            .copy_from_slice(name);
        Ok(out)
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Calls `f` with each existing VF device of `pf` (a referenced `struct pci_dev`, valid for the
/// call), found by walking all PCI devices (`pci_get_device()`).
fn for_each_vf<Ctx: device::DeviceContext>(
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

impl<Ctx: device::DeviceContext> SriovRelations for pci::Device<Ctx> {
    fn is_vf_of<C: device::DeviceContext>(&self, pf: &pci::Device<C>) -> bool {
        core::ptr::eq(physfn_raw(self), raw(pf))
    }

    fn num_vf_in_use(&self, failed: Option<&pci::Device>) -> u16 {
        let failed = failed.map_or(core::ptr::null_mut(), raw);
        let mut n: u16 = 0;
        for_each_vf(self, |vf| {
            // SAFETY: `vf` is a valid, referenced `struct pci_dev` for the call; `dev.driver` is
            // read once, as the driver core itself does for a snapshot.
            let driver = unsafe { core::ptr::read_volatile(&raw const (*vf).dev.driver) };
            if !driver.is_null() && !core::ptr::eq(vf, failed) {
                n = n.saturating_add(1);
            }
        });
        n
    }

    fn driver_override(&self) -> Result<Option<OverrideName>> {
        let dev = raw(self);
        let mut out = OverrideName {
            buf: [0; OVERRIDE_MAX],
            len: 0,
        };
        // SAFETY: `dev` is a valid `struct pci_dev`; its `driver_override.name` is read and
        // copied under `driver_override.lock`, which every writer takes
        // (`__device_set_driver_override()`), and is NULL or a NUL-terminated string.
        let r = unsafe {
            let lock = &raw mut (*dev).dev.driver_override.lock;
            bindings::spin_lock(lock);
            let name = (*dev).dev.driver_override.name;
            let r = if name.is_null() {
                Ok(None)
            } else {
                let bytes = CStr::from_char_ptr(name).to_bytes();
                if bytes.len() > OVERRIDE_MAX {
                    Err(E2BIG)
                } else {
                    out.buf[..bytes.len()].copy_from_slice(bytes);
                    out.len = bytes.len();
                    Ok(Some(()))
                }
            };
            bindings::spin_unlock(lock);
            r
        };
        Ok(r?.map(|()| out))
    }

    fn clear_driver_override(&self) -> Result {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; an empty string (non-NULL, length 0)
        // clears the override, and the function takes the override lock itself.
        to_result(unsafe {
            bindings::__device_set_driver_override(
                core::ptr::addr_of_mut!((*raw(self)).dev),
                c"".as_char_ptr(),
                0,
            )
        })
    }

    fn virtfn(&self, id: u16) -> Option<ARef<pci::Device>> {
        let mut found = None;
        for_each_vf(self, |vf| {
            // SAFETY: `vf` is a valid VF, referenced for the call; `pci_iov_vf_id()` computes its
            // number from its address and its PF's SR-IOV capability, and `pci_dev_get()` takes
            // the reference the `ARef` owns.
            unsafe {
                if found.is_none() && bindings::pci_iov_vf_id(vf) == i32::from(id) {
                    found = NonNull::new(bindings::pci_dev_get(vf))
                        .map(|p| ARef::<pci::Device>::from_raw(p.cast()));
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
                    // SAFETY: `vf` is valid and referenced for the call; `pci_dev_get()` takes
                    // the reference the `ARef` owns.
                    found = NonNull::new(unsafe { bindings::pci_dev_get(vf) })
                        .map(|p| unsafe { ARef::from_raw(p.cast()) });
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

    fn set_driver_override(&self, name: &[u8]) -> Result {
        // The C function measures the string with strlen(): pass a NUL-terminated copy.
        let mut buf = [0u8; 64];
        if name.is_empty() || name.len() >= buf.len() || name.contains(&0) {
            return Err(EINVAL);
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = *s;
        }
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; `buf` is NUL-terminated and the
        // function copies it, taking the device's override lock itself.
        to_result(unsafe {
            bindings::__device_set_driver_override(
                core::ptr::addr_of_mut!((*raw(self)).dev),
                buf.as_ptr().cast(),
                name.len(),
            )
        })
    }
}

/// SR-IOV configuration changes; they need the device lock, hence the `Core` context.
pub trait SriovCore {
    /// Enables `nr_virtfn` VFs (`pci_enable_sriov()`).
    ///
    /// Fails with the PCI core's error: `EINVAL` for a count above `sriov_totalvfs`, `EBUSY` when
    /// VFs are already enabled, `ENOMEM` or `EIO` when the VFs cannot be set up.
    fn enable_sriov(&self, nr_virtfn: u16) -> Result;

    /// Disables all VFs (`pci_disable_sriov()`), removing their devices first.
    ///
    /// The running thread must hold the PCI core's rescan/remove lock, as around
    /// `sriov_configure`, in a removal's `remove`, or through [`super::rescan::run_locked`].
    fn disable_sriov(&self);

    /// Saves the device's configuration, SR-IOV included (`pci_save_state()`), for
    /// [`SriovCore::restore_state`] after a reset.
    fn save_state(&self) -> Result;

    /// Writes the saved configuration back (`pci_restore_state()`), SR-IOV included: after a
    /// reset that cleared VF Enable, the VFs are enabled again with the same count.
    fn restore_state(&self);

    /// Stops new driver binds of this PF's VFs and waits for the probes already running, so
    /// that which VFs are bound can be read and acted on with no bind slipping in between.
    ///
    /// Each VF's `driver_override` is set to `stop`, the name of a driver that refuses VFs
    /// (a PF driver such as pf_stub). The PCI core then matches no other driver to the VF: not
    /// for a bind that starts now, nor for a probe that matched before and still waits for the
    /// VF's device lock, since the core matches the override once more under that lock before
    /// it calls a probe (`pci_match_device()` in `__pci_device_probe()`). Then each VF's device
    /// lock is taken and released, which waits for a probe or release in flight, and whether a
    /// driver is bound is read under it ([`StoppedVfBinds::bound`]). Until the returned object is
    /// dropped no VF of this PF can become bound; VFs can still lose their driver. Dropping it
    /// sets each VF's override back to what it was, or to `default` where it already read `stop`
    /// (a bind the caller refused earlier by the same means), unless it was changed meanwhile.
    ///
    /// Fails, with every override set back, with `ENOMEM`, or `E2BIG` when a VF's override is
    /// longer than an [`OverrideName`] holds.
    ///
    /// Locks: the caller holds this PF's device lock (the `Core` context), so no VF of this PF
    /// is added meanwhile (a removal above the PF may remove some: they stay referenced). Each
    /// VF's override spinlock and device lock are taken and released in turn; none is held on
    /// return. A VF's device lock taken under its PF's is the PCI core's own order
    /// (`sriov_numvfs_store()` removes VFs, taking their locks, under the PF's). The caller must
    /// not hold a lock that a probe or release of a VF driver, or a bus notifier, waits for.
    fn stop_vf_binds(&self, stop: &'static CStr, default: Option<&[u8]>) -> Result<StoppedVfBinds>;
}

/// One VF of a [`StoppedVfBinds`].
struct StoppedVf {
    vf: ARef<pci::Device>,
    /// The VF's `driver_override` before binds were stopped; `None` when it was unset.
    before: Option<OverrideName>,
    /// Whether the override was set to stop binds, and is to be set back.
    stopped: bool,
}

/// The VFs of a PF whose new binds are stopped ([`SriovCore::stop_vf_binds`]); dropping it lets
/// them bind again.
pub struct StoppedVfBinds {
    vfs: KVec<StoppedVf>,
    stop: &'static CStr,
    default: Option<OverrideName>,
    bound: u16,
}

impl StoppedVfBinds {
    /// How many VFs had a driver bound once binds were stopped and the probes in flight had
    /// ended. It can only go down until `self` is dropped.
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
                    "could not set driver_override back after stopping VF binds (error {}): it reads {}; write it again by hand\n",
                    e.to_errno(),
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
    // (`device_lock()` is `mutex_lock(&dev->mutex)`), taken and released here by this thread;
    // `device_is_bound()` is read under it, as it asks.
    unsafe {
        let lock = &raw mut (*dev).dev.mutex;
        bindings::mutex_lock(lock);
        let bound = bindings::device_is_bound(&raw mut (*dev).dev);
        bindings::mutex_unlock(lock);
        bound
    }
}

/// `PCI_DEV_ADDED` of `pci_dev.priv_flags` (`drivers/pci/pci.h`): set while the device is on
/// the bus; the PCI core clears it, under the rescan/remove lock, before releasing the driver of a
/// device it removes.
const PCI_DEV_ADDED: u32 = 0;

impl<'a> SriovCore for pci::Device<device::Core<'a>> {
    fn enable_sriov(&self, nr_virtfn: u16) -> Result {
        // SAFETY: `raw(self)` is a valid `struct pci_dev` and the `Core` context guarantees the
        // device lock is held, as the PCI core requires for changing the SR-IOV configuration.
        to_result(unsafe { bindings::pci_enable_sriov(raw(self), i32::from(nr_virtfn)) })
    }

    fn disable_sriov(&self) {
        // SAFETY: As for `enable_sriov`; disabling is valid in any state, a no-op without VFs.
        unsafe { bindings::pci_disable_sriov(raw(self)) }
    }

    fn save_state(&self) -> Result {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; the device lock (the `Core` context)
        // serialises this with the PCI core's own saves around resets.
        to_result(unsafe { bindings::pci_save_state(raw(self)) })
    }

    fn restore_state(&self) {
        // SAFETY: As for `save_state`; without a saved state the function does nothing.
        unsafe { bindings::pci_restore_state(raw(self)) }
    }

    fn stop_vf_binds(&self, stop: &'static CStr, default: Option<&[u8]>) -> Result<StoppedVfBinds> {
        let default = default.map(OverrideName::new).transpose()?;
        let mut vfs = KVec::new();
        let mut pushed = Ok(());
        for_each_vf(self, |vf| {
            if pushed.is_err() {
                return;
            }
            // SAFETY: `vf` is valid and referenced for the call; `pci_dev_get()` takes the
            // reference the `ARef` owns.
            let vf = unsafe {
                NonNull::new(bindings::pci_dev_get(vf))
                    .map(|p| ARef::<pci::Device>::from_raw(p.cast()))
            };
            if let Some(vf) = vf {
                let v = StoppedVf {
                    vf,
                    before: None,
                    stopped: false,
                };
                pushed = vfs.push(v, GFP_KERNEL).map_err(|_| ENOMEM);
            }
        });
        pushed?;
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
            v.before = before;
            v.stopped = true;
        }
        let bound = this.vfs.iter().filter(|v| settle(&v.vf)).count();
        this.bound = u16::try_from(bound).unwrap_or(u16::MAX);
        Ok(this)
    }
}

/// A dynamic device ID, in the fields of `pci_add_dynid()` (and of `pci-stub`'s `ids=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynamicId {
    /// Vendor ID, or `PCI_ANY_ID`.
    pub vendor: u32,
    /// Device ID, or `PCI_ANY_ID`.
    pub device: u32,
    /// Subsystem vendor ID, or `PCI_ANY_ID`.
    pub subvendor: u32,
    /// Subsystem device ID, or `PCI_ANY_ID`.
    pub subdevice: u32,
    /// Class code (24 bits), compared under `class_mask`.
    pub class: u32,
    /// Which bits of `class` must match; 0 matches any class.
    pub class_mask: u32,
}

/// A PCI driver with SR-IOV support.
///
/// Like [`pci::Driver`], plus [`Driver::sriov_configure`], driver attributes, and driver-wide
/// data ([`Driver::Shared`], the Rust form of a C driver's `container_of(pdev->driver, ...)`).
pub trait Driver: Send + Sync + 'static {
    /// The type holding information about each device ID of [`Driver::ID_TABLE`].
    type IdInfo: 'static;

    /// Data shared by all devices of the driver, alive while the driver is registered.
    type Shared: Send + Sync + 'static;

    /// The table of device IDs supported by the driver.
    const ID_TABLE: pci::IdTable<Self::IdInfo>;

    /// The sysfs attributes the driver core adds to each device the driver is bound to.
    const DEV_GROUPS: Option<&'static AttributeGroups<Self>> = None;

    /// Whether the driver manages the DMA of its devices itself (`driver_managed_dma`), so that
    /// binding it does not claim the kernel's DMA ownership of the device's IOMMU group and
    /// user space (vfio) may own the group while the driver is bound, as with `pci-stub`.
    ///
    /// Only for a driver that never lets its device do DMA: it must not enable bus mastering or
    /// map memory for the device, since the group's IOMMU domain may then be a user's.
    const DRIVER_MANAGED_DMA: bool = false;

    /// Dynamic IDs (as `pci_add_dynid()` takes them) added right after registration.
    fn dynamic_ids(shared: &Self::Shared) -> &[DynamicId] {
        let _ = shared;
        &[]
    }

    /// Binds the driver to `dev`; the returned data lives until [`Driver::unbind`] returns.
    ///
    /// `id_info` is `None` when the device was matched by a dynamic ID or `driver_override`, or
    /// by a table without info on Linux 7.3 (see `compat::pci_id_table!`).
    fn probe(
        dev: &pci::Device<device::Core<'_>>,
        shared: Pin<&Self::Shared>,
        id_info: Option<&'static Self::IdInfo>,
    ) -> impl PinInit<Self, Error>;

    /// Unbinds the driver from `dev`; `this` is dropped right after.
    fn unbind(dev: &pci::Device<device::Core<'_>>, shared: Pin<&Self::Shared>, this: Pin<&Self>) {
        let _ = (dev, shared, this);
    }

    /// Whether the PCI core gets the driver's error and reset callbacks below
    /// (`pci_driver.err_handler`). Without them, an error reported on the device makes the
    /// recovery of its whole hierarchy fail.
    const ERROR_HANDLERS: bool = false;

    /// An error was reported on `dev` (AER, DPC): the driver's vote for the recovery.
    fn error_detected(
        dev: &pci::Device<device::Core<'_>>,
        this: Pin<&Self>,
        state: ChannelState,
    ) -> ErsResult {
        let _ = (dev, this, state);
        ErsResult::None
    }

    /// The link or slot of `dev` was reset during recovery.
    fn slot_reset(dev: &pci::Device<device::Core<'_>>, this: Pin<&Self>) -> ErsResult {
        let _ = (dev, this);
        ErsResult::None
    }

    /// Recovery is over: `dev` may be used again.
    fn resume(dev: &pci::Device<device::Core<'_>>, this: Pin<&Self>) {
        let _ = (dev, this);
    }

    /// A function reset of `dev` is about to happen (sysfs `reset`, `pci_reset_function()`).
    fn reset_prepare(dev: &pci::Device<device::Core<'_>>, this: Pin<&Self>) {
        let _ = (dev, this);
    }

    /// The function reset of `dev` is done and its configuration restored.
    fn reset_done(dev: &pci::Device<device::Core<'_>>, this: Pin<&Self>) {
        let _ = (dev, this);
    }

    /// Called when user space writes `nr_virtfn` to `sriov_numvfs`.
    ///
    /// The PCI core has already refused a count above `sriov_totalvfs` (`ERANGE`), a change
    /// between two non-zero counts (`EBUSY`) and a write of the current count (a no-op). Returns
    /// the number of VFs now enabled.
    fn sriov_configure(
        dev: &pci::Device<device::Core<'_>>,
        this: Pin<&Self>,
        nr_virtfn: u16,
    ) -> Result<u16>;
}

/// A registered PCI driver of type `T`, with its shared data.
///
/// # Invariants
///
/// `drv` is registered with the PCI core from a successful [`Registration::new`] until drop, and
/// its `probe`, `remove` and `sriov_configure` callbacks are those of [`Registration<T>`].
#[pin_data(PinnedDrop)]
pub struct Registration<T: Driver> {
    #[pin]
    shared: T::Shared,
    #[pin]
    drv: Opaque<bindings::pci_driver>,
    _t: PhantomData<T>,
}

// SAFETY: `Registration` has no methods that access `drv` through `&self`; the PCI core
// serialises its own use of it. `T::Shared` is `Sync`.
unsafe impl<T: Driver> Sync for Registration<T> {}

// SAFETY: Registration and unregistration are C functions valid from any thread; `T::Shared`
// is `Send`.
unsafe impl<T: Driver> Send for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Initialises the shared data, registers the PCI driver `name`, then adds the driver's
    /// [`Driver::dynamic_ids`] (each may bind devices at once). On failure nothing stays
    /// registered.
    pub fn new(
        name: &'static CStr,
        module: &'static ThisModule,
        shared: impl PinInit<T::Shared, Error>,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            shared <- shared,
            drv <- Opaque::try_ffi_init(move |ptr: *mut bindings::pci_driver| {
                // SAFETY: `try_ffi_init` guarantees `ptr` is valid for writes; an all-zero
                // `pci_driver` is the C "no callbacks" state, and every field of it (pointers,
                // integers, `Option`s of function pointers, `bool`) is valid as zeroes. Zeroing
                // in place instead of writing `pci_driver::default()` keeps the module free of
                // symbols that depend on the bindgen version.
                unsafe {
                    ptr.write_bytes(0, 1);
                    (*ptr).name = name.as_char_ptr();
                    (*ptr).probe = Some(Self::probe_callback);
                    (*ptr).remove = Some(Self::remove_callback);
                    (*ptr).sriov_configure = Some(Self::sriov_configure_callback);
                    (*ptr).driver_managed_dma = T::DRIVER_MANAGED_DMA;
                    (*ptr).err_handler = if T::ERROR_HANDLERS {
                        &ErrorHandlers::<T>::TABLE
                    } else {
                        core::ptr::null()
                    };
                    (*ptr).id_table = T::ID_TABLE.as_ptr();
                    // The attributes' callbacks read the driver data as `T`, which
                    // `AttributeGroups<T>` guarantees matches this driver.
                    (*ptr).dev_groups =
                        T::DEV_GROUPS.map_or(core::ptr::null_mut(), |g| g.as_raw().cast_mut());
                }
                // SAFETY: `ptr` is a valid, initialised `pci_driver` that stays pinned until the
                // `pci_unregister_driver()` in `drop` (or below, on failure).
                to_result(unsafe {
                    bindings::__pci_register_driver(ptr, module.as_ptr(), name.as_char_ptr())
                })
            }),
            _t: PhantomData,
        })
        .pin_chain(|this| {
            let ptr = this.drv.get();
            for id in T::dynamic_ids(&this.shared) {
                // SAFETY: `ptr` is our registered `pci_driver`; on failure the caller drops
                // `Self`, which unregisters it.
                to_result(unsafe {
                    bindings::pci_add_dynid(
                        ptr,
                        id.vendor,
                        id.device,
                        id.subvendor,
                        id.subdevice,
                        id.class,
                        id.class_mask,
                        0,
                    )
                })?;
            }
            Ok(())
        })
    }

    /// The shared data of the registration whose driver `pdev` is bound to (or being probed by).
    ///
    /// # Safety
    ///
    /// `pdev` must be a valid `struct pci_dev` whose driver is the `drv` of a `Registration<T>`,
    /// e.g. in this driver's `probe`, `remove` or `sriov_configure` callback, and the returned
    /// reference must not outlive that callback.
    unsafe fn shared<'a>(pdev: *mut bindings::pci_dev) -> Pin<&'a T::Shared> {
        // SAFETY: By the safety requirements `pdev` is bound to (or being probed by) our driver,
        // so `pci_dev_driver()` returns the `drv` of a live `Registration<T>`, which cannot be
        // dropped while the callback runs (unregistration waits for it).
        unsafe {
            let drv = bindings::pci_dev_driver(pdev);
            let reg = container_of!(drv.cast::<Opaque<bindings::pci_driver>>(), Self, drv);
            Pin::new_unchecked(&(*reg).shared)
        }
    }

    extern "C" fn probe_callback(
        pdev: *mut bindings::pci_dev,
        id: *const bindings::pci_device_id,
    ) -> c_int {
        // SAFETY: The PCI core calls `probe` with a valid `struct pci_dev` and the device lock
        // held, for the duration of the call: the `CoreInternal` context.
        let dev = unsafe { &*pdev.cast::<pci::Device<device::CoreInternal<'_>>>() };
        // SAFETY: This is our driver's `probe`, so `pdev`'s driver is our `drv`.
        let shared = unsafe { Self::shared(pdev) };

        // Dynamic IDs and `driver_override` matches have no entry in `ID_TABLE`: only a match
        // whose address lies inside the static table has `IdInfo`.
        let table = T::ID_TABLE.as_ptr();
        let mut info = None;
        let mut i = 0;
        loop {
            // SAFETY: `table` is a static array terminated by an all-zero entry, and `i` never
            // passes the terminator.
            let entry = unsafe { table.add(i) };
            // SAFETY: `entry` is within the array, as argued above.
            let e = unsafe { &*entry };
            if e.vendor == 0 && e.subvendor == 0 && e.class_mask == 0 {
                break;
            }
            if core::ptr::eq(entry, id) {
                // SAFETY: `entry` is entry `i` of `T::ID_TABLE`.
                info = unsafe { id_info::<T::IdInfo>(T::ID_TABLE, entry, i) };
                break;
            }
            i += 1;
        }

        from_result(|| {
            dev.as_ref().set_drvdata(T::probe(dev, shared, info))?;
            Ok(0)
        })
    }

    extern "C" fn remove_callback(pdev: *mut bindings::pci_dev) {
        // SAFETY: The PCI core calls `remove` with a valid, bound `struct pci_dev` and the device
        // lock held: the `CoreInternal` context.
        let dev = unsafe { &*pdev.cast::<pci::Device<device::CoreInternal<'_>>>() };
        // SAFETY: This is our driver's `remove`, so `pdev`'s driver is our `drv`.
        let shared = unsafe { Self::shared(pdev) };

        // SAFETY: `remove` is only called after a successful `probe`, which stored a
        // `Pin<KBox<T>>` with `set_drvdata()`.
        let data = unsafe { dev.as_ref().drvdata_borrow::<T>() };
        T::unbind(dev, shared, data);

        // SAFETY: `raw(dev)` is a valid `struct pci_dev`; its driver data is the pointer
        // `set_drvdata()` made with `into_foreign()`, not yet taken back. Clearing it first means
        // nothing can borrow the data once it is dropped.
        let ptr = unsafe {
            let d = core::ptr::addr_of_mut!((*raw(dev)).dev);
            let ptr = bindings::dev_get_drvdata(d);
            bindings::dev_set_drvdata(d, core::ptr::null_mut());
            ptr
        };
        if !ptr.is_null() {
            // SAFETY: `ptr` came from `Pin<KBox<T>>::into_foreign()` in `set_drvdata()` and the
            // borrow above has ended.
            drop(unsafe { Pin::<KBox<T>>::from_foreign(ptr.cast()) });
        }
    }

    extern "C" fn sriov_configure_callback(
        pdev: *mut bindings::pci_dev,
        nr_virtfn: c_int,
    ) -> c_int {
        // SAFETY: The PCI core calls `sriov_configure` only from `sriov_numvfs_store()`, which
        // holds the device lock and has checked that this driver is bound: the `CoreInternal`
        // context, valid for the call.
        let dev = unsafe { &*pdev.cast::<pci::Device<device::CoreInternal<'_>>>() };

        // SAFETY: The driver is bound, so `probe` succeeded and stored a `Pin<KBox<T>>`, which
        // `remove` cannot take away while the device lock is held.
        let data = unsafe { dev.as_ref().drvdata_borrow::<T>() };

        from_result(|| {
            let nr = u16::try_from(nr_virtfn).map_err(|_| ERANGE)?;
            Ok(i32::from(T::sriov_configure(dev, data, nr)?))
        })
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariants, `drv` is registered.
        unsafe { bindings::pci_unregister_driver(self.drv.get()) };
    }
}
