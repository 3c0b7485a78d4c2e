// SPDX-License-Identifier: GPL-2.0

//! The values of PCI error recovery: the channel state a driver's error callback is told
//! (`pci_channel_state_t`) and the vote it returns (`pci_ers_result_t`). The callbacks themselves
//! are in the driver adapter's table, [`super::pci_driver`].
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)
//!
//! Upstream: `pci_channel_state_t` and `pci_ers_result_t`; not merged (the kernel crates of 7.2
//! and 7.3 have no PCI error handling). Future home: `rust/kernel/pci.rs`.

use kernel::bindings;

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

impl ChannelState {
    /// The state of a `pci_channel_state_t`; an unknown value is a permanent failure.
    pub(super) fn from_raw(state: bindings::pci_channel_state_t) -> Self {
        match state {
            bindings::pci_channel_io_normal => ChannelState::Normal,
            bindings::pci_channel_io_frozen => ChannelState::Frozen,
            _ => ChannelState::PermFailure,
        }
    }
}

impl ErsResult {
    /// The `pci_ers_result_t` of the vote.
    pub(super) fn to_raw(self) -> bindings::pci_ers_result_t {
        match self {
            ErsResult::None => bindings::pci_ers_result_PCI_ERS_RESULT_NONE,
            ErsResult::CanRecover => bindings::pci_ers_result_PCI_ERS_RESULT_CAN_RECOVER,
            ErsResult::NeedReset => bindings::pci_ers_result_PCI_ERS_RESULT_NEED_RESET,
            ErsResult::Disconnect => bindings::pci_ers_result_PCI_ERS_RESULT_DISCONNECT,
            ErsResult::Recovered => bindings::pci_ers_result_PCI_ERS_RESULT_RECOVERED,
        }
    }
}
