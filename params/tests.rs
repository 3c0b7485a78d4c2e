// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the module parameters' parsers.

use kernel::prelude::*;

#[kunit_tests(pf_stub_ids)]
mod cases {
    use super::super::*;

    #[test]
    fn vendor_device_only() {
        let id = parse_id(b"8086:10c9");
        assert_eq!(
            id,
            Ok(DynamicId {
                vendor: 0x8086,
                device: 0x10c9,
                subvendor: ANY,
                subdevice: ANY,
                class: 0,
                class_mask: 0
            })
        );
    }

    #[test]
    fn all_six_fields() {
        let id = parse_id(b"1b36:0010:ffffffff:ffffffff:010802:ffffff");
        assert_eq!(
            id,
            Ok(DynamicId {
                vendor: 0x1b36,
                device: 0x10,
                subvendor: ANY,
                subdevice: ANY,
                class: 0x010802,
                class_mask: 0xffffff
            })
        );
        assert!(parse_id(b"0x8086:0X10C9").is_ok());
    }

    #[test]
    fn refuses_malformed_entries() {
        for bad in [
            &b"8086"[..],
            b"8086:",
            b":10c9",
            b"8086:10c9:",
            b"8086:10c9x",
            b"8086:10c9:1:2:3:4:5",
            b"18086:10c9",
            b"8086:10c9:0:0:1000000:ffffff",
            b"8086:10c9:0:0:010802:ff0000",
            b"8086:123456789",
            b"8086 10c9",
            b"-1:10c9",
        ] {
            assert_eq!(parse_id(bad), Err(EINVAL));
        }
    }

    #[test]
    fn lists() {
        assert_eq!(parse_ids(b"").map(|l| l.len), Ok(0));
        assert_eq!(parse_ids(b"\n").map(|l| l.len), Ok(0));
        assert_eq!(parse_ids(b"8086:10c9,1b36:0010,").map(|l| l.len), Ok(2));
        assert_eq!(parse_ids(b"8086:10c9,,1b36:0010").map(|l| l.len), Ok(2));
        // One bad entry refuses the list.
        assert!(parse_ids(b"8086:10c9,zz:1").is_err());
    }

    #[test]
    fn bounded_length() {
        let mut buf = [0u8; 10 * (MAX_IDS + 1)];
        for (i, c) in buf.iter_mut().enumerate() {
            *c = b"8086:10c9,"[i % 10];
        }
        assert_eq!(parse_ids(&buf).map(|l| l.len), Err(E2BIG));
        assert_eq!(parse_ids(&buf[..10 * MAX_IDS]).map(|l| l.len), Ok(MAX_IDS));
    }

    #[test]
    fn addresses() -> Result {
        let name = |domain, bus, dev, func| PciName {
            domain,
            bus,
            dev,
            func,
        };
        assert_eq!(parse_addr(b"0000:01:00.0")?, name(0, 1, 0, 0));
        // The domain defaults to 0; hex digits of any case.
        assert_eq!(parse_addr(b"1A:1f.7")?, name(0, 0x1a, 0x1f, 7));
        assert_eq!(parse_addr(b"ABCD:00:00.0")?, name(0xabcd, 0, 0, 0));
        // Domains above 0xffff (VMD): every function keeps an address of its own.
        assert_eq!(parse_addr(b"10000:01:00.0")?, name(0x10000, 1, 0, 0));
        assert_ne!(parse_addr(b"10000:01:00.0")?, parse_addr(b"10000:01:00.1")?);
        for bad in [
            &b""[..],
            b"01:00",
            b"01:00.8",
            b"01:20.0",
            b"100:00.0",
            b"1:2:3:4.0",
            b"100000000:00:00.0",
            b"01:00.0.0",
            b"01:00.",
            b"0x01:00.0",
            b"01:00.0 ",
        ] {
            assert!(parse_addr(bad).is_err());
        }
        Ok(())
    }

    #[test]
    fn address_lists() -> Result {
        let l = parse_addrs(b"0000:01:00.0@2, 02:00.0@64,03:00.1")?;
        assert_eq!(l.len, 3);
        let first = parse_addr(b"01:00.0")?;
        assert_eq!(l.find(&first).and_then(|e| e.num_vfs), Some(2));
        let third = parse_addr(b"03:00.1")?;
        assert!(l.find(&third).is_some_and(|e| e.num_vfs.is_none()));
        assert_eq!(parse_addrs(b"").map(|l| l.len), Ok(0));
        for bad in [
            &b"01:00.0@"[..],
            b"01:00.0@x",
            b"01:00.0@-1",
            b"01:00.0@65536",
            b"01:00.0@1@2",
            b"01:00.0,01:00.0",
            b"01:00.0,zz",
        ] {
            assert!(parse_addrs(bad).is_err());
        }
        Ok(())
    }
}
