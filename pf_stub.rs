// SPDX-License-Identifier: GPL-2.0

//! pf_stub: a PCI driver for SR-IOV Physical Functions that have no driver of their own.
//!
//! It binds to the PFs an administrator names (the built-in ID table, the `ids=` parameter,
//! `new_id` or `driver_override`), touches nothing on the device, and implements
//! `sriov_configure` so that writing `sriov_numvfs` creates and removes Virtual Functions. It is
//! the Rust counterpart of `drivers/pci/pci-pf-stub.c`, with the SR-IOV policy of [`sriov`].

use kernel::{device::Core, pci, prelude::*};

#[path = "rust/mod.rs"]
pub mod kext;
mod sriov;
#[allow(dead_code)] // The token is enforced by the sysfs interface; its parser is tested now.
mod vf_token;

use kext::pci_sriov::{self, DynamicId, SriovCore, SriovDevice};
use sriov::{Action, Request, UnbindAction};

/// The driver name, as used with `driver_override` and in `/sys/bus/pci/drivers/`.
const NAME: &CStr = c"pf_stub";

/// Most entries `ids=` takes; more is refused rather than silently dropped.
const MAX_IDS: usize = 32;

crate::module_param_string!(
    ids,
    1024,
    "Comma-separated vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] hex IDs to bind, as pci-stub's ids="
);

kernel::pci_device_table!(
    PCI_TABLE,
    MODULE_PCI_TABLE,
    <PfStub as pci_sriov::Driver>::IdInfo,
    [
        // Amazon's PF whose only function is SR-IOV, as in pci-pf-stub.c.
        (pci::DeviceId::from_id(pci::Vendor::AMAZON, 0x0053), ()),
    ]
);

/// The driver's per-PF data.
struct PfStub;

impl pci_sriov::Driver for PfStub {
    type IdInfo = ();

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe(
        pdev: &pci::Device<Core<'_>>,
        _info: Option<&'static ()>,
    ) -> impl PinInit<Self, Error> {
        if pdev.is_virtfn() {
            dev_warn!(pdev, "refusing to bind: device is an SR-IOV VF, not a PF\n");
            return Err(ENODEV);
        }
        if !pdev.is_physfn() || pdev.sriov_get_totalvfs() == 0 {
            dev_warn!(pdev, "refusing to bind: device has no SR-IOV capability\n");
            return Err(ENODEV);
        }
        dev_info!(
            pdev,
            "bound PF {:04x}:{:04x}, {} VFs supported, {} enabled\n",
            pdev.vendor_id().as_raw(),
            pdev.device_id(),
            pdev.sriov_get_totalvfs(),
            pdev.num_vf()
        );
        Ok(PfStub)
    }

    fn unbind(pdev: &pci::Device<Core<'_>>, _this: Pin<&Self>) {
        let current = pdev.num_vf();
        let assigned = pdev.vfs_assigned();
        match sriov::on_unbind(current, assigned) {
            UnbindAction::Nothing => {}
            UnbindAction::Disable => {
                pdev.disable_sriov();
                dev_info!(pdev, "unbind: disabled {} VFs\n", current);
            }
            UnbindAction::Keep => dev_warn!(
                pdev,
                "unbind: leaving {} VFs enabled: {} assigned to a guest\n",
                current,
                assigned
            ),
        }
    }

    fn sriov_configure(
        pdev: &pci::Device<Core<'_>>,
        _this: Pin<&Self>,
        nr_virtfn: u16,
    ) -> Result<u16> {
        let req = Request {
            current: pdev.num_vf(),
            total: pdev.sriov_get_totalvfs(),
            assigned: pdev.vfs_assigned(),
            requested: nr_virtfn,
        };
        match sriov::decide(&req) {
            Ok(Action::Unchanged) => Ok(req.current),
            Ok(Action::Disable) => {
                pdev.disable_sriov();
                dev_info!(pdev, "disabled {} VFs\n", req.current);
                Ok(0)
            }
            Ok(Action::Enable(n)) => match pdev.enable_sriov(n) {
                Ok(()) => {
                    dev_info!(pdev, "enabled {} VFs\n", n);
                    Ok(n)
                }
                Err(e) => {
                    dev_err!(pdev, "enabling {} VFs failed: error {}\n", n, e.to_errno());
                    Err(e)
                }
            },
            Err(refusal) => {
                dev_warn!(pdev, "sriov_numvfs={} refused: {}\n", nr_virtfn, refusal);
                Err(refusal.to_error())
            }
        }
    }
}

/// The `ids=` entries, parsed.
struct IdList {
    ids: [DynamicId; MAX_IDS],
    len: usize,
}

impl IdList {
    fn as_slice(&self) -> &[DynamicId] {
        &self.ids[..self.len]
    }
}

/// `PCI_ANY_ID`: the wildcard value of an ID field.
const ANY: u32 = !0;

/// Parses one hexadecimal field of at most `max` (an optional `0x` prefix is accepted).
fn parse_hex(field: &[u8], max: u32) -> Result<u32> {
    let digits = field
        .strip_prefix(b"0x")
        .or_else(|| field.strip_prefix(b"0X"))
        .unwrap_or(field);
    if digits.is_empty() || digits.len() > 8 {
        return Err(EINVAL);
    }
    let mut v: u32 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(EINVAL),
        };
        v = (v << 4) | u32::from(d);
    }
    if v > max && v != ANY {
        return Err(EINVAL);
    }
    Ok(v)
}

/// Parses one `vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]` entry, pci-stub's
/// format: IDs are 16-bit hex or `ffffffff` for any, class and mask 24-bit hex.
fn parse_id(entry: &[u8]) -> Result<DynamicId> {
    let mut fields = [0u32; 6];
    let defaults = [0, 0, ANY, ANY, 0, 0];
    let mut n = 0;
    for field in entry.split(|&c| c == b':') {
        if n == fields.len() {
            return Err(EINVAL);
        }
        let max = if n < 4 { 0xffff } else { 0xff_ffff };
        fields[n] = parse_hex(field, max)?;
        n += 1;
    }
    if n < 2 {
        return Err(EINVAL);
    }
    for (f, d) in fields.iter_mut().zip(defaults).skip(n) {
        *f = d;
    }
    let [vendor, device, subvendor, subdevice, class, class_mask] = fields;
    if class_mask == ANY || class == ANY || class & !class_mask != 0 {
        // A class bit outside the mask can never match: almost certainly a typo.
        return Err(EINVAL);
    }
    Ok(DynamicId {
        vendor,
        device,
        subvendor,
        subdevice,
        class,
        class_mask,
    })
}

/// Parses the whole `ids=` value. Empty entries (`a,,b`, a trailing comma) are skipped as
/// pci-stub does; any malformed entry refuses the whole list, so a typo never half-applies.
fn parse_ids(value: &[u8]) -> Result<IdList> {
    let mut list = IdList {
        ids: [DynamicId {
            vendor: 0,
            device: 0,
            subvendor: 0,
            subdevice: 0,
            class: 0,
            class_mask: 0,
        }; MAX_IDS],
        len: 0,
    };
    let value = value.trim_ascii();
    if value.is_empty() {
        return Ok(list);
    }
    for entry in value.split(|&c| c == b',') {
        let entry = entry.trim_ascii();
        if entry.is_empty() {
            continue;
        }
        if list.len == MAX_IDS {
            return Err(E2BIG);
        }
        list.ids[list.len] = parse_id(entry)?;
        list.len += 1;
    }
    Ok(list)
}

/// The module: the registered driver.
#[pin_data]
struct PfStubModule {
    #[pin]
    driver: pci_sriov::Registration<PfStub>,
}

impl kernel::InPlaceModule for PfStubModule {
    fn init(module: &'static kernel::ThisModule) -> impl PinInit<Self, Error> {
        let parsed = parse_ids(ids.value());
        try_pin_init!(Self {
            driver <- {
                let list = parsed.inspect_err(|e| {
                    pr_err!(
                        "refusing to load: invalid ids= (error {}); expected vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex, at most {} entries\n",
                        e.to_errno(),
                        MAX_IDS
                    )
                })?;
                for id in list.as_slice() {
                    pr_info!(
                        "add {:04X}:{:04X} sub={:04X}:{:04X} cls={:08X}/{:08X}\n",
                        id.vendor,
                        id.device,
                        id.subvendor,
                        id.subdevice,
                        id.class,
                        id.class_mask
                    );
                }
                KBox::new(list, GFP_KERNEL).map(|list| {
                    pci_sriov::Registration::new(NAME, module, KBox::leak(list).as_slice())
                })?
            }
        })
    }
}

module! {
    type: PfStubModule,
    name: "pf_stub",
    authors: ["The pf_stub developers"],
    description: "SR-IOV PF stub driver with a VF policy (Rust)",
    license: "GPL",
}

#[kunit_tests(pf_stub_ids)]
mod tests {
    use super::*;

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
}
