// SPDX-License-Identifier: GPL-2.0

//! String module parameters.
//!
//! The equivalent of C's `module_param_string()`, with one difference that matters for strict
//! parsing: it tells a parameter that was not given ([`StringParam::value`] is `None`) from one
//! given empty.
//! The value is copied into a fixed-size buffer owned by the module; a longer one is refused
//! (`-ENOSPC`), failing the load.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)
//!
//! Upstream: C's `module_param_string()`; not merged (the `module!` of 7.2 and 7.3 takes integer
//! and `bool` parameters only). Future home: `rust/kernel/module_param.rs` (a `string` type for
//! the `module!` macro's `params`).

use kernel::{
    bindings,
    page::PAGE_SIZE,
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        Release, //
    },
    types::Opaque, //
};

/// Storage of a string module parameter of at most `N - 1` bytes.
///
/// # Invariants
///
/// `buf` always holds a NUL-terminated string. It is only written by [`StringParam::set`],
/// which the kernel calls while parsing the module's arguments at load, before the module's
/// code runs; the parameter is read-only in sysfs, so it is never written afterwards.
pub struct StringParam<const N: usize> {
    buf: Opaque<[u8; N]>,
    given: Atomic<bool>,
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
    /// sysfs gives `get_callback`, which would then truncate every long value.
    const FITS_IN_PAGE: () = assert!(
        N + 2 <= PAGE_SIZE,
        "a string parameter must fit in a sysfs page"
    );

    /// The operations the kernel's parameter parser and sysfs call, for a `kernel_param` whose
    /// `arg` is one `StringParam<N>`, as [`module_param_string!`] registers it: `get` writes
    /// from the start of the sysfs page, so they are not for the elements of an array
    /// parameter, whose `get` is called at an offset into the page (`param_array_get()`).
    pub const OPS: bindings::kernel_param_ops = {
        // Evaluated for every `N` whose operations are used, so that `get_callback` never has to
        // truncate.
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
        // INVARIANT: An all-zero buffer is the empty string, NUL-terminated.
        Self {
            buf: Opaque::zeroed(),
            given: Atomic::new(false),
        }
    }

    /// Returns the parameter's value without its NUL terminator, or `None` if it was not given.
    pub fn value(&self) -> Option<&[u8]> {
        if !self.given.load(Acquire) {
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
        self.given.store(true, Release);
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
        // SAFETY: As in `set_callback`.
        let this = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<Self>() };
        // SAFETY: The kernel calls `get` only from `param_attr_show()`, with the page that sysfs
        // gives a `show` callback: `PAGE_SIZE` writable bytes, used by nothing else for the call.
        let page = unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), PAGE_SIZE) };
        let value = this.value().unwrap_or(&[]);
        // The value, a newline and a NUL, truncated to the page: every write below is within
        // `page`, whatever the value's length (`FITS_IN_PAGE` makes the truncation unreachable).
        let len = value.len().min(PAGE_SIZE - 2);
        page[..len].copy_from_slice(&value[..len]);
        page[len] = b'\n';
        page[len + 1] = 0;
        // `len + 1 < PAGE_SIZE`, far below `c_int::MAX`.
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

/// The length of the module name in `modfile`, the value of `RUST_MODFILE` that the kernel's
/// build sets for every Rust object it compiles (`rust_common_cmd` in `scripts/Makefile.build`):
/// `$(obj)/<module name>`, so the name is what follows the last `/`.
#[doc(hidden)]
pub const fn modname_len(modfile: &str) -> usize {
    let bytes = modfile.as_bytes();
    let mut start = bytes.len();
    while start > 0 && bytes[start - 1] != b'/' {
        start -= 1;
    }
    bytes.len() - start
}

/// `<module>.<param>` and a NUL, in `L` bytes: the name of a built-in module's parameter on the
/// kernel command line. The module name is taken from `modfile` (see [`modname_len`]) and spelled
/// as `KBUILD_MODNAME` spells it for C (`name-fix` in `scripts/Makefile.lib`: `-` and `,` become
/// `_`), the prefix the kernel's `module!` macro gives its own parameters.
#[doc(hidden)]
pub const fn builtin_param_name<const L: usize>(modfile: &str, param: &str) -> [u8; L] {
    let module = modfile.as_bytes();
    let param = param.as_bytes();
    let mut out = [0u8; L];
    let mut o = 0;
    let mut i = module.len() - modname_len(modfile);
    while i < module.len() && o < L {
        out[o] = match module[i] {
            b'-' | b',' => b'_',
            b => b,
        };
        o += 1;
        i += 1;
    }
    if o < L {
        out[o] = b'.';
        o += 1;
    }
    let mut j = 0;
    while j < param.len() && o < L {
        out[o] = param[j];
        o += 1;
        j += 1;
    }
    out
}

/// Declares a read-only string module parameter, like C's `module_param_string()`.
///
/// `$name` becomes a `static` [`StringParam`] of `$len` bytes (terminator included), visible
/// read-only as `/sys/module/<module>/parameters/<name>`. Built in, the parameter is
/// `<module>.<name>` on the kernel command line, `<module>` being the name of the module being
/// built, as the build system gives it (`RUST_MODFILE`): the macro works in any module.
///
/// The macro names this module as `$crate::kext::module_param`, where `pf_stub.rs` mounts
/// `rust/mod.rs`; a module that mounts it elsewhere passes the path first:
/// `module_param_string!(in crate::path::to::kext; ids, 512, "...")`.
///
/// # Examples
///
/// ```ignore
/// module_param_string!(ids, 512, "vendor:device[:subvendor...] list to bind");
/// let value: Option<&[u8]> = ids.value();
/// ```
#[macro_export]
macro_rules! module_param_string {
    (in $($kext:tt)::+; $name:ident, $len:expr, $desc:expr) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $($kext)::+::module_param::StringParam<{ $len }> =
            $($kext)::+::module_param::StringParam::new();

        const _: () = {
            use $($kext)::+::module_param as __kext_module_param;

            /// The module's name for a built-in parameter, from the build system.
            #[cfg(not(MODULE))]
            const MODFILE: &str = ::core::env!("RUST_MODFILE");
            /// `<module>.<name>` and a NUL.
            #[cfg(not(MODULE))]
            static BUILTIN_NAME: [u8; __kext_module_param::modname_len(MODFILE)
                + ::core::stringify!($name).len()
                + 2] = __kext_module_param::builtin_param_name(MODFILE, ::core::stringify!($name));

            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: ::kernel::module_param::KernelParam =
                ::kernel::module_param::KernelParam::new(::kernel::bindings::kernel_param {
                    #[cfg(MODULE)]
                    name: ::core::concat!(::core::stringify!($name), "\0")
                        .as_ptr()
                        .cast(),
                    #[cfg(not(MODULE))]
                    name: BUILTIN_NAME.as_ptr().cast(),
                    // Only the address of `__this_module` is taken; the kernel builds it at load.
                    #[cfg(MODULE)]
                    mod_: &raw mut ::kernel::bindings::__this_module,
                    #[cfg(not(MODULE))]
                    mod_: ::core::ptr::null_mut(),
                    ops: &__kext_module_param::StringParam::<{ $len }>::OPS,
                    // Readable by all in sysfs, never writable: the value is read at load only.
                    perm: 0o444,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: ::kernel::bindings::kernel_param__bindgen_ty_1 {
                        arg: ::core::ptr::from_ref(&$name).cast_mut().cast(),
                    },
                });

            #[cfg(MODULE)]
            const PARMTYPE: &str =
                ::core::concat!("parmtype=", ::core::stringify!($name), ":string\0");
            #[cfg(MODULE)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO_TYPE: [u8; PARMTYPE.len()] = __kext_module_param::modinfo_bytes(PARMTYPE);

            #[cfg(MODULE)]
            const PARM: &str =
                ::core::concat!("parm=", ::core::stringify!($name), ":", $desc, "\0");
            #[cfg(MODULE)]
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO_DESC: [u8; PARM.len()] = __kext_module_param::modinfo_bytes(PARM);
        };
    };
    ($name:ident, $len:expr, $desc:expr) => {
        $crate::module_param_string!(in $crate::kext; $name, $len, $desc);
    };
}
