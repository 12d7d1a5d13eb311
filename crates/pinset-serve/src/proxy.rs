//! The reverse proxy to a plain-HTTP upstream: HTTP/1.1 to the upstream over a keep-alive
//! pool ([`Pool`]) whatever the client spoke, hop-by-hop headers dropped, forwarded headers and the
//! verified client identity set (after removing whatever the client sent under those
//! names: the front is the first hop, so only its own values reach the upstream), request
//! bodies limited, upgrades (WebSocket) passed through on a connection of their own.
//! An upstream that cannot be reached gives 502, one that does not answer in time 504,
//! each with a log line saying what happened.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;

use crate::client_auth::{ClientIdentity, IDENTITY_HEADER_PREFIX};
use crate::http::{Body, BoxError, Conn, text};
use crate::log::Logger;
use crate::options::{Limits, Upstream};

/// Time to open a connection to the upstream (5 s: it is on the same box or LAN; longer
/// means it is down).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle pooled upstream connections are closed after 90 s (under the 100 s+ keep-alive
/// most servers use, so the pool never reuses a connection the upstream is closing).
const POOL_IDLE: Duration = Duration::from_secs(90);
/// Idle upstream connections kept at most (beyond, a connection is closed when its request
/// ends): far more than the requests a site's upstream has in flight at once, and a bound
/// on the descriptors a burst leaves open.
const POOL_MAX_IDLE: usize = 1024;

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

const FORWARDED: HeaderName = HeaderName::from_static("forwarded");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Request headers the front sets itself; a client's are removed.
const FORWARDED_HEADERS: [HeaderName; 5] =
    [FORWARDED, X_FORWARDED_FOR, X_FORWARDED_PROTO, X_FORWARDED_HOST, HeaderName::from_static("x-real-ip")];

/// The proxy of one server.
pub(crate) struct Proxy {
    upstream: Upstream,
    pool: Arc<Pool>,
    limits: Limits,
    logger: Logger,
}

impl Proxy {
    pub(crate) fn new(upstream: Upstream, limits: Limits, logger: Logger) -> Proxy {
        let pool = Arc::new(Pool { authority: upstream.authority.clone(), idle: Mutex::new(Vec::new()) });
        Proxy { upstream, pool, limits, logger }
    }

    /// Forwards a request and returns the upstream's response (or 502/504/413).
    pub(crate) async fn forward(&self, mut req: Request<Incoming>, conn: Arc<Conn>) -> Response<Body> {
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limits.max_body_bytes) {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        let upgrade = is_upgrade(&req);
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        let (mut parts, body) = req.into_parts();
        // The client's Host (or HTTP/2 :authority), kept as the header value it came in:
        // cloning it shares its bytes.
        let host = match parts.headers.get(header::HOST) {
            Some(h) if h.to_str().is_ok() => Some(h.clone()),
            _ => parts.uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()),
        };
        let path = parts.uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
        // Only error lines need the request in words: built when one is written.
        let method = parts.method.clone();
        let what = || format!("{method} {path}");
        strip_hop_by_hop(&mut parts.headers, upgrade);
        set_forwarded(&mut parts.headers, conn.peer.ip(), host.as_ref());
        set_identity(&mut parts.headers, conn.identity.as_deref());
        let host = host.or_else(|| HeaderValue::from_str(self.upstream.authority.as_str()).ok());
        if let Some(h) = &host {
            parts.headers.insert(header::HOST, h.clone());
        }
        parts.version = Version::HTTP_11;
        // Origin form (`/path?query`): the upstream is the server, not a proxy.
        parts.uri = hyper::Uri::from(path.clone());
        let body: Body = Limited::new(body, self.limits.max_body_bytes as usize).map_err(BoxError::from).boxed_unsync();
        let req = Request::from_parts(parts, body);
        if let Some(client_upgrade) = client_upgrade {
            return self.forward_upgrade(req, client_upgrade, conn, &what()).await;
        }
        let resp = match tokio::time::timeout(self.limits.upstream_timeout, self.pool.send(req)).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(why)) => return self.bad_gateway(&what(), &why),
            Err(_) => {
                self.logger.error(&format!(
                    "upstream {} did not answer {} within {}s: answered 504 Gateway Timeout",
                    self.upstream.url(),
                    what(),
                    self.limits.upstream_timeout.as_secs()
                ));
                return text(StatusCode::GATEWAY_TIMEOUT, "the upstream server did not answer in time");
            }
        };
        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, false);
        Response::from_parts(parts, body)
    }

    fn bad_gateway(&self, what: &str, why: &str) -> Response<Body> {
        self.logger.error(&format!(
            "upstream {} cannot be reached for {what} ({why}): answered 502 Bad Gateway",
            self.upstream.url()
        ));
        text(StatusCode::BAD_GATEWAY, "the upstream server cannot be reached")
    }

    /// An upgrade (WebSocket) gets a fresh upstream connection; after `101` the two
    /// connections are spliced until either side closes.
    async fn forward_upgrade(
        &self,
        req: Request<Body>,
        client_upgrade: hyper::upgrade::OnUpgrade,
        conn: Arc<Conn>,
        what: &str,
    ) -> Response<Body> {
        let authority = self.upstream.authority.as_str().to_string();
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&authority)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return self.bad_gateway(what, &e.to_string()),
            Err(_) => return self.bad_gateway(what, "connection timed out"),
        };
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
            Ok(x) => x,
            Err(e) => return self.bad_gateway(what, &e.to_string()),
        };
        tokio::spawn(connection.with_upgrades());
        let mut resp = match tokio::time::timeout(self.limits.upstream_timeout, sender.send_request(req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return self.bad_gateway(what, &e.to_string()),
            Err(_) => return text(StatusCode::GATEWAY_TIMEOUT, "the upstream server did not answer in time"),
        };
        if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            let upstream_upgrade = hyper::upgrade::on(&mut resp);
            let logger = self.logger.clone();
            conn.activity.start();
            tokio::spawn(async move {
                match tokio::try_join!(client_upgrade, upstream_upgrade) {
                    Ok((client, upstream)) => {
                        let _ =
                            tokio::io::copy_bidirectional(&mut TokioIo::new(client), &mut TokioIo::new(upstream)).await;
                    }
                    Err(e) => logger.warn(&format!("upgrade failed after 101 Switching Protocols: {e}")),
                }
                conn.activity.end();
            });
        }
        let (mut parts, body) = resp.into_parts();
        let upgraded = parts.status == StatusCode::SWITCHING_PROTOCOLS;
        strip_hop_by_hop(&mut parts.headers, upgraded);
        Response::from_parts(parts, body.map_err(BoxError::from).boxed_unsync())
    }
}

/// An HTTP/1.1 request asking to switch protocols (`Connection: upgrade` + `Upgrade`).
fn is_upgrade(req: &Request<Incoming>) -> bool {
    req.version() == Version::HTTP_11
        && req.headers().contains_key(header::UPGRADE)
        && req
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Removes hop-by-hop headers and those the `Connection` header names; an upgrade keeps
/// `Connection: upgrade` and `Upgrade`.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    // Most messages carry none of them: one look at the names present instead of a
    // lookup per hop-by-hop name. `Connection` is one of them, so the headers it names
    // are only looked for when it is there.
    if !upgrade && !headers.keys().any(|k| k == header::UPGRADE || HOP_BY_HOP.contains(k)) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .filter(|n| !(upgrade && n == header::UPGRADE))
        .collect();
    let present: Vec<HeaderName> = headers.keys().filter(|k| HOP_BY_HOP.contains(k)).cloned().collect();
    for name in named.iter().chain(present.iter()) {
        headers.remove(name);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// Replaces the forwarded headers with the front's own.
fn set_forwarded(headers: &mut HeaderMap, client: std::net::IpAddr, host: Option<&HeaderValue>) {
    if headers.keys().any(|k| FORWARDED_HEADERS.contains(k)) {
        for name in &FORWARDED_HEADERS {
            headers.remove(name);
        }
    }
    use std::fmt::Write as _;
    let client = client.to_canonical();
    let mut text = String::with_capacity(64);
    crate::log::push_ip(&mut text, client);
    if let Ok(v) = HeaderValue::from_str(&text) {
        headers.insert(X_FORWARDED_FOR, v);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
    // RFC 7239: IPv6 in brackets and quoted.
    text.clear();
    let _ = match client {
        std::net::IpAddr::V6(v6) => write!(text, "for=\"[{v6}]\";proto=https"),
        v4 => write!(text, "for={v4};proto=https"),
    };
    if let Some(host) = host {
        headers.insert(X_FORWARDED_HOST, host.clone());
        if let Ok(h) = host.to_str() {
            text.push_str(";host=\"");
            text.extend(h.chars().filter(|c| !matches!(c, '"' | '\\')));
            text.push('"');
        }
    }
    if let Ok(v) = HeaderValue::from_str(&text) {
        headers.insert(FORWARDED, v);
    }
}

/// Removes every `X-Client-Cert-*` header, then sets them from the verified certificate.
fn set_identity(headers: &mut HeaderMap, identity: Option<&ClientIdentity>) {
    let spoofed: Vec<HeaderName> =
        headers.keys().filter(|k| k.as_str().starts_with(IDENTITY_HEADER_PREFIX)).cloned().collect();
    for name in spoofed {
        headers.remove(&name);
    }
    let Some(id) = identity else { return };
    // Header values must be visible ASCII: anything else in a certificate name is escaped.
    let value = |s: &str| HeaderValue::from_str(&s.escape_default().to_string()).ok();
    let values = [
        ("x-client-cert-subject", value(&id.subject)),
        ("x-client-cert-san", value(&id.sans.join(", "))),
        ("x-client-cert-serial", value(&id.serial)),
        ("x-client-cert-pin", value(&format!("sha256/{}", id.pin))),
    ];
    for (name, v) in values {
        if let Some(v) = v {
            headers.insert(name, v);
        }
    }
}

/// An upstream error in words: the innermost cause (connection reset …).
fn describe(e: &hyper::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Keep-alive HTTP/1.1 connections to the upstream, each driven by a task of its own. A
/// request takes the most recently used idle one (or opens one) and gives it back once
/// the response body has been read to its end; one that is closed, or idle for
/// [`POOL_IDLE`], is dropped when met.
struct Pool {
    authority: http::uri::Authority,
    idle: Mutex<Vec<(SendRequest<Body>, Instant)>>,
}

impl Pool {
    fn take(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // The oldest are at the bottom: closed there once past their idle time, so a
        // burst's extra connections do not stay open while the newest ones serve.
        let stale = idle.iter().take_while(|(_, since)| since.elapsed() >= POOL_IDLE).count();
        if stale > 0 {
            idle.drain(..stale);
        }
        while let Some((sender, since)) = idle.pop() {
            if !sender.is_closed() && since.elapsed() < POOL_IDLE {
                return Some(sender);
            }
        }
        None
    }

    fn put(&self, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < POOL_MAX_IDLE {
            idle.push((sender, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, String> {
        let stream = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio::net::TcpStream::connect(self.authority.as_str()),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(format!("cannot connect: {e}")),
            Err(_) => return Err("cannot connect: connection timed out".into()),
        };
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| describe(&e))?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends a request and returns the response, its body holding the connection until
    /// read. A request that a reused connection closed before taking (the upstream ended
    /// its keep-alive) is sent again on another.
    async fn send(self: &Arc<Self>, mut req: Request<Body>) -> Result<Response<Body>, String> {
        loop {
            let (mut sender, reused) = match self.take() {
                Some(s) => (s, true),
                None => (self.connect().await?, false),
            };
            if let Err(e) = sender.ready().await {
                if reused {
                    continue;
                }
                return Err(describe(&e));
            }
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    return Ok(resp.map(|inner| {
                        PooledBody { inner, back: Some((self.clone(), sender)) }.map_err(BoxError::from).boxed_unsync()
                    }));
                }
                Err(mut e) => match e.take_message() {
                    Some(again) if reused => req = again,
                    _ => return Err(describe(e.error())),
                },
            }
        }
    }
}

/// An upstream response body that gives its connection back to the pool at its end (one
/// dropped before its end closes the connection: the rest of it would still arrive).
struct PooledBody {
    inner: Incoming,
    back: Option<(Arc<Pool>, SendRequest<Body>)>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some((pool, sender)) = self.back.take() {
            pool.put(sender);
        }
    }
}

impl hyper::body::Body for PooledBody {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, hyper::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        match &r {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.release(),
            Poll::Ready(Some(Err(_))) => self.back = None,
            _ => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // A body that was empty (or read to its end) without a last poll.
        if hyper::body::Body::is_end_stream(&self.inner) {
            self.release();
        }
    }
}
