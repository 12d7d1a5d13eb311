//! The certificates of a probe: what each certificate a server presented says
//! ([`CertFacts`]), and the chain that validates to one of the site's anchors
//! ([`validated_chain`]), found even when verification refused it — for an expired leaf,
//! a name the certificate does not carry, or a key the site does not pin — so that the
//! earliest expiry of the chain apps validate is reported in every case it exists.
//!
//! The validated chain ends with the anchor, whose own end date validators do not check;
//! its date comes from the site ([`pinset::trust::Anchor::not_after`]), so a site CA near
//! its end shows in the chain's expiry.

use pinset::Pin;
use pinset::trust::Anchor;
use pinset_tls::verifier::Position;
use rustls::pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use webpki::KeyUsage;

/// What one certificate says, as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertFacts {
    /// Its subject, CN first (text from the peer: escape it before a terminal).
    pub subject: String,
    /// Its issuer, CN first (text from the peer).
    pub issuer: String,
    /// The SPKI pin of its key.
    pub pin: Pin,
    /// Its serial number, hex as OpenSSL prints it.
    pub serial: String,
    /// SHA-256 of the whole certificate, lower-case hex (changes at every renewal).
    pub sha256: String,
    /// Start of its validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of its validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl CertFacts {
    /// The facts of a DER certificate; `None` when it is not one.
    pub fn of(der: &[u8]) -> Option<CertFacts> {
        let cert = pinset::cert::parse("", der).ok()?;
        Some(CertFacts {
            subject: pinset::cert::name_to_string(cert.subject()),
            issuer: pinset::cert::name_to_string(cert.issuer()),
            pin: Pin::of_spki(cert.public_key().raw),
            serial: pinset::cert::serial_to_string(cert.raw_serial()),
            sha256: pinset::CertSha256::of_der(der).to_colon_hex().replace(':', "").to_ascii_lowercase(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
        })
    }
}

/// One certificate of a validated chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// Leaf, intermediate or anchor.
    pub position: Position,
    /// Its subject, CN first.
    pub subject: String,
    /// The pin of its key.
    pub pin: Pin,
    /// End of its validity (for the anchor: the site's certificate of it).
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether the server sent it (an anchor usually is not sent).
    pub sent: bool,
}

/// The earliest end of validity among `dates`.
pub fn earliest(dates: impl IntoIterator<Item = OffsetDateTime>) -> Option<OffsetDateTime> {
    dates.into_iter().min()
}

/// The chain from the presented leaf through presented intermediates to one of `anchors`
/// that webpki accepts for a TLS server (signatures, constraints, key usage; not the name,
/// which is checked apart), at `now` or, when a certificate is out of its validity period
/// then, at the edge of a certificate's validity period where every certificate of the
/// chain is valid. `None` when no chain leads to an anchor at any such time (an unknown
/// CA, a look-alike root, a missing intermediate).
pub fn validated_chain(anchors: &[Anchor], presented: &[CertificateDer<'_>], now: OffsetDateTime) -> Option<Vec<Link>> {
    let (leaf_der, intermediates) = presented.split_first()?;
    let leaf = webpki::EndEntityCert::try_from(leaf_der).ok()?;
    let leaf_facts = CertFacts::of(leaf_der)?;
    let owned: Vec<(CertificateDer<'static>, &Anchor)> =
        anchors.iter().map(|a| (CertificateDer::from(a.der.clone()), a)).collect();
    let trust: Vec<(rustls::pki_types::TrustAnchor<'static>, &Anchor)> = owned
        .iter()
        .filter_map(|(der, a)| webpki::anchor_from_trusted_cert(der).ok().map(|t| (t.to_owned(), *a)))
        .collect();
    let trust_anchors: Vec<_> = trust.iter().map(|(t, _)| t.clone()).collect();
    if trust_anchors.is_empty() {
        return None;
    }
    // Times to try: now, then the edges of every presented certificate's validity.
    let mut times = vec![now];
    for der in presented {
        if let Some(f) = CertFacts::of(der) {
            times.push(f.not_after - time::Duration::seconds(1));
            times.push(f.not_before + time::Duration::seconds(1));
        }
    }
    let algorithms = pinset_tls::provider().signature_verification_algorithms.all;
    for at in times {
        let Ok(secs) = u64::try_from(at.unix_timestamp()) else { continue };
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        let found = std::cell::RefCell::new(None);
        let keep = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let inter: Vec<Vec<u8>> = path.intermediate_certificates().map(|c| c.der().to_vec()).collect();
            let anchor_spki = path.anchor().subject_public_key_info.to_vec();
            *found.borrow_mut() = Some((inter, anchor_spki));
            Ok(())
        };
        let verified = leaf.verify_for_usage(
            algorithms,
            &trust_anchors,
            intermediates,
            at,
            KeyUsage::server_auth(),
            None,
            Some(&keep),
        );
        let (Ok(_), Some((inter, anchor_spki))) = (verified, found.into_inner()) else { continue };
        let mut chain = vec![Link {
            position: Position::Leaf,
            subject: leaf_facts.subject.clone(),
            pin: leaf_facts.pin,
            not_after: leaf_facts.not_after,
            sent: true,
        }];
        for der in &inter {
            let f = CertFacts::of(der)?;
            chain.push(Link {
                position: Position::Intermediate,
                subject: f.subject,
                pin: f.pin,
                not_after: f.not_after,
                sent: true,
            });
        }
        let (_, anchor) = trust.iter().find(|(t, _)| t.subject_public_key_info.as_ref() == anchor_spki.as_slice())?;
        let sent = presented.iter().any(|c| CertFacts::of(c).is_some_and(|f| f.pin == anchor.pin));
        chain.push(Link {
            position: Position::Anchor,
            subject: anchor.subject.clone(),
            pin: anchor.pin,
            not_after: anchor.not_after,
            sent,
        });
        return Some(chain);
    }
    None
}
