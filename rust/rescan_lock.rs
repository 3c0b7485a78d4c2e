// SPDX-License-Identifier: GPL-2.0

//! The PCI core's rescan/remove lock (`pci_rescan_remove_lock`), as a guard and as a proof that
//! the running thread holds it.
//!
//! Future home: `rust/kernel/pci.rs`. Not upstream: the SR-IOV proposals enable and disable VFs
//! only from `sriov_configure`, where the core holds the lock.

use core::marker::PhantomData;
use kernel::bindings;

/// Proof that the running thread holds `pci_rescan_remove_lock` while the proof lives.
///
/// Adding and removing PCI devices, as enabling and disabling SR-IOV do, is only safe under that
/// lock (`pci_stop_and_remove_bus_device()` asserts it): the functions that do it take a
/// `&RescanLocked`, so that safe code cannot call them without the lock. Not `Send`: the lock
/// is held by a thread.
///
/// # Invariants
///
/// The thread that has a `RescanLocked<'a>` holds `pci_rescan_remove_lock` during `'a`.
pub struct RescanLocked<'a>(PhantomData<(&'a (), *mut ())>);

impl<'a> RescanLocked<'a> {
    /// The proof for a caller that knows the lock is held.
    ///
    /// # Safety
    ///
    /// The running thread holds `pci_rescan_remove_lock` during `'a`.
    pub unsafe fn assume() -> Self {
        // INVARIANT: By the safety requirements.
        Self(PhantomData)
    }
}

/// The lockdep map of `pci_rescan_remove_lock`, learnt the first time this module takes the
/// lock (the symbol itself is not exported to modules).
#[cfg(CONFIG_LOCKDEP)]
static RESCAN_LOCK_MAP: core::sync::atomic::AtomicPtr<bindings::lockdep_map> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// Records the lockdep map of `pci_rescan_remove_lock`, which this thread has just taken.
#[cfg(CONFIG_LOCKDEP)]
fn learn_map() {
    use core::sync::atomic::Ordering::Relaxed;
    if !RESCAN_LOCK_MAP.load(Relaxed).is_null() {
        return;
    }
    let task = kernel::task::Task::current_raw();
    // SAFETY: `task` is the running thread; only this thread changes its own `held_locks` and
    // `lockdep_depth` (`kernel/locking/lockdep.c`). `pci_lock_rescan_remove()` has just pushed
    // the lock as this thread's newest held lock, so the last entry's `instance` is its map, a
    // static object that lives as long as the kernel.
    let map = unsafe {
        match usize::try_from((*task).lockdep_depth) {
            Ok(depth) if depth > 0 => (*task).held_locks[depth - 1].instance,
            _ => return,
        }
    };
    RESCAN_LOCK_MAP.store(map, Relaxed);
}

/// Whether lockdep, when the kernel has it, confirms that this thread holds
/// `pci_rescan_remove_lock` (always `true` without lockdep; `false` before [`learn`]).
#[cfg(CONFIG_LOCKDEP)]
pub fn lockdep_allows() -> bool {
    let map = RESCAN_LOCK_MAP.load(core::sync::atomic::Ordering::Relaxed);
    if map.is_null() {
        return false;
    }
    // SAFETY: `map` is the static lockdep map of `pci_rescan_remove_lock` (`learn_map`);
    // `lock_is_held_type()` reads only this thread's held locks (`read` -1: either kind).
    unsafe { bindings::lock_is_held_type(map, -1) != 0 }
}

/// Whether lockdep, when the kernel has it, confirms that this thread holds
/// `pci_rescan_remove_lock` (always `true` without lockdep).
#[cfg(not(CONFIG_LOCKDEP))]
pub fn lockdep_allows() -> bool {
    true
}

/// Takes and releases the lock once, so that [`lockdep_allows`] knows it: call at module init,
/// with no device lock held.
pub fn learn() {
    drop(RescanRemoveLock::lock());
}

/// `pci_rescan_remove_lock`, held by this thread while the object lives.
///
/// # Invariants
///
/// This thread took `pci_rescan_remove_lock` in [`RescanRemoveLock::lock`] and holds it.
pub struct RescanRemoveLock(());

impl RescanRemoveLock {
    /// Takes the lock (`pci_lock_rescan_remove()`), waiting for it.
    ///
    /// Never call this with a device lock held (see the module documentation).
    pub fn lock() -> Self {
        // SAFETY: Always valid to call; the lock is released by `drop`.
        unsafe { bindings::pci_lock_rescan_remove() };
        #[cfg(CONFIG_LOCKDEP)]
        learn_map();
        // INVARIANT: The lock was taken just above, by this thread.
        Self(())
    }
}

impl RescanRemoveLock {
    /// The proof that this thread holds the lock, for as long as this guard is borrowed.
    pub fn locked(&self) -> RescanLocked<'_> {
        // INVARIANT: By the type invariants this thread holds the lock while `self` lives.
        RescanLocked(PhantomData)
    }
}

impl Drop for RescanRemoveLock {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this thread holds the lock.
        unsafe { bindings::pci_unlock_rescan_remove() };
    }
}
