//! The HTTPS client behind `pinset get`: one request, over hyper on tokio-rustls, to a
//! server that a [`ChainVerifier`] must accept first.
//!
//! - **Trust.** Every connection gets its own verifier from
//!   [`ChainVerifier::for_connection`], so each response carries the [`Outcome`] of its
//!   own handshake. Sessions are never resumed: every connection checks its chain.
//! - **HTTP version.** ALPN offers `h2` and `http/1.1`: HTTP/2 when the server picks it,
//!   HTTP/1.1 otherwise (also when it offers no ALPN at all).
//! - **Deadline.** [`Limits::timeout`] bounds the whole fetch — resolving, connecting, the
//!   handshake, the response head and body, and every redirect followed — not each read, so
//!   a server trickling a byte a second is abandoned when it passes.
//! - **Size.** A body over [`Limits::max_body`] is refused (and one whose
//!   `Content-Length` announces more is refused before it is read); a body shorter than
//!   its `Content-Length`, or cut without TLS close_notify, is an error, never a short
//!   result.
//! - **Redirects.** Not followed unless asked ([`Redirects::Within`]); then at most
//!   [`Limits::max_redirects`], each to an `https://` URL inside the [`Scope`] (the site's
//!   addresses, or the host first dialled), each on a new connection verified on its own.
//!   A redirect to `http://` is refused, never followed.
//!
//! ```no_run
//! # async fn demo(verifier: std::sync::Arc<dyn pinset_tls::ChainVerifier>) -> Result<(), Box<dyn std::error::Error>> {
//! use pinset_net::client::{Client, Redirects, Request};
//! let client = Client::new(verifier, None)?;
//! let target = pinset::Target::parse("https://192.168.1.10:8443/status", None)?;
//! let fetched = client.fetch(Request::get(target), &Redirects::NotFollowed).await?;
//! println!("{} over {}", fetched.response.status, fetched.response.http.name());
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt as _, Full};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use pinset::{Host, Target};
use pinset_tls::outcome::{ChainVerifier, Outcome};
use pinset_tls::verifier::Verified;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::connect::{self, Deadline, TlsFacts};
use crate::error::{
    Error, ErrorKind, Phase, RedirectRefusal, chain_text, classify_tls, client_certificate_alert, find_rustls,
};

/// Largest response body kept in memory: 256 MiB. A status page or an API answer is far
/// smaller; anything larger is refused rather than exhausting a small device's memory.
pub const MAX_BODY: u64 = 256 << 20;

/// Redirects followed at most: a status page or API redirects once or twice (a trailing
/// slash, a login page); more is a loop. curl's default is 50, browsers' 20.
pub const MAX_REDIRECTS: usize = 5;

/// The deadline of a fetch when none is given: 30 s, curl's connect timeout order of
/// magnitude, long enough for a slow box on a busy LAN.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response head accepted over HTTP/2 (the header list, RFC 9113 §6.5.2); HTTP/1.1
/// heads are bounded by hyper's read buffer (400 KiB) and header count (100).
const MAX_HEADER_LIST: u32 = 256 * 1024;

/// Headers that are HTTP/1.1 connection management and must not be sent over HTTP/2
/// (RFC 9113 §8.2.2): dropped from an HTTP/2 request.
const CONNECTION_SPECIFIC: [&str; 5] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

/// A client certificate and its key, for mutual TLS.
pub struct Identity {
    /// The certificate chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
}

/// What bounds a fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deadline of the whole fetch, redirects included.
    pub timeout: Duration,
    /// Largest body kept, in bytes.
    pub max_body: u64,
    /// Redirects followed at most (when they are followed at all).
    pub max_redirects: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { timeout: DEFAULT_TIMEOUT, max_body: MAX_BODY, max_redirects: MAX_REDIRECTS }
    }
}

/// Where redirects may lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Any port of an address of a site: one of `hosts` (IP addresses, DNS names, `*.`
    /// patterns) must cover the redirect's host.
    Site {
        /// The site's name, for messages.
        name: String,
        /// The site's addresses.
        hosts: Vec<Host>,
    },
    /// Any port of the host first dialled, and no other host.
    SameHost,
}

/// Whether redirects are followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirects {
    /// A redirect is the response: returned as it is.
    NotFollowed,
    /// Followed within this scope, at most [`Limits::max_redirects`] times; one that
    /// leaves it (or TLS) is an [`ErrorKind::Redirect`] error.
    Within(Scope),
}

/// A request to send.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The URL.
    pub target: Target,
    /// Headers besides the ones the client sets (`Host`, `User-Agent`, `Accept`; a header
    /// given here replaces the client's of that name).
    pub headers: HeaderMap,
    /// The body (empty for none).
    pub body: Bytes,
}

impl Request {
    /// `GET` of `target`, no extra headers, no body.
    pub fn get(target: Target) -> Request {
        Request { method: Method::GET, target, headers: HeaderMap::new(), body: Bytes::new() }
    }
}

/// The HTTP version a response came over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 (or 1.0 from an old server).
    Http1,
    /// HTTP/2, chosen by ALPN `h2`.
    Http2,
}

impl HttpVersion {
    /// `HTTP/1.1` or `HTTP/2`.
    pub fn name(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        }
    }
}

/// One request and its response, on one connection.
#[derive(Debug)]
pub struct Exchange {
    /// The URL fetched.
    pub target: Target,
    /// The address connected to.
    pub addr: std::net::SocketAddr,
    /// What the TLS handshake negotiated.
    pub tls: TlsFacts,
    /// The HTTP version spoken.
    pub http: HttpVersion,
    /// This connection's verification result (accepted: a response only comes from a
    /// server whose chain was accepted).
    pub outcome: Outcome,
    /// The status.
    pub status: StatusCode,
    /// The reason phrase the server sent, when it is not the standard one (HTTP/1 only;
    /// empty when it held bytes outside ASCII, which the parser does not pass on): text
    /// from the peer, to be escaped before it reaches a terminal.
    pub peer_reason: Option<String>,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Exchange {
    /// The accepted chain and pin check of this connection.
    pub fn verified(&self) -> Option<&Verified> {
        self.outcome.get().and_then(|r| r.as_ref().ok())
    }

    /// The reason phrase: the server's own when it sent a non-empty one, else the standard
    /// one for the status.
    pub fn reason(&self) -> String {
        match &self.peer_reason {
            Some(r) if !r.is_empty() => r.clone(),
            _ => self.status.canonical_reason().unwrap_or("").to_string(),
        }
    }

    /// The `Location` of a redirect (3xx with a `Location` header), as sent.
    pub fn location(&self) -> Option<String> {
        if !self.status.is_redirection() {
            return None;
        }
        self.headers.get(header::LOCATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
}

/// The result of a fetch: the redirects followed, then the final response.
#[derive(Debug)]
pub struct Fetched {
    /// Redirect responses followed, in order (empty unless redirects are followed).
    pub redirects: Vec<Exchange>,
    /// The final response.
    pub response: Exchange,
}

/// An HTTPS client holding a verifier (and perhaps a client identity).
pub struct Client {
    verifier: Arc<dyn ChainVerifier>,
    base: rustls::ClientConfig,
    presented: bool,
    limits: Limits,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("verifier", &self.verifier)
            .field("identity", &self.presented)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Client {
    /// A client whose connections are verified by `verifier`, presenting `identity` when
    /// a server asks for a client certificate. Fails when the key does not fit the
    /// certificate. Limits are [`Limits::default`].
    pub fn new(verifier: Arc<dyn ChainVerifier>, identity: Option<Identity>) -> Result<Client, rustls::Error> {
        // The configuration's verifier is replaced per connection (see `exchange`).
        let (placeholder, _) = verifier.clone().for_connection();
        let builder = rustls::ClientConfig::builder_with_provider(pinset_tls::provider())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(placeholder);
        let presented = identity.is_some();
        let mut base = match identity {
            Some(id) => builder.with_client_auth_cert(id.chain, id.key)?,
            None => builder.with_no_client_auth(),
        };
        base.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        // A resumed session skips the certificate check, and with it this connection's
        // outcome: every connection makes a full handshake.
        base.resumption = rustls::client::Resumption::disabled();
        Ok(Client { verifier, base, presented, limits: Limits::default() })
    }

    /// The same client with these limits.
    pub fn with_limits(mut self, limits: Limits) -> Client {
        self.limits = limits;
        self
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sends `request` and reads the whole response, following redirects as `redirects`
    /// says, all within [`Limits::timeout`].
    pub async fn fetch(&self, request: Request, redirects: &Redirects) -> Result<Fetched, Error> {
        let deadline = Deadline::after(self.limits.timeout);
        let first = request.target.host.clone();
        let mut request = request;
        let mut followed = Vec::new();
        loop {
            let exchange = self.exchange(&request, &deadline).await?;
            let (Redirects::Within(scope), Some(location)) = (redirects, exchange.location()) else {
                return Ok(Fetched { redirects: followed, response: exchange });
            };
            let next = redirect_target(&exchange.target, &location, scope, &first)?;
            if followed.len() >= self.limits.max_redirects {
                return Err(Error::new(
                    exchange.target.url(),
                    ErrorKind::Redirect {
                        location: next.url(),
                        refusal: RedirectRefusal::TooMany { max: self.limits.max_redirects },
                    },
                ));
            }
            request = redirected(request, exchange.status, next);
            followed.push(exchange);
        }
    }

    /// One request on a new connection.
    async fn exchange(&self, request: &Request, deadline: &Deadline) -> Result<Exchange, Error> {
        let target = &request.target;
        let name = target.authority();
        let server_name = pinset_tls::probe::server_name(&target.host)
            .map_err(|e| Error::new(&name, ErrorKind::BadServerName(e.to_string())))?;
        let (sock, addr) = connect::tcp(target, deadline).await?;
        let (verifier, outcome) = self.verifier.clone().for_connection();
        let mut config = self.base.clone();
        config.dangerous().set_certificate_verifier(verifier);
        let tls = connect::handshake(&name, Arc::new(config), server_name, sock, deadline, self.presented).await?;
        let tls_facts = TlsFacts::of(tls.get_ref().1);
        let http = if tls_facts.alpn.as_deref() == Some("h2") { HttpVersion::Http2 } else { HttpVersion::Http1 };
        let req = http_request(request, http).map_err(|k| Error::new(&name, k))?;
        let io = TokioIo::new(tls);
        let failed = |e: hyper::Error| {
            let detail = chain_text(&e);
            let kind = match find_rustls(&e) {
                Some(tls) => classify_tls(tls, self.presented),
                None => match client_certificate_alert(&detail) {
                    Some(tls) => classify_tls(&tls, self.presented),
                    None => ErrorKind::Http { version: http.name(), detail },
                },
            };
            Error::new(&name, kind)
        };
        // The connection is driven by a task of its own, aborted when this exchange ends.
        let (response, _driver) = match http {
            HttpVersion::Http1 => {
                let (mut sender, conn) = deadline
                    .run(&name, Phase::Response, hyper::client::conn::http1::Builder::new().handshake(io))
                    .await?
                    .map_err(failed)?;
                let mut driver = Driver(Some(tokio::spawn(conn)));
                let sent = deadline.run(&name, Phase::Response, sender.send_request(req)).await?;
                (driver.response(sent, deadline, &name).await?.map_err(failed)?, driver)
            }
            HttpVersion::Http2 => {
                let (mut sender, conn) = deadline
                    .run(
                        &name,
                        Phase::Response,
                        hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                            .max_header_list_size(MAX_HEADER_LIST)
                            .handshake(io),
                    )
                    .await?
                    .map_err(failed)?;
                let mut driver = Driver(Some(tokio::spawn(conn)));
                let sent = deadline.run(&name, Phase::Response, sender.send_request(req)).await?;
                (driver.response(sent, deadline, &name).await?.map_err(failed)?, driver)
            }
        };
        let (parts, mut body) = response.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let expects_body = request.method != Method::HEAD
            && !parts.status.is_informational()
            && parts.status != StatusCode::NO_CONTENT
            && parts.status != StatusCode::NOT_MODIFIED;
        let max = self.limits.max_body;
        if expects_body && declared.is_some_and(|d| d > max) {
            return Err(Error::new(&name, ErrorKind::TooLarge { limit: max }));
        }
        let mut buf = BytesMut::new();
        while let Some(frame) = deadline.run(&name, Phase::Body, body.frame()).await? {
            let frame = frame.map_err(|e| {
                let kind = match find_rustls(&e).map(|tls| classify_tls(tls, self.presented)) {
                    Some(k @ ErrorKind::ClientCertificate { .. }) => k,
                    _ => ErrorKind::ShortBody { received: buf.len() as u64, declared, detail: chain_text(&e) },
                };
                Error::new(&name, kind)
            })?;
            if let Ok(data) = frame.into_data() {
                if (buf.len() + data.len()) as u64 > max {
                    return Err(Error::new(&name, ErrorKind::TooLarge { limit: max }));
                }
                buf.extend_from_slice(&data);
            }
        }
        if let Some(d) = declared.filter(|d| expects_body && *d != buf.len() as u64) {
            return Err(Error::new(
                &name,
                ErrorKind::ShortBody {
                    received: buf.len() as u64,
                    declared: Some(d),
                    detail: "the body does not match its Content-Length".into(),
                },
            ));
        }
        Ok(Exchange {
            target: target.clone(),
            addr,
            tls: tls_facts,
            http,
            outcome,
            status: parts.status,
            peer_reason: parts
                .extensions
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned()),
            headers: parts.headers,
            body: buf.freeze(),
        })
    }
}

/// The task driving a connection, aborted when dropped.
struct Driver(Option<tokio::task::JoinHandle<Result<(), hyper::Error>>>);

impl Driver {
    /// The response, or the error that ended the connection: a request that fails because
    /// its connection died (a TLS alert read while it was being sent, a protocol error)
    /// carries only "connection closed", while the connection's own error says why.
    async fn response<T>(
        &mut self,
        sent: Result<T, hyper::Error>,
        deadline: &Deadline,
        name: &str,
    ) -> Result<Result<T, hyper::Error>, Error> {
        let Err(request_error) = sent else { return Ok(sent) };
        // Only a request cancelled or closed with its connection waits for the
        // connection's end; any other error is the request's own.
        if !(request_error.is_canceled() || request_error.is_closed()) {
            return Ok(Err(request_error));
        }
        let Some(task) = self.0.take() else { return Ok(Err(request_error)) };
        match deadline.run(name, Phase::Response, task).await? {
            Ok(Err(conn_error)) => Ok(Err(conn_error)),
            _ => Ok(Err(request_error)),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// The hyper request for `request` over `http`: origin-form with `Host` for HTTP/1.1, an
/// absolute URI (`:authority`) for HTTP/2.
fn http_request(request: &Request, http: HttpVersion) -> Result<hyper::Request<Full<Bytes>>, ErrorKind> {
    let t = &request.target;
    let uri = match http {
        HttpVersion::Http1 => t.path.clone(),
        HttpVersion::Http2 => t.url(),
    };
    let mut headers = HeaderMap::new();
    if http == HttpVersion::Http1 {
        let host = t.url();
        let authority = host.trim_start_matches("https://").split('/').next().unwrap_or_default();
        headers.insert(header::HOST, value(authority)?);
    }
    headers.insert(header::USER_AGENT, value(concat!("pinset/", env!("CARGO_PKG_VERSION")))?);
    headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    for name in request.headers.keys() {
        headers.remove(name);
    }
    for (name, v) in &request.headers {
        if http == HttpVersion::Http2 && CONNECTION_SPECIFIC.contains(&name.as_str()) {
            continue;
        }
        headers.append(name.clone(), v.clone());
    }
    let mut builder = hyper::Request::builder().method(request.method.clone()).uri(uri);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    builder.body(Full::new(request.body.clone())).map_err(|e| ErrorKind::BadRequest(e.to_string()))
}

fn value(s: &str) -> Result<HeaderValue, ErrorKind> {
    HeaderValue::from_str(s).map_err(|_| ErrorKind::BadRequest(format!("{s:?} is not a header value")))
}

/// Where a redirect from `from` to `location` leads, if it may be followed.
fn redirect_target(from: &Target, location: &str, scope: &Scope, first: &Host) -> Result<Target, Error> {
    let refuse =
        |location: String, refusal: RedirectRefusal| Error::new(from.url(), ErrorKind::Redirect { location, refusal });
    let base = url::Url::parse(&from.url())
        .map_err(|e| refuse(location.to_string(), RedirectRefusal::BadLocation(e.to_string())))?;
    let joined = base
        .join(location)
        .map_err(|e| refuse(location.to_string(), RedirectRefusal::BadLocation(format!("not a URL ({e})"))))?;
    if joined.scheme() != "https" {
        return Err(refuse(joined.to_string(), RedirectRefusal::NotHttps));
    }
    let next = Target::parse(joined.as_str(), None)
        .map_err(|e| refuse(joined.to_string(), RedirectRefusal::BadLocation(e.to_string())))?;
    let inside = match scope {
        Scope::Site { hosts, .. } => hosts.iter().any(|h| h.matches(&next.host)),
        Scope::SameHost => next.host == *first,
    };
    if !inside {
        let scope = match scope {
            Scope::Site { name, hosts } => format!(
                "an address of site {name:?} ({})",
                hosts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            Scope::SameHost => format!("on the host first dialled, {first}"),
        };
        return Err(refuse(next.url(), RedirectRefusal::OffSite { scope }));
    }
    Ok(next)
}

/// The request that follows a redirect with `status` to `next`: `303 See Other` turns
/// any method but HEAD into a GET without body, as `301` and `302` turn a POST
/// (RFC 9110 §15.4, and what curl and browsers do); `307` and `308` repeat the request.
fn redirected(mut request: Request, status: StatusCode, next: Target) -> Request {
    let to_get = match status {
        StatusCode::SEE_OTHER => request.method != Method::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => request.method == Method::POST,
        _ => false,
    };
    if to_get {
        request.method = Method::GET;
        request.body = Bytes::new();
        request.headers.remove(header::CONTENT_TYPE);
        request.headers.remove(header::CONTENT_LENGTH);
    }
    request.target = next;
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s, None).expect("target")
    }

    fn refusal(e: Error) -> RedirectRefusal {
        match e.kind {
            ErrorKind::Redirect { refusal, .. } => refusal,
            other => panic!("not a redirect refusal: {other:?}"),
        }
    }

    #[test]
    fn redirects_stay_on_https_and_inside_their_scope() {
        let from = t("https://127.0.0.1:8443/a/b");
        let first = from.host.clone();
        let site = Scope::Site {
            name: "shop".into(),
            hosts: vec![Host::parse("127.0.0.1").expect("ip"), Host::parse_pattern("*.shop.test").expect("pattern")],
        };
        let next = redirect_target(&from, "c?d=1", &site, &first).expect("relative");
        assert_eq!(next.url(), "https://127.0.0.1:8443/a/c?d=1");
        let next = redirect_target(&from, "https://127.0.0.1:9443/x", &site, &first).expect("another port");
        assert_eq!(next.port, 9443);
        assert!(redirect_target(&from, "https://till.shop.test/", &site, &first).is_ok(), "a pattern of the site");
        assert!(matches!(
            refusal(redirect_target(&from, "https://127.0.0.2:8443/", &site, &first).expect_err("off site")),
            RedirectRefusal::OffSite { scope } if scope.contains("site \"shop\"")
        ));
        assert_eq!(
            refusal(redirect_target(&from, "http://127.0.0.1:8443/", &site, &first).expect_err("http")),
            RedirectRefusal::NotHttps
        );
        let next = redirect_target(&from, "//127.0.0.1:9/", &site, &first).expect("scheme-relative keeps https");
        assert_eq!(next.url(), "https://127.0.0.1:9/");
        assert!(matches!(
            refusal(redirect_target(&from, "https://user@127.0.0.1/", &site, &first).expect_err("userinfo")),
            RedirectRefusal::BadLocation(why) if why.contains("user name")
        ));
        assert!(redirect_target(&from, "https://127.0.0.1:1/", &Scope::SameHost, &first).is_ok());
        assert!(redirect_target(&from, "https://[::1]:8443/", &Scope::SameHost, &first).is_err());
    }

    #[test]
    fn see_other_and_posts_turn_into_gets() {
        let mut post = Request::get(t("https://127.0.0.1/a"));
        post.method = Method::POST;
        post.body = Bytes::from_static(b"x");
        let next = || t("https://127.0.0.1/b");
        let r = redirected(post.clone(), StatusCode::FOUND, next());
        assert_eq!((r.method, r.body.len(), r.target.path.as_str()), (Method::GET, 0, "/b"));
        let r = redirected(post.clone(), StatusCode::TEMPORARY_REDIRECT, next());
        assert_eq!((r.method, r.body.len()), (Method::POST, 1));
        let mut put = post;
        put.method = Method::PUT;
        assert_eq!(redirected(put, StatusCode::SEE_OTHER, next()).method, Method::GET);
    }

    #[test]
    fn http2_requests_carry_no_connection_headers() {
        let mut r = Request::get(t("https://[::1]:8443/x"));
        r.headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        r.headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let h2 = http_request(&r, HttpVersion::Http2).expect("h2");
        assert_eq!(h2.uri().to_string(), "https://[::1]:8443/x");
        assert!(h2.headers().get(header::CONNECTION).is_none());
        assert!(h2.headers().get(header::HOST).is_none());
        let h1 = http_request(&r, HttpVersion::Http1).expect("h1");
        assert_eq!(h1.uri().to_string(), "/x");
        assert_eq!(h1.headers()[header::HOST], "[::1]:8443");
        assert_eq!(h1.headers().get_all(header::ACCEPT).iter().count(), 1, "a given header replaces the default");
        assert_eq!(h1.headers()[header::ACCEPT], "application/json");
    }
}
