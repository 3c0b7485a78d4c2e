// SPDX-License-Identifier: GPL-2.0

//! The uevent ABI: every `change` uevent pf_stub sends on a PF, as one `enum`.
//!
//! Each variant is one value of `PF_STUB_EVENT=` and carries the variables that go with it, so
//! the names user space matches on (udev rules, `Documentation/ABI/testing/sysfs-driver-pf_stub`)
//! are written here and nowhere else.

use crate::{
    kext::{
        pci_error::ChannelState,
        uevent::UeventEnv, //
    },
    sriov::{
        DriverName,
        Policy, //
    },
};
use core::fmt::Write;
use kernel::{
    device::DeviceContext,
    pci,
    prelude::*,
    str::Formatter, //
};

/// A state change or refusal on a PF, as user space sees it.
#[derive(Clone, Copy)]
pub(crate) enum Event<'a> {
    /// VFs were enabled: `PF_STUB_NUM_VFS=<count>`.
    Enabled(u16),
    /// The VFs were disabled: `PF_STUB_NUM_VFS=0`.
    Disabled,
    /// The VF count was locked.
    Locked,
    /// The VF count was unlocked.
    Unlocked,
    /// A VF token was set or replaced.
    TokenSet,
    /// The VF token was cleared.
    TokenCleared,
    /// `sriov_policy` changed: `PF_STUB_POLICY=<name>`.
    Policy(Policy),
    /// `sriov_vf_autoprobe` changed: `PF_STUB_VF_AUTOPROBE=0|1`.
    VfAutoprobe(bool),
    /// `sriov_vf_driver` changed: `PF_STUB_VF_DRIVER=<name>`.
    VfDriver(&'a DriverName),
    /// A bind adopted the VFs an earlier unbind kept.
    Adopted,
    /// An unbind kept locked, in-use VFs for the next bind to adopt.
    Orphaned,
    /// A write was refused: `PF_STUB_ATTR=<file>`, `PF_STUB_ERROR=<errno name>`.
    Refused {
        /// The file written.
        attr: &'a str,
        /// The error returned to the writer.
        error: Error,
    },
    /// The PF was removed from the system, its VFs with it.
    Removed,
    /// A PCI error was reported on the PF: `PF_STUB_ERROR_STATE=<channel state>`.
    Error(ChannelState),
    /// Error recovery is over.
    Recovered,
    /// A reset of the PF (and so of its VFs) begins.
    Reset,
    /// The reset is done.
    ResetDone,
}

impl Event<'_> {
    /// The value of `PF_STUB_EVENT`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::Enabled(_) => "enabled",
            Event::Disabled => "disabled",
            Event::Locked => "locked",
            Event::Unlocked => "unlocked",
            Event::TokenSet => "token_set",
            Event::TokenCleared => "token_cleared",
            Event::Policy(_) => "policy",
            Event::VfAutoprobe(_) => "vf_autoprobe",
            Event::VfDriver(_) => "vf_driver",
            Event::Adopted => "adopted",
            Event::Orphaned => "orphaned",
            Event::Refused { .. } => "refused",
            Event::Removed => "removed",
            Event::Error(_) => "error",
            Event::Recovered => "recovered",
            Event::Reset => "reset",
            Event::ResetDone => "reset_done",
        }
    }

    /// Adds `PF_STUB_EVENT` and the event's own variables to `env`.
    fn fill(&self, env: &mut UeventEnv) -> Result {
        env.add("PF_STUB_EVENT", self.name().as_bytes())?;
        match *self {
            Event::Enabled(n) => {
                // "65535" at most.
                let mut buf = [0u8; 5];
                let mut f = Formatter::new(&mut buf);
                write!(f, "{n}")?;
                let len = f.bytes_written();
                env.add("PF_STUB_NUM_VFS", &buf[..len])?;
            }
            Event::Disabled => {
                env.add("PF_STUB_NUM_VFS", b"0")?;
            }
            Event::Policy(p) => {
                env.add("PF_STUB_POLICY", p.name().as_bytes())?;
            }
            Event::VfAutoprobe(on) => {
                env.add("PF_STUB_VF_AUTOPROBE", if on { b"1" } else { b"0" })?;
            }
            Event::VfDriver(d) => {
                env.add("PF_STUB_VF_DRIVER", d.as_bytes())?;
            }
            Event::Refused { attr, error } => {
                env.add("PF_STUB_ATTR", attr.as_bytes())?;
                env.add("PF_STUB_ERROR", errno_name(error))?;
            }
            Event::Error(state) => {
                env.add("PF_STUB_ERROR_STATE", channel_name(state).as_bytes())?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Sends the event as a `change` uevent on `pdev`. A failure is logged, never returned: the
    /// state change it reports has already happened.
    pub(crate) fn send(&self, pdev: &pci::Device<impl DeviceContext>) {
        let mut env = UeventEnv::new();
        if self.fill(&mut env).is_err() || env.send_change(pdev.as_ref()).is_err() {
            dev_warn!(
                pdev.as_ref(),
                "could not send the '{}' uevent\n",
                self.name()
            );
        }
    }
}

/// The name of a PCI channel state, as `PF_STUB_ERROR_STATE` and the log give it.
pub(crate) fn channel_name(state: ChannelState) -> &'static str {
    match state {
        ChannelState::Normal => "non-fatal",
        ChannelState::Frozen => "fatal",
        ChannelState::PermFailure => "permanent failure",
    }
}

/// The error name of a refusal, as `PF_STUB_ERROR` gives it.
fn errno_name(e: Error) -> &'static [u8] {
    match e.to_errno() {
        x if x == EPERM.to_errno() => b"EPERM",
        x if x == EACCES.to_errno() => b"EACCES",
        x if x == EBUSY.to_errno() => b"EBUSY",
        x if x == ERANGE.to_errno() => b"ERANGE",
        x if x == EINVAL.to_errno() => b"EINVAL",
        _ => b"EOTHER",
    }
}

/// Reports a refused write of `attr` with a `refused` uevent, and returns `e` for the writer.
pub(crate) fn refused(pdev: &pci::Device<impl DeviceContext>, attr: &str, e: Error) -> Error {
    Event::Refused { attr, error: e }.send(pdev);
    e
}
