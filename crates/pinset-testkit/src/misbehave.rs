//! Loopback servers that misbehave on purpose, for deadline, refusal and robustness tests:
//! [`TrickleServer`] sends one byte a second forever, [`SilentServer`] accepts and never
//! sends, [`ClosedPort`] refuses every connection. Each listens on a port of its own and
//! stops when dropped (its connections closed, its threads joined).
//!
//! The TLS servers that lie in what they send (a short body, a redirect, ALPN `h2` without
//! HTTP/2) are [`crate::rustls_server`]'s; the one that speaks only TLS 1.0/1.1 is
//! [`crate::s_server::OpensslServer::legacy_tls`].

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;

use crate::net::{Loopback, V4};
use crate::rustls_server::{handshake, read_head};

/// The pace of a [`TrickleServer`]: each read of its peer returns well within any
/// per-read timeout, so only a deadline on the whole operation stops a client.
pub const TRICKLE_INTERVAL: Duration = Duration::from_secs(1);

/// What [`TrickleServer::tcp`] sends at once: the header of a TLS handshake record
/// (type 22, version 3.3) announcing 16,384 bytes, the most a record may carry. A TLS
/// client waits for the whole record, which at one byte a second takes four and a half
/// hours, so its handshake neither fails nor completes.
pub const TLS_RECORD_HEADER: [u8; 5] = [0x16, 0x03, 0x03, 0x40, 0x00];

/// What [`TrickleServer::tls`] sends at once for a trickled body: a complete response
/// head announcing a megabyte; the body then trickles.
pub const TRICKLE_BODY_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n";

/// What [`TrickleServer::tls`] sends at once for a trickled head: a status line and the
/// start of a header line that never ends.
pub const TRICKLE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nX-Trickle: ";

/// A server that accepts a connection, sends a prefix at once, then one filler byte every
/// [`TRICKLE_INTERVAL`], forever: what keeps a client with per-read timeouts (but no
/// deadline) running forever.
pub struct TrickleServer {
    /// Where it listens.
    pub addr: SocketAddr,
    server: Loopback,
}

impl TrickleServer {
    /// Plain TCP on 127.0.0.1: [`TLS_RECORD_HEADER`] at once, then a zero byte a second. A
    /// TLS client's handshake (`get`, a live `pin`) trickles forever.
    pub fn tcp() -> TrickleServer {
        TrickleServer::plain(V4, TLS_RECORD_HEADER.to_vec(), 0)
    }

    /// Plain TCP on `ip`: `prefix` at once, then `filler` once a second (an HTTP head that
    /// never ends for a plain HTTP client, for instance).
    pub fn plain(ip: IpAddr, prefix: Vec<u8>, filler: u8) -> TrickleServer {
        let server = Loopback::start(ip, move |mut sock, stop| {
            if sock.write_all(&prefix).is_err() {
                return;
            }
            while stop.sleep(TRICKLE_INTERVAL) {
                if sock.write_all(&[filler]).is_err() {
                    return;
                }
            }
        });
        TrickleServer { addr: server.addr(), server }
    }

    /// TLS on 127.0.0.1 with `config`: a complete handshake, the request head read, then
    /// `prefix` ([`TRICKLE_HEAD`] or [`TRICKLE_BODY_HEAD`]) at once and `a` once a second,
    /// each in a TLS record of its own. The handshake succeeds; the response never ends.
    pub fn tls(config: ServerConfig, prefix: &[u8]) -> TrickleServer {
        let config = Arc::new(config);
        let prefix = prefix.to_vec();
        let server = Loopback::start(V4, move |sock, stop| {
            let Ok(mut tls) = handshake(&config, sock) else { return };
            if read_head(&mut tls).is_err() || tls.write_all(&prefix).and_then(|()| tls.flush()).is_err() {
                return;
            }
            while stop.sleep(TRICKLE_INTERVAL) {
                if tls.write_all(b"a").and_then(|()| tls.flush()).is_err() {
                    return;
                }
            }
        });
        TrickleServer { addr: server.addr(), server }
    }

    /// `https://HOST:PORT/`.
    pub fn url(&self) -> String {
        crate::net::https_url(self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// How many connections it has accepted.
    pub fn accepted(&self) -> usize {
        self.server.accepted()
    }
}

/// A server that accepts connections and never sends a byte (nor closes them) until it is
/// dropped: a TLS client's handshake waits for a ServerHello that never comes.
pub struct SilentServer {
    /// Where it listens.
    pub addr: SocketAddr,
    server: Loopback,
}

impl SilentServer {
    /// On 127.0.0.1.
    pub fn start() -> SilentServer {
        SilentServer::on(V4)
    }

    /// On `ip`.
    pub fn on(ip: IpAddr) -> SilentServer {
        // The handler holds the socket, unread, until the server stops.
        let server = Loopback::start(ip, |_sock, stop| stop.wait());
        SilentServer { addr: server.addr(), server }
    }

    /// `https://HOST:PORT/`.
    pub fn url(&self) -> String {
        crate::net::https_url(self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// How many connections it has accepted (and holds).
    pub fn accepted(&self) -> usize {
        self.server.accepted()
    }
}

/// A loopback port known to refuse connections for as long as this value lives: the local
/// port of a connected TCP socket. Nothing listens there, so a SYN to it is answered with
/// a reset, and while the socket is open no one else can bind the port (the kernel does not
/// hand it out, and an explicit bind fails with "address in use"). More reliable than
/// "a port that was free a moment ago".
pub struct ClosedPort {
    /// The refusing address.
    pub addr: SocketAddr,
    _listener: TcpListener,
    _client: TcpStream,
    _accepted: TcpStream,
}

impl ClosedPort {
    /// On 127.0.0.1.
    pub fn new() -> ClosedPort {
        ClosedPort::on(V4)
    }

    /// On `ip`.
    pub fn on(ip: IpAddr) -> ClosedPort {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .unwrap_or_else(|e| panic!("cannot listen on {ip} (is loopback {ip} configured?): {e}"));
        let client = TcpStream::connect(listener.local_addr().expect("local address")).expect("connect to self");
        let (accepted, _) = listener.accept().expect("accept the connection to self");
        let addr = client.local_addr().expect("the client's local address");
        ClosedPort { addr, _listener: listener, _client: client, _accepted: accepted }
    }

    /// `https://HOST:PORT/`.
    pub fn url(&self) -> String {
        crate::net::https_url(self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }
}

impl Default for ClosedPort {
    fn default() -> ClosedPort {
        ClosedPort::new()
    }
}
