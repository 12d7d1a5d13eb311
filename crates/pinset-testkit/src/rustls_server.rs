//! A rustls server on loopback with a canned answer, on std threads: the genuine or
//! impostor server of the verifier and example tests, and the lying HTTP server of the
//! client tests (any status and headers, `Location:` for redirects, a `Content-Length`
//! larger than the body it sends, a close without `close_notify`, ALPN `h2` offered by a
//! server that does not speak it).
//!
//! Each connection is served in a thread of its own: handshake, then (unless the answer is
//! a [`Response::greeting`]) the request head up to its blank line, then the canned bytes,
//! then the close. The server records how every connection ended ([`TlsServer::next_outcome`]):
//! the TLS version, ALPN and SNI it negotiated and the request head it read, or the error
//! that ended it (a client refusing the certificate ends the handshake with an alert).
//!
//! The TLS configuration is the caller's: `pinset_tls::server_config` through
//! [`crate::pki::Identity::server_config`] or [`crate::pki::server_config`], as pinset's
//! own servers make theirs. A genuine HTTP/2 server is [`crate::nghttpd`]'s.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::{ProtocolVersion, ServerConfig, ServerConnection, StreamOwned};

use crate::net::{IO_TIMEOUT, Loopback, Stop, V4, https_url};
use crate::pki::server_config;

/// What [`TlsServer::serve`]'s answer carries as its body.
pub const RUSTLS_BODY: &str = "pinset test server";

/// Bound on a request head the server reads: a test request is a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// The `Content-Length` a [`Response`] sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// The body's own length.
    Actual,
    /// This length, whatever the body's (larger than the body: a short body).
    Declared(usize),
    /// No `Content-Length`: the body ends with the connection.
    Absent,
}

/// How the server ends a connection after its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// TLS `close_notify`, then the TCP close: a clean end of the stream.
    Notify,
    /// The TCP close alone, no `close_notify`: a truncation a TLS client can tell apart.
    Abrupt,
}

/// The canned answer of a [`TlsServer`]: an HTTP/1.1 response (status, headers, body)
/// with `Connection: close`, or raw bytes ([`Response::greeting`]).
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    length: Length,
    close: Close,
    greeting: bool,
}

impl Response {
    /// `200 OK`, `Content-Type: text/plain`, `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response::status(200, "OK").header("Content-Type", "text/plain").body(body)
    }

    /// A response with this status line and no body yet.
    pub fn status(status: u16, reason: &str) -> Response {
        Response {
            status,
            reason: reason.into(),
            headers: Vec::new(),
            body: Vec::new(),
            length: Length::Actual,
            close: Close::Notify,
            greeting: false,
        }
    }

    /// A redirect (`301`, `302`, `303`, `307` or `308`) to `location`.
    pub fn redirect(status: u16, location: &str) -> Response {
        let reason = match status {
            301 => "Moved Permanently",
            302 => "Found",
            303 => "See Other",
            307 => "Temporary Redirect",
            308 => "Permanent Redirect",
            _ => "Redirect",
        };
        Response::status(status, reason).header("Location", location)
    }

    /// A valid head announcing `Content-Length: declared`, then only `body` (shorter), then
    /// a clean close (`close_notify`): the short-body error a client must report. Add
    /// `.close(Close::Abrupt)` for the same truncation without `close_notify`.
    pub fn short_body(body: impl Into<Vec<u8>>, declared: usize) -> Response {
        let response = Response::ok(body);
        assert!(declared > response.body.len(), "a short body announces more than it sends");
        response.length(Length::Declared(declared))
    }

    /// `bytes` written as soon as the handshake is done, without reading a request and
    /// without any HTTP framing, then `close_notify`.
    pub fn greeting(bytes: impl Into<Vec<u8>>) -> Response {
        Response { greeting: true, ..Response::status(0, "").body(bytes) }
    }

    /// Adds a header line (any bytes a test wants, valid or not).
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// Sets the `Content-Length` sent.
    pub fn length(mut self, length: Length) -> Response {
        self.length = length;
        self
    }

    /// Sets how the connection ends.
    pub fn close(mut self, close: Close) -> Response {
        self.close = close;
        self
    }

    /// The bytes the server writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.greeting {
            return self.body.clone();
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match self.length {
            Length::Actual => head.push_str(&format!("Content-Length: {}\r\n", self.body.len())),
            Length::Declared(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
            Length::Absent => {}
        }
        head.push_str("Connection: close\r\n\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A connection the server saw through: what was negotiated and asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// The TLS version negotiated.
    pub version: Option<ProtocolVersion>,
    /// The ALPN protocol negotiated, if any.
    pub alpn: Option<Vec<u8>>,
    /// The server name the client sent (SNI); a client dialling an IP address sends none.
    pub sni: Option<String>,
    /// The request head read, up to its blank line (empty for a greeting).
    pub request: String,
}

/// How one connection ended: served, or the error that ended it (a handshake the client
/// refused, a client that went away).
pub type Outcome = Result<Served, String>;

/// A rustls server on loopback answering every connection with one canned [`Response`];
/// stopped on drop (see [`crate::net::Loopback`]).
pub struct TlsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    _server: Loopback,
    outcomes: Mutex<Receiver<Outcome>>,
}

/// Options of a [`TlsServer`] before it starts.
pub struct TlsServerBuilder {
    config: ServerConfig,
    ip: IpAddr,
    response: Response,
}

impl TlsServerBuilder {
    /// Listens on `ip` (default 127.0.0.1).
    pub fn ip(mut self, ip: IpAddr) -> TlsServerBuilder {
        self.ip = ip;
        self
    }

    /// Answers with `response` (default [`Response::ok`] of [`RUSTLS_BODY`]).
    pub fn response(mut self, response: Response) -> TlsServerBuilder {
        self.response = response;
        self
    }

    /// Offers these ALPN protocols, in order of preference (`["h2", "http/1.1"]`;
    /// default: no ALPN). The server answers with its canned HTTP/1.1 bytes whatever was
    /// negotiated, so offering `h2` makes a server that lies to a client choosing it.
    pub fn alpn(mut self, protocols: &[&str]) -> TlsServerBuilder {
        self.config.alpn_protocols = protocols.iter().map(|p| p.as_bytes().to_vec()).collect();
        self
    }

    /// Starts it.
    pub fn start(self) -> TlsServer {
        let config = Arc::new(self.config);
        let response = Arc::new(self.response);
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let server = Loopback::start(self.ip, move |sock, stop| {
            let tx: Sender<Outcome> = tx.lock().unwrap_or_else(PoisonError::into_inner).clone();
            answer(&config, &response, sock, stop, |outcome| {
                let _ = tx.send(outcome);
            });
        });
        TlsServer { addr: server.addr(), _server: server, outcomes: Mutex::new(rx) }
    }
}

impl TlsServer {
    /// A server with `config` (see [`TlsServerBuilder`] for its options).
    pub fn builder(config: ServerConfig) -> TlsServerBuilder {
        TlsServerBuilder { config, ip: V4, response: Response::ok(RUSTLS_BODY) }
    }

    /// Serves `chain` (PEMs, in the order sent, leaf first) with `key_pem` on 127.0.0.1,
    /// answering [`RUSTLS_BODY`] to every request.
    pub fn serve(chain: &[String], key_pem: &str) -> TlsServer {
        TlsServer::builder(server_config(chain, key_pem)).start()
    }

    /// Serves with `config` on 127.0.0.1, answering `response`.
    pub fn start(config: ServerConfig, response: Response) -> TlsServer {
        TlsServer::builder(config).response(response).start()
    }

    /// `https://HOST:PORT/`, IPv6 in brackets.
    pub fn url(&self) -> String {
        https_url(self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// How the next connection (in the order they ended) ended; waits for it, failing the
    /// test if none ends within the I/O timeout.
    pub fn next_outcome(&self) -> Outcome {
        let rx = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        rx.recv_timeout(IO_TIMEOUT + Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("no connection to the TLS server on {} ended in time", self.addr))
    }
}

/// Completes a server handshake on `sock`.
pub(crate) fn handshake(
    config: &Arc<ServerConfig>,
    sock: TcpStream,
) -> io::Result<StreamOwned<ServerConnection, TcpStream>> {
    let conn = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock)? == (0, 0) {
            // No progress and no error (close_notify mid-handshake): give up, never loop.
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the handshake stalled"));
        }
    }
    Ok(tls)
}

/// Reads a request head, up to and including its blank line.
pub(crate) fn read_head(tls: &mut impl Read) -> io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_REQUEST_HEAD {
            return Err(io::Error::other("request head too long"));
        }
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the client closed before a whole request head"));
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Ends a connection without a reset: stops writing, then drains what the client still
/// sends until it closes (or the server stops), so unread input never turns the close into
/// a TCP RST that could discard the answer before the client reads it.
pub(crate) fn linger(sock: &mut TcpStream, stop: &Stop) {
    let _ = sock.shutdown(Shutdown::Write);
    let mut buf = [0u8; 1024];
    while !stop.is_stopped() {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Serves one connection, reports how it went, then lets it end gracefully.
fn answer(config: &Arc<ServerConfig>, response: &Response, sock: TcpStream, stop: &Stop, report: impl FnOnce(Outcome)) {
    let describe = |e: io::Error| e.to_string();
    let mut tls = match handshake(config, sock) {
        Ok(tls) => tls,
        Err(e) => return report(Err(describe(e))),
    };
    let mut served = Served {
        version: tls.conn.protocol_version(),
        alpn: tls.conn.alpn_protocol().map(<[u8]>::to_vec),
        sni: tls.conn.server_name().map(str::to_string),
        request: String::new(),
    };
    let written = (|| {
        if !response.greeting {
            served.request = read_head(&mut tls)?;
        }
        tls.write_all(&response.to_bytes())?;
        if response.close == Close::Notify {
            tls.conn.send_close_notify();
        }
        tls.flush()
    })();
    match written {
        Ok(()) => {
            report(Ok(served));
            linger(&mut tls.sock, stop);
        }
        Err(e) => report(Err(describe(e))),
    }
}
