//! Keys and certificates: the private CA, server and client certificates in the safe
//! profile of docs/platforms.md, and PKCS#12 bundles for client certificates.
//!
//! Every compatibility constant sits next to the rule it satisfies.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData as _, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::pin::{Pin, hex};

pub mod pfx;

/// Lifetime of a root: 10 years. Roots ship inside apps and are installed by hand, so
/// their life is the fleet's horizon; Apple's 825-day limit applies to leaves only.
pub const CA_VALIDITY_DAYS: u32 = 3650;
/// Default lifetime of server and client certificates: 397 days, the safe profile of
/// docs/platforms.md. It stays under the 398 days Apple and Chrome allow publicly trusted
/// leaves, so the same certificate stays valid if a site ever moves to a public root.
pub const LEAF_VALIDITY_DAYS: u32 = 397;
/// Apple (iOS 13+, macOS 10.15+) rejects any TLS server certificate valid for more
/// than 825 days, whatever its root.
pub const APPLE_MAX_SERVER_DAYS: u32 = 825;
/// Serial numbers are 16 bytes with 126 random bits (top bit clear so the INTEGER is
/// positive, next bit set so DER never shortens it): far above the 64 bits of entropy
/// the CA/Browser Forum requires.
const SERIAL_BYTES: usize = 16;
/// Certificates start one hour in the past, so a device whose clock runs a little slow
/// does not see a brand-new certificate as "not yet valid".
const BACKDATE: Duration = Duration::hours(1);

/// The key algorithms pinset issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// ECDSA P-256 with SHA-256: the default; every platform accepts it and it is fast.
    #[default]
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// Ed25519: compact, but Apple's TLS stack and many Android versions do not accept it
    /// for TLS server certificates.
    Ed25519,
    /// RSA 2048 with SHA-256: the smallest RSA size Apple accepts.
    Rsa2048,
    /// RSA 3072 with SHA-256.
    Rsa3072,
    /// RSA 4096 with SHA-256.
    Rsa4096,
}

impl KeyType {
    /// Every key type, in the order the help lists them.
    pub const ALL: [KeyType; 6] =
        [KeyType::P256, KeyType::P384, KeyType::Ed25519, KeyType::Rsa2048, KeyType::Rsa3072, KeyType::Rsa4096];

    /// The name used on the command line and in the plan.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::P256 => "p256",
            KeyType::P384 => "p384",
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
        }
    }

    /// Whether this is an RSA key (which also needs keyEncipherment for TLS 1.2 RSA key
    /// exchange).
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    /// Generates a new key of this type.
    pub fn generate(self) -> Result<KeyPair> {
        let size = match self {
            KeyType::P256 => return gen_key(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)),
            KeyType::P384 => return gen_key(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)),
            KeyType::Ed25519 => return gen_key(KeyPair::generate_for(&rcgen::PKCS_ED25519)),
            KeyType::Rsa2048 => rcgen::RsaKeySize::_2048,
            KeyType::Rsa3072 => rcgen::RsaKeySize::_3072,
            KeyType::Rsa4096 => rcgen::RsaKeySize::_4096,
        };
        gen_key(KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size))
    }
}

fn gen_key(r: std::result::Result<KeyPair, rcgen::Error>) -> Result<KeyPair> {
    r.map_err(|e| Error::crypto("cannot generate key", e))
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = Error;
    fn from_str(s: &str) -> Result<KeyType> {
        KeyType::ALL.into_iter().find(|k| k.name() == s.to_ascii_lowercase()).ok_or_else(|| {
            Error::bad_value(
                "key type",
                s,
                "is not one pinset issues",
                Some("use p256, p384, ed25519, rsa2048, rsa3072 or rsa4096"),
            )
        })
    }
}

/// A key and the certificate issued for it, ready to be written out.
pub struct Issued {
    /// The DER certificate.
    pub cert_der: Vec<u8>,
    /// The same certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
    /// The private key, PKCS#8 DER (for PKCS#12).
    pub key_der: Zeroizing<Vec<u8>>,
    /// Pin of the key.
    pub pin: Pin,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// A standby key: generated now, its pin shipped in apps now, used only at rotation.
pub struct Standby {
    /// The private key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
    /// Its pin.
    pub pin: Pin,
}

impl Standby {
    /// Generates a standby key of `key_type`.
    pub fn generate(key_type: KeyType) -> Result<(Standby, KeyPair)> {
        let key = key_type.generate()?;
        Ok((
            Standby { key_pem: Zeroizing::new(key.serialize_pem()), pin: Pin::of_spki(&key.subject_public_key_info()) },
            key,
        ))
    }
}

/// What a leaf certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    /// A TLS server (EKU serverAuth).
    Server,
    /// A TLS client for mutual TLS (EKU clientAuth).
    Client,
}

/// Creates a self-signed root CA certificate for `key`: CN set (Apple lists a hand-installed
/// root in Certificate Trust Settings only when it has one), basicConstraints CA with
/// pathLen 0 (it signs leaves only), KU keyCertSign + cRLSign.
pub fn new_root(common_name: &str, organization: &str, key: &KeyPair, now: OffsetDateTime) -> Result<Issued> {
    let mut params = base_params(common_name, organization, now, CA_VALIDITY_DAYS)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(key).map_err(|e| Error::crypto("cannot sign root certificate", e))?;
    Ok(finish(cert.der().to_vec(), key, &params))
}

/// The addresses and names a leaf certificate is for.
pub struct LeafSpec<'a> {
    /// Server or client.
    pub kind: LeafKind,
    /// The subject CN.
    pub common_name: &'a str,
    /// The subject O (the site's name).
    pub organization: &'a str,
    /// IP addresses: one iPAddress SAN each (never a DNS SAN for an IP).
    pub ips: &'a [IpAddr],
    /// DNS names: one dNSName SAN each.
    pub dns: &'a [String],
    /// Validity in days.
    pub days: u32,
}

/// Issues a leaf certificate for `key`, signed by `issuer`, or self-signed when `issuer` is
/// `None` (a self-signed server is its own trust anchor).
pub fn issue_leaf(
    spec: &LeafSpec<'_>,
    key: &KeyPair,
    key_type: KeyType,
    issuer: Option<&Issuer<'_, KeyPair>>,
    now: OffsetDateTime,
) -> Result<Issued> {
    let mut params = base_params(spec.common_name, spec.organization, now, spec.days)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.subject_alt_names = spec.ips.iter().map(|ip| SanType::IpAddress(*ip)).collect();
    for name in spec.dns {
        let ia5 =
            name.clone().try_into().map_err(|_| Error::bad_value("DNS name", name, "is not plain ASCII", None))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    // KU digitalSignature for (EC)DHE handshakes; RSA keys also get keyEncipherment so TLS
    // 1.2 RSA key exchange (Java's KU rule) is allowed.
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if key_type.is_rsa() {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    if issuer.is_none() {
        // A self-signed leaf is its own issuer: OpenSSL finds a certificate's issuer only
        // if, when it has a KU extension, keyCertSign is in it.
        params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    }
    params.extended_key_usages = vec![match spec.kind {
        LeafKind::Server => ExtendedKeyUsagePurpose::ServerAuth,
        LeafKind::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    let cert = match issuer {
        Some(issuer) => {
            params.use_authority_key_identifier_extension = true;
            params.signed_by(key, issuer)
        }
        None => params.self_signed(key),
    }
    .map_err(|e| Error::crypto("cannot sign certificate", e))?;
    Ok(finish(cert.der().to_vec(), key, &params))
}

/// Loads a CA certificate and its key as an issuer.
pub fn load_issuer(cert_der: &[u8], key_pem: &str, source: &str) -> Result<Issuer<'static, KeyPair>> {
    let key = KeyPair::from_pem(key_pem).map_err(|e| {
        Error::bad_input(
            source,
            format!("cannot read the CA key: {e}"),
            Some("the key file may be damaged; restore it from backup"),
        )
    })?;
    let issuer = Issuer::from_ca_cert_der(&cert_der.to_vec().into(), key)
        .map_err(|e| Error::bad_input(source, format!("cannot use the CA certificate: {e}"), None))?;
    Ok(issuer)
}

fn base_params(common_name: &str, organization: &str, now: OffsetDateTime, days: u32) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    // Most general first, as DER names are ordered; people read them reversed (CN first).
    dn.push(DnType::OrganizationName, organization);
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    // Whole seconds: X.509 times carry no fraction, and the plan and ledger show the same
    // instant the certificate does.
    let start = now.replace_nanosecond(0).map_err(|e| Error::crypto("clock", e))? - BACKDATE;
    params.not_before = start;
    params.not_after = start + Duration::days(i64::from(days));
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; SERIAL_BYTES];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Crypto("the system random generator failed".into()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn finish(cert_der: Vec<u8>, key: &KeyPair, params: &CertificateParams) -> Issued {
    let serial = params.serial_number.as_ref().map(|s| hex(&s.to_bytes())).unwrap_or_default();
    Issued {
        cert_pem: pem::encode(&pem::Pem::new("CERTIFICATE", cert_der.clone())),
        cert_der,
        key_pem: Zeroizing::new(key.serialize_pem()),
        key_der: Zeroizing::new(key.serialize_der()),
        pin: Pin::of_spki(&key.subject_public_key_info()),
        serial,
        not_after: params.not_after,
    }
}

/// PKCS#12 encryption profiles for client certificates; which platform imports which is in
/// `docs/platforms.md`, "PKCS#12 profiles: which platform imports which".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P12Profile {
    /// PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC: OpenSSL 3's default,
    /// read by Windows 10 1709+/Server 2019+, Java 8u301+/11.0.12+/12+, NSS and OpenSSL
    /// 1.1.1+; Android 13 and older and the Apple platforms refuse it as a "wrong password".
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC for keys and certificates, HMAC-SHA1 MAC: read by
    /// Android, iOS, macOS, Windows, Java, NSS, and OpenSSL 3 without its legacy provider (no RC2).
    Legacy,
}

/// PBKDF iterations for both profiles: OpenSSL's default is 2,048; 10,000 costs a phone
/// a few milliseconds and slows offline guessing fivefold.
const P12_ITERATIONS: u32 = 10_000;

/// Bundles a key and its chain (leaf first) into a password-protected PKCS#12 file.
pub fn pkcs12(
    alias: &str,
    key_pkcs8_der: &[u8],
    chain: &[Vec<u8>],
    password: &str,
    profile: P12Profile,
) -> Result<Vec<u8>> {
    use p12_keystore::{EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKeyChain};
    let key = p12_keystore::PrivateKey::from_der(key_pkcs8_der).map_err(|e| Error::crypto("PKCS#12 key", e))?;
    let certs = chain
        .iter()
        .map(|c| p12_keystore::Certificate::from_der(c).map_err(|e| Error::crypto("PKCS#12 certificate", e)))
        .collect::<Result<Vec<_>>>()?;
    let mut local_key_id = [0u8; 20];
    aws_lc_rs::rand::fill(&mut local_key_id).map_err(|_| Error::Crypto("the system random generator failed".into()))?;
    let mut store = KeyStore::new();
    store.add_entry(alias, KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id.to_vec(), key, certs)));
    let (enc, mac) = match profile {
        P12Profile::Modern => (EncryptionAlgorithm::PbeWithHmacSha256AndAes256, MacAlgorithm::HmacSha256),
        P12Profile::Legacy => (EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc, MacAlgorithm::HmacSha1),
    };
    store
        .writer(password)
        .encryption_algorithm(enc)
        .encryption_iterations(P12_ITERATIONS)
        .mac_algorithm(mac)
        .mac_iterations(P12_ITERATIONS)
        .write()
        .map_err(|e| Error::crypto("cannot write PKCS#12", e))
}

/// A key and its certificate chain read from a PKCS#12 file (for client authentication).
pub struct KeyAndChain {
    /// The private key, PKCS#8 DER.
    pub key_pkcs8_der: Zeroizing<Vec<u8>>,
    /// The certificates, the key's own first.
    pub chain: Vec<Vec<u8>>,
}

/// Reads the first key and its chain from a PKCS#12 file; `source` is named in errors. A
/// file without a password opens whatever `password` is.
pub fn read_pkcs12(source: &str, der: &[u8], password: &str) -> Result<KeyAndChain> {
    let mut given = || Ok(Zeroizing::new(password.to_string()));
    let contents = open_pkcs12(source, der, &mut given)?;
    let Some(key) = contents.keys.into_iter().next() else {
        return Err(Error::bad_input(
            source,
            format!("holds no private key, only {}", describe_certificates(contents.certs.len())),
            Some("a client identity needs its key: export it with the key"),
        ));
    };
    let spki = crate::input::private_key_spki(source, &key.pkcs8)?;
    let leaf = contents
        .certs
        .iter()
        .position(|c| key.local_key_id.is_some() && c.local_key_id == key.local_key_id)
        .or_else(|| contents.certs.iter().position(|c| cert_spki(&c.der).as_deref() == Some(spki.as_slice())))
        .ok_or_else(|| {
            Error::bad_input(
                source,
                "holds a private key but not its certificate",
                Some("a client identity needs its certificate: export the key together with it"),
            )
        })?;
    Ok(KeyAndChain { key_pkcs8_der: key.pkcs8, chain: chain_from(leaf, &contents.certs) })
}

fn describe_certificates(n: usize) -> String {
    match n {
        0 => "nothing pinset reads".into(),
        1 => "a certificate".into(),
        n => format!("{n} certificates"),
    }
}

fn cert_spki(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c.public_key().raw.to_vec())
}

/// The leaf, then each issuer found among `certs` by name, up to a self-signed one.
fn chain_from(leaf: usize, certs: &[pfx::Pkcs12Cert]) -> Vec<Vec<u8>> {
    let parsed: Vec<_> =
        certs.iter().map(|c| x509_parser::parse_x509_certificate(&c.der).ok().map(|(_, p)| p)).collect();
    let mut order = vec![leaf];
    let mut current = leaf;
    while let Some(cur) = &parsed[current] {
        if cur.subject().as_raw() == cur.issuer().as_raw() {
            break;
        }
        let next = parsed.iter().enumerate().position(|(i, p)| {
            !order.contains(&i) && p.as_ref().is_some_and(|p| p.subject().as_raw() == cur.issuer().as_raw())
        });
        match next {
            Some(i) => {
                order.push(i);
                current = i;
            }
            None => break,
        }
    }
    order.into_iter().map(|i| certs[i].der.clone()).collect()
}

/// Opens a PKCS#12 file with its work bounded (see [`pfx`]): the empty password first,
/// then the one `ask` supplies, asked only when needed.
pub(crate) fn open_pkcs12(
    source: &str,
    der: &[u8],
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>>,
) -> Result<pfx::Pkcs12Contents> {
    pfx::open(source, der, ask)
}
