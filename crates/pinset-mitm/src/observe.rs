//! Watching one connection until its verdict: what its first bytes are ([`sniff`]), a
//! cleartext request read for its size and first line ([`read_cleartext`]), a TLS
//! handshake the harness terminates with a forged certificate ([`client_hello`], then
//! [`handshake`]), and a connection relayed untouched to a genuine server ([`relay`]).
//!
//! Each is bounded by the harness's timeout; a connection that shows nothing decisive in
//! that time is inconclusive.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::StartHandshake;

use crate::records::{Side, Watch};
use crate::verdict::{Rejection, Sent, Verdict};

/// Largest request head read from a client that sends data it should not: a head is a few
/// hundred bytes; the size reported is of what was read.
const HEAD_MAX: usize = 16 * 1024;

/// How long to wait for the rest of a request head once its first bytes came: a client
/// writes its head at once.
const HEAD_REST: Duration = Duration::from_millis(250);

/// What a connection's first bytes are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// A TLS handshake record.
    Tls,
    /// An HTTP request line.
    Http,
    /// Something else.
    Other,
    /// Nothing within the timeout.
    Silent,
    /// Closed (or reset) before sending anything.
    Closed,
}

/// Looks at the first bytes without taking them.
pub(crate) async fn sniff(sock: &TcpStream, timeout: Duration) -> Sniff {
    let mut buf = [0u8; 8];
    match tokio::time::timeout(timeout, sock.peek(&mut buf)).await {
        Err(_) => Sniff::Silent,
        Ok(Err(_) | Ok(0)) => Sniff::Closed,
        Ok(Ok(_)) if buf[0] == 0x16 => Sniff::Tls,
        Ok(Ok(n)) => {
            let head = &buf[..n];
            let word = head.split(|&b| b == b' ').next().unwrap_or_default();
            let is_method = !word.is_empty() && word.iter().all(u8::is_ascii_uppercase);
            if is_method && (word.len() < head.len() || n < buf.len()) { Sniff::Http } else { Sniff::Other }
        }
    }
}

/// Reads a request head (up to [`HEAD_MAX`] bytes, until its blank line or a pause),
/// answers it with `answer` and closes: what was sent.
pub(crate) async fn read_cleartext(mut sock: TcpStream, answer: &[u8]) -> Sent {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < HEAD_MAX && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(HEAD_REST, sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n.min(HEAD_MAX - head.len())]),
            _ => break,
        }
    }
    let _ = sock.write_all(answer).await;
    let _ = sock.shutdown().await;
    Sent::of(&head)
}

/// A verdict from an I/O error of a TLS handshake the harness serves.
fn handshake_error(e: &std::io::Error) -> Verdict {
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match tls {
            rustls::Error::AlertReceived(rustls::AlertDescription::CloseNotify) => {
                Verdict::Rejected(Rejection::ClosedInHandshake)
            }
            rustls::Error::AlertReceived(alert) => {
                Verdict::Rejected(Rejection::Alert(Some(crate::verdict::alert_name(u8::from(*alert)))))
            }
            rustls::Error::PeerIncompatible(why) => Verdict::Rejected(Rejection::Incompatible(format!(
                "the client offers no version or cipher the impostor accepts ({why:?})"
            ))),
            other => Verdict::Inconclusive(format!("the handshake failed: {other}")),
        };
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Verdict::Rejected(Rejection::ClosedInHandshake),
        std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted
        | std::io::ErrorKind::BrokenPipe => Verdict::Rejected(Rejection::ResetInHandshake),
        _ => Verdict::Inconclusive(format!("the handshake failed: {e}")),
    }
}

/// Reads the client's ClientHello, before `deadline`.
pub(crate) async fn client_hello(sock: TcpStream, deadline: Instant) -> Result<StartHandshake<TcpStream>, Verdict> {
    let acceptor = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), sock);
    match tokio::time::timeout_at(deadline, acceptor).await {
        Err(_) => Err(Verdict::Inconclusive("the client sent no complete ClientHello in time".into())),
        Ok(Err(e)) => Err(handshake_error(&e)),
        Ok(Ok(start)) => Ok(start),
    }
}

/// Completes the handshake with `config` before `deadline`, then waits up to `timeout`
/// for the client's first data: `on_data` with what it sent (answered with `answer`), a
/// rejection if it closes or alerts, inconclusive if it does neither. Returns the verdict
/// and the TLS version when the handshake completed.
pub(crate) async fn handshake(
    start: StartHandshake<TcpStream>,
    config: Arc<rustls::ServerConfig>,
    deadline: Instant,
    timeout: Duration,
    on_data: fn(Sent) -> Verdict,
    answer: &[u8],
) -> (Verdict, Option<String>) {
    let mut tls = match tokio::time::timeout_at(deadline, start.into_stream(config)).await {
        Err(_) => return (Verdict::Inconclusive("the handshake did not finish in time".into()), None),
        Ok(Err(e)) => return (handshake_error(&e), None),
        Ok(Ok(tls)) => tls,
    };
    let version = tls.get_ref().1.protocol_version().map(|v| format!("{v:?}").replace('_', "."));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let verdict = match tokio::time::timeout(timeout, tls.read(&mut buf)).await {
        Err(_) => Verdict::Inconclusive(format!(
            "the handshake completed, then the client neither sent data nor closed within {}s",
            timeout.as_secs_f32()
        )),
        Ok(Ok(0)) => Verdict::Rejected(Rejection::ClosedAfterHandshake { reset: false }),
        Ok(Err(e)) => match handshake_error(&e) {
            Verdict::Rejected(Rejection::ClosedInHandshake) => {
                Verdict::Rejected(Rejection::ClosedAfterHandshake { reset: false })
            }
            Verdict::Rejected(Rejection::ResetInHandshake) => {
                Verdict::Rejected(Rejection::ClosedAfterHandshake { reset: true })
            }
            other => other,
        },
        Ok(Ok(n)) => {
            head.extend_from_slice(&buf[..n]);
            while head.len() < HEAD_MAX && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tokio::time::timeout(HEAD_REST, tls.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n.min(HEAD_MAX - head.len())]),
                    _ => break,
                }
            }
            let _ = tls.write_all(answer).await;
            let _ = tls.shutdown().await;
            on_data(Sent::of(&head))
        }
    };
    (verdict, version)
}

/// Relays `client` and `upstream` to each other untouched, watching the TLS records pass,
/// and returns the verdict once the records decide it (`on_data` for application data
/// from the client), or inconclusive after `timeout`. The relay goes on after the verdict
/// until either side closes.
pub(crate) async fn relay(
    client: TcpStream,
    upstream: TcpStream,
    timeout: Duration,
    on_data: Verdict,
) -> (Verdict, Option<String>) {
    let watch = Arc::new(Mutex::new(Watch::new(on_data)));
    let decided = Arc::new(tokio::sync::Notify::new());
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    tokio::spawn(pump(client_read, upstream_write, Side::Client, watch.clone(), decided.clone()));
    tokio::spawn(pump(upstream_read, client_write, Side::Server, watch.clone(), decided.clone()));
    let deadline = Instant::now() + timeout;
    loop {
        let notified = decided.notified();
        {
            let w = watch.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(v) = w.verdict() {
                return (v.clone(), w.version().map(str::to_string));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            let w = watch.lock().unwrap_or_else(PoisonError::into_inner);
            let why = format!(
                "nothing decisive within {}s (the client neither refused, nor closed, nor sent data)",
                timeout.as_secs_f32()
            );
            return (w.verdict().cloned().unwrap_or(Verdict::Inconclusive(why)), w.version().map(str::to_string));
        }
    }
}

/// Copies one direction, feeding the watch, until either end closes.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    side: Side,
    watch: Arc<Mutex<Watch>>,
    decided: Arc<tokio::sync::Notify>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let (n, closed) = match from.read(&mut buf).await {
            Ok(0) => (0, Some(false)),
            Ok(n) => (n, None),
            Err(e) => (0, Some(e.kind() == std::io::ErrorKind::ConnectionReset)),
        };
        {
            let mut w = watch.lock().unwrap_or_else(PoisonError::into_inner);
            let before = w.verdict().is_some();
            match closed {
                Some(reset) => w.closed(side, reset),
                None => w.feed(side, &buf[..n]),
            }
            if !before && w.verdict().is_some() {
                decided.notify_one();
            }
        }
        if closed.is_some() || to.write_all(&buf[..n]).await.is_err() {
            let _ = to.shutdown().await;
            return;
        }
    }
}
