// SPDX-License-Identifier: GPL-2.0

//! PCI bus notifiers (`bus_register_notifier(&pci_bus_type, ...)`).
//!
//! A driver that must act on devices it does not drive, such as setting `driver_override` on
//! VFs before any driver can probe them (as vfio-pci does), or tracking which VFs are bound,
//! registers a [`BusNotifier`].
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h)
//!
//! Upstream: bus notifiers; not merged. Future home: `rust/kernel/pci.rs` (the PCI bus's notifier
//! chain), on a generic bus notifier in `rust/kernel/device/bus.rs`.

use kernel::{
    bindings,
    container_of,
    device,
    error::to_result,
    pci,
    prelude::*,
    types::Opaque, //
};

/// A PCI bus event.
///
/// The driver events come from `really_probe()` and `__device_release_driver()`
/// (`drivers/base/dd.c`), with the device's lock held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusEvent {
    /// A device was added, before any driver probes it (`BUS_NOTIFY_ADD_DEVICE`).
    AddDevice,
    /// A driver is about to probe the device (`BUS_NOTIFY_BIND_DRIVER`): it is already the
    /// device's driver, and the PCI core matches `driver_override` once more before it calls the
    /// driver's probe, so an override set now still refuses this probe.
    BindDriver,
    /// A driver was bound to the device (`BUS_NOTIFY_BOUND_DRIVER`).
    BoundDriver,
    /// A driver was unbound from the device (`BUS_NOTIFY_UNBOUND_DRIVER`); the device has no
    /// driver any more.
    UnboundDriver,
    /// A driver's probe of the device failed (`BUS_NOTIFY_DRIVER_NOT_BOUND`). The device still
    /// shows the failed driver until the driver core cleans up after this event.
    DriverNotBound,
    /// The device is being deleted (`BUS_NOTIFY_DEL_DEVICE`, from `device_del()`); for a PCI
    /// device being removed, the remover holds `pci_rescan_remove_lock`.
    DelDevice,
    /// The device was deleted (`BUS_NOTIFY_REMOVED_DEVICE`, from `device_del()` after
    /// `bus_remove_device()` unbound its driver, if it had one: a driver bound after
    /// `DelDevice` has just been unbound); the remover still holds `pci_rescan_remove_lock`.
    RemovedDevice,
}

/// The handler of a [`BusNotifier`].
///
/// # Examples
///
/// ```ignore
/// #[pin_data]
/// struct Watch;
///
/// impl BusNotify for Watch {
///     fn notify(self: Pin<&Self>, event: BusEvent, dev: &pci::Device) {
///         if event == BusEvent::AddDevice && dev.is_virtfn() {
///             dev_info!(dev.as_ref(), "a VF was added\n");
///         }
///     }
/// }
///
/// let notifier = KBox::pin_init(BusNotifier::new(Watch), GFP_KERNEL)?;
/// // Registered until `notifier` is dropped.
/// ```
pub trait BusNotify: Send + Sync {
    /// Called for each PCI bus event.
    ///
    /// # Locks
    ///
    /// Runs in the context of the bus event, which may hold the device's lock (the driver
    /// events) or a lock held while devices are added (e.g. around `enable_sriov`): it may
    /// sleep, must not take such a lock, and must return quickly.
    fn notify(self: Pin<&Self>, event: BusEvent, dev: &pci::Device);
}

/// A registered PCI bus notifier with its handler.
///
/// # Invariants
///
/// `nb` is registered on `pci_bus_type` from the end of [`BusNotifier::new`] until drop, and
/// its `notifier_call` is [`BusNotifier::callback`] of this type.
#[pin_data(PinnedDrop)]
pub struct BusNotifier<H: BusNotify> {
    #[pin]
    handler: H,
    #[pin]
    nb: Opaque<bindings::notifier_block>,
}

// SAFETY: The notifier block is only touched by the notifier chain under its own lock, and `H` is
// `Send + Sync`.
unsafe impl<H: BusNotify> Send for BusNotifier<H> {}

// SAFETY: As above; `&BusNotifier` only gives out `Pin<&H>`, and `H` is `Sync`.
unsafe impl<H: BusNotify> Sync for BusNotifier<H> {}

impl<H: BusNotify> BusNotifier<H> {
    /// Initialises the handler, then registers the notifier: the handler may be called as soon
    /// as registration is done.
    pub fn new(handler: impl PinInit<H, Error>) -> impl PinInit<Self, Error> {
        // INVARIANT: `nb` gets `Self::callback` and is registered in its initialiser, the last
        // one: when it fails, nothing is registered and `Self` is never made.
        try_pin_init!(Self {
            handler <- handler,
            nb <- Opaque::try_ffi_init(|nb: *mut bindings::notifier_block| {
                // SAFETY: `try_ffi_init` gives a pointer valid for writes; the block stays
                // pinned inside `Self` until `drop` unregisters it.
                unsafe {
                    nb.write(bindings::notifier_block {
                        notifier_call: Some(Self::callback),
                        next: core::ptr::null_mut(),
                        priority: 0,
                    });
                    to_result(bindings::bus_register_notifier(&raw const bindings::pci_bus_type, nb))
                }
            }),
        })
    }

    /// The handler.
    pub fn handler(&self) -> Pin<&H> {
        // SAFETY: A `BusNotifier` is `!Unpin` (it holds an `Opaque`) and only made through
        // `PinInit`, so `self` is pinned, and `handler` is a structurally pinned field of it.
        unsafe { Pin::new_unchecked(&self.handler) }
    }

    extern "C" fn callback(
        nb: *mut bindings::notifier_block,
        action: usize,
        data: *mut c_void,
    ) -> c_int {
        let event = match u32::try_from(action) {
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_ADD_DEVICE) => BusEvent::AddDevice,
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_BIND_DRIVER) => BusEvent::BindDriver,
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_BOUND_DRIVER) => BusEvent::BoundDriver,
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_UNBOUND_DRIVER) => BusEvent::UnboundDriver,
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_DEL_DEVICE) => BusEvent::DelDevice,
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_REMOVED_DEVICE) => BusEvent::RemovedDevice,
            Ok(bindings::bus_notifier_event_BUS_NOTIFY_DRIVER_NOT_BOUND) => {
                BusEvent::DriverNotBound
            }
            _ => return bindings::NOTIFY_DONE as c_int,
        };
        // SAFETY: `nb` is the `nb` field of a registered `BusNotifier<H>` (type invariants):
        // only `new` installs this callback.
        let this =
            unsafe { &*container_of!(nb.cast::<Opaque<bindings::notifier_block>>(), Self, nb) };
        // SAFETY: The `pci_bus_type` notifier chain passes the `struct device` of a PCI device
        // that the bus holds a reference on for the duration of the call.
        let dev = unsafe { device::Device::from_raw(data.cast::<bindings::device>()) };
        if let Ok(pdev) = <&pci::Device>::try_from(dev) {
            this.handler().notify(event, pdev);
        }
        bindings::NOTIFY_DONE as c_int
    }
}

#[pinned_drop]
impl<H: BusNotify> PinnedDrop for BusNotifier<H> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariants `nb` is registered; unregistering waits for running
        // callbacks to return, so none runs once `handler` is dropped.
        unsafe {
            bindings::bus_unregister_notifier(&raw const bindings::pci_bus_type, self.nb.get())
        };
    }
}
