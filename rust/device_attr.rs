// SPDX-License-Identifier: GPL-2.0

//! Driver-owned sysfs attributes of bound PCI devices (`struct device_driver.dev_groups`).
//!
//! The driver core creates a driver's `dev_groups` on a device after a successful `probe` and
//! removes them (waiting for running `show`/`store` calls to finish) before `remove`. So while
//! an attribute callback runs, the device is bound and its driver data is alive: that is what
//! lets the callbacks here hand the driver a [`Pin<&T>`] of its data.
//!
//! The callbacks read the driver data as a `T`, so an attribute must only reach the `dev_groups`
//! of a driver whose data is a `T`. The types carry `T` from the attribute to the whole list:
//! a [`DeviceAttribute<T>`] goes only into an [`AttributeList<T, N>`], that only into an
//! [`AttributeGroup<T>`], that only into an [`AttributeGroups<T>`], and
//! [`super::pci_driver::Driver::DEV_GROUPS`] takes only the `AttributeGroups<Self>` of the
//! driver's own data type. Their fields are private and their constructors typed, so pairing
//! one driver's attributes with another's data does not compile. [`device_attribute_groups!`]
//! builds the whole chain.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)
//!
//! Upstream: a driver's `dev_groups`; not merged (the kernel crates of 7.2 and 7.3 have no sysfs
//! attributes). Future home: `rust/kernel/driver.rs` (the `dev_groups` of a driver), with the
//! attribute types in `rust/kernel/sysfs.rs`.

use core::{
    marker::PhantomData,
    ptr, //
};
use kernel::{
    bindings,
    device,
    page::PAGE_SIZE,
    pci,
    prelude::*,
    str::Formatter,
    types::ForeignOwnable, //
};

/// A sysfs attribute on the devices a driver with driver data `T` is bound to.
pub trait Attribute<T: 'static>: 'static {
    /// Writes the attribute's value to `out`, which holds at most `PAGE_SIZE - 1` bytes.
    fn show(dev: &pci::Device<device::Bound>, data: Pin<&T>, out: &mut Formatter<'_>) -> Result;

    /// Takes a write of `input` (all of it, as sysfs passes it). Returns an error to refuse it.
    fn store(dev: &pci::Device<device::Bound>, data: Pin<&T>, input: &[u8]) -> Result;
}

/// A `struct device_attribute` for the devices of a driver whose driver data is a `T`.
///
/// # Invariants
///
/// `attr.show` and `attr.store` are [`show_callback::<T, A>`] and [`store_callback::<T, A>`] of
/// one `A: Attribute<T>`, and `attr.attr.name` is a NUL-terminated `'static` string.
#[repr(transparent)]
pub struct DeviceAttribute<T: 'static> {
    /// The C attribute.
    attr: bindings::device_attribute,
    /// The driver data type the callbacks read.
    _t: PhantomData<T>,
}

// SAFETY: The attribute is constant after construction; the kernel only reads it, and it holds
// no `T`.
unsafe impl<T: 'static> Sync for DeviceAttribute<T> {}

impl<T: 'static> DeviceAttribute<T> {
    /// Creates the attribute `name` with permissions `mode` (e.g. `0o644`), whose callbacks are
    /// those of `A`.
    pub const fn new<A: Attribute<T>>(name: &'static CStr, mode: u16) -> Self {
        let mut attr: bindings::device_attribute = pin_init::zeroed();
        // `as_char_ptr()` is not `const`; the cast is the same conversion.
        #[allow(clippy::disallowed_methods)]
        let name_ptr = name.as_ptr().cast();
        attr.attr.name = name_ptr;
        attr.attr.mode = mode;
        attr.__bindgen_anon_1.show = Some(show_callback::<T, A>);
        attr.__bindgen_anon_2.store = Some(store_callback::<T, A>);
        // INVARIANT: Both callbacks are those of `A`; `name` is a `'static` C string.
        Self {
            attr,
            _t: PhantomData,
        }
    }

    /// The embedded `struct attribute`, for an [`AttributeList`].
    const fn as_attribute(&'static self) -> *mut bindings::attribute {
        ptr::from_ref(&self.attr.attr).cast_mut()
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
    // SAFETY: By the invariants of `DeviceAttribute<T>`, this callback is only in the
    // `dev_groups` of a driver whose driver data is a `Pin<KBox<T>>` (see the module
    // documentation), and the device stays bound during the call.
    let data = unsafe { drvdata::<T>(dev) };
    // One byte short of the page: `sysfs_kf_seq_show()` takes a count of `PAGE_SIZE` for an
    // overflow, warns and cuts it.
    // SAFETY: `sysfs_kf_seq_show()` passes a page at `buf`, zeroed, that only this call writes
    // until it returns.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE - 1) };
    let mut out = Formatter::new(page);
    match A::show(pdev, data, &mut out) {
        Ok(()) => out.bytes_written() as isize,
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

/// The NULL-terminated list of `N` attributes of a driver whose driver data is a `T`
/// (`struct attribute_group.attrs`).
///
/// # Invariants
///
/// `attrs` are the `struct attribute`s of `N` `'static` [`DeviceAttribute<T>`] and `end` is NULL;
/// with `#[repr(C)]`, `end` directly follows `attrs` (both are pointers, of one alignment), so the
/// object is the NULL-terminated array the driver core walks.
#[repr(C)]
pub struct AttributeList<T: 'static, const N: usize> {
    /// The attributes.
    attrs: [*mut bindings::attribute; N],
    /// The NULL terminator.
    end: *mut bindings::attribute,
    /// The driver data type of the attributes.
    _t: PhantomData<T>,
}

// SAFETY: Constant after construction; the kernel only reads it, and it holds no `T`.
unsafe impl<T: 'static, const N: usize> Sync for AttributeList<T, N> {}

impl<T: 'static, const N: usize> AttributeList<T, N> {
    /// The list of `attrs`.
    pub const fn new(attrs: [&'static DeviceAttribute<T>; N]) -> Self {
        let mut raw = [ptr::null_mut(); N];
        let mut i = 0;
        while i < N {
            raw[i] = attrs[i].as_attribute();
            i += 1;
        }
        // INVARIANT: `raw` holds the attributes of `attrs`, all of `T`; `end` is NULL.
        Self {
            attrs: raw,
            end: ptr::null_mut(),
            _t: PhantomData,
        }
    }
}

/// An attribute group without a directory name, of a driver whose driver data is a `T`.
///
/// # Invariants
///
/// `group.attrs` is the array of a `'static` [`AttributeList<T, N>`], and every other field of
/// `group` is zero.
#[repr(transparent)]
pub struct AttributeGroup<T: 'static> {
    /// The C group.
    group: bindings::attribute_group,
    /// The driver data type of the attributes.
    _t: PhantomData<T>,
}

// SAFETY: Constant after construction; the kernel only reads it, and it holds no `T`.
unsafe impl<T: 'static> Sync for AttributeGroup<T> {}

impl<T: 'static> AttributeGroup<T> {
    /// A group without a directory name, holding `attrs`.
    pub const fn new<const N: usize>(attrs: &'static AttributeList<T, N>) -> Self {
        let mut group: bindings::attribute_group = pin_init::zeroed();
        // The whole list, `end` included, is the array (see `AttributeList`).
        group.__bindgen_anon_2.attrs = ptr::from_ref(attrs)
            .cast::<*mut bindings::attribute>()
            .cast_mut();
        // INVARIANT: `attrs` is a `'static` list of attributes of `T`.
        Self {
            group,
            _t: PhantomData,
        }
    }
}

/// The NULL-terminated list of attribute groups of a driver whose driver data is a `T`, for
/// `struct device_driver.dev_groups`: [`super::pci_driver::Driver::DEV_GROUPS`].
///
/// Made by [`device_attribute_groups!`].
///
/// # Invariants
///
/// `groups[0]` is a `'static` [`AttributeGroup<T>`] and `groups[1]` is NULL.
pub struct AttributeGroups<T: ?Sized + 'static> {
    /// The group and the NULL terminator.
    groups: [*const bindings::attribute_group; 2],
    /// The driver data type of the attributes.
    _t: PhantomData<T>,
}

// SAFETY: Constant after construction; the kernel only reads it, and it holds no `T`.
unsafe impl<T: ?Sized + 'static> Sync for AttributeGroups<T> {}

impl<T: 'static> AttributeGroups<T> {
    /// The list holding `group` only.
    pub const fn new(group: &'static AttributeGroup<T>) -> Self {
        // INVARIANT: `group` is a `'static` group of `T`, followed by NULL.
        Self {
            groups: [ptr::from_ref(&group.group), ptr::null()],
            _t: PhantomData,
        }
    }

    /// The value for `struct device_driver.dev_groups`.
    pub const fn as_raw(&'static self) -> *const *const bindings::attribute_group {
        self.groups.as_ptr()
    }
}

/// Declares a driver's device attributes and their `dev_groups`.
///
/// `device_attribute_groups!(NAME, Data, [(name, mode, Attr), ...])` makes
/// `static NAME: AttributeGroups<Data>`, for the `Driver::DEV_GROUPS` of the driver whose driver
/// data is `Data`; each `Attr` implements [`Attribute<Data>`].
///
/// The macro names this module as `$crate::kext::device_attr`, where `pf_stub.rs` mounts
/// `rust/mod.rs`; a module that mounts it elsewhere passes the path first:
/// `device_attribute_groups!(in crate::path::to::kext; NAME, Data, [...])`.
///
/// # Examples
///
/// ```ignore
/// device_attribute_groups!(DEV_GROUPS, PfStub, [
///     (c"sriov_policy", 0o644, PolicyAttr),
/// ]);
///
/// impl pci_driver::Driver for PfStub {
///     const DEV_GROUPS: Option<&'static AttributeGroups<Self>> = Some(&DEV_GROUPS);
///     // ...
/// }
/// ```
#[macro_export]
macro_rules! device_attribute_groups {
    (
        in $($kext:tt)::+;
        $groups:ident, $data:ty, [$(($name:expr, $mode:expr, $attr:ty)),* $(,)?]
    ) => {
        static $groups: $($kext)::+::device_attr::AttributeGroups<$data> = {
            use $($kext)::+::device_attr as __kext_device_attr;
            const N: usize = [$(::core::stringify!($attr)),*].len();
            static LIST: __kext_device_attr::AttributeList<$data, N> =
                __kext_device_attr::AttributeList::new([$({
                    static A: __kext_device_attr::DeviceAttribute<$data> =
                        __kext_device_attr::DeviceAttribute::new::<$attr>($name, $mode);
                    &A
                }),*]);
            static GROUP: __kext_device_attr::AttributeGroup<$data> =
                __kext_device_attr::AttributeGroup::new(&LIST);
            __kext_device_attr::AttributeGroups::new(&GROUP)
        };
    };
    ($groups:ident, $data:ty, [$(($name:expr, $mode:expr, $attr:ty)),* $(,)?]) => {
        $crate::device_attribute_groups!(
            in $crate::kext; $groups, $data, [$(($name, $mode, $attr)),*]
        );
    };
}
