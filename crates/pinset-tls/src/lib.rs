//! rustls glue for pinset: the one crypto provider every TLS configuration in pinset is
//! built with, configurations made from PEM files of a site, the pinning verifiers
//! ([`PinnedVerifier`] for anchors and pins given by hand, [`SiteVerifier`] for a site's
//! per-address pins) and the per-connection record of what a handshake concluded
//! ([`outcome`]). No async runtime: that lives in `pinset-net`.

pub mod outcome;
pub mod probe;
pub mod site;
pub mod verifier;

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The crypto provider of every rustls builder in pinset: aws-lc-rs, with its default
/// cipher suites and key exchanges. Builders take it explicitly through
/// `builder_with_provider`, never from a process-wide default.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())).clone()
}

/// Errors building a TLS configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A PEM input could not be read.
    #[error("{what}: {source}")]
    Pem {
        /// Which input.
        what: String,
        /// The PEM error.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refused the configuration (a key that does not match its certificate …).
    #[error("{0}")]
    Tls(#[from] rustls::Error),
}

/// A server configuration from a PEM chain (leaf first) and a PEM private key.
pub fn server_config(chain_pem: &[u8], key_pem: &[u8]) -> Result<rustls::ServerConfig, Error> {
    let chain = certs_from_pem(chain_pem, "certificate chain")?;
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| Error::Pem { what: "private key".into(), source })?;
    Ok(rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?)
}

/// A client configuration that trusts exactly the given PEM anchors (no system roots).
pub fn client_config_trusting(anchors_pem: &[u8]) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs_from_pem(anchors_pem, "trust anchors")? {
        roots.add(cert)?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| Error::Pem { what: what.into(), source })
}

pub use outcome::{ChainVerifier, Outcome};
pub use site::SiteVerifier;
pub use verifier::{FailureKind, PinnedVerifier, VerifyError};
