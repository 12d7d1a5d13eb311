//! Test PKIs made with rcgen, in memory: root and intermediate CAs, cross-signs, and server
//! certificates from a [`Spec`] that a test bends into every kind of impostor (another
//! key under the same CA, another CA, a look-alike root, self-signed, expired, not yet
//! valid, the wrong name, a CA as leaf, clientAuth only).
//!
//! ```no_run
//! use pinset_testkit::pki::{Ca, Genuine, Spec, dns, ip};
//!
//! let site = Genuine::new(vec![ip("127.0.0.1"), dns("localhost.test")]);
//! let (evil_ca, impostor) = site.other_ca("evil root");
//! assert_ne!(site.leaf.pin(), impostor.pin());
//! let stale = site.expired();
//! // Or any certificate, spelled out:
//! let printer = Spec::server("printer", vec![ip("10.9.9.9")]).not_yet_valid().signed_by(&Ca::root("other"));
//! # let _ = (evil_ca, stale, printer);
//! ```
//!
//! For certificates made by openssl, as people make them by hand, see [`crate::openssl`].

use std::path::{Path, PathBuf};

use pinset::Pin;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData, SanType,
};
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;

/// `n` days from now (negative: in the past).
pub fn days_from_now(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(n)
}

/// An iPAddress subjectAltName.
pub fn ip(addr: &str) -> SanType {
    SanType::IpAddress(addr.parse().expect("an IP address"))
}

/// A dNSName subjectAltName.
pub fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().expect("a DNS name"))
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// A CA: its certificate and the issuer (name and key) that signs with it.
pub struct Ca {
    der: CertificateDer<'static>,
    pem: String,
    /// Signs certificates as this CA.
    pub issuer: Issuer<'static, KeyPair>,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = days_from_now(-1);
    params.not_after = days_from_now(365);
    params
}

impl Ca {
    /// A self-signed root CA named `CN=<cn>`, valid from yesterday for a year. Two roots of
    /// the same name have different keys: a look-alike of a site's root is `Ca::root` of
    /// its name.
    pub fn root(cn: &str) -> Ca {
        Ca::root_valid(cn, days_from_now(-1), days_from_now(365))
    }

    /// A self-signed root CA named `CN=<cn>`, valid over the given times.
    pub fn root_valid(cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Ca {
        let key = KeyPair::generate().expect("generate a root key");
        let mut params = ca_params(cn);
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.self_signed(&key).expect("self-sign the root");
        Ca { der: cert.der().clone(), pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// A CA from its certificate and key (PEM text), such as a pinset site's
    /// `pki/authority/ca.pem` and `ca.key` (see [`crate::site::ca_files`]): certificates
    /// signed by it chain to the site's anchor.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Ca {
        let key = KeyPair::from_pem(key_pem).expect("the CA's key (PEM)");
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key).expect("the CA's certificate (PEM)");
        let der = CertificateDer::from(pem_body(cert_pem));
        Ca { der, pem: cert_pem.to_string(), issuer }
    }

    /// [`Ca::from_pem`] of two files.
    pub fn from_files(cert: &Path, key: &Path) -> Ca {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
        Ca::from_pem(&read(cert), &read(key))
    }

    /// An intermediate CA named `CN=<cn>`, signed by this CA.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let key = KeyPair::generate().expect("generate an intermediate key");
        let params = ca_params(cn);
        let cert = params.signed_by(&key, &self.issuer).expect("sign the intermediate");
        Ca { der: cert.der().clone(), pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// Another certificate for this CA's name and key, signed by `other` (a cross-sign).
    pub fn cross_signed_by(&self, cn: &str, other: &Ca) -> rcgen::Certificate {
        ca_params(cn).signed_by(self.issuer.key(), &other.issuer).expect("cross-sign")
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.der.clone()
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.pem.clone()
    }

    /// The pin of the CA's key.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.issuer.key().subject_public_key_info())
    }

    /// Writes the CA certificate to `dir/NAME.pem` (for `-CAfile`, `--cacert`, …).
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        write(dir, &format!("{name}.pem"), &self.pem)
    }
}

/// The DER inside the first PEM block of `pem`.
fn pem_body(pem: &str) -> Vec<u8> {
    let certificates = pinset::input::read_certificates("CA certificate", pem.as_bytes()).expect("a PEM certificate");
    certificates.into_iter().next().expect("one certificate")
}

/// What a server (or impostor) certificate says. The fields are public so a test can bend
/// one of them; the methods cover the common impostors.
#[derive(Clone)]
pub struct Spec {
    /// The subject's CN.
    pub cn: String,
    /// Its subjectAltNames.
    pub sans: Vec<SanType>,
    /// Valid from.
    pub not_before: OffsetDateTime,
    /// Valid until.
    pub not_after: OffsetDateTime,
    /// Its extendedKeyUsage (empty: no extension).
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    /// Its basicConstraints (`NoCa`: no extension; `ExplicitNoCa`: CA:FALSE).
    pub is_ca: IsCa,
    /// Whether a certificate signed by a CA carries an authorityKeyIdentifier.
    pub authority_key_identifier: bool,
}

impl Spec {
    /// A TLS server certificate valid from yesterday for 30 days, KU digitalSignature, EKU
    /// serverAuth, no basicConstraints, no authorityKeyIdentifier.
    pub fn server(cn: &str, sans: Vec<SanType>) -> Spec {
        Spec {
            cn: cn.into(),
            sans,
            not_before: days_from_now(-1),
            not_after: days_from_now(30),
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            is_ca: IsCa::NoCa,
            authority_key_identifier: false,
        }
    }

    /// Valid from `not_before` to `not_after` instead.
    pub fn valid(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Spec {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Expired: valid from 30 days ago until yesterday.
    pub fn expired(self) -> Spec {
        self.valid(days_from_now(-30), days_from_now(-1))
    }

    /// Not yet valid: from tomorrow for 30 days.
    pub fn not_yet_valid(self) -> Spec {
        self.valid(days_from_now(1), days_from_now(30))
    }

    /// The same certificate for other names (a wrong-name impostor).
    pub fn named(mut self, sans: Vec<SanType>) -> Spec {
        self.sans = sans;
        self
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, self.cn.as_str());
        params.subject_alt_names = self.sans.clone();
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        params.extended_key_usages = self.eku.clone();
        params.is_ca = self.is_ca;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if matches!(self.is_ca, IsCa::Ca(_)) {
            params.key_usages.push(KeyUsagePurpose::KeyCertSign);
        }
        params.use_authority_key_identifier_extension = self.authority_key_identifier;
        params
    }

    /// Issues it with a new key, signed by `ca`.
    pub fn signed_by(&self, ca: &Ca) -> Identity {
        let key = KeyPair::generate().expect("generate a server key");
        let cert = self.params().signed_by(&key, &ca.issuer).expect("sign the server certificate");
        Identity { cert, key }
    }

    /// Issues it for `key` (PEM, PKCS#8: a pinset site's server key or standby key, so the
    /// certificate carries a key the site pins), signed by `ca`.
    pub fn signed_for_key(&self, ca: &Ca, key_pem: &str) -> Identity {
        let key = KeyPair::from_pem(key_pem).expect("a private key (PEM)");
        let cert = self.params().signed_by(&key, &ca.issuer).expect("sign the server certificate");
        Identity { cert, key }
    }

    /// Issues it with a new key, self-signed.
    pub fn self_signed(&self) -> Identity {
        let key = KeyPair::generate().expect("generate a server key");
        let cert = self.params().self_signed(&key).expect("self-sign the server certificate");
        Identity { cert, key }
    }
}

/// A certificate and its private key.
pub struct Identity {
    /// The certificate.
    pub cert: rcgen::Certificate,
    /// Its key.
    pub key: KeyPair,
}

impl Identity {
    /// The certificate, DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The pin of its key.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.key.subject_public_key_info())
    }

    /// Writes `dir/NAME.pem` (the certificate) and `dir/NAME.key` (its key) and returns
    /// their paths, for the peers that read files (`openssl s_server`, `nghttpd`, pinset).
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        (write(dir, &format!("{name}.pem"), &self.pem()), write(dir, &format!("{name}.key"), &self.key_pem()))
    }

    /// A rustls server configuration sending this certificate, then `chain` (PEMs, in the
    /// order sent), made by `pinset_tls::server_config` as pinset's own servers are.
    pub fn server_config(&self, chain: &[String]) -> rustls::ServerConfig {
        let mut pems = vec![self.pem()];
        pems.extend_from_slice(chain);
        server_config(&pems, &self.key_pem())
    }
}

/// A genuine site in one call: a root CA and a server certificate it issued, and the
/// impostors of that server a client must refuse, each a one-liner (the attacks an
/// interception harness plays).
pub struct Genuine {
    /// The site's root CA, named [`Genuine::ROOT_CN`].
    pub root: Ca,
    /// What the genuine certificate says.
    pub spec: Spec,
    /// The genuine server certificate and key, issued by `root`.
    pub leaf: Identity,
}

impl Genuine {
    /// The CN of the genuine root.
    pub const ROOT_CN: &'static str = "pinset test root";
    /// The CN of the genuine server certificate.
    pub const SERVER_CN: &'static str = "genuine server";

    /// A root and a server certificate for `sans` (see [`ip`] and [`dns`]).
    pub fn new(sans: Vec<SanType>) -> Genuine {
        let root = Ca::root(Genuine::ROOT_CN);
        let spec = Spec::server(Genuine::SERVER_CN, sans);
        let leaf = spec.signed_by(&root);
        Genuine { root, spec, leaf }
    }

    /// The genuine certificate's subject and names under the same CA, another key: only a
    /// pin on the leaf refuses it.
    pub fn other_key(&self) -> Identity {
        self.spec.signed_by(&self.root)
    }

    /// The genuine subject and names under another CA (named `CN=<ca_cn>`), returned with
    /// it: trust refuses it, unless that CA is trusted, and then only a pin does.
    pub fn other_ca(&self, ca_cn: &str) -> (Ca, Identity) {
        let ca = Ca::root(ca_cn);
        let leaf = self.spec.signed_by(&ca);
        (ca, leaf)
    }

    /// The genuine subject and names under a root that copies the genuine root's name with
    /// another key: the issuer name finds the genuine anchor, whose key does not verify it.
    pub fn lookalike_root(&self) -> (Ca, Identity) {
        self.other_ca(Genuine::ROOT_CN)
    }

    /// A self-signed copy of the genuine certificate's subject and names.
    pub fn self_signed_copy(&self) -> Identity {
        self.spec.self_signed()
    }

    /// The genuine certificate, expired (valid from 30 days ago until yesterday), from the
    /// genuine root.
    pub fn expired(&self) -> Identity {
        self.spec.clone().expired().signed_by(&self.root)
    }

    /// The genuine certificate for other names (`sans`), from the genuine root.
    pub fn wrong_name(&self, sans: Vec<SanType>) -> Identity {
        self.spec.clone().named(sans).signed_by(&self.root)
    }
}

/// A rustls server configuration sending `chain` (PEMs, leaf first, in the order sent)
/// with `key_pem`, made by `pinset_tls::server_config`.
pub fn server_config(chain: &[String], key_pem: &str) -> rustls::ServerConfig {
    pinset_tls::server_config(chain.concat().as_bytes(), key_pem.as_bytes()).expect("a server configuration")
}
