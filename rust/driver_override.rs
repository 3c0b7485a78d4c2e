// SPDX-License-Identifier: GPL-2.0

//! A device's `driver_override`: which one driver may bind it (`struct device.driver_override`).
//!
//! A PF driver pins the VFs it creates to a VF driver (vfio-pci) by setting their override
//! before any driver probes them, as vfio-pci itself does, and keeps a PF from being bound by
//! another driver the same way.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)
//!
//! An override can also be set from a buffer allocated ahead ([`OverrideReserve`]), where a pin
//! must not fail for want of memory: the buffer is handed to the device under its override lock,
//! as `__device_set_driver_override()` hands its own copy.
//!
//! Upstream: `device_set_driver_override()` and the override's read; not merged (no binding in
//! the kernel crates of 7.2 and 7.3). The reserve has no C counterpart. Future home: `rust/kernel/device.rs`, as inherent methods
//! of `device::Device` (the override is a member of every `struct device` in 7.2 and 7.3).

use super::pci_dev::raw;
use kernel::{
    bindings,
    device,
    error::to_result,
    pci,
    prelude::*,
    sync::SpinLock, //
};

/// Longest `driver_override` an [`OverrideName`] holds (a driver name is at most a few dozen).
const OVERRIDE_MAX: usize = 63;

/// A copy of a device's `driver_override`, to be set again later.
///
/// # Invariants
///
/// `len` is at most `OVERRIDE_MAX` and at least 1, and `buf[..len]` holds no NUL and no newline.
#[derive(Clone, Copy)]
pub struct OverrideName {
    buf: [u8; OVERRIDE_MAX],
    len: usize,
}

impl OverrideName {
    /// A copy of `name`: `EINVAL` when empty or holding a NUL or a newline (the driver core
    /// would cut the name at the newline, `__device_set_driver_override()`), `E2BIG` when longer
    /// than an `OverrideName` holds.
    pub fn new(name: &[u8]) -> Result<Self> {
        if name.is_empty() || name.contains(&0) || name.contains(&b'\n') {
            return Err(EINVAL);
        }
        let mut buf = [0; OVERRIDE_MAX];
        buf.get_mut(..name.len())
            .ok_or(E2BIG)?
            .copy_from_slice(name);
        // INVARIANT: `name` is 1 to `OVERRIDE_MAX` bytes (checked above, and by the copy into
        // `buf`) without NUL or newline.
        Ok(Self {
            buf,
            len: name.len(),
        })
    }

    /// The name's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A `driver_override` allocated ahead of need: the buffer that
/// [`DriverOverride::set_driver_override_reserved`] hands to the device, so that an override can
/// be set where `device_set_driver_override()` has just failed to allocate its copy.
///
/// # Invariants
///
/// `0` was allocated by the kmalloc allocator (its `KBox`), so the driver core may free it with
/// `kfree()` once it owns it.
pub struct OverrideReserve(KBox<[u8; OVERRIDE_MAX + 1]>);

impl OverrideReserve {
    /// A reserve for one override of up to `OVERRIDE_MAX` bytes (`ENOMEM` when it cannot be
    /// allocated).
    pub fn new() -> Result<Self> {
        // INVARIANT: a `KBox` is allocated by `Kmalloc`.
        Ok(Self(KBox::new([0; OVERRIDE_MAX + 1], GFP_KERNEL)?))
    }
}

/// Reading and changing a device's `driver_override`.
pub trait DriverOverride {
    /// Sets the device's `driver_override`, so that only the driver `name` binds it from now on
    /// (`device_set_driver_override()`). `name` must be 1 to 63 bytes without NUL.
    fn set_driver_override(&self, name: &[u8]) -> Result;

    /// Returns the device's `driver_override` (`None` when unset), or `Err(E2BIG)` when it is
    /// longer than an [`OverrideName`] holds.
    fn driver_override(&self) -> Result<Option<OverrideName>>;

    /// Clears the device's `driver_override`.
    fn clear_driver_override(&self) -> Result;

    /// Sets the device's `driver_override` to `name` in `reserve`, allocating nothing: cannot
    /// fail, which `set_driver_override` can (its copy of the name is allocated).
    fn set_driver_override_reserved(&self, name: &OverrideName, reserve: OverrideReserve);
}

impl<Ctx: device::DeviceContext> DriverOverride for pci::Device<Ctx> {
    fn set_driver_override(&self, name: &[u8]) -> Result {
        // The C function measures the string with strlen(): pass a NUL-terminated copy. A name
        // that is empty, too long or holds a NUL is refused with `EINVAL` alike.
        let name = OverrideName::new(name).map_err(|_| EINVAL)?;
        let mut buf = [0u8; OVERRIDE_MAX + 1];
        buf[..name.len].copy_from_slice(name.as_bytes());
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; `buf` is NUL-terminated after `len`
        // bytes (by the invariants of `OverrideName`, and the zeroed last byte), and the function
        // copies it, taking the device's override lock itself.
        to_result(unsafe {
            bindings::__device_set_driver_override(
                &raw mut (*raw(self)).dev,
                buf.as_ptr().cast(),
                name.len,
            )
        })
    }

    fn driver_override(&self) -> Result<Option<OverrideName>> {
        let dev = raw(self);
        // SAFETY: `dev` is a valid `struct pci_dev` (type invariant of `pci::Device`), whose
        // `driver_override.lock` is a spinlock the driver core initialised with the device and
        // that lives as long as `self`.
        let lock = unsafe { SpinLock::<()>::from_raw(&raw mut (*dev).dev.driver_override.lock) };
        let _guard = lock.lock();
        // SAFETY: `driver_override.name` is written only under the lock held here
        // (`__device_set_driver_override()`), and is NULL or a NUL-terminated string, copied
        // before the guard is dropped.
        unsafe {
            let name = (*dev).dev.driver_override.name;
            if name.is_null() {
                Ok(None)
            } else {
                OverrideName::new(CStr::from_char_ptr(name).to_bytes()).map(Some)
            }
        }
    }

    #[inline]
    fn clear_driver_override(&self) -> Result {
        // SAFETY: `raw(self)` is a valid `struct pci_dev`; an empty string (non-NULL, length 0)
        // clears the override, and the function takes the override lock itself.
        to_result(unsafe {
            bindings::__device_set_driver_override(&raw mut (*raw(self)).dev, c"".as_char_ptr(), 0)
        })
    }

    fn set_driver_override_reserved(&self, name: &OverrideName, reserve: OverrideReserve) {
        let mut buf = reserve.0;
        // By the invariants of `OverrideName`, `len` is at most `OVERRIDE_MAX`: the name and its
        // NUL fit, and the name holds no NUL.
        buf[..name.len].copy_from_slice(name.as_bytes());
        buf[name.len] = 0;
        let new = KBox::into_raw(buf)
            .cast::<kernel::ffi::c_char>()
            .cast_const();
        let dev = raw(self);
        // SAFETY: as in `driver_override`: `dev` is a valid `struct pci_dev`, whose
        // `driver_override.lock` is an initialised spinlock living as long as `self`.
        let lock = unsafe { SpinLock::<()>::from_raw(&raw mut (*dev).dev.driver_override.lock) };
        let old = {
            let _guard = lock.lock();
            // SAFETY: `driver_override.name` is written only under the lock held here, as
            // `__device_set_driver_override()` does. The device owns `new` from now on: a
            // NUL-terminated string allocated by kmalloc (invariant of `OverrideReserve`), which
            // the driver core frees with `kfree()` when it replaces it or releases the device.
            unsafe { core::mem::replace(&mut (*dev).dev.driver_override.name, new) }
        };
        // SAFETY: `old` was the device's override, NULL or a kmalloc'ed string that the device
        // owned and nothing refers to now (readers copy or compare it under the lock); the
        // driver core frees it the same way after replacing it.
        unsafe { bindings::kfree(old.cast()) };
    }
}
