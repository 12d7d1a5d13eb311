// Written by `pinset export rust` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.

//! HTTPS to the servers of site "clinic" with reqwest, through pinset-tls's `SiteVerifier`:
//! trusts only the site's anchors (`pinset-anchors.pem`, next to this file), keeps the address
//! check on (an IP address must be an iPAddress SAN of the certificate, a DNS name a dNSName),
//! and requires a pinned key in the validated chain, the anchor included, with the pins of the
//! server dialled.
//!
//! ```ignore
//! let client = pinset_pinning::client()?;
//! let status = client.get("https://devices.clinic.example/").send().await?.status();
//! ```
//!
//! A host that is not one of the site's servers is refused, and so is plain `http://`, as a
//! URL or as a redirect: this client is for the site only, over TLS only.
//! Dependencies: `pinset-tls` (from the pinset repository), `rustls` 0.23, and `reqwest` 0.12
//! with `default-features = false` and `features = ["rustls-tls-manual-roots-no-provider"]`
//! (rustls without roots or a crypto provider of its own: the site's anchors are the only
//! trust, aws-lc-rs the only provider).

use std::sync::Arc;

use pinset_tls::SiteVerifier;

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
struct Server {
    hosts: &'static [&'static str],
    pins: &'static [&'static str],
}

/// The site's verifier, built from the data above: pinset-tls's `SiteVerifier`, the same the
/// `pinset` tool checks servers with.
pub fn verifier() -> Result<Arc<SiteVerifier>, Error> {
    let mut site = SiteVerifier::builder(SITE).anchors_pem(ANCHORS_PEM)?;
    for server in SERVERS {
        site = site.server(server.hosts, server.pins)?;
    }
    if let Some(last_day) = PINS_EXPIRE_AFTER {
        site = site.pins_expire_after_date(last_day)?;
    }
    Ok(site.build()?)
}

/// The rustls configuration behind [`client`], for other rustls-based clients (tokio-rustls,
/// hyper, ureq): the site's verifier, aws-lc-rs as the crypto provider.
pub fn tls_config() -> Result<rustls::ClientConfig, Error> {
    Ok(rustls::ClientConfig::builder_with_provider(pinset_tls::provider())
        .with_safe_default_protocol_versions()?
        // rustls calls every verifier of its own "dangerous"; this one validates the chain,
        // the validity times and the address with webpki before it looks at a pin.
        .dangerous()
        .with_custom_certificate_verifier(verifier()?)
        .with_no_client_auth())
}

/// A reqwest client for the site's servers. Build it once and reuse it: it holds the
/// connection pool.
pub fn client() -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls_config()?)
        // Never in cleartext: an `http://` URL, or a redirect to one, is an error.
        .https_only(true)
        // The servers are on the local network: never through a proxy that the environment
        // (HTTPS_PROXY …) may name.
        .no_proxy()
        .build()?)
}
