//! What a command that checks a server trusts (`get`, `verify`, live `pin`), from its flags:
//!
//! - nothing given: the site's [`SiteVerifier`], each address held to the pins its apps
//!   carry for it;
//! - `--pin` without `--ca`: the site's anchors, with these pins for every address;
//! - `--ca` (with or without `--pin`): those anchors and pins only, no site. Given together
//!   with `--site`, it is refused: `--ca` would silently drop the site's pins, and an
//!   attacker's CA passed as `--ca` would then be trusted.
//!
//! `--crl` files add revocation checks to any of them.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use pinset::{Pin, Site};
use pinset_tls::{ChainVerifier, PinnedVerifier, SiteVerifier};
use rustls::pki_types::CertificateDer;

use crate::output;

/// The flags that say what to trust.
pub struct TrustFlags<'a> {
    /// `--site`.
    pub site: Option<&'a Path>,
    /// `--ca` files.
    pub cas: &'a [String],
    /// `--pin` values.
    pub pins: &'a [String],
    /// `--crl` files.
    pub crls: &'a [String],
}

/// Where the trust came from, for reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum TrustSource {
    /// The site: its anchors and per-address pins.
    Site {
        /// The site's name.
        site: String,
    },
    /// The site's anchors with pins given on the command line.
    SiteAnchors {
        /// The site's name.
        site: String,
    },
    /// Anchors (and pins) given on the command line.
    Files,
}

/// A verifier built from the flags.
pub struct ClientTrust {
    /// The verifier; make each connection's configuration from
    /// [`ChainVerifier::for_connection`].
    pub verifier: Arc<dyn ChainVerifier>,
    /// Where its anchors and pins came from.
    pub source: TrustSource,
    /// Whether any pin is required (false: anchors alone decide).
    pub pins_given: bool,
    /// The site's trust, when a site is in use: its addresses bound where `get -L` may go.
    pub site: Option<pinset::SiteTrust>,
}

impl ClientTrust {
    /// Builds the verifier the flags describe.
    pub fn from_flags(flags: &TrustFlags<'_>) -> anyhow::Result<ClientTrust> {
        let pins = flags.pins.iter().map(|p| p.parse::<Pin>()).collect::<pinset::Result<Vec<_>>>()?;
        let mut crls = Vec::new();
        for crl in flags.crls {
            crls.push((crl.clone(), read_crl(crl)?));
        }
        if !flags.cas.is_empty() {
            if flags.site.is_some() {
                bail!(pinset::Error::bad_value(
                    "--ca",
                    &flags.cas.join(", "),
                    "replaces the site's anchors and pins, and --site was given too",
                    Some("give --site to check the site's server, or --ca (and --pin) for any other; not both"),
                ));
            }
            let mut b = PinnedVerifier::builder();
            for ca in flags.cas {
                for der in pinset::input::read_certificates(ca, &output::read_input(ca)?)? {
                    b = b.anchor(CertificateDer::from(der));
                }
            }
            for pin in &pins {
                b = b.pin(*pin);
            }
            for (name, der) in crls {
                b = b.crl(&name, der);
            }
            return Ok(ClientTrust {
                verifier: b.build()?,
                source: TrustSource::Files,
                pins_given: !pins.is_empty(),
                site: None,
            });
        }
        let trust = Site::open(&output::site_dir(flags.site))?.trust()?;
        if !pins.is_empty() {
            let mut b = PinnedVerifier::builder();
            for a in &trust.anchors {
                b = b.anchor(CertificateDer::from(a.der.clone()));
            }
            for pin in &pins {
                b = b.pin(*pin);
            }
            for (name, der) in crls {
                b = b.crl(&name, der);
            }
            return Ok(ClientTrust {
                verifier: b.build()?,
                source: TrustSource::SiteAnchors { site: trust.site.clone() },
                pins_given: true,
                site: Some(trust),
            });
        }
        let mut b = SiteVerifier::for_site(&trust);
        for (name, der) in crls {
            b = b.crl(&name, der);
        }
        Ok(ClientTrust {
            verifier: b.build()?,
            source: TrustSource::Site { site: trust.site.clone() },
            pins_given: !trust.app_pins().is_empty(),
            site: Some(trust),
        })
    }
}

/// A CRL file, PEM (`X509 CRL`) or DER.
fn read_crl(path: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = output::read_input(path)?;
    if let Some(start) = bytes.windows(5).position(|w| w == b"-----") {
        let text = String::from_utf8_lossy(&bytes[start..]);
        let block = pem::parse(text.as_bytes()).map_err(|e| {
            pinset::Error::bad_input(
                path,
                format!("is not a PEM revocation list ({e})"),
                Some("give a CRL in PEM or DER"),
            )
        })?;
        if block.tag() != "X509 CRL" {
            bail!(pinset::Error::bad_input(
                path,
                format!("holds a {} block, not an X509 CRL", block.tag()),
                Some("give a certificate revocation list, e.g. from `openssl ca -gencrl`"),
            ));
        }
        return Ok(block.into_contents());
    }
    Ok(bytes)
}
