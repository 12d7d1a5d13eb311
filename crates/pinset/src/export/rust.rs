//! Export for `rust`: a module that builds a reqwest client on pinset-tls's
//! `PinnedVerifier`, one verifier per server so each address is held to its own pins, and
//! the anchors as a PEM file the module includes at build time.

use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The anchors' file name; the module includes it with `include_bytes!`.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Rust);
    export.files.push(ExportFile::text(
        "pinset_pinning.rs",
        module(model),
        "Rust module: `client()` builds a reqwest client that trusts only the site's anchors and checks each \
         server's pins with pinset-tls's `PinnedVerifier`; goes in the app's `src/` as `mod pinset_pinning;`",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "rust"),
        "the site's anchors (PEM, active first), compiled into the app by `pinset_pinning.rs`: keep it beside it",
    ));
    export.usage = "Copy both files into the app's `src/`, add `mod pinset_pinning;`, and make every request to the \
                    site with the client of `pinset_pinning::client()`. Dependencies: `pinset` and `pinset-tls` \
                    (from the pinset repository), `rustls = \"0.23\"`, and `reqwest = { version = \"0.12\", \
                    default-features = false, features = [\"rustls-tls-manual-roots-no-provider\"] }`: rustls \
                    without roots or a crypto provider of its own, so the site's anchors are the only trust.\n\
                    A refused server is a reqwest error whose sources hold pinset's report (the chain as \
                    `sha256/<pin>: <subject>` lines and the pins expected): `pinset_tls::VerifyError::from_rustls` \
                    finds it, as pinset-tls's `reqwest_client` example shows.\n"
        .to_string();
    export
}

fn module(model: &SiteTrust) -> String {
    let mut out = text::comment("// ", &text::provenance(model, "rust"));
    out.push('\n');
    out.push_str(&format!(
        "//! HTTPS to the servers of site {site} with reqwest: trusts only the site's anchors\n\
         //! (`{ANCHORS_FILE}`, next to this file), keeps the address check on (an IP address must be\n\
         //! an iPAddress SAN of the certificate, a DNS name a dNSName), and requires a pinned key in\n\
         //! the validated chain, the anchor included, with the pins of the server dialled.\n",
        site = text::quote(&model.site)
    ));
    let host = model.example_host();
    out.push_str(&MODULE_DOC.replace("{host}", &host));
    out.push_str(USES);
    out.push_str(&format!("\n/// The site, for messages.\nconst SITE: &str = {};\n", text::quote(&model.site)));
    out.push_str(&format!(
        "\n/// The site's anchors (PEM), active first: the only certificates this client trusts.\n\
         const ANCHORS_PEM: &[u8] = include_bytes!({});\n",
        text::quote(ANCHORS_FILE)
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => format!("Some({})", text::quote(&day.to_string())),
        None => "None".to_string(),
    };
    out.push_str(&format!(
        "\n/// Last day (UTC) the pins are enforced; after it only the anchors are, so an app that is\n\
         /// never updated keeps working across a key rotation. `None`: the pins do not expire.\n\
         const PINS_EXPIRE_AFTER: Option<&str> = {expiry};\n"
    ));
    out.push_str(
        "\n/// Each server of the site: the addresses clients dial (IP addresses, DNS names, `*.` names\n\
         /// covering one label) and the pins (SPKI SHA-256, base64) its validated chain must carry;\n\
         /// any one pin matching passes.\n\
         const SERVERS: &[Server] = &[\n",
    );
    for s in &model.servers {
        out.push_str(&format!("    // server {}\n    Server {{\n        hosts: &[", s.name));
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&hosts.join(", "));
        out.push_str("],\n        pins: &[\n");
        out.push_str(&text::pin_list(&s.pins, "            ", " ", "//"));
        out.push_str("        ],\n    },\n");
    }
    out.push_str("];\n");
    out.push_str(CODE);
    out
}

const MODULE_DOC: &str = r#"//!
//! ```ignore
//! let client = pinset_pinning::client()?;
//! let status = client.get("https://{host}/").send().await?.status();
//! ```
//!
//! A host that is not one of the site's servers is refused: this client is for the site only.
//! Dependencies: `pinset` and `pinset-tls` (from the pinset repository), `rustls` 0.23, and
//! `reqwest` 0.12 with `default-features = false` and
//! `features = ["rustls-tls-manual-roots-no-provider"]` (rustls without roots or a crypto
//! provider of its own: the site's anchors are the only trust, aws-lc-rs the only provider).
"#;

const USES: &str = r#"
use std::net::IpAddr;
use std::sync::Arc;

use pinset_tls::PinnedVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Why a client could not be built.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
"#;

const CODE: &str = r#"
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
"#;
