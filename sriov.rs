// SPDX-License-Identifier: GPL-2.0

//! The SR-IOV policy: every decision pf_stub makes about a PF's VFs, as pure functions and small
//! state types with KUnit cases, free of PCI devices.
//!
//! The driver gathers the PF's state (a [`Request`], counts, flags), asks the function here, and
//! either carries out the answer or logs the typed refusal and returns its error code. The
//! callers (`sysfs`, `pf`, `adoption`, `recovery`) only parse, call and report.
//!
//! - this file: `sriov_numvfs` writes ([`decide`]), the VF count at bind ([`vfs_at_bind`]), VF
//!   knob changes ([`vf_knob_change`]), unbind ([`on_unbind`]), adoption ([`adoptable`]) and
//!   PCI errors ([`error_vote`]);
//! - [`knobs`]: the values the knobs and parameters take (policy, lock and token commands, the
//!   VF driver name);
//! - [`state`]: the per-PF policy state ([`PfPolicy`]): the policy, the lock and the VF token.

use crate::kext::pci_error::{
    ChannelState,
    ErsResult, //
};
use kernel::{
    fmt,
    prelude::*, //
};

mod knobs;
mod state;
#[cfg(CONFIG_KUNIT = "y")]
mod tests;

pub(crate) use knobs::{
    strip_newline,
    DriverName,
    LockCmd,
    Policy,
    TokenCmd,
    VfKnobs, //
};
pub(crate) use state::{
    locked_at_bind,
    KnobRefusal,
    LockChange,
    PfPolicy,
    PolicyChange,
    PolicyGuard,
    TokenChange, //
};

/// The PF's SR-IOV state and the count user space asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// VFs enabled now (`pci_num_vf()`).
    pub(crate) current: u16,
    /// VFs the PF supports (`sriov_totalvfs`).
    pub(crate) total: u16,
    /// VFs marked assigned to a guest (`pci_vfs_assigned()`).
    pub(crate) assigned: u16,
    /// The count written to `sriov_numvfs`.
    pub(crate) requested: u16,
    /// A VF that a removed PF at this address left is still there (looked for only when
    /// enabling): new VFs would take its name.
    pub(crate) leftover_vf: bool,
}

/// What the driver does for an accepted request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Enable this many VFs.
    Enable(u16),
    /// Disable all VFs.
    Disable,
    /// Nothing to do: the PF already has the requested count.
    Unchanged,
}

/// Why a request is refused. Each maps to the error code `pci_sriov_configure_simple()` or the
/// PCI core's `sriov_numvfs_store()` returns in the same case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// VFs are assigned to a guest: changing them would pull devices from under it (`EPERM`).
    Assigned { assigned: u16 },
    /// The count is locked by the `locked` policy (`EPERM`).
    Locked,
    /// More VFs than the PF supports (`ERANGE`).
    OutOfRange { requested: u16, total: u16 },
    /// VFs are enabled: the count goes to 0 before it can change (`EBUSY`).
    Busy { current: u16, requested: u16 },
    /// A VF of a removed PF at this address is still there, its removal waiting for its user
    /// (`EBUSY`): a new VF would be a second device under its name.
    LeftoverVf,
}

impl Refusal {
    /// The error code returned to user space.
    pub(crate) fn to_error(self) -> Error {
        match self {
            Refusal::Assigned { .. } | Refusal::Locked => EPERM,
            Refusal::OutOfRange { .. } => ERANGE,
            Refusal::Busy { .. } | Refusal::LeftoverVf => EBUSY,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refusal::Assigned { assigned } => write!(
                f,
                "{assigned} VF(s) are assigned to a guest; release them first"
            ),
            Refusal::Locked => f.write_str(
                "the VF count is locked (policy 'locked'); write 'unlock' to sriov_lock first",
            ),
            Refusal::OutOfRange { requested, total } => {
                write!(f, "{requested} VFs exceed sriov_totalvfs ({total})")
            }
            Refusal::Busy { current, requested } => write!(
                f,
                "{current} VFs are enabled; write 0 before changing to {requested}"
            ),
            Refusal::LeftoverVf => f.write_str(
                "a VF of the removed PF that had this address still exists (its removal waits for its user, such as a VM); enable again once it is gone",
            ),
        }
    }
}

/// Decides a request with the rules of `pci_sriov_configure_simple()` and the PCI core.
///
/// The PCI core already refuses out-of-range and non-zero to non-zero writes before calling the
/// driver; they are checked again here because the driver also enables VFs on its own (at bind)
/// and a policy must not depend on its caller's checks.
pub(crate) fn decide(req: &Request) -> Result<Action, Refusal> {
    if req.requested == req.current {
        return Ok(Action::Unchanged);
    }
    if req.assigned > 0 {
        return Err(Refusal::Assigned {
            assigned: req.assigned,
        });
    }
    if req.requested > req.total {
        return Err(Refusal::OutOfRange {
            requested: req.requested,
            total: req.total,
        });
    }
    if req.requested == 0 {
        return Ok(Action::Disable);
    }
    if req.current != 0 {
        return Err(Refusal::Busy {
            current: req.current,
            requested: req.requested,
        });
    }
    if req.leftover_vf {
        return Err(Refusal::LeftoverVf);
    }
    Ok(Action::Enable(req.requested))
}

/// VFs to enable at bind: what the parameters asked for and what the PF gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BindVfs {
    /// The count asked for: `@N` of the PF's `addrs=` entry, else `num_vfs=`.
    pub(crate) want: u16,
    /// The count to enable: `want` capped at `sriov_totalvfs`.
    pub(crate) n: u16,
}

/// Decides the VFs to enable at bind: `listed` is the `@N` of the PF's `addrs=` entry (which
/// wins over `num_vfs=`, even `@0`), `current` the VFs already enabled (taken over or adopted
/// as they are: nothing is enabled then), `total` the PF's `sriov_totalvfs`. `None`: nothing
/// to enable.
pub(crate) fn vfs_at_bind(
    listed: Option<u16>,
    num_vfs: u16,
    current: u16,
    total: u16,
) -> Option<BindVfs> {
    let want = listed.unwrap_or(num_vfs);
    (want > 0 && current == 0).then(|| BindVfs {
        want,
        n: want.min(total),
    })
}

/// Decides a write of a VF knob (`sriov_vf_autoprobe`, `sriov_vf_driver`) with `num_vf` VFs
/// enabled: refused while there are VFs, since the knob applies to VFs being created and would
/// only seem to have changed the ones there.
pub(crate) fn vf_knob_change(num_vf: u16) -> Result<(), KnobRefusal> {
    if num_vf > 0 {
        return Err(KnobRefusal::VfsEnabled);
    }
    Ok(())
}

/// What unbinding the driver does to the PF's VFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnbindAction {
    /// No VFs: nothing to do.
    Nothing,
    /// The PF is being removed from the system: its VFs go with it, whatever the lock, the
    /// token or their users, since nothing can manage VFs whose PF is gone; and until the PF is
    /// deleted a record says it is going, with or without VFs, so that a bind inside the
    /// removal is refused instead of enabling VFs on a PF that is leaving.
    Remove,
    /// Disable the VFs: nobody else manages them once the PF driver is gone.
    Disable,
    /// Leave the VFs: they are assigned to a guest and removing them would surprise it.
    Keep,
    /// Leave the VFs and remember the lock and token, to adopt them at the next bind: they are
    /// locked and in use (bound to a driver such as vfio-pci).
    KeepLocked,
}

/// What unbind found on the PF: the facts [`on_unbind`] decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UnbindFacts {
    /// The PF itself is being removed (no longer on the bus).
    pub(crate) removing: bool,
    /// `rmmod` has begun: VFs bound after it checked that none was locked and in use cannot
    /// wait for an adoption.
    pub(crate) unloading: bool,
    /// VFs enabled now (`pci_num_vf()`).
    pub(crate) current: u16,
    /// VFs marked assigned to a guest (`pci_vfs_assigned()`).
    pub(crate) assigned: u16,
    /// VFs bound to a driver.
    pub(crate) in_use: u16,
    /// The VF count is locked.
    pub(crate) locked: bool,
}

impl UnbindFacts {
    /// Whether the VFs are locked and in use: the ones an adoption would keep.
    pub(crate) fn locked_in_use(&self) -> bool {
        self.locked && self.in_use > 0
    }
}

/// Decides what unbind does with the PF's VFs.
pub(crate) fn on_unbind(facts: &UnbindFacts) -> UnbindAction {
    if facts.removing {
        UnbindAction::Remove
    } else if facts.current == 0 {
        UnbindAction::Nothing
    } else if facts.locked_in_use() && facts.unloading {
        UnbindAction::Disable
    } else if facts.locked_in_use() {
        UnbindAction::KeepLocked
    } else if facts.assigned > 0 {
        UnbindAction::Keep
    } else {
        UnbindAction::Disable
    }
}

/// Whether a record of `kept` VFs may be adopted by a PF that has `now` VFs: the same count, and
/// the same VF devices (`same_vf0`: SR-IOV was not disabled and enabled again in between, by
/// another driver or by hand, which would make the record govern VFs it never protected). A
/// record that is not adoptable is stale, and dropped.
pub(crate) fn adoptable(kept: u16, now: u16, same_vf0: bool) -> bool {
    kept > 0 && kept == now && same_vf0
}

/// The PF's vote when a PCI error is reported on it. pf_stub has no I/O of its own in flight, so
/// a non-fatal error needs nothing from it and must not stop the recovery of the VFs beside it;
/// a fatal one needs the link reset the core offers, after which the VFs come back; a device
/// that is gone for good is let go.
pub(crate) fn error_vote(state: ChannelState) -> ErsResult {
    match state {
        ChannelState::Normal => ErsResult::CanRecover,
        ChannelState::Frozen => ErsResult::NeedReset,
        ChannelState::PermFailure => ErsResult::Disconnect,
    }
}
