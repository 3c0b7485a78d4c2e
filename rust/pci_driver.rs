// SPDX-License-Identifier: GPL-2.0

//! A PCI driver with `sriov_configure`, driver attributes, error handlers and dynamic IDs.
//!
//! [`Driver`] is `pci::Driver` plus the optional callbacks a PF driver needs; [`Registration`]
//! registers it with a static ID table and any number of dynamic IDs (`pci_add_dynid()`, as
//! `pci-stub`'s `ids=` does).
//!
//! The driver data's life is that of the kernel crate's drivers (`rust/kernel/driver.rs`):
//! created by `probe`, borrowed by every callback while the device is bound, and dropped by the
//! driver core's `post_unbind_rust` callback, after `remove` and before the devres resources of
//! the device are released (`device_unbind_cleanup()` in `drivers/base/dd.c`).
//!
//! # Locks
//!
//! The PCI core and driver core call every callback here with the device lock held: `probe`
//! and `remove` from a bind, an unbind, `rmmod`, a removal or an enumeration (a removal or an
//! enumeration also holds `pci_rescan_remove_lock`, see [`super::rescan`]); `sriov_configure`
//! from `sriov_numvfs_store()`, which also holds `pci_rescan_remove_lock`; the error and reset
//! callbacks as `ErrorHandlers` says.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)
//!
//! Upstream: `pci::Driver` and `pci::Adapter`, merged with `probe` and `remove` only.
//! `sriov_configure` is the SR-IOV series' (v3, March 2026, not merged), which its rework splits
//! into `sriov_enable`/`sriov_disable` callbacks, setting `managed_sriov` so that the core
//! disables SR-IOV before a Rust PF driver's `remove`; pf_stub keeps `sriov_configure`, since
//! it keeps VFs across an unbind (Documentation/pf_stub.rst, "Upstream"). The error and reset
//! callbacks, dynamic IDs, `driver_managed_dma` and `dev_groups`: not merged. Future home:
//! `rust/kernel/pci.rs` (`pci::Driver`, `pci::Adapter`).

use super::{
    compat::id_info,
    device_attr::AttributeGroups,
    pci_error::{
        ChannelState,
        ErsResult, //
    },
    rescan_lock::RescanLocked,
};
use core::marker::PhantomData;
use kernel::{
    bindings,
    container_of,
    device,
    error::{
        from_result,
        to_result, //
    },
    pci,
    prelude::*,
    types::{
        ForeignOwnable,
        Opaque, //
    },
    ThisModule, //
};

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
///
/// # Examples
///
/// The C `pci-pf-stub`, whose `sriov_configure` is `pci_sriov_configure_simple()`:
///
/// ```ignore
/// impl Driver for PfStub {
///     type IdInfo = ();
///     type Shared = ();
///     const ID_TABLE: pci::IdTable<()> = &PCI_TABLE;
///     fn probe(_: &pci::Device<Core<'_>>, _: Pin<&()>, _: Option<&()>) -> impl PinInit<Self, Error> {
///         Ok(PfStub)
///     }
///     fn sriov_configure(
///         dev: &pci::Device<Core<'_>>,
///         _: Pin<&Self>,
///         n: u16,
///         locked: &RescanLocked<'_>,
///     ) -> Result<u16> {
///         if n == 0 { dev.disable_sriov(locked) } else { dev.enable_sriov(n, locked)? }
///         Ok(n)
///     }
/// }
/// ```
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

    /// Binds the driver to `dev`; the returned data lives until after [`Driver::unbind`]
    /// returns (it is dropped after `remove`, before the device's devres resources are
    /// released).
    ///
    /// `id_info` is `None` when the device was matched by a dynamic ID or `driver_override`, or
    /// by a table without info on Linux 7.3 (see `compat::pci_id_table!`).
    fn probe(
        dev: &pci::Device<device::Core<'_>>,
        shared: Pin<&Self::Shared>,
        id_info: Option<&'static Self::IdInfo>,
    ) -> impl PinInit<Self, Error>;

    /// Unbinds the driver from `dev` (the PCI driver's `remove`); `this` is dropped right
    /// after, by the driver core's `post_unbind_rust` callback.
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
    ///
    /// # Locks
    ///
    /// The PCI core holds the device lock and `pci_rescan_remove_lock` (`locked`).
    fn sriov_configure(
        dev: &pci::Device<device::Core<'_>>,
        this: Pin<&Self>,
        nr_virtfn: u16,
        locked: &RescanLocked<'_>,
    ) -> Result<u16>;
}

/// A registered PCI driver of type `T`, with its shared data.
///
/// # Invariants
///
/// `drv` is registered with the PCI core from a successful [`Registration::new`] until drop, and
/// its `probe`, `remove`, `sriov_configure` and `driver.p_cb.post_unbind_rust` callbacks are
/// those of [`Registration<T>`]: the driver data of every device bound to it is a `Pin<KBox<T>>`.
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
        // INVARIANT: `drv` gets this type's callbacks, and is registered, in its initialiser; on
        // failure nothing is registered (a failed `pci_add_dynid()` drops `Self`, which
        // unregisters).
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
                    // What the kernel crate's `driver::Registration` installs for every Rust
                    // driver: the driver data is dropped after `remove`, before devres.
                    (*ptr).driver.p_cb.post_unbind_rust = Some(Self::post_unbind_callback);
                    // Probes run in the binding thread, never in an async worker
                    // (`driver_async_probe=`, `async_probe=1`): a first probe at enumeration
                    // then runs in the enumerator's thread, under its rescan/remove lock
                    // (`SriovCore::rescan_locked_unadded()` relies on it).
                    (*ptr).driver.probe_type = bindings::probe_type_PROBE_FORCE_SYNCHRONOUS;
                    (*ptr).sriov_configure = Some(Self::sriov_configure_callback);
                    (*ptr).driver_managed_dma = T::DRIVER_MANAGED_DMA;
                    (*ptr).err_handler = if T::ERROR_HANDLERS {
                        &ErrorHandlers::<T>::TABLE
                    } else {
                        core::ptr::null()
                    };
                    (*ptr).id_table = T::ID_TABLE.as_ptr();
                    // The attributes' callbacks read the driver data as `T`: an
                    // `AttributeGroups<T>` is made only of attributes of `T`.
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
        // `Pin<KBox<T>>` with `set_drvdata()`; it is dropped only after this callback returns.
        let data = unsafe { dev.as_ref().drvdata_borrow::<T>() };
        T::unbind(dev, shared, data);
    }

    /// Drops the driver data, after `remove` and before the device's devres resources are
    /// released (`device_unbind_cleanup()`), as the kernel crate's `driver::Registration` does
    /// (`post_unbind_callback()` in `rust/kernel/driver.rs`).
    ///
    /// The driver core calls it with the device lock held on every unbind and after a failed
    /// probe, so the driver data may be absent.
    extern "C" fn post_unbind_callback(dev: *mut bindings::device) {
        // SAFETY: The driver core calls `post_unbind_rust` with a valid `struct device` whose
        // driver is ours, under its device lock. Its driver data is NULL or the pointer
        // `set_drvdata()` made with `Pin<KBox<T>>::into_foreign()` (type invariants), not yet
        // taken back: `remove` has returned and no callback borrows it any more. Clearing it
        // first means nothing can borrow the data once it is dropped.
        let ptr = unsafe {
            let ptr = bindings::dev_get_drvdata(dev);
            bindings::dev_set_drvdata(dev, core::ptr::null_mut());
            ptr
        };
        if !ptr.is_null() {
            // SAFETY: `ptr` came from `Pin<KBox<T>>::into_foreign()` in `set_drvdata()` (see
            // above) and is taken back once, here.
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
        // is only dropped after `remove` (`post_unbind_callback`), under the device lock that
        // is held here.
        let data = unsafe { dev.as_ref().drvdata_borrow::<T>() };

        // SAFETY: `sriov_numvfs_store()` calls `sriov_configure` between
        // `pci_lock_rescan_remove()` and `pci_unlock_rescan_remove()` (`drivers/pci/iov.c`, Linux
        // 7.2 and 7.3), in this thread: the lock is held for the call.
        let locked = unsafe { RescanLocked::assume() };
        from_result(|| {
            let nr = u16::try_from(nr_virtfn).map_err(|_| ERANGE)?;
            Ok(i32::from(T::sriov_configure(dev, data, nr, &locked)?))
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

/// The `pci_error_handlers` of a [`Driver`] `T` whose [`Driver::ERROR_HANDLERS`] is set.
///
/// A device whose bound driver has no `error_detected` makes the whole hierarchy's recovery fail
/// ("can't recover (no error_detected callback)").
///
/// # Locks
///
/// The PCI core calls every callback for a bound driver with the device lock held: AER/DPC
/// recovery (`report_error_detected()`, `report_slot_reset()`, `report_resume()` in
/// `drivers/pci/pcie/err.c` each take `device_lock()`), and a function reset through sysfs
/// `reset` or `pci_reset_function()` (`pci_dev_lock()` around `pci_dev_save_and_disable()`, which
/// calls `reset_prepare`, and `pci_dev_restore()`, which calls `reset_done`).
struct ErrorHandlers<T>(PhantomData<T>);

impl<T: Driver> ErrorHandlers<T> {
    /// The table the PCI core calls; promoted to a static by the reference taken to it.
    const TABLE: bindings::pci_error_handlers = bindings::pci_error_handlers {
        error_detected: Some(Self::error_detected),
        mmio_enabled: None,
        slot_reset: Some(Self::slot_reset),
        reset_prepare: Some(Self::reset_prepare),
        reset_done: Some(Self::reset_done),
        resume: Some(Self::resume),
        cor_error_detected: None,
    };

    /// Runs `f` with the bound device and its driver data.
    ///
    /// # Safety
    ///
    /// `pdev` must be a valid `struct pci_dev` bound to `T`'s driver, with its device lock held
    /// for the duration of the call, as in every callback of the table above.
    unsafe fn with<R>(
        pdev: *mut bindings::pci_dev,
        f: impl FnOnce(&pci::Device<device::Core<'_>>, Pin<&T>) -> R,
    ) -> R {
        // SAFETY: By the safety requirements `pdev` is valid and its device lock is held for the
        // call: the `CoreInternal` context.
        let dev = unsafe { &*pdev.cast::<pci::Device<device::CoreInternal<'_>>>() };
        // SAFETY: The driver is bound, so `probe` stored a `Pin<KBox<T>>`, which is dropped only
        // after `remove` (`post_unbind_rust`), under the device lock held here.
        let data = unsafe { dev.as_ref().drvdata_borrow::<T>() };
        f(dev, data)
    }

    extern "C" fn error_detected(
        pdev: *mut bindings::pci_dev,
        state: bindings::pci_channel_state_t,
    ) -> bindings::pci_ers_result_t {
        let state = ChannelState::from_raw(state);
        // SAFETY: `report_error_detected()` calls this for a bound device under its device lock.
        unsafe { Self::with(pdev, |dev, this| T::error_detected(dev, this, state)) }.to_raw()
    }

    extern "C" fn slot_reset(pdev: *mut bindings::pci_dev) -> bindings::pci_ers_result_t {
        // SAFETY: `report_slot_reset()` calls this for a bound device under its device lock.
        unsafe { Self::with(pdev, |dev, this| T::slot_reset(dev, this)) }.to_raw()
    }

    extern "C" fn resume(pdev: *mut bindings::pci_dev) {
        // SAFETY: `report_resume()` calls this for a bound device under its device lock.
        unsafe { Self::with(pdev, |dev, this| T::resume(dev, this)) }
    }

    extern "C" fn reset_prepare(pdev: *mut bindings::pci_dev) {
        // SAFETY: `pci_dev_save_and_disable()` calls this for a bound device, under the device
        // lock its caller took (`pci_dev_lock()` in `pci_reset_function()` and `reset_store()`).
        unsafe { Self::with(pdev, |dev, this| T::reset_prepare(dev, this)) }
    }

    extern "C" fn reset_done(pdev: *mut bindings::pci_dev) {
        // SAFETY: `pci_dev_restore()` calls this for a bound device, under the same device lock.
        unsafe { Self::with(pdev, |dev, this| T::reset_done(dev, this)) }
    }
}
