//! [`PinnedVerifier`]: a rustls `ServerCertVerifier` that validates the chain against the
//! site's anchors, checks the dialled name (DNS against dNSName SANs, IP literals against
//! iPAddress SANs, never the CN), then requires a pin to match a certificate of the
//! *validated* chain, the anchor included even when the server did not send it — the
//! semantics of Android's Network Security Config.
//!
//! Every failure is a [`VerifyError`] with a [`FailureKind`], whose message lists the chain
//! as `sha256/<b64>: <subject>` lines and the expected pins, as OkHttp's does.
//!
//! Besides what webpki checks, the leaf must carry a key a TLS client verifies with this
//! provider (a handshake with any other fails later, on its signature: checking here makes
//! offline `verify` and a handshake refuse it alike, with [`FailureKind::UnsupportedKey`]),
//! and must not be allowed to sign certificates (keyUsage keyCertSign: a CA's key).
//! Certificate revocation lists given to the builder are checked for the whole chain.
//!
//! A verifier is shared by every connection made with it; what one connection concluded is
//! kept per connection by [`crate::outcome`], never in the verifier.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use pinset::{Host, Pin};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::TrustAnchor;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};

use crate::provider;

/// Why a server's certificate was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailureKind {
    /// A certificate of the chain has expired.
    Expired,
    /// A certificate of the chain is not valid yet.
    NotYetValid,
    /// The certificate does not name the address or host that was dialled.
    NameMismatch,
    /// No chain leads to a trusted anchor (an untrusted root, or a missing intermediate).
    UnknownIssuer,
    /// The chain is valid but no certificate in it carries a pinned key.
    PinMismatch,
    /// The server presented a CA certificate as its own.
    CaUsedAsEndEntity,
    /// The certificate is not for TLS servers (EKU without serverAuth, or a leaf used as CA).
    BadUsage,
    /// A signature in the chain does not verify, or uses an unsupported algorithm.
    BadSignature,
    /// A certificate is not valid DER.
    Malformed,
    /// The server's key is of a type or size TLS clients do not verify (RSA under 2048
    /// bits, P-192, DSA, secp256k1 …).
    UnsupportedKey,
    /// A certificate of the chain is listed in a revocation list.
    Revoked,
    /// The address dialled is not one of the site's: no pins are known for it.
    NotSiteAddress,
    /// Any other refusal (constraints, a stale revocation list …); the detail says which.
    Other,
}

impl FailureKind {
    /// One line saying what kind of refusal this is.
    pub fn summary(self) -> &'static str {
        match self {
            FailureKind::Expired => "a certificate of the chain has expired",
            FailureKind::NotYetValid => "a certificate of the chain is not valid yet",
            FailureKind::NameMismatch => "the certificate is not valid for the address dialled",
            FailureKind::UnknownIssuer => "the chain does not lead to a trusted anchor",
            FailureKind::PinMismatch => "certificate pinning failure: no pinned key in the validated chain",
            FailureKind::CaUsedAsEndEntity => "the server presented a CA certificate as its own",
            FailureKind::BadUsage => "the certificate is not allowed for TLS servers",
            FailureKind::BadSignature => "a signature in the chain is invalid or unsupported",
            FailureKind::Malformed => "a certificate is malformed",
            FailureKind::UnsupportedKey => "the server's key is of a type or size TLS clients refuse",
            FailureKind::Revoked => "a certificate of the chain is revoked",
            FailureKind::NotSiteAddress => "no pins are known",
            FailureKind::Other => "the certificate was refused",
        }
    }
}

/// Where a certificate stands in a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    /// The server's own certificate.
    Leaf,
    /// A CA certificate between leaf and anchor.
    Intermediate,
    /// The trust anchor the chain validated to.
    Anchor,
}

/// One certificate of a chain, as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainLink {
    /// Its place in the chain.
    pub position: Position,
    /// The SPKI pin of its key.
    pub pin: Pin,
    /// Its subject, CN first.
    pub subject: String,
    /// Whether the server sent it (an anchor usually is not sent).
    pub sent: bool,
}

/// What the pin check concluded for an accepted chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum PinCheck {
    /// A pinned key is in the validated chain.
    Matched {
        /// The pin that matched.
        pin: Pin,
        /// Where in the chain.
        position: Position,
    },
    /// The pins have expired: they were skipped and only the anchors were enforced.
    Expired {
        /// The last day the pins applied (UTC).
        expired_after: time::Date,
    },
    /// No pins are configured: anchors alone decide.
    NoPins,
    /// Report-only mode: no pin matched, the mismatch was reported and the connection
    /// allowed.
    MismatchReported,
    /// Pin-only mode: the name was not checked; a pin matched instead.
    MatchedWithoutNameCheck {
        /// The pin that matched.
        pin: Pin,
    },
}

/// An accepted chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// The validated chain, leaf first, anchor last.
    pub chain: Vec<ChainLink>,
    /// What the pin check concluded.
    pub pins: PinCheck,
}

/// A refused chain: the kind, the name dialled, the chain seen and the pins expected.
#[derive(Clone, Debug)]
pub struct VerifyError {
    /// Why it was refused.
    pub kind: FailureKind,
    /// The server name or address dialled.
    pub server_name: String,
    /// The chain: the validated one for a pin mismatch, else what the server sent.
    pub chain: Vec<ChainLink>,
    /// The pins that would have been accepted.
    pub expected_pins: Vec<Pin>,
    /// The validation library's own words.
    pub detail: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} for {}: {}", self.kind.summary(), self.server_name, self.detail)?;
        let title = if self.kind == FailureKind::PinMismatch { "Validated chain" } else { "Peer certificate chain" };
        writeln!(f, "  {title}:")?;
        for link in &self.chain {
            let note = match (link.position, link.sent) {
                (Position::Anchor, false) => " (trust anchor, not sent)",
                (Position::Anchor, true) => " (trust anchor)",
                _ => "",
            };
            writeln!(f, "    sha256/{}: {}{note}", link.pin, link.subject)?;
        }
        if !self.expected_pins.is_empty() {
            writeln!(f, "  Pinned certificates for {}:", self.server_name)?;
            for pin in &self.expected_pins {
                writeln!(f, "    sha256/{pin}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

impl VerifyError {
    /// Finds pinset's typed error inside a rustls error, if that is what it carries.
    pub fn from_rustls(err: &rustls::Error) -> Option<&VerifyError> {
        match err {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
                inner.downcast_ref::<VerifyError>()
            }
            _ => None,
        }
    }
}

/// Receives pin mismatches in report-only mode.
pub type Reporter = Arc<dyn Fn(&VerifyError) + Send + Sync>;

/// Called with every verification result: the chain accepted, or the error.
pub type Observer = Arc<dyn Fn(Result<&Verified, &VerifyError>) + Send + Sync>;

struct Anchor {
    trust_anchor: TrustAnchor<'static>,
    subject: String,
    /// Its SubjectPublicKeyInfo, the whole SEQUENCE, and the pin of it: computed once.
    spki: Vec<u8>,
    pin: Pin,
}

/// Addresses (perhaps `*.` patterns) and the pins shown on them.
type AddressPins = Vec<(Vec<Host>, Vec<Pin>)>;

/// Which pins an address must show.
#[derive(Clone, Debug)]
enum PinPolicy {
    /// The same pins for every address dialled (none: anchors alone decide).
    Every(Vec<Pin>),
    /// Each address its own pins; an address no entry covers is refused.
    PerAddress {
        /// The site's name, for messages.
        site: String,
        /// Addresses and the pins shown on them.
        entries: AddressPins,
    },
}

/// The pinning verifier. Build one with [`PinnedVerifier::builder`], or a site's with
/// [`crate::SiteVerifier`].
pub struct PinnedVerifier {
    anchors: Vec<Anchor>,
    trust_anchors: Vec<TrustAnchor<'static>>,
    policy: PinPolicy,
    pins_expire_after: Option<time::Date>,
    report_only: Option<Reporter>,
    pin_only: bool,
    observer: Option<Observer>,
    crls: Vec<webpki::CertRevocationList<'static>>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for PinnedVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedVerifier")
            .field("anchors", &self.anchors.iter().map(|a| &a.subject).collect::<Vec<_>>())
            .field("policy", &self.policy)
            .field("pins_expire_after", &self.pins_expire_after)
            .field("report_only", &self.report_only.is_some())
            .field("pin_only", &self.pin_only)
            .field("crls", &self.crls.len())
            .finish()
    }
}

/// Errors building a verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An anchor certificate cannot be used.
    #[error("trust anchor {subject}: {detail}")]
    BadAnchor {
        /// Which anchor.
        subject: String,
        /// Why.
        detail: String,
    },
    /// A certificate revocation list cannot be used.
    #[error("revocation list {source_name}: {detail}")]
    BadCrl {
        /// Which list (its file, or its position).
        source_name: String,
        /// Why.
        detail: String,
    },
    /// Neither anchors nor system roots: nothing could ever validate.
    #[error("no trust anchors: give the site's CA (or the self-signed certificate), or use system roots")]
    NoAnchors,
    /// Pin-only mode without pins would accept any certificate from any trusted anchor for
    /// any name.
    #[error("pin-only mode needs at least one pin")]
    PinOnlyWithoutPins,
    /// A value handed to a builder (an address, a pin, a date) is not acceptable.
    #[error("{0}")]
    Value(pinset::Error),
    /// Reading the site failed.
    #[error("{0}")]
    Site(#[source] pinset::Error),
}

impl BuildError {
    /// What the user can do about it, when the error comes from the pinset library.
    pub fn remedy(&self) -> Option<&pinset::Remedy> {
        match self {
            BuildError::Value(e) | BuildError::Site(e) => e.remedy(),
            _ => None,
        }
    }
}

impl From<pinset::Error> for BuildError {
    fn from(e: pinset::Error) -> BuildError {
        BuildError::Site(e)
    }
}

/// Builds a [`PinnedVerifier`].
#[derive(Default)]
pub struct Builder {
    anchors: Vec<CertificateDer<'static>>,
    system_roots: bool,
    pins: Vec<Pin>,
    per_address: Option<(String, AddressPins)>,
    pins_expire_after: Option<time::Date>,
    report_only: Option<Reporter>,
    pin_only: bool,
    observer: Option<Observer>,
    crls: Vec<(String, Vec<u8>)>,
}

impl Builder {
    /// Trusts this certificate (DER) as an anchor.
    pub fn anchor(mut self, der: CertificateDer<'static>) -> Self {
        self.anchors.push(der);
        self
    }

    /// Also trusts the operating system's roots.
    pub fn with_system_roots(mut self) -> Self {
        self.system_roots = true;
        self
    }

    /// Requires this pin for every address (any one pin matching passes).
    pub fn pin(mut self, pin: Pin) -> Self {
        self.pins.push(pin);
        self
    }

    /// Each address its own pins: `hosts` (IP addresses, DNS names, `*.` patterns covering
    /// one label) must show one of `pins`. Once called, an address no call covers is
    /// refused ([`FailureKind::NotSiteAddress`]); `site` names the site in that refusal.
    pub(crate) fn address_pins(mut self, site: &str, hosts: Vec<Host>, pins: Vec<Pin>) -> Self {
        let (_, entries) = self.per_address.get_or_insert_with(|| (site.to_string(), Vec::new()));
        entries.push((hosts, pins));
        self
    }

    /// Pins apply up to and including this day (UTC); after it they are skipped, anchors
    /// still enforced.
    pub fn pins_expire_after(mut self, last_day: time::Date) -> Self {
        self.pins_expire_after = Some(last_day);
        self
    }

    /// Report-only: a pin mismatch is passed to `report` and the connection proceeds.
    /// Chain, time and name are still enforced.
    pub fn report_only(mut self, report: impl Fn(&VerifyError) + Send + Sync + 'static) -> Self {
        self.report_only = Some(Arc::new(report));
        self
    }

    /// For a self-signed server whose addresses change (DHCP): a pin match replaces the
    /// name check. The chain and validity times are still checked. Requires pins.
    pub fn pin_only_without_name_check(mut self) -> Self {
        self.pin_only = true;
        self
    }

    /// Calls `observer` with every verification result.
    pub fn observe(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Checks the chain against this certificate revocation list (DER); `source` names it in
    /// errors. A certificate listed in it is refused ([`FailureKind::Revoked`]); a list past
    /// its nextUpdate refuses everything it covers, since it may hide a revocation.
    pub fn crl(mut self, source: &str, der: Vec<u8>) -> Self {
        self.crls.push((source.to_string(), der));
        self
    }

    /// Builds the verifier.
    pub fn build(self) -> Result<Arc<PinnedVerifier>, BuildError> {
        let mut anchors = Vec::new();
        for der in self.anchors.iter().cloned() {
            anchors.push(anchor_of(der)?);
        }
        if self.system_roots {
            let loaded = rustls_native_certs::load_native_certs();
            for der in loaded.certs {
                // A damaged system root is skipped, as rustls' own platform loading does.
                if let Ok(a) = anchor_of(der) {
                    anchors.push(a);
                }
            }
        }
        if anchors.is_empty() {
            return Err(BuildError::NoAnchors);
        }
        let policy = match self.per_address {
            Some((site, mut entries)) => {
                // Explicit pins join every address's own.
                for (_, pins) in &mut entries {
                    pins.extend(self.pins.iter().copied());
                }
                PinPolicy::PerAddress { site, entries }
            }
            None => PinPolicy::Every(self.pins),
        };
        if self.pin_only && matches!(&policy, PinPolicy::Every(p) if p.is_empty()) {
            return Err(BuildError::PinOnlyWithoutPins);
        }
        let mut crls = Vec::new();
        for (source, der) in self.crls {
            let crl = webpki::OwnedCertRevocationList::from_der(&der)
                .map_err(|e| BuildError::BadCrl { source_name: source.clone(), detail: describe(&e) })?;
            crls.push(webpki::CertRevocationList::Owned(crl));
        }
        Ok(Arc::new(PinnedVerifier {
            trust_anchors: anchors.iter().map(|a| a.trust_anchor.clone()).collect(),
            anchors,
            policy,
            pins_expire_after: self.pins_expire_after,
            report_only: self.report_only,
            pin_only: self.pin_only,
            observer: self.observer,
            crls,
            provider: provider(),
        }))
    }
}

fn anchor_of(der: CertificateDer<'static>) -> Result<Anchor, BuildError> {
    let subject = subject_of(&der);
    let trust_anchor = webpki::anchor_from_trusted_cert(&der)
        .map_err(|e| BuildError::BadAnchor { subject: subject.clone(), detail: e.to_string() })?
        .to_owned();
    let spki = der_sequence(trust_anchor.subject_public_key_info.as_ref());
    let pin = Pin::of_spki(&spki);
    Ok(Anchor { trust_anchor, subject, spki, pin })
}

/// webpki keeps an anchor's SubjectPublicKeyInfo without its outer SEQUENCE: re-wrap it
/// before hashing, or a root pin never matches.
pub fn anchor_pin(anchor: &TrustAnchor<'_>) -> Pin {
    Pin::of_spki(&der_sequence(anchor.subject_public_key_info.as_ref()))
}

fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn subject_of(der: &[u8]) -> String {
    match pinset::cert::parse("", der) {
        Ok(c) => pinset::cert::name_to_string(c.subject()),
        Err(_) => "(unparseable certificate)".into(),
    }
}

/// A chain link for a certificate, parsed once. `None` for a certificate that does not
/// parse: it has no key to pin, and hashing its bytes instead would mislabel a
/// certificate fingerprint as a pin.
fn link(position: Position, der: &[u8], sent: bool) -> Option<ChainLink> {
    let cert = pinset::cert::parse("", der).ok()?;
    Some(ChainLink {
        position,
        pin: Pin::of_spki(cert.public_key().raw),
        subject: pinset::cert::name_to_string(cert.subject()),
        sent,
    })
}

/// A chain link from a certificate webpki has already parsed: its key from webpki, its
/// subject formatted from the raw name (no second parse of the whole certificate).
fn link_of_cert(position: Position, cert: &webpki::Cert<'_>) -> ChainLink {
    use x509_parser::prelude::FromDer as _;
    let subject = x509_parser::x509::X509Name::from_der(&der_sequence(cert.subject()))
        .map(|(_, name)| pinset::cert::name_to_string(&name))
        .unwrap_or_default();
    ChainLink { position, pin: Pin::of_spki(cert.subject_public_key_info().as_ref()), subject, sent: true }
}

/// The dialled name as an address.
pub(crate) fn host_of(name: &ServerName<'_>) -> Option<Host> {
    match name {
        ServerName::IpAddress(ip) => Some(Host::Ip(std::net::IpAddr::from(*ip))),
        ServerName::DnsName(d) => Some(Host::Dns(d.as_ref().trim_end_matches('.').to_ascii_lowercase())),
        _ => None,
    }
}

impl PinnedVerifier {
    /// A builder with nothing trusted and nothing pinned yet.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The pins this verifier requires for `server_name`: `None` when it covers no such
    /// address (a site verifier asked about an address that is not the site's).
    pub fn pins_for(&self, server_name: &ServerName<'_>) -> Option<Vec<Pin>> {
        match &self.policy {
            PinPolicy::Every(pins) => Some(pins.clone()),
            PinPolicy::PerAddress { entries, .. } => {
                let host = host_of(server_name)?;
                let mut out: Vec<Pin> = Vec::new();
                let mut covered = false;
                for (hosts, pins) in entries {
                    if hosts.iter().any(|h| h.matches(&host)) {
                        covered = true;
                        out.extend(pins.iter().filter(|p| !out.contains(p)).copied().collect::<Vec<_>>());
                    }
                }
                covered.then_some(out)
            }
        }
    }

    /// Verifies a chain for `server_name` at `now`, offline: the same checks a handshake
    /// makes.
    pub fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<Verified, VerifyError> {
        let result = self.verify_inner(end_entity, intermediates, server_name, now);
        if let Some(observer) = &self.observer {
            observer(result.as_ref());
        }
        result
    }

    fn verify_inner(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<Verified, VerifyError> {
        let name = server_name.to_str().into_owned();
        let sent_chain = || {
            std::iter::once(link(Position::Leaf, end_entity, true))
                .chain(intermediates.iter().map(|c| link(Position::Intermediate, c, true)))
                .flatten()
                .collect::<Vec<_>>()
        };
        let pins = match self.pins_for(server_name) {
            Some(pins) => pins,
            None => {
                let PinPolicy::PerAddress { site, entries } = &self.policy else { unreachable_policy() };
                let addresses: Vec<String> =
                    entries.iter().flat_map(|(h, _)| h.iter().map(ToString::to_string)).collect();
                return Err(VerifyError {
                    kind: FailureKind::NotSiteAddress,
                    server_name: name,
                    chain: sent_chain(),
                    expected_pins: Vec::new(),
                    detail: format!("it is not an address of site {site:?}, which answers on {}", addresses.join(", ")),
                });
            }
        };
        let fail = |kind: FailureKind, detail: String, chain: Vec<ChainLink>| VerifyError {
            kind,
            server_name: name.clone(),
            chain,
            expected_pins: pins.clone(),
            detail,
        };
        let cert = EndEntityCert::try_from(end_entity)
            .map_err(|e| fail(FailureKind::Malformed, describe(&e), sent_chain()))?;
        // The leaf is parsed once more, by x509-parser, for what webpki does not expose (its
        // subject as text, its key's type and size, its key usage); the chain's other
        // certificates are read from webpki's own parse.
        let leaf = pinset::cert::parse("", end_entity).ok();
        let leaf_link = leaf.as_ref().map_or_else(
            || link_of_cert(Position::Leaf, &cert),
            |l| ChainLink {
                position: Position::Leaf,
                pin: Pin::of_spki(l.public_key().raw),
                subject: pinset::cert::name_to_string(l.subject()),
                sent: true,
            },
        );
        let pins_apply = !pins.is_empty() && !self.pins_expired(now);
        // The pin check runs inside path building, so that any validated path carrying a
        // pinned key is accepted (webpki tries the others when one is refused here).
        let matched: RefCell<Option<AcceptedPath>> = RefCell::new(None);
        let mismatched: RefCell<Option<Vec<ChainLink>>> = RefCell::new(None);
        let check_path = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let chain = self.path_links(path, &leaf_link, end_entity, intermediates);
            if !pins_apply {
                *matched.borrow_mut() = Some((None, chain));
                return Ok(());
            }
            match chain.iter().find(|l| pins.contains(&l.pin)) {
                Some(l) => {
                    *matched.borrow_mut() = Some((Some((l.pin, l.position)), chain));
                    Ok(())
                }
                None => {
                    *mismatched.borrow_mut() = Some(chain);
                    // Any non-fatal error makes webpki try the next path; UnknownIssuer is
                    // the one it carries forward. Told apart below by `mismatched`.
                    Err(webpki::Error::UnknownIssuer)
                }
            }
        };
        let crl_refs: Vec<&webpki::CertRevocationList<'_>> = self.crls.iter().collect();
        let revocation = match webpki::RevocationOptionsBuilder::new(&crl_refs) {
            Ok(b) => Some(
                b.with_depth(webpki::RevocationCheckDepth::Chain)
                    // A certificate whose issuer no list covers (an anchor's own) is allowed.
                    .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                    .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                    .build(),
            ),
            Err(_) => None,
        };
        let verified = cert.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &self.trust_anchors,
            intermediates,
            now,
            KeyUsage::server_auth(),
            revocation,
            Some(&check_path),
        );
        let check_name = || {
            cert.verify_is_valid_for_subject_name(server_name).map_err(|e| {
                // The names the certificate carries, each with its type, from the leaf as
                // parsed above; webpki's own list is a debug rendering.
                let detail = match (&e, &leaf) {
                    (webpki::Error::CertNotValidForName(_), Some(l)) => names_detail(l),
                    _ => describe(&e),
                };
                fail(FailureKind::NameMismatch, detail, sent_chain())
            })
        };
        if let Err(e) = verified {
            // Every path that validated was refused only for its pins: the chain is good,
            // the pins are not. The name is still checked first, so a misnamed
            // certificate is reported as such.
            if let (webpki::Error::UnknownIssuer, Some(chain)) = (&e, mismatched.borrow_mut().take()) {
                // A mismatch merely reported vouches for nothing: pin-only mode checks the
                // name then too.
                if !self.pin_only || self.report_only.is_some() {
                    check_name()?;
                }
                let detail = format!("none of the {} pinned keys is in this chain", pins.len());
                let error = fail(FailureKind::PinMismatch, detail, chain);
                return match &self.report_only {
                    Some(report) => {
                        report(&error);
                        Ok(Verified { chain: error.chain, pins: PinCheck::MismatchReported })
                    }
                    None => Err(error),
                };
            }
            return Err(fail(kind_of(&e), describe(&e), sent_chain()));
        }
        let Some((pin_match, chain)) = matched.into_inner() else {
            return Err(fail(FailureKind::Other, "no validated path".into(), sent_chain()));
        };
        // Pin-only mode replaces the name check with a pin match, so only a match skips
        // it: with the pins expired, the name is checked.
        if !(self.pin_only && pins_apply) {
            check_name()?;
        }
        // What a handshake would refuse later (a key it cannot verify a signature with) or
        // should refuse (a certificate-signing key), refused here so offline checks agree.
        // A self-signed certificate that is itself the anchor (a self-signed site's server)
        // signs its own certificate, so its keyCertSign is its due (OpenSSL needs it there).
        let own_anchor = chain.len() == 2 && chain[0].pin == chain[1].pin;
        if let Some((kind, detail)) = leaf.as_ref().and_then(|l| leaf_refusal(l, own_anchor)) {
            return Err(fail(kind, detail, chain));
        }
        let pins = match (pin_match, self.pins_expire_after) {
            _ if pins.is_empty() => PinCheck::NoPins,
            (None, Some(expired_after)) => PinCheck::Expired { expired_after },
            (None, None) => PinCheck::NoPins,
            (Some((pin, _)), _) if self.pin_only => PinCheck::MatchedWithoutNameCheck { pin },
            (Some((pin, position)), _) => PinCheck::Matched { pin, position },
        };
        Ok(Verified { chain, pins })
    }

    fn pins_expired(&self, now: UnixTime) -> bool {
        let Some(last_day) = self.pins_expire_after else { return false };
        let today =
            OffsetDateTime::from_unix_timestamp(now.as_secs() as i64).map(|t| t.date()).unwrap_or(time::Date::MAX);
        today > last_day
    }

    fn path_links(
        &self,
        path: &webpki::VerifiedPath<'_>,
        leaf: &ChainLink,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> Vec<ChainLink> {
        let mut chain = vec![leaf.clone()];
        for c in path.intermediate_certificates() {
            chain.push(link_of_cert(Position::Intermediate, c));
        }
        let anchor = path.anchor();
        let known =
            self.anchors.iter().find(|a| a.trust_anchor.subject_public_key_info == anchor.subject_public_key_info);
        let (pin, subject, spki) = match known {
            Some(a) => (a.pin, a.subject.clone(), a.spki.clone()),
            None => {
                let spki = der_sequence(anchor.subject_public_key_info.as_ref());
                (Pin::of_spki(&spki), String::new(), spki)
            }
        };
        // Whether the server sent a certificate with the anchor's key (a self-signed
        // server's certificate is its own anchor, sent as the leaf): a certificate carries
        // its key's SubjectPublicKeyInfo verbatim, so its bytes contain the anchor's.
        // (The first two bytes are compared before the rest: most windows differ there, and a
        // call to compare the whole of each cost more than a pinned handshake's budget.)
        let carries = |der: &[u8]| {
            spki.len() > 2
                && der.windows(spki.len()).any(|w| w[0] == spki[0] && w[1] == spki[1] && w == spki.as_slice())
        };
        let sent = carries(end_entity.as_ref()) || intermediates.iter().any(|c| carries(c.as_ref()));
        chain.push(ChainLink { position: Position::Anchor, pin, subject, sent });
        chain
    }
}

fn unreachable_policy() -> ! {
    // `pins_for` returns None only for a per-address policy.
    panic!("a verifier with pins for every address covers every address")
}

/// Why a leaf whose chain validated is refused all the same: a key this provider cannot
/// verify a handshake signature with (the list is `pinset::lint::support`'s, which `lint`
/// reports from too), or a key allowed to sign certificates.
fn leaf_refusal(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    own_anchor: bool,
) -> Option<(FailureKind, String)> {
    use pinset::lint::support::{What, unsupported};
    if let Some(u) = unsupported(cert)
        .into_iter()
        .find(|u| matches!(u.what, What::RsaKeySize { .. } | What::EcCurve | What::KeyAlgorithm))
    {
        return Some((FailureKind::UnsupportedKey, format!("its key is {u}")));
    }
    if !own_anchor
        && let Ok(Some(ku)) = cert.key_usage()
        && ku.value.key_cert_sign()
    {
        return Some((
            FailureKind::BadUsage,
            "its keyUsage includes keyCertSign: a key that signs certificates is a CA's, not a server's".into(),
        ));
    }
    None
}

/// webpki's error in words a person reads: dates as dates, names as `IP:`/`DNS:` lists.
fn describe(e: &webpki::Error) -> String {
    let date = |t: &UnixTime| {
        OffsetDateTime::from_unix_timestamp(t.as_secs() as i64)
            .ok()
            .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| format!("{}s", t.as_secs()))
    };
    match e {
        webpki::Error::CertExpired { time, not_after } => {
            format!("valid until {}, checked at {}", date(not_after), date(time))
        }
        webpki::Error::CertNotValidYet { time, not_before } => {
            format!("valid from {}, checked at {}", date(not_before), date(time))
        }
        webpki::Error::CertNotValidForName(ctx) => {
            let presented: Vec<String> = ctx
                .presented
                .iter()
                .map(|p| match p.strip_prefix("IpAddress(").and_then(|r| r.strip_suffix(')')) {
                    Some(ip) => format!("IP:{ip}"),
                    None => format!("DNS:{}", p.trim_start_matches("DnsName(").trim_end_matches(')').trim_matches('"')),
                })
                .collect();
            if presented.is_empty() {
                "the certificate names no address or host (no subjectAltName; the CN is never used)".into()
            } else {
                format!("the certificate names {}", presented.join(", "))
            }
        }
        webpki::Error::UnknownIssuer => {
            "no trusted anchor signed it (an untrusted root, or an intermediate the server did not send)".into()
        }
        webpki::Error::CaUsedAsEndEntity => "its basicConstraints say CA:TRUE".into(),
        webpki::Error::RequiredEkuNotFoundContext(_) => "its extendedKeyUsage lacks serverAuth".into(),
        other => format!("{other:?}"),
    }
}

/// The names a certificate carries, for a name mismatch: every subjectAltName with its type
/// (`IP:`, `DNS:`, `URI:`, `email:`, `other:`), in full.
fn names_detail(cert: &x509_parser::certificate::X509Certificate<'_>) -> String {
    let sans = pinset::cert::subject_alt_names(cert);
    if sans.is_empty() {
        return "the certificate names no address or host (no subjectAltName; the CN is never used)".into();
    }
    let names: Vec<String> = sans.iter().map(ToString::to_string).collect();
    format!("the certificate names {}", names.join(", "))
}

/// The path webpki accepted: the pin that matched and where (none when pins do not
/// apply), and its chain.
type AcceptedPath = (Option<(Pin, Position)>, Vec<ChainLink>);

fn kind_of(e: &webpki::Error) -> FailureKind {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => FailureKind::Expired,
        E::CertNotValidYet { .. } => FailureKind::NotYetValid,
        E::UnknownIssuer => FailureKind::UnknownIssuer,
        E::CaUsedAsEndEntity => FailureKind::CaUsedAsEndEntity,
        E::RequiredEkuNotFoundContext(_) | E::EndEntityUsedAsCa | E::EmptyEkuExtension => FailureKind::BadUsage,
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => FailureKind::BadSignature,
        E::CertNotValidForName(_) => FailureKind::NameMismatch,
        E::CertRevoked => FailureKind::Revoked,
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::MalformedExtensions => FailureKind::Malformed,
        other => {
            // Variants added or renamed by webpki releases, told apart by name.
            let name = format!("{other:?}");
            if name.starts_with("UnsupportedSignatureAlgorithm") {
                FailureKind::BadSignature
            } else if name.starts_with("RequiredEku") {
                FailureKind::BadUsage
            } else {
                FailureKind::Other
            }
        }
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        crate::outcome::to_rustls(&self.verify(end_entity, intermediates, server_name, now))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

impl crate::outcome::ChainVerifier for PinnedVerifier {
    fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<Verified, VerifyError> {
        self.verify(end_entity, intermediates, server_name, now)
    }
}

/// A client configuration that verifies servers with `verifier` (a [`PinnedVerifier`], a
/// [`crate::SiteVerifier`], or one connection's from
/// [`crate::outcome::ChainVerifier::for_connection`]); no client certificate.
pub fn client_config(verifier: Arc<dyn ServerCertVerifier>) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}
