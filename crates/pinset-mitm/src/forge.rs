//! Forged certificates, made with rcgen: one per attack and dialled name, cached for the
//! run, each wrapped in the rustls server configuration that presents it. The keys are
//! generated once per run: the leaf key every forgery shares, the untrusted CA's and the
//! cloned CA's; the harness CA's is read from its folder.
//!
//! Every configuration refuses session resumption, so every connection makes a full
//! handshake and shows its client the forged chain again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use pinset::Host;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::NoServerSessionStorage;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer as _, GeneralName, ParsedExtension, X509Certificate, X509Name};

use crate::attack::Attack;
use crate::ca::HarnessCa;

/// Forged certificates live 30 days: long enough for any test run, short enough that one
/// left on a device means nothing for long.
const FORGED_DAYS: i64 = 30;

/// Forged certificates start an hour back, as pinset's own do, so a device whose clock
/// runs slow does not refuse them for that reason instead of the one tested.
const BACKDATE: Duration = Duration::hours(1);

/// Serial numbers: 16 random bytes, positive, as pinset issues them.
const SERIAL_BYTES: usize = 16;

/// A random positive serial number.
pub(crate) fn random_serial() -> pinset::Result<SerialNumber> {
    let mut bytes = [0u8; SERIAL_BYTES];
    pinset_tls::provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| pinset::Error::Crypto("the system random generator failed".into()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The names given to the wrong-name attack's certificate: documentation addresses and a
/// reserved name (RFC 5737, RFC 3849, RFC 2606) no client dials.
pub(crate) fn wrong_name(dialled: &Host) -> Host {
    let pick = |a: &str, b: &str| {
        let a = Host::parse(a).unwrap_or_else(|_| Host::Dns("wrong-name.invalid".into()));
        if &a == dialled { Host::parse(b).unwrap_or_else(|_| Host::Dns("wrong-name.invalid".into())) } else { a }
    };
    match dialled {
        Host::Ip(IpAddr::V4(_)) => pick("192.0.2.1", "192.0.2.2"),
        Host::Ip(IpAddr::V6(_)) => pick("2001:db8::1", "2001:db8::2"),
        Host::Dns(_) => pick("wrong-name.invalid", "other-wrong-name.invalid"),
    }
}

/// Makes and caches the forged server configurations of a run.
pub struct Forger {
    harness: Arc<HarnessCa>,
    untrusted: Issuer<'static, KeyPair>,
    untrusted_der: CertificateDer<'static>,
    leaf_key: KeyPair,
    leaf_key_der: PrivatePkcs8KeyDer<'static>,
    clone_key: KeyPair,
    site_ca: Option<CertificateDer<'static>>,
    cache: Mutex<HashMap<(Attack, String), Arc<rustls::ServerConfig>>>,
}

impl std::fmt::Debug for Forger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forger").field("harness", &self.harness).finish_non_exhaustive()
    }
}

impl Forger {
    /// A forger signing with `harness` for the trusted attacks; `site_ca` (the site's
    /// active CA certificate, when a site is given) is what the cloned-ca attack copies.
    pub fn new(harness: Arc<HarnessCa>, site_ca: Option<CertificateDer<'static>>) -> pinset::Result<Forger> {
        let generate = || KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(crypto);
        let untrusted_key = generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "pinset mitm untrusted CA (made for this run only)");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = now()?;
        params.not_before = now - BACKDATE;
        params.not_after = now + Duration::days(FORGED_DAYS);
        params.serial_number = Some(random_serial()?);
        let untrusted_der = params.self_signed(&untrusted_key).map_err(crypto)?.der().clone();
        let leaf_key = generate()?;
        let leaf_key_der = PrivatePkcs8KeyDer::from(leaf_key.serialize_der());
        Ok(Forger {
            harness,
            untrusted: Issuer::new(params, untrusted_key),
            untrusted_der,
            leaf_key,
            leaf_key_der,
            clone_key: generate()?,
            site_ca,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The server configuration presenting `attack`'s forgery for `dialled`. `genuine` is
    /// the chain the genuine server presents (leaf first), which the self-signed-copy
    /// attack needs, and the cloned-ca attack when no site CA was given. An error says
    /// why the attack cannot be played (the connection is then inconclusive).
    pub fn config(
        &self,
        attack: Attack,
        dialled: &Host,
        genuine: Option<&[CertificateDer<'static>]>,
    ) -> Result<Arc<rustls::ServerConfig>, String> {
        let key = (attack, dialled.to_string());
        if let Some(config) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(config.clone());
        }
        let chain = self.chain(attack, dialled, genuine)?;
        let config = Arc::new(server_config(chain, self.leaf_key_der.clone_key(), attack == Attack::Tls12Only)?);
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).insert(key, config.clone());
        Ok(config)
    }

    /// The forged chain, leaf first.
    fn chain(
        &self,
        attack: Attack,
        dialled: &Host,
        genuine: Option<&[CertificateDer<'static>]>,
    ) -> Result<Vec<CertificateDer<'static>>, String> {
        let fail = |e: rcgen::Error| format!("cannot forge the {attack} certificate: {e}");
        let now = now().map_err(|e| e.to_string())?;
        let fresh = (now - BACKDATE, now + Duration::days(FORGED_DAYS));
        let harness_der = CertificateDer::from(self.harness.cert_der.clone());
        let signed = |params: CertificateParams, issuer: &Issuer<'_, KeyPair>| {
            params.signed_by(&self.leaf_key, issuer).map(|c| c.der().clone()).map_err(fail)
        };
        Ok(match attack {
            Attack::UntrustedCa => vec![signed(leaf(dialled, fresh)?, &self.untrusted)?, self.untrusted_der.clone()],
            Attack::TrustedCa | Attack::Tls12Only => {
                vec![signed(leaf(dialled, fresh)?, &self.harness.issuer)?, harness_der]
            }
            Attack::Expired => {
                let past = (now - Duration::days(FORGED_DAYS), now - Duration::days(1));
                vec![signed(leaf(dialled, past)?, &self.harness.issuer)?, harness_der]
            }
            Attack::WrongName => vec![signed(leaf(&wrong_name(dialled), fresh)?, &self.harness.issuer)?, harness_der],
            Attack::ClonedCa => {
                let (clone_params, clone_der) = self.clone_ca(genuine)?;
                let issuer = Issuer::from_params(&clone_params, &self.clone_key);
                let leaf_der =
                    leaf(dialled, fresh)?.signed_by(&self.leaf_key, &issuer).map(|c| c.der().clone()).map_err(fail)?;
                vec![leaf_der, clone_der]
            }
            Attack::SelfSignedCopy => {
                let genuine_leaf = genuine
                    .and_then(|c| c.first())
                    .ok_or("the genuine certificate could not be fetched, so there is nothing to copy")?;
                let parsed = parse(genuine_leaf)?;
                let mut params = CertificateParams::default();
                params.distinguished_name = copy_name(parsed.subject());
                params.subject_alt_names = copy_sans(&parsed);
                (params.not_before, params.not_after) = fresh;
                params.serial_number = Some(random_serial().map_err(|e| e.to_string())?);
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                vec![params.self_signed(&self.leaf_key).map_err(fail)?.der().clone()]
            }
            Attack::Passthrough => return Err("the passthrough control forges nothing".into()),
        })
    }

    /// The cloned CA: the site CA's subject, serial number, key identifier and validity
    /// with the clone's key; without a site, the genuine chain's CA when the server sends
    /// it, else the genuine leaf's issuer name and authority key identifier.
    fn clone_ca(
        &self,
        genuine: Option<&[CertificateDer<'static>]>,
    ) -> Result<(CertificateParams, CertificateDer<'static>), String> {
        let mut params = CertificateParams::default();
        let source = self.site_ca.clone().or_else(|| {
            genuine.and_then(|chain| {
                chain.iter().skip(1).find(|c| parse(c).is_ok_and(|p| p.is_ca() || p.subject() == p.issuer())).cloned()
            })
        });
        if let Some(ca) = source {
            let parsed = parse(&ca)?;
            params.distinguished_name = copy_name(parsed.subject());
            params.serial_number = Some(SerialNumber::from_slice(parsed.raw_serial()));
            params.not_before = parsed.validity().not_before.to_datetime();
            params.not_after = parsed.validity().not_after.to_datetime();
            if let Some(ski) = parsed.extensions().iter().find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            }) {
                params.key_identifier_method = KeyIdMethod::PreSpecified(ski);
            }
        } else {
            let leaf = genuine
                .and_then(|c| c.first())
                .ok_or("no site CA was given and the genuine chain could not be fetched, so there is no CA to clone")?;
            let parsed = parse(leaf)?;
            params.distinguished_name = copy_name(parsed.issuer());
            params.serial_number = Some(random_serial().map_err(|e| e.to_string())?);
            let now = now().map_err(|e| e.to_string())?;
            (params.not_before, params.not_after) = (now - BACKDATE, now + Duration::days(FORGED_DAYS));
            if let Some(aki) = parsed.extensions().iter().find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref().map(|k| k.0.to_vec()),
                _ => None,
            }) {
                params.key_identifier_method = KeyIdMethod::PreSpecified(aki);
            }
        }
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let der =
            params.self_signed(&self.clone_key).map_err(|e| format!("cannot forge the cloned CA: {e}"))?.der().clone();
        Ok((params, der))
    }
}

/// A server configuration presenting `chain` with `key`: TLS 1.2 only when `tls12_only`,
/// else TLS 1.2 and 1.3; no ALPN (clients speak HTTP/1.1); no resumption.
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
    tls12_only: bool,
) -> Result<rustls::ServerConfig, String> {
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls12_only { &[&rustls::version::TLS12] } else { rustls::DEFAULT_VERSIONS };
    let mut config = rustls::ServerConfig::builder_with_provider(pinset_tls::provider())
        .with_protocol_versions(versions)
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, PrivateKeyDer::Pkcs8(key)))
        .map_err(|e| format!("cannot make a server configuration: {e}"))?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}

/// A forged leaf for `name`, valid over `(not_before, not_after)`: CN and one SAN (an
/// iPAddress for an IP), serverAuth, CA:FALSE, with an authority key identifier.
pub(crate) fn leaf(
    name: &Host,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name.to_string());
    params.subject_alt_names = vec![san(name)?];
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial().map_err(|e| e.to_string())?);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// The subjectAltName naming `host`.
pub(crate) fn san(host: &Host) -> Result<SanType, String> {
    match host {
        Host::Ip(ip) => Ok(SanType::IpAddress(*ip)),
        Host::Dns(d) => d.clone().try_into().map(SanType::DnsName).map_err(|_| format!("{d:?} is not an ASCII name")),
    }
}

fn parse<'a>(der: &'a CertificateDer<'_>) -> Result<X509Certificate<'a>, String> {
    X509Certificate::from_der(der).map(|(_, c)| c).map_err(|e| format!("the genuine certificate does not parse: {e}"))
}

/// A copy of an X.509 name, attribute by attribute, keeping each value's string type
/// where rcgen can write it (UTF-8 otherwise).
pub(crate) fn copy_name(name: &X509Name<'_>) -> DistinguishedName {
    use x509_parser::der_parser::asn1_rs::Tag;
    let mut dn = DistinguishedName::new();
    for attr in name.iter_attributes() {
        let Some(oid) = attr.attr_type().iter() else { continue };
        let ty = DnType::from_oid(&oid.collect::<Vec<_>>());
        let data = attr.attr_value().data;
        let text = String::from_utf8_lossy(data).into_owned();
        let value = match attr.attr_value().header.tag() {
            Tag::PrintableString => text.clone().try_into().map(DnValue::PrintableString).ok(),
            Tag::Ia5String => text.clone().try_into().map(DnValue::Ia5String).ok(),
            _ => None,
        }
        .unwrap_or(DnValue::Utf8String(text));
        dn.push(ty, value);
    }
    dn
}

/// The IP and DNS subjectAltNames of a certificate.
fn copy_sans(cert: &X509Certificate<'_>) -> Vec<SanType> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else { return Vec::new() };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(d) => d.to_string().try_into().ok().map(SanType::DnsName),
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b).ok().map(|a| SanType::IpAddress(IpAddr::from(a))),
                16 => <[u8; 16]>::try_from(*b).ok().map(|a| SanType::IpAddress(IpAddr::from(a))),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn now() -> pinset::Result<OffsetDateTime> {
    OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|e| pinset::Error::Crypto(format!("clock: {e}")))
}

fn crypto(e: rcgen::Error) -> pinset::Error {
    pinset::Error::Crypto(format!("cannot make a key: {e}"))
}
