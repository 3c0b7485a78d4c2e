// SPDX-License-Identifier: GPL-2.0

//! pf_stub's sysfs attributes, in each bound PF's directory beside the PCI core's `sriov_*`:
//! `sriov_policy`, `sriov_lock`, `sriov_vf_token`, `sriov_vf_autoprobe` and `sriov_vf_driver`.
//!
//! Every write is parsed completely before anything changes, so bad input changes nothing;
//! every refusal writes one log line (never with the written text, which may hold a token) and
//! sends a `refused` uevent; every change writes one log line and sends a uevent.

use crate::{
    kext::device_attr::{Attribute, ShowBuffer},
    kext::pci_sriov::SriovDevice,
    refused, send_event,
    sriov::{self, KnobRefusal, LockCmd, Policy, TokenCmd},
    DriverName, PfStub,
};
use core::fmt::Write;
use kernel::{device::Bound, pci, prelude::*};

/// The PF, as attribute callbacks see it.
type Pf = pci::Device<Bound>;

/// Refuses malformed input to `attr`: logs what was expected, never what was written.
fn bad_input(pdev: &Pf, attr: &str, expected: &str) -> Error {
    dev_warn!(pdev, "{}: write refused: expected {}\n", attr, expected);
    refused(pdev, attr, EINVAL)
}

/// Refuses a write to `attr` for `why`.
fn refuse(pdev: &Pf, attr: &str, why: KnobRefusal) -> Error {
    dev_warn!(pdev, "{}: write refused: {}\n", attr, why);
    refused(pdev, attr, why.to_error())
}

/// `sriov_policy`: `locked` or `simple`.
pub(crate) struct PolicyAttr;

impl Attribute<PfStub> for PolicyAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        // Never waits for the guard, which a VF change holds for a second or more.
        let policy = this.shown().policy();
        writeln!(out, "{}", policy.name()).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_policy";
        let policy =
            Policy::parse(input).map_err(|_| bad_input(pdev, ATTR, "'locked' or 'simple'"))?;
        let mut guard = this.guard.lock();
        if guard.policy == policy {
            return Ok(());
        }
        guard
            .set_policy(policy)
            .map_err(|why| refuse(pdev, ATTR, why))?;
        dev_info!(pdev, "sriov_policy set to {}\n", policy.name());
        send_event(
            pdev,
            "policy",
            &[("PF_STUB_POLICY", policy.name().as_bytes())],
        );
        // Under `locked`, enabled VFs are a count that has been set: lock it now.
        if policy == Policy::Locked && pdev.num_vf() > 0 && guard.lock_cmd(&LockCmd::Lock).is_ok() {
            dev_info!(pdev, "VF count locked at {}\n", pdev.num_vf());
            send_event(pdev, "locked", &[]);
        }
        this.sync_locked(&guard);
        Ok(())
    }
}

/// `sriov_lock`: reads `locked` or `unlocked`; takes `lock`, `unlock` or `unlock <token>`.
pub(crate) struct LockAttr;

impl Attribute<PfStub> for LockAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        let locked = this.shown().locked();
        writeln!(out, "{}", if locked { "locked" } else { "unlocked" }).map_err(|_| EINVAL)
    }

    fn store(pdev: &Pf, this: Pin<&PfStub>, input: &[u8]) -> Result {
        const ATTR: &str = "sriov_lock";
        let cmd = LockCmd::parse(input)
            .map_err(|_| bad_input(pdev, ATTR, "'lock', 'unlock' or 'unlock <token>'"))?;
        let mut guard = this.guard.lock();
        let was = guard.locked;
        guard
            .lock_cmd(&cmd)
            .map_err(|why| refuse(pdev, ATTR, why))?;
        if guard.locked != was {
            let (word, event) = if guard.locked {
                ("locked", "locked")
            } else {
                ("unlocked", "unlocked")
            };
            dev_info!(pdev, "VF count {} at {}\n", word, pdev.num_vf());
            send_event(pdev, event, &[]);
        }
        this.sync_locked(&guard);
        Ok(())
    }
}

/// `sriov_vf_token`: reads `set` or `unset`; takes `<uuid>`, `clear`, `<current> <uuid>` or
/// `<current> clear`.
pub(crate) struct TokenAttr;

impl Attribute<PfStub> for TokenAttr {
    fn show(_pdev: &Pf, this: Pin<&PfStub>, out: &mut ShowBuffer) -> Result {
        let set = this.shown().has_token();
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
        let mut guard = this.guard.lock();
        let had = guard.has_token();
        guard
            .token_cmd(cmd)
            .map_err(|why| refuse(pdev, ATTR, why))?;
        match (had, guard.has_token()) {
            (_, true) => {
                dev_info!(pdev, "VF token {}\n", if had { "replaced" } else { "set" });
                send_event(pdev, "token_set", &[]);
            }
            (true, false) => {
                dev_info!(pdev, "VF token cleared\n");
                send_event(pdev, "token_cleared", &[]);
            }
            (false, false) => {}
        }
        this.sync_locked(&guard);
        Ok(())
    }
}

/// Changes a VF knob under the guard, refusing while VFs are enabled.
fn set_vf_knob(
    pdev: &Pf,
    this: Pin<&PfStub>,
    attr: &str,
    set: impl FnOnce(&mut crate::VfKnobs),
) -> Result {
    // The guard is held across VF enabling, so no VF can appear between the check and the set.
    let _guard = this.guard.lock();
    if pdev.num_vf() > 0 {
        return Err(refuse(pdev, attr, KnobRefusal::VfsEnabled));
    }
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
        send_event(
            pdev,
            "vf_autoprobe",
            &[("PF_STUB_VF_AUTOPROBE", if on { b"1" } else { b"0" })],
        );
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
        send_event(
            pdev,
            "vf_driver",
            &[("PF_STUB_VF_DRIVER", driver.as_bytes())],
        );
        Ok(())
    }
}
