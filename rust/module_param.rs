// SPDX-License-Identifier: GPL-2.0

//! String module parameters.
//!
//! The `module!` macro of Linux 7.2 supports integer parameters only. This is the equivalent of
//! C's `module_param_string()`: the kernel's `param_ops_string` copies the argument into a
//! fixed-size buffer owned by the module, refusing (`-ENOSPC`) an argument that does not fit.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)

use kernel::{bindings, types::Opaque};

/// Storage of a string module parameter of at most `N - 1` bytes.
///
/// # Invariants
///
/// `buf` always holds a NUL-terminated string: it starts zeroed and is only written by the
/// kernel's `param_set_copystring()`, which writes at most `N` bytes including the NUL and only
/// while the module is being loaded (the parameter is read-only in sysfs).
pub struct StringParam<const N: usize> {
    buf: Opaque<[u8; N]>,
}

impl<const N: usize> Default for StringParam<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: After module load the buffer is never written again (see the type invariants), so
// shared references may be used from any thread.
unsafe impl<const N: usize> Sync for StringParam<N> {}

impl<const N: usize> StringParam<N> {
    /// Creates an empty parameter buffer.
    pub const fn new() -> Self {
        Self {
            buf: Opaque::zeroed(),
        }
    }

    /// Returns the raw buffer, for the `kparam_string` the kernel writes into.
    #[doc(hidden)]
    pub const fn as_raw(&self) -> *mut kernel::ffi::c_char {
        self.buf.get().cast()
    }

    /// Returns the parameter's value without its NUL terminator.
    pub fn value(&self) -> &[u8] {
        // SAFETY: By the type invariants, the buffer is initialised and no longer written once
        // the module runs, so a shared view of it is valid for the lifetime of `self`.
        let buf = unsafe { &*self.buf.get() };
        let len = buf.iter().position(|&b| b == 0).unwrap_or(N);
        &buf[..len]
    }
}

/// A `kparam_string` descriptor, made `Sync` to live in a static.
#[repr(transparent)]
#[doc(hidden)]
pub struct KparamString(pub bindings::kparam_string);

// SAFETY: The descriptor is constant after construction; the kernel only reads it.
unsafe impl Sync for KparamString {}

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
/// The parameter is named `pf_stub.<name>` on the kernel command line when built in.
///
/// `$name` becomes a `static` [`StringParam`] of `$len` bytes (terminator included), visible
/// read-only as `/sys/module/<module>/parameters/<name>`.
///
/// ```ignore
/// module_param_string!(ids, 512, "vendor:device[:subvendor...] list to bind");
/// let value: &[u8] = ids.value();
/// ```
#[macro_export]
macro_rules! module_param_string {
    ($name:ident, $len:expr, $desc:expr) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::kext::module_param::StringParam<{ $len }> =
            $crate::kext::module_param::StringParam::new();

        const _: () = {
            static KPS: $crate::kext::module_param::KparamString =
                $crate::kext::module_param::KparamString(::kernel::bindings::kparam_string {
                    maxlen: $len,
                    string: $name.as_raw(),
                });

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
                    ops: &raw const ::kernel::bindings::param_ops_string,
                    // Readable by all in sysfs, never writable: the value is read at load only.
                    perm: 0o444,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: ::kernel::bindings::kernel_param__bindgen_ty_1 {
                        str_: ::core::ptr::from_ref(&KPS.0),
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
