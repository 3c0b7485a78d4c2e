// SPDX-License-Identifier: GPL-2.0

//! pf_stub: a PCI driver for SR-IOV Physical Functions that have no driver of their own.
//!
//! It binds to the PFs an administrator names (the built-in ID table, the `ids=` parameter,
//! `new_id` or `driver_override`, optionally narrowed by `addrs=`), touches nothing on the
//! device, and implements `sriov_configure` so that writing `sriov_numvfs` creates and removes
//! Virtual Functions, under the policy of [`sriov`]: a VF count locked once set, VFs pinned to a
//! VF driver (vfio-pci) by default, and a VF token needed to unlock a PF whose VFs are in use.

use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use kernel::{
    device::Core,
    pci,
    prelude::*,
    sync::{aref::ARef, new_mutex, Mutex},
};

mod adoption;
#[path = "rust/mod.rs"]
pub mod kext;
mod recovery;
mod sriov;
mod sysfs;
mod vf_token;

use adoption::{
    Adoption,
    Keeper,
    Kept, //
};
use kext::{
    compat,
    driver_override::DriverOverride,
    module_ref::ModuleRef,
    notifier::{
        BusEvent,
        BusNotifier,
        BusNotify, //
    },
    pci_driver::{
        self,
        DynamicId, //
    },
    pci_sriov::{
        SriovCore,
        SriovDevice,
        SriovRelations, //
    },
    rescan::run_locked,
    uevent::UeventEnv,
    vf_binds::StoppedVfBinds, //
};
use sriov::{Action, Guard, Policy, Request, UnbindAction};

/// The driver name, as used with `driver_override` and in `/sys/bus/pci/drivers/`.
const NAME: &CStr = c"pf_stub";

/// Set when `rmmod` has begun (the module's references were found zero), before the driver is
/// unregistered: its unbinds then cannot keep VFs for an adoption that can never come.
static UNLOADING: AtomicBool = AtomicBool::new(false);

/// Most entries `ids=` and `addrs=` take; more is refused rather than silently dropped.
const MAX_IDS: usize = 32;

crate::module_param_string!(
    ids,
    1024,
    "Comma-separated vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] hex IDs to bind, as pci-stub's ids="
);
crate::module_param_string!(
    addrs,
    1024,
    "Comma-separated PCI addresses [domain:]bus:dev.fn[@num_vfs]: bind only these PFs; @N enables N VFs at bind"
);
crate::module_param_string!(
    policy,
    16,
    "Default sriov_policy of each PF: locked (default) or simple"
);
crate::module_param_string!(
    vf_driver,
    32,
    "Default sriov_vf_driver: the driver new VFs are pinned to when VF autoprobe is off (default vfio-pci)"
);

crate::pci_id_table!(
    PCI_TABLE,
    [
        // Amazon's PF whose only function is SR-IOV, as in pci-pf-stub.c.
        pci::DeviceId::from_id(pci::Vendor::AMAZON, 0x0053),
    ]
);

crate::device_attribute_groups!(
    DEV_GROUPS,
    PfStub,
    [
        (c"sriov_policy", 0o644, sysfs::PolicyAttr),
        (c"sriov_lock", 0o644, sysfs::LockAttr),
        (c"sriov_vf_token", 0o644, sysfs::TokenAttr),
        (c"sriov_vf_autoprobe", 0o644, sysfs::AutoprobeAttr),
        (c"sriov_vf_driver", 0o644, sysfs::VfDriverAttr),
    ]
);

/// A driver name for `driver_override`: 1 to 31 bytes of `[A-Za-z0-9_.-]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DriverName {
    buf: [u8; 31],
    len: usize,
}

impl DriverName {
    /// Parses a driver name; one trailing newline (from `echo`) is ignored.
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let input = sriov::strip_newline(input);
        let mut buf = [0u8; 31];
        if input.is_empty() || input.len() > buf.len() {
            return Err(EINVAL);
        }
        for (d, &c) in buf.iter_mut().zip(input) {
            if !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.') {
                return Err(EINVAL);
            }
            *d = c;
        }
        Ok(Self {
            buf,
            len: input.len(),
        })
    }

    /// The name's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The name as text (it is ASCII by construction).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// The VF knobs of a PF: what happens to VFs as they are created.
#[derive(Clone, Copy)]
pub(crate) struct VfKnobs {
    /// Let VFs probe drivers normally; otherwise pin them to `driver` with `driver_override`.
    pub(crate) autoprobe: bool,
    /// The driver VFs are pinned to when `autoprobe` is off.
    pub(crate) driver: DriverName,
}

/// The module parameters, parsed and checked once at load.
struct Config {
    ids: IdList,
    addrs: AddrList,
    policy: Policy,
    knobs: VfKnobs,
    num_vfs: u16,
}

/// Watches the PCI bus for this PF's VFs: pins new VFs to the VF driver, and keeps the module
/// referenced while the PF's VFs are locked and in use.
#[pin_data]
pub(crate) struct VfWatch {
    pf: ARef<pci::Device>,
    #[pin]
    pub(crate) knobs: Mutex<VfKnobs>,
    /// The guard's state as the attributes show it ([`Shown`]), readable without the guard's
    /// lock, which is held while VFs are added (when this watcher runs) and across VF changes (a
    /// disable takes a second or more, and knob reads must not wait). Written only under the
    /// guard, by [`PfStub::sync_locked`].
    shown: AtomicU8,
    /// Held while the VFs are locked and in use: `rmmod` is refused then.
    #[pin]
    module_pin: Mutex<Option<ModuleRef>>,
}

impl VfWatch {
    /// The guard's state as last published, read without waiting for the guard.
    pub(crate) fn shown(&self) -> Shown {
        Shown(self.shown.load(Ordering::Acquire))
    }

    /// Takes or drops the module reference to match "locked and in use" now, a VF being in use
    /// from the moment a driver starts probing it (`failed`, whose probe has just failed, is
    /// not). Returns `false` when the reference is wanted and cannot be taken: `rmmod` has
    /// passed its check of the references, and its unbind disables the VFs (see `UNLOADING`).
    ///
    /// Locks: takes `module_pin`, a leaf; called in VF driver events (the VF's device lock
    /// held) and under the guard.
    fn update_pin(&self, failed: Option<&pci::Device>) -> bool {
        let mut pin = self.module_pin.lock();
        let want = self.shown().locked() && self.pf.num_vf_in_use(failed) > 0;
        if want && pin.is_none() {
            let Some(r) = ModuleRef::try_new(compat::this_module()) else {
                return false;
            };
            *pin = Some(r);
            dev_info!(
                self.pf.as_ref(),
                "VFs locked and in use: pf_stub cannot be unloaded until they are unlocked or released\n"
            );
        } else if !want && pin.is_some() {
            *pin = None;
        }
        true
    }

    /// A driver is about to probe `vf` of a locked PF while `rmmod` is disabling the VFs: the
    /// probe is refused, so that no bind succeeds only to be torn down. The VF's
    /// `driver_override` is set to pf_stub, which the PCI core matches again before the probe
    /// and which binds no VF; the VF goes with the others, or gets its override back from the
    /// unbind's [`SriovCore::stop_vf_binds`] if it stays.
    fn refuse_bind(&self, vf: &pci::Device) {
        match vf.set_driver_override(NAME.to_bytes()) {
            Ok(()) => dev_warn!(
                vf.as_ref(),
                "refusing a driver for this VF: its PF's VFs are locked and pf_stub is being unloaded, which disables them\n"
            ),
            Err(e) => dev_err!(
                vf.as_ref(),
                "could not refuse a driver for this VF while pf_stub is being unloaded: error {}\n",
                e.to_errno()
            ),
        }
    }
}

impl BusNotify for VfWatch {
    fn notify(self: Pin<&Self>, event: BusEvent, dev: &pci::Device) {
        if !dev.is_vf_of(&self.pf) {
            return;
        }
        match event {
            BusEvent::AddDevice => {
                let knobs = *self.knobs.lock();
                if knobs.autoprobe {
                    return;
                }
                if let Err(e) = dev.set_driver_override(knobs.driver.as_bytes()) {
                    dev_err!(
                        dev.as_ref(),
                        "could not set driver_override of the new VF: error {}\n",
                        e.to_errno()
                    );
                }
            }
            BusEvent::BindDriver => {
                if !self.update_pin(None) {
                    self.refuse_bind(dev);
                }
            }
            BusEvent::BoundDriver | BusEvent::UnboundDriver => {
                self.update_pin(None);
            }
            BusEvent::DriverNotBound => {
                self.update_pin(Some(dev));
            }
            BusEvent::DelDevice => {}
        }
    }
}

/// The driver's per-PF data.
#[pin_data]
pub(crate) struct PfStub {
    /// Policy, lock and token; held across every change of the VF count.
    #[pin]
    pub(crate) guard: Mutex<Guard>,
    /// The VF watcher, registered while the PF is bound.
    #[pin]
    pub(crate) watch: BusNotifier<VfWatch>,
}

/// The guard's state as the attributes show it, one bit each.
pub(crate) struct Shown(u8);

impl Shown {
    const LOCKED: u8 = 1;
    const TOKEN: u8 = 2;
    const SIMPLE: u8 = 4;

    /// The bits of `guard`.
    fn of(guard: &Guard) -> u8 {
        (if guard.locked { Self::LOCKED } else { 0 })
            | (if guard.has_token() { Self::TOKEN } else { 0 })
            | (if guard.policy == Policy::Simple {
                Self::SIMPLE
            } else {
                0
            })
    }

    /// Whether the VF count is locked.
    pub(crate) fn locked(&self) -> bool {
        self.0 & Self::LOCKED != 0
    }

    /// Whether a VF token is set.
    pub(crate) fn has_token(&self) -> bool {
        self.0 & Self::TOKEN != 0
    }

    /// The policy.
    pub(crate) fn policy(&self) -> Policy {
        if self.0 & Self::SIMPLE != 0 {
            Policy::Simple
        } else {
            Policy::Locked
        }
    }
}

/// Driver-wide data: the parsed parameters and the records of kept VFs.
#[pin_data(PinnedDrop)]
pub(crate) struct Shared {
    config: Config,
    /// Records of kept VFs, and the watcher that removes them with their PF.
    #[pin]
    keeper: BusNotifier<Keeper>,
}

#[pinned_drop]
impl PinnedDrop for Shared {
    fn drop(self: Pin<&mut Self>) {
        // Runs after the driver is unregistered (the registration drops its shared data then)
        // and before the keeper stops listening to the bus (the fields are dropped after this).
        self.keeper().settle_removals();
    }
}

impl Shared {
    /// The keeper of records.
    fn keeper(&self) -> &Keeper {
        self.keeper.handler().get_ref()
    }
}

/// A PCI address (`domain:bus:device.function`), as `addrs=` lists it and as the PCI core names
/// devices (`%04x:%02x:%02x.%d`); the domain takes all 32 bits (VMD domains start at 0x10000).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct PciName {
    domain: u32,
    bus: u32,
    dev: u32,
    func: u32,
}

impl PciName {
    /// The address of `pdev`, read back from its name with the parser of `addrs=`.
    fn of<Ctx: kernel::device::DeviceContext>(pdev: &pci::Device<Ctx>) -> Option<Self> {
        parse_addr(pdev.as_ref().name().to_bytes()).ok()
    }
}

/// Sends a `change` uevent on the PF with `PF_STUB_EVENT=<event>` and the variables `vars`;
/// a failure to send it is logged, never returned: the state change has already happened.
pub(crate) fn send_event(
    pdev: &pci::Device<impl kernel::device::DeviceContext>,
    event: &str,
    vars: &[(&str, &[u8])],
) {
    let mut env = UeventEnv::new();
    let mut ok = env.add("PF_STUB_EVENT", event.as_bytes()).is_ok();
    for (k, v) in vars {
        ok &= env.add(k, v).is_ok();
    }
    if !ok || env.send_change(pdev.as_ref()).is_err() {
        dev_warn!(pdev.as_ref(), "could not send the '{}' uevent\n", event);
    }
}

/// Formats `n` in decimal into `buf`, returning the digits.
pub(crate) fn decimal(n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    &buf[i..]
}

/// The error name of a refusal, for uevents.
pub(crate) fn errno_name(e: Error) -> &'static [u8] {
    match e.to_errno() {
        x if x == EPERM.to_errno() => b"EPERM",
        x if x == EACCES.to_errno() => b"EACCES",
        x if x == EBUSY.to_errno() => b"EBUSY",
        x if x == ERANGE.to_errno() => b"ERANGE",
        x if x == EINVAL.to_errno() => b"EINVAL",
        _ => b"EOTHER",
    }
}

/// Logs and reports a refused write of `attr`.
pub(crate) fn refused(
    pdev: &pci::Device<impl kernel::device::DeviceContext>,
    attr: &str,
    e: Error,
) -> Error {
    send_event(
        pdev,
        "refused",
        &[
            ("PF_STUB_ATTR", attr.as_bytes()),
            ("PF_STUB_ERROR", errno_name(e)),
        ],
    );
    e
}

impl PfStub {
    /// Publishes the guard's state for the attributes and the VF watcher, and updates the module
    /// reference; called under the guard after every change of it.
    pub(crate) fn sync_locked(&self, guard: &Guard) {
        let watch = self.watch_ref();
        watch.shown.store(Shown::of(guard), Ordering::Release);
        if !watch.update_pin(None) {
            dev_warn!(
                self.watch_ref().pf.as_ref(),
                "VFs locked and in use while pf_stub is being unloaded: the unload disables them\n"
            );
        }
    }

    /// The guard's state as last published, read without waiting for the guard.
    pub(crate) fn shown(&self) -> Shown {
        self.watch_ref().shown()
    }

    /// The VF watcher.
    pub(crate) fn watch_ref(&self) -> &VfWatch {
        self.watch.handler().get_ref()
    }

    /// Carries out a VF count change under the guard: the path of `sriov_numvfs` and of
    /// `num_vfs=` at bind.
    fn configure(
        &self,
        pdev: &pci::Device<Core<'_>>,
        guard: &mut Guard,
        nr_virtfn: u16,
    ) -> Result<u16> {
        let req = Request {
            current: pdev.num_vf(),
            total: pdev.sriov_get_totalvfs().map_or(0, u16::from),
            assigned: pdev.vfs_assigned(),
            requested: nr_virtfn,
        };
        let action = match guard.configure(&req) {
            Ok(a) => a,
            Err(refusal) => {
                dev_warn!(pdev, "sriov_numvfs={} refused: {}\n", nr_virtfn, refusal);
                return Err(refused(pdev, "sriov_numvfs", refusal.to_error()));
            }
        };
        let mut digits = [0u8; 10];
        match action {
            Action::Unchanged => return Ok(req.current),
            Action::Disable => {
                pdev.disable_sriov();
                dev_info!(pdev, "disabled {} VFs\n", req.current);
                send_event(pdev, "disabled", &[("PF_STUB_NUM_VFS", b"0")]);
            }
            Action::Enable(n) => {
                if let Err(e) = pdev.enable_sriov(n) {
                    dev_err!(pdev, "enabling {} VFs failed: error {}\n", n, e.to_errno());
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
                send_event(
                    pdev,
                    "enabled",
                    &[("PF_STUB_NUM_VFS", decimal(u32::from(n), &mut digits))],
                );
            }
        }
        let was_locked = guard.locked;
        guard.done(action);
        if guard.locked && !was_locked {
            dev_info!(
                pdev,
                "VF count locked at {} (policy 'locked'); write 'unlock' to sriov_lock to change it\n",
                pdev.num_vf()
            );
            send_event(pdev, "locked", &[]);
        }
        self.sync_locked(guard);
        Ok(pdev.num_vf())
    }
}

impl pci_driver::Driver for PfStub {
    type IdInfo = ();
    type Shared = Shared;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;
    const DEV_GROUPS: Option<&'static kext::device_attr::AttributeGroups<Self>> = Some(&DEV_GROUPS);

    // pf_stub never enables bus mastering on the PF nor maps memory for it, so the PF does no
    // DMA while it is bound: its VFs stay usable by vfio when they share the PF's IOMMU group
    // (a platform without ACS). See "Shared IOMMU groups" in Documentation/pf_stub.rst.
    const DRIVER_MANAGED_DMA: bool = true;

    // Recovery of the PF's hierarchy (AER, DPC) and function resets: see `recovery`.
    const ERROR_HANDLERS: bool = true;

    fn error_detected(
        pdev: &pci::Device<Core<'_>>,
        this: Pin<&Self>,
        state: kext::pci_error::ChannelState,
    ) -> kext::pci_error::ErsResult {
        recovery::error_detected(pdev, this.get_ref(), state)
    }

    fn slot_reset(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) -> kext::pci_error::ErsResult {
        recovery::slot_reset(pdev, this.get_ref())
    }

    fn resume(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) {
        recovery::resume(pdev, this.get_ref())
    }

    fn reset_prepare(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) {
        recovery::reset_prepare(pdev, this.get_ref())
    }

    fn reset_done(pdev: &pci::Device<Core<'_>>, this: Pin<&Self>) {
        recovery::reset_done(pdev, this.get_ref())
    }

    fn probe(
        pdev: &pci::Device<Core<'_>>,
        shared: Pin<&Shared>,
        _info: Option<&'static ()>,
    ) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let config = &shared.config;
            if pdev.is_virtfn() {
                dev_warn!(pdev, "refusing to bind: device is an SR-IOV VF, not a PF\n");
                return Err(ENODEV);
            }
            if !pdev.is_physfn() || pdev.sriov_get_totalvfs().is_none() {
                dev_warn!(pdev, "refusing to bind: device has no SR-IOV capability\n");
                return Err(ENODEV);
            }
            let listed = PciName::of(pdev).and_then(|name| config.addrs.find(&name));
            if config.addrs.len > 0 && listed.is_none() {
                dev_warn!(pdev, "refusing to bind: address not in addrs=\n");
                return Err(ENODEV);
            }

            // A record of this PF's kept VFs, if they are still the ones it left. This also
            // reserves the slot this PF's unbind may fill.
            let current = pdev.num_vf();
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
            };

            let (guard, knobs, module_pin, adopted) = match kept {
                Some(mut k) => (
                    {
                        adoption::release_hold(pdev, k.held.take());
                        Guard::restore(k.policy, true, k.token.take())
                    },
                    k.knobs,
                    k.module_pin,
                    true,
                ),
                None => (
                    Guard::at_bind(config.policy, current),
                    config.knobs,
                    None,
                    false,
                ),
            };
            let locked = guard.locked;
            let has_token = guard.has_token();
            let shown = Shown::of(&guard);

            dev_info!(
                pdev,
                "bound PF {:04x}:{:04x}, {} VFs supported, {} enabled, policy {}\n",
                pdev.vendor_id().as_raw(),
                pdev.device_id(),
                pdev.sriov_get_totalvfs().map_or(0, u16::from),
                current,
                guard.policy.name()
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

            // VFs to enable at bind: `@N` of this PF's addrs= entry, else num_vfs=.
            let want = listed.and_then(|a| a.num_vfs).unwrap_or(config.num_vfs);
            let pf: ARef<pci::Device> = pdev.into();
            Ok(try_pin_init!(PfStub {
                guard <- new_mutex!(guard),
                watch <- BusNotifier::new(try_pin_init!(VfWatch {
                    pf,
                    knobs <- new_mutex!(knobs),
                    shown: AtomicU8::new(shown),
                    module_pin <- new_mutex!(module_pin),
                })),
            })
            .pin_chain(move |this| {
                let this = this.into_ref();
                let this = this.get_ref();
                // A saved configuration for recovery to restore after a reset (`recovery`).
                if pdev.save_state().is_err() {
                    dev_warn!(pdev, "could not save the PF's configuration\n");
                }
                if adopted {
                    send_event(pdev, "adopted", &[]);
                }
                this.watch_ref().update_pin(None);
                if want > 0 && current == 0 {
                    let total = pdev.sriov_get_totalvfs().map_or(0, u16::from);
                    let n = want.min(total);
                    if n < want {
                        dev_info!(
                            pdev,
                            "num_vfs={} capped at sriov_totalvfs ({})\n",
                            want,
                            total
                        );
                    }
                    let mut guard = this.guard.lock();
                    let guard = &mut *guard;
                    // The path of a `sriov_numvfs` write, under the same locks: this thread holds
                    // the device lock; the rescan/remove lock is held by the enumerating thread
                    // when the PF is not on the bus yet (this probe is its first), else
                    // `run_locked` takes it without waiting for it here. A failure is logged and
                    // leaves the PF bound without VFs.
                    if !pdev.is_added() {
                        let _ = this.configure(pdev, guard, n);
                    } else {
                        match run_locked(&shared.keeper().queue, pdev, |pdev| {
                            this.configure(pdev, guard, n)
                        }) {
                            Ok(_) => {}
                            Err(e) if e == ENODEV => dev_info!(
                                pdev,
                                "num_vfs={} not enabled: the PF is being removed\n",
                                n
                            ),
                            Err(e) => dev_err!(pdev, "num_vfs={} not enabled: error {:?}\n", n, e),
                        }
                    }
                }
                Ok(())
            }))
        })
    }

    fn dynamic_ids(shared: &Shared) -> &[DynamicId] {
        shared.config.ids.as_slice()
    }

    fn unbind(pdev: &pci::Device<Core<'_>>, shared: Pin<&Shared>, this: Pin<&Self>) {
        // Locks: the driver core holds the PF's device lock. In a removal the remover also holds
        // `pci_rescan_remove_lock` and has cleared `PCI_DEV_ADDED` before asking for the device
        // lock; in a plain unbind (sysfs `unbind`, `rmmod`) nobody does, and a removal may start
        // at any time: see `kext::rescan`. The guard is taken after the device lock, as in
        // `sriov_configure`. Stopping VF binds takes each VF's device lock in turn under these
        // two (the PCI core's order: a PF's lock, then its VFs'), while holding neither
        // `module_pin` nor the keeper's records, which VF driver events take under the VF's lock.
        let keeper = shared.keeper();
        let mut guard = this.guard.lock();
        let watch = this.watch_ref();
        let current = pdev.num_vf();
        // "In use" is decided with VF binds stopped and the probes in flight ended: a VF bound
        // after a mere look would be torn down despite the lock. The VFs can bind again once
        // `stopped` is dropped, when they are kept or gone. A PF being removed takes its VFs
        // whatever their use.
        let stopped = if current > 0 && pdev.is_added() {
            let knobs = *watch.knobs.lock();
            let pinned_to = (!knobs.autoprobe).then_some(knobs.driver);
            match pdev.stop_vf_binds(NAME, pinned_to.as_ref().map(DriverName::as_bytes)) {
                Ok(s) => Some(s),
                Err(e) => {
                    dev_warn!(
                        pdev,
                        "unbind: could not stop VF binds (error {}): deciding on the VFs in use now; a VF bound meanwhile may be disabled\n",
                        e.to_errno()
                    );
                    None
                }
            }
        } else {
            None
        };
        let in_use = stopped
            .as_ref()
            .map_or_else(|| pdev.num_vf_in_use(None), StoppedVfBinds::bound);
        let assigned = pdev.vfs_assigned();
        let removing = !pdev.is_added();
        // Kept VFs pin the module through their record. Once `rmmod` has passed its check of the
        // references no pin can be taken, and its unbind (this one, or one about to run) must
        // not keep VFs for an adoption that can never come.
        let record_pin = if guard.locked && in_use > 0 {
            let pin = watch.module_pin.lock().take();
            pin.or_else(|| ModuleRef::try_new(compat::this_module()))
        } else {
            None
        };
        let unloading = UNLOADING.load(Ordering::Acquire)
            || (guard.locked && in_use > 0 && record_pin.is_none());
        match sriov::on_unbind(removing, unloading, current, assigned, in_use, guard.locked) {
            UnbindAction::Nothing => keeper.unbound(pdev),
            UnbindAction::Remove => {
                // The remover holds the rescan/remove lock, but possibly not in this thread: an
                // unbind that took the device lock just before the remover cleared the flag gets
                // here too, and removing VFs then trips `lockdep_assert_held()` (seen in the race
                // test). The keeper removes them once the PF is deleted and the lock released.
                dev_warn!(
                    pdev,
                    "PF removed with {} VFs ({} in use{}): they are removed with it\n",
                    current,
                    in_use,
                    if guard.locked { ", locked" } else { "" }
                );
                send_event(pdev, "removed", &[]);
                keeper.removing(pdev);
            }
            UnbindAction::Disable => {
                if guard.locked && in_use > 0 {
                    dev_warn!(
                        pdev,
                        "unbind: pf_stub is being unloaded: disabling {} locked VFs, {} in use\n",
                        current,
                        in_use
                    );
                }
                match run_locked(&keeper.queue, pdev, |pdev| pdev.disable_sriov()) {
                    Ok(()) => {
                        dev_info!(pdev, "unbind: disabled {} VFs\n", current);
                        send_event(pdev, "disabled", &[("PF_STUB_NUM_VFS", b"0")]);
                        keeper.unbound(pdev);
                    }
                    Err(e) if e == ENODEV => {
                        // The PF's removal began while we waited; its remover waits for this
                        // unbind and then deletes the PF, which has no driver by then: the keeper
                        // removes the VFs when the PF is deleted.
                        dev_warn!(
                            pdev,
                            "unbind: the PF is being removed: its {} VFs are removed with it\n",
                            current
                        );
                        keeper.removing(pdev);
                    }
                    Err(e) => {
                        dev_err!(
                            pdev,
                            "unbind: could not disable {} VFs ({:?}): leaving them enabled\n",
                            current,
                            e
                        );
                        keeper.unbound(pdev);
                    }
                }
            }
            UnbindAction::Keep => {
                dev_warn!(
                    pdev,
                    "unbind: leaving {} VFs enabled: {} assigned to a guest\n",
                    current,
                    assigned
                );
                keeper.unbound(pdev);
            }
            UnbindAction::KeepLocked => {
                // Hold the PF for pf_stub until the adoption, so that no other driver (its native
                // driver through `ids=`, `new_id`, coldplug) binds it and tears the VFs down.
                let held = match pdev.driver_override() {
                    Ok(before) => pdev
                        .set_driver_override(NAME.to_bytes())
                        .ok()
                        .map(|()| before),
                    Err(_) => None,
                };
                if held.is_none() {
                    dev_warn!(
                        pdev,
                        "unbind: could not hold the PF for pf_stub with driver_override\n"
                    );
                }
                keeper.keep(
                    pdev,
                    Kept {
                        held,
                        vf0: pdev.virtfn(0),
                        num_vf: current,
                        policy: guard.policy,
                        token: guard.take_token(),
                        knobs: *watch.knobs.lock(),
                        module_pin: record_pin,
                    },
                );
                dev_info!(
                    pdev,
                    "unbind: leaving {} locked VFs in place ({} in use), the PF held for pf_stub; bind pf_stub again to adopt them\n",
                    current,
                    in_use
                );
                send_event(pdev, "orphaned", &[]);
            }
        }
        // The VFs are kept (recorded) or gone: they may bind again.
        drop(stopped);
        // The VF watcher goes with the driver data; without a PF driver nothing pins the module
        // but a record of kept VFs.
        *watch.module_pin.lock() = None;
    }

    fn sriov_configure(
        pdev: &pci::Device<Core<'_>>,
        this: Pin<&Self>,
        nr_virtfn: u16,
    ) -> Result<u16> {
        let mut guard = this.guard.lock();
        this.configure(pdev, &mut guard, nr_virtfn)
    }
}

/// The `ids=` entries, parsed.
struct IdList {
    ids: [DynamicId; MAX_IDS],
    len: usize,
}

impl IdList {
    /// No IDs.
    const EMPTY: Self = Self {
        ids: [DynamicId {
            vendor: 0,
            device: 0,
            subvendor: 0,
            subdevice: 0,
            class: 0,
            class_mask: 0,
        }; MAX_IDS],
        len: 0,
    };

    fn as_slice(&self) -> &[DynamicId] {
        &self.ids[..self.len]
    }
}

/// `PCI_ANY_ID`: the wildcard value of an ID field.
const ANY: u32 = !0;

/// Parses one hexadecimal field of at most `max` (an optional `0x` prefix is accepted).
fn parse_hex(field: &[u8], max: u32) -> Result<u32> {
    let digits = field
        .strip_prefix(b"0x")
        .or_else(|| field.strip_prefix(b"0X"))
        .unwrap_or(field);
    if digits.is_empty() || digits.len() > 8 {
        return Err(EINVAL);
    }
    let mut v: u32 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(EINVAL),
        };
        v = (v << 4) | u32::from(d);
    }
    if v > max && v != ANY {
        return Err(EINVAL);
    }
    Ok(v)
}

/// Parses one `vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]` entry, pci-stub's
/// format: IDs are 16-bit hex or `ffffffff` for any, class and mask 24-bit hex.
fn parse_id(entry: &[u8]) -> Result<DynamicId> {
    let mut fields = [0u32; 6];
    let defaults = [0, 0, ANY, ANY, 0, 0];
    let mut n = 0;
    for field in entry.split(|&c| c == b':') {
        if n == fields.len() {
            return Err(EINVAL);
        }
        let max = if n < 4 { 0xffff } else { 0xff_ffff };
        fields[n] = parse_hex(field, max)?;
        n += 1;
    }
    if n < 2 {
        return Err(EINVAL);
    }
    for (f, d) in fields.iter_mut().zip(defaults).skip(n) {
        *f = d;
    }
    let [vendor, device, subvendor, subdevice, class, class_mask] = fields;
    if class_mask == ANY || class == ANY || class & !class_mask != 0 {
        // A class bit outside the mask can never match: almost certainly a typo.
        return Err(EINVAL);
    }
    Ok(DynamicId {
        vendor,
        device,
        subvendor,
        subdevice,
        class,
        class_mask,
    })
}

/// Parses the whole `ids=` value. Empty entries (`a,,b`, a trailing comma) are skipped as
/// pci-stub does; any malformed entry refuses the whole list, so a typo never half-applies.
fn parse_ids(value: &[u8]) -> Result<IdList> {
    let mut list = IdList::EMPTY;
    for_each_entry(value, |entry, i| {
        list.ids[i] = parse_id(entry)?;
        list.len = i + 1;
        Ok(())
    })?;
    Ok(list)
}

/// Calls `f` with each entry of a comma-separated parameter value and its index: entries are
/// trimmed, empty ones (`a,,b`, a trailing comma) skipped as pci-stub does, and more than
/// `MAX_IDS` refused with `E2BIG`. The first error stops the walk and is returned.
fn for_each_entry(value: &[u8], mut f: impl FnMut(&[u8], usize) -> Result) -> Result {
    let mut n = 0;
    for entry in value.trim_ascii().split(|&c| c == b',') {
        let entry = entry.trim_ascii();
        if entry.is_empty() {
            continue;
        }
        if n == MAX_IDS {
            return Err(E2BIG);
        }
        f(entry, n)?;
        n += 1;
    }
    Ok(())
}

/// A PCI address of `addrs=`, with its optional VF count.
#[derive(Clone, Copy)]
struct AddrEntry {
    name: PciName,
    num_vfs: Option<u16>,
}

/// The `addrs=` entries, parsed.
struct AddrList {
    entries: [AddrEntry; MAX_IDS],
    len: usize,
}

impl AddrList {
    /// No addresses: every PF may bind.
    const EMPTY: Self = Self {
        entries: [AddrEntry {
            name: PciName {
                domain: 0,
                bus: 0,
                dev: 0,
                func: 0,
            },
            num_vfs: None,
        }; MAX_IDS],
        len: 0,
    };

    fn find(&self, name: &PciName) -> Option<&AddrEntry> {
        self.entries[..self.len].iter().find(|e| e.name == *name)
    }
}

/// Parses `[domain:]bus:dev.fn` (hex; the domain defaults to 0) into the canonical device name.
fn parse_addr(text: &[u8]) -> Result<PciName> {
    let mut parts = [&b""[..]; 3];
    let mut n = 0;
    for p in text.split(|&c| c == b':') {
        if n == parts.len() {
            return Err(EINVAL);
        }
        parts[n] = p;
        n += 1;
    }
    let (domain, bus, devfn) = match n {
        2 => (0, parts[0], parts[1]),
        3 => (parse_hex(parts[0], 0xffff_fffe)?, parts[1], parts[2]),
        _ => return Err(EINVAL),
    };
    let mut df = devfn.split(|&c| c == b'.');
    let (dev, func) = match (df.next(), df.next(), df.next()) {
        (Some(d), Some(f), None) => (d, f),
        _ => return Err(EINVAL),
    };
    if bus.len() > 2 || dev.len() > 2 || func.len() != 1 || domain == ANY {
        return Err(EINVAL);
    }
    let bus = parse_hex(bus, 0xff)?;
    let dev = parse_hex(dev, 0x1f)?;
    let func = parse_hex(func, 7)?;
    if bus == ANY || dev == ANY || func == ANY {
        return Err(EINVAL);
    }
    Ok(PciName {
        domain,
        bus,
        dev,
        func,
    })
}

/// Parses a decimal VF count of at most 65535 (no sign, no spaces).
fn parse_count(text: &[u8]) -> Result<u16> {
    if text.is_empty() || text.len() > 5 {
        return Err(EINVAL);
    }
    let mut v: u32 = 0;
    for &c in text {
        if !c.is_ascii_digit() {
            return Err(EINVAL);
        }
        v = v * 10 + u32::from(c - b'0');
    }
    u16::try_from(v).map_err(|_| EINVAL)
}

/// Parses the `addrs=` value: comma-separated `[domain:]bus:dev.fn[@num_vfs]`.
fn parse_addrs(value: &[u8]) -> Result<AddrList> {
    let mut list = AddrList::EMPTY;
    for_each_entry(value, |entry, i| {
        let mut at = entry.split(|&c| c == b'@');
        let addr = at.next().ok_or(EINVAL)?;
        let num_vfs = match (at.next(), at.next()) {
            (None, _) => None,
            (Some(n), None) => Some(parse_count(n)?),
            _ => return Err(EINVAL),
        };
        let name = parse_addr(addr)?;
        if list.find(&name).is_some() {
            return Err(EINVAL);
        }
        list.entries[i] = AddrEntry { name, num_vfs };
        list.len = i + 1;
        Ok(())
    })?;
    Ok(list)
}

/// Logs why the load is refused: parameter `name` is invalid.
fn refuse_load(name: &str, e: Error, expected: &str) -> Error {
    pr_err!(
        "refusing to load: invalid {}= (error {}); expected {}\n",
        name,
        e.to_errno(),
        expected
    );
    e
}

/// Parses the string parameter `name`: `None` when not given; given empty is a mistake (an unset
/// shell variable, say) and refused like any other bad value.
fn string_param<T>(
    name: &str,
    value: Option<&[u8]>,
    parse: impl FnOnce(&[u8]) -> Result<T>,
    expected: &str,
) -> Result<Option<T>> {
    match value {
        None => Ok(None),
        Some(b"") => Err(refuse_load(name, EINVAL, expected)),
        Some(v) => parse(v)
            .map(Some)
            .map_err(|e| refuse_load(name, e, expected)),
    }
}

/// Parses and checks all module parameters; any bad one refuses the load.
fn parse_config() -> Result<Config> {
    let id_list = string_param(
        "ids",
        ids.value(),
        parse_ids,
        "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex, at most 32 entries",
    )?
    .unwrap_or(IdList::EMPTY);
    let addr_list = string_param(
        "addrs",
        addrs.value(),
        parse_addrs,
        "[domain:]bus:dev.fn[@num_vfs] entries, at most 32",
    )?
    .unwrap_or(AddrList::EMPTY);
    let default_policy = string_param("policy", policy.value(), Policy::parse, "locked or simple")?
        .unwrap_or(Policy::Locked);
    let driver = match string_param(
        "vf_driver",
        vf_driver.value(),
        DriverName::parse,
        "a driver name of 1-31 [A-Za-z0-9_.-]",
    )? {
        Some(d) => d,
        None => DriverName::parse(b"vfio-pci")?,
    };
    let autoprobe = match compat::param_value(&module_parameters::vf_autoprobe) {
        0 => false,
        1 => true,
        _ => return Err(refuse_load("vf_autoprobe", EINVAL, "0 or 1")),
    };
    Ok(Config {
        ids: id_list,
        addrs: addr_list,
        policy: default_policy,
        knobs: VfKnobs { autoprobe, driver },
        num_vfs: compat::param_value(&module_parameters::num_vfs),
    })
}

/// The module: the registered driver.
#[pin_data(PinnedDrop)]
struct PfStubModule {
    #[pin]
    driver: pci_driver::Registration<PfStub>,
}

#[pinned_drop]
impl PinnedDrop for PfStubModule {
    fn drop(self: Pin<&mut Self>) {
        // Runs before the driver is unregistered (the fields are dropped after this).
        UNLOADING.store(true, Ordering::Release);
    }
}

impl kernel::InPlaceModule for PfStubModule {
    fn init(module: &'static kernel::ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            let config = parse_config()?;
            for id in config.ids.as_slice() {
                pr_info!(
                    "add {:04X}:{:04X} sub={:04X}:{:04X} cls={:08X}/{:08X}\n",
                    id.vendor,
                    id.device,
                    id.subvendor,
                    id.subdevice,
                    id.class,
                    id.class_mask
                );
            }
            Ok(try_pin_init!(Self {
                driver <- pci_driver::Registration::new(
                    NAME,
                    module,
                    try_pin_init!(Shared {
                        config,
                        keeper <- BusNotifier::new(Keeper::new()),
                    }),
                ),
            }))
        })
    }
}

module! {
    type: PfStubModule,
    name: "pf_stub",
    authors: ["The pf_stub developers"],
    description: "SR-IOV PF stub driver with a VF policy (Rust)",
    license: "GPL",
    params: {
        num_vfs: u16 {
            default: 0,
            description: "VFs to enable on each PF at bind (capped at sriov_totalvfs), then locked under the locked policy",
        },
        vf_autoprobe: u8 {
            default: 0,
            description: "Default sriov_vf_autoprobe: 0 pins new VFs to vf_driver with driver_override (default), 1 lets them probe normally",
        },
    },
}

#[kunit_tests(pf_stub_ids)]
mod tests {
    use super::*;

    #[test]
    fn vendor_device_only() {
        let id = parse_id(b"8086:10c9");
        assert_eq!(
            id,
            Ok(DynamicId {
                vendor: 0x8086,
                device: 0x10c9,
                subvendor: ANY,
                subdevice: ANY,
                class: 0,
                class_mask: 0
            })
        );
    }

    #[test]
    fn all_six_fields() {
        let id = parse_id(b"1b36:0010:ffffffff:ffffffff:010802:ffffff");
        assert_eq!(
            id,
            Ok(DynamicId {
                vendor: 0x1b36,
                device: 0x10,
                subvendor: ANY,
                subdevice: ANY,
                class: 0x010802,
                class_mask: 0xffffff
            })
        );
        assert!(parse_id(b"0x8086:0X10C9").is_ok());
    }

    #[test]
    fn refuses_malformed_entries() {
        for bad in [
            &b"8086"[..],
            b"8086:",
            b":10c9",
            b"8086:10c9:",
            b"8086:10c9x",
            b"8086:10c9:1:2:3:4:5",
            b"18086:10c9",
            b"8086:10c9:0:0:1000000:ffffff",
            b"8086:10c9:0:0:010802:ff0000",
            b"8086:123456789",
            b"8086 10c9",
            b"-1:10c9",
        ] {
            assert_eq!(parse_id(bad), Err(EINVAL));
        }
    }

    #[test]
    fn lists() {
        assert_eq!(parse_ids(b"").map(|l| l.len), Ok(0));
        assert_eq!(parse_ids(b"\n").map(|l| l.len), Ok(0));
        assert_eq!(parse_ids(b"8086:10c9,1b36:0010,").map(|l| l.len), Ok(2));
        assert_eq!(parse_ids(b"8086:10c9,,1b36:0010").map(|l| l.len), Ok(2));
        // One bad entry refuses the list.
        assert!(parse_ids(b"8086:10c9,zz:1").is_err());
    }

    #[test]
    fn bounded_length() {
        let mut buf = [0u8; 10 * (MAX_IDS + 1)];
        for (i, c) in buf.iter_mut().enumerate() {
            *c = b"8086:10c9,"[i % 10];
        }
        assert_eq!(parse_ids(&buf).map(|l| l.len), Err(E2BIG));
        assert_eq!(parse_ids(&buf[..10 * MAX_IDS]).map(|l| l.len), Ok(MAX_IDS));
    }

    #[test]
    fn addresses() -> Result {
        let name = |domain, bus, dev, func| PciName {
            domain,
            bus,
            dev,
            func,
        };
        assert_eq!(parse_addr(b"0000:01:00.0")?, name(0, 1, 0, 0));
        // The domain defaults to 0; hex digits of any case.
        assert_eq!(parse_addr(b"1A:1f.7")?, name(0, 0x1a, 0x1f, 7));
        assert_eq!(parse_addr(b"ABCD:00:00.0")?, name(0xabcd, 0, 0, 0));
        // Domains above 0xffff (VMD): every function keeps an address of its own.
        assert_eq!(parse_addr(b"10000:01:00.0")?, name(0x10000, 1, 0, 0));
        assert_ne!(parse_addr(b"10000:01:00.0")?, parse_addr(b"10000:01:00.1")?);
        for bad in [
            &b""[..],
            b"01:00",
            b"01:00.8",
            b"01:20.0",
            b"100:00.0",
            b"1:2:3:4.0",
            b"100000000:00:00.0",
            b"01:00.0.0",
            b"01:00.",
            b"0x01:00.0",
            b"01:00.0 ",
        ] {
            assert!(parse_addr(bad).is_err());
        }
        Ok(())
    }

    #[test]
    fn address_lists() -> Result {
        let l = parse_addrs(b"0000:01:00.0@2, 02:00.0@64,03:00.1")?;
        assert_eq!(l.len, 3);
        let first = parse_addr(b"01:00.0")?;
        assert_eq!(l.find(&first).and_then(|e| e.num_vfs), Some(2));
        let third = parse_addr(b"03:00.1")?;
        assert!(l.find(&third).is_some_and(|e| e.num_vfs.is_none()));
        assert_eq!(parse_addrs(b"").map(|l| l.len), Ok(0));
        for bad in [
            &b"01:00.0@"[..],
            b"01:00.0@x",
            b"01:00.0@-1",
            b"01:00.0@65536",
            b"01:00.0@1@2",
            b"01:00.0,01:00.0",
            b"01:00.0,zz",
        ] {
            assert!(parse_addrs(bad).is_err());
        }
        Ok(())
    }

    #[test]
    fn driver_names() {
        assert!(DriverName::parse(b"vfio-pci\n").is_ok_and(|d| d.as_bytes() == b"vfio-pci"));
        assert!(DriverName::parse(b"igbvf").is_ok());
        for bad in [
            &b""[..],
            b"\n",
            b"a b",
            b"a/b",
            b"vfio-pci\n\n",
            b"0123456789012345678901234567890123",
        ] {
            assert!(DriverName::parse(bad).is_err());
        }
    }

    #[test]
    fn footprint() {
        // The per-PF allocation is one `KBox<PfStub>`; this keeps it within a small kmalloc
        // bucket and reports its size for the benchmark.
        let per_pf = core::mem::size_of::<PfStub>();
        pr_info!(
            "pf_stub footprint: per-PF {} bytes (guard {}, VF watch {}), driver-wide {} bytes, orphan record {} bytes\n",
            per_pf,
            core::mem::size_of::<Mutex<Guard>>(),
            core::mem::size_of::<BusNotifier<VfWatch>>(),
            core::mem::size_of::<Shared>(),
            core::mem::size_of::<Kept>()
        );
        // Beyond its three mutexes (whose size depends on lock debugging), the per-PF state stays
        // within 256 bytes.
        assert!(per_pf <= 3 * core::mem::size_of::<Mutex<()>>() + 256);
    }
}
