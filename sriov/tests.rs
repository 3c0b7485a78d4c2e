// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the SR-IOV policy: one table or case per decision of [`super`].

use kernel::prelude::*;

#[kunit_tests(pf_stub_sriov)]
mod cases {
    use super::super::*;
    use crate::vf_token::VfToken;
    use core::pin::Pin;

    fn req(current: u16, total: u16, assigned: u16, requested: u16) -> Request {
        Request {
            current,
            total,
            assigned,
            requested,
            leftover_vf: false,
        }
    }

    /// A PF's policy state, unlocked and without a token.
    fn fresh(policy: Policy) -> Result<Pin<KBox<PfPolicy>>> {
        KBox::pin_init(PfPolicy::new(policy, false, None), GFP_KERNEL)
    }

    #[test]
    fn enable_from_zero() {
        assert_eq!(decide(&req(0, 8, 0, 8)), Ok(Action::Enable(8)));
        assert_eq!(decide(&req(0, 64, 0, 1)), Ok(Action::Enable(1)));
    }

    #[test]
    fn leftover_vf_blocks_only_an_enable() {
        let leftover = |r: Request| Request {
            leftover_vf: true,
            ..r
        };
        let r = decide(&leftover(req(0, 8, 0, 4)));
        assert_eq!(r, Err(Refusal::LeftoverVf));
        assert_eq!(r.err().map(Refusal::to_error), Some(EBUSY));
        // Nothing is created by a disable, a no-op or a refused count: their answers stay.
        assert_eq!(decide(&leftover(req(4, 8, 0, 0))), Ok(Action::Disable));
        assert_eq!(decide(&leftover(req(0, 8, 0, 0))), Ok(Action::Unchanged));
        assert!(matches!(
            decide(&leftover(req(0, 8, 0, 9))),
            Err(Refusal::OutOfRange { .. })
        ));
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
    fn locked_policy_locks_after_enable() -> Result {
        let p = fresh(Policy::Locked)?;
        let mut l = p.lock();
        let mut g = l.guard();
        let a = g.configure(&req(0, 8, 0, 4));
        assert_eq!(a, Ok(Action::Enable(4)));
        assert!(g.done(Action::Enable(4)));
        assert!(g.locked());
        assert!(p.locked());
        assert_eq!(g.configure(&req(4, 8, 0, 0)), Err(Refusal::Locked));
        assert_eq!(Refusal::Locked.to_error(), EPERM);
        // Writing the current count stays a no-op.
        assert_eq!(g.configure(&req(4, 8, 0, 4)), Ok(Action::Unchanged));
        assert!(g.lock_cmd(&LockCmd::Unlock(None)).is_ok());
        assert_eq!(g.configure(&req(4, 8, 0, 0)), Ok(Action::Disable));
        Ok(())
    }

    #[test]
    fn vfs_found_at_bind_are_locked_under_the_locked_policy() -> Result {
        assert!(locked_at_bind(Policy::Locked, 2));
        assert!(!locked_at_bind(Policy::Locked, 0));
        assert!(!locked_at_bind(Policy::Simple, 2));
        let p = KBox::pin_init(PfPolicy::new(Policy::Locked, true, None), GFP_KERNEL)?;
        assert!(!p.has_token());
        Ok(())
    }

    #[test]
    fn simple_policy_never_locks() -> Result {
        let p = fresh(Policy::Simple)?;
        let mut l = p.lock();
        let mut g = l.guard();
        assert!(!g.done(Action::Enable(4)));
        assert!(!g.locked());
        assert_eq!(g.lock_cmd(&LockCmd::Lock), Err(KnobRefusal::SimplePolicy));
        assert_eq!(KnobRefusal::SimplePolicy.to_error(), EPERM);
        assert!(!g.locked());
        assert_eq!(g.configure(&req(4, 8, 0, 0)), Ok(Action::Disable));
        Ok(())
    }

    #[test]
    fn token_guards_unlock() -> Result {
        let p = fresh(Policy::Locked)?;
        let mut l = p.lock();
        let mut g = l.guard();
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
        assert!(g.locked());
        assert!(g.lock_cmd(&LockCmd::Unlock(Some(token(T1)?))).is_ok());
        assert!(!g.locked());
        Ok(())
    }

    #[test]
    fn token_rotation_needs_unlock_or_current() -> Result {
        let p = fresh(Policy::Locked)?;
        let mut l = p.lock();
        let mut g = l.guard();
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
        assert!(p.has_token());
        assert!(g
            .token_cmd(TokenCmd::WithCurrent(token(T1)?, Some(token(T2)?)))
            .is_ok());
        assert!(g.lock_cmd(&LockCmd::Unlock(Some(token(T2)?))).is_ok());
        assert!(g.token_cmd(TokenCmd::Clear).is_ok());
        assert!(!g.has_token());
        assert!(!p.has_token());
        Ok(())
    }

    #[test]
    fn restore_keeps_lock_only_under_locked_policy() -> Result {
        // Adopted VFs are locked (`locked_at_bind` with the kept count), under `locked` only.
        let p = KBox::pin_init(
            PfPolicy::new(Policy::Locked, true, Some(token(T1)?)),
            GFP_KERNEL,
        )?;
        assert!(p.locked() && p.has_token());
        assert_eq!(
            p.lock().guard().configure(&req(2, 8, 0, 0)),
            Err(Refusal::Locked)
        );
        let p = KBox::pin_init(PfPolicy::new(Policy::Simple, true, None), GFP_KERNEL)?;
        assert!(!p.locked());
        let p = KBox::pin_init(
            PfPolicy::new(Policy::Locked, true, Some(token(T1)?)),
            GFP_KERNEL,
        )?;
        let mut l = p.lock();
        let mut g = l.guard();
        assert!(g.take_token().is_some());
        assert!(!g.has_token());
        assert!(!p.has_token());
        Ok(())
    }

    #[test]
    fn policy_change_refused_while_locked() -> Result {
        let p = fresh(Policy::Locked)?;
        let mut l = p.lock();
        let mut g = l.guard();
        g.done(Action::Enable(1));
        assert_eq!(g.set_policy(Policy::Simple, 1), Err(KnobRefusal::Locked));
        assert_eq!(g.policy(), Policy::Locked);
        assert!(g.set_policy(Policy::Locked, 1).is_ok());
        Ok(())
    }

    #[test]
    fn policy_change_to_locked_locks_enabled_vfs() -> Result {
        let p = fresh(Policy::Simple)?;
        let mut l = p.lock();
        let mut g = l.guard();
        assert_eq!(g.set_policy(Policy::Simple, 2), Ok(PolicyChange::Unchanged));
        assert_eq!(
            g.set_policy(Policy::Locked, 2),
            Ok(PolicyChange::Set { locked: true })
        );
        assert!(g.locked() && p.locked());
        assert_eq!(p.policy(), Policy::Locked);
        assert!(g.lock_cmd(&LockCmd::Unlock(None)).is_ok());
        assert_eq!(
            g.set_policy(Policy::Simple, 2),
            Ok(PolicyChange::Set { locked: false })
        );
        // Without VFs there is no count to lock.
        assert_eq!(
            g.set_policy(Policy::Locked, 0),
            Ok(PolicyChange::Set { locked: false })
        );
        assert!(!p.locked());
        Ok(())
    }

    #[test]
    fn lock_and_token_writes_say_what_changed() -> Result {
        let p = fresh(Policy::Locked)?;
        let mut l = p.lock();
        let mut g = l.guard();
        assert_eq!(g.lock_cmd(&LockCmd::Lock), Ok(LockChange::Locked));
        assert_eq!(g.lock_cmd(&LockCmd::Lock), Ok(LockChange::Unchanged));
        assert_eq!(g.lock_cmd(&LockCmd::Unlock(None)), Ok(LockChange::Unlocked));
        assert_eq!(g.token_cmd(TokenCmd::Clear), Ok(TokenChange::Unchanged));
        assert_eq!(g.token_cmd(TokenCmd::Set(token(T1)?)), Ok(TokenChange::Set));
        assert_eq!(
            g.token_cmd(TokenCmd::Set(token(T2)?)),
            Ok(TokenChange::Replaced)
        );
        assert_eq!(g.token_cmd(TokenCmd::Clear), Ok(TokenChange::Cleared));
        Ok(())
    }

    #[test]
    fn vf_knobs_refused_while_vfs_exist() {
        assert_eq!(vf_knob_change(0), Ok(()));
        assert_eq!(vf_knob_change(1), Err(KnobRefusal::VfsEnabled));
        assert_eq!(KnobRefusal::VfsEnabled.to_error(), EBUSY);
    }

    #[test]
    fn vf_count_at_bind() {
        let bind = |want, n| Some(BindVfs { want, n });
        // (addrs= @N, num_vfs=, VFs enabled, sriov_totalvfs) => VFs to enable
        for (listed, num_vfs, current, total, want) in [
            (None, 0, 0, 8, None),
            (None, 4, 0, 8, bind(4, 4)),
            (None, 16, 0, 8, bind(16, 8)),
            (Some(2), 4, 0, 8, bind(2, 2)),
            (Some(64), 0, 0, 8, bind(64, 8)),
            // `@0` wins over num_vfs=: none for that PF.
            (Some(0), 4, 0, 8, None),
            // VFs already there (taken over or adopted) are left as they are.
            (None, 4, 2, 8, None),
            (Some(4), 4, 4, 8, None),
        ] {
            assert_eq!(vfs_at_bind(listed, num_vfs, current, total), want);
        }
    }

    /// `current` VFs of a PF on the bus, unlocked, none assigned or in use, no `rmmod`: each
    /// case adds what it tests.
    fn vfs(current: u16) -> UnbindFacts {
        UnbindFacts {
            removing: false,
            unloading: false,
            current,
            assigned: 0,
            in_use: 0,
            locked: false,
        }
    }

    impl UnbindFacts {
        fn removing(self) -> Self {
            Self {
                removing: true,
                ..self
            }
        }

        fn unloading(self) -> Self {
            Self {
                unloading: true,
                ..self
            }
        }

        fn assigned(self, assigned: u16) -> Self {
            Self { assigned, ..self }
        }

        fn in_use(self, in_use: u16) -> Self {
            Self { in_use, ..self }
        }

        fn locked(self) -> Self {
            Self {
                locked: true,
                ..self
            }
        }
    }

    /// Checks `on_unbind` against a table of (facts, expected action).
    fn check_unbind(cases: &[(UnbindFacts, UnbindAction)]) {
        for (facts, want) in cases {
            assert_eq!(on_unbind(facts), *want);
        }
    }

    #[test]
    fn unbind_disables_unless_assigned() {
        check_unbind(&[
            (vfs(0), UnbindAction::Nothing),
            (vfs(0).locked(), UnbindAction::Nothing),
            (vfs(8), UnbindAction::Disable),
            (vfs(8).in_use(3), UnbindAction::Disable),
            (vfs(8).locked(), UnbindAction::Disable),
            (vfs(8).assigned(1), UnbindAction::Keep),
            (vfs(8).in_use(1).locked(), UnbindAction::KeepLocked),
            (
                vfs(8).assigned(1).in_use(1).locked(),
                UnbindAction::KeepLocked,
            ),
        ]);
    }

    #[test]
    fn removal_takes_the_vfs_whatever_the_lock() {
        check_unbind(&[
            (vfs(0).removing(), UnbindAction::Remove),
            (vfs(0).removing().locked(), UnbindAction::Remove),
            (vfs(8).removing(), UnbindAction::Remove),
            (vfs(8).removing().in_use(8).locked(), UnbindAction::Remove),
            (
                vfs(8).removing().assigned(2).in_use(2).locked(),
                UnbindAction::Remove,
            ),
            (vfs(8).removing().assigned(1), UnbindAction::Remove),
        ]);
    }

    #[test]
    fn rmmod_never_keeps_vfs() {
        check_unbind(&[
            (vfs(8).unloading().in_use(8).locked(), UnbindAction::Disable),
            (vfs(8).unloading().assigned(1), UnbindAction::Keep),
            (
                vfs(8).removing().unloading().in_use(8).locked(),
                UnbindAction::Remove,
            ),
            (vfs(0).unloading().locked(), UnbindAction::Nothing),
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
