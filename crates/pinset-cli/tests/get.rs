//! `pinset get` (and the live `pin` that shares its network code) against real and
//! misbehaving servers on loopback: HTTP/2 with nghttpd and HTTP/1.1 with `openssl
//! s_server`, the deadline against servers that trickle or stay silent, a body shorter
//! than its length, a TLS 1.0/1.1-only server, redirects (never without `-L`, never off the
//! site, never to http://), header and URL injection, an interception impostor trusted
//! through `--ca` without a pin, and snapshots of what a person sees.
//!
//! Every run is bounded (30 s) so a hang fails the test; no test asserts on how long a
//! run took.

mod common;

#[path = "common/snapshot.rs"]
mod snapshot;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{assert_contains, assert_exit, loopback_site, run_bounded, s, stderr, stdout, tempdir};
use pinset_testkit::misbehave::{TRICKLE_BODY_HEAD, TRICKLE_HEAD};
use pinset_testkit::openssl::{Impostor, self_signed};
use pinset_testkit::rustls_server::{Close, Length, Response};
use pinset_testkit::site::{ca_pem, server_files};
use pinset_testkit::{Nghttpd, OpensslServer, SilentServer, TlsServer, TrickleServer, V4, V4_OTHER};
use serde_json::Value;

/// Bound on every run: far above any test's own deadline, so only a hang reaches it.
const BOUND: Duration = Duration::from_secs(30);

/// Runs pinset in `cwd` (a folder without a site), bounded.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("pinset"));
    cmd.current_dir(cwd).args(args).env_remove("PINSET_SITE").env_remove("PINSET_P12_PASSWORD");
    run_bounded(cmd, BOUND, &format!("pinset {}", args.join(" ")))
}

#[track_caller]
fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n--- stderr:\n{}", stdout(out), stderr(out)))
}

/// The site's server chain (leaf, CA) and key, as PEM text.
fn site_identity(site: &Path) -> (String, String) {
    let dir = site.join("pki/servers/server");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("site server file");
    (read("chain.pem"), read("key.pem"))
}

/// A rustls server configuration serving the site's server.
fn site_config(site: &Path) -> rustls::ServerConfig {
    let (chain, key) = site_identity(site);
    pinset_testkit::pki::server_config(&[chain], &key)
}

/// The site's server on 127.0.0.1, answering `response`.
fn site_server(site: &Path, response: Response) -> TlsServer {
    TlsServer::start(site_config(site), response)
}

// ---------------------------------------------------------------------------------------
// HTTP/2 and HTTP/1.1
// ---------------------------------------------------------------------------------------

#[test]
fn get_speaks_http2_to_an_http2_only_server_and_http1_to_s_server() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let htdocs = tmp.path().join("htdocs");
    std::fs::create_dir_all(&htdocs).expect("htdocs");
    std::fs::write(htdocs.join("index.html"), "hello over h2\n").expect("index.html");
    let chain = site.join("pki/servers/server/chain.pem");
    let (_, key) = server_files(&site);
    let h2 = Nghttpd::start(tmp.path(), V4, &chain, &key, &htdocs);

    let out = run_in(tmp.path(), &["get", &h2.url(), "--site", s(&site), "--json"]);
    assert_exit(&out, 0, "get from nghttpd");
    let v = json(&out);
    assert_eq!((&v["http"], &v["tls"]["alpn"], &v["status"]), (&"HTTP/2".into(), &"h2".into(), &200.into()), "{v:#}");
    assert_eq!(v["body"], "hello over h2\n");
    let out = run_in(tmp.path(), &["get", &h2.url(), "--site", s(&site)]);
    assert_exit(&out, 0, "get from nghttpd, human");
    assert_eq!(stdout(&out), "hello over h2\n");
    assert_contains(&stderr(&out), &["HTTP/2 200", &format!("{} verified", h2.authority())], "the result lines");

    let h1 = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let out = run_in(tmp.path(), &["get", &h1.url(), "--site", s(&site), "--json"]);
    assert_exit(&out, 0, "get from s_server");
    let v = json(&out);
    assert_eq!((&v["http"], &v["tls"]["alpn"]), (&"HTTP/1.1".into(), &Value::Null), "{v:#}");
    assert!(v["body"].as_str().is_some_and(|b| b.contains("s_server")), "{v:#}");
    let out = run_in(tmp.path(), &["get", &h1.url(), "--site", s(&site)]);
    assert_contains(&stderr(&out), &["HTTP/1.1 200"], "the status line");
}

// ---------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------

#[test]
fn get_abandons_a_trickling_or_silent_server_at_the_deadline() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let tcp = TrickleServer::tcp();
    let silent = SilentServer::start();
    let head = TrickleServer::tls(site_config(&site), TRICKLE_HEAD);
    let body = TrickleServer::tls(site_config(&site), TRICKLE_BODY_HEAD);
    let file = tmp.path().join("body.out");
    for (url, phase) in [
        (tcp.url(), "in the TLS handshake"),
        (silent.url(), "in the TLS handshake"),
        (head.url(), "waiting for the response"),
        (body.url(), "reading the response body"),
    ] {
        let out = run_in(tmp.path(), &["get", &url, "--site", s(&site), "--timeout", "2", "-o", s(&file)]);
        assert_exit(&out, 2, &url);
        let err = stderr(&out);
        assert_contains(&err, &[&format!("timed out after 2 s {phase}"), "hint:", "--timeout"], &url);
        assert!(!err.contains("os error"), "{url}: an operating-system error instead of the deadline:\n{err}");
        assert!(!file.exists(), "{url}: nothing is written when the deadline passes");
    }
    assert!(tcp.accepted() >= 1 && silent.accepted() >= 1 && body.accepted() >= 1, "the servers were reached");
}

#[test]
fn live_pin_abandons_a_trickling_or_silent_server_at_the_deadline() {
    let tmp = tempdir();
    let tcp = TrickleServer::tcp();
    let silent = SilentServer::start();
    let (cert, key) = self_signed(tmp.path(), "fine", "IP:127.0.0.1");
    let fine = OpensslServer::start(tmp.path(), V4, &cert, &key, &[]);
    let out = run_in(tmp.path(), &["pin", &tcp.authority(), &fine.authority(), &silent.authority(), "--timeout", "2"]);
    assert_exit(&out, 2, "two servers that never finish a handshake among three");
    let err = stderr(&out);
    for server in [tcp.authority(), silent.authority()] {
        assert_contains(&err, &[&format!("{server}: timed out after 2 s in the TLS handshake")], "each deadline");
    }
    assert!(!err.contains("os error"), "{err}");
    assert_contains(&stdout(&out), &["CN=fine"], "the server that answered is still pinned");
}

#[test]
fn a_body_shorter_than_its_content_length_is_an_error_and_writes_no_file() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    for close in [Close::Notify, Close::Abrupt] {
        let server = site_server(&site, Response::short_body("only this", 1000).close(close));
        let file = tmp.path().join("short.out");
        let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "-o", s(&file)]);
        assert_exit(&out, 2, &format!("a short body ({close:?})"));
        assert_contains(
            &stderr(&out),
            &["ended after 9 of the 1000 bytes its Content-Length announced", "nothing was written to"],
            "the short-body error",
        );
        assert!(!file.exists(), "no short -o file");
    }
    // A body whose end is the connection's end, cut without close_notify.
    let server = site_server(&site, Response::ok("cut here").length(Length::Absent).close(Close::Abrupt));
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site)]);
    assert_exit(&out, 2, "a body cut without close_notify");
    assert_contains(&stderr(&out), &["without TLS close_notify"], "the truncation error");
    assert!(out.stdout.is_empty(), "nothing of a cut body on stdout: {}", stdout(&out));
}

// ---------------------------------------------------------------------------------------
// TLS 1.0/1.1
// ---------------------------------------------------------------------------------------

#[test]
fn a_tls_1_0_only_server_is_told_pinset_needs_tls_1_2() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let (cert, key) = server_files(&site);
    let server = OpensslServer::legacy_tls(tmp.path(), V4, &cert, &key, &[]);
    for args in [vec!["get", &server.url(), "--site", s(&site)], vec!["pin", &server.authority()]] {
        let out = run_in(tmp.path(), &args);
        assert_exit(&out, 2, &args.join(" "));
        assert_contains(&stderr(&out), &["pinset needs TLS 1.2 or later", "hint:", "RFC 8996"], &args.join(" "));
    }
}

// ---------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------

#[test]
fn a_redirect_is_not_followed_without_location() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let target = SilentServer::start();
    let server = site_server(&site, Response::redirect(302, &format!("{}next", target.url())).body("moved"));
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site)]);
    assert_exit(&out, 0, "a redirect without -L");
    assert_eq!(stdout(&out), "moved", "the redirect's own body");
    assert_contains(&stderr(&out), &["HTTP/1.1 302 Found", "not followed", "-L"], "the note");
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--json"]);
    let v = json(&out);
    assert_eq!(v["status"], 302, "{v:#}");
    assert!(v.get("redirects").is_none(), "{v:#}");
    assert_eq!(target.accepted(), 0, "the redirect's target was never contacted");
}

#[test]
fn location_follows_redirects_within_the_site_each_hop_verified() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let end = site_server(&site, Response::ok("the end"));
    // Another port of a site address, written relative to the scheme.
    let location = format!("//{}/end", end.authority());
    let hop = site_server(&site, Response::redirect(302, &location));
    let out = run_in(tmp.path(), &["get", &hop.url(), "--site", s(&site), "-L", "--json"]);
    assert_exit(&out, 0, "-L within the site");
    let v = json(&out);
    assert_eq!(v["body"], "the end", "{v:#}");
    assert_eq!(v["effective_url"], format!("{}end", end.url()), "{v:#}");
    let hops = v["redirects"].as_array().unwrap_or_else(|| panic!("redirects: {v:#}"));
    assert_eq!(hops.len(), 1, "{v:#}");
    assert_eq!((&hops[0]["status"], &hops[0]["verdict"]["pins_checked"]), (&302.into(), &true.into()), "{v:#}");
    assert_eq!(v["verdict"]["pins_checked"], true, "{v:#}");
    assert!(end.next_outcome().expect("served").request.starts_with("GET /end HTTP/1.1"));

    let out = run_in(tmp.path(), &["get", &hop.url(), "--site", s(&site), "-L"]);
    assert_exit(&out, 0, "-L within the site, human");
    assert_eq!(stdout(&out), "the end");
    assert_contains(
        &stderr(&out),
        &[&format!("{} verified", hop.authority()), "302 Found, redirect to", &format!("{} verified", end.authority())],
        "each hop verified",
    );
}

#[test]
fn location_never_leaves_the_site_nor_tls() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    // Listeners a refused redirect must never reach: another address (not the site's),
    // and the site's own address over plain http.
    let elsewhere = SilentServer::on(V4_OTHER);
    let cleartext = SilentServer::start();
    for (location, says) in [
        (elsewhere.url(), "not an address of site \"shop\""),
        (format!("http://{}/", cleartext.authority()), "not https://"),
        ("http://127.0.0.1/".to_string(), "not https://"),
    ] {
        let server = site_server(&site, Response::redirect(301, &location));
        let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "-L"]);
        assert_exit(&out, 2, &location);
        assert_contains(&stderr(&out), &[says, "not followed", "hint:"], &location);
        assert!(out.stdout.is_empty(), "{location}: no body: {}", stdout(&out));
    }

    // Without a site (--ca, --pin), only the host first dialled: another port of it is
    // followed, another address on any port is not.
    let ca = ca_pem(&site);
    let pin =
        format!("sha256/{}", stdout(&run_in(tmp.path(), &["pin", s(&ca)])).split_whitespace().next().unwrap_or(""));
    let end = site_server(&site, Response::ok("same host"));
    let same_host = site_server(&site, Response::redirect(307, &end.url()));
    let out = run_in(tmp.path(), &["get", &same_host.url(), "--ca", s(&ca), "--pin", &pin, "-L"]);
    assert_exit(&out, 0, "another port of the host first dialled");
    assert_eq!(stdout(&out), "same host");
    let off = site_server(&site, Response::redirect(307, &elsewhere.url()));
    let out = run_in(tmp.path(), &["get", &off.url(), "--ca", s(&ca), "--pin", &pin, "-L"]);
    assert_exit(&out, 2, "another address, without a site");
    assert_contains(&stderr(&out), &["the host first dialled, 127.0.0.1"], "the refusal");

    assert_eq!((elsewhere.accepted(), cleartext.accepted()), (0, 0), "nothing was sent off the site or in clear");
}

// ---------------------------------------------------------------------------------------
// Injection, userinfo, and text from the peer
// ---------------------------------------------------------------------------------------

#[test]
fn header_and_url_injection_and_userinfo_are_refused_before_connecting() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let server = SilentServer::start();
    let url = server.url();
    let base = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = ["get", url.as_str(), "--site", s(&site)].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    for (args, says) in [
        (base(&["-H", "X-A: 1\r\nX-Evil: 2"]), "line break"),
        (base(&["-H", "X-A: 1\nX-Evil: 2"]), "line break"),
        (base(&["-H", "X-A: a\u{1}b"]), "control character"),
        (base(&["-H", "Bad Name: 1"]), "not an HTTP header name"),
        (base(&["-H", "no colon"]), "Name: value"),
    ] {
        let out = run_in(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_exit(&out, 2, says);
        assert_contains(&stderr(&out), &["header", says, "hint:"], says);
    }
    let injected = format!("{url}a\r\nX-Evil: 1");
    let userinfo = url.replace("https://", "https://user:secret@");
    for (target, says) in [(injected.as_str(), "control character"), (userinfo.as_str(), "user name or password")] {
        let out = run_in(tmp.path(), &["get", target, "--site", s(&site)]);
        assert_exit(&out, 2, says);
        assert_contains(&stderr(&out), &[says], target);
    }
    assert_eq!(server.accepted(), 0, "nothing was sent for a refused request");

    // A header on one line reaches the server as given.
    let server = site_server(&site, Response::ok("ok"));
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "-H", "X-Token: abc"]);
    assert_exit(&out, 0, "a valid header");
    let request = server.next_outcome().expect("served").request;
    assert!(request.to_ascii_lowercase().contains("x-token: abc\r\n"), "{request}");
}

#[test]
fn text_from_the_peer_is_escaped_in_human_output() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    // HTTP allows bytes above 0x7f in a reason phrase and a header value: a right-to-left
    // override there would reorder what the terminal shows. (hyper passes such a reason
    // phrase on as empty, so the standard one is shown; the Location is shown escaped.)
    let server = site_server(
        &site,
        Response::status(302, "Found\u{202e}gnp.exe").header("Location", "https://127.0.0.1/\u{202e}x").body(""),
    );
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site)]);
    assert_exit(&out, 0, "a redirect with a hostile reason and location");
    let err = stderr(&out);
    assert!(!err.contains('\u{202e}'), "a right-to-left override reached the terminal:\n{err}");
    assert_contains(&err, &["HTTP/1.1 302 Found (", "https://127.0.0.1/\\u{202e}x"], "escaped");
}

// ---------------------------------------------------------------------------------------
// Whether a pin was checked
// ---------------------------------------------------------------------------------------

#[test]
fn an_interception_impostor_trusted_through_ca_is_reported_as_no_pin_checked() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let (genuine, _) = server_files(&site);
    let forge_dir = tmp.path().join("forge");
    std::fs::create_dir_all(&forge_dir).expect("forge dir");
    let impostor = Impostor::forge(&forge_dir, &genuine);
    let proxy = impostor.serve(tmp.path(), V4);

    // The attacker's CA given as --ca, no pin: the impostor is accepted, and said to be
    // accepted by anchors alone.
    let out = run_in(tmp.path(), &["get", &proxy.url(), "--ca", s(&impostor.ca)]);
    assert_exit(&out, 0, "an impostor under its own CA, no pin");
    assert_contains(&stderr(&out), &["warning: no pin checked", "interception proxy", "--pin"], "the warning");
    let out = run_in(tmp.path(), &["get", &proxy.url(), "--ca", s(&impostor.ca), "--json"]);
    let v = json(&out);
    assert_eq!(v["verdict"]["pins_checked"], false, "{v:#}");
    assert_eq!(v["verdict"]["pins"]["result"], "no-pins", "{v:#}");

    // The site refuses it; the site with the attacker's CA is refused as a combination.
    let out = run_in(tmp.path(), &["get", &proxy.url(), "--site", s(&site)]);
    assert_exit(&out, 1, "the impostor against the site");
    let out = run_in(tmp.path(), &["get", &proxy.url(), "--site", s(&site), "--ca", s(&impostor.ca)]);
    assert_exit(&out, 2, "--site with --ca");
    assert_contains(&stderr(&out), &["--ca", "--site"], "the refusal of the combination");

    // The genuine server under the site: pins checked.
    let server = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let v = json(&run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--json"]));
    assert_eq!((&v["verdict"]["pins_checked"], &v["verdict"]["pins"]["result"]), (&true.into(), &"matched".into()));
}

// ---------------------------------------------------------------------------------------
// Live pin without a site
// ---------------------------------------------------------------------------------------

#[test]
fn live_pin_without_a_site_says_which_pin_apps_carry() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let server = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let out = run_in(tmp.path(), &["pin", &server.authority()]);
    assert_exit(&out, 0, "a live pin of a site's server, no site");
    assert_contains(
        &stderr(&out),
        &[&format!("{} sent only its own certificate", server.authority()), "pinset pin --site DIR", "CA"],
        "the note",
    );
    let (cert, key) = self_signed(tmp.path(), "selfie", "IP:127.0.0.1");
    let selfie = OpensslServer::start(tmp.path(), V4, &cert, &key, &[]);
    let out = run_in(tmp.path(), &["pin", &selfie.authority()]);
    assert_contains(&stderr(&out), &["self-signed server's pin is its own key's", "standby"], "the note");
    let out = run_in(tmp.path(), &["pin", &server.authority(), "--site", s(&site)]);
    assert!(!stderr(&out).contains("note:"), "with a site, no note:\n{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

macro_rules! snap {
    ($tmp:expr, $name:expr, $out:expr) => {
        snapshot::settings($tmp).bind(|| insta::assert_snapshot!($name, snapshot::run_text(&$out)))
    };
}

#[test]
fn snapshots_of_get_for_a_genuine_server_and_a_refused_impostor() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let other = loopback_site(tmp.path(), "rogue", &[]);
    let genuine = site_server(&site, Response::ok("pinset test server\n"));
    let impostor = site_server(&other, Response::ok("never sent\n"));
    let dir = s(&site);
    snap!(tmp.path(), "get_genuine", run_in(tmp.path(), &["get", &genuine.url(), "--site", dir]));
    snap!(tmp.path(), "get_genuine_json", run_in(tmp.path(), &["get", &genuine.url(), "--site", dir, "--json"]));
    snap!(tmp.path(), "get_impostor", run_in(tmp.path(), &["get", &impostor.url(), "--site", dir]));
    snap!(tmp.path(), "get_impostor_json", run_in(tmp.path(), &["get", &impostor.url(), "--site", dir, "--json"]));
    let silent = SilentServer::start();
    snap!(tmp.path(), "get_timeout", run_in(tmp.path(), &["get", &silent.url(), "--site", dir, "--timeout", "1"]));
}
