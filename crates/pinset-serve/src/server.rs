//! [`Server`]: binds the listeners, loads the certificates, then runs the TLS front on the
//! shared runtime until shutdown: per connection a TLS handshake (identity chosen after
//! the ClientHello), then HTTP/1.1 or HTTP/2 as ALPN agreed, each request to the backend.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use pinset_net::server::signals::{StopSignal, stop_on_signals};
use pinset_net::server::{Accepted, Activity, Drained, IdleIo, Shutdown};
use tokio::io::AsyncReadExt as _;
use tokio_rustls::LazyConfigAcceptor;

use crate::certs::{Certificates, LoadOptions, ServedSummary};
use crate::client_auth::{ClientAuth, ClientIdentity, failure_reason};
use crate::error::Error;
use crate::http::{self, Body, Conn, Finish, text};
use crate::log::Logger;
use crate::metrics::{Metrics, ServerLabels};
use crate::options::{Backend, Limits, ServeOptions};
use crate::proxy::Proxy;

/// Bytes read from a new connection before HTTP takes over: enough for most requests'
/// first line and headers, small enough to keep in each connection's state.
const FIRST_READ: usize = 1024;

/// Concurrent HTTP/2 streams per connection (100: what browsers expect, RFC 9113's
/// recommended minimum; a client needing more opens another connection).
const MAX_STREAMS: u32 = 100;

/// A server ready to run: listeners bound, certificates loaded and verified.
pub struct Server {
    opts: ServeOptions,
    load_opts: LoadOptions,
    certs: Arc<Certificates>,
    logger: Logger,
    metrics: Metrics,
    listeners: Vec<std::net::TcpListener>,
    addrs: Vec<SocketAddr>,
    metrics_listener: Option<(std::net::TcpListener, SocketAddr)>,
}

/// What a server serves, as its start message shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// The site's name.
    pub site: String,
    /// The site folder.
    pub site_dir: PathBuf,
    /// Addresses listened on.
    pub listen: Vec<SocketAddr>,
    /// URLs clients can use (the site's addresses on each wildcard listener).
    pub urls: Vec<String>,
    /// Where requests go: `http://HOST:PORT`, a folder, or `status page`.
    pub backend: String,
    /// Client certificates.
    pub client_auth: ClientAuth,
    /// Client names allowed (empty: all the site issued).
    pub allow_clients: Vec<String>,
    /// The identities served.
    pub servers: Vec<ServerSummary>,
    /// Certificates the revocation list names.
    pub revoked_listed: usize,
    /// The metrics URL.
    pub metrics: Option<String>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug)]
pub struct Stopped {
    /// The signal that stopped it.
    pub signal: StopSignal,
    /// Connections that finished within the drain deadline, and those closed at it.
    pub drained: Drained,
}

/// One served identity.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ServerSummary {
    /// Its name.
    pub name: String,
    /// Its addresses.
    pub addresses: Vec<String>,
    /// The certificate it presents.
    pub certificate: ServedSummary,
}

struct Shared {
    certs: Arc<Certificates>,
    backend: BackendImpl,
    finish: Arc<Finish>,
    limits: Limits,
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
    any: auto::Builder<TokioExecutor>,
    site_dir: PathBuf,
}

enum BackendImpl {
    Proxy(Box<Proxy>),
    Static(PathBuf),
    Status,
}

impl Server {
    /// Loads the site's certificates (refusing any that fail verification) and binds every
    /// listening address. Nothing is served until [`Server::run`].
    pub fn bind(opts: ServeOptions, logger: Logger) -> Result<Server, Error> {
        if opts.listen.is_empty() {
            return Err(Error::Value { what: "listen", value: String::new(), problem: "needs an address".into() });
        }
        if let Backend::Static(dir) = &opts.backend
            && !dir.is_dir()
        {
            return Err(Error::Value {
                what: "static folder",
                value: dir.display().to_string(),
                problem: "is not a folder".into(),
            });
        }
        let load_opts = LoadOptions {
            server: opts.server.clone(),
            client_auth: opts.client_auth,
            allow_clients: opts.allow_clients.clone(),
            session_resumption: opts.session_resumption,
        };
        let certs = Arc::new(Certificates::load(&opts.site, &load_opts)?);
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for addr in &opts.listen {
            let l = pinset_net::server::bind(*addr).map_err(|source| Error::Bind { addr: *addr, source })?;
            addrs.push(l.local_addr().map_err(|source| Error::Bind { addr: *addr, source })?);
            listeners.push(l);
        }
        let metrics_listener = match opts.metrics {
            Some(addr) => {
                let l = pinset_net::server::bind(addr).map_err(|source| Error::Bind { addr, source })?;
                let bound = l.local_addr().map_err(|source| Error::Bind { addr, source })?;
                Some((l, bound))
            }
            None => None,
        };
        Ok(Server { opts, load_opts, certs, logger, metrics: Metrics::new(), listeners, addrs, metrics_listener })
    }

    /// The addresses bound (with the ports the system chose for port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The served certificates (to look at what a reload swapped in).
    pub fn certificates(&self) -> &Arc<Certificates> {
        &self.certs
    }

    /// What is served.
    pub fn summary(&self) -> Summary {
        let loaded = self.certs.current();
        let mut urls = Vec::new();
        for addr in &self.addrs {
            if addr.ip().is_unspecified() {
                for s in &loaded.servers {
                    for h in &s.hosts {
                        let same_family = match h {
                            pinset::Host::Ip(ip) => ip.is_ipv4() == addr.is_ipv4(),
                            _ => addr.is_ipv4(),
                        };
                        if same_family && !h.to_string().starts_with("*.") {
                            urls.push(format!("https://{}:{}/", h.url_host(), addr.port()));
                        }
                    }
                }
            } else {
                urls.push(format!("https://{addr}/"));
            }
        }
        urls.dedup();
        Summary {
            site: loaded.site.clone(),
            site_dir: self.opts.site.clone(),
            listen: self.addrs.clone(),
            urls,
            backend: match &self.opts.backend {
                Backend::Upstream(u) => u.url(),
                Backend::Static(dir) => dir.display().to_string(),
                Backend::StatusPage => "status page".into(),
            },
            client_auth: self.opts.client_auth,
            allow_clients: self.opts.allow_clients.clone(),
            servers: loaded
                .servers
                .iter()
                .map(|s| ServerSummary {
                    name: s.name.clone(),
                    addresses: s.hosts.iter().map(ToString::to_string).collect(),
                    certificate: s.certificate.clone(),
                })
                .collect(),
            revoked_listed: loaded.revoked_listed,
            metrics: self.metrics_listener.as_ref().map(|(_, a)| format!("http://{a}/metrics")),
        }
    }

    /// Serves on a server runtime ([`pinset_net::server::runtime`]) until SIGINT (Ctrl-C) or SIGTERM, then drains: the
    /// whole life of `serve` and `up`.
    pub fn run_until_stopped(self) -> Result<Stopped, Error> {
        let io = |what: &str| {
            let what = what.to_string();
            move |source| Error::Io { what, source }
        };
        let runtime = pinset_net::server::runtime().map_err(io("cannot start the runtime"))?;
        let result = runtime.block_on(async move {
            let shutdown = Shutdown::new();
            let stop = tokio::spawn(stop_on_signals(shutdown.clone()).map_err(io("cannot handle signals"))?);
            let drained = self.run(shutdown).await?;
            let signal = stop.await.unwrap_or(StopSignal::Interrupt);
            Ok(Stopped { signal, drained })
        });
        // A reload still reading files must not hold the exit.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        result
    }

    /// Serves until `shutdown` is triggered, then drains. Must run inside the runtime.
    pub async fn run(self, shutdown: Shutdown) -> Result<Drained, Error> {
        let Server { opts, load_opts, certs, logger, metrics, listeners, addrs: _, metrics_listener } = self;
        let limits = opts.limits;
        let backend = match &opts.backend {
            Backend::Upstream(u) => BackendImpl::Proxy(Box::new(Proxy::new(u.clone(), limits, logger.clone()))),
            Backend::Static(dir) => BackendImpl::Static(dir.clone()),
            Backend::StatusPage => BackendImpl::Status,
        };
        let shared = Arc::new(Shared {
            certs: certs.clone(),
            backend,
            finish: Arc::new(Finish { logger: logger.clone(), metrics: metrics.clone() }),
            limits,
            h1: http_builder(&limits, Some(false)),
            h2: http_builder(&limits, Some(true)),
            any: http_builder(&limits, None),
            site_dir: opts.site.clone(),
        });
        if let Some((listener, _)) = metrics_listener {
            tokio::spawn(crate::metrics_server::run(listener, metrics.clone(), certs.clone(), shutdown.clone()));
        }
        let reload = crate::reload::Reloader {
            certs: certs.clone(),
            dir: opts.site.clone(),
            opts: load_opts,
            logger: logger.clone(),
            metrics: metrics.clone(),
        };
        tokio::spawn(reload.run(opts.watch_files, shutdown.clone()));
        let error_logger = logger.clone();
        let drained = pinset_net::server::run(
            listeners,
            pinset_net::server::Limits {
                max_connections: limits.max_connections,
                drain_deadline: limits.drain_deadline,
            },
            shutdown,
            move |acc, shutdown| connection(acc, shutdown, shared.clone()),
            move |e| error_logger.error(&format!("cannot accept connections: {e}")),
        )
        .await
        .map_err(|source| Error::Io { what: "cannot serve".into(), source })?;
        Ok(drained)
    }
}

/// The HTTP builder: HTTP/1.1 only, HTTP/2 only, or either (`None`: told by the preface).
fn http_builder(limits: &Limits, h2: Option<bool>) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    b.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .max_concurrent_streams(MAX_STREAMS);
    match h2 {
        Some(true) => b.http2_only(),
        Some(false) => b.http1_only(),
        None => b,
    }
}

/// A stream whose first bytes were already read: they are given back first.
struct Rewind<T> {
    prefix: bytes::Bytes,
    inner: T,
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix.split_to(n));
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Rewind<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Counts a connection open while it lives.
struct Open(Metrics);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.connections.dec();
    }
}

async fn connection(acc: Accepted, shutdown: Shutdown, shared: Arc<Shared>) {
    let metrics = shared.finish.metrics.clone();
    metrics.connections.inc();
    let _open = Open(metrics.clone());
    let local = acc.local.ip();
    let certs = shared.certs.clone();
    let handshake = async move {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), acc.stream).await?;
        let loaded = certs.current();
        let hello = start.client_hello();
        let config = loaded.config(loaded.select(hello.server_name(), local), &hello);
        start.into_stream(config).into_fallible().await.map_err(|(e, io)| {
            // A task of its own: this one ends now, and stays as small as an idle
            // connection needs (a task keeps room for its largest state).
            tokio::spawn(linger(io));
            e
        })
    };
    // Boxed, like the HTTP phase below: a task's memory is its largest state, and an idle
    // connection (thousands of them) should hold neither phase's.
    let tls = match tokio::time::timeout(shared.limits.handshake_timeout, Box::pin(handshake)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            metrics.handshake(failure_reason(&e));
            return;
        }
        Err(_) => {
            metrics.handshake("timeout");
            return;
        }
    };
    metrics.handshake("ok");
    let (_, session) = tls.get_ref();
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
    let identity =
        session.peer_certificates().and_then(|c| c.first()).and_then(|c| ClientIdentity::of(c)).map(Arc::new);
    let activity = Arc::new(Activity::default());
    let mut tls = IdleIo::new(tls, shared.limits.idle_timeout, activity.clone());
    // HTTP starts with the first bytes of the first request: until they come, an idle
    // connection holds only its TLS state, not HTTP buffers (thousands of idle clients).
    let mut first = Vec::with_capacity(FIRST_READ);
    let n = tokio::select! {
        r = tls.read_buf(&mut first) => match r {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        },
        _ = shutdown.triggered() => return,
    };
    first.truncate(n);
    let conn = Arc::new(Conn { peer: acc.peer, identity, activity });
    Box::pin(serve_http(Rewind { prefix: bytes::Bytes::from(first), inner: tls }, conn, alpn, shutdown, shared)).await;
}

/// How long a refused handshake's connection is kept open to let the client read the alert.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
/// Bytes read and dropped meanwhile (a client's first requests, sent before it learnt of
/// the refusal).
const LINGER_BYTES: usize = 64 * 1024;

/// Closes a connection whose handshake was refused, after its alert was sent, the way
/// nginx's lingering close does: our side is shut down first, then what the client still
/// sends is read and dropped until it closes (or [`LINGER`], [`LINGER_BYTES`]). Closing
/// at once with the client's bytes unread makes the system reset the connection, and a
/// client writing its request then sees a broken pipe instead of the alert saying why
/// (TLS 1.3 clients send requests before the server has checked their certificate).
async fn linger(mut io: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt as _;
    let _ = io.shutdown().await;
    let drain = async {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while total < LINGER_BYTES {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// The HTTP phase of a connection: HTTP/1.1 or HTTP/2 as ALPN agreed, until the client
/// closes or shutdown drains it.
async fn serve_http<T>(io: Rewind<T>, conn: Arc<Conn>, alpn: Option<Vec<u8>>, shutdown: Shutdown, shared: Arc<Shared>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let svc_shared = shared.clone();
    let svc = service_fn(move |req: Request<Incoming>| {
        let shared = svc_shared.clone();
        let conn = conn.clone();
        async move { shared.dispatch(req, conn).await }
    });
    let builder = match alpn.as_deref() {
        Some(b"h2") => &shared.h2,
        Some(_) => &shared.h1,
        None => &shared.any,
    };
    let served = builder.serve_connection_with_upgrades(io, svc);
    tokio::pin!(served);
    tokio::select! {
        _ = served.as_mut() => {}
        _ = shutdown.triggered() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
}

impl Shared {
    async fn dispatch(&self, req: Request<Incoming>, conn: Arc<Conn>) -> Result<Response<Body>, Infallible> {
        http::handle(req, conn, self.finish.clone(), |req, conn| async move {
            match &self.backend {
                BackendImpl::Proxy(p) => p.forward(req, conn).await,
                BackendImpl::Static(dir) => crate::files::serve(dir, req).await,
                BackendImpl::Status => crate::status::serve(req, &self.certs.current(), &self.site_dir).await,
            }
        })
        .await
    }
}

/// The response for a path no backend knows.
pub(crate) fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found")
}

/// Sets the expiry gauges from what is served now.
pub(crate) fn update_expiry(metrics: &Metrics, certs: &Certificates) {
    let now = time::OffsetDateTime::now_utc();
    for s in &certs.current().servers {
        metrics
            .certificate_expiry
            .get_or_create(&ServerLabels { server: s.name.clone() })
            .set((s.certificate.not_after - now).as_seconds_f64());
    }
}
