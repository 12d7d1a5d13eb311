// Written by `pinset export rust` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.

//! HTTPS to the servers of site "clinic" with reqwest: trusts only the site's anchors
//! (`pinset-anchors.pem`, next to this file), keeps the address check on (an IP address must be
//! an iPAddress SAN of the certificate, a DNS name a dNSName), and requires a pinned key in
//! the validated chain, the anchor included, with the pins of the server dialled.
//!
//! ```ignore
//! let client = pinset_pinning::client()?;
//! let status = client.get("https://devices.clinic.example/").send().await?.status();
//! ```
//!
//! A host that is not one of the site's servers is refused: this client is for the site only.
//! Dependencies: `pinset` and `pinset-tls` (from the pinset repository), `rustls` 0.23, and
//! `reqwest` 0.12 with `default-features = false` and
//! `features = ["rustls-tls-manual-roots-no-provider"]` (rustls without roots or a crypto
//! provider of its own: the site's anchors are the only trust, aws-lc-rs the only provider).

use std::net::IpAddr;
use std::sync::Arc;

use pinset_tls::PinnedVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Why a client could not be built.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The site, for messages.
const SITE: &str = "clinic";

/// The site's anchors (PEM), active first: the only certificates this client trusts.
const ANCHORS_PEM: &[u8] = include_bytes!("pinset-anchors.pem");

/// Last day (UTC) the pins are enforced; after it only the anchors are, so an app that is
/// never updated keeps working across a key rotation. `None`: the pins do not expire.
const PINS_EXPIRE_AFTER: Option<&str> = None;

/// Each server of the site: the addresses clients dial (IP addresses, DNS names, `*.` names
/// covering one label) and the pins (SPKI SHA-256, base64) its validated chain must carry;
/// any one pin matching passes.
const SERVERS: &[Server] = &[
    // server devices
    Server {
        hosts: &["devices.clinic.example", "*.wards.clinic.example"],
        pins: &[
            "1+iJu6RbPM0NRL6iaO41RNdY+J+aXEjWkSFMWGi/7io=", // active key of server devices
            "PpsHvCXg6F4txjC+je+ddas6CGcdiqdBg7RxKKVmUQ8=", // standby key of server devices
        ],
    },
];

/// A server of the site, as [`SERVERS`] lists it.
#[derive(Debug)]
struct Server {
    hosts: &'static [&'static str],
    pins: &'static [&'static str],
}

/// A reqwest client for the site's servers. Build it once and reuse it: it holds the
/// connection pool.
pub fn client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls_config()?)
        // The servers are on the local network: never through a proxy that the environment
        // (HTTPS_PROXY …) may name.
        .no_proxy()
        .build()?)
}

/// The rustls configuration behind [`client`], for other rustls-based clients (tokio-rustls,
/// hyper, ureq): the site's anchors, each server's pins, aws-lc-rs as the crypto provider.
pub fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let anchors = CertificateDer::pem_slice_iter(ANCHORS_PEM).collect::<Result<Vec<_>, _>>()?;
    let expire_after = PINS_EXPIRE_AFTER.map(pinset::plan::parse_date).transpose()?;
    let mut servers = Vec::with_capacity(SERVERS.len());
    for server in SERVERS {
        let mut builder = PinnedVerifier::builder();
        for anchor in &anchors {
            builder = builder.anchor(anchor.clone());
        }
        for pin in server.pins {
            builder = builder.pin(pin.parse()?);
        }
        if let Some(last_day) = expire_after {
            builder = builder.pins_expire_after(last_day);
        }
        servers.push((server, builder.build()?));
    }
    Ok(rustls::ClientConfig::builder_with_provider(pinset_tls::provider())
        .with_safe_default_protocol_versions()?
        // rustls calls every verifier of its own "dangerous"; this one validates the chain,
        // the validity times and the address with webpki before it looks at a pin.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SiteVerifier { servers }))
        .with_no_client_auth())
}

/// Hands each handshake to the verifier of the server dialled.
#[derive(Debug)]
struct SiteVerifier {
    servers: Vec<(&'static Server, Arc<PinnedVerifier>)>,
}

impl SiteVerifier {
    fn verifier_for(&self, name: &ServerName<'_>) -> Result<&PinnedVerifier, rustls::Error> {
        self.servers
            .iter()
            .find(|(server, _)| server.hosts.iter().any(|host| names(host, name)))
            .map(|(_, verifier)| verifier.as_ref())
            .ok_or_else(|| {
                rustls::Error::General(format!(
                    "{} is not a server of site {SITE:?}: this client connects only to the site's servers",
                    name.to_str()
                ))
            })
    }
}

/// Whether `host` (an IP address, a DNS name, or `*.` and a name: exactly one more label)
/// names the server dialled.
fn names(host: &str, dialled: &ServerName<'_>) -> bool {
    match dialled {
        ServerName::IpAddress(ip) => host.parse::<IpAddr>().is_ok_and(|h| h == IpAddr::from(*ip)),
        ServerName::DnsName(dns) => {
            let dns = dns.as_ref().trim_end_matches('.').to_ascii_lowercase();
            match host.strip_prefix('*') {
                Some(suffix) => dns.strip_suffix(suffix).is_some_and(|label| !label.is_empty() && !label.contains('.')),
                None => dns == host,
            }
        }
        _ => false,
    }
}

impl ServerCertVerifier for SiteVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier_for(server_name)?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &pinset_tls::provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &pinset_tls::provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        pinset_tls::provider().signature_verification_algorithms.supported_schemes()
    }
}
