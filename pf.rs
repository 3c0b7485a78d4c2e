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
        PfPolicy,
        PolicyGuard,
        Refusal,
        Request, //
    },
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
/// thread holds `pci_rescan_remove_lock` too (see below).
pub(crate) fn probe<'a, 'b, 'c>(
    pdev: &'a pci::Device<Core<'b>>,
    shared: Pin<&'c Shared>,
) -> impl PinInit<PfStub, Error> + use<'a, 'b, 'c> {
    pin_init::pin_init_scope(move || {
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

        // A record of this PF's kept VFs, if they are still the ones it left. This also
        // reserves the slot this PF's unbind may fill.
        let current = pdev.num_vf();
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
        let adopted = kept.is_some();
        let (policy, token, knobs, module_pin) = match kept {
            Some(mut k) => {
                adoption::release_hold(pdev, k.held.take());
                (k.policy, k.token.take(), k.knobs, k.module_pin.take())
            }
            None => (config.policy, None, config.knobs, None),
        };
        // Adopted VFs, and VFs another driver left, are locked as if enabled here.
        let locked = sriov::locked_at_bind(policy, current);
        let has_token = token.is_some();

        dev_info!(
            pdev,
            "bound PF {:04x}:{:04x}, {} VFs supported, {} enabled, policy {}\n",
            pdev.vendor_id().as_raw(),
            pdev.device_id(),
            total,
            current,
            policy.name()
        );
        if adopted {
            dev_info!(
                pdev,
                "adopted {} locked VFs from the previous bind{}\n",
                current,
                if has_token {
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

        let at_bind = sriov::vfs_at_bind(
            listed.and_then(|a| a.num_vfs),
            config.num_vfs,
            current,
            total,
        );
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
            let Some(vfs) = at_bind else {
                return Ok(());
            };
            if vfs.n < vfs.want {
                dev_info!(
                    pdev,
                    "num_vfs={} capped at sriov_totalvfs ({})\n",
                    vfs.want,
                    total
                );
            }
            let n = vfs.n;
            this.with_policy(|guard| {
                // The path of a `sriov_numvfs` write, under the same locks. Off the bus, the
                // enumerator holds the rescan/remove lock (this is its first probe; a bind
                // during a removal finds the remover holding it); on the bus, `run_locked`
                // takes it. A failure is logged and leaves the PF bound without VFs.
                if !pdev.is_added() {
                    match pdev.rescan_locked_unadded() {
                        Some(locked) => {
                            let _ = this.configure(pdev, guard, n, &locked);
                        }
                        None => dev_warn!(pdev, "num_vfs={} not enabled: the PF left the bus\n", n),
                    }
                    return;
                }
                match run_locked(&shared.keeper().queue, pdev, |pdev, locked| {
                    this.configure(pdev, guard, n, locked)
                }) {
                    Ok(_) => {}
                    Err(e) if e == ENODEV => {
                        dev_info!(pdev, "num_vfs={} not enabled: the PF is being removed\n", n)
                    }
                    Err(e) => dev_err!(pdev, "num_vfs={} not enabled: {:?}\n", n, e),
                }
            });
            Ok(())
        }))
    })
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
