//! What pinning costs: [`SiteVerifier`] against rustls' own `WebPkiServerVerifier`, on
//! the same chain and the same anchors.
//!
//! ```sh
//! cargo bench -p pinset-tls --bench verifier
//! ```
//!
//! The chain comes from a pinset site made for the bench in a temporary folder
//! (`Site::init`, private CA mode, one P-256 server for 127.0.0.1): the server sends its
//! `chain.pem` (leaf + CA), both of the site's roots (active + standby) are the anchors,
//! and the SiteVerifier requires the site's pins (the two CA keys).
//!
//! * `verify/…`: one `verify_server_cert` call, as a handshake makes it;
//! * `handshake/…`: one whole TLS 1.3 handshake in memory (a rustls `ClientConnection`
//!   and `ServerConnection` exchanging bytes through `Vec` buffers, no sockets), client
//!   resumption off so that every handshake verifies the chain.
//!
//! criterion prints each time on its own; the ratios are measured after it with plain
//! `Instant` loops (`PINSET_BENCH_VERIFIES`, default 20000 verifications, and
//! `PINSET_BENCH_HANDSHAKES`, default 2000 handshakes, of each verifier, interleaved in 10
//! rounds) and printed as `ratio pinned/webpki = X`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use pinset_testkit::site::LibrarySite;
use pinset_tls::SiteVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

/// Everything both verifiers are measured on.
struct Fixture {
    _site: LibrarySite,
    leaf: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
    name: ServerName<'static>,
    pinned: Arc<SiteVerifier>,
    webpki: Arc<WebPkiServerVerifier>,
    server: Arc<ServerConfig>,
    client_pinned: Arc<ClientConfig>,
    client_webpki: Arc<ClientConfig>,
}

fn fixture() -> Fixture {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let site = LibrarySite::new("bench", vec![ip]);
    let mut chain: Vec<CertificateDer<'static>> = pinset::input::read_certificates("chain.pem", &site.chain_pem)
        .expect("chain")
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    assert_eq!(chain.len(), 2, "chain.pem holds the leaf and the CA");
    let leaf = chain.remove(0);

    let trust = site.site.trust().expect("site trust");
    let pinned = SiteVerifier::for_site(&trust).build().expect("verifier");
    assert_eq!(trust.app_pins().len(), 2, "the site pins its active and standby CA keys");
    let mut roots = RootCertStore::empty();
    for a in &trust.anchors {
        roots.add(CertificateDer::from(a.der.clone())).expect("anchor");
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), pinset_tls::provider())
        .build()
        .expect("webpki verifier");

    let mut server_config = site.server_config();
    server_config.send_tls13_tickets = 0;
    let client = |verifier: Arc<dyn ServerCertVerifier>| {
        let mut c = ClientConfig::builder_with_provider(pinset_tls::provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        c.resumption = Resumption::disabled();
        Arc::new(c)
    };

    Fixture {
        _site: site,
        leaf,
        intermediates: chain,
        name: ServerName::IpAddress(ip.into()),
        client_pinned: client(pinned.clone()),
        client_webpki: client(webpki.clone()),
        pinned,
        webpki,
        server: Arc::new(server_config),
    }
}

fn verify_once(f: &Fixture, verifier: &dyn ServerCertVerifier) {
    let verified =
        verifier.verify_server_cert(black_box(&f.leaf), black_box(&f.intermediates), &f.name, &[], UnixTime::now());
    assert!(verified.is_ok(), "{verified:?}");
}

/// Moves every pending TLS byte from one side to the other; true if any moved.
fn transfer(from: &mut dyn FnMut(&mut Vec<u8>), to: &mut dyn FnMut(&[u8]), buf: &mut Vec<u8>) -> bool {
    buf.clear();
    from(buf);
    if buf.is_empty() {
        return false;
    }
    to(buf);
    true
}

/// One full handshake in memory, the chain verified by the client configuration's verifier.
fn handshake(f: &Fixture, client_config: &Arc<ClientConfig>) {
    let mut client = ClientConnection::new(client_config.clone(), f.name.clone()).expect("client");
    let mut server = ServerConnection::new(f.server.clone()).expect("server");
    let mut buf = Vec::with_capacity(4096);
    while client.is_handshaking() || server.is_handshaking() {
        let c2s = transfer(
            &mut |b| {
                while client.wants_write() {
                    client.write_tls(b).expect("client write");
                }
            },
            &mut |mut b| {
                while !b.is_empty() {
                    server.read_tls(&mut b).expect("server read");
                }
                server.process_new_packets().expect("server handshake");
            },
            &mut buf,
        );
        let s2c = transfer(
            &mut |b| {
                while server.wants_write() {
                    server.write_tls(b).expect("server write");
                }
            },
            &mut |mut b| {
                while !b.is_empty() {
                    client.read_tls(&mut b).expect("client read");
                }
                client.process_new_packets().expect("client handshake");
            },
            &mut buf,
        );
        assert!(c2s || s2c, "handshake stalled");
    }
    black_box((client.negotiated_cipher_suite(), server.negotiated_cipher_suite()));
}

fn criterion_groups(c: &mut Criterion, f: &Fixture) {
    let mut verify = c.benchmark_group("verify");
    verify.bench_function("webpki", |b| b.iter(|| verify_once(f, f.webpki.as_ref())));
    verify.bench_function("pinned", |b| b.iter(|| verify_once(f, f.pinned.as_ref())));
    verify.finish();

    let mut hs = c.benchmark_group("handshake");
    hs.bench_function("webpki", |b| b.iter(|| handshake(f, &f.client_webpki)));
    hs.bench_function("pinned", |b| b.iter(|| handshake(f, &f.client_pinned)));
    hs.finish();
}

/// Mean time of `n` calls of each of two closures, interleaved in rounds so that drift of
/// the machine affects both alike.
fn interleaved(n: u32, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    const ROUNDS: u32 = 10;
    let per_round = n.div_ceil(ROUNDS).max(1);
    let (mut ta, mut tb) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..per_round {
            a();
        }
        ta += t.elapsed();
        let t = Instant::now();
        for _ in 0..per_round {
            b();
        }
        tb += t.elapsed();
    }
    let total = per_round * ROUNDS;
    (ta / total, tb / total)
}

fn count(var: &str, default: u32, quick: bool) -> u32 {
    match std::env::var(var).ok().and_then(|v| v.parse().ok()) {
        Some(n) => n,
        None if quick => 10,
        None => default,
    }
}

fn ratios(f: &Fixture, quick: bool) {
    let verifies = count("PINSET_BENCH_VERIFIES", 20_000, quick);
    let handshakes = count("PINSET_BENCH_HANDSHAKES", 2_000, quick);
    let (v_pinned, v_webpki) =
        interleaved(verifies, || verify_once(f, f.pinned.as_ref()), || verify_once(f, f.webpki.as_ref()));
    let (h_pinned, h_webpki) =
        interleaved(handshakes, || handshake(f, &f.client_pinned), || handshake(f, &f.client_webpki));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!();
    println!("Instant loops, mean per operation (interleaved, 10 rounds):");
    println!("  verify_server_cert  x{verifies:<6}  webpki {:>8.1} µs   pinned {:>8.1} µs", us(v_webpki), us(v_pinned));
    println!(
        "  full handshake      x{handshakes:<6}  webpki {:>8.1} µs   pinned {:>8.1} µs",
        us(h_webpki),
        us(h_pinned)
    );
    println!("verify:    ratio pinned/webpki = {:.2}", us(v_pinned) / us(v_webpki));
    println!("handshake: ratio pinned/webpki = {:.2}", us(h_pinned) / us(h_webpki));
    println!("pinning adds {:.1} µs per handshake", us(h_pinned) - us(h_webpki));
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not, and criterion then
    // runs each benchmark once as a test: the ratio loops are kept as short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let f = fixture();
    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &f);
    c.final_summary();
    ratios(&f, quick);
}
