// SPDX-License-Identifier: GPL-2.0

//! SR-IOV configuration policy: what a write to `sriov_numvfs` may do.
//!
//! Kept free of kernel objects so that every decision is a pure function with KUnit tests. The
//! driver gathers the PF's state into a [`Request`], asks [`decide`], and either carries out the
//! returned [`Action`] or logs the [`Refusal`] and returns its error code.

use kernel::fmt;
use kernel::prelude::*;

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
    /// More VFs than the PF supports (`ERANGE`).
    OutOfRange { requested: u16, total: u16 },
    /// VFs are enabled: the count goes to 0 before it can change (`EBUSY`).
    Busy { current: u16, requested: u16 },
}

impl Refusal {
    /// The error code returned to user space.
    pub(crate) fn to_error(self) -> Error {
        match self {
            Refusal::Assigned { .. } => EPERM,
            Refusal::OutOfRange { .. } => ERANGE,
            Refusal::Busy { .. } => EBUSY,
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
            Refusal::OutOfRange { requested, total } => {
                write!(f, "{requested} VFs exceed sriov_totalvfs ({total})")
            }
            Refusal::Busy { current, requested } => write!(
                f,
                "{current} VFs are enabled; write 0 before changing to {requested}"
            ),
        }
    }
}

/// Decides a request with the rules of `pci_sriov_configure_simple()` and the PCI core.
///
/// The PCI core already refuses out-of-range and non-zero to non-zero writes before calling the
/// driver; they are checked again here because the driver also enables VFs on its own (at bind)
/// and a policy must not depend on its caller's checks.
pub(crate) fn decide(req: &Request) -> core::result::Result<Action, Refusal> {
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
    Ok(Action::Enable(req.requested))
}

/// What unbinding the driver does to the PF's VFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnbindAction {
    /// No VFs: nothing to do.
    Nothing,
    /// Disable the VFs: nobody else manages them once the PF driver is gone.
    Disable,
    /// Leave the VFs: they are assigned to a guest and removing them would surprise it.
    Keep,
}

/// Decides what unbind does with `current` enabled VFs of which `assigned` are assigned.
pub(crate) fn on_unbind(current: u16, assigned: u16) -> UnbindAction {
    match (current, assigned) {
        (0, _) => UnbindAction::Nothing,
        (_, 0) => UnbindAction::Disable,
        _ => UnbindAction::Keep,
    }
}

#[kunit_tests(pf_stub_sriov)]
mod tests {
    use super::*;

    fn req(current: u16, total: u16, assigned: u16, requested: u16) -> Request {
        Request {
            current,
            total,
            assigned,
            requested,
        }
    }

    #[test]
    fn enable_from_zero() {
        assert_eq!(decide(&req(0, 8, 0, 8)), Ok(Action::Enable(8)));
        assert_eq!(decide(&req(0, 64, 0, 1)), Ok(Action::Enable(1)));
    }

    #[test]
    fn disable_to_zero() {
        assert_eq!(decide(&req(8, 8, 0, 0)), Ok(Action::Disable));
    }

    #[test]
    fn same_count_is_a_no_op() {
        assert_eq!(decide(&req(0, 8, 0, 0)), Ok(Action::Unchanged));
        assert_eq!(decide(&req(4, 8, 0, 4)), Ok(Action::Unchanged));
        // Even with VFs assigned: writing the current value changes nothing.
        assert_eq!(decide(&req(4, 8, 2, 4)), Ok(Action::Unchanged));
    }

    #[test]
    fn above_total_is_out_of_range() {
        let r = decide(&req(0, 8, 0, 9));
        assert_eq!(
            r,
            Err(Refusal::OutOfRange {
                requested: 9,
                total: 8
            })
        );
        assert_eq!(r.err().map(Refusal::to_error), Some(ERANGE));
        // A PF whose totalvfs is 0 takes no VFs at all.
        assert!(decide(&req(0, 0, 0, 1)).is_err());
    }

    #[test]
    fn non_zero_to_non_zero_is_busy() {
        let r = decide(&req(4, 8, 0, 2));
        assert_eq!(
            r,
            Err(Refusal::Busy {
                current: 4,
                requested: 2
            })
        );
        assert_eq!(r.err().map(Refusal::to_error), Some(EBUSY));
    }

    #[test]
    fn assigned_vfs_block_every_change() {
        assert_eq!(
            decide(&req(4, 8, 1, 0)),
            Err(Refusal::Assigned { assigned: 1 })
        );
        assert_eq!(
            decide(&req(4, 8, 1, 0)).err().map(Refusal::to_error),
            Some(EPERM)
        );
        // Assigned wins over the other refusals, as in pci_sriov_configure_simple().
        assert_eq!(
            decide(&req(4, 8, 4, 9)),
            Err(Refusal::Assigned { assigned: 4 })
        );
    }

    #[test]
    fn unbind_disables_unless_assigned() {
        assert_eq!(on_unbind(0, 0), UnbindAction::Nothing);
        assert_eq!(on_unbind(8, 0), UnbindAction::Disable);
        assert_eq!(on_unbind(8, 1), UnbindAction::Keep);
    }
}
