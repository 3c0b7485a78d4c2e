// SPDX-License-Identifier: GPL-2.0

//! pf_stub's sysfs attributes, in each bound PF's directory beside the PCI core's `sriov_*`:
//! `sriov_policy`, `sriov_lock`, `sriov_vf_token`, `sriov_vf_autoprobe` and `sriov_vf_driver`.
//!
//! Every write is parsed completely before anything changes, so bad input changes nothing;
//! every refusal writes one log line (never with the written text, which may hold a token) and
//! sends a `refused` uevent; every change writes one log line and sends a uevent. The
//! decisions are [`sriov`]'s: this file parses, calls and reports.

use crate::{
    events::{
        self,
        Event, //
    },
    kext::{
        device_attr::{
            Attribute,
            ShowBuffer, //
        },
        pci_sriov::SriovDevice, //
    },
    pf::PfStub,
    sriov::{
        self,
        DriverName,
        KnobRefusal,
        LockCmd,
        Policy,
        PolicyChange,
        TokenCmd,
        VfKnobs, //
    },
};
use core::fmt::Write;
use kernel::{
    device::Bound,
    pci,
    prelude::*, //
};

/// The PF, as attribute callbacks see it.
type Pf = pci::Device<Bound>;

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

/// `sriov_policy`: `locked` or `simple`.
pub(crate) struct PolicyAttr;

impl Attribute<PfStub> for PolicyAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        // Never waits for the policy's lock, which a VF change holds for a second or more.
        let policy = this.policy().policy();
        writeln!(out, "{}", policy.name()).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_policy";
        let policy =
            Policy::parse(input).map_err(|_| bad_input(pdev, ATTR, "'locked' or 'simple'"))?;
        this.with_policy(|guard| {
            let change = guard
                .set_policy(policy, pdev.num_vf())
                .map_err(|why| refuse(pdev, ATTR, why))?;
            let PolicyChange::Set { locked } = change else {
                return Ok(());
            };
            dev_info!(pdev, "sriov_policy set to {}\n", policy.name());
            Event::Policy(policy).send(pdev);
            if locked {
                dev_info!(pdev, "VF count locked at {}\n", pdev.num_vf());
                Event::Locked.send(pdev);
            }
            Ok(())
        })
    }
}

/// `sriov_lock`: reads `locked` or `unlocked`; takes `lock`, `unlock` or `unlock <token>`.
pub(crate) struct LockAttr;

impl Attribute<PfStub> for LockAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        let locked = this.policy().locked();
        writeln!(out, "{}", if locked { "locked" } else { "unlocked" }).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_lock";
        let cmd = LockCmd::parse(input)
            .map_err(|_| bad_input(pdev, ATTR, "'lock', 'unlock' or 'unlock <token>'"))?;
        this.with_policy(|guard| {
            let was = guard.locked();
            guard
                .lock_cmd(&cmd)
                .map_err(|why| refuse(pdev, ATTR, why))?;
            match (was, guard.locked()) {
                (false, true) => {
                    dev_info!(pdev, "VF count locked at {}\n", pdev.num_vf());
                    Event::Locked.send(pdev);
                }
                (true, false) => {
                    dev_info!(pdev, "VF count unlocked at {}\n", pdev.num_vf());
                    Event::Unlocked.send(pdev);
                }
                _ => {}
            }
            Ok(())
        })
    }
}

/// `sriov_vf_token`: reads `set` or `unset`; takes `<uuid>`, `clear`, `<current> <uuid>` or
/// `<current> clear`.
pub(crate) struct TokenAttr;

impl Attribute<PfStub> for TokenAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        let set = this.policy().has_token();
        writeln!(out, "{}", if set { "set" } else { "unset" }).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_vf_token";
        let cmd = TokenCmd::parse(input).map_err(|_| {
            bad_input(
                pdev,
                ATTR,
                "a UUID, 'clear', '<current UUID> <new UUID>' or '<current UUID> clear'",
            )
        })?;
        this.with_policy(|guard| {
            let had = guard.has_token();
            guard
                .token_cmd(cmd)
                .map_err(|why| refuse(pdev, ATTR, why))?;
            match (had, guard.has_token()) {
                (_, true) => {
                    dev_info!(pdev, "VF token {}\n", if had { "replaced" } else { "set" });
                    Event::TokenSet.send(pdev);
                }
                (true, false) => {
                    dev_info!(pdev, "VF token cleared\n");
                    Event::TokenCleared.send(pdev);
                }
                (false, false) => {}
            }
            Ok(())
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
    set(&mut this.watch_ref().knobs.lock());
    Ok(())
}

/// `sriov_vf_autoprobe`: `0` (new VFs pinned to `sriov_vf_driver`) or `1` (VFs probe normally).
pub(crate) struct AutoprobeAttr;

impl Attribute<PfStub> for AutoprobeAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        let on = this.watch_ref().knobs.lock().autoprobe;
        writeln!(out, "{}", u8::from(on)).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_vf_autoprobe";
        let on = match sriov::strip_newline(input) {
            b"0" => false,
            b"1" => true,
            _ => return Err(bad_input(pdev, ATTR, "0 or 1")),
        };
        set_vf_knob(pdev, this, ATTR, |k| k.autoprobe = on)?;
        dev_info!(pdev, "sriov_vf_autoprobe set to {}\n", u8::from(on));
        Event::VfAutoprobe(on).send(pdev);
        Ok(())
    }
}

/// `sriov_vf_driver`: the driver new VFs are pinned to while `sriov_vf_autoprobe` is 0.
pub(crate) struct VfDriverAttr;

impl Attribute<PfStub> for VfDriverAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        let driver = this.watch_ref().knobs.lock().driver;
        writeln!(out, "{}", driver.as_str()).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_vf_driver";
        let driver = DriverName::parse(input)
            .map_err(|_| bad_input(pdev, ATTR, "a driver name of 1-31 [A-Za-z0-9_.-]"))?;
        set_vf_knob(pdev, this, ATTR, |k| k.driver = driver)?;
        dev_info!(pdev, "sriov_vf_driver set to {}\n", driver.as_str());
        Event::VfDriver(&driver).send(pdev);
        Ok(())
    }
}
