//! Pins: SHA-256 over a DER SubjectPublicKeyInfo, as OpenSSL, OkHttp, Android and Apple
//! compute them, and the wrappers each platform writes them in.
//!
//! Whole-certificate fingerprints are a different value with a different type
//! ([`CertSha256`]), so the two can never be mixed up.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// An SPKI pin: SHA-256 of the DER-encoded SubjectPublicKeyInfo of a key.
///
/// `Display` writes the standard base64 form with `=` padding (44 characters), the form
/// TrustKit, Apple ATS and Android take.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin([u8; 32]);

impl Pin {
    /// The pin of a DER-encoded SubjectPublicKeyInfo (the whole SEQUENCE).
    pub fn of_spki(spki_der: &[u8]) -> Pin {
        Pin(Sha256::digest(spki_der).into())
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Standard base64 with padding.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The pin written in one platform's wrapper.
    pub fn format(&self, format: PinFormat) -> String {
        let b64 = self.to_base64();
        match format {
            PinFormat::B64 => b64,
            PinFormat::OkHttp => format!("sha256/{b64}"),
            PinFormat::Curl => format!("sha256//{b64}"),
            PinFormat::Hpkp => format!("pin-sha256=\"{b64}\""),
            PinFormat::Hex => hex(&self.0),
        }
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({})", self.to_base64())
    }
}

/// What follows `sha256/`: `sha256//` is curl's prefix, but `sha256/` before a pin whose
/// base64 starts with `/` (one pin in 64) looks the same; a pin is 44 characters, so the
/// length decides.
fn after_curl_slash(rest: &str) -> &str {
    match rest.strip_prefix('/') {
        Some(pin) if rest.len() != 44 => pin,
        _ => rest,
    }
}

impl FromStr for Pin {
    type Err = Error;

    /// Accepts every wrapper [`Pin::format`] writes: bare base64, `sha256/…`, `sha256//…`,
    /// `pin-sha256="…"` and 64 hex digits.
    fn from_str(s: &str) -> Result<Pin> {
        let t = s.trim();
        let inner = t
            .strip_prefix("pin-sha256=")
            .map(|r| r.trim_matches('"'))
            .or_else(|| t.strip_prefix("sha256/").map(after_curl_slash))
            .unwrap_or(t);
        let bytes = if inner.len() == 64 && inner.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&inner[2 * i..2 * i + 2], 16))
                .collect::<std::result::Result<Vec<u8>, _>>()
                .ok()
        } else {
            STANDARD.decode(inner).ok()
        };
        match bytes.as_deref().map(<[u8; 32]>::try_from) {
            Some(Ok(b)) => Ok(Pin(b)),
            Some(Err(_)) => Err(Error::bad_value(
                "pin",
                s,
                format!("decodes to {} bytes, a SHA-256 pin has 32", bytes.map_or(0, |b| b.len())),
                Some("a pin is 44 characters of base64, e.g. from `pinset pin FILE`"),
            )),
            None => Err(Error::bad_value(
                "pin",
                s,
                "is neither base64 nor 64 hex digits",
                Some("a pin is 44 characters of base64, optionally written as sha256/<b64>"),
            )),
        }
    }
}

impl serde::Serialize for Pin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for Pin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Pin, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The wrappers a pin is written in (see docs/platforms.md: the pin is the same, the wrapper
/// differs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinFormat {
    /// Bare base64: TrustKit, Apple ATS, Android `<pin>`, Chromium's SPKI list.
    B64,
    /// `sha256/<b64>`: OkHttp CertificatePinner.
    OkHttp,
    /// `sha256//<b64>`: curl `--pinnedpubkey`.
    Curl,
    /// `pin-sha256="<b64>"`: RFC 7469.
    Hpkp,
    /// Lower-case hex of the same 32 bytes.
    Hex,
}

/// SHA-256 over a whole DER certificate: what urllib3's `assert_fingerprint` and Node's
/// `fingerprint256` compare. It changes at every renewal even when the key stays, so it
/// is never offered as a pin.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertSha256([u8; 32]);

impl CertSha256 {
    /// The fingerprint of a DER certificate.
    pub fn of_der(cert_der: &[u8]) -> CertSha256 {
        CertSha256(Sha256::digest(cert_der).into())
    }

    /// Upper-case hex pairs joined by `:`, as `openssl x509 -fingerprint -sha256` and
    /// Node's `fingerprint256` write it.
    pub fn to_colon_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }
}

impl fmt::Display for CertSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_colon_hex())
    }
}

impl fmt::Debug for CertSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertSha256({})", self.to_colon_hex())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_back_to_the_same_pin() {
        let pin = Pin::of_spki(b"not really an spki, but bytes all the same");
        for f in [PinFormat::B64, PinFormat::OkHttp, PinFormat::Curl, PinFormat::Hpkp, PinFormat::Hex] {
            let parsed: Pin = pin.format(f).parse().expect("round trip");
            assert_eq!(parsed, pin, "format {f:?}");
        }
        assert_eq!(pin.to_base64().len(), 44);
    }

    #[test]
    fn a_pin_whose_base64_starts_with_a_slash_parses_in_every_format() {
        // 0xfc… encodes to base64 starting with '/': `sha256/` + it reads like curl's `sha256//`.
        let pin = Pin([0xfc; 32]);
        assert!(pin.to_base64().starts_with('/'), "{}", pin.to_base64());
        for f in [PinFormat::B64, PinFormat::OkHttp, PinFormat::Curl, PinFormat::Hpkp, PinFormat::Hex] {
            let parsed: Pin = pin.format(f).parse().expect("round trip");
            assert_eq!(parsed, pin, "format {f:?}: {}", pin.format(f));
        }
    }

    #[test]
    fn a_pin_of_the_wrong_length_is_refused_with_its_length() {
        let err = "AAAA".parse::<Pin>().expect_err("3 bytes is no pin");
        assert!(err.to_string().contains("3 bytes"), "{err}");
        assert!("not base64 at all!".parse::<Pin>().is_err());
    }
}
