//! The per-request side every backend shares: the response body type, the connection a
//! request arrived on, and the wrapper that writes the access-log line, counts the
//! metrics and marks the request finished once its response has been sent (or dropped).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Request, Response, StatusCode};
use pinset_net::server::Activity;

use crate::client_auth::ClientIdentity;
use crate::log::{Access, Logger};
use crate::metrics::{Metrics, StatusLabels};

/// Any error a body may end with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every response body.
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A short plain-text response.
pub(crate) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("{message}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// The connection a request arrived on.
pub(crate) struct Conn {
    /// The client's address.
    pub peer: SocketAddr,
    /// The verified client certificate, if any.
    pub identity: Option<Arc<ClientIdentity>>,
    /// Requests in progress (the idle timer waits while there are).
    pub activity: Arc<Activity>,
}

/// What the wrapper needs to finish a request.
pub(crate) struct Finish {
    pub logger: Logger,
    pub metrics: Metrics,
}

/// Runs `backend` for a request and wraps its response for logging.
pub(crate) async fn handle<F, Fut>(
    req: Request<Incoming>,
    conn: Arc<Conn>,
    finish: Arc<Finish>,
    backend: F,
) -> Result<Response<Body>, Infallible>
where
    F: FnOnce(Request<Incoming>, Arc<Conn>) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    conn.activity.start();
    let started = Instant::now();
    let method = req.method().clone();
    // Shares the request's bytes: no copy of the path per request.
    let path = req.uri().path_and_query().cloned();
    let version = req.version();
    let resp = backend(req, conn.clone()).await;
    let status = resp.status();
    Ok(resp.map(|inner| {
        Logged { inner, bytes: 0, record: Some(Record { conn, finish, started, method, path, version, status }) }
            .boxed_unsync()
    }))
}

struct Record {
    conn: Arc<Conn>,
    finish: Arc<Finish>,
    started: Instant,
    method: hyper::Method,
    path: Option<http::uri::PathAndQuery>,
    version: hyper::Version,
    status: StatusCode,
}

/// A response body that logs its request when it is done with (sent or dropped).
struct Logged {
    inner: Body,
    bytes: u64,
    record: Option<Record>,
}

impl hyper::body::Body for Logged {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &r
            && let Some(data) = frame.data_ref()
        {
            self.bytes += data.len() as u64;
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

impl Drop for Logged {
    fn drop(&mut self) {
        let Some(r) = self.record.take() else { return };
        let elapsed = r.started.elapsed();
        r.finish.metrics.requests.get_or_create(&StatusLabels { code: r.status.as_u16() }).inc();
        r.finish.metrics.latency.observe(elapsed.as_secs_f64());
        let version = match r.version {
            hyper::Version::HTTP_2 => "HTTP/2.0",
            hyper::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        };
        r.finish.logger.access(&Access {
            client: r.conn.peer,
            identity: r.conn.identity.as_deref().map(|i| i.name.as_str()),
            method: r.method.as_str(),
            path: r.path.as_ref().map_or("/", |p| p.as_str()),
            version,
            status: r.status.as_u16(),
            bytes: self.bytes,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
        });
        r.conn.activity.end();
    }
}
