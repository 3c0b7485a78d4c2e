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
