// SPDX-License-Identifier: GPL-2.0

//! The per-PF policy state: the policy, the lock and the VF token, and the decisions that
//! change them (`sriov_numvfs` under the lock, `sriov_lock`, `sriov_policy`, `sriov_vf_token`).

use super::{
    decide,
    Action,
    LockCmd,
    Policy,
    Refusal,
    Request,
    TokenCmd, //
};
use crate::vf_token::VfToken;
use kernel::{
    fmt,
    impl_flags,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        Mutex,
        MutexGuard, //
    }, //
};

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

/// What an accepted `sriov_policy` write changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyChange {
    /// The PF already had that policy.
    Unchanged,
    /// The policy changed; `locked`: the change to `locked` locked the VFs enabled now, a count
    /// that has been set.
    Set { locked: bool },
}

/// What an accepted `sriov_lock` write changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockChange {
    /// Nothing: `lock` on a locked PF, `unlock` on an unlocked one.
    Unchanged,
    /// The VF count is locked now.
    Locked,
    /// The VF count is unlocked now.
    Unlocked,
}

/// What an accepted `sriov_vf_token` write changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenChange {
    /// Nothing: `clear` without a token.
    Unchanged,
    /// A token is set where there was none.
    Set,
    /// The token is replaced by another (or the same).
    Replaced,
    /// The token is cleared.
    Cleared,
}

/// Whether a PF binds locked: VFs it finds enabled at bind (adopted from its last unbind, or
/// left by another driver) are locked under the `locked` policy, as if enabled here.
pub(crate) fn locked_at_bind(policy: Policy, current: u16) -> bool {
    current > 0 && policy == Policy::Locked
}

impl_flags!(
    /// The policy, the lock and whether a token is set, as [`PfPolicy`] publishes them.
    #[derive(Clone, Copy, PartialEq, Eq)]
    struct StateBits(u32);

    /// One bit of [`StateBits`].
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum StateBit {
        /// The VF count is locked.
        Locked = 1 << 0,
        /// A VF token is set.
        Token = 1 << 1,
        /// The policy is `simple` (else `locked`).
        Simple = 1 << 2,
    }
);

impl StateBits {
    /// The bits of a state.
    fn of(policy: Policy, locked: bool, has_token: bool) -> Self {
        let mut bits = Self::empty();
        if locked {
            bits |= StateBit::Locked;
        }
        if has_token {
            bits |= StateBit::Token;
        }
        if policy == Policy::Simple {
            bits |= StateBit::Simple;
        }
        bits
    }

    /// The policy the bits hold.
    fn policy(self) -> Policy {
        if self.contains(StateBit::Simple) {
            Policy::Simple
        } else {
            Policy::Locked
        }
    }
}

/// A PF's policy state: the policy, the lock and the VF token.
///
/// # Invariants
///
/// `locked` implies the `locked` policy.
#[pin_data]
pub(crate) struct PfPolicy {
    /// The policy, the lock and whether a token is set (a [`StateBits`]): the only copy of the policy and the lock, read without waiting by the attributes,
    /// recovery and the VF watcher (see [`PfPolicy::locked`]). Written only by
    /// [`PolicyGuard::store`], with `token` locked. The token bit is the one mirror here (of
    /// `token.is_some()`, for the readers that cannot take the lock): `store` sets it from the
    /// token on every write, and every change of the token ends with a `store`.
    bits: Atomic<u32>,
    /// The VF token. Its lock serializes every change of this state and of the PF's VF count.
    #[pin]
    token: Mutex<Option<VfToken>>,
}

impl PfPolicy {
    /// A PF's state at bind: `locked` holds only under the `locked` policy.
    pub(crate) fn new(policy: Policy, locked: bool, token: Option<VfToken>) -> impl PinInit<Self> {
        // INVARIANT: `locked` only under the `locked` policy.
        let locked = locked && policy == Policy::Locked;
        pin_init!(Self {
            bits: Atomic::new(StateBits::of(policy, locked, token.is_some()).into()),
            token <- new_mutex!(token),
        })
    }

    /// Takes the lock that serializes changes of the state and of the VF count.
    pub(crate) fn lock(&self) -> PolicyLock<'_> {
        PolicyLock {
            bits: &self.bits,
            token: self.token.lock(),
        }
    }

    /// The bits, read without the lock: a write to them may be under way, and is seen once done.
    fn load(&self) -> StateBits {
        StateBits(self.bits.load(Acquire))
    }

    /// Whether the VF count is locked. Never waits: the lock is held across VF changes (a
    /// disable takes a second or more, and knob reads must not wait for it) and while VFs are
    /// added, when the VF watcher asks.
    pub(crate) fn locked(&self) -> bool {
        self.load().contains(StateBit::Locked)
    }

    /// Whether a VF token is set; never waits.
    pub(crate) fn has_token(&self) -> bool {
        self.load().contains(StateBit::Token)
    }

    /// `locked` or `unlocked`, as `sriov_lock` shows the lock; never waits.
    pub(crate) fn lock_word(&self) -> &'static str {
        if self.locked() {
            "locked"
        } else {
            "unlocked"
        }
    }

    /// `set` or `unset`, as `sriov_vf_token` shows the token (never its value); never waits.
    pub(crate) fn token_word(&self) -> &'static str {
        if self.has_token() {
            "set"
        } else {
            "unset"
        }
    }

    /// The policy; never waits.
    pub(crate) fn policy(&self) -> Policy {
        self.load().policy()
    }
}

/// The lock of a PF's policy state, held.
pub(crate) struct PolicyLock<'a> {
    /// The owner's bits.
    bits: &'a Atomic<u32>,
    /// The token, locked.
    token: MutexGuard<'a, Option<VfToken>>,
}

impl PolicyLock<'_> {
    /// The state, to decide and change. Apart from the lock, which stays with this thread, so
    /// that a change may run on a worker that this thread waits for (`kext::rescan::run_locked`).
    pub(crate) fn guard(&mut self) -> PolicyGuard<'_> {
        PolicyGuard {
            bits: self.bits,
            token: &mut self.token,
        }
    }
}

/// A PF's policy state with its lock held: the decisions that change it.
pub(crate) struct PolicyGuard<'a> {
    /// The owner's bits.
    bits: &'a Atomic<u32>,
    /// The token.
    token: &'a mut Option<VfToken>,
}

impl PolicyGuard<'_> {
    /// The bits (the lock is held: nobody else writes them).
    fn load(&self) -> StateBits {
        StateBits(self.bits.load(Relaxed))
    }

    /// Publishes a new policy and lock, with the token bit of the token held now.
    fn store(&mut self, policy: Policy, locked: bool) {
        let bits = StateBits::of(policy, locked, self.token.is_some());
        self.bits.store(bits.into(), Release);
    }

    /// The policy in force.
    pub(crate) fn policy(&self) -> Policy {
        self.load().policy()
    }

    /// Whether the VF count is locked.
    pub(crate) fn locked(&self) -> bool {
        self.load().contains(StateBit::Locked)
    }

    /// Whether a token is set (the value itself is never shown).
    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Takes the token out, to keep it across an unbind; the state is left without one.
    pub(crate) fn take_token(&mut self) -> Option<VfToken> {
        let token = self.token.take();
        self.store(self.policy(), self.locked());
        token
    }

    /// Decides a `sriov_numvfs` write: the lock first, then [`decide`].
    pub(crate) fn configure(&self, req: &Request) -> Result<Action, Refusal> {
        // Invariant: `locked` implies the `locked` policy (see `lock_cmd` and `set_policy`).
        if req.requested != req.current && self.locked() {
            return Err(Refusal::Locked);
        }
        decide(req)
    }

    /// Records that `action` was carried out: enabling VFs under the locked policy locks them.
    /// Returns whether the count became locked.
    pub(crate) fn done(&mut self, action: Action) -> bool {
        let (policy, was) = (self.policy(), self.locked());
        let locked = match action {
            Action::Enable(_) if policy == Policy::Locked => true,
            Action::Disable => false,
            _ => was,
        };
        self.store(policy, locked);
        locked && !was
    }

    /// Applies a `sriov_lock` write.
    pub(crate) fn lock_cmd(&mut self, cmd: &LockCmd) -> Result<LockChange, KnobRefusal> {
        let (policy, was) = (self.policy(), self.locked());
        match cmd {
            LockCmd::Lock if policy == Policy::Simple => return Err(KnobRefusal::SimplePolicy),
            LockCmd::Lock => self.store(policy, true),
            LockCmd::Unlock(given) => {
                if !self.token_matches(given.as_ref()) {
                    return Err(KnobRefusal::BadToken);
                }
                self.store(policy, false);
            }
        }
        Ok(match (was, self.locked()) {
            (false, true) => LockChange::Locked,
            (true, false) => LockChange::Unlocked,
            _ => LockChange::Unchanged,
        })
    }

    /// Applies a `sriov_policy` write with `num_vf` VFs enabled: refused while locked, since
    /// leaving `locked` would undo the lock without the token. Under `locked`, enabled VFs are a
    /// count that has been set: a change to `locked` locks them at once.
    pub(crate) fn set_policy(
        &mut self,
        policy: Policy,
        num_vf: u16,
    ) -> Result<PolicyChange, KnobRefusal> {
        if policy == self.policy() {
            return Ok(PolicyChange::Unchanged);
        }
        if self.locked() {
            return Err(KnobRefusal::Locked);
        }
        let locked = policy == Policy::Locked && num_vf > 0;
        self.store(policy, locked);
        Ok(PolicyChange::Set { locked })
    }

    /// Applies a `sriov_vf_token` write.
    pub(crate) fn token_cmd(&mut self, cmd: TokenCmd) -> Result<TokenChange, KnobRefusal> {
        let (locked, had) = (self.locked(), self.has_token());
        match cmd {
            TokenCmd::Set(_) | TokenCmd::Clear if self.token.is_some() && locked => {
                return Err(KnobRefusal::Locked);
            }
            TokenCmd::Set(new) => *self.token = Some(new),
            TokenCmd::Clear => *self.token = None,
            TokenCmd::WithCurrent(current, new) => {
                if !self.token_matches(Some(&current)) || self.token.is_none() {
                    return Err(KnobRefusal::BadToken);
                }
                *self.token = new;
            }
        }
        self.store(self.policy(), locked);
        Ok(match (had, self.has_token()) {
            (false, true) => TokenChange::Set,
            (true, true) => TokenChange::Replaced,
            (true, false) => TokenChange::Cleared,
            (false, false) => TokenChange::Unchanged,
        })
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
