// SPDX-License-Identifier: GPL-2.0

//! The store of kept-VF records: no fixed limit, no allocation at unbind, and no copy of a
//! record (with its VF token) left in freed or spare memory.

use kernel::prelude::*;

/// A store of records `V` keyed by `K`, with no fixed limit: every bound PF has a slot reserved
/// at bind, so an unbind can always store its record without allocating (and so without
/// failing). Free of kernel objects so that KUnit tests it with any key.
pub(crate) struct Store<K, V> {
    list: KVec<(K, V)>,
    /// PFs bound, each with a slot reserved in `list`.
    bound: usize,
}

impl<K, V> Store<K, V> {
    /// An empty store.
    pub(crate) const fn new() -> Self {
        Self {
            list: KVec::new(),
            bound: 0,
        }
    }

    /// At bind: reserves the slot the unbind may fill (`ENOMEM` when it cannot), then takes
    /// the record whose key `is_key` accepts, if any.
    pub(crate) fn bind(&mut self, is_key: impl Fn(&K) -> bool) -> Result<Option<(K, V)>> {
        let bound = self.bound + 1;
        // Room for every record stored and one more for each bound PF.
        let want = self.list.len() + bound;
        if self.list.capacity() < want {
            self.grow(want)?;
        }
        self.bound = bound;
        Ok(self.take(|k, _| is_key(k)))
    }

    /// Moves the records into a new buffer with room for `want`, then wipes the old one before
    /// it is freed: records carry VF tokens, and a reallocation would leave copies behind.
    fn grow(&mut self, want: usize) -> Result {
        let mut list = KVec::with_capacity(want.max(self.list.capacity() * 2), GFP_KERNEL)?;
        while let Some(rec) = self.list.pop() {
            list.push_within_capacity(rec).map_err(|_| ENOMEM)?;
        }
        wipe(self.list.spare_capacity_mut());
        self.list = list;
        Ok(())
    }

    /// At unbind: gives the slot back, storing `rec` in it if given. Never allocates; fails
    /// (`ENOSPC`, `rec` dropped) only for an unbind without a bind.
    pub(crate) fn unbind(&mut self, rec: Option<(K, V)>) -> Result {
        self.bound = self.bound.saturating_sub(1);
        match rec {
            Some(rec) => self.list.push_within_capacity(rec).map_err(|_| ENOSPC),
            None => Ok(()),
        }
    }

    /// Takes out the first record that `pred` accepts.
    pub(crate) fn take(&mut self, mut pred: impl FnMut(&K, &V) -> bool) -> Option<(K, V)> {
        let i = self.list.iter().position(|(k, v)| pred(k, v))?;
        let rec = self.list.remove(i).ok();
        // The records behind `i` moved down one place: the slot they left holds a copy of the
        // last one, token included.
        wipe(
            self.list
                .spare_capacity_mut()
                .get_mut(..1)
                .unwrap_or_default(),
        );
        rec
    }

    /// Whether any record satisfies `pred`.
    pub(crate) fn any(&self, mut pred: impl FnMut(&K, &V) -> bool) -> bool {
        self.list.iter().any(|(k, v)| pred(k, v))
    }

    /// How many records are stored (for the KUnit cases: the driver never needs the count).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

/// Zeroes unused slots of a record buffer, so that no copy of a record (and of its VF token)
/// outlives it in memory.
fn wipe<T>(slots: &mut [core::mem::MaybeUninit<T>]) {
    for slot in slots.iter_mut() {
        *slot = core::mem::MaybeUninit::zeroed();
    }
    core::hint::black_box(slots);
}
