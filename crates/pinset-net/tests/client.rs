//! The client and the probe against real peers on loopback: a rustls server with canned
//! answers (genuine, impostor, short body, redirects, ALPN), nghttpd (HTTP/2 only),
//! openssl s_server (HTTP/1.x, TLS 1.0/1.1 only), and servers that trickle or stay
//! silent. Each test asserts on what the caller gets (the response, the outcome, the
//! error's kind), never on how long it took beyond "it ended".

use std::sync::Arc;
use std::time::Duration;

use pinset::Target;
use pinset_net::client::{Client, Limits, Redirects, Request, Scope};
use pinset_net::probe;
use pinset_net::{ErrorKind, HttpVersion, Phase, RedirectRefusal};
use pinset_testkit::misbehave::{TRICKLE_BODY_HEAD, TRICKLE_HEAD};
use pinset_testkit::pki::{Ca, Genuine, Identity, ip};
use pinset_testkit::process::tempdir;
use pinset_testkit::rustls_server::{Close, RUSTLS_BODY, Response};
use pinset_testkit::{ClosedPort, Nghttpd, OpensslServer, SilentServer, TlsServer, TrickleServer, V4, V4_OTHER};
use pinset_tls::outcome::ChainVerifier;
use pinset_tls::verifier::PinCheck;
use pinset_tls::{FailureKind, PinnedVerifier};

/// A short deadline for the servers that never finish: the trickle server sends a byte a
/// second, so two seconds see it trickle and still end the test quickly.
const SHORT: Duration = Duration::from_secs(2);

fn genuine() -> (Ca, Identity) {
    let Genuine { root, leaf, .. } = Genuine::new(vec![ip("127.0.0.1"), ip("127.0.0.2"), ip("::1")]);
    (root, leaf)
}

/// Trusts `root` and pins it.
fn verifier(root: &Ca) -> Arc<dyn ChainVerifier> {
    PinnedVerifier::builder().anchor(root.der()).pin(root.pin()).build().expect("verifier")
}

fn client(root: &Ca, timeout: Duration) -> Client {
    Client::new(verifier(root), None).expect("client").with_limits(Limits { timeout, ..Limits::default() })
}

fn target(url: &str) -> Target {
    Target::parse(url, None).expect("target")
}

fn fetch(client: &Client, url: &str, redirects: &Redirects) -> Result<pinset_net::Fetched, pinset_net::Error> {
    pinset_net::block_on(client.fetch(Request::get(target(url)), redirects)).expect("runtime")
}

fn serve(leaf: &Identity, root: &Ca, response: Response) -> TlsServer {
    TlsServer::start(leaf.server_config(&[root.pem()]), response)
}

#[test]
fn a_genuine_server_answers_over_http1_with_its_outcome() {
    let (root, leaf) = genuine();
    let server = serve(&leaf, &root, Response::ok(RUSTLS_BODY));
    let fetched = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect("fetch");
    let r = fetched.response;
    assert_eq!((r.status.as_u16(), r.http, &r.body[..]), (200, HttpVersion::Http1, RUSTLS_BODY.as_bytes()));
    assert_eq!(r.tls.version, "TLSv1.3");
    assert_eq!(r.tls.alpn, None, "the server offers no ALPN");
    let verified = r.verified().expect("accepted");
    assert!(matches!(verified.pins, PinCheck::Matched { pin, .. } if pin == root.pin()), "{:?}", verified.pins);
    let served = server.next_outcome().expect("served");
    assert!(served.request.starts_with("GET / HTTP/1.1\r\n"), "{}", served.request);
    assert!(served.request.to_ascii_lowercase().contains(&format!("host: {}", server.authority())));
}

#[test]
fn an_http2_only_server_is_spoken_to_in_http2() {
    let tmp = tempdir();
    let (root, leaf) = genuine();
    let (cert, key) = leaf.write(tmp.path(), "leaf");
    let htdocs = tmp.path().join("htdocs");
    std::fs::create_dir_all(&htdocs).expect("htdocs");
    std::fs::write(htdocs.join("index.html"), "hello over h2\n").expect("index");
    let server = Nghttpd::start(tmp.path(), V4, &cert, &key, &htdocs);
    let r = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect("fetch").response;
    assert_eq!((r.http, r.tls.alpn.as_deref()), (HttpVersion::Http2, Some("h2")));
    assert_eq!((r.status.as_u16(), &r.body[..]), (200, &b"hello over h2\n"[..]));
}

#[test]
fn a_server_that_offers_h2_and_speaks_http1_is_an_http2_error() {
    let (root, leaf) = genuine();
    let server = TlsServer::builder(leaf.server_config(&[root.pem()])).alpn(&["h2"]).start();
    let err = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect_err("lying server");
    assert!(matches!(err.kind, ErrorKind::Http { version: "HTTP/2", .. }), "{err}");
}

#[test]
fn an_impostor_is_refused_with_its_report_and_never_asked() {
    let g = Genuine::new(vec![ip("127.0.0.1")]);
    let (other, impostor) = g.other_ca("Impostor Root");
    let root = g.root;
    let server = serve(&impostor, &other, Response::ok("secret"));
    let err = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect_err("impostor");
    assert_eq!(err.refusal().map(|r| r.kind), Some(FailureKind::UnknownIssuer), "{err}");
    assert!(server.next_outcome().is_err(), "the handshake was refused before any request");
}

#[test]
fn a_body_shorter_than_its_length_is_an_error_with_and_without_close_notify() {
    let (root, leaf) = genuine();
    for close in [Close::Notify, Close::Abrupt] {
        let server = serve(&leaf, &root, Response::short_body("only this", 1000).close(close));
        let err = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect_err("short");
        assert!(matches!(err.kind, ErrorKind::ShortBody { received: 9, declared: Some(1000), .. }), "{close:?}: {err}");
    }
    // Without a length, the end of the body is the end of the connection: without
    // close_notify it cannot be told from a cut.
    let server = serve(
        &leaf,
        &root,
        Response::ok("cut").length(pinset_testkit::rustls_server::Length::Absent).close(Close::Abrupt),
    );
    let err = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect_err("cut");
    assert!(matches!(err.kind, ErrorKind::ShortBody { declared: None, .. }), "{err}");
    let server = serve(&leaf, &root, Response::ok("whole").length(pinset_testkit::rustls_server::Length::Absent));
    let r = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect("close_notify").response;
    assert_eq!(&r.body[..], b"whole");
}

#[test]
fn a_body_over_the_limit_is_refused() {
    let (root, leaf) = genuine();
    let server = serve(&leaf, &root, Response::ok(vec![b'x'; 4096]));
    let small = Client::new(verifier(&root), None).expect("client").with_limits(Limits {
        max_body: 1024,
        timeout: SHORT * 5,
        ..Limits::default()
    });
    let err = fetch(&small, &server.url(), &Redirects::NotFollowed).expect_err("too large");
    assert!(matches!(err.kind, ErrorKind::TooLarge { limit: 1024 }), "{err}");
}

#[test]
fn the_deadline_bounds_every_phase_of_a_fetch() {
    let (root, leaf) = genuine();
    let config = || leaf.server_config(&[root.pem()]);
    let tcp = TrickleServer::tcp();
    let silent = SilentServer::start();
    let head = TrickleServer::tls(config(), TRICKLE_HEAD);
    let body = TrickleServer::tls(config(), TRICKLE_BODY_HEAD);
    for (url, phase) in [
        (tcp.url(), Phase::Handshake),
        (silent.url(), Phase::Handshake),
        (head.url(), Phase::Response),
        (body.url(), Phase::Body),
    ] {
        let err = fetch(&client(&root, SHORT), &url, &Redirects::NotFollowed).expect_err(&url);
        assert!(matches!(err.kind, ErrorKind::TimedOut { after: SHORT, phase: p } if p == phase), "{url}: {err}");
        assert!(err.to_string().contains("timed out after 2 s"), "{err}");
    }
    assert!(tcp.accepted() >= 1 && body.accepted() >= 1, "the servers were reached");
}

#[test]
fn a_closed_port_is_refused_by_name() {
    let (root, _) = genuine();
    let closed = ClosedPort::new();
    let err = fetch(&client(&root, SHORT), &closed.url(), &Redirects::NotFollowed).expect_err("closed");
    assert!(matches!(err.kind, ErrorKind::Connect { .. }), "{err}");
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[test]
fn a_tls_1_0_server_is_told_apart() {
    let tmp = tempdir();
    let (root, leaf) = genuine();
    let (cert, key) = leaf.write(tmp.path(), "leaf");
    let server = OpensslServer::legacy_tls(tmp.path(), V4, &cert, &key, &[]);
    let err = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::NotFollowed).expect_err("legacy");
    assert!(matches!(err.kind, ErrorKind::LegacyTls), "{err}");
    assert!(err.to_string().contains("pinset needs TLS 1.2 or later"), "{err}");
    let err = pinset_net::block_on(probe::fetch_chain(&target(&server.url()), None, SHORT * 5))
        .expect("runtime")
        .expect_err("probe");
    assert!(matches!(err.kind, ErrorKind::LegacyTls), "{err}");
}

fn site_scope() -> Scope {
    Scope::Site { name: "shop".into(), hosts: vec![pinset::Host::parse("127.0.0.1").expect("ip")] }
}

#[test]
fn redirects_are_followed_only_when_asked_and_only_inside_the_scope() {
    let (root, leaf) = genuine();
    let end = serve(&leaf, &root, Response::ok("the end"));
    let hop = serve(&leaf, &root, Response::redirect(302, &format!("{}end", end.url())));
    let c = client(&root, SHORT * 5);

    // Not asked: the redirect is the response.
    let r = fetch(&c, &hop.url(), &Redirects::NotFollowed).expect("not followed").response;
    assert_eq!(r.status.as_u16(), 302);
    assert_eq!(r.location(), Some(format!("{}end", end.url())));

    // Asked, inside the site: followed, each hop on its own verified connection.
    let f = fetch(&c, &hop.url(), &Redirects::Within(site_scope())).expect("followed");
    assert_eq!((f.redirects.len(), &f.response.body[..]), (1, &b"the end"[..]));
    assert!(f.redirects[0].verified().is_some() && f.response.verified().is_some());
    assert_eq!(f.response.target.path, "/end");

    // To another address (not the site's), to http://, to the same host's http port.
    let elsewhere = SilentServer::on(V4_OTHER);
    for (location, expect_off_site) in [
        (elsewhere.url(), true),
        (end.url().replace("https://", "http://"), false),
        ("http://127.0.0.1/".to_string(), false),
    ] {
        let hop = serve(&leaf, &root, Response::redirect(301, &location));
        let err = fetch(&c, &hop.url(), &Redirects::Within(site_scope())).expect_err(&location);
        let ErrorKind::Redirect { refusal, .. } = &err.kind else { panic!("{location}: {err}") };
        if expect_off_site {
            assert!(matches!(refusal, RedirectRefusal::OffSite { .. }), "{location}: {err}");
        } else {
            assert_eq!(refusal, &RedirectRefusal::NotHttps, "{location}: {err}");
        }
    }
    assert_eq!(elsewhere.accepted(), 0, "nothing was sent off the site");
}

#[test]
fn a_redirect_loop_ends_at_the_limit() {
    let (root, leaf) = genuine();
    let server = serve(&leaf, &root, Response::redirect(307, "/again"));
    let err = fetch(&client(&root, SHORT * 5), &server.url(), &Redirects::Within(Scope::SameHost)).expect_err("loop");
    assert!(matches!(err.kind, ErrorKind::Redirect { refusal: RedirectRefusal::TooMany { max: 5 }, .. }), "{err}");
}

#[test]
fn the_probe_fetches_untrusted_chains_concurrently_in_order() {
    let g = Genuine::new(vec![ip("127.0.0.1")]);
    let (other, stranger) = g.other_ca("Stranger Root");
    let (root, leaf) = (g.root, g.leaf);
    let a = serve(&leaf, &root, Response::ok("a"));
    let b = serve(&stranger, &other, Response::ok("b"));
    let closed = ClosedPort::new();
    let silent = SilentServer::start();
    let targets: Vec<Target> = [b.url(), closed.url(), a.url(), silent.url()].iter().map(|u| target(u)).collect();
    let results = pinset_net::block_on(probe::fetch_chains(&targets, None, SHORT, 2)).expect("runtime");
    assert_eq!(results.len(), 4);
    let chain = |i: usize| results[i].as_ref().expect("presented").chain.clone();
    assert_eq!(chain(0), vec![stranger.der(), other.der()], "an untrusted chain is fetched all the same");
    assert!(matches!(results[1].as_ref().expect_err("closed").kind, ErrorKind::Connect { .. }));
    assert_eq!(chain(2), vec![leaf.der(), root.der()]);
    assert!(matches!(
        results[3].as_ref().expect_err("silent").kind,
        ErrorKind::TimedOut { phase: Phase::Handshake, .. }
    ));
    assert_eq!(results[2].as_ref().map(|p| p.addr).ok(), Some(a.addr));
}
