//! The interception harness: an explicit HTTP CONNECT proxy ([`Mode::Proxy`], what a
//! phone's Wi-Fi proxy setting points to) or a stand-in for one server
//! ([`Mode::Reverse`], for clients that take no proxy setting). Every intercepted
//! connection is played one attack, in turn or as chosen, and gets a [`Record`] with its
//! verdict the moment it is reached.
//!
//! In proxy mode with a site, only the site's addresses are attacked; a CONNECT to any
//! other host is tunnelled untouched and not recorded, so the rest of a device keeps
//! working. A plain `http://` request through the proxy (to the site's addresses, or to
//! any host without a site) is [`Verdict::Cleartext`], and so is a tunnel or a reverse
//! connection that starts with an HTTP request where TLS was expected (a CONNECT to port
//! 443 or 8443, or to the site's addresses; every reverse connection). Cleartext is
//! answered with a 502 and never relayed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use pinset::{Host, SiteTrust, Target};
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::attack::Attack;
use crate::ca::HarnessCa;
use crate::forge::Forger;
use crate::observe::{self, Sniff};
use crate::verdict::{Record, Summary, Verdict};

/// The timeout when none is given: a client that accepted a handshake sends its request at
/// once, and one that refuses closes at once; 5 s allows a slow phone on Wi-Fi.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Ports where a tunnel is expected to carry TLS whatever the host: HTTPS's and its usual
/// alternative.
pub const TLS_PORTS: [u16; 2] = [443, 8443];

/// Longest proxy request head read: a CONNECT line and a few headers.
const PROXY_HEAD_MAX: usize = 8 * 1024;

/// The scenario name of a plain HTTP request, which no attack was played on.
pub const PLAIN_HTTP: &str = "plain-http";

/// The answer to a client that sent data over a forged channel.
static IMPOSTOR_ANSWER: LazyLock<Vec<u8>> = LazyLock::new(|| {
    answer(
        "502 Bad Gateway",
        "pinset mitm: this connection was intercepted and the client accepted a forged certificate\n",
    )
});

/// The answer to a cleartext request.
static CLEARTEXT_ANSWER: LazyLock<Vec<u8>> = LazyLock::new(|| {
    answer("502 Bad Gateway", "pinset mitm: this request was sent in cleartext where TLS was expected; dropped\n")
});

/// An HTTP/1.1 response closing the connection.
pub(crate) fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Where the harness stands.
#[derive(Clone, Debug)]
pub enum Mode {
    /// An explicit HTTP CONNECT proxy.
    Proxy,
    /// In front of this one server: clients dial the harness instead.
    Reverse(Target),
}

/// What the harness does.
#[derive(Clone, Debug)]
pub struct Options {
    /// Proxy or reverse.
    pub mode: Mode,
    /// The attacks played, in turn (one: always that one).
    pub attacks: Vec<Attack>,
    /// How long a connection may show nothing decisive.
    pub timeout: Duration,
    /// The site under test: its addresses are what the proxy attacks and where cleartext
    /// counts; its CA is what the cloned-ca attack copies.
    pub site: Option<SiteTrust>,
}

/// A harness bound to its address, ready to run.
pub struct Mitm {
    listener: TcpListener,
    shared: Shared,
}

/// The genuine chain of one server and name (or why it could not be fetched), fetched once.
type GenuineCell = tokio::sync::OnceCell<Result<Vec<CertificateDer<'static>>, String>>;

struct Shared {
    options: Options,
    forger: Forger,
    next: AtomicUsize,
    genuine: Mutex<HashMap<String, Arc<GenuineCell>>>,
    summary: Mutex<Summary>,
    report: Box<dyn Fn(&Record) + Send + Sync>,
}

impl Mitm {
    /// Binds `listen` and prepares the forgeries of a run with `ca`.
    pub async fn bind(listen: SocketAddr, ca: HarnessCa, options: Options) -> pinset::Result<Mitm> {
        let listener = TcpListener::bind(listen).await.map_err(|e| {
            pinset::Error::bad_value("listen address", &listen.to_string(), format!("cannot listen there: {e}"), None)
        })?;
        let site_ca = options.site.as_ref().and_then(|s| {
            s.anchors
                .iter()
                .find(|a| a.owner == pinset::trust::Owner::Authority && a.role == pinset::Role::Active)
                .map(|a| CertificateDer::from(a.der.clone()))
        });
        let forger = Forger::new(Arc::new(ca), site_ca)?;
        let shared = Shared {
            options,
            forger,
            next: AtomicUsize::new(0),
            genuine: Mutex::new(HashMap::new()),
            summary: Mutex::new(Summary::default()),
            report: Box::new(|_| {}),
        };
        Ok(Mitm { listener, shared })
    }

    /// Where it listens (the port the system chose, for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Runs until `stop` completes, calling `report` with every record as it is made, and
    /// returns the summary. Connections in flight at the stop get the timeout to finish.
    pub async fn run(
        self,
        stop: impl std::future::Future<Output = ()>,
        report: impl Fn(&Record) + Send + Sync + 'static,
    ) -> Summary {
        let Mitm { listener, mut shared } = self;
        shared.report = Box::new(report);
        let shared = Arc::new(shared);
        let grace = shared.options.timeout * 2;
        let handler_shared = shared.clone();
        crate::listen::serve(vec![listener], stop, grace, move |sock, peer, _| {
            let shared = handler_shared.clone();
            async move { shared.handle(sock, peer).await }
        })
        .await;
        shared.summary.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Shared {
    fn record(&self, client: SocketAddr, host: &str, port: u16, scenario: &str, verdict: Verdict, tls: Option<String>) {
        let record = Record {
            time: OffsetDateTime::now_utc(),
            client,
            host: host.to_string(),
            port,
            scenario: scenario.to_string(),
            tls,
            verdict,
        };
        self.summary.lock().unwrap_or_else(PoisonError::into_inner).add(&record);
        (self.report)(&record);
    }

    fn is_site_host(&self, host: &Host) -> bool {
        self.options.site.as_ref().is_some_and(|s| s.hosts().any(|(h, _)| h.matches(host)))
    }

    fn next_attack(&self) -> Attack {
        let attacks = &self.options.attacks;
        attacks[self.next.fetch_add(1, Ordering::Relaxed) % attacks.len().max(1)]
    }

    async fn handle(&self, sock: TcpStream, peer: SocketAddr) {
        match &self.options.mode {
            Mode::Reverse(upstream) => {
                let Ok(local) = sock.local_addr() else { return };
                self.intercept(sock, peer, None, local, upstream.clone(), true).await;
            }
            Mode::Proxy => self.proxy(sock, peer).await,
        }
    }

    /// One client of the explicit proxy: a CONNECT, or a plain request.
    async fn proxy(&self, mut sock: TcpStream, peer: SocketAddr) {
        let Some(head) = read_head(&mut sock, self.options.timeout).await else { return };
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line).trim_end().to_string();
        let mut words = line.split(' ');
        let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
        if method == "CONNECT" {
            let Ok(dest) = Target::parse(target, None) else {
                let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n").await;
                return;
            };
            if sock.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
                return;
            }
            let site = self.is_site_host(&dest.host);
            if self.options.site.is_some() && !site {
                if let Ok(Ok(mut upstream)) = tokio::time::timeout(self.options.timeout, dial(&dest)).await {
                    let _ = tokio::io::copy_bidirectional(&mut sock, &mut upstream).await;
                }
                return;
            }
            let tls_expected = site || TLS_PORTS.contains(&dest.port);
            let local = SocketAddr::new(peer.ip(), dest.port);
            self.intercept(sock, peer, Some(dest.host.clone()), local, dest, tls_expected).await;
            return;
        }
        if let Some(rest) = target.strip_prefix("http://") {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if let Ok(dest) = Target::parse(authority, Some(80))
                && (self.options.site.is_none() || self.is_site_host(&dest.host))
            {
                let _ = sock.write_all(&CLEARTEXT_ANSWER).await;
                let sent = crate::verdict::Sent::of(&head);
                self.record(peer, &dest.host.to_string(), dest.port, PLAIN_HTTP, Verdict::Cleartext(sent), None);
                return;
            }
            let _ = sock
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\npinset mitm relays no plain HTTP\n")
                .await;
            return;
        }
        let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n").await;
    }

    /// One intercepted connection to `upstream`, meant for `dialled` (`None`: the name the
    /// client sends, else the address it connected to, `local`).
    async fn intercept(
        &self,
        sock: TcpStream,
        peer: SocketAddr,
        dialled: Option<Host>,
        local: SocketAddr,
        upstream: Target,
        tls_expected: bool,
    ) {
        let timeout = self.options.timeout;
        let shown = dialled.clone().unwrap_or(Host::Ip(local.ip()));
        let port = local.port();
        match observe::sniff(&sock, timeout).await {
            Sniff::Tls => {}
            Sniff::Http if tls_expected => {
                let sent = observe::read_cleartext(sock, &CLEARTEXT_ANSWER).await;
                self.record(peer, &shown.to_string(), port, PLAIN_HTTP, Verdict::Cleartext(sent), None);
                return;
            }
            Sniff::Http | Sniff::Other if !tls_expected => {
                let mut sock = sock;
                if let Ok(Ok(mut up)) = tokio::time::timeout(timeout, dial(&upstream)).await {
                    let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
                }
                return;
            }
            Sniff::Http | Sniff::Other => {
                let why = "the client sent neither TLS nor HTTP".to_string();
                self.record(peer, &shown.to_string(), port, "none", Verdict::Inconclusive(why), None);
                return;
            }
            Sniff::Silent => {
                let why = format!("the client sent nothing within {}s", timeout.as_secs_f32());
                self.record(peer, &shown.to_string(), port, "none", Verdict::Inconclusive(why), None);
                return;
            }
            // Opened and closed without a byte (a browser's spare connection): no attack
            // was played, nothing to record.
            Sniff::Closed => return,
        }
        let attack = self.next_attack();
        if attack == Attack::Passthrough {
            let (verdict, tls) = match tokio::time::timeout(timeout, dial(&upstream)).await {
                Ok(Ok(up)) => observe::relay(sock, up, timeout, Verdict::Connected).await,
                Ok(Err(e)) => (
                    Verdict::Inconclusive(format!("cannot reach the genuine server {}: {e}", upstream.authority())),
                    None,
                ),
                Err(_) => (
                    Verdict::Inconclusive(format!(
                        "the genuine server {} did not answer in time",
                        upstream.authority()
                    )),
                    None,
                ),
            };
            self.record(peer, &shown.to_string(), port, attack.name(), verdict, tls);
            return;
        }
        let deadline = Instant::now() + timeout;
        let start = match observe::client_hello(sock, deadline).await {
            Ok(start) => start,
            Err(verdict) => return self.record(peer, &shown.to_string(), port, attack.name(), verdict, None),
        };
        let sni = start.client_hello().server_name().map(str::to_string);
        let name = dialled.or_else(|| sni.as_deref().and_then(|n| Host::parse(n).ok())).unwrap_or(Host::Ip(local.ip()));
        let needs_genuine =
            attack == Attack::SelfSignedCopy || (attack == Attack::ClonedCa && self.options.site.is_none());
        let genuine = if needs_genuine { Some(self.genuine_chain(&upstream, sni.as_deref()).await) } else { None };
        let config = match &genuine {
            Some(Err(e)) => Err(format!("cannot fetch the genuine chain from {}: {e}", upstream.authority())),
            Some(Ok(chain)) => self.forger.config(attack, &name, Some(chain)),
            None => self.forger.config(attack, &name, None),
        };
        let (verdict, tls) = match config {
            Ok(config) => {
                let on_data: fn(crate::verdict::Sent) -> Verdict = |s| Verdict::AcceptedImpostor(Some(s));
                observe::handshake(start, config, deadline, timeout, on_data, &IMPOSTOR_ANSWER).await
            }
            Err(why) => (Verdict::Inconclusive(why), None),
        };
        self.record(peer, &name.to_string(), port, attack.name(), verdict, tls);
    }

    /// The chain the genuine server presents, fetched once per server and name.
    async fn genuine_chain(
        &self,
        upstream: &Target,
        sni: Option<&str>,
    ) -> Result<Vec<CertificateDer<'static>>, String> {
        let key = format!("{} {}", upstream.authority(), sni.unwrap_or_default());
        let cell = self.genuine.lock().unwrap_or_else(PoisonError::into_inner).entry(key).or_default().clone();
        let timeout = self.options.timeout;
        cell.get_or_init(|| async move {
            pinset_net::probe::fetch_chain(upstream, sni, timeout).await.map(|p| p.chain).map_err(|e| e.to_string())
        })
        .await
        .clone()
    }
}

/// Opens TCP to `target` (resolving a name).
async fn dial(target: &Target) -> std::io::Result<TcpStream> {
    let sock = match &target.host {
        Host::Ip(ip) => TcpStream::connect(SocketAddr::new(*ip, target.port)).await?,
        Host::Dns(name) => TcpStream::connect((name.as_str(), target.port)).await?,
    };
    let _ = sock.set_nodelay(true);
    Ok(sock)
}

/// Reads a proxy request head byte by byte (so nothing after it is taken), up to
/// [`PROXY_HEAD_MAX`] bytes and within `timeout`.
async fn read_head(sock: &mut TcpStream, timeout: Duration) -> Option<Vec<u8>> {
    let read = async {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
            if head.len() >= PROXY_HEAD_MAX || sock.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            head.push(byte[0]);
        }
        Some(head)
    };
    tokio::time::timeout(timeout, read).await.ok().flatten()
}
