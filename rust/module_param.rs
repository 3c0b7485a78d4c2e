// SPDX-License-Identifier: GPL-2.0

//! String module parameters.
//!
//! The `module!` macro of Linux 7.2 and 7.3 supports integer parameters only. This is the
//! equivalent of C's `module_param_string()`, with one difference that matters for strict
//! parsing: it tells a parameter that was not given ([`StringParam::value`] is `None`) from one
//! given empty.
//! The value is copied into a fixed-size buffer owned by the module; a longer one is refused
//! (`-ENOSPC`), failing the load.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{bindings, prelude::*, types::Opaque};

/// Storage of a string module parameter of at most `N - 1` bytes.
///
/// # Invariants
///
/// `buf` always holds a NUL-terminated string. It is only written by [`StringParam::set`],
/// which the kernel calls while parsing the module's arguments at load, before the module's
/// code runs; the parameter is read-only in sysfs, so it is never written afterwards.
pub struct StringParam<const N: usize> {
    buf: Opaque<[u8; N]>,
    given: AtomicBool,
}

// SAFETY: After module load the buffer is never written again (see the type invariants), so
// shared references may be used from any thread.
unsafe impl<const N: usize> Sync for StringParam<N> {}

impl<const N: usize> Default for StringParam<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> StringParam<N> {
    /// Fails to compile for an `N` whose value, newline and NUL would not fit in the page that
    /// sysfs gives `get_callback`.
    const FITS_IN_PAGE: () = assert!(
        N + 2 <= kernel::page::PAGE_SIZE,
        "a string parameter must fit in a sysfs page"
    );

    /// The operations the kernel's parameter parser and sysfs call.
    pub const OPS: bindings::kernel_param_ops = {
        // Evaluated for every `N` whose operations are used: `get_callback` relies on it.
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS_IN_PAGE;
        bindings::kernel_param_ops {
            flags: 0,
            set: Some(Self::set_callback),
            get: Some(Self::get_callback),
            free: None,
        }
    };

    /// Creates an empty parameter, not given.
    pub const fn new() -> Self {
        Self {
            buf: Opaque::zeroed(),
            given: AtomicBool::new(false),
        }
    }

    /// Returns the parameter's value without its NUL terminator, or `None` if it was not given.
    pub fn value(&self) -> Option<&[u8]> {
        if !self.given.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: By the type invariants, the buffer is initialised and no longer written once
        // the module runs, so a shared view of it is valid for the lifetime of `self`.
        let buf = unsafe { &*self.buf.get() };
        let len = buf.iter().position(|&b| b == 0).unwrap_or(N);
        Some(&buf[..len])
    }

    /// Copies `val` in, or fails with `ENOSPC` if it does not fit.
    fn set(&self, val: &[u8]) -> Result {
        if val.len() >= N {
            return Err(ENOSPC);
        }
        // SAFETY: Called by the kernel's argument parser at load only (type invariants), when
        // nothing reads the buffer; the copy and its NUL fit in `N` bytes (checked above).
        let buf = unsafe { &mut *self.buf.get() };
        for (d, s) in buf
            .iter_mut()
            .zip(Iterator::chain(val.iter(), core::iter::repeat(&0)))
        {
            *d = *s;
        }
        self.given.store(true, Ordering::Release);
        Ok(())
    }

    extern "C" fn set_callback(val: *const c_char, kp: *const bindings::kernel_param) -> c_int {
        // A parameter given without `=` has no value: refuse it, as `param_set_copystring` does.
        if val.is_null() {
            return EINVAL.to_errno();
        }
        // SAFETY: The kernel passes the `kernel_param` made by `module_param_string!`, whose
        // `arg` points to a `StringParam<N>` of this `N`, and a NUL-terminated `val` valid for
        // the call.
        let (this, val) = unsafe {
            (
                &*(*kp).__bindgen_anon_1.arg.cast::<Self>(),
                CStr::from_char_ptr(val),
            )
        };
        match this.set(val.to_bytes()) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    extern "C" fn get_callback(buffer: *mut c_char, kp: *const bindings::kernel_param) -> c_int {
        // SAFETY: As in `set_callback`; sysfs passes a page-sized `buffer`.
        let this = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Self>() };
        let value = this.value().unwrap_or(&[]);
        // `len + 2 <= N + 1 <= PAGE_SIZE` (`FITS_IN_PAGE`, checked at compile time by `OPS`).
        let len = value.len().min(N - 1);
        // SAFETY: `buffer` is a page of writable memory and `len + 2 <= PAGE_SIZE` bytes are
        // written (see above).
        unsafe {
            core::ptr::copy_nonoverlapping(value.as_ptr(), buffer.cast::<u8>(), len);
            *buffer.add(len) = b'\n';
            *buffer.add(len + 1) = 0;
        }
        (len + 1) as c_int
    }
}

/// Copies a string into a fixed-size, NUL-padded byte array in a const context.
#[doc(hidden)]
pub const fn modinfo_bytes<const L: usize>(s: &str) -> [u8; L] {
    let bytes = s.as_bytes();
    let mut out = [0u8; L];
    let mut i = 0;
    while i < bytes.len() && i < L {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Declares a read-only string module parameter, like C's `module_param_string()`.
///
/// `$name` becomes a `static` [`StringParam`] of `$len` bytes (terminator included), visible
/// read-only as `/sys/module/<module>/parameters/<name>`. The parameter is named
/// `pf_stub.<name>` on the kernel command line when built in.
///
/// ```ignore
/// module_param_string!(ids, 512, "vendor:device[:subvendor...] list to bind");
/// let value: Option<&[u8]> = ids.value();
/// ```
#[macro_export]
macro_rules! module_param_string {
    ($name:ident, $len:expr, $desc:expr) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::kext::module_param::StringParam<{ $len }> =
            $crate::kext::module_param::StringParam::new();

        const _: () = {
            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: ::kernel::module_param::KernelParam =
                ::kernel::module_param::KernelParam::new(::kernel::bindings::kernel_param {
                    name: if ::core::cfg!(MODULE) {
                        ::core::concat!(::core::stringify!($name), "\0")
                            .as_ptr()
                            .cast()
                    } else {
                        ::core::concat!("pf_stub.", ::core::stringify!($name), "\0")
                            .as_ptr()
                            .cast()
                    },
                    // Only the address of `__this_module` is taken; the kernel builds it at load.
                    #[cfg(MODULE)]
                    mod_: &raw mut ::kernel::bindings::__this_module,
                    #[cfg(not(MODULE))]
                    mod_: ::core::ptr::null_mut(),
                    ops: &$crate::kext::module_param::StringParam::<{ $len }>::OPS,
                    // Readable by all in sysfs, never writable: the value is read at load only.
                    perm: 0o444,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: ::kernel::bindings::kernel_param__bindgen_ty_1 {
                        arg: ::core::ptr::from_ref(&$name).cast_mut().cast(),
                    },
                });

            const PARMTYPE: &str =
                ::core::concat!("parmtype=", ::core::stringify!($name), ":string\0");
            #[cfg(MODULE)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO_TYPE: [u8; PARMTYPE.len()] =
                $crate::kext::module_param::modinfo_bytes(PARMTYPE);

            const PARM: &str =
                ::core::concat!("parm=", ::core::stringify!($name), ":", $desc, "\0");
            #[cfg(MODULE)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO_DESC: [u8; PARM.len()] = $crate::kext::module_param::modinfo_bytes(PARM);
        };
    };
}
