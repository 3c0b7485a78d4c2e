// SPDX-License-Identifier: GPL-2.0

//! pf_stub's sysfs attributes, in each bound PF's directory beside the PCI core's `sriov_*`:
//! `sriov_policy`, `sriov_lock`, `sriov_vf_token`, `sriov_vf_autoprobe` and `sriov_vf_driver`.
//!
//! Every write is parsed completely before anything changes, so bad input changes nothing;
//! every refusal writes one log line (never with the written text, which may hold a token) and
//! sends a `refused` uevent; every change writes one log line and sends a uevent. The
//! decisions are [`sriov`]'s: this file parses, calls and reports.
//!
//! # Locks
//!
//! Sysfs calls these without the PF's device lock. A show takes no lock but the knobs' (a
//! leaf); a store takes the policy's lock, which `sriov_configure` takes under the device
//! lock and `pci_rescan_remove_lock`; under it a store takes only leaves (the knobs,
//! `module_pin`), so a store waits for a VF change and a VF change at most for a store.

use crate::{
    events::{
        self,
        Event, //
    },
    kext::{
        device_attr::Attribute,
        pci_sriov::SriovDevice, //
    },
    pf::PfStub,
    sriov::{
        self,
        DriverName,
        KnobRefusal,
        LockChange,
        LockCmd,
        Policy,
        PolicyChange,
        PolicyGuard,
        TokenChange,
        TokenCmd,
        VfKnobs, //
    },
};
use core::fmt::Write;
use kernel::{
    device::Bound,
    pci,
    prelude::*,
    str::Formatter, //
};

/// The PF, as attribute callbacks see it.
type Pf = pci::Device<Bound>;

/// The files, as the log and the `refused` uevent (`PF_STUB_ATTR`) name them.
const POLICY: &str = "sriov_policy";
/// See [`POLICY`].
const LOCK: &str = "sriov_lock";
/// See [`POLICY`].
const TOKEN: &str = "sriov_vf_token";
/// See [`POLICY`].
const AUTOPROBE: &str = "sriov_vf_autoprobe";
/// See [`POLICY`].
const VF_DRIVER: &str = "sriov_vf_driver";

/// Refuses malformed input to `attr`: logs what was expected, never what was written.
fn bad_input(pdev: &Pf, attr: &str, expected: &str) -> Error {
    dev_warn!(pdev, "{}: write refused: expected {}\n", attr, expected);
    events::refused(pdev, attr, EINVAL)
}

/// Refuses a write to `attr` for `why`.
fn refuse(pdev: &Pf, attr: &str, why: KnobRefusal) -> Error {
    dev_warn!(pdev, "{}: write refused: {}\n", attr, why);
    events::refused(pdev, attr, why.to_error())
}

/// Shows `value` and a newline.
fn show_line(out: &mut Formatter<'_>, value: impl core::fmt::Display) -> Result {
    Ok(writeln!(out, "{value}")?)
}

/// Applies a write of `attr` to the policy state with `apply` (a decision of [`sriov`]) under
/// the policy's lock, and reports what changed with `report`; a refusal is logged and reported.
fn change_policy<C>(
    pdev: &Pf,
    this: Pin<&PfStub>,
    attr: &str,
    apply: impl FnOnce(&mut PolicyGuard<'_>) -> Result<C, KnobRefusal>,
    report: impl FnOnce(C),
) -> Result {
    this.with_policy(|guard| {
        let change = apply(guard).map_err(|why| refuse(pdev, attr, why))?;
        report(change);
        Ok(())
    })
}

/// `sriov_policy`: `locked` or `simple`.
pub(crate) struct PolicyAttr;

impl Attribute<PfStub> for PolicyAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut Formatter<'_>) -> Result {
        // Never waits for the policy's lock, which a VF change holds for a second or more.
        show_line(out, this.policy().policy().name())
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        let policy =
            Policy::parse(input).map_err(|_| bad_input(pdev, POLICY, "'locked' or 'simple'"))?;
        let apply = |guard: &mut PolicyGuard<'_>| guard.set_policy(policy, pdev.num_vf());
        change_policy(pdev, this, POLICY, apply, |change| {
            let PolicyChange::Set { locked } = change else {
                return;
            };
            dev_info!(pdev, "sriov_policy set to {}\n", policy.name());
            Event::Policy(policy).send(pdev);
            if locked {
                dev_info!(pdev, "VF count locked at {}\n", pdev.num_vf());
                Event::Locked.send(pdev);
            }
        })
    }
}

/// `sriov_lock`: reads `locked` or `unlocked`; takes `lock`, `unlock` or `unlock <token>`.
pub(crate) struct LockAttr;

impl Attribute<PfStub> for LockAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut Formatter<'_>) -> Result {
        show_line(out, this.policy().lock_word())
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        let cmd = LockCmd::parse(input)
            .map_err(|_| bad_input(pdev, LOCK, "'lock', 'unlock' or 'unlock <token>'"))?;
        let apply = |guard: &mut PolicyGuard<'_>| guard.lock_cmd(&cmd);
        change_policy(pdev, this, LOCK, apply, |change| {
            let event = match change {
                LockChange::Unchanged => return,
                LockChange::Locked => Event::Locked,
                LockChange::Unlocked => Event::Unlocked,
            };
            // The log's word is the event's name: "VF count locked at 2".
            dev_info!(pdev, "VF count {} at {}\n", event.name(), pdev.num_vf());
            event.send(pdev);
        })
    }
}

/// `sriov_vf_token`: reads `set` or `unset`; takes `<uuid>`, `clear`, `<current> <uuid>` or
/// `<current> clear`.
pub(crate) struct TokenAttr;

impl Attribute<PfStub> for TokenAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut Formatter<'_>) -> Result {
        show_line(out, this.policy().token_word())
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        let cmd = TokenCmd::parse(input).map_err(|_| {
            bad_input(
                pdev,
                TOKEN,
                "a UUID, 'clear', '<current UUID> <new UUID>' or '<current UUID> clear'",
            )
        })?;
        let apply = |guard: &mut PolicyGuard<'_>| guard.token_cmd(cmd);
        change_policy(pdev, this, TOKEN, apply, |change| {
            let (word, event) = match change {
                TokenChange::Unchanged => return,
                TokenChange::Set => ("set", Event::TokenSet),
                TokenChange::Replaced => ("replaced", Event::TokenSet),
                TokenChange::Cleared => ("cleared", Event::TokenCleared),
            };
            dev_info!(pdev, "VF token {}\n", word);
            event.send(pdev);
        })
    }
}

/// Changes a VF knob under the policy's lock, refusing while VFs are enabled.
fn set_vf_knob(
    pdev: &Pf,
    this: Pin<&PfStub>,
    attr: &str,
    set: impl FnOnce(&mut VfKnobs),
) -> Result {
    // The policy's lock is held across VF enabling, so no VF can appear between the check and
    // the set.
    let _guard = this.policy().lock();
    sriov::vf_knob_change(pdev.num_vf()).map_err(|why| refuse(pdev, attr, why))?;
    set(&mut this.state().knobs.lock());
    Ok(())
}

/// `sriov_vf_autoprobe`: `0` (new VFs pinned to `sriov_vf_driver`) or `1` (VFs probe normally).
pub(crate) struct AutoprobeAttr;

impl Attribute<PfStub> for AutoprobeAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut Formatter<'_>) -> Result {
        show_line(out, u8::from(this.state().knobs.lock().autoprobe))
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        let on = match sriov::strip_newline(input) {
            b"0" => false,
            b"1" => true,
            _ => return Err(bad_input(pdev, AUTOPROBE, "0 or 1")),
        };
        set_vf_knob(pdev, this, AUTOPROBE, |k| k.autoprobe = on)?;
        dev_info!(pdev, "sriov_vf_autoprobe set to {}\n", u8::from(on));
        Event::VfAutoprobe(on).send(pdev);
        Ok(())
    }
}

/// `sriov_vf_driver`: the driver new VFs are pinned to while `sriov_vf_autoprobe` is 0.
pub(crate) struct VfDriverAttr;

impl Attribute<PfStub> for VfDriverAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut Formatter<'_>) -> Result {
        let driver = this.state().knobs.lock().driver;
        show_line(out, driver.as_str())
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        let driver = DriverName::parse(input)
            .map_err(|_| bad_input(pdev, VF_DRIVER, "a driver name of 1-31 [A-Za-z0-9_.-]"))?;
        set_vf_knob(pdev, this, VF_DRIVER, |k| k.driver = driver)?;
        dev_info!(pdev, "sriov_vf_driver set to {}\n", driver.as_str());
        Event::VfDriver(&driver).send(pdev);
        Ok(())
    }
}
