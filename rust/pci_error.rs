// SPDX-License-Identifier: GPL-2.0

//! PCI error recovery and function reset callbacks (`struct pci_error_handlers`) for a
//! [`Driver`].
//!
//! The PCI core calls them with the device lock held: AER/DPC recovery
//! (`drivers/pci/pcie/err.c`: `report_error_detected()`, `report_slot_reset()`,
//! `report_resume()` each take `device_lock()`), and a function reset through sysfs `reset` or
//! `pci_reset_function()` (`pci_dev_lock()` around `pci_dev_save_and_disable()`, which calls
//! `reset_prepare`, and `pci_dev_restore()`, which calls `reset_done`). They run only for a
//! bound driver, so its data is there. A device whose bound driver has no `error_detected`
//! makes the whole hierarchy's recovery fail ("can't recover (no error_detected callback)").
//!
//! Future home: `rust/kernel/pci.rs` (the C header is `include/linux/pci.h`).

use super::pci_driver::Driver;
use core::marker::PhantomData;
use kernel::{
    bindings,
    device,
    pci,
    prelude::*, //
};

/// The state of the device's channel when an error is reported (`pci_channel_state_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    /// I/O still works: the error was non-fatal (`pci_channel_io_normal`).
    Normal,
    /// I/O is blocked until the link or slot is reset: a fatal error (`pci_channel_io_frozen`).
    Frozen,
    /// The device is gone or dead for good (`pci_channel_io_perm_failure`).
    PermFailure,
}

/// A driver's vote in error recovery (`pci_ers_result_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErsResult {
    /// No opinion (`PCI_ERS_RESULT_NONE`).
    None,
    /// The driver can go on without a reset (`PCI_ERS_RESULT_CAN_RECOVER`).
    CanRecover,
    /// The driver needs the slot or link reset (`PCI_ERS_RESULT_NEED_RESET`).
    NeedReset,
    /// The device cannot be recovered (`PCI_ERS_RESULT_DISCONNECT`).
    Disconnect,
    /// The driver has recovered the device (`PCI_ERS_RESULT_RECOVERED`).
    Recovered,
}

impl ErsResult {
    fn to_raw(self) -> bindings::pci_ers_result_t {
        match self {
            ErsResult::None => bindings::pci_ers_result_PCI_ERS_RESULT_NONE,
            ErsResult::CanRecover => bindings::pci_ers_result_PCI_ERS_RESULT_CAN_RECOVER,
            ErsResult::NeedReset => bindings::pci_ers_result_PCI_ERS_RESULT_NEED_RESET,
            ErsResult::Disconnect => bindings::pci_ers_result_PCI_ERS_RESULT_DISCONNECT,
            ErsResult::Recovered => bindings::pci_ers_result_PCI_ERS_RESULT_RECOVERED,
        }
    }
}

/// The `pci_error_handlers` of a [`Driver`] `T` whose [`Driver::ERROR_HANDLERS`] is set.
pub(crate) struct ErrorHandlers<T>(PhantomData<T>);

impl<T: Driver> ErrorHandlers<T> {
    /// The table the PCI core calls; promoted to a static by the reference taken to it.
    pub(crate) const TABLE: bindings::pci_error_handlers = bindings::pci_error_handlers {
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
        let state = match state {
            bindings::pci_channel_io_normal => ChannelState::Normal,
            bindings::pci_channel_io_frozen => ChannelState::Frozen,
            _ => ChannelState::PermFailure,
        };
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
