// SPDX-License-Identifier: GPL-2.0

//! A bound PF: the driver's per-PF data, and the bodies of its bind (`probe`) and of its VF
//! count changes (`sriov_configure`, and `num_vfs=` at bind). Unbind is in [`crate::unbind`].

use crate::{
    adoption::{
        self,
        Adoption, //
    },
    events::{
        self,
        Event, //
    },
    kext::{
        module_ref::ModuleRef,
        notifier::BusNotifier,
        pci_sriov::{
            SriovCore,
            SriovDevice, //
        },
        rescan::run_locked,
        rescan_lock::RescanLocked, //
    },
    params::PciName,
    shared::Shared,
    sriov::{
        self,
        Action,
        BindVfs,
        PfPolicy,
        Policy,
        PolicyGuard,
        Refusal,
        Request,
        VfKnobs, //
    },
    vf_token::VfToken,
    vf_watch::VfWatch, //
};
use kernel::{
    device::Core,
    pci,
    prelude::*,
    sync::aref::ARef, //
};

/// The driver's per-PF data: created at bind, dropped after unbind.
#[pin_data]
pub(crate) struct PfStub {
    /// The VF watcher with the PF's policy state, registered while the PF is bound.
    #[pin]
    pub(crate) watch: BusNotifier<VfWatch>,
}

impl PfStub {
    /// The VF watcher.
    pub(crate) fn watch_ref(&self) -> &VfWatch {
        self.watch.handler().get_ref()
    }

    /// The PF's policy, lock and token.
    pub(crate) fn policy(&self) -> &PfPolicy {
        &self.watch_ref().policy
    }

    /// Runs `f` with the policy's lock held, then updates the module reference to the state `f`
    /// left: the path of every change of the policy state.
    pub(crate) fn with_policy<R>(&self, f: impl FnOnce(&mut PolicyGuard<'_>) -> R) -> R {
        let mut lock = self.policy().lock();
        let r = f(&mut lock.guard());
        self.watch_ref().policy_changed();
        r
    }

    /// Carries out a VF count change under the policy's lock: the path of `sriov_numvfs` and of
    /// `num_vfs=` at bind.
    ///
    /// # Locks
    ///
    /// The PF's device lock (`Core`), `pci_rescan_remove_lock` (`locked`) and the policy's lock
    /// (`guard`), taken in that order.
    pub(crate) fn configure(
        &self,
        pdev: &pci::Device<Core<'_>>,
        guard: &mut PolicyGuard<'_>,
        nr_virtfn: u16,
        locked: &RescanLocked<'_>,
    ) -> Result<u16> {
        let current = pdev.num_vf();
        let leftover = if nr_virtfn > 0 && current == 0 {
            pdev.leftover_vf(locked)
        } else {
            None
        };
        let req = Request {
            current,
            total: pdev.sriov_get_totalvfs().map_or(0, u16::from),
            assigned: pdev.vfs_assigned(),
            requested: nr_virtfn,
            leftover_vf: leftover.is_some(),
        };
        let action = match guard.configure(&req) {
            Ok(a) => a,
            Err(refusal) => {
                match leftover {
                    Some(vf) if refusal == Refusal::LeftoverVf => dev_warn!(
                        pdev,
                        "sriov_numvfs={} refused: VF {} still exists: {}\n",
                        nr_virtfn,
                        vf.as_ref().name(),
                        refusal
                    ),
                    _ => dev_warn!(pdev, "sriov_numvfs={} refused: {}\n", nr_virtfn, refusal),
                }
                return Err(events::refused(pdev, "sriov_numvfs", refusal.to_error()));
            }
        };
        match action {
            Action::Unchanged => return Ok(req.current),
            Action::Disable => {
                pdev.disable_sriov(locked);
                dev_info!(pdev, "disabled {} VFs\n", req.current);
                Event::Disabled.send(pdev);
            }
            Action::Enable(n) => {
                if let Err(e) = pdev.enable_sriov(n, locked) {
                    dev_err!(pdev, "enabling {} VFs failed: {:?}\n", n, e);
                    return Err(e);
                }
                let knobs = *self.watch_ref().knobs.lock();
                if knobs.autoprobe {
                    dev_info!(pdev, "enabled {} VFs\n", n);
                } else {
                    dev_info!(
                        pdev,
                        "enabled {} VFs, pinned to driver {}\n",
                        n,
                        knobs.driver.as_str()
                    );
                }
                Event::Enabled(n).send(pdev);
            }
        }
        if guard.done(action) {
            dev_info!(
                pdev,
                "VF count locked at {} (policy 'locked'); write 'unlock' to sriov_lock to change it\n",
                pdev.num_vf()
            );
            Event::Locked.send(pdev);
        }
        Ok(pdev.num_vf())
    }
}

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
            watch <- BusNotifier::new(VfWatch::new(
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
            this.watch_ref().update_pin(None);
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
            Adoption::Adopt(k) => Some(k),
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
    /// bus, the enumerator holds `pci_rescan_remove_lock` (this is its first probe), unless
    /// lockdep says otherwise (a bind that raced a removal): then nothing is enabled. On the
    /// bus, `run_locked` takes it.
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
                        "num_vfs={} not enabled: the PF is off the bus and this bind does not hold pci_rescan_remove_lock (a bind during its removal)\n",
                        n
                    ),
                }
                return;
            }
            match run_locked(&shared.keeper().queue, pdev, |pdev, locked| {
                self.configure(pdev, guard, n, locked)
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

#[kunit_tests(pf_stub_footprint)]
mod tests {
    use super::*;
    use crate::adoption::Kept;
    use kernel::sync::Mutex;

    #[test]
    fn footprint() {
        // The per-PF allocation is one `KBox<PfStub>`; this keeps it within a small kmalloc
        // bucket and reports its size for the benchmark.
        let per_pf = core::mem::size_of::<PfStub>();
        pr_info!(
            "pf_stub footprint: per-PF {} bytes (policy {}, VF watch {}), driver-wide {} bytes, orphan record {} bytes\n",
            per_pf,
            core::mem::size_of::<PfPolicy>(),
            core::mem::size_of::<BusNotifier<VfWatch>>(),
            core::mem::size_of::<Shared>(),
            core::mem::size_of::<Kept>()
        );
        // Beyond its three mutexes (whose size depends on lock debugging), the per-PF state stays
        // within 256 bytes.
        assert!(per_pf <= 3 * core::mem::size_of::<Mutex<()>>() + 256);
    }
}
