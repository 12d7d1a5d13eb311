//! Mutual TLS: client certificates checked against the site's CA, its revocation list
//! (`pki/crl.pem`) and the ledger's revocations, and an allow-list of client names; the
//! identity of a verified client as the upstream receives it.
//!
//! The ledger is checked as well as the list so that a revocation the list does not carry
//! yet (an interrupted revocation, a deleted list) still refuses the client.

use std::collections::HashSet;
use std::sync::Arc;

use pinset::{Pin, Site, SiteTrust};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::error::Error;

/// Whether clients must present a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// No certificate is asked for.
    #[default]
    Off,
    /// A certificate is asked for and checked when presented; clients without one are
    /// served too (the upstream sees no identity headers).
    Optional,
    /// Only clients with a valid certificate of the site get a connection.
    Require,
}

/// Header names of the verified client identity sent upstream. Any request header whose
/// name starts with [`IDENTITY_HEADER_PREFIX`] is removed before these are set.
pub const IDENTITY_HEADERS: [&str; 4] =
    ["x-client-cert-subject", "x-client-cert-san", "x-client-cert-serial", "x-client-cert-pin"];
/// The prefix of every identity header.
pub const IDENTITY_HEADER_PREFIX: &str = "x-client-cert-";

/// A verified client certificate, as the upstream is told about it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ClientIdentity {
    /// The certificate's CN: the client's name in the site.
    pub name: String,
    /// The whole subject, CN first.
    pub subject: String,
    /// Its subjectAltNames, `IP:…`/`DNS:…`/`email:…`.
    pub sans: Vec<String>,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// SPKI pin of its key.
    pub pin: Pin,
}

impl ClientIdentity {
    /// The identity of a certificate (DER); `None` if it does not parse.
    pub fn of(der: &[u8]) -> Option<ClientIdentity> {
        let s = pinset::cert::summarize("client certificate", der, time::OffsetDateTime::now_utc()).ok()?;
        let cert = pinset::cert::parse("client certificate", der).ok()?;
        let name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string)
            .unwrap_or_default();
        Some(ClientIdentity {
            name,
            subject: s.subject,
            sans: s.sans.iter().map(ToString::to_string).collect(),
            serial: s.serial,
            pin: s.spki_sha256,
        })
    }
}

/// The site's client verifier for `mode`, and how many certificates its revocation list
/// names. `allowed`: client names let in (empty: all).
pub(crate) fn verifier(
    site: &Site,
    trust: &SiteTrust,
    mode: ClientAuth,
    allowed: &[String],
) -> Result<(Arc<dyn ClientCertVerifier>, usize), Error> {
    if mode == ClientAuth::Off {
        return Ok((WebPkiClientVerifier::no_client_auth(), 0));
    }
    if trust.mode != pinset::plan::AuthorityMode::Ca {
        return Err(Error::Value {
            what: "site",
            value: trust.site.clone(),
            problem: "is self-signed: client certificates need a site with a private CA".into(),
        });
    }
    let mut roots = rustls::RootCertStore::empty();
    for a in &trust.anchors {
        roots
            .add(CertificateDer::from(a.der.clone()))
            .map_err(|e| Error::cert(&a.path, format!("cannot trust it for client certificates: {e}")))?;
    }
    let crl_path = site.crl_path();
    let mut crls = Vec::new();
    let mut listed = 0;
    if crl_path.exists() {
        let bytes = std::fs::read(&crl_path).map_err(|e| Error::cert(&crl_path, format!("cannot read: {e}")))?;
        for crl in CertificateRevocationListDer::pem_slice_iter(&bytes) {
            let crl = crl.map_err(|e| Error::cert(&crl_path, format!("is not a PEM revocation list: {e}")))?;
            listed += count_revoked(&crl).ok_or_else(|| Error::cert(&crl_path, "holds a damaged revocation list"))?;
            crls.push(crl);
        }
        if crls.is_empty() {
            return Err(Error::cert(&crl_path, "holds no revocation list"));
        }
    }
    let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), pinset_tls::provider())
        .with_crls(crls)
        .only_check_end_entity_revocation()
        // A client certificate of the standby CA (after a rotation) is not in the active
        // CA's list; the ledger check below still covers it.
        .allow_unknown_revocation_status();
    if mode == ClientAuth::Optional {
        builder = builder.allow_unauthenticated();
    }
    let inner =
        builder.build().map_err(|e| Error::cert(&crl_path, format!("cannot use for client certificates: {e}")))?;
    let revoked = site.ledger()?.revoked()?.into_iter().filter_map(|e| unhex(&e.serial)).collect::<HashSet<Vec<u8>>>();
    let latest = LatestList { stamp: FileStamp::of(&crl_path), serials: HashSet::new() };
    Ok((
        Arc::new(SiteClientVerifier {
            inner,
            revoked,
            allowed: allowed.to_vec(),
            crl_path,
            latest: std::sync::Mutex::new(latest),
        }),
        listed,
    ))
}

fn count_revoked(crl: &CertificateRevocationListDer<'_>) -> Option<usize> {
    use x509_parser::prelude::FromDer as _;
    let (_, parsed) = x509_parser::revocation_list::CertificateRevocationList::from_der(crl.as_ref()).ok()?;
    Some(parsed.iter_revoked_certificates().count())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// rustls' WebPKI client verifier, then the ledger's revocations, the revocation list as
/// it is on disk now, and the allow-list.
#[derive(Debug)]
struct SiteClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    revoked: HashSet<Vec<u8>>,
    allowed: Vec<String>,
    crl_path: std::path::PathBuf,
    latest: std::sync::Mutex<LatestList>,
}

/// The serials of a revocation list written after this verifier was built. The reload
/// that follows a new list takes a moment (the folder watch settles first); until it has
/// swapped the configuration, each handshake looks at the file itself (one `stat`, and a
/// read when it changed), so a revoked client is refused from the very next handshake.
/// Only refusals come from here: trust still comes from the verified configuration.
#[derive(Debug)]
struct LatestList {
    stamp: Option<FileStamp>,
    serials: HashSet<Vec<u8>>,
}

/// What tells one version of a file from the next: a list is replaced by rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileStamp {
    fn of(path: &std::path::Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp { inode: m.ino(), len: m.len(), modified: m.modified().ok() })
    }
}

impl SiteClientVerifier {
    /// Whether the revocation list on disk now names `serial`.
    fn listed_now(&self, serial: &[u8]) -> bool {
        let stamp = FileStamp::of(&self.crl_path);
        let Ok(mut latest) = self.latest.lock() else { return false };
        if latest.stamp != stamp {
            latest.serials = std::fs::read(&self.crl_path).map(|pem| serials_in(&pem)).unwrap_or_default();
            latest.stamp = stamp;
        }
        latest.serials.contains(serial)
    }
}

/// The serial numbers a PEM revocation list names (none if it does not parse).
fn serials_in(pem: &[u8]) -> HashSet<Vec<u8>> {
    use x509_parser::prelude::FromDer as _;
    let mut out = HashSet::new();
    for crl in CertificateRevocationListDer::pem_slice_iter(pem).flatten() {
        if let Ok((_, parsed)) = x509_parser::revocation_list::CertificateRevocationList::from_der(crl.as_ref()) {
            out.extend(parsed.iter_revoked_certificates().map(|r| r.raw_serial().to_vec()));
        }
    }
    out
}

impl ClientCertVerifier for SiteClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let cert = pinset::cert::parse("client certificate", end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        if self.revoked.contains(cert.raw_serial()) || self.listed_now(cert.raw_serial()) {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
        }
        if !self.allowed.is_empty() {
            let name = cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).unwrap_or_default();
            if !self.allowed.iter().any(|a| a == name) {
                return Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure));
            }
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why a handshake failed, as the metrics and the log name it.
pub(crate) fn failure_reason(err: &std::io::Error) -> &'static str {
    use rustls::Error as E;
    if err.kind() == std::io::ErrorKind::TimedOut {
        return "timeout";
    }
    let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) else {
        return match err.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => "closed",
            _ => "other",
        };
    };
    match tls {
        E::NoCertificatesPresented => "no-client-certificate",
        E::InvalidCertificate(CertificateError::Revoked) => "client-certificate-revoked",
        E::InvalidCertificate(CertificateError::ApplicationVerificationFailure) => "client-not-allowed",
        E::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. } | CertificateError::NotValidYet,
        ) => "client-certificate-expired",
        E::InvalidCertificate(_) => "client-certificate-untrusted",
        _ => "protocol",
    }
}
