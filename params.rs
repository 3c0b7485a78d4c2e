// SPDX-License-Identifier: GPL-2.0

//! The module parameters: parsed and checked once at load, any bad value refusing the load with
//! one log line, so that a typo never half-applies.

use crate::{
    kext::pci_driver::DynamicId,
    sriov::{
        DriverName,
        Policy,
        VfKnobs, //
    },
};
use kernel::{
    device::DeviceContext,
    pci,
    prelude::*, //
};

#[cfg(CONFIG_KUNIT = "y")]
mod tests;

/// Most entries `ids=` and `addrs=` take; more is refused rather than silently dropped.
pub(crate) const MAX_IDS: usize = 32;

/// `PCI_ANY_ID`: the wildcard value of an ID field.
const ANY: u32 = !0;

/// The module parameters, parsed.
pub(crate) struct Config {
    /// `ids=`: the IDs added to the driver's dynamic IDs at registration.
    pub(crate) ids: List<DynamicId>,
    /// `addrs=`: when not empty, the only PFs that may bind, with their VF counts.
    pub(crate) addrs: List<AddrEntry>,
    /// `policy=`: each PF's `sriov_policy` at bind.
    pub(crate) policy: Policy,
    /// `vf_autoprobe=` and `vf_driver=`: each PF's VF knobs at bind.
    pub(crate) knobs: VfKnobs,
    /// `num_vfs=`: VFs to enable at bind on a PF without `@N`.
    pub(crate) num_vfs: u16,
}

/// The raw values of the module parameters, as the kernel stored them.
pub(crate) struct Raw<'a> {
    /// `ids=`, if given.
    pub(crate) ids: Option<&'a [u8]>,
    /// `addrs=`, if given.
    pub(crate) addrs: Option<&'a [u8]>,
    /// `policy=`, if given.
    pub(crate) policy: Option<&'a [u8]>,
    /// `vf_driver=`, if given.
    pub(crate) vf_driver: Option<&'a [u8]>,
    /// `vf_autoprobe=`.
    pub(crate) vf_autoprobe: u8,
    /// `num_vfs=`.
    pub(crate) num_vfs: u16,
}

impl Config {
    /// Logs the IDs of `ids=`, one line each, as they are added to the driver.
    pub(crate) fn log_ids(&self) {
        for id in self.ids.as_slice() {
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
    }

    /// Parses and checks all module parameters; any bad one refuses the load.
    pub(crate) fn parse(raw: &Raw<'_>) -> Result<Self> {
        let ids = string_param(
            "ids",
            raw.ids,
            parse_ids,
            "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex, at most 32 entries",
        )?
        .unwrap_or_default();
        let addrs = string_param(
            "addrs",
            raw.addrs,
            parse_addrs,
            "[domain:]bus:dev.fn[@num_vfs] entries, at most 32",
        )?
        .unwrap_or_default();
        let policy = string_param("policy", raw.policy, Policy::parse, "locked or simple")?
            .unwrap_or(Policy::Locked);
        let driver = match string_param(
            "vf_driver",
            raw.vf_driver,
            DriverName::parse,
            "a driver name of 1-31 [A-Za-z0-9_.-]",
        )? {
            Some(d) => d,
            None => DriverName::parse(b"vfio-pci")?,
        };
        let autoprobe = match raw.vf_autoprobe {
            0 => false,
            1 => true,
            _ => return Err(refuse_load("vf_autoprobe", EINVAL, "0 or 1")),
        };
        Ok(Config {
            ids,
            addrs,
            policy,
            knobs: VfKnobs { autoprobe, driver },
            num_vfs: raw.num_vfs,
        })
    }
}

/// Logs why the load is refused: parameter `name` is invalid.
fn refuse_load(name: &str, e: Error, expected: &str) -> Error {
    pr_err!(
        "refusing to load: invalid {}= ({:?}); expected {}\n",
        name,
        e,
        expected
    );
    e
}

/// Parses the string parameter `name`: `None` when not given; given empty is a mistake (an unset
/// shell variable, say) and refused like any other bad value.
fn string_param<T>(
    name: &str,
    value: Option<&[u8]>,
    parse: impl FnOnce(&[u8]) -> Result<T>,
    expected: &str,
) -> Result<Option<T>> {
    match value {
        None => Ok(None),
        Some(b"") => Err(refuse_load(name, EINVAL, expected)),
        Some(v) => parse(v)
            .map(Some)
            .map_err(|e| refuse_load(name, e, expected)),
    }
}

/// The entries of a comma-separated parameter, parsed: at most [`MAX_IDS`], kept in place so
/// that the driver hands them to the PCI core as a slice.
pub(crate) struct List<T> {
    items: [T; MAX_IDS],
    len: usize,
}

/// An entry of a [`List`].
pub(crate) trait Entry: Copy {
    /// What fills the unused places.
    const BLANK: Self;
}

impl Entry for DynamicId {
    const BLANK: Self = DynamicId {
        vendor: 0,
        device: 0,
        subvendor: 0,
        subdevice: 0,
        class: 0,
        class_mask: 0,
    };
}

impl<T: Entry> Default for List<T> {
    /// No entries.
    fn default() -> Self {
        Self {
            items: [T::BLANK; MAX_IDS],
            len: 0,
        }
    }
}

impl<T: Entry> List<T> {
    /// Parses `value` with `parse` for each entry (which also sees the entries before it):
    /// entries are trimmed, empty ones (`a,,b`, a trailing comma) skipped as pci-stub does, more
    /// than [`MAX_IDS`] refused with `E2BIG`, and any malformed entry refuses the whole list.
    fn parse(value: &[u8], mut parse: impl FnMut(&[u8], &[T]) -> Result<T>) -> Result<Self> {
        let mut list = Self::default();
        for entry in value.trim_ascii().split(|&c| c == b',') {
            let entry = entry.trim_ascii();
            if entry.is_empty() {
                continue;
            }
            if list.len == MAX_IDS {
                return Err(E2BIG);
            }
            list.items[list.len] = parse(entry, list.as_slice())?;
            list.len += 1;
        }
        Ok(list)
    }

    /// The entries.
    pub(crate) fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }
}

/// `text` as a `str` for `from_str_radix`, when it is 1 to `max_len` digits of `radix` and
/// nothing else: `from_str_radix` itself also takes a sign, which no parameter or knob does.
fn digits(text: &[u8], radix: u32, max_len: usize) -> Result<&str> {
    let all = |c: &u8| char::from(*c).is_digit(radix);
    if text.is_empty() || text.len() > max_len || !text.iter().all(all) {
        return Err(EINVAL);
    }
    Ok(core::str::from_utf8(text)?)
}

/// Parses one hexadecimal field of at most `max`, or `ffffffff` ([`ANY`]); an optional `0x`
/// prefix is accepted.
fn parse_hex(field: &[u8], max: u32) -> Result<u32> {
    let field = field
        .strip_prefix(b"0x")
        .or_else(|| field.strip_prefix(b"0X"))
        .unwrap_or(field);
    let v = u32::from_str_radix(digits(field, 16, 8)?, 16).map_err(|_| EINVAL)?;
    if v > max && v != ANY {
        return Err(EINVAL);
    }
    Ok(v)
}

/// Parses one `vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]` entry, pci-stub's
/// format: IDs are 16-bit hex or `ffffffff` for any, class and mask 24-bit hex.
fn parse_id(entry: &[u8]) -> Result<DynamicId> {
    let mut fields = [0, 0, ANY, ANY, 0, 0];
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

/// Parses the whole `ids=` value.
fn parse_ids(value: &[u8]) -> Result<List<DynamicId>> {
    List::parse(value, |entry, _| parse_id(entry))
}

/// A PCI address (`domain:bus:device.function`), as `addrs=` lists it and as the PCI core names
/// devices (`%04x:%02x:%02x.%d`); the domain takes all 32 bits (VMD domains start at 0x10000).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PciName {
    /// The PCI domain (segment).
    domain: u32,
    /// The bus number, 0 to 0xff.
    bus: u32,
    /// The device number, 0 to 0x1f.
    dev: u32,
    /// The function number, 0 to 7.
    func: u32,
}

impl PciName {
    /// The address `domain:bus:dev.func`, for the KUnit cases (the driver reads addresses
    /// from text only).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) const fn new(domain: u32, bus: u32, dev: u32, func: u32) -> Self {
        Self {
            domain,
            bus,
            dev,
            func,
        }
    }

    /// The address of `pdev`, read back from its name with the parser of `addrs=`.
    pub(crate) fn of<Ctx: DeviceContext>(pdev: &pci::Device<Ctx>) -> Option<Self> {
        parse_addr(pdev.as_ref().name().to_bytes()).ok()
    }
}

/// Parses `[domain:]bus:dev.fn` (hex; the domain defaults to 0) into the canonical device name.
pub(crate) fn parse_addr(text: &[u8]) -> Result<PciName> {
    let mut parts = [&b""[..]; 3];
    let mut n = 0;
    for p in text.split(|&c| c == b':') {
        if n == parts.len() {
            return Err(EINVAL);
        }
        parts[n] = p;
        n += 1;
    }
    let (domain, bus, devfn) = match n {
        2 => (0, parts[0], parts[1]),
        3 => (parse_hex(parts[0], 0xffff_fffe)?, parts[1], parts[2]),
        _ => return Err(EINVAL),
    };
    let mut df = devfn.split(|&c| c == b'.');
    let (dev, func) = match (df.next(), df.next(), df.next()) {
        (Some(d), Some(f), None) => (d, f),
        _ => return Err(EINVAL),
    };
    if bus.len() > 2 || dev.len() > 2 || func.len() != 1 || domain == ANY {
        return Err(EINVAL);
    }
    let bus = parse_hex(bus, 0xff)?;
    let dev = parse_hex(dev, 0x1f)?;
    let func = parse_hex(func, 7)?;
    if bus == ANY || dev == ANY || func == ANY {
        return Err(EINVAL);
    }
    Ok(PciName {
        domain,
        bus,
        dev,
        func,
    })
}

/// A PCI address of `addrs=`, with its optional VF count.
#[derive(Clone, Copy)]
pub(crate) struct AddrEntry {
    /// The PF's address.
    pub(crate) name: PciName,
    /// `@N`: VFs to enable at bind.
    pub(crate) num_vfs: Option<u16>,
}

impl Entry for AddrEntry {
    const BLANK: Self = AddrEntry {
        name: PciName {
            domain: 0,
            bus: 0,
            dev: 0,
            func: 0,
        },
        num_vfs: None,
    };
}

impl List<AddrEntry> {
    /// The entry of `name`, if listed.
    pub(crate) fn find(&self, name: &PciName) -> Option<&AddrEntry> {
        self.as_slice().iter().find(|e| e.name == *name)
    }
}

/// Parses one `[domain:]bus:dev.fn[@num_vfs]` entry of `addrs=`; an address listed `before`
/// is refused: its two VF counts would contradict each other.
fn parse_addr_entry(entry: &[u8], before: &[AddrEntry]) -> Result<AddrEntry> {
    let mut at = entry.split(|&c| c == b'@');
    let addr = at.next().ok_or(EINVAL)?;
    let num_vfs = match (at.next(), at.next()) {
        (None, _) => None,
        // A decimal VF count of at most 65535 (no sign, no spaces).
        (Some(n), None) => Some(digits(n, 10, 5)?.parse::<u16>().map_err(|_| EINVAL)?),
        _ => return Err(EINVAL),
    };
    let name = parse_addr(addr)?;
    if before.iter().any(|e| e.name == name) {
        return Err(EINVAL);
    }
    Ok(AddrEntry { name, num_vfs })
}

/// Parses the whole `addrs=` value.
fn parse_addrs(value: &[u8]) -> Result<List<AddrEntry>> {
    List::parse(value, parse_addr_entry)
}
