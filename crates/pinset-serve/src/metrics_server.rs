//! The metrics endpoint: `GET /metrics` in Prometheus' text format, over plain HTTP/1.1 on
//! an address of its own (kept off the TLS front, so scraping needs no client
//! certificate and the front's address exposes no metrics).

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use pinset_net::server::Shutdown;

use crate::certs::Certificates;
use crate::http::{Body, full, text};
use crate::metrics::Metrics;

pub(crate) async fn run(
    listener: std::net::TcpListener,
    metrics: Metrics,
    certs: Arc<Certificates>,
    shutdown: Shutdown,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.triggered() => return,
            a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
        };
        let (metrics, certs) = (metrics.clone(), certs.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let (metrics, certs) = (metrics.clone(), certs.clone());
                async move { Ok::<_, Infallible>(answer(&req, &metrics, &certs)) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

fn answer(req: &Request<Incoming>, metrics: &Metrics, certs: &Certificates) -> Response<Body> {
    if req.uri().path() != "/metrics" {
        return text(StatusCode::NOT_FOUND, "metrics are at /metrics");
    }
    crate::server::update_expiry(metrics, certs);
    let mut r = Response::new(full(metrics.encode()));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
