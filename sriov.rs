// SPDX-License-Identifier: GPL-2.0

//! SR-IOV configuration policy: what a write to `sriov_numvfs` may do.
//!
//! Kept free of kernel objects so that every decision is a pure function with KUnit tests. The
//! driver gathers the PF's state into a [`Request`], asks [`decide`], and either carries out the
//! returned [`Action`] or logs the [`Refusal`] and returns its error code.

use crate::{
    kext::pci_error::{
        ChannelState,
        ErsResult, //
    },
    vf_token::VfToken,
};
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
    /// The count is locked by the `locked` policy (`EPERM`).
    Locked,
    /// More VFs than the PF supports (`ERANGE`).
    OutOfRange { requested: u16, total: u16 },
    /// VFs are enabled: the count goes to 0 before it can change (`EBUSY`).
    Busy { current: u16, requested: u16 },
}

impl Refusal {
    /// The error code returned to user space.
    pub(crate) fn to_error(self) -> Error {
        match self {
            Refusal::Assigned { .. } | Refusal::Locked => EPERM,
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

/// How a PF's VF count may change (`sriov_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Once VFs are enabled the count is locked until `sriov_lock` is unlocked.
    Locked,
    /// Exactly `pci_sriov_configure_simple()`.
    Simple,
}

impl Policy {
    /// Parses `locked` or `simple` (one trailing newline allowed, as `echo` writes).
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        match strip_newline(input) {
            b"locked" => Ok(Policy::Locked),
            b"simple" => Ok(Policy::Simple),
            _ => Err(EINVAL),
        }
    }

    /// The name shown in `sriov_policy`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Policy::Locked => "locked",
            Policy::Simple => "simple",
        }
    }
}

/// Removes one trailing `\n`: what `echo` appends. Other whitespace is input, and refused.
pub(crate) fn strip_newline(input: &[u8]) -> &[u8] {
    input.strip_suffix(b"\n").unwrap_or(input)
}

/// A write to `sriov_lock`.
pub(crate) enum LockCmd {
    /// `lock`.
    Lock,
    /// `unlock`, or `unlock <token>`.
    Unlock(Option<VfToken>),
}

impl LockCmd {
    /// Parses `lock`, `unlock` or `unlock <uuid>`.
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let input = strip_newline(input);
        match input {
            b"lock" => Ok(LockCmd::Lock),
            b"unlock" => Ok(LockCmd::Unlock(None)),
            _ => match input.strip_prefix(b"unlock ") {
                Some(token) => Ok(LockCmd::Unlock(Some(VfToken::parse(token)?))),
                None => Err(EINVAL),
            },
        }
    }
}

/// A write to `sriov_vf_token`.
pub(crate) enum TokenCmd {
    /// `<uuid>`: set (when unset or unlocked) or replace (when unlocked).
    Set(VfToken),
    /// `clear`: remove the token (when unlocked).
    Clear,
    /// `<current> <uuid>` or `<current> clear`: change it whatever the lock, proving the current.
    WithCurrent(VfToken, Option<VfToken>),
}

impl TokenCmd {
    /// Parses the forms above; surrounding whitespace is ignored, as the ABI says (a token is
    /// often pasted with spaces around it).
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let input = input.trim_ascii();
        if input == b"clear" {
            return Ok(TokenCmd::Clear);
        }
        match input.iter().position(|&c| c == b' ') {
            None => Ok(TokenCmd::Set(VfToken::parse(input)?)),
            Some(i) => {
                let current = VfToken::parse(&input[..i])?;
                let new = &input[i + 1..];
                let new = if new == b"clear" {
                    None
                } else {
                    Some(VfToken::parse(new)?)
                };
                Ok(TokenCmd::WithCurrent(current, new))
            }
        }
    }
}

/// Why a policy knob refused a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KnobRefusal {
    /// The VF count is locked (`EPERM`).
    Locked,
    /// A token is set and none, or a wrong one, was given (`EACCES`).
    BadToken,
    /// `lock` under the `simple` policy, which never locks (`EPERM`).
    SimplePolicy,
    /// A VF knob changed while VFs are enabled: it would only apply later (`EBUSY`).
    VfsEnabled,
}

impl KnobRefusal {
    /// The error code returned to user space.
    pub(crate) fn to_error(self) -> Error {
        match self {
            KnobRefusal::Locked | KnobRefusal::SimplePolicy => EPERM,
            KnobRefusal::BadToken => EACCES,
            KnobRefusal::VfsEnabled => EBUSY,
        }
    }
}

impl fmt::Display for KnobRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnobRefusal::Locked => f.write_str("the VF count is locked; write 'unlock' (or 'unlock <token>') to sriov_lock first"),
            KnobRefusal::BadToken => {
                f.write_str("a VF token is set and the token given is missing or wrong")
            }
            KnobRefusal::SimplePolicy => f.write_str(
                "the policy is 'simple', which never locks; write 'locked' to sriov_policy first",
            ),
            KnobRefusal::VfsEnabled => f.write_str(
                "VFs are enabled and the setting applies to VFs being created; write 0 to sriov_numvfs first",
            ),
        }
    }
}

/// A PF's policy state: the policy, the lock and the VF token.
pub(crate) struct Guard {
    /// The policy in force.
    pub(crate) policy: Policy,
    /// Whether the VF count is locked.
    pub(crate) locked: bool,
    /// The VF token, if set.
    token: Option<VfToken>,
}

impl Guard {
    /// A fresh PF: unlocked, no token.
    pub(crate) fn new(policy: Policy) -> Self {
        Self {
            policy,
            locked: false,
            token: None,
        }
    }

    /// A PF at bind without a record to adopt, with `current` VFs already enabled (left by
    /// another driver): VFs found enabled are taken over locked under the `locked` policy, as if
    /// they had been enabled here.
    pub(crate) fn at_bind(policy: Policy, current: u16) -> Self {
        let mut g = Self::new(policy);
        g.locked = current > 0 && policy == Policy::Locked;
        g
    }

    /// A PF whose state is restored (adopted): the lock only holds under the `locked` policy.
    pub(crate) fn restore(policy: Policy, locked: bool, token: Option<VfToken>) -> Self {
        Self {
            policy,
            locked: locked && policy == Policy::Locked,
            token,
        }
    }

    /// Takes the token out, to keep it across an unbind; the guard is left without one.
    pub(crate) fn take_token(&mut self) -> Option<VfToken> {
        self.token.take()
    }

    /// Whether a token is set (the value itself is never shown).
    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Decides a `sriov_numvfs` write: the lock first, then [`decide`].
    pub(crate) fn configure(&self, req: &Request) -> core::result::Result<Action, Refusal> {
        // Invariant: `locked` implies the `locked` policy (see `lock_cmd` and `set_policy`).
        if req.requested != req.current && self.locked {
            return Err(Refusal::Locked);
        }
        decide(req)
    }

    /// Records that `action` was carried out: enabling VFs under the locked policy locks them.
    pub(crate) fn done(&mut self, action: Action) {
        match action {
            Action::Enable(_) if self.policy == Policy::Locked => self.locked = true,
            Action::Disable => self.locked = false,
            _ => {}
        }
    }

    /// Applies a `sriov_lock` write.
    pub(crate) fn lock_cmd(&mut self, cmd: &LockCmd) -> core::result::Result<(), KnobRefusal> {
        match cmd {
            LockCmd::Lock if self.policy == Policy::Simple => {
                return Err(KnobRefusal::SimplePolicy)
            }
            LockCmd::Lock => self.locked = true,
            LockCmd::Unlock(given) => {
                if !self.token_matches(given.as_ref()) {
                    return Err(KnobRefusal::BadToken);
                }
                self.locked = false;
            }
        }
        Ok(())
    }

    /// Applies a `sriov_policy` write: refused while locked, since leaving `locked` would undo
    /// the lock without the token.
    pub(crate) fn set_policy(&mut self, policy: Policy) -> core::result::Result<(), KnobRefusal> {
        if self.locked && policy != self.policy {
            return Err(KnobRefusal::Locked);
        }
        self.policy = policy;
        Ok(())
    }

    /// Applies a `sriov_vf_token` write.
    pub(crate) fn token_cmd(&mut self, cmd: TokenCmd) -> core::result::Result<(), KnobRefusal> {
        match cmd {
            TokenCmd::Set(new) => {
                if self.token.is_some() && self.locked {
                    return Err(KnobRefusal::Locked);
                }
                self.token = Some(new);
            }
            TokenCmd::Clear => {
                if self.token.is_some() && self.locked {
                    return Err(KnobRefusal::Locked);
                }
                self.token = None;
            }
            TokenCmd::WithCurrent(current, new) => {
                if !self.token_matches(Some(&current)) || self.token.is_none() {
                    return Err(KnobRefusal::BadToken);
                }
                self.token = new;
            }
        }
        Ok(())
    }

    /// `true` when no token is set and none is given, or the given one equals the set one.
    fn token_matches(&self, given: Option<&VfToken>) -> bool {
        match (&self.token, given) {
            (None, None) => true,
            (Some(t), Some(g)) => t.ct_eq(g),
            _ => false,
        }
    }
}

/// What unbinding the driver does to the PF's VFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnbindAction {
    /// No VFs: nothing to do.
    Nothing,
    /// The PF is being removed from the system: its VFs go with it, whatever the lock, the
    /// token or their users, since nothing can manage VFs whose PF is gone.
    Remove,
    /// Disable the VFs: nobody else manages them once the PF driver is gone.
    Disable,
    /// Leave the VFs: they are assigned to a guest and removing them would surprise it.
    Keep,
    /// Leave the VFs and remember the lock and token, to adopt them at the next bind: they are
    /// locked and in use (bound to a driver such as vfio-pci).
    KeepLocked,
}

/// Decides what unbind does with `current` enabled VFs, of which `assigned` are assigned to a
/// guest and `in_use` bound to a driver, under the lock state `locked`; `removing` when the PF
/// itself is being removed (no longer on the bus), `unloading` when `rmmod` has begun: VFs bound
/// after it checked that none was locked and in use cannot wait for an adoption.
pub(crate) fn on_unbind(
    removing: bool,
    unloading: bool,
    current: u16,
    assigned: u16,
    in_use: u16,
    locked: bool,
) -> UnbindAction {
    if current == 0 {
        UnbindAction::Nothing
    } else if removing {
        UnbindAction::Remove
    } else if locked && in_use > 0 && unloading {
        UnbindAction::Disable
    } else if locked && in_use > 0 {
        UnbindAction::KeepLocked
    } else if assigned > 0 {
        UnbindAction::Keep
    } else {
        UnbindAction::Disable
    }
}

/// Whether a record of `kept` VFs may be adopted by a PF that has `now` VFs: the same count, and
/// the same VF devices (`same_vf0`: SR-IOV was not disabled and enabled again in between, by
/// another driver or by hand, which would make the record govern VFs it never protected).
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

    const T1: &[u8] = b"2ab74924-c335-45f4-9b16-8569e5b08258";
    const T2: &[u8] = b"9f1c0b6e-7d5a-4c3e-8b2a-1e0f9d8c7b6a";

    fn token(t: &[u8]) -> Result<VfToken> {
        VfToken::parse(t)
    }

    #[test]
    fn locked_policy_locks_after_enable() {
        let mut g = Guard::new(Policy::Locked);
        let a = g.configure(&req(0, 8, 0, 4));
        assert_eq!(a, Ok(Action::Enable(4)));
        g.done(Action::Enable(4));
        assert!(g.locked);
        assert_eq!(g.configure(&req(4, 8, 0, 0)), Err(Refusal::Locked));
        assert_eq!(Refusal::Locked.to_error(), EPERM);
        // Writing the current count stays a no-op.
        assert_eq!(g.configure(&req(4, 8, 0, 4)), Ok(Action::Unchanged));
        assert!(g.lock_cmd(&LockCmd::Unlock(None)).is_ok());
        assert_eq!(g.configure(&req(4, 8, 0, 0)), Ok(Action::Disable));
    }

    #[test]
    fn vfs_found_at_bind_are_locked_under_the_locked_policy() {
        assert!(Guard::at_bind(Policy::Locked, 2).locked);
        assert!(!Guard::at_bind(Policy::Locked, 0).locked);
        assert!(!Guard::at_bind(Policy::Simple, 2).locked);
        assert!(!Guard::at_bind(Policy::Locked, 2).has_token());
    }

    #[test]
    fn simple_policy_never_locks() {
        let mut g = Guard::new(Policy::Simple);
        g.done(Action::Enable(4));
        assert!(!g.locked);
        assert_eq!(g.lock_cmd(&LockCmd::Lock), Err(KnobRefusal::SimplePolicy));
        assert_eq!(KnobRefusal::SimplePolicy.to_error(), EPERM);
        assert!(!g.locked);
        assert_eq!(g.configure(&req(4, 8, 0, 0)), Ok(Action::Disable));
    }

    #[test]
    fn token_guards_unlock() -> Result {
        let mut g = Guard::new(Policy::Locked);
        assert!(g.token_cmd(TokenCmd::Set(token(T1)?)).is_ok());
        g.done(Action::Enable(2));
        assert_eq!(
            g.lock_cmd(&LockCmd::Unlock(None)),
            Err(KnobRefusal::BadToken)
        );
        assert_eq!(
            g.lock_cmd(&LockCmd::Unlock(Some(token(T2)?))),
            Err(KnobRefusal::BadToken)
        );
        assert_eq!(KnobRefusal::BadToken.to_error(), EACCES);
        assert!(g.locked);
        assert!(g.lock_cmd(&LockCmd::Unlock(Some(token(T1)?))).is_ok());
        assert!(!g.locked);
        Ok(())
    }

    #[test]
    fn token_rotation_needs_unlock_or_current() -> Result {
        let mut g = Guard::new(Policy::Locked);
        assert!(g.token_cmd(TokenCmd::Set(token(T1)?)).is_ok());
        assert!(g.lock_cmd(&LockCmd::Lock).is_ok());
        assert_eq!(
            g.token_cmd(TokenCmd::Set(token(T2)?)),
            Err(KnobRefusal::Locked)
        );
        assert_eq!(g.token_cmd(TokenCmd::Clear), Err(KnobRefusal::Locked));
        assert_eq!(
            g.token_cmd(TokenCmd::WithCurrent(token(T2)?, None)),
            Err(KnobRefusal::BadToken)
        );
        assert!(g.has_token());
        assert!(g
            .token_cmd(TokenCmd::WithCurrent(token(T1)?, Some(token(T2)?)))
            .is_ok());
        assert!(g.lock_cmd(&LockCmd::Unlock(Some(token(T2)?))).is_ok());
        assert!(g.token_cmd(TokenCmd::Clear).is_ok());
        assert!(!g.has_token());
        Ok(())
    }

    #[test]
    fn restore_keeps_lock_only_under_locked_policy() -> Result {
        let g = Guard::restore(Policy::Locked, true, Some(token(T1)?));
        assert!(g.locked && g.has_token());
        assert_eq!(g.configure(&req(2, 8, 0, 0)), Err(Refusal::Locked));
        let g = Guard::restore(Policy::Simple, true, None);
        assert!(!g.locked);
        let mut g = Guard::restore(Policy::Locked, true, Some(token(T1)?));
        assert!(g.take_token().is_some());
        assert!(!g.has_token());
        Ok(())
    }

    #[test]
    fn policy_change_refused_while_locked() {
        let mut g = Guard::new(Policy::Locked);
        g.done(Action::Enable(1));
        assert_eq!(g.set_policy(Policy::Simple), Err(KnobRefusal::Locked));
        assert_eq!(g.policy, Policy::Locked);
        assert!(g.set_policy(Policy::Locked).is_ok());
    }

    #[test]
    fn knob_parsing() {
        assert_eq!(Policy::parse(b"locked\n"), Ok(Policy::Locked));
        assert_eq!(Policy::parse(b"simple"), Ok(Policy::Simple));
        for bad in [
            &b""[..],
            b"\n",
            b"Locked",
            b"simple\n\n",
            b" simple",
            b"lockedx",
        ] {
            assert_eq!(Policy::parse(bad), Err(EINVAL));
        }
        assert!(matches!(LockCmd::parse(b"lock\n"), Ok(LockCmd::Lock)));
        assert!(matches!(
            LockCmd::parse(b"unlock"),
            Ok(LockCmd::Unlock(None))
        ));
        assert!(matches!(
            LockCmd::parse(b"unlock 2ab74924-c335-45f4-9b16-8569e5b08258\n"),
            Ok(LockCmd::Unlock(Some(_)))
        ));
        for bad in [&b""[..], b"unlock ", b"unlock x", b"LOCK", b"lock unlock"] {
            assert!(LockCmd::parse(bad).is_err());
        }
        assert!(matches!(TokenCmd::parse(T1), Ok(TokenCmd::Set(_))));
        assert!(matches!(TokenCmd::parse(b"clear\n"), Ok(TokenCmd::Clear)));
        assert!(matches!(
            TokenCmd::parse(b"2ab74924-c335-45f4-9b16-8569e5b08258 clear"),
            Ok(TokenCmd::WithCurrent(_, None))
        ));
        for bad in [
            &b""[..],
            b"x",
            b"clear clear",
            b"2ab74924-c335-45f4-9b16-8569e5b08258  clear",
        ] {
            assert!(TokenCmd::parse(bad).is_err());
        }
    }

    /// The arguments of `on_unbind`: (removing, unloading, current, assigned, in_use, locked).
    type UnbindArgs = (bool, bool, u16, u16, u16, bool);

    /// Checks `on_unbind` against a table of (arguments, expected action).
    fn check_unbind(cases: &[(UnbindArgs, UnbindAction)]) {
        for &((removing, unloading, current, assigned, in_use, locked), want) in cases {
            assert_eq!(
                on_unbind(removing, unloading, current, assigned, in_use, locked),
                want
            );
        }
    }

    #[test]
    fn unbind_disables_unless_assigned() {
        // (removing, unloading, current, assigned, in_use, locked) => action
        check_unbind(&[
            ((false, false, 0, 0, 0, false), UnbindAction::Nothing),
            ((false, false, 0, 0, 0, true), UnbindAction::Nothing),
            ((false, false, 8, 0, 0, false), UnbindAction::Disable),
            ((false, false, 8, 0, 3, false), UnbindAction::Disable),
            ((false, false, 8, 0, 0, true), UnbindAction::Disable),
            ((false, false, 8, 1, 0, false), UnbindAction::Keep),
            ((false, false, 8, 0, 1, true), UnbindAction::KeepLocked),
            ((false, false, 8, 1, 1, true), UnbindAction::KeepLocked),
        ]);
    }

    #[test]
    fn removal_takes_the_vfs_whatever_the_lock() {
        // (removing, unloading, current, assigned, in_use, locked) => action
        check_unbind(&[
            ((true, false, 0, 0, 0, true), UnbindAction::Nothing),
            ((true, false, 8, 0, 0, false), UnbindAction::Remove),
            ((true, false, 8, 0, 8, true), UnbindAction::Remove),
            ((true, false, 8, 2, 2, true), UnbindAction::Remove),
            ((true, false, 8, 1, 0, false), UnbindAction::Remove),
        ]);
    }

    #[test]
    fn token_writes_ignore_surrounding_whitespace() {
        let t = "6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5";
        for text in [
            " 6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5\n",
            "6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5 \n",
            "\t6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5\t",
        ] {
            assert!(matches!(
                TokenCmd::parse(text.as_bytes()),
                Ok(TokenCmd::Set(_))
            ));
        }
        assert!(matches!(TokenCmd::parse(b" clear \n"), Ok(TokenCmd::Clear)));
        let both = format_pair(t);
        assert!(matches!(
            TokenCmd::parse(&both),
            Ok(TokenCmd::WithCurrent(_, Some(_)))
        ));
    }

    /// `"  <t> <t> \n"`: a current and a new token with whitespace around the pair.
    fn format_pair(t: &str) -> [u8; 77] {
        let mut b = [b' '; 77];
        b[1..37].copy_from_slice(t.as_bytes());
        b[38..74].copy_from_slice(t.as_bytes());
        b[76] = b'\n';
        b
    }

    #[test]
    fn rmmod_never_keeps_vfs() {
        // (removing, unloading, current, assigned, in_use, locked) => action
        check_unbind(&[
            ((false, true, 8, 0, 8, true), UnbindAction::Disable),
            ((false, true, 8, 1, 0, false), UnbindAction::Keep),
            ((true, true, 8, 0, 8, true), UnbindAction::Remove),
            ((false, true, 0, 0, 0, true), UnbindAction::Nothing),
        ]);
    }

    #[test]
    fn error_votes() {
        assert_eq!(error_vote(ChannelState::Normal), ErsResult::CanRecover);
        assert_eq!(error_vote(ChannelState::Frozen), ErsResult::NeedReset);
        assert_eq!(error_vote(ChannelState::PermFailure), ErsResult::Disconnect);
    }

    #[test]
    fn adoption_needs_the_same_vfs() {
        assert!(adoptable(2, 2, true));
        // SR-IOV disabled and enabled again with the same count: new VF devices.
        assert!(!adoptable(2, 2, false));
        assert!(!adoptable(2, 4, true));
        assert!(!adoptable(2, 0, false));
        assert!(!adoptable(0, 0, false));
    }
}
