// SPDX-License-Identifier: GPL-2.0

//! PCI error recovery and function resets of a bound PF: pf_stub takes part in the recovery of
//! its hierarchy instead of failing it, brings the VFs back with the same count after a reset
//! (the lock and the token live in the driver data, which a reset does not touch), and says so
//! in the log and in a uevent.
//!
//! # Locks
//!
//! Every callback runs with the PF's device lock held (see `kext::pci_driver`'s error handlers);
//! none takes the policy's lock, which a VF change may hold for seconds while recovery waits.

use crate::{
    events::{
        self,
        Event, //
    },
    kext::{
        pci_error::{
            ChannelState,
            ErsResult, //
        },
        pci_sriov::{
            SriovCore,
            SriovDevice, //
        },
    },
    pf::PfStub,
    sriov, //
};
use kernel::{
    device::Core,
    pci,
    prelude::*, //
};

/// The PF as the callbacks see it.
type Pf<'a> = pci::Device<Core<'a>>;

/// `locked`/`unlocked` and whether a token is set, for the log.
fn state_words(this: &PfStub) -> (&'static str, &'static str) {
    let policy = this.policy();
    (policy.lock_word(), policy.token_word())
}

/// An error was reported on the PF.
pub(crate) fn error_detected(pdev: &Pf<'_>, this: &PfStub, state: ChannelState) -> ErsResult {
    let vote = sriov::error_vote(state);
    let (lock, token) = state_words(this);
    let channel = events::channel_name(state);
    dev_warn!(
        pdev,
        "PCI error ({}) with {} VFs, {}, token {}: {}\n",
        channel,
        pdev.num_vf(),
        lock,
        token,
        match vote {
            ErsResult::Disconnect => "the PF is disconnected: its VFs cannot be used any more",
            ErsResult::NeedReset => "asking for a reset; the VFs come back after it",
            _ => "nothing to do for the PF; recovery goes on",
        }
    );
    Event::Error(state).send(pdev);
    vote
}

/// The link or slot was reset: write the PF's configuration back, VF Enable and the VF count
/// included, unless the reset path did already.
pub(crate) fn slot_reset(pdev: &Pf<'_>, _this: &PfStub) -> ErsResult {
    pdev.restore_state();
    if pdev.save_state().is_err() {
        dev_warn!(
            pdev,
            "slot reset: could not save the restored configuration\n"
        );
    }
    dev_info!(
        pdev,
        "slot reset: configuration restored, {} VFs enabled again\n",
        pdev.num_vf()
    );
    ErsResult::Recovered
}

/// Recovery is over.
pub(crate) fn resume(pdev: &Pf<'_>, this: &PfStub) {
    let (lock, token) = state_words(this);
    dev_info!(
        pdev,
        "recovered from the PCI error: {} VFs, {}, token {}\n",
        pdev.num_vf(),
        lock,
        token
    );
    Event::Recovered.send(pdev);
}

/// A reset of the PF is about to happen (a function reset, or the bus reset of a fatal error's
/// recovery): the VFs are reset with it, under their users.
pub(crate) fn reset_prepare(pdev: &Pf<'_>, _this: &PfStub) {
    dev_warn!(
        pdev,
        "reset of the PF: its {} VFs are reset with it, under their users\n",
        pdev.num_vf()
    );
    Event::Reset.send(pdev);
}

/// The reset is done and the PCI core restored the configuration, SR-IOV included.
pub(crate) fn reset_done(pdev: &Pf<'_>, this: &PfStub) {
    let (lock, token) = state_words(this);
    dev_info!(
        pdev,
        "reset done: {} VFs, {}, token {}\n",
        pdev.num_vf(),
        lock,
        token
    );
    Event::ResetDone.send(pdev);
}
