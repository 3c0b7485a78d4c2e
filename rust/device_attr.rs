// SPDX-License-Identifier: GPL-2.0

//! Driver-owned sysfs attributes of bound PCI devices (`struct device_driver.dev_groups`).
//!
//! The driver core creates a driver's `dev_groups` on a device after a successful `probe` and
//! removes them (waiting for running `show`/`store` calls to finish) before `remove`. So while
//! an attribute callback runs, the device is bound and its driver data is alive: that is what
//! lets the callbacks here hand the driver a [`Pin<&T>`] of its data.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)

use core::{fmt, marker::PhantomData, ptr};
use kernel::{bindings, device, pci, prelude::*, types::ForeignOwnable};

/// The output of a `show` callback: at most one page, as sysfs gives.
pub struct ShowBuffer {
    buf: *mut u8,
    len: usize,
}

impl ShowBuffer {
    /// The size of the buffer sysfs passes to `show`.
    const CAPACITY: usize = kernel::page::PAGE_SIZE;
}

impl fmt::Write for ShowBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        // Keep one byte for the NUL that sysfs expects after the text.
        if self.len + bytes.len() >= Self::CAPACITY {
            return Err(fmt::Error);
        }
        // SAFETY: `buf` points to `CAPACITY` writable bytes (the sysfs page) and the check above
        // keeps the copy, and the NUL after it, inside them.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf.add(self.len), bytes.len());
            *self.buf.add(self.len + bytes.len()) = 0;
        }
        self.len += bytes.len();
        Ok(())
    }
}

/// A sysfs attribute on the devices a driver with driver data `T` is bound to.
pub trait Attribute<T: 'static>: 'static {
    /// Writes the attribute's value to `out`.
    fn show(dev: &pci::Device<device::Bound>, data: Pin<&T>, out: &mut ShowBuffer) -> Result;

    /// Takes a write of `input` (all of it, as sysfs passes it). Returns an error to refuse it.
    fn store(dev: &pci::Device<device::Bound>, data: Pin<&T>, input: &[u8]) -> Result;
}

/// A `struct device_attribute` whose callbacks are those of `A`.
///
/// # Invariants
///
/// `attr.show` and `attr.store` are [`show_callback::<T, A>`] and [`store_callback::<T, A>`],
/// and the attribute is only ever placed in the `dev_groups` of a driver whose driver data is a
/// `Pin<KBox<T>>`.
#[repr(transparent)]
pub struct DeviceAttribute(bindings::device_attribute);

// SAFETY: The attribute is constant after construction; the kernel only reads it.
unsafe impl Sync for DeviceAttribute {}

impl DeviceAttribute {
    /// Creates the attribute `name` with permissions `mode` (e.g. `0o644`).
    ///
    /// # Safety
    ///
    /// The attribute must only be used in the `dev_groups` of a driver whose devices' driver data
    /// is a `Pin<KBox<T>>` set by `set_drvdata()`, such as a [`super::pci_sriov::Registration`]
    /// of a driver whose `Self` is `T`.
    pub const unsafe fn new<T: 'static, A: Attribute<T>>(name: &'static CStr, mode: u16) -> Self {
        let mut attr: bindings::device_attribute = pin_init::zeroed();
        // `as_char_ptr()` is not `const`; the cast is the same conversion.
        #[allow(clippy::disallowed_methods)]
        let name_ptr = name.as_ptr().cast();
        attr.attr.name = name_ptr;
        attr.attr.mode = mode;
        attr.__bindgen_anon_1.show = Some(show_callback::<T, A>);
        attr.__bindgen_anon_2.store = Some(store_callback::<T, A>);
        Self(attr)
    }

    /// The embedded `struct attribute`, for an attribute list.
    pub const fn as_attribute(&'static self) -> *mut bindings::attribute {
        ptr::from_ref(&self.0.attr).cast_mut()
    }
}

/// Returns the driver data of the bound device `dev`.
///
/// # Safety
///
/// `dev` must be a valid, bound `struct device` whose driver data is a `Pin<KBox<T>>`, and it
/// must stay bound while the returned reference lives.
unsafe fn drvdata<'a, T: 'static>(dev: *mut bindings::device) -> Pin<&'a T> {
    // SAFETY: By the safety requirements, the driver data is a live `Pin<KBox<T>>` made with
    // `into_foreign()`.
    unsafe { Pin::<KBox<T>>::borrow(bindings::dev_get_drvdata(dev).cast()) }
}

extern "C" fn show_callback<T: 'static, A: Attribute<T>>(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs calls `show` with a valid `struct device`; the attribute belongs to the
    // driver's `dev_groups`, so the device is bound for the duration of the call (see the module
    // documentation).
    let ddev = unsafe { device::Device::<device::Bound>::from_raw(dev) };
    let Ok(pdev) = <&pci::Device<device::Bound>>::try_from(ddev) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: By the invariants of `DeviceAttribute`, the driver data is a `Pin<KBox<T>>`, and
    // the device stays bound during the call.
    let data = unsafe { drvdata::<T>(dev) };
    let mut out = ShowBuffer {
        buf: buf.cast(),
        len: 0,
    };
    match A::show(pdev, data, &mut out) {
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

extern "C" fn store_callback<T: 'static, A: Attribute<T>>(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: As in `show_callback`.
    let ddev = unsafe { device::Device::<device::Bound>::from_raw(dev) };
    let Ok(pdev) = <&pci::Device<device::Bound>>::try_from(ddev) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: As in `show_callback`.
    let data = unsafe { drvdata::<T>(dev) };
    // SAFETY: sysfs passes `count` readable bytes at `buf`, valid for the call.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match A::store(pdev, data, input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// A NULL-terminated list of attributes.
#[doc(hidden)]
#[repr(transparent)]
pub struct AttributeList<const N: usize>(pub [*mut bindings::attribute; N]);

// SAFETY: Constant after construction; the kernel only reads it.
unsafe impl<const N: usize> Sync for AttributeList<N> {}

/// An attribute group, as the driver core takes it.
#[doc(hidden)]
#[repr(transparent)]
pub struct AttributeGroup(pub bindings::attribute_group);

// SAFETY: Constant after construction; the kernel only reads it.
unsafe impl Sync for AttributeGroup {}

impl AttributeGroup {
    /// A group without a directory name, holding `attrs`.
    pub const fn new<const N: usize>(attrs: &'static AttributeList<N>) -> Self {
        let mut g: bindings::attribute_group = pin_init::zeroed();
        g.__bindgen_anon_2.attrs = attrs.0.as_ptr().cast_mut();
        Self(g)
    }
}

/// The NULL-terminated list of attribute groups of a driver (`dev_groups`).
///
/// Made by [`crate::device_attribute_groups`].
#[repr(transparent)]
pub struct AttributeGroups<T: ?Sized>(
    pub [*const bindings::attribute_group; 2],
    pub PhantomData<T>,
);

// SAFETY: Constant after construction; the kernel only reads it.
unsafe impl<T: ?Sized> Sync for AttributeGroups<T> {}

impl<T: ?Sized> AttributeGroups<T> {
    /// The value for `struct device_driver.dev_groups`.
    pub const fn as_raw(&'static self) -> *const *const bindings::attribute_group {
        self.0.as_ptr()
    }
}

/// Declares a driver's device attributes and their `dev_groups`.
///
/// ```ignore
/// device_attribute_groups!(DEV_GROUPS, PfStub, [
///     (c"sriov_policy", 0o644, PolicyAttr),
/// ]);
/// ```
/// makes `static DEV_GROUPS: AttributeGroups<PfStub>`, to return from `Driver::DEV_GROUPS`.
#[macro_export]
macro_rules! device_attribute_groups {
    ($groups:ident, $data:ty, [$(($name:expr, $mode:expr, $attr:ty)),* $(,)?]) => {
        static $groups: $crate::kext::device_attr::AttributeGroups<$data> = {
            const N: usize = [$(::core::stringify!($attr)),*].len() + 1;
            static LIST: $crate::kext::device_attr::AttributeList<N> = {
                $crate::kext::device_attr::AttributeList([
                    $({
                        const NAME: &::kernel::str::CStr = $name;
                        const MODE: u16 = $mode;
                        type Data = $data;
                        type Attr = $attr;
                        // SAFETY: `Data` is the driver data type of the driver whose
                        // `DEV_GROUPS` this is, as the macro's contract says.
                        static A: $crate::kext::device_attr::DeviceAttribute = unsafe {
                            $crate::kext::device_attr::DeviceAttribute::new::<Data, Attr>(
                                NAME, MODE,
                            )
                        };
                        A.as_attribute()
                    },)*
                    ::core::ptr::null_mut(),
                ])
            };
            static GROUP: $crate::kext::device_attr::AttributeGroup =
                $crate::kext::device_attr::AttributeGroup::new(&LIST);
            $crate::kext::device_attr::AttributeGroups(
                [&raw const GROUP.0, ::core::ptr::null()],
                ::core::marker::PhantomData,
            )
        };
    };
}
