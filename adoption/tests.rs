// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the store of kept-VF records.

use kernel::prelude::*;

#[kunit_tests(pf_stub_records)]
mod cases {
    use super::super::*;
    use crate::params::{
        parse_addr,
        PciName, //
    };

    /// Far more kept PFs than the 16 slots of the old fixed table.
    const PFS: u32 = 40;

    /// PF `i`'s address; in a VMD domain (above 0xffff) for odd `i`.
    fn key(i: u32) -> PciName {
        PciName::new(if i % 2 == 1 { 0x10000 } else { 0 }, i, 0, 0)
    }

    /// A token of its own for PF `i`.
    fn token(i: u32) -> Result<VfToken> {
        let mut text = *b"2ab74924-c335-45f4-9b16-8569e5b08200";
        let hex = b"0123456789abcdef";
        text[34] = hex[(i >> 4) as usize & 0xf];
        text[35] = hex[i as usize & 0xf];
        VfToken::parse(&text)
    }

    #[test]
    fn more_kept_pfs_than_the_old_limit() -> Result {
        let mut store: Store<PciName, VfToken> = Store::new();
        for i in 0..PFS {
            assert!(store.bind(|k| *k == key(i))?.is_none());
        }
        // Every unbind keeps its VFs: no record is refused, whatever the count.
        for i in 0..PFS {
            assert!(store.unbind(Some((key(i), token(i)?))).is_ok());
        }
        assert_eq!(store.len(), PFS as usize);
        // Other PFs come and go meanwhile; the records stay.
        for i in PFS..2 * PFS {
            assert!(store.bind(|k| *k == key(i))?.is_none());
        }
        for _ in PFS..2 * PFS {
            assert!(store.unbind(None).is_ok());
        }
        assert_eq!(store.len(), PFS as usize);
        // Each PF adopts its own record with its own token, in any order.
        for i in (0..PFS).rev() {
            let rec = store.bind(|k| *k == key(i))?;
            assert!(rec.is_some_and(|(k, t)| k == key(i) && token(i).is_ok_and(|w| t.ct_eq(&w))));
        }
        assert_eq!(store.len(), 0);
        Ok(())
    }

    #[test]
    fn unbind_never_allocates() -> Result {
        let mut store: Store<PciName, VfToken> = Store::new();
        // A record with no slot reserved at bind is refused rather than allocated for.
        assert_eq!(store.unbind(Some((key(0), token(0)?))), Err(ENOSPC));
        assert_eq!(store.len(), 0);
        store.bind(|k| *k == key(0))?;
        assert!(store.unbind(Some((key(0), token(0)?))).is_ok());
        // The records of two functions of one device in a VMD domain do not collide.
        let (f0, f1) = (parse_addr(b"10000:01:00.0")?, parse_addr(b"10000:01:00.1")?);
        store.bind(|k| *k == f0)?;
        store.bind(|k| *k == f1)?;
        assert!(store.unbind(Some((f0, token(1)?))).is_ok());
        assert!(store.unbind(Some((f1, token(2)?))).is_ok());
        assert_eq!(store.len(), 3);
        let rec = store.take(|k, _| *k == f1);
        assert!(rec.is_some_and(|(_, t)| token(2).is_ok_and(|w| t.ct_eq(&w))));
        let rec = store.take(|k, _| *k == f0);
        assert!(rec.is_some_and(|(_, t)| token(1).is_ok_and(|w| t.ct_eq(&w))));
        assert!(store.take(|k, _| *k == key(0)).is_some());
        assert_eq!(store.len(), 0);
        Ok(())
    }
}
