// SPDX-License-Identifier: GPL-2.0

//! The values pf_stub's knobs and parameters take: the policy, `sriov_lock` and
//! `sriov_vf_token` commands, and the VF driver name, each parsed completely before anything
//! changes, so that bad input changes nothing.

use crate::vf_token::VfToken;
use kernel::prelude::*;

/// How a PF's VF count may change (`sriov_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Once VFs are enabled the count is locked until `sriov_lock` is unlocked.
    Locked,
    /// Exactly `pci_sriov_configure_simple()`.
    Simple,
}

impl Policy {
    /// Parses `locked` or `simple` (one trailing newline allowed, as `echo` writes).
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        match strip_newline(input) {
            b"locked" => Ok(Policy::Locked),
            b"simple" => Ok(Policy::Simple),
            _ => Err(EINVAL),
        }
    }

    /// The name shown in `sriov_policy`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Policy::Locked => "locked",
            Policy::Simple => "simple",
        }
    }
}

/// Removes one trailing `\n`: what `echo` appends. Other whitespace is input, and refused.
pub(crate) fn strip_newline(input: &[u8]) -> &[u8] {
    input.strip_suffix(b"\n").unwrap_or(input)
}

/// A write to `sriov_lock`.
pub(crate) enum LockCmd {
    /// `lock`.
    Lock,
    /// `unlock`, or `unlock <token>`.
    Unlock(Option<VfToken>),
}

impl LockCmd {
    /// Parses `lock`, `unlock` or `unlock <uuid>`.
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let input = strip_newline(input);
        match input {
            b"lock" => Ok(LockCmd::Lock),
            b"unlock" => Ok(LockCmd::Unlock(None)),
            _ => match input.strip_prefix(b"unlock ") {
                Some(token) => Ok(LockCmd::Unlock(Some(VfToken::parse(token)?))),
                None => Err(EINVAL),
            },
        }
    }
}

/// A write to `sriov_vf_token`.
pub(crate) enum TokenCmd {
    /// `<uuid>`: set (when unset or unlocked) or replace (when unlocked).
    Set(VfToken),
    /// `clear`: remove the token (when unlocked).
    Clear,
    /// `<current> <uuid>` or `<current> clear`: change it whatever the lock, proving the current.
    WithCurrent(VfToken, Option<VfToken>),
}

impl TokenCmd {
    /// Parses the forms above; surrounding whitespace is ignored, as the ABI says (a token is
    /// often pasted with spaces around it).
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let input = input.trim_ascii();
        if input == b"clear" {
            return Ok(TokenCmd::Clear);
        }
        match input.iter().position(|&c| c == b' ') {
            None => Ok(TokenCmd::Set(VfToken::parse(input)?)),
            Some(i) => {
                let current = VfToken::parse(&input[..i])?;
                let new = &input[i + 1..];
                let new = if new == b"clear" {
                    None
                } else {
                    Some(VfToken::parse(new)?)
                };
                Ok(TokenCmd::WithCurrent(current, new))
            }
        }
    }
}

/// A driver name for `driver_override`: 1 to 31 bytes of `[A-Za-z0-9_.-]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DriverName {
    buf: [u8; 31],
    len: usize,
}

impl DriverName {
    /// Parses a driver name; one trailing newline (from `echo`) is ignored.
    pub(crate) fn parse(input: &[u8]) -> Result<Self> {
        let input = strip_newline(input);
        let mut buf = [0u8; 31];
        let valid = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
        if input.is_empty() || input.len() > buf.len() || !input.iter().all(valid) {
            return Err(EINVAL);
        }
        buf[..input.len()].copy_from_slice(input);
        Ok(Self {
            buf,
            len: input.len(),
        })
    }

    /// The name's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The name as text (it is ASCII by construction).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// The VF knobs of a PF: what happens to VFs as they are created.
#[derive(Clone, Copy)]
pub(crate) struct VfKnobs {
    /// Let VFs probe drivers normally; otherwise pin them to `driver` with `driver_override`.
    pub(crate) autoprobe: bool,
    /// The driver VFs are pinned to when `autoprobe` is off.
    pub(crate) driver: DriverName,
}

#[kunit_tests(pf_stub_knobs)]
mod tests {
    use super::*;

    const T1: &[u8] = b"2ab74924-c335-45f4-9b16-8569e5b08258";

    #[test]
    fn knob_parsing() {
        assert_eq!(Policy::parse(b"locked\n"), Ok(Policy::Locked));
        assert_eq!(Policy::parse(b"simple"), Ok(Policy::Simple));
        for bad in [
            &b""[..],
            b"\n",
            b"Locked",
            b"simple\n\n",
            b" simple",
            b"lockedx",
        ] {
            assert_eq!(Policy::parse(bad), Err(EINVAL));
        }
        assert!(matches!(LockCmd::parse(b"lock\n"), Ok(LockCmd::Lock)));
        assert!(matches!(
            LockCmd::parse(b"unlock"),
            Ok(LockCmd::Unlock(None))
        ));
        assert!(matches!(
            LockCmd::parse(b"unlock 2ab74924-c335-45f4-9b16-8569e5b08258\n"),
            Ok(LockCmd::Unlock(Some(_)))
        ));
        for bad in [&b""[..], b"unlock ", b"unlock x", b"LOCK", b"lock unlock"] {
            assert!(LockCmd::parse(bad).is_err());
        }
        assert!(matches!(TokenCmd::parse(T1), Ok(TokenCmd::Set(_))));
        assert!(matches!(TokenCmd::parse(b"clear\n"), Ok(TokenCmd::Clear)));
        assert!(matches!(
            TokenCmd::parse(b"2ab74924-c335-45f4-9b16-8569e5b08258 clear"),
            Ok(TokenCmd::WithCurrent(_, None))
        ));
        for bad in [
            &b""[..],
            b"x",
            b"clear clear",
            b"2ab74924-c335-45f4-9b16-8569e5b08258  clear",
        ] {
            assert!(TokenCmd::parse(bad).is_err());
        }
    }

    #[test]
    fn token_writes_ignore_surrounding_whitespace() {
        let t = "6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5";
        for text in [
            " 6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5\n",
            "6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5 \n",
            "\t6f0c1e2d-3b4a-4c5d-8e9f-a0b1c2d3e4f5\t",
        ] {
            assert!(matches!(
                TokenCmd::parse(text.as_bytes()),
                Ok(TokenCmd::Set(_))
            ));
        }
        assert!(matches!(TokenCmd::parse(b" clear \n"), Ok(TokenCmd::Clear)));
        let both = format_pair(t);
        assert!(matches!(
            TokenCmd::parse(&both),
            Ok(TokenCmd::WithCurrent(_, Some(_)))
        ));
    }

    /// `"  <t> <t> \n"`: a current and a new token with whitespace around the pair.
    fn format_pair(t: &str) -> [u8; 77] {
        let mut b = [b' '; 77];
        b[1..37].copy_from_slice(t.as_bytes());
        b[38..74].copy_from_slice(t.as_bytes());
        b[76] = b'\n';
        b
    }

    #[test]
    fn driver_names() {
        assert!(DriverName::parse(b"vfio-pci\n").is_ok_and(|d| d.as_bytes() == b"vfio-pci"));
        assert!(DriverName::parse(b"igbvf").is_ok());
        for bad in [
            &b""[..],
            b"\n",
            b"a b",
            b"a/b",
            b"vfio-pci\n\n",
            b"0123456789012345678901234567890123",
        ] {
            assert!(DriverName::parse(bad).is_err());
        }
    }
}
