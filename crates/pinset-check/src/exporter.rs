//! Watching a fleet: [`watch`] re-checks every target on an interval until SIGINT or
//! SIGTERM, and, when given a listener, serves the last round's metrics at `/metrics`
//! over plain HTTP/1.1 ([`serve`]), for Prometheus to scrape.
//!
//! The endpoint serves what the last round found, never a probe of its own: a scrape
//! costs an encoded text's copy, however many targets there are, and scraping more often
//! than the interval does not load the fleet. Connections are bounded in number and in
//! how long their request head may take.

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch as signal_watch};

use crate::check::{self, Options, Probe};
use crate::metrics;
use crate::report::Round;

/// Scrapes served at once: Prometheus servers scraping one exporter are a handful; more
/// connections than this are closed at once, so a flood cannot hold the process's files.
const MAX_CONNECTIONS: usize = 64;

/// How long a client may take to send its request head: a scrape sends it at once.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The text `/metrics` serves, replaced after each round.
#[derive(Debug, Default)]
pub struct Latest(RwLock<Bytes>);

impl Latest {
    /// A text to serve until the first replacement.
    pub fn new(text: String) -> Latest {
        Latest(RwLock::new(Bytes::from(text)))
    }

    /// Serves `text` from now on.
    pub fn set(&self, text: String) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Bytes::from(text);
    }

    /// What is served now.
    pub fn get(&self) -> Bytes {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Serves `latest` at `/metrics` on `listener` until `stop` turns true.
pub async fn serve(listener: tokio::net::TcpListener, latest: Arc<Latest>, mut stop: signal_watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            a = listener.accept() => a,
        };
        // An accept error (too many open files, a connection reset before it was taken)
        // concerns one connection; the listener goes on.
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
        let latest = latest.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let svc = service_fn(move |req: Request<Incoming>| {
                let latest = latest.clone();
                async move { Ok::<_, Infallible>(answer(&req, &latest)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn answer(req: &Request<Incoming>, latest: &Latest) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match req.uri().path() {
        "/metrics" => {
            let mut r = Response::new(Full::new(latest.get()));
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
            r
        }
        "/" => text(StatusCode::OK, "pinset check: the metrics are at /metrics\n"),
        _ => text(StatusCode::NOT_FOUND, "not found: the metrics are at /metrics\n"),
    }
}

/// Resolves when SIGINT (Ctrl-C) or SIGTERM arrives. The handlers are installed before it
/// returns, so a signal sent while the first round runs is not lost.
fn stop_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Checks `probes` every `interval` (a round that takes longer starts the next at once)
/// until SIGINT or SIGTERM, calling `on_round` after each round and serving its metrics
/// on `metrics` when given. Must run inside a multi-threaded tokio runtime (pinset-net's).
pub async fn watch(
    probes: &[Probe],
    options: &Options,
    interval: Duration,
    metrics_listener: Option<std::net::TcpListener>,
    mut on_round: impl FnMut(&Round) + Send,
) -> std::io::Result<()> {
    let stop = stop_signal()?;
    tokio::pin!(stop);
    let latest = Arc::new(Latest::new(metrics::encode_pending(probes.len())));
    let (stop_tx, stop_rx) = signal_watch::channel(false);
    let server = match metrics_listener {
        Some(listener) => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            Some(tokio::spawn(serve(listener, latest.clone(), stop_rx)))
        }
        None => None,
    };
    let mut no_progress = |_: usize, _: usize| {};
    loop {
        let next = tokio::time::Instant::now() + interval;
        let round = tokio::select! {
            r = check::run(probes, options, &mut no_progress) => r,
            _ = &mut stop => break,
        };
        latest.set(metrics::encode_round(&round));
        on_round(&round);
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {},
            _ = &mut stop => break,
        }
    }
    let _ = stop_tx.send(true);
    if let Some(server) = server {
        let _ = server.await;
    }
    Ok(())
}
