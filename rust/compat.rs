// SPDX-License-Identifier: GPL-2.0

//! What differs between the `kernel` crates of the Linux versions pf_stub builds on.
//!
//! The driver files are the same for every supported kernel; each API the kernel crate changed
//! between them has one version-neutral form here, chosen by a cfg that the Makefile derives
//! from the kernel's `VERSION` and `PATCHLEVEL`:
//!
//! - `linux_7_3`: Linux 7.3 or later. 7.3 rewrote the device ID tables (`pci_device_table!`
//!   takes no second, modpost name any more, and an ID's `driver_data` holds a pointer to its
//!   info instead of an index into a separate array: `IdTable::info` is gone, and `new_id`
//!   refuses IDs without `driver_data` for a table with info), made a module's
//!   `THIS_MODULE` an associated constant of its type (`kernel::module::this_module()`), and has
//!   integer module parameters return their value instead of a reference to it, and added
//!   `pci::Device<Core>::sriov_get_totalvfs()`, which 7.2 gets from `pci_sriov::SriovCore` (the
//!   one version cfg outside this file: a trait method cannot be brought in scope for one
//!   version only without a cfg at each caller).
//!
//! Upstream: nothing to merge; each item goes away with the oldest kernel that needs it.

use kernel::{
    bindings,
    module_param::ModuleParamAccess,
    pci,
    prelude::*,
    ModuleMetadata,
    ThisModule, //
};

#[cfg(linux_7_3)]
use kernel::device_id::RawDeviceIdIndex;

/// Declares a PCI device ID table `$table` whose entries carry no info (`IdInfo = ()`), and its
/// alias for modpost (`MODULE_DEVICE_TABLE`), as C's `pci_device_id` tables without
/// `driver_data` do.
///
/// On 7.3 an ID's `driver_data` would otherwise hold a pointer to its info, and `new_id` (which
/// accepts only a `driver_data` of an existing entry, 0 when not given) would refuse every
/// `vendor device` write with `-EINVAL`; without info the table's `driver_data` is 0, as on 7.2
/// for the first entry and in C.
///
/// # Examples
///
/// ```ignore
/// crate::pci_id_table!(PCI_TABLE, [pci::DeviceId::from_id(pci::Vendor::AMAZON, 0x0053)]);
/// ```
#[cfg(linux_7_3)]
#[macro_export]
macro_rules! pci_id_table {
    ($table:ident, [$($id:expr),* $(,)?] $(,)?) => {
        ::kernel::pci_device_table!($table, @none, [$($id),*]);
    };
}

/// Declares a PCI device ID table `$table` whose entries carry no info (`IdInfo = ()`), and its
/// alias for modpost (`MODULE_DEVICE_TABLE`), as C's `pci_device_id` tables without
/// `driver_data` do.
///
/// # Examples
///
/// ```ignore
/// crate::pci_id_table!(PCI_TABLE, [pci::DeviceId::from_id(pci::Vendor::AMAZON, 0x0053)]);
/// ```
#[cfg(not(linux_7_3))]
#[macro_export]
macro_rules! pci_id_table {
    ($table:ident, [$($id:expr),* $(,)?] $(,)?) => {
        ::kernel::macros::paste! {
            ::kernel::pci_device_table!($table, [<MODULE_ $table>], (), [$(($id, ())),*]);
        }
    };
}

/// The info of entry `index` of `table`, the entry at `entry`, if the table carries info (a
/// table of [`pci_id_table!`] carries none on 7.3).
///
/// # Safety
///
/// `entry` must point to entry `index` of `table` (not its terminator).
pub(crate) unsafe fn id_info<U: 'static>(
    table: pci::IdTable<U>,
    entry: *const bindings::pci_device_id,
    index: usize,
) -> Option<&'static U> {
    #[cfg(linux_7_3)]
    {
        let _ = (table, index);
        // SAFETY: `pci::DeviceId` is a `#[repr(transparent)]` wrapper of `pci_device_id`, and by
        // the safety requirements `entry` is an entry of `table`, an `IdArray<pci::DeviceId, U,
        // _>`: its `driver_data` is a `&'static U`, or 0 in a table built without info.
        unsafe { (*entry.cast::<pci::DeviceId>()).info_unchecked_opt::<U>() }
    }
    #[cfg(not(linux_7_3))]
    {
        let _ = entry;
        // `table` is `&'static`, so its info is too; by the safety requirements `index` is
        // within it.
        Some(table.info(index))
    }
}

/// The module this code is built into (C's `THIS_MODULE`), as declared by `module!`.
#[inline]
pub fn this_module() -> &'static ThisModule {
    #[cfg(linux_7_3)]
    {
        kernel::module::this_module::<crate::LocalModule>()
    }
    #[cfg(not(linux_7_3))]
    {
        &crate::THIS_MODULE
    }
}

/// The name of the module this code is built into, as declared by `module!` (C's
/// `KBUILD_MODNAME`): pf_stub's driver name too, in `/sys/bus/pci/drivers/` and in the
/// `driver_override` it writes. Not a difference between versions: it sits beside
/// [`this_module`], the other item of `module!` that the files below the crate root read.
pub const MODULE_NAME: &CStr = <crate::LocalModule as ModuleMetadata>::NAME;

/// The value of an integer module parameter declared by `module!`.
#[inline]
pub fn param_value<T: Copy>(param: &ModuleParamAccess<T>) -> T {
    #[cfg(linux_7_3)]
    {
        param.value()
    }
    #[cfg(not(linux_7_3))]
    {
        *param.value()
    }
}
