// SPDX-License-Identifier: GPL-2.0

//! Holding a reference on the module itself, so that `rmmod` is refused while it is held.
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)
//!
//! Upstream: `try_module_get()`/`module_put()` on a `ThisModule`; not merged. Future home:
//! `rust/kernel/module.rs` (a method of `ThisModule`).

use kernel::{
    bindings,
    ThisModule, //
};

/// A reference on a module (`try_module_get()`), released on drop (`module_put()`).
///
/// # Examples
///
/// ```ignore
/// // Refuse `rmmod` while VFs are locked and in use.
/// let pin = ModuleRef::try_new(compat::this_module()).ok_or(EBUSY)?;
/// // ...
/// drop(pin); // `rmmod` may go ahead again.
/// ```
///
/// # Invariants
///
/// `module` is the running module, on which this object holds one reference.
pub struct ModuleRef {
    module: &'static ThisModule,
}

impl ModuleRef {
    /// Takes a reference on `module` unless it is being unloaded (`try_module_get()`): code that
    /// may run while `rmmod` is already under way (a bus notifier, for instance) must not pin a
    /// module whose unload has passed the point of checking its references.
    pub fn try_new(module: &'static ThisModule) -> Option<Self> {
        // SAFETY: `module` is the module running this code, so its `struct module` is live for
        // the call; `try_module_get()` fails once the module is going away.
        let ok = unsafe { bindings::try_module_get(module.as_ptr()) };
        // INVARIANT: On success this object holds the reference just taken. Built only then: a
        // `ModuleRef` made and dropped on failure would put a reference never taken.
        if ok {
            Some(Self { module })
        } else {
            None
        }
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this object holds a reference on `module`.
        unsafe { bindings::module_put(self.module.as_ptr()) };
    }
}
