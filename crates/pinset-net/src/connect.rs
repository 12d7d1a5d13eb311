//! Reaching a server under a deadline: resolving its name, opening TCP to the first
//! address that answers, and the TLS handshake — each step bounded by the same instant, so
//! a server that trickles a byte a second is abandoned when the deadline passes, whatever
//! each read returns. Shared by the client ([`crate::client`]) and the probe
//! ([`crate::probe`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pinset::{Host, Target};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

use crate::error::{Error, ErrorKind, Phase, classify_tls};

/// What a TLS handshake negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFacts {
    /// The protocol version, as `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// The cipher suite, as rustls names it (`TLS13_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// The ALPN protocol the server chose (`h2`, `http/1.1`), if any.
    pub alpn: Option<String>,
}

impl TlsFacts {
    pub(crate) fn of(conn: &rustls::ClientConnection) -> TlsFacts {
        TlsFacts {
            version: conn.protocol_version().map(|v| format!("{v:?}").replace('_', ".")).unwrap_or_default(),
            cipher: conn.negotiated_cipher_suite().map(|c| format!("{:?}", c.suite())).unwrap_or_default(),
            alpn: conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
        }
    }
}

/// A deadline for a whole operation: the instant it ends, and the duration it was given
/// (for the message when it passes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    pub at: Instant,
    pub after: Duration,
}

impl Deadline {
    /// `after` from now.
    pub fn after(after: Duration) -> Deadline {
        Deadline { at: Instant::now() + after, after }
    }

    /// Runs `step` until the deadline; past it, the error names `phase`.
    pub async fn run<T>(&self, target: &str, phase: Phase, step: impl Future<Output = T>) -> Result<T, Error> {
        tokio::time::timeout_at(self.at, step)
            .await
            .map_err(|_| Error::new(target, ErrorKind::TimedOut { after: self.after, phase }))
    }
}

/// Opens TCP to the first address of `target` that accepts, before the deadline.
pub(crate) async fn tcp(target: &Target, deadline: &Deadline) -> Result<(TcpStream, SocketAddr), Error> {
    let name = target.authority();
    let addrs: Vec<SocketAddr> = match &target.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, target.port)],
        Host::Dns(d) => deadline
            .run(&name, Phase::Resolve, tokio::net::lookup_host((d.as_str(), target.port)))
            .await?
            .map_err(|e| Error::new(&name, ErrorKind::Resolve(e)))?
            .collect(),
    };
    let mut last = None;
    for addr in addrs {
        match deadline.run(&name, Phase::Connect, TcpStream::connect(addr)).await? {
            Ok(sock) => {
                // Requests are small and written at once: no reason to wait for more.
                let _ = sock.set_nodelay(true);
                return Ok((sock, addr));
            }
            Err(source) => last = Some(ErrorKind::Connect { addr, source }),
        }
    }
    Err(Error::new(
        &name,
        last.unwrap_or_else(|| {
            ErrorKind::Resolve(std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address"))
        }),
    ))
}

/// The TLS handshake with `config` before the deadline. A refusal by the verifier comes
/// back as [`ErrorKind::Refused`] with its report; `presented` says whether a client
/// certificate was configured (for the wording of a server's refusal of it).
pub(crate) async fn handshake(
    target: &str,
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    sock: TcpStream,
    deadline: &Deadline,
    presented: bool,
) -> Result<TlsStream<TcpStream>, Error> {
    let connector = tokio_rustls::TlsConnector::from(config);
    deadline.run(target, Phase::Handshake, connector.connect(name, sock)).await?.map_err(|e| {
        let kind = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => classify_tls(tls, presented),
            None => ErrorKind::Io(e),
        };
        Error::new(target, kind)
    })
}
