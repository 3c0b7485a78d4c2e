// SPDX-License-Identifier: GPL-2.0

//! The PCI core's rescan/remove lock, for a PF driver that adds or removes VFs outside
//! `sriov_configure`: at bind, at unbind, and after its PF was removed.
//!
//! The locks the PCI core and driver core take (Linux 7.2 and 7.3; the paths below are the same
//! in both):
//!
//! - `sriov_numvfs_store()` (`drivers/pci/iov.c`) takes the PF's device lock, then
//!   `pci_rescan_remove_lock`, then calls `sriov_configure`.
//! - Removal (`remove` in sysfs, native and ACPI hotplug, `drivers/pci/remove.c`) takes
//!   `pci_rescan_remove_lock`, clears the PF's `PCI_DEV_ADDED` (`pci_stop_dev()`), and only then
//!   takes the PF's device lock to unbind its driver (`device_release_driver()`); a removal that
//!   starts above the PF removes the VFs (devices of the same bus) before the PF.
//! - `probe` and `remove` run with the device lock held (`drivers/base/dd.c`), from a bind, an
//!   unbind, `rmmod`, a removal or an enumeration; the enumeration's probe runs before
//!   `PCI_DEV_ADDED` is set (`pci_bus_add_device()`), under the enumerator's rescan/remove lock.
//! - Removing a VF asserts that the running thread holds `pci_rescan_remove_lock`
//!   (`pci_stop_and_remove_bus_device()`), and so does unwinding a failed enable.
//!
//! A callback that holds the PF's device lock must therefore never wait for
//! `pci_rescan_remove_lock`: a removal of that PF may hold it while it waits for the device lock,
//! and both would wait for good. [`run_locked`] has a worker wait for the lock and run the
//! change while the callback waits for the worker, and gives up as soon as the PF's removal has
//! begun (`PCI_DEV_ADDED` clear), which the removal does under the lock before it asks for the
//! device lock.
//!
//! Future home: `rust/kernel/pci.rs` (the lock) and `rust/kernel/workqueue.rs` ([`OwnedQueue`]).

use super::{
    pci_sriov::SriovDevice,
    rescan_lock::{
        RescanLocked,
        RescanRemoveLock, //
    },
};
use core::{
    ffi::c_void,
    ops::Deref,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    device::Core,
    new_mutex,
    pci,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
    workqueue::Queue, //
};

/// A workqueue owned by its creator: dropping it waits for every work item queued on it, so no
/// item can run the module's code after the module is gone.
///
/// # Invariants
///
/// `ptr` is a workqueue from `alloc_workqueue()`, destroyed only by `drop`.
pub struct OwnedQueue {
    ptr: NonNull<bindings::workqueue_struct>,
}

// SAFETY: A workqueue may be used and destroyed from any thread.
unsafe impl Send for OwnedQueue {}

// SAFETY: Queueing work is safe from several threads at once.
unsafe impl Sync for OwnedQueue {}

impl OwnedQueue {
    /// Allocates an unbound workqueue named `name`.
    pub fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: The format `"%s"` takes the one string argument given, which is NUL-terminated
        // and outlives the call (the name is copied into the workqueue).
        let ptr = unsafe {
            bindings::alloc_workqueue_noprof(
                c"%s".as_char_ptr(),
                bindings::wq_flags_WQ_UNBOUND,
                0,
                name.as_char_ptr(),
            )
        };
        // INVARIANT: A non-NULL result is a new workqueue, owned by the returned object.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }
}

impl Deref for OwnedQueue {
    type Target = Queue;

    fn deref(&self) -> &Queue {
        // SAFETY: By the type invariants `ptr` is a live workqueue until `drop`, which cannot run
        // while this borrow of `self` lasts.
        unsafe { Queue::from_raw(self.ptr.as_ptr()) }
    }
}

impl Drop for OwnedQueue {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `ptr` is a live workqueue, destroyed only here;
        // `destroy_workqueue()` waits for the items queued on it.
        unsafe { bindings::destroy_workqueue(self.ptr.as_ptr()) };
    }
}

/// Where a call of [`run_locked`] stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// The worker waits for the rescan/remove lock.
    Waiting,
    /// The worker holds the lock and runs the closure; the caller waits.
    Running,
    /// The closure ran; its result is in the caller's slot.
    Done,
    /// The caller gave up (the PF is being removed): the worker must not run the closure.
    Abandoned,
}

/// The hand-over between a caller of [`run_locked`] and its worker.
///
/// # Invariants
///
/// `arg` points to the caller's `Slot` and `run` is the matching [`trampoline`]; the slot is
/// alive while `state` is `Waiting` or `Running`: the caller does not return before it has seen
/// `Done` or set `Abandoned`, both under `state`.
#[pin_data]
struct Call {
    #[pin]
    state: Mutex<State>,
    run: unsafe fn(*mut c_void, &RescanLocked<'_>),
    arg: *mut c_void,
}

// SAFETY: `arg` is only dereferenced by the worker in state `Running` (see `Call::work`), while
// the caller waits for it; the closure and result types behind it are `Send`.
unsafe impl Send for Call {}

// SAFETY: As above; everything else is behind `state`.
unsafe impl Sync for Call {}

impl Call {
    /// The worker: takes the rescan/remove lock, then runs the closure unless abandoned.
    fn work(&self) {
        let lock = RescanRemoveLock::lock();
        let run = {
            let mut state = self.state.lock();
            if *state == State::Abandoned {
                false
            } else {
                *state = State::Running;
                true
            }
        };
        if run {
            // SAFETY: The state is `Running`, so by the type invariants `arg` points to the
            // caller's live slot, of the type `run` expects, and the caller is waiting; `lock`
            // is held for the call.
            unsafe { (self.run)(self.arg, &lock.locked()) };
            *self.state.lock() = State::Done;
        }
    }
}

/// What the closure of [`run_locked`] may assume: it runs on a worker that holds
/// `pci_rescan_remove_lock`, for a caller that holds the device's lock and waits, blocked, until
/// the closure returns.
///
/// The device lock is thus held, by another thread: nothing else takes it meanwhile, so the
/// device keeps the `Core` context's guarantees, but code that asserts the lock is held by the
/// running thread (`device_lock_assert()`) must not run here.
///
/// # Invariants
///
/// While this value lives, `pdev`'s device lock is held by the thread waiting in [`run_locked`]
/// for the closure that got it, and `locked` proves the rescan/remove lock held by this thread.
pub struct Delegated<'b, 'a> {
    pdev: &'b pci::Device<Core<'a>>,
    locked: &'b RescanLocked<'b>,
}

impl<'b, 'a> Delegated<'b, 'a> {
    /// The device, its lock held by the waiting caller.
    pub fn pdev(&self) -> &'b pci::Device<Core<'a>> {
        self.pdev
    }

    /// The proof that this thread holds `pci_rescan_remove_lock`.
    pub fn locked(&self) -> &'b RescanLocked<'b> {
        self.locked
    }
}

/// The caller's side of a call: the closure, the device it gets and its result.
struct Slot<D, F, R> {
    pdev: *const D,
    f: Option<F>,
    r: Option<R>,
}

/// Runs the closure of a `Slot<pci::Device<Core<'a>>, F, R>`.
///
/// # Safety
///
/// `arg` must point to a live `Slot<pci::Device<Core<'a>>, F, R>` whose `pdev` is valid, not used
/// by anyone else for the duration of the call, and whose device lock is held by a thread that
/// waits for this call to return.
unsafe fn trampoline<'a, F: FnOnce(&Delegated<'_, 'a>) -> R, R>(
    arg: *mut c_void,
    locked: &RescanLocked<'_>,
) {
    // SAFETY: By the safety requirements.
    let slot = unsafe { &mut *arg.cast::<Slot<pci::Device<Core<'a>>, F, R>>() };
    if let Some(f) = slot.f.take() {
        // SAFETY: By the safety requirements `pdev` is valid.
        let pdev = unsafe { &*slot.pdev };
        // INVARIANT: By the safety requirements the device lock is held by the waiting caller,
        // and `locked` is this worker's proof of the rescan/remove lock.
        slot.r = Some(f(&Delegated { pdev, locked }));
    }
}

/// Runs `f` with `pci_rescan_remove_lock` held, for a callback that holds `pdev`'s device lock
/// (`probe`, `remove`), as the PCI core runs `sriov_configure`.
///
/// A worker on `queue` takes the lock and runs `f`; the caller waits for it, keeping the device
/// lock, so `f` gets `pdev` in the `Core` context through a [`Delegated`]. Returns `f`'s result,
/// `ENODEV` without running `f` when `pdev` is being removed (whoever removes it holds the
/// rescan/remove lock and waits for the device lock: the caller must return and let it
/// proceed), or `ENOMEM`.
///
/// # Examples
///
/// ```ignore
/// match run_locked(&queue, pdev, |cx| cx.pdev().disable_sriov(cx.locked())) {
///     Ok(()) => dev_info!(pdev, "VFs disabled\n"),
///     Err(e) if e == ENODEV => dev_info!(pdev, "the PF is being removed\n"),
///     Err(e) => return Err(e),
/// }
/// ```
pub fn run_locked<'a, F, R>(queue: &Queue, pdev: &pci::Device<Core<'a>>, f: F) -> Result<R>
where
    F: FnOnce(&Delegated<'_, 'a>) -> R + Send,
    R: Send,
{
    let mut slot = Slot {
        pdev: core::ptr::from_ref(pdev),
        f: Some(f),
        r: None,
    };
    let arg: *mut c_void = core::ptr::from_mut(&mut slot).cast();
    // INVARIANT: `arg` is `slot` and `run` its trampoline; this function returns only after it
    // saw `Done` or set `Abandoned` (the loop below), or before the worker was queued.
    let call = Arc::pin_init(
        pin_init!(Call {
            state <- new_mutex!(State::Waiting),
            run: trampoline::<F, R>,
            arg,
        }),
        GFP_KERNEL,
    )?;
    let worker = call.clone();
    queue
        .try_spawn(GFP_KERNEL, move || worker.work())
        .map_err(|_| ENOMEM)?;
    loop {
        {
            let mut state = call.state.lock();
            match *state {
                State::Done => break,
                // The flag only changes under the rescan/remove lock, which a worker in
                // `Running` holds: the removal can only have begun while it still waits.
                State::Waiting if !pdev.is_added() => {
                    *state = State::Abandoned;
                    return Err(ENODEV);
                }
                _ => {}
            }
        }
        fsleep(Delta::from_millis(1));
    }
    slot.r.take().ok_or(EINVAL)
}
