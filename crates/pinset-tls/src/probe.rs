//! Fetching the chain a live server presents, *without trusting it*: expired, self-signed
//! and misnamed chains are all fetched, so they can be pinned and diagnosed. The handshake
//! signatures are still verified, so the server did prove it holds the leaf's key.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use pinset::{Host, Target};

use crate::provider;

/// What a server presented.
#[derive(Clone, Debug)]
pub struct Presented {
    /// The address connected to.
    pub addr: SocketAddr,
    /// The certificates in the order the server sent them (leaf first).
    pub chain: Vec<CertificateDer<'static>>,
    /// Negotiated TLS version, e.g. "TLSv1.3".
    pub protocol: String,
    /// Negotiated cipher suite.
    pub cipher: String,
    /// Negotiated ALPN protocol, if any.
    pub alpn: Option<String>,
}

/// Errors reaching a server.
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
    /// Connecting or the handshake failed.
    #[error("{addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// TLS failed (the server is not speaking TLS, or refused us).
    #[error("{addr}: TLS handshake failed: {source}")]
    Tls {
        /// The address.
        addr: String,
        /// The error.
        #[source]
        source: rustls::Error,
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

/// Connects to `target` and returns the chain it presents. `sni` overrides the name sent
/// in the handshake.
pub fn fetch_chain(target: &Target, sni: Option<&str>, timeout: Duration) -> Result<Presented, ProbeError> {
    let name = match sni {
        Some(n) => ServerName::try_from(n.to_string())
            .map_err(|e| ProbeError::BadTarget { target: n.to_string(), problem: e.to_string() })?,
        None => server_name(&target.host)?,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|source| ProbeError::Tls { addr: target.authority(), source })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyChainForInspection))
        .with_no_client_auth();
    let (sock, addr) = connect(target, timeout)?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|source| ProbeError::Tls { addr: addr.to_string(), source })?;
    let mut sock = sock;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => ProbeError::Tls { addr: addr.to_string(), source: tls.clone() },
            None => ProbeError::Io { addr: addr.to_string(), source: e },
        })?;
    }
    let chain =
        conn.peer_certificates().map(|c| c.iter().map(|d| d.clone().into_owned()).collect()).unwrap_or_default();
    let presented = Presented {
        addr,
        chain,
        protocol: conn.protocol_version().map(|v| format!("{v:?}").replace('_', ".")).unwrap_or_default(),
        cipher: conn.negotiated_cipher_suite().map(|c| format!("{:?}", c.suite())).unwrap_or_default(),
        alpn: conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
    };
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    Ok(presented)
}

/// Connects to the first address of `target` that answers within `timeout`.
pub fn connect(target: &Target, timeout: Duration) -> Result<(TcpStream, SocketAddr), ProbeError> {
    let io_err = |source| ProbeError::Io { addr: target.authority(), source };
    let addrs: Vec<SocketAddr> = match target.host {
        Host::Ip(ip) => vec![SocketAddr::new(ip, target.port)],
        Host::Dns(ref d) => (d.as_str(), target.port).to_socket_addrs().map_err(io_err)?.collect(),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(timeout)).map_err(io_err)?;
                s.set_write_timeout(Some(timeout)).map_err(io_err)?;
                return Ok((s, addr));
            }
            Err(e) => last = e,
        }
    }
    Err(io_err(last))
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
