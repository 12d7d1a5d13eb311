//! What probing a live server needs from rustls: the name a client dials for an address
//! ([`server_name`]) and a configuration that fetches a chain *without trusting it*
//! ([`inspection_config`]): expired, self-signed and misnamed chains are all fetched, so
//! they can be pinned and diagnosed. The handshake signatures are still verified, so the
//! server did prove it holds the leaf's key. The network I/O is `pinset-net`'s probe.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use pinset::Host;

use crate::provider;

/// Errors naming a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The name to send is not a valid server name.
    #[error("{target:?} is not a server name: {problem}")]
    BadTarget {
        /// As given.
        target: String,
        /// What is wrong.
        problem: String,
    },
}

/// The name a client dials for `host`: an IP literal for IP hosts, a DNS name otherwise.
pub fn server_name(host: &Host) -> Result<ServerName<'static>, ProbeError> {
    let name = match host {
        Host::Ip(ip) => return Ok(ServerName::IpAddress((*ip).into())),
        Host::Dns(d) => d.clone(),
    };
    ServerName::try_from(name.clone())
        .map_err(|e| ProbeError::BadTarget { target: name, problem: format!("not a valid DNS name ({e})") })
}

/// A client configuration that accepts any chain so it can be *looked at* (never to decide
/// trust): handshake signatures are still verified against the presented leaf. TLS 1.2
/// and 1.3, no client certificate, no ALPN.
pub fn inspection_config() -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyChainForInspection))
        .with_no_client_auth())
}

/// Accepts any certificate chain so it can be *looked at*; never used to decide trust.
/// Handshake signatures are still verified against the presented leaf.
#[derive(Debug)]
struct AcceptAnyChainForInspection;

impl ServerCertVerifier for AcceptAnyChainForInspection {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
