// SPDX-License-Identifier: GPL-2.0

//! Holding a reference on the module itself, so that `rmmod` is refused while it is held.

use kernel::{bindings, ThisModule};

/// A reference on a module (`__module_get()`), released on drop (`module_put()`).
///
/// # Invariants
///
/// `module` is the running module, on which this object holds one reference.
pub struct ModuleRef {
    module: &'static ThisModule,
}

impl ModuleRef {
    /// Takes a reference on `module`, the module this code belongs to (`THIS_MODULE`).
    pub fn new(module: &'static ThisModule) -> Self {
        // SAFETY: `module` is the module running this code, so it is live and `__module_get()`
        // may be called on it (it also accepts NULL, for built-in code).
        unsafe { bindings::__module_get(module.as_ptr()) };
        Self { module }
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this object holds a reference on `module`.
        unsafe { bindings::module_put(self.module.as_ptr()) };
    }
}
