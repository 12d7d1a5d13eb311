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
    /// The target is not `host:port`, `[v6]:port` or an `https://` URL.
    #[error("{target:?} is not a server address: {problem}")]
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

/// A parsed target: host, port and the name to dial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Host as given (DNS name or IP literal, without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Path of an `https://` URL (`/` otherwise).
    pub path: String,
}

impl Target {
    /// Parses `https://host[:port][/path]`, `host:port` or `[v6]:port`.
    pub fn parse(s: &str) -> Result<Target, ProbeError> {
        let bad = |problem: &str| ProbeError::BadTarget { target: s.to_string(), problem: problem.to_string() };
        let (rest, default_port) = match s.split_once("://") {
            Some(("https", rest)) => (rest, Some(443)),
            Some((scheme, _)) => return Err(bad(&format!("scheme {scheme}:// is not https://"))),
            None => (s, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("an IPv6 address needs its closing ']'"))?;
            (h.to_string(), after.strip_prefix(':'))
        } else if authority.matches(':').count() > 1 {
            return Err(bad("write an IPv6 address in brackets: [fd00::10]:443"));
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match (port, default_port) {
            (Some(p), _) => {
                p.parse::<u16>().map_err(|_| bad(&format!("port {p:?} is not a number from 1 to 65535")))?
            }
            (None, Some(d)) => d,
            (None, None) => return Err(bad("no port: write host:port")),
        };
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(Target { host, port, path })
    }

    /// The name a client dials: an IP literal for IP hosts, a DNS name otherwise.
    pub fn server_name(&self) -> Result<ServerName<'static>, ProbeError> {
        ServerName::try_from(self.host.clone()).map_err(|e| ProbeError::BadTarget {
            target: self.host.clone(),
            problem: format!("not a valid DNS name or IP address ({e})"),
        })
    }

    /// `host:port`, with brackets for IPv6.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Connects to `target` and returns the chain it presents. `sni` overrides the name sent
/// in the handshake.
pub fn fetch_chain(target: &Target, sni: Option<&str>, timeout: Duration) -> Result<Presented, ProbeError> {
    let name = match sni {
        Some(n) => ServerName::try_from(n.to_string())
            .map_err(|e| ProbeError::BadTarget { target: n.to_string(), problem: e.to_string() })?,
        None => target.server_name()?,
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
    let addrs: Vec<SocketAddr> = (target.host.as_str(), target.port).to_socket_addrs().map_err(io_err)?.collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_every_form() {
        let t = Target::parse("https://192.168.1.10/status").expect("url");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("192.168.1.10", 443, "/status"));
        let t = Target::parse("[::1]:8443").expect("v6");
        assert_eq!((t.host.as_str(), t.port), ("::1", 8443));
        assert_eq!(t.authority(), "[::1]:8443");
        assert!(Target::parse("localhost").is_err(), "no port");
        assert!(Target::parse("http://x:80").is_err(), "not https");
        assert!(Target::parse("fd00::1:443").is_err(), "v6 without brackets");
        assert!(Target::parse("h:99999").is_err());
    }
}
