//! Reading certificates: the summary `pinset inspect` shows (names, validity, key, usages,
//! pins) and the small naming helpers the rest of pinset shares.

use std::net::IpAddr;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

use crate::error::{Error, Result};
use crate::pin::{CertSha256, Pin, hex};

/// A subjectAltName entry with its type: an IP address and a DNS name that look alike are
/// not the same thing to a TLS client.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum San {
    /// iPAddress: what a client connecting by IP compares against.
    Ip(IpAddr),
    /// dNSName.
    Dns(String),
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// Any other kind, described.
    Other(String),
}

impl std::fmt::Display for San {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::Dns(d) => write!(f, "DNS:{d}"),
            San::Email(e) => write!(f, "email:{e}"),
            San::Uri(u) => write!(f, "URI:{u}"),
            San::Other(o) => write!(f, "other:{o}"),
        }
    }
}

/// The key of a certificate, as a person names it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// "EC P-256", "RSA", "Ed25519" …
    pub algorithm: String,
    /// Size in bits (the curve size for EC keys).
    pub bits: usize,
}

/// Basic constraints, as the certificate states them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Constraints {
    /// Whether it is a CA certificate.
    pub ca: bool,
    /// The path length limit, if any.
    pub path_len: Option<u32>,
}

/// Everything `pinset inspect` reports about one certificate.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CertSummary {
    /// Subject, most specific attribute first (`CN=…, O=…`).
    pub subject: String,
    /// Issuer, in the same form.
    pub issuer: String,
    /// Whether subject and issuer are the same name and the signature verifies with the
    /// certificate's own key.
    pub self_signed: bool,
    /// Serial number, lower-case hex as OpenSSL prints it (see [`serial_to_string`]).
    pub serial: String,
    /// What is wrong with the serial number (negative, zero, over 20 octets), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_problem: Option<String>,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days from now until `not_after` (negative once expired).
    pub days_left: i64,
    /// Whole days from `not_before` to `not_after` (Apple refuses more than 825).
    pub validity_days: i64,
    /// subjectAltName entries with their types.
    pub sans: Vec<San>,
    /// The certificate's key.
    pub key: KeyInfo,
    /// The signature algorithm.
    pub signature_algorithm: String,
    /// Key usage bits, by name.
    pub key_usage: Vec<String>,
    /// Extended key usages, by name.
    pub extended_key_usage: Vec<String>,
    /// Basic constraints, when present.
    pub basic_constraints: Option<Constraints>,
    /// The SPKI pin.
    pub spki_sha256: Pin,
    /// Whole-certificate SHA-256 (changes at every renewal: not a pin).
    pub cert_sha256: String,
}

/// Parses a DER certificate, naming `source` in the error.
pub fn parse<'a>(source: &str, der: &'a [u8]) -> Result<X509Certificate<'a>> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c)
        .map_err(|e| Error::bad_input(source, format!("not a valid X.509 certificate: {e}"), None))
}

/// Summarizes a DER certificate at time `now`.
pub fn summarize(source: &str, der: &[u8], now: OffsetDateTime) -> Result<CertSummary> {
    let cert = parse(source, der)?;
    check_serial(source, cert.raw_serial())?;
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext.value.general_names.iter().map(san).collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(Error::bad_input(source, format!("malformed subjectAltName: {e}"), None)),
    };
    let key_usage = match cert.key_usage() {
        Ok(Some(ku)) => key_usage_names(ku.value.flags),
        _ => Vec::new(),
    };
    let extended_key_usage = match cert.extended_key_usage() {
        Ok(Some(eku)) => {
            let e = eku.value;
            let mut v = Vec::new();
            for (on, name) in [
                (e.server_auth, "serverAuth"),
                (e.client_auth, "clientAuth"),
                (e.code_signing, "codeSigning"),
                (e.email_protection, "emailProtection"),
                (e.time_stamping, "timeStamping"),
                (e.ocsp_signing, "OCSPSigning"),
                (e.any, "anyExtendedKeyUsage"),
            ] {
                if on {
                    v.push(name.to_string());
                }
            }
            v.extend(e.other.iter().map(|o| o.to_id_string()));
            v
        }
        _ => Vec::new(),
    };
    let basic_constraints = match cert.basic_constraints() {
        Ok(Some(bc)) => Some(Constraints { ca: bc.value.ca, path_len: bc.value.path_len_constraint }),
        _ => None,
    };
    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok();
    Ok(CertSummary {
        subject: name_to_string(cert.subject()),
        issuer: name_to_string(cert.issuer()),
        self_signed,
        serial: serial_to_string(cert.raw_serial()),
        serial_problem: serial_problem(cert.raw_serial()).map(str::to_string),
        not_before,
        not_after,
        days_left: (not_after - now).whole_days(),
        validity_days: (not_after - not_before).whole_days(),
        sans,
        key: key_info(cert.public_key()),
        signature_algorithm: signature_name(&cert.signature_algorithm.algorithm),
        key_usage,
        extended_key_usage,
        basic_constraints,
        spki_sha256: Pin::of_spki(cert.public_key().raw),
        cert_sha256: CertSha256::of_der(der).to_colon_hex(),
    })
}

/// A serial number as OpenSSL prints it: hexadecimal without the zero byte DER puts before
/// a positive number whose top bit is set, and a minus sign before a negative one (the DER
/// bytes `cf c7` are -0x3039, printed `-3039`; `00 c4 01` is printed `c401`).
pub fn serial_to_string(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude = if negative { twos_complement(raw) } else { raw.to_vec() };
    let digits = magnitude.iter().position(|b| *b != 0).map_or(&[0u8][..], |i| &magnitude[i..]);
    format!("{}{}", if negative { "-" } else { "" }, hex(digits))
}

/// The magnitude of a negative two's-complement number.
fn twos_complement(raw: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = raw.iter().map(|b| !b).collect();
    for b in out.iter_mut().rev() {
        let (sum, carry) = b.overflowing_add(1);
        *b = sum;
        if !carry {
            break;
        }
    }
    out
}

/// What RFC 5280 (4.1.2.2) says is wrong with a serial number: it must be positive and at
/// most 20 octets long, and clients may refuse one that is not.
pub fn serial_problem(raw: &[u8]) -> Option<&'static str> {
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        Some("negative: RFC 5280 requires a positive serial number, and some clients refuse others")
    } else if raw.iter().all(|b| *b == 0) {
        Some("zero: RFC 5280 requires a positive serial number, and some clients refuse others")
    } else if raw.len() > 20 {
        Some("longer than the 20 octets RFC 5280 allows, and some clients refuse it")
    } else {
        None
    }
}

/// Refuses a certificate whose serial number has no content octets: not a valid DER
/// INTEGER, which OpenSSL refuses to parse (x509-parser lets it through).
pub(crate) fn check_serial(source: &str, raw: &[u8]) -> Result<()> {
    if raw.is_empty() {
        return Err(Error::bad_input(
            source,
            "not a valid X.509 certificate: its serial number is empty (a DER INTEGER has at least one byte)",
            Some("the certificate is malformed; have it issued again"),
        ));
    }
    Ok(())
}

/// A certificate's subjectAltName entries, each with its type (none when it has no such
/// extension or the extension does not parse).
pub fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<San> {
    match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext.value.general_names.iter().map(san).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn san(name: &GeneralName<'_>) -> San {
    match name {
        GeneralName::IPAddress(b) => match b.len() {
            4 => San::Ip(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())),
            16 => San::Ip(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())),
            _ => San::Other(format!("iPAddress of {} bytes (malformed)", b.len())),
        },
        GeneralName::DNSName(d) => San::Dns(d.to_string()),
        GeneralName::RFC822Name(e) => San::Email(e.to_string()),
        GeneralName::URI(u) => San::Uri(u.to_string()),
        other => San::Other(format!("{other:?}")),
    }
}

fn key_usage_names(flags: u16) -> Vec<String> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES.iter().enumerate().filter(|(i, _)| flags >> i & 1 == 1).map(|(_, n)| n.to_string()).collect()
}

/// A distinguished name, most specific attribute first, as OkHttp and Java print it
/// (`CN=pinset CA, O=Shop`).
pub fn name_to_string(name: &X509Name<'_>) -> String {
    let parts: Vec<String> = name
        .iter_rdn()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let key = oid2abbrev(attr.attr_type(), oid_registry())
                        .map(str::to_string)
                        .unwrap_or_else(|_| attr.attr_type().to_id_string());
                    let value =
                        attr.as_str().map(str::to_string).unwrap_or_else(|_| format!("#{}", hex(attr.as_slice())));
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    if parts.is_empty() { "(empty name)".into() } else { parts.join(", ") }
}

/// The key type and size of a SubjectPublicKeyInfo.
pub fn key_info(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let alg = spki.algorithm.algorithm.to_id_string();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
    let (algorithm, bits) = match (alg.as_str(), curve.as_deref()) {
        ("1.2.840.113549.1.1.1", _) => ("RSA".to_string(), spki.parsed().map(|k| k.key_size()).unwrap_or(0)),
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => ("EC P-256".into(), 256),
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => ("EC P-384".into(), 384),
        ("1.2.840.10045.2.1", Some("1.3.132.0.35")) => ("EC P-521".into(), 521),
        ("1.2.840.10045.2.1", c) => (format!("EC (curve {})", c.unwrap_or("unknown")), 0),
        ("1.3.101.112", _) => ("Ed25519".into(), 256),
        ("1.3.101.113", _) => ("Ed448".into(), 456),
        ("1.2.840.113549.1.1.10", _) => ("RSA-PSS".into(), spki.parsed().map(|k| k.key_size()).unwrap_or(0)),
        (other, _) => (format!("unknown key algorithm {other}"), 0),
    };
    KeyInfo { algorithm, bits }
}

/// "EC P-256 key", "RSA 2048-bit key" …
pub fn describe_spki(spki: &SubjectPublicKeyInfo<'_>) -> String {
    let k = key_info(spki);
    if k.algorithm == "RSA" || k.algorithm == "RSA-PSS" {
        format!("{} {}-bit key", k.algorithm, k.bits)
    } else {
        format!("{} key", k.algorithm)
    }
}

pub(crate) fn signature_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    let id = oid.to_id_string();
    let name = match id.as_str() {
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        _ => return id,
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_as_openssl_prints_them() {
        assert_eq!(serial_to_string(&[0xcf, 0xc7]), "-3039", "-12345, as `openssl x509 -serial` shows it");
        assert_eq!(serial_to_string(&[0x30, 0x39]), "3039");
        assert_eq!(serial_to_string(&[0x00, 0xc4, 0x01]), "c401", "the sign byte is not part of the number");
        assert_eq!(serial_to_string(&[0xff]), "-01");
        assert_eq!(serial_to_string(&[0x80]), "-80");
        assert_eq!(serial_to_string(&[0x00]), "00");
        assert_eq!(serial_to_string(&[0x40, 0x01, 0x02]), "400102", "pinset's own serials are unchanged");
    }

    #[test]
    fn serials_rfc_5280_forbids_are_flagged() {
        assert!(serial_problem(&[0xcf, 0xc7]).is_some_and(|p| p.starts_with("negative")));
        assert!(serial_problem(&[0x00]).is_some_and(|p| p.starts_with("zero")));
        assert!(serial_problem(&[0x01; 21]).is_some_and(|p| p.contains("20 octets")));
        assert_eq!(serial_problem(&[0x01; 20]), None);
        assert_eq!(serial_problem(&[0x00, 0x80]), None);
    }

    /// A certificate whose serial INTEGER has no content octets (`02 00`), made by cutting
    /// the serial out of a real one and encoding the enclosing SEQUENCEs again.
    fn cert_with_empty_serial() -> Vec<u8> {
        use der::{Decode as _, Encode as _, Reader as _, Tagged as _};
        fn sequence(content: &[u8]) -> Vec<u8> {
            let len = der::Length::try_from(content.len()).expect("length");
            let mut out = der::Header::new(der::Tag::Sequence, len).to_der().expect("header");
            out.extend_from_slice(content);
            out
        }
        let key = rcgen::KeyPair::generate().expect("key");
        let der = rcgen::CertificateParams::new(vec!["192.168.1.10".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert")
            .der()
            .to_vec();
        let outer = der::asn1::AnyRef::from_der(&der).expect("certificate");
        let mut reader = der::SliceReader::new(outer.value()).expect("reader");
        let tbs = reader.decode::<der::asn1::AnyRef<'_>>().expect("tbsCertificate");
        let after_tbs = reader.read_slice(reader.remaining_len()).expect("rest");
        let mut fields = der::SliceReader::new(tbs.value()).expect("reader");
        let version = fields.decode::<der::asn1::AnyRef<'_>>().expect("version");
        let serial = fields.decode::<der::asn1::AnyRef<'_>>().expect("serial");
        assert_eq!(serial.tag(), der::Tag::Integer);
        let mut new_tbs = version.to_der().expect("version");
        new_tbs.extend_from_slice(&[0x02, 0x00]);
        new_tbs.extend_from_slice(fields.read_slice(fields.remaining_len()).expect("rest"));
        let mut content = sequence(&new_tbs);
        content.extend_from_slice(after_tbs);
        sequence(&content)
    }

    #[test]
    fn an_empty_serial_is_refused() {
        let der = cert_with_empty_serial();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).expect("x509-parser lets it through");
        assert!(parsed.raw_serial().is_empty());
        let err = summarize("empty-serial.cer", &der, OffsetDateTime::now_utc()).expect_err("refused").to_string();
        assert!(err.contains("empty-serial.cer") && err.contains("serial number is empty"), "{err}");
        let mut none = |_: &str| -> Result<zeroize::Zeroizing<String>> { panic!("no password") };
        let err = crate::input::read_objects("empty-serial.cer", &der, &mut none).expect_err("refused").to_string();
        assert!(err.contains("serial number is empty"), "{err}");
    }
}
