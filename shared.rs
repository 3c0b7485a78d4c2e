// SPDX-License-Identifier: GPL-2.0

//! Driver-wide state: the parsed parameters, the records of kept VFs and whether `rmmod` has
//! begun.
//!
//! [`Shared`] is the registration's shared data, alive while the driver is registered; the
//! unloading flag is a static because the module sets it before the driver is unregistered.

use crate::{
    adoption::Keeper,
    kext::notifier::BusNotifier,
    params::Config, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        Release, //
    },
};

/// Set when `rmmod` has begun (the module's references were found zero), before the driver is
/// unregistered: its unbinds then cannot keep VFs for an adoption that can never come.
static UNLOADING: Atomic<bool> = Atomic::new(false);

/// Marks the module as being unloaded: see [`unloading`].
pub(crate) fn set_unloading() {
    UNLOADING.store(true, Release);
}

/// Whether `rmmod` has begun: an unbind then disables the VFs it would otherwise keep.
pub(crate) fn unloading() -> bool {
    UNLOADING.load(Acquire)
}

/// Driver-wide data: the parsed parameters and the records of kept VFs.
#[pin_data(PinnedDrop)]
pub(crate) struct Shared {
    /// The module parameters.
    pub(crate) config: Config,
    /// Records of kept VFs, and the watcher that removes them with their PF.
    #[pin]
    keeper: BusNotifier<Keeper>,
}

impl Shared {
    /// The driver-wide data of a driver loaded with `config`, with no kept VFs.
    pub(crate) fn new(config: Config) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            config,
            keeper <- BusNotifier::new(Keeper::new()),
        })
    }

    /// The keeper of records.
    pub(crate) fn keeper(&self) -> &Keeper {
        self.keeper.handler().get_ref()
    }
}

#[pinned_drop]
impl PinnedDrop for Shared {
    fn drop(self: Pin<&mut Self>) {
        // Runs after the driver is unregistered (the registration drops its shared data then)
        // and before the keeper stops listening to the bus (the fields are dropped after this).
        self.keeper().settle_removals();
    }
}
