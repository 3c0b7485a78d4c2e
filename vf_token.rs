// SPDX-License-Identifier: GPL-2.0

//! The VF token: a UUID shared secret between the PF's administrator and the users of its VFs.
//!
//! Same form as vfio-pci's `vf_token`: RFC 4122 text (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`),
//! hex digits of any case, surrounding whitespace ignored. The type has no `Debug` or `Display`
//! so that the value cannot reach the kernel log by accident, and it compares in constant time.

use kernel::prelude::*;

/// Length of the RFC 4122 text form.
const TEXT_LEN: usize = 36;

/// Offsets of the hyphens in the text form.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// A parsed VF token.
///
/// # Invariants
///
/// The 16 bytes are not all zero: the nil UUID is what an unset token looks like and is refused.
pub(crate) struct VfToken([u8; 16]);

impl Drop for VfToken {
    fn drop(&mut self) {
        // Wipe the secret from freed memory; `black_box` keeps the stores from being dropped as
        // dead, as the kernel's `memzero_explicit()` does with a barrier.
        self.0 = [0; 16];
        core::hint::black_box(&self.0);
    }
}

impl VfToken {
    /// Parses the text form, ignoring ASCII whitespace (such as `echo`'s newline) around it.
    ///
    /// Returns `EINVAL` for anything else: wrong length, misplaced or missing hyphens, non-hex
    /// digits, or the nil UUID.
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let text = input.trim_ascii();
        if text.len() != TEXT_LEN {
            return Err(EINVAL);
        }
        // The 32 hex digits without the hyphens, each a nibble, most significant first.
        let mut bytes = [0u8; 16];
        let mut n = 0;
        for (i, &c) in text.iter().enumerate() {
            if HYPHENS.contains(&i) {
                if c != b'-' {
                    return Err(EINVAL);
                }
                continue;
            }
            let nibble = char::from(c).to_digit(16).ok_or(EINVAL)?;
            let byte = bytes.get_mut(n / 2).ok_or(EINVAL)?;
            *byte = (*byte << 4) | u8::try_from(nibble)?;
            n += 1;
        }
        if bytes.iter().all(|&b| b == 0) {
            return Err(EINVAL);
        }
        Ok(Self(bytes))
    }

    /// Compares two tokens in time independent of where they differ.
    pub(crate) fn ct_eq(&self, other: &VfToken) -> bool {
        let mut diff = 0u8;
        for (a, b) in self.0.iter().zip(other.0.iter()) {
            diff |= a ^ b;
        }
        // Keep the compiler from turning the fold back into an early-exit comparison.
        core::hint::black_box(diff) == 0
    }
}

#[kunit_tests(pf_stub_vf_token)]
mod tests {
    use super::*;

    const T1: &[u8] = b"2ab74924-c335-45f4-9b16-8569e5b08258";

    #[test]
    fn parses_canonical_form() {
        let t = VfToken::parse(T1);
        assert!(t.is_ok());
        if let Ok(t) = t {
            assert_eq!(t.0[0], 0x2a);
            assert_eq!(t.0[15], 0x58);
        }
    }

    #[test]
    fn case_and_whitespace_do_not_matter() {
        let a = VfToken::parse(T1);
        let b = VfToken::parse(b"  2AB74924-C335-45F4-9B16-8569E5B08258\n");
        assert!(matches!((a, b), (Ok(a), Ok(b)) if a.ct_eq(&b)));
    }

    #[test]
    fn refuses_malformed_text() {
        for bad in [
            &b""[..],
            b"\n",
            b"2ab74924-c335-45f4-9b16-8569e5b0825",
            b"2ab74924-c335-45f4-9b16-8569e5b082588",
            b"2ab74924c335-45f4-9b16-8569e5b082588",
            b"2ab74924-c335-45f4-9b16_8569e5b08258",
            b"2ab74924-c335-45f4-9b16-8569e5b0825g",
            b"{2ab74924-c335-45f4-9b16-8569e5b0825}",
            b"2ab74924-c335-45f4-9b16-8569e5b08258 x",
            b"00000000-0000-0000-0000-000000000000",
        ] {
            assert!(VfToken::parse(bad).is_err());
        }
    }

    #[test]
    fn compares_all_bytes() {
        let a = VfToken::parse(T1);
        let first = VfToken::parse(b"3ab74924-c335-45f4-9b16-8569e5b08258");
        let last = VfToken::parse(b"2ab74924-c335-45f4-9b16-8569e5b08259");
        assert!(matches!((&a, &first), (Ok(a), Ok(b)) if !a.ct_eq(b)));
        assert!(matches!((&a, &last), (Ok(a), Ok(b)) if !a.ct_eq(b)));
        assert!(matches!(&a, Ok(a) if a.ct_eq(a)));
    }
}
