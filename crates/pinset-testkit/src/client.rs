//! A rustls client for tests: connects, completes the handshake, sends `GET /` and reads
//! the answer, handing back the `rustls::Error` of a refused handshake (which carries
//! pinset's `VerifyError` when `PinnedVerifier` refused) instead of an I/O error to dig
//! through. Every socket has the kit's I/O timeout.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, HandshakeKind, ProtocolVersion};

use crate::net::IO_TIMEOUT;

/// A client configuration verifying with `verifier` through
/// `pinset_tls::verifier::client_config` (resumption on, as by default).
pub fn client(verifier: &Arc<pinset_tls::PinnedVerifier>) -> Arc<ClientConfig> {
    Arc::new(pinset_tls::verifier::client_config(verifier.clone()).expect("client config"))
}

/// A TLS 1.2-only client configuration verifying with `verifier`.
pub fn client_tls12(verifier: Arc<dyn ServerCertVerifier>) -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder_with_provider(pinset_tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    )
}

/// A client configuration trusting exactly the certificates of `anchors_pem` (through
/// `pinset_tls::client_config_trusting`, no pins), offering the ALPN protocols `alpn`.
pub fn client_trusting(anchors_pem: &[u8], alpn: &[&str]) -> Arc<ClientConfig> {
    let mut config = pinset_tls::client_config_trusting(anchors_pem).expect("client config trusting the anchors");
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(config)
}

/// A connection that got through.
#[derive(Debug)]
pub struct Session {
    /// What the server answered to `GET /`, head and body.
    pub body: String,
    /// Full or resumed.
    pub kind: Option<HandshakeKind>,
    /// TLS version.
    pub version: Option<ProtocolVersion>,
    /// The ALPN protocol negotiated, if any.
    pub alpn: Option<Vec<u8>>,
}

/// What a completed handshake negotiated.
#[derive(Debug)]
pub struct Handshake {
    /// Full or resumed.
    pub kind: Option<HandshakeKind>,
    /// TLS version.
    pub version: Option<ProtocolVersion>,
    /// The ALPN protocol negotiated, if any.
    pub alpn: Option<Vec<u8>>,
}

/// A TLS stream of the client.
pub type ClientStream = rustls::StreamOwned<ClientConnection, TcpStream>;

/// Connects to `addr` dialling `name` (an IP literal or a DNS name; SNI and the name
/// check use it) and completes the handshake, nothing more: the stream, ready for a
/// request, and what was negotiated. A refused handshake is the `rustls::Error` the client
/// raised or received; an I/O error that is no TLS refusal fails the test.
pub fn handshake(
    config: &Arc<ClientConfig>,
    addr: SocketAddr,
    name: &str,
) -> Result<(ClientStream, Handshake), rustls::Error> {
    let server_name = ServerName::try_from(name.to_string()).expect("a valid server name");
    let sock = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("TCP connect");
    sock.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
    sock.set_write_timeout(Some(IO_TIMEOUT)).expect("write timeout");
    let conn = ClientConnection::new(config.clone(), server_name)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        let moved = tls.conn.complete_io(&mut tls.sock).map_err(|e| tls_error(e, "handshake"))?;
        // No progress and no error (the peer said close_notify mid-handshake): never loop.
        assert_ne!(moved, (0, 0), "the handshake with {addr} stalled");
    }
    let negotiated = Handshake {
        kind: tls.conn.handshake_kind(),
        version: tls.conn.protocol_version(),
        alpn: tls.conn.alpn_protocol().map(<[u8]>::to_vec),
    };
    Ok((tls, negotiated))
}

/// [`handshake`], then `GET / HTTP/1.0` and the answer read until the server closes.
pub fn connect(config: &Arc<ClientConfig>, addr: SocketAddr, name: &str) -> Result<Session, rustls::Error> {
    let (mut tls, Handshake { kind, version, alpn }) = handshake(config, addr, name)?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").map_err(|e| tls_error(e, "request"))?;
    let mut body = Vec::new();
    if let Err(e) = tls.read_to_end(&mut body) {
        // A server that closes without close_notify, or resets, still answered.
        if let Some(tls_err) = rustls_error(&e) {
            return Err(tls_err.clone());
        }
    }
    Ok(Session { body: String::from_utf8_lossy(&body).into_owned(), kind, version, alpn })
}

/// The rustls error inside an I/O error from a rustls stream.
pub fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

fn tls_error(e: io::Error, during: &str) -> rustls::Error {
    match rustls_error(&e) {
        Some(tls) => tls.clone(),
        None => panic!("I/O error during the {during}, not a TLS refusal: {e}"),
    }
}
