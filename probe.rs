// SPDX-License-Identifier: GPL-2.0

//! Binding pf_stub to a PF: the refusals, the VFs adopted or taken over, and the VFs of
//! `num_vfs=` or `addrs=@N` enabled through [`PfStub::configure`].

use crate::{
    adoption::{
        self,
        Adoption, //
    },
    events::Event,
    kext::{
        module_ref::ModuleRef,
        notifier::BusNotifier,
        pci_sriov::{
            SriovCore,
            SriovDevice, //
        },
        rescan::run_locked,
    },
    params::PciName,
    pf::PfStub,
    pf_state::PfState, //
    shared::Shared,
    sriov::{
        self,
        BindVfs,
        PfPolicy,
        Policy,
        VfKnobs, //
    },
    vf_token::VfToken,
};
use kernel::{
    device::Core,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// Binds a PF: refuses a device without SR-IOV, a VF and a PF not in `addrs=`; adopts the VFs
/// its last unbind kept, or takes over the VFs found enabled; enables the VFs of `num_vfs=` or
/// `addrs=@N`.
///
/// # Locks
///
/// The driver core holds the PF's device lock; in a first probe at enumeration the enumerating
/// thread holds `pci_rescan_remove_lock` too (see [`PfStub::enable_at_bind`]).
pub(crate) fn probe<'a, 'b, 'c>(
    pdev: &'a pci::Device<Core<'b>>,
    shared: Pin<&'c Shared>,
) -> impl PinInit<PfStub, Error> + use<'a, 'b, 'c> {
    pin_init::pin_init_scope(move || {
        let found = Found::gather(pdev, shared.get_ref())?;
        // Adopted VFs, and VFs another driver left, are locked as if enabled here.
        let locked = sriov::locked_at_bind(found.carried.policy, found.current);
        found.log(pdev, locked);
        let at_bind = sriov::vfs_at_bind(
            found.listed,
            shared.config.num_vfs,
            found.current,
            found.total,
        );
        let (total, adopted) = (found.total, found.carried.adopted);
        let Carried {
            policy,
            token,
            knobs,
            module_pin,
            ..
        } = found.carried;
        let pf: ARef<pci::Device> = pdev.into();
        Ok(try_pin_init!(PfStub {
            state <- BusNotifier::new(PfState::new(
                pf,
                PfPolicy::new(policy, locked, token),
                knobs,
                module_pin,
            )),
        })
        .pin_chain(move |this| {
            let this = this.into_ref();
            let this = this.get_ref();
            // A saved configuration for recovery to restore after a reset (`recovery`).
            if pdev.save_state().is_err() {
                dev_warn!(pdev, "could not save the PF's configuration\n");
            }
            if adopted {
                Event::Adopted.send(pdev);
            }
            this.state().update_pin(None);
            if let Some(vfs) = at_bind {
                this.enable_at_bind(pdev, shared.get_ref(), vfs, total);
            }
            Ok(())
        }))
    })
}

/// The PF's settings at bind: adopted from the record its last unbind kept, or the parameters'.
struct Carried {
    /// Whether they come from a kept record.
    adopted: bool,
    /// The PF's policy.
    policy: Policy,
    /// The PF's VF token.
    token: Option<VfToken>,
    /// The PF's VF knobs.
    knobs: VfKnobs,
    /// The module pin of the kept VFs in use.
    module_pin: Option<ModuleRef>,
}

/// What probe found on the PF.
struct Found {
    /// `sriov_totalvfs`.
    total: u16,
    /// VFs enabled now (`pci_num_vf()`).
    current: u16,
    /// The `@N` of the PF's `addrs=` entry.
    listed: Option<u16>,
    /// The PF's settings.
    carried: Carried,
}

impl Found {
    /// Gathers the facts of binding `pdev`; refuses (logged) a VF, a device without SR-IOV, a
    /// PF not in `addrs=` and a PF being removed.
    fn gather(pdev: &pci::Device<Core<'_>>, shared: &Shared) -> Result<Self> {
        let config = &shared.config;
        if pdev.is_virtfn() {
            dev_warn!(pdev, "refusing to bind: device is an SR-IOV VF, not a PF\n");
            return Err(ENODEV);
        }
        let total = match pdev.sriov_get_totalvfs() {
            Some(total) if pdev.is_physfn() => u16::from(total),
            _ => {
                dev_warn!(pdev, "refusing to bind: device has no SR-IOV capability\n");
                return Err(ENODEV);
            }
        };
        let listed = PciName::of(pdev).and_then(|name| config.addrs.find(&name));
        if !config.addrs.as_slice().is_empty() && listed.is_none() {
            dev_warn!(pdev, "refusing to bind: address not in addrs=\n");
            return Err(ENODEV);
        }
        let current = pdev.num_vf();
        Ok(Self {
            total,
            current,
            listed: listed.and_then(|a| a.num_vfs),
            carried: Carried::gather(pdev, shared)?,
        })
    }

    /// Logs the bind, and the VFs it adopts or takes over.
    fn log(&self, pdev: &pci::Device<Core<'_>>, locked: bool) {
        let current = self.current;
        dev_info!(
            pdev,
            "bound PF {:04x}:{:04x}, {} VFs supported, {} enabled, policy {}\n",
            pdev.vendor_id().as_raw(),
            pdev.device_id(),
            self.total,
            current,
            self.carried.policy.name()
        );
        if self.carried.adopted {
            dev_info!(
                pdev,
                "adopted {} locked VFs from the previous bind{}\n",
                current,
                if self.carried.token.is_some() {
                    "; the VF token is needed to unlock them"
                } else {
                    ""
                }
            );
        } else if current > 0 {
            dev_info!(
                pdev,
                "took over {} VFs that were already enabled{}\n",
                current,
                if locked { ", locked" } else { "" }
            );
        }
    }
}

impl Carried {
    /// Takes over the record of this PF's kept VFs, if they are still the ones it left, else
    /// the parameters' settings. This also reserves the slot this PF's unbind may fill.
    fn gather(pdev: &pci::Device<Core<'_>>, shared: &Shared) -> Result<Self> {
        let config = &shared.config;
        let kept = match shared.keeper().bind(pdev)? {
            Adoption::Adopt(k) if adoption::vfs_alive(pdev, k.num_vf) => Some(k),
            Adoption::Adopt(mut k) => {
                adoption::release_hold(pdev, k.held.take());
                None
            }
            Adoption::Stale => {
                dev_warn!(
                    pdev,
                    "discarding the record of an earlier bind: SR-IOV was disabled or enabled again since; binding fresh\n"
                );
                None
            }
            Adoption::None => None,
            Adoption::Removing => {
                dev_warn!(
                    pdev,
                    "refusing to bind: the PF is being removed, and its VFs with it\n"
                );
                return Err(ENODEV);
            }
        };
        Ok(match kept {
            Some(mut k) => {
                adoption::release_hold(pdev, k.held.take());
                Self {
                    adopted: true,
                    policy: k.policy,
                    token: k.token.take(),
                    knobs: k.knobs,
                    module_pin: k.module_pin.take(),
                }
            }
            None => Self {
                adopted: false,
                policy: config.policy,
                token: None,
                knobs: config.knobs,
                module_pin: None,
            },
        })
    }
}

impl PfStub {
    /// Enables the VFs of `num_vfs=` or `addrs=@N` at bind, through the path of a `sriov_numvfs`
    /// write; a failure is logged and leaves the PF bound without VFs.
    ///
    /// # Locks
    ///
    /// The PF's device lock, held by the driver core; the policy's lock is taken here. Off the
    /// bus, the enumerator holds `pci_rescan_remove_lock` (this is its first probe); behind VMD,
    /// which enumerates without it, nothing is enabled. On the bus, `run_locked` takes it.
    fn enable_at_bind(
        &self,
        pdev: &pci::Device<Core<'_>>,
        shared: &Shared,
        vfs: BindVfs,
        total: u16,
    ) {
        if vfs.n < vfs.want {
            dev_info!(
                pdev,
                "num_vfs={} capped at sriov_totalvfs ({})\n",
                vfs.want,
                total
            );
        }
        let n = vfs.n;
        self.with_policy(|guard| {
            if !pdev.is_added() {
                match pdev.rescan_locked_unadded() {
                    Some(locked) => {
                        let _ = self.configure(pdev, guard, n, &locked);
                    }
                    None => dev_warn!(
                        pdev,
                        "num_vfs={} not enabled at bind: a VMD domain, enumerated without the rescan lock; write sriov_numvfs\n",
                        n
                    ),
                }
                return;
            }
            match run_locked(&shared.keeper().queue, pdev, |cx| {
                self.configure(cx.pdev(), guard, n, cx.locked())
            }) {
                Ok(_) => {}
                Err(e) if e == ENODEV => {
                    dev_info!(pdev, "num_vfs={} not enabled: the PF is being removed\n", n)
                }
                Err(e) => dev_err!(pdev, "num_vfs={} not enabled: {:?}\n", n, e),
            }
        });
    }
}
