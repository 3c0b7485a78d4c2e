// SPDX-License-Identifier: GPL-2.0

//! `change` uevents with driver-defined variables (`kobject_uevent_env()`).
//!
//! C header: [`include/linux/kobject.h`](srctree/include/linux/kobject.h)
//!
//! Upstream: `kobject_uevent_env()` for a device; not merged. Future home: `rust/kernel/device.rs`
//! (uevents of a device; the kernel crate has no `kobject` abstraction).

use kernel::{
    bindings,
    device,
    prelude::*, //
};

/// Most variables one event carries.
const MAX_VARS: usize = 8;

/// Longest `NAME=value` variable, NUL included.
const VAR_LEN: usize = 64;

/// The variables of a uevent, as `NAME=value` strings.
///
/// # Invariants
///
/// `len <= MAX_VARS`, and each of `vars[..len]` is a NUL-terminated string.
///
/// # Examples
///
/// ```ignore
/// UeventEnv::new()
///     .add("PF_STUB_EVENT", b"locked")?
///     .send_change(pdev.as_ref())?;
/// ```
pub struct UeventEnv {
    vars: [[u8; VAR_LEN]; MAX_VARS],
    len: usize,
}

impl Default for UeventEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl UeventEnv {
    /// An event without variables.
    pub const fn new() -> Self {
        // INVARIANT: No variables.
        Self {
            vars: [[0; VAR_LEN]; MAX_VARS],
            len: 0,
        }
    }

    /// Adds `name=value`. Returns `E2BIG` when the event is full or the variable too long.
    pub fn add(&mut self, name: &str, value: &[u8]) -> Result<&mut Self> {
        if self.len == MAX_VARS || name.len() + 1 + value.len() >= VAR_LEN || value.contains(&0) {
            return Err(E2BIG);
        }
        let var = &mut self.vars[self.len];
        let parts = Iterator::chain(Iterator::chain(name.as_bytes().iter(), b"="), value.iter());
        for (d, s) in var.iter_mut().zip(parts) {
            *d = *s;
        }
        var[name.len() + 1 + value.len()] = 0;
        // INVARIANT: The event was not full, and the new variable is NUL-terminated within
        // `VAR_LEN` (checked above).
        self.len += 1;
        Ok(self)
    }

    /// Sends a `change` event for `dev` with these variables.
    pub fn send_change<Ctx: device::DeviceContext>(&mut self, dev: &device::Device<Ctx>) -> Result {
        let mut envp = [core::ptr::null_mut::<c_char>(); MAX_VARS + 1];
        for (p, var) in envp.iter_mut().zip(self.vars[..self.len].iter_mut()) {
            *p = var.as_mut_ptr().cast();
        }
        let kobj = core::ptr::from_ref(dev)
            .cast::<bindings::device>()
            .cast_mut();
        // SAFETY: A `device::Device` is a transparent wrapper of a valid `struct device`, whose
        // `kobj` is live; `envp` is a NULL-terminated array of NUL-terminated strings valid for
        // the call (the kernel copies them).
        kernel::error::to_result(unsafe {
            bindings::kobject_uevent_env(
                &raw mut (*kobj).kobj,
                bindings::kobject_action_KOBJ_CHANGE,
                envp.as_mut_ptr(),
            )
        })
    }
}
