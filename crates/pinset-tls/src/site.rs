//! [`SiteVerifier`]: the client side of a site, exactly as its exports pin it. The chain must
//! validate to one of the site's anchors, name the address dialled, and carry one of the
//! pins the site's apps carry *for that address* — the pins of the server answering on it,
//! as the Android, iOS and OkHttp exports write them — so a certificate issued for one
//! server is refused on another's address, and an address that is not the site's is
//! refused with [`crate::FailureKind::NotSiteAddress`] instead of a chain error.
//!
//! Built from a site's [`pinset::SiteTrust`] ([`SiteVerifier::for_site`]), or from plain data
//! ([`SiteVerifier::builder`]), which is how an exported Rust client carries the site
//! compiled in.

use std::fmt;
use std::sync::Arc;

use pinset::{Host, Pin, SiteTrust};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::outcome::{ChainVerifier, to_rustls};
use crate::verifier::{BuildError, Builder, Observer, PinnedVerifier, Verified, VerifyError};

/// A site's verifier: per-address pins over the site's anchors. Build one with
/// [`SiteVerifier::for_site`] or [`SiteVerifier::builder`].
pub struct SiteVerifier {
    inner: Arc<PinnedVerifier>,
    site: String,
}

impl fmt::Debug for SiteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteVerifier").field("site", &self.site).field("verifier", &self.inner).finish()
    }
}

/// Builds a [`SiteVerifier`].
pub struct SiteBuilder {
    site: String,
    inner: Builder,
    servers: usize,
}

impl SiteVerifier {
    /// A builder for the site named `site` (used in messages), with nothing trusted yet.
    pub fn builder(site: &str) -> SiteBuilder {
        SiteBuilder { site: site.to_string(), inner: PinnedVerifier::builder(), servers: 0 }
    }

    /// A builder holding a site's trust: its anchors, each server's addresses with the pins
    /// apps carry for it, and the plan's pin expiry.
    pub fn for_site(trust: &SiteTrust) -> SiteBuilder {
        let mut b = SiteVerifier::builder(&trust.site);
        for a in &trust.anchors {
            b = b.anchor(CertificateDer::from(a.der.clone()));
        }
        for s in &trust.servers {
            b = b.server_pins(s.hosts.clone(), s.pins.iter().map(|p| p.pin).collect());
        }
        if let Some(day) = trust.pins_expire_after {
            b = b.pins_expire_after(day);
        }
        b
    }

    /// The site's name.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The pins required when `server_name` is dialled; `None` when it is not one of the
    /// site's addresses.
    pub fn pins_for(&self, server_name: &ServerName<'_>) -> Option<Vec<Pin>> {
        self.inner.pins_for(server_name)
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
        self.inner.verify(end_entity, intermediates, server_name, now)
    }
}

impl SiteBuilder {
    /// Trusts this certificate (DER) as one of the site's anchors.
    pub fn anchor(mut self, der: CertificateDer<'static>) -> Self {
        self.inner = self.inner.anchor(der);
        self
    }

    /// Trusts every certificate of a PEM bundle as an anchor.
    pub fn anchors_pem(mut self, pem: &[u8]) -> Result<Self, BuildError> {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let der =
                cert.map_err(|e| BuildError::BadAnchor { subject: "PEM bundle".into(), detail: e.to_string() })?;
            self.inner = self.inner.anchor(der);
        }
        Ok(self)
    }

    /// A server of the site: the addresses it answers on (IP addresses, DNS names, `*.`
    /// patterns covering one label) and the pins apps carry for it.
    pub fn server_pins(mut self, hosts: Vec<Host>, pins: Vec<Pin>) -> Self {
        self.inner = self.inner.address_pins(&self.site, hosts, pins);
        self.servers += 1;
        self
    }

    /// [`SiteBuilder::server_pins`] from text, as an exported client carries it: addresses
    /// as written in the plan, pins as base64 (or any form `pinset pin` writes).
    pub fn server(self, hosts: &[&str], pins: &[&str]) -> Result<Self, BuildError> {
        let hosts = hosts
            .iter()
            .map(|h| Host::parse_pattern(h))
            .collect::<pinset::Result<Vec<_>>>()
            .map_err(BuildError::Value)?;
        let pins =
            pins.iter().map(|p| p.parse::<Pin>()).collect::<pinset::Result<Vec<_>>>().map_err(BuildError::Value)?;
        Ok(self.server_pins(hosts, pins))
    }

    /// Pins apply up to and including this day (UTC); after it they are skipped, anchors
    /// still enforced.
    pub fn pins_expire_after(mut self, last_day: time::Date) -> Self {
        self.inner = self.inner.pins_expire_after(last_day);
        self
    }

    /// [`SiteBuilder::pins_expire_after`] from a `YYYY-MM-DD` date.
    pub fn pins_expire_after_date(self, last_day: &str) -> Result<Self, BuildError> {
        let day = pinset::plan::parse_date(last_day).map_err(BuildError::Value)?;
        Ok(self.pins_expire_after(day))
    }

    /// Report-only: a pin mismatch is passed to `report` and the connection proceeds.
    pub fn report_only(mut self, report: impl Fn(&VerifyError) + Send + Sync + 'static) -> Self {
        self.inner = self.inner.report_only(report);
        self
    }

    /// Calls `observer` with every verification result.
    pub fn observe(mut self, observer: Observer) -> Self {
        self.inner = self.inner.observe(observer);
        self
    }

    /// Checks the chain against this certificate revocation list (DER).
    pub fn crl(mut self, source: &str, der: Vec<u8>) -> Self {
        self.inner = self.inner.crl(source, der);
        self
    }

    /// Builds the verifier.
    pub fn build(self) -> Result<Arc<SiteVerifier>, BuildError> {
        let inner = if self.servers == 0 {
            // No server: every address is refused as not the site's.
            self.inner.address_pins(&self.site, Vec::new(), Vec::new())
        } else {
            self.inner
        };
        Ok(Arc::new(SiteVerifier { inner: inner.build()?, site: self.site }))
    }
}

impl ChainVerifier for SiteVerifier {
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

impl ServerCertVerifier for SiteVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        to_rustls(&self.verify(end_entity, intermediates, server_name, now))
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
