//! What TLS clients can parse and use at all, for one certificate: the one place that says
//! which versions, critical extensions, keys and signature algorithms a client refuses,
//! read by the lint rules (which weigh each item per platform) and by pinset's verifier
//! (which refuses each item the way a rustls handshake does).
//!
//! Every item [`unsupported`] returns is refused by rustls, pinset's own TLS stack, and by at
//! least one of the platforms the lint rules know; the rules table cites the sources. The
//! items:
//! - the version field is not v1, v2 or v3, or a v1/v2 certificate carries extensions
//!   (RFC 5280 §4.1.2.1);
//! - a critical extension outside those every platform processes (RFC 5280 §4.2);
//! - a key no client uses to authenticate a server: RSA below 2048 bits, an EC key on a
//!   curve other than P-256, P-384 and P-521, DSA, X25519, X448, Ed448, any other algorithm;
//! - a signature with a broken hash (MD2, MD4, MD5, SHA-1) or an algorithm none implements.
//!
//! Ed25519 keys and the P-521 curve are not items: rustls and some platforms accept them
//! (the lint rules `eddsa-key` and `p521-server-key` say which platforms do not).

use std::fmt;

use x509_parser::certificate::X509Certificate;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// The smallest RSA key clients take from a server or an issuing CA: rustls (webpki's RSA
/// algorithms start at 2048 bits) and Apple (HT210176) refuse anything smaller, and it is the
/// CA/Browser Forum baseline.
pub const MIN_RSA_BITS: usize = 2048;

/// Largest RSA key TLS clients verify with: rustls' aws-lc-rs algorithms are
/// `RSA_PKCS1_2048_8192_*` and `RSA_PSS_2048_8192_*`, and BoringSSL (Chrome, Android) caps
/// RSA at 8192 bits too (`kMaxRSAModulusBits`), so a larger key fails every handshake.
pub const MAX_RSA_BITS: usize = 8192;

/// The extensions every platform processes during path validation (RFC 5280 §6.1; exactly
/// those Chromium consumes): a critical one of these is understood, any other critical one
/// makes clients refuse the certificate.
const PROCESSED_EXTENSIONS: [&str; 9] = [
    "2.5.29.19", // basicConstraints
    "2.5.29.15", // keyUsage
    "2.5.29.37", // extendedKeyUsage
    "2.5.29.17", // subjectAltName
    "2.5.29.30", // nameConstraints
    "2.5.29.32", // certificatePolicies
    "2.5.29.33", // policyMappings
    "2.5.29.36", // policyConstraints
    "2.5.29.54", // inhibitAnyPolicy
];

/// The curves TLS signs with (RFC 8446 §4.2.3: P-256, P-384, P-521), by OID.
const TLS_CURVES: [&str; 3] = ["1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35"];

/// What kind of thing a client cannot parse or use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum What {
    /// The version field is not v1, v2 or v3, or a v1/v2 certificate carries extensions:
    /// clients refuse to parse the certificate.
    Version,
    /// A critical extension outside those every client processes.
    CriticalExtension,
    /// An RSA key smaller than [`MIN_RSA_BITS`] or larger than [`MAX_RSA_BITS`].
    RsaKeySize {
        /// The key's size.
        bits: usize,
    },
    /// An EC key on a curve other than P-256, P-384 and P-521, or with explicit parameters.
    EcCurve,
    /// A key of an algorithm no client uses to authenticate a server: DSA, X25519, X448,
    /// Ed448, or one unknown.
    KeyAlgorithm,
    /// Signed with SHA-1.
    Sha1Signature,
    /// Signed with MD2, MD4 or MD5.
    Md5Signature,
    /// Signed with an algorithm no client implements.
    SignatureAlgorithm,
}

impl What {
    /// Whether the item concerns the certificate's own signature, which clients do not check
    /// on a trust anchor (the key, the version and the extensions they read on every
    /// certificate).
    pub fn is_signature(self) -> bool {
        matches!(self, What::Sha1Signature | What::Md5Signature | What::SignatureAlgorithm)
    }
}

impl fmt::Display for What {
    /// "an EC key on a curve TLS clients do not support" …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            What::Version => "an X.509 version clients cannot parse",
            What::CriticalExtension => "a critical extension clients do not process",
            What::RsaKeySize { .. } => "an RSA key of a size clients do not accept",
            What::EcCurve => "an EC key on a curve TLS clients do not support",
            What::KeyAlgorithm => "a key TLS clients cannot use for a server",
            What::Sha1Signature => "a SHA-1 signature, which clients no longer trust",
            What::Md5Signature => "a signature with a broken hash",
            What::SignatureAlgorithm => "a signature algorithm clients do not implement",
        })
    }
}

/// One thing in a certificate that TLS clients cannot parse or use.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unsupported {
    /// What kind of thing it is.
    pub what: What,
    /// The value in question, named: `secp256k1 (1.3.132.0.10)`, `version 9`, `RSA 1024
    /// bits`, `1.2.3.4` …  Built from OIDs and numbers only, never from the certificate's
    /// text, so it is safe to print.
    pub detail: String,
}

impl fmt::Display for Unsupported {
    /// `an EC key on a curve TLS clients do not support: secp256k1 (1.3.132.0.10)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.detail)
    }
}

/// What in `cert` no TLS client of pinset's knowledge accepts (see the module docs for the
/// list), in the order version, extensions, key, signature; empty when there is nothing.
/// Items whose [`What::is_signature`] is true do not matter for a trust anchor.
pub fn unsupported(cert: &X509Certificate<'_>) -> Vec<Unsupported> {
    let mut out = Vec::new();
    let version = cert.version().0;
    if version > 2 {
        out.push(Unsupported { what: What::Version, detail: format!("version {}", u64::from(version) + 1) });
    } else if version < 2 && !cert.extensions().is_empty() {
        let n = cert.extensions().len();
        let s = if n == 1 { "" } else { "s" };
        out.push(Unsupported { what: What::Version, detail: format!("version {} with {n} extension{s}", version + 1) });
    }
    for e in cert.extensions().iter().filter(|e| e.critical) {
        let oid = e.oid.to_id_string();
        if !PROCESSED_EXTENSIONS.contains(&oid.as_str()) {
            let detail = match oid2sn(&e.oid, oid_registry()) {
                Ok(name) => format!("{name} ({oid})"),
                Err(_) => oid,
            };
            out.push(Unsupported { what: What::CriticalExtension, detail });
        }
    }
    out.extend(key(cert.public_key()));
    out.extend(signature(&cert.signature_algorithm));
    out
}

/// The key of a certificate, if clients cannot use it.
fn key(spki: &SubjectPublicKeyInfo<'_>) -> Option<Unsupported> {
    let alg = spki.algorithm.algorithm.to_id_string();
    let unsupported = |what, detail: String| Some(Unsupported { what, detail });
    match alg.as_str() {
        // rsaEncryption, RSASSA-PSS
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => match spki.parsed().map(|k| k.key_size()) {
            Ok(bits) if (MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) => None,
            Ok(bits) if bits > 0 => unsupported(What::RsaKeySize { bits }, format!("RSA {bits} bits")),
            _ => unsupported(What::KeyAlgorithm, "an RSA key that does not parse".into()),
        },
        // id-ecPublicKey: a named curve, which must be one TLS signs with.
        "1.2.840.10045.2.1" => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            match curve {
                Some(c) if TLS_CURVES.contains(&c.as_str()) => None,
                Some(c) => unsupported(What::EcCurve, curve_name(&c).map_or(c.clone(), |n| format!("{n} ({c})"))),
                None => {
                    unsupported(What::EcCurve, "explicit curve parameters (RFC 5480 allows named curves only)".into())
                }
            }
        }
        "1.3.101.112" => None, // Ed25519: rustls and Java take it (the rule eddsa-key says who does not).
        other => {
            unsupported(What::KeyAlgorithm, key_name(other).map_or(other.to_string(), |n| format!("{n} ({other})")))
        }
    }
}

/// The signature algorithm of a certificate, if clients cannot trust or verify it.
fn signature(alg: &AlgorithmIdentifier<'_>) -> Option<Unsupported> {
    let oid = alg.algorithm.to_id_string();
    let (what, name) = match oid.as_str() {
        "1.2.840.113549.1.1.2" => (What::Md5Signature, "md2WithRSAEncryption"),
        "1.2.840.113549.1.1.3" => (What::Md5Signature, "md4WithRSAEncryption"),
        "1.2.840.113549.1.1.4" | "1.3.14.3.2.3" => (What::Md5Signature, "md5WithRSAEncryption"),
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => (What::Sha1Signature, "sha1WithRSAEncryption"),
        "1.2.840.10045.4.1" => (What::Sha1Signature, "ecdsa-with-SHA1"),
        "1.2.840.10040.4.3" | "1.3.14.3.2.27" => (What::Sha1Signature, "dsa-with-sha1"),
        other if implemented_signature(other) => return None,
        other => {
            let detail = match oid2sn(&alg.algorithm, oid_registry()) {
                Ok(name) => format!("{name} ({other})"),
                Err(_) => other.to_string(),
            };
            return Some(Unsupported { what: What::SignatureAlgorithm, detail });
        }
    };
    Some(Unsupported { what, detail: name.to_string() })
}

/// Signature algorithms some client implements with a hash that holds: RSA PKCS#1 v1.5 and
/// PSS, ECDSA, EdDSA and DSA, with SHA-2 or SHA-3. Which platforms verify which of these is
/// the lint rules' business (and rustls-webpki's, for pinset's verifier).
fn implemented_signature(oid: &str) -> bool {
    const SHA2_SHA3: [&str; 16] = [
        "1.2.840.113549.1.1.10",  // RSASSA-PSS
        "1.2.840.113549.1.1.11",  // sha256WithRSAEncryption
        "1.2.840.113549.1.1.12",  // sha384WithRSAEncryption
        "1.2.840.113549.1.1.13",  // sha512WithRSAEncryption
        "1.2.840.113549.1.1.14",  // sha224WithRSAEncryption
        "1.2.840.10045.4.3.1",    // ecdsa-with-SHA224
        "1.2.840.10045.4.3.2",    // ecdsa-with-SHA256
        "1.2.840.10045.4.3.3",    // ecdsa-with-SHA384
        "1.2.840.10045.4.3.4",    // ecdsa-with-SHA512
        "1.3.101.112",            // Ed25519
        "1.3.101.113",            // Ed448
        "2.16.840.1.101.3.4.3.1", // dsa-with-sha224
        "2.16.840.1.101.3.4.3.2", // dsa-with-sha256
        "2.16.840.1.101.3.4.3.3", // dsa-with-sha384
        "2.16.840.1.101.3.4.3.4", // dsa-with-sha512
        "1.2.840.113549.1.1.15",  // sha512-224WithRSAEncryption
    ];
    // id-dsa-with-sha3-*, id-ecdsa-with-sha3-*, id-rsassa-pkcs1-v1_5-with-sha3-*.
    let sha3 = oid
        .strip_prefix("2.16.840.1.101.3.4.3.")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (5..=16).contains(&n));
    SHA2_SHA3.contains(&oid) || sha3
}

/// Names of the curves people meet outside TLS's three.
fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.132.0.33" => "P-224",
        "1.3.132.0.10" => "secp256k1",
        "1.3.132.0.31" => "secp192k1",
        "1.3.132.0.32" => "secp224k1",
        "1.2.156.10197.1.301" => "SM2",
        "1.3.36.3.3.2.8.1.1.1" => "brainpoolP160r1",
        "1.3.36.3.3.2.8.1.1.3" => "brainpoolP192r1",
        "1.3.36.3.3.2.8.1.1.5" => "brainpoolP224r1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.9" => "brainpoolP320r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        other => match other.strip_prefix("1.3.36.3.3.2.8.1.1.") {
            Some(_) => "a brainpool curve",
            None => return None,
        },
    })
}

/// Names of key algorithms other than RSA, EC and Ed25519.
fn key_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.113" => "Ed448",
        "1.2.840.10046.2.1" => "Diffie-Hellman",
        "1.3.132.1.12" => "ECDH-only EC",
        "1.2.643.2.2.19" | "1.2.643.7.1.1.1.1" | "1.2.643.7.1.1.1.2" => "GOST R 34.10",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        der, ip, ip_san, params, patched, pinset_chain_of, self_signed, self_signed_with, with_extension_1234,
    };
    use super::*;
    use crate::pki::{KeyType, LeafKind};

    /// What `unsupported` says of `der`, as (what, detail) pairs.
    fn of(der: &[u8]) -> Vec<(What, String)> {
        let cert = crate::cert::parse("t", der).expect("parse");
        unsupported(&cert).into_iter().map(|u| (u.what, u.detail)).collect()
    }

    fn one(what: What, detail: &str) -> Vec<(What, String)> {
        vec![(what, detail.to_string())]
    }

    #[test]
    fn what_pinset_issues_is_supported() {
        for kt in [KeyType::P256, KeyType::P384, KeyType::Ed25519, KeyType::Rsa2048] {
            for der in pinset_chain_of(LeafKind::Server, kt, &[ip("10.0.0.5")], &[], 397) {
                assert_eq!(of(&der), [], "{kt:?}");
            }
        }
        assert_eq!(of(&self_signed_with(&rcgen::PKCS_ECDSA_P521_SHA512)), []);
        // Critical basicConstraints and keyUsage are processed by every client.
        assert_eq!(of(&self_signed(&params("s", vec![ip_san("10.0.0.5")]))), []);
    }

    #[test]
    fn versions_other_than_1_to_3_and_extensions_before_3() {
        let server = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
        assert_eq!(of(&patched(&server, der::V3, der::V9, 1)), one(What::Version, "version 9"));
        let v1 = of(&patched(&server, der::V3, der::V1, 1));
        assert!(matches!(v1.as_slice(), [(What::Version, d)] if d.starts_with("version 1 with")), "{v1:?}");
    }

    #[test]
    fn critical_extensions_clients_do_not_process() {
        for der in with_extension_1234(true) {
            assert_eq!(of(&der), one(What::CriticalExtension, "1.2.3.4"));
        }
        for der in with_extension_1234(false) {
            assert_eq!(of(&der), []);
        }
    }

    #[test]
    fn keys_clients_cannot_use() {
        let p256 = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
        assert_eq!(of(&patched(&p256, der::P256, der::P192, 1)), one(What::EcCurve, "P-192 (1.2.840.10045.3.1.1)"));
        assert_eq!(
            of(&patched(&p256, der::EC_PUBLIC_KEY, der::DSA, 1)),
            one(What::KeyAlgorithm, "DSA (1.2.840.10040.4.1)")
        );
        let p384 = self_signed_with(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(of(&patched(&p384, der::P384, der::SECP256K1, 1)), one(What::EcCurve, "secp256k1 (1.3.132.0.10)"));
        let ed = &pinset_chain_of(LeafKind::Server, KeyType::Ed25519, &[ip("10.0.0.5")], &[], 397)[0];
        for (oid, name) in [
            (der::X25519, "X25519 (1.3.101.110)"),
            (der::X448, "X448 (1.3.101.111)"),
            (der::ED448, "Ed448 (1.3.101.113)"),
        ] {
            assert_eq!(of(&patched(ed, der::ED25519, oid, 1)), one(What::KeyAlgorithm, name));
        }
    }

    #[test]
    fn signatures_with_broken_hashes_or_unknown_algorithms() {
        let server = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
        let unknown = of(&patched(&server, der::ECDSA_SHA256, der::ECDSA_UNKNOWN, 2));
        assert_eq!(unknown, one(What::SignatureAlgorithm, "1.2.840.10045.4.3.9"));
        assert!(What::SignatureAlgorithm.is_signature() && !What::EcCurve.is_signature());
    }

    #[test]
    fn an_item_displays_its_kind_and_value() {
        let u = Unsupported { what: What::EcCurve, detail: "secp256k1 (1.3.132.0.10)".into() };
        assert_eq!(u.to_string(), "an EC key on a curve TLS clients do not support: secp256k1 (1.3.132.0.10)");
        let u = Unsupported { what: What::RsaKeySize { bits: 1024 }, detail: "RSA 1024 bits".into() };
        assert_eq!(
            serde_json::to_value(&u).expect("json")["what"],
            serde_json::json!({"rsa-key-size": {"bits": 1024}})
        );
    }
}
