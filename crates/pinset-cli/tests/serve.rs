//! `pinset serve` against real peers on loopback: curl (HTTP/1.1 and HTTP/2), `openssl
//! s_client`, Python's urllib and `pinset get` fetching through the proxy from a real
//! upstream that echoes what it received; mutual TLS with issued, foreign and revoked
//! client certificates (revoked while the server runs); identity and forwarded headers a
//! client cannot spoof; 50 reloads under load; a replaced and a damaged certificate file;
//! 1,000 slow or half-open connections; an upstream that is down; WebSocket through the
//! proxy; static files and metrics; the cipher suite the server prefers; a refused client
//! that had sent its request still reading why.

mod common;
#[path = "common/server.rs"]
mod server;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{loopback_site, pinset, s, tempdir};
use pinset_testkit::curl::curl;
use pinset_testkit::pki::{Ca, Spec, ip};
use pinset_testkit::site::{ca_files, ca_pem};
use server::{Echo, Running, WsEcho};

const PASSWORD: &str = "correct horse";

fn ok_body(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn serve(site: &Path, extra: &[&str]) -> Running {
    let mut args = vec!["serve", "--site", s(site), "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Running::start(&args)
}

fn issue_client(site: &Path, name: &str) -> PathBuf {
    let out = pinset()
        .args(["issue", "client", name, "--site", s(site)])
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .output()
        .expect("run pinset issue client");
    assert!(out.status.success(), "issue client: {}", String::from_utf8_lossy(&out.stderr));
    site.join("pki/clients").join(name)
}

fn curl_ca(site: &Path, args: &[&str]) -> std::process::Output {
    let ca = ca_pem(site);
    let mut all = vec!["--cacert", s(&ca), "--capath", "/dev/null"];
    all.extend_from_slice(args);
    curl(&all)
}

#[test]
fn curl_openssl_python_and_pinset_get_fetch_through_the_proxy_over_http1_and_http2() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let echo = Echo::start();
    let server = Running::start(&[
        "serve",
        "--site",
        s(&site),
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "[::1]:0",
        "--upstream",
        &echo.url(),
    ]);
    let url = server.url("/a/b?x=1");
    let port = server.addr.port();

    let h1 = ok_body(&curl_ca(&site, &["--http1.1", "-w", "\nversion=%{http_version}", &url]), "curl --http1.1");
    assert!(h1.starts_with("GET /a/b?x=1 HTTP/1.1\n"), "{h1}");
    assert!(h1.contains(&format!("host: 127.0.0.1:{port}\n")), "{h1}");
    assert!(h1.contains("x-forwarded-for: 127.0.0.1\n"), "{h1}");
    assert!(h1.contains("x-forwarded-proto: https\n"), "{h1}");
    assert!(h1.contains(&format!("forwarded: for=127.0.0.1;proto=https;host=\"127.0.0.1:{port}\"\n")), "{h1}");
    assert!(h1.ends_with("version=1.1"), "{h1}");

    let h2 = ok_body(
        &curl_ca(&site, &["--http2", "-d", "posted body", "-w", "\nversion=%{http_version}", &url]),
        "curl --http2",
    );
    assert!(h2.starts_with("POST /a/b?x=1 HTTP/1.1\n"), "the upstream speaks HTTP/1.1 whatever the client: {h2}");
    assert!(h2.contains("\nposted body\n"), "{h2}");
    assert!(h2.ends_with("version=2"), "{h2}");

    // IPv6 listener.
    let v6 = server.stdout().split_whitespace().find(|w| w.starts_with("https://[::1]:")).map(str::to_string);
    let v6 = v6.unwrap_or_else(|| panic!("no IPv6 URL:\n{}", server.stdout()));
    let body = ok_body(&curl_ca(&site, &["--http2", &format!("{v6}v6")]), "curl over IPv6");
    assert!(body.starts_with("GET /v6 HTTP/1.1\n") && body.contains("x-forwarded-for: ::1\n"), "{body}");

    // openssl s_client, HTTP/1.1 by hand, verifying the chain and the IP.
    let mut cmd = std::process::Command::new("openssl");
    let ca = ca_pem(&site);
    cmd.args([
        "s_client",
        "-connect",
        &server.addr.to_string(),
        "-CAfile",
        s(&ca),
        "-verify_return_error",
        "-verify_ip",
        "127.0.0.1",
        "-alpn",
        "http/1.1",
        "-quiet",
    ]);
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"GET /from-openssl HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("write request");
    let out = child.wait_with_output().expect("openssl output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "openssl s_client: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("GET /from-openssl HTTP/1.1"), "{text}");

    // Python's urllib trusting only the site's CA.
    let py = format!(
        "import ssl, urllib.request\nctx = ssl.create_default_context(cafile={:?})\nprint(urllib.request.urlopen({:?}, context=ctx, timeout=20).read().decode())",
        s(&ca),
        server.url("/from-python")
    );
    let body = ok_body(&common::run("python3", &["-c", &py]), "python3 urllib");
    assert!(body.starts_with("GET /from-python HTTP/1.1\n"), "{body}");

    // pinset get with the site's anchors and pins.
    let out = pinset().args(["get", &server.url("/from-pinset"), "--site", s(&site)]).output().expect("pinset get");
    let body = ok_body(&out, "pinset get");
    assert!(body.starts_with("GET /from-pinset HTTP/1.1\n"), "{body}");

    let (status, _, log) = server.stop();
    assert!(status.success(), "exit after SIGINT: {status}\n{log}");
    assert!(log.contains("\"GET /a/b?x=1 HTTP/1.1\" 200"), "access log: {log}");
    assert!(log.contains("\"POST /a/b?x=1 HTTP/2.0\" 200"), "access log: {log}");
    assert!(log.contains("Stopped (SIGINT)"), "{log}");
}

#[test]
fn mutual_tls_accepts_issued_clients_and_refuses_others_and_one_revoked_while_serving() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let till1 = issue_client(&site, "till-1");
    let till2 = issue_client(&site, "till-2");
    let other = loopback_site(t.path(), "other", &[]);
    let stranger = issue_client(&other, "till-1");
    let echo = Echo::start();
    let server = serve(&site, &["--upstream", &echo.url(), "--client-auth", "require"]);
    let url = server.url("/till");
    let with = |dir: &Path, extra: &[&str]| {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let mut args = vec!["--cert", s(&cert), "--key", s(&key)];
        args.extend_from_slice(extra);
        args.push(&url);
        curl_ca(&site, &args)
    };

    let body = ok_body(&with(&till1, &[]), "till-1 with PEM");
    assert!(body.contains("x-client-cert-subject: CN=till-1, O=shop\n"), "{body}");
    let p12 = till1.join("till-1.p12");
    let p12_arg = format!("{}:{PASSWORD}", s(&p12));
    let body = ok_body(&curl_ca(&site, &["--cert", &p12_arg, "--cert-type", "P12", &url]), "till-1 with PKCS#12");
    assert!(body.contains("x-client-cert-subject: CN=till-1, O=shop\n"), "{body}");
    let out = pinset()
        .args(["get", &url, "--site", s(&site), "--p12", s(&p12)])
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .output()
        .expect("pinset get --p12");
    assert!(ok_body(&out, "pinset get --p12").contains("x-client-cert-serial: "));

    let none = curl_ca(&site, &[&url]);
    assert!(!none.status.success(), "no client certificate was let in: {}", String::from_utf8_lossy(&none.stdout));
    let foreign = with(&stranger, &[]);
    assert!(!foreign.status.success(), "another CA's client was let in: {}", String::from_utf8_lossy(&foreign.stdout));

    // Revoked while serving: refused from the next handshake on, no restart.
    let out =
        pinset().args(["revoke", "till-1", "--site", s(&site), "--reason", "key-compromise"]).output().expect("revoke");
    assert!(out.status.success(), "revoke: {}", String::from_utf8_lossy(&out.stderr));
    server.wait_for_log("revocation list names 1 certificate", 1, Duration::from_secs(20));
    let revoked = with(&till1, &[]);
    assert!(!revoked.status.success(), "a revoked client was let in: {}", String::from_utf8_lossy(&revoked.stdout));
    let p12_revoked = curl_ca(&site, &["--cert", &p12_arg, "--cert-type", "P12", &url]);
    assert!(!p12_revoked.status.success(), "a revoked client was let in with its PKCS#12");
    ok_body(&with(&till2, &[]), "till-2 after till-1's revocation");
    let (status, _, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn allow_client_lets_in_only_the_named_clients() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let till1 = issue_client(&site, "till-1");
    let till2 = issue_client(&site, "till-2");
    let echo = Echo::start();
    let server = serve(&site, &["--upstream", &echo.url(), "--client-auth", "require", "--allow-client", "till-2"]);
    let try_as = |dir: &Path| {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        curl_ca(&site, &["--cert", s(&cert), "--key", s(&key), &server.url("/")])
    };
    assert!(!try_as(&till1).status.success(), "till-1 is not on the allow-list");
    ok_body(&try_as(&till2), "till-2");
}

#[test]
fn spoofed_identity_and_forwarded_headers_never_reach_the_upstream() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let till1 = issue_client(&site, "till-1");
    let echo = Echo::start();
    let server = serve(&site, &["--upstream", &echo.url(), "--client-auth", "optional"]);
    let spoof = [
        "-H",
        "X-Client-Cert-Subject: CN=admin",
        "-H",
        "x-client-cert-pin: sha256/forged",
        "-H",
        "X-Client-Cert-Whatever: 1",
        "-H",
        "X-Forwarded-For: 203.0.113.66",
        "-H",
        "Forwarded: for=203.0.113.66",
    ];
    for http in ["--http1.1", "--http2"] {
        let mut args = vec![http];
        args.extend_from_slice(&spoof);
        let url = server.url("/who");
        args.push(&url);
        let anonymous = ok_body(&curl_ca(&site, &args), "anonymous client");
        assert!(!anonymous.contains("x-client-cert-"), "{http}: a spoofed identity reached the upstream:\n{anonymous}");
        assert!(!anonymous.contains("203.0.113.66"), "{http}: a spoofed forwarded header reached the upstream");
        assert!(anonymous.contains("x-forwarded-for: 127.0.0.1\n"), "{anonymous}");
        let (cert, key) = (till1.join("cert.pem"), till1.join("key.pem"));
        let mut with_cert = vec!["--cert", s(&cert), "--key", s(&key)];
        with_cert.extend_from_slice(&args);
        let verified = ok_body(&curl_ca(&site, &with_cert), "client with a certificate");
        assert!(
            !verified.contains("admin") && !verified.contains("forged") && !verified.contains("whatever"),
            "{verified}"
        );
        assert_eq!(verified.matches("x-client-cert-subject:").count(), 1, "{verified}");
        assert!(verified.contains("x-client-cert-subject: CN=till-1, O=shop\n"), "{verified}");
        assert!(verified.contains("x-client-cert-pin: sha256/"), "{verified}");
    }
}

/// New server certificates for the site's CA, valid for 127.0.0.1, written as deploy tools
/// do: each file replaced by a rename.
struct Reissuer {
    ca: Ca,
    ca_pem: String,
    dir: PathBuf,
}

impl Reissuer {
    fn new(site: &Path) -> Reissuer {
        let (cert, key) = ca_files(site);
        Reissuer {
            ca: Ca::from_files(&cert, &key),
            ca_pem: std::fs::read_to_string(&cert).expect("CA"),
            dir: site.join("pki/servers/server"),
        }
    }

    /// Replaces the server's key and chain; returns the new pin.
    fn replace(&self, n: usize) -> pinset::Pin {
        let id = Spec::server(&format!("127.0.0.1 #{n}"), vec![ip("127.0.0.1")]).signed_by(&self.ca);
        self.put("key.pem", &id.key_pem());
        self.put("chain.pem", &format!("{}{}", id.pem(), self.ca_pem));
        id.pin()
    }

    fn put(&self, name: &str, text: &str) {
        let tmp = self.dir.join(format!(".{name}.deploy"));
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, self.dir.join(name)).expect("rename");
    }
}

/// The pin of the certificate a new handshake with `addr` gets.
fn served_pin(config: &Arc<rustls::ClientConfig>, addr: std::net::SocketAddr) -> pinset::Pin {
    let (tls, _) = pinset_testkit::client::handshake(config, addr, "127.0.0.1").expect("handshake");
    let leaf = tls.conn.peer_certificates().and_then(|c| c.first()).expect("a certificate").to_vec();
    let cert = pinset::cert::parse("served", &leaf).expect("parse");
    pinset::Pin::of_spki(cert.public_key().raw)
}

/// One request on a new connection; `Err` says what went wrong.
fn one_request(config: &Arc<rustls::ClientConfig>, addr: std::net::SocketAddr) -> Result<(), String> {
    let (mut tls, _) =
        pinset_testkit::client::handshake(config, addr, "127.0.0.1").map_err(|e| format!("handshake: {e}"))?;
    tls.write_all(b"GET /load HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    if text.starts_with("HTTP/1.1 200 OK") && text.contains("GET /load HTTP/1.1") {
        Ok(())
    } else {
        Err(format!("answer: {text:?}"))
    }
}

#[test]
fn fifty_reloads_under_load_lose_no_request_and_later_handshakes_see_the_new_certificate() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let echo = Echo::start();
    let server = serve(&site, &["--upstream", &echo.url(), "--no-watch"]);
    let addr = server.addr;
    let config = pinset_testkit::client::client_trusting(&std::fs::read(ca_pem(&site)).expect("ca"), &["http/1.1"]);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let load: Vec<_> = (0..3)
        .map(|_| {
            let (stop, served, failures, config) = (stop.clone(), served.clone(), failures.clone(), config.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match one_request(&config, addr) {
                        Ok(()) => served.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            failures.lock().expect("lock").push(e);
                            0
                        }
                    };
                }
            })
        })
        .collect();
    let reissuer = Reissuer::new(&site);
    for n in 1..=50 {
        let pin = reissuer.replace(n);
        let before = served.load(Ordering::SeqCst);
        server.signal("HUP");
        server.wait_for_log("reloaded (SIGHUP)", n, Duration::from_secs(20));
        assert_eq!(served_pin(&config, addr), pin, "reload {n}: a new handshake did not get the new certificate");
        // Requests keep being served between reloads.
        let deadline = Instant::now() + Duration::from_secs(20);
        while served.load(Ordering::SeqCst) <= before {
            assert!(Instant::now() < deadline, "no request was served after reload {n}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.join().expect("load thread");
    }
    let failures = failures.lock().expect("lock");
    assert!(
        failures.is_empty(),
        "{} of {} requests failed across 50 reloads: {:?}",
        failures.len(),
        served.load(Ordering::SeqCst),
        &failures[..failures.len().min(5)]
    );
    assert!(!server.stderr().contains("reload refused"), "{}", server.stderr());
}

#[test]
fn a_replaced_certificate_file_is_served_and_a_damaged_one_keeps_the_old() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let server = serve(&site, &[]);
    let config = pinset_testkit::client::client_trusting(&std::fs::read(ca_pem(&site)).expect("ca"), &["http/1.1"]);
    let reissuer = Reissuer::new(&site);
    let pin = reissuer.replace(1);
    server.wait_for_log("reloaded (files changed)", 1, Duration::from_secs(20));
    assert_eq!(served_pin(&config, server.addr), pin, "the replaced certificate is not served");

    reissuer.put("chain.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    server.wait_for_log("reload refused (files changed)", 1, Duration::from_secs(20));
    assert_eq!(served_pin(&config, server.addr), pin, "a damaged file replaced the served certificate");
    // An expired certificate is refused too, naming why.
    let (cert, key) = ca_files(&site);
    let expired = Spec::server("127.0.0.1", vec![ip("127.0.0.1")]).expired().signed_by(&Ca::from_files(&cert, &key));
    reissuer.put("key.pem", &expired.key_pem());
    reissuer.put("chain.pem", &expired.pem());
    server.wait_for_log("has expired", 1, Duration::from_secs(20));
    assert_eq!(served_pin(&config, server.addr), pin, "an expired certificate replaced the served one");
    let log = server.stderr();
    assert!(log.contains("still serving server \"server\""), "{log}");
}

#[test]
fn a_thousand_slow_or_half_open_connections_do_not_stop_a_genuine_client() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let echo = Echo::start();
    // Timeouts far beyond the test: the genuine client is served while they all hang.
    let server = serve(&site, &["--upstream", &echo.url(), "--handshake-timeout", "300", "--idle-timeout", "300"]);
    let mut hanging = Vec::new();
    for i in 0..1000 {
        let mut sock = TcpStream::connect(server.addr).expect("connect");
        match i % 3 {
            // Half-open: connected, silent.
            0 => {}
            // Slow: the first bytes of a ClientHello record, then nothing.
            1 => sock.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).expect("write"),
            // Not TLS at all, sent slowly.
            _ => sock.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").expect("write"),
        }
        hanging.push(sock);
    }
    let started = Instant::now();
    let body =
        ok_body(&curl_ca(&site, &["--http2", &server.url("/genuine")]), "a genuine client among 1,000 slow ones");
    assert!(body.starts_with("GET /genuine HTTP/1.1\n"), "{body}");
    let body = ok_body(&curl_ca(&site, &["--http1.1", &server.url("/again")]), "a second genuine client");
    assert!(body.starts_with("GET /again HTTP/1.1\n"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(60));
    drop(hanging);
}

#[test]
fn an_upstream_that_is_down_gives_502_and_a_clear_log_line() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let closed = pinset_testkit::ClosedPort::new();
    let upstream = format!("http://{}", closed.authority());
    let server = serve(&site, &["--upstream", &upstream]);
    let out = curl_ca(&site, &["-o", "/dev/null", "-w", "%{http_code}", &server.url("/report")]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "502", "{}", String::from_utf8_lossy(&out.stderr));
    server.wait_for_log("cannot be reached for GET /report", 1, Duration::from_secs(10));
    let log = server.stderr();
    assert!(log.contains(&format!("error: upstream {upstream} cannot be reached for GET /report")), "{log}");
    assert!(log.contains("answered 502 Bad Gateway"), "{log}");
}

#[test]
fn a_websocket_echo_passes_through_the_proxy() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let ws_echo = WsEcho::start();
    let server = serve(&site, &["--upstream", &ws_echo.url()]);
    let config = pinset_testkit::client::client_trusting(&std::fs::read(ca_pem(&site)).expect("ca"), &["http/1.1"]);
    let (tls, _) = pinset_testkit::client::handshake(&config, server.addr, "127.0.0.1").expect("handshake");
    let (mut ws, resp) =
        tungstenite::client(format!("wss://{}/chat", server.addr), tls).expect("WebSocket handshake through pinset");
    assert_eq!(resp.status(), 101);
    for msg in ["hello through pinset", "second message"] {
        ws.send(tungstenite::Message::text(msg)).expect("send");
        let back = ws.read().expect("read the echo");
        assert_eq!(back.into_text().expect("text").as_str(), msg);
    }
    ws.close(None).expect("close");
}

#[test]
fn static_files_and_metrics() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let www = t.path().join("www");
    std::fs::create_dir_all(www.join("sub")).expect("www");
    std::fs::write(www.join("index.html"), "<h1>till</h1>").expect("index");
    std::fs::write(www.join("sub/app.js"), "let a = 1;").expect("js");
    std::fs::write(t.path().join("secret.txt"), "outside").expect("secret");
    let metrics = pinset_testkit::free_port(pinset_testkit::V4);
    let metrics_addr = format!("127.0.0.1:{metrics}");
    let server = serve(&site, &["--static", s(&www), "--metrics", &metrics_addr]);
    assert_eq!(ok_body(&curl_ca(&site, &[&server.url("/")]), "index"), "<h1>till</h1>");
    let js = curl_ca(&site, &["-i", "--http1.1", &server.url("/sub/app.js")]);
    assert!(ok_body(&js, "js").to_ascii_lowercase().contains("content-type: text/javascript"));
    let out = curl_ca(&site, &["-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", &server.url("/../secret.txt")]);
    assert_ne!(String::from_utf8_lossy(&out.stdout), "200");
    let _ = curl_ca(&site, &[&server.url("/missing")]);
    let text = ok_body(&curl(&[&format!("http://{metrics_addr}/metrics")]), "metrics");
    for needle in [
        "pinset_serve_handshakes_total{outcome=\"ok\"}",
        "pinset_serve_requests_total{code=\"200\"} 2",
        "pinset_serve_requests_total{code=\"404\"} 1",
        "pinset_serve_request_duration_seconds_count",
        "pinset_serve_certificate_expiry_seconds{server=\"server\"} 3",
    ] {
        assert!(text.contains(needle), "no {needle} in:\n{text}");
    }
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    // An upstream that takes a second to answer.
    let slow = pinset_testkit::net::Loopback::start(pinset_testkit::V4, |mut sock, _stop| {
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf);
        std::thread::sleep(Duration::from_secs(1));
        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow\n");
    });
    let server = serve(&site, &["--upstream", &format!("http://{}", slow.addr())]);
    let url = server.url("/slow");
    let ca = ca_pem(&site);
    let client = std::thread::spawn(move || curl(&["--cacert", s(&ca), "--capath", "/dev/null", &url]));
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    let out = client.join().expect("client");
    assert_eq!(ok_body(&out, "a request in flight at SIGTERM"), "slow\n");
    let (status, _, log) = server.stop_after_signal();
    assert!(status.success(), "{log}");
    assert!(log.contains("Stopped (SIGTERM): 1 connection finished"), "{log}");
}

#[test]
fn the_certificate_is_chosen_by_sni_else_by_the_address_dialled_else_by_server() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let out = pinset()
        .args(["issue", "server", "till", "--site", s(&site), "--ip", "127.0.0.2", "--dns", "till.local"])
        .output()
        .expect("issue server");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pin_of = |name: &str| {
        let cert = std::fs::read(site.join(format!("pki/servers/{name}/cert.pem"))).expect("cert");
        let der = pinset::input::read_certificates("cert", &cert).expect("pem").remove(0);
        pinset::Pin::of_spki(pinset::cert::parse("cert", &der).expect("parse").public_key().raw)
    };
    let (main, till) = (pin_of("server"), pin_of("till"));
    let config = pinset_testkit::client::client_trusting(&std::fs::read(ca_pem(&site)).expect("ca"), &["http/1.1"]);
    let pin_at = |addr: std::net::SocketAddr, name: &str| {
        let (tls, _) = pinset_testkit::client::handshake(&config, addr, name).expect("handshake");
        let leaf = tls.conn.peer_certificates().and_then(|c| c.first()).expect("certificate").to_vec();
        pinset::Pin::of_spki(pinset::cert::parse("served", &leaf).expect("parse").public_key().raw)
    };
    let server = Running::start(&["serve", "--site", s(&site), "--listen", "127.0.0.1:0", "--listen", "127.0.0.2:0"]);
    let v4 = server.addr;
    let other = server
        .stdout()
        .split_whitespace()
        .find_map(|w| w.strip_prefix("https://127.0.0.2:")?.trim_end_matches('/').parse::<u16>().ok())
        .map(|port| std::net::SocketAddr::from(([127, 0, 0, 2], port)))
        .unwrap_or_else(|| panic!("no 127.0.0.2 listener:\n{}", server.stdout()));
    // An IP dialled sends no SNI: the local address decides.
    assert_eq!(pin_at(v4, "127.0.0.1"), main);
    assert_eq!(pin_at(other, "127.0.0.2"), till);
    // A name dialled is sent as SNI and decides, whatever the address.
    assert_eq!(pin_at(v4, "till.local"), till);
    drop(server);
    let fixed = Running::start(&["serve", "--site", s(&site), "--listen", "127.0.0.1:0", "--server", "till"]);
    // Dialled at 127.0.0.1, which only `server` names: the client refuses till's certificate,
    // which shows it was presented.
    let refused = pinset_testkit::client::handshake(&config, fixed.addr, "127.0.0.1").expect_err("till's names");
    assert!(
        format!("{refused:?}").contains("till.local"),
        "--server till did not present till's certificate: {refused:?}"
    );
    assert_eq!(pin_at(fixed.addr, "till.local"), till);
}

/// The suite `openssl s_client` negotiates with these arguments.
fn negotiated(server: &Running, site: &Path, args: &[&str]) -> String {
    let ca = ca_pem(site);
    let addr = server.addr.to_string();
    let mut all = vec!["s_client", "-connect", &addr, "-CAfile", s(&ca), "-verify_return_error"];
    all.extend_from_slice(args);
    let out = std::process::Command::new("openssl")
        .args(&all)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("Cipher is"));
    let line = line.unwrap_or_else(|| panic!("no cipher in:\n{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    line.rsplit(' ').next().unwrap_or_default().to_string()
}

#[test]
fn the_server_picks_aes_128_gcm_over_the_clients_order_unless_the_client_puts_chacha20_first() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let www = t.path().join("www");
    std::fs::create_dir_all(&www).expect("www");
    let server = serve(&site, &["--static", s(&www)]);
    let aes256_first = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
    assert_eq!(negotiated(&server, &site, &["-tls1_3", "-ciphersuites", aes256_first]), "TLS_AES_128_GCM_SHA256");
    let chacha_first = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
    assert_eq!(negotiated(&server, &site, &["-tls1_3", "-ciphersuites", chacha_first]), "TLS_CHACHA20_POLY1305_SHA256");
    // A client offering only AES-256 still gets it.
    assert_eq!(
        negotiated(&server, &site, &["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"]),
        "TLS_AES_256_GCM_SHA384"
    );
    let tls12 = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
    assert_eq!(negotiated(&server, &site, &["-tls1_2", "-cipher", tls12]), "ECDHE-ECDSA-AES128-GCM-SHA256");
}

#[test]
fn a_client_refused_for_lacking_a_certificate_still_reads_why_after_sending_its_request() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let echo = Echo::start();
    let server = serve(&site, &["--upstream", &echo.url(), "--client-auth", "require"]);
    let config = pinset_testkit::client::client_trusting(&std::fs::read(ca_pem(&site)).expect("ca"), &["http/1.1"]);
    // TLS 1.3: the client is done with the handshake before the server has looked at its
    // (missing) certificate, and sends its request at once, then more of it once the
    // server has refused. A server that closed with those bytes unread would reset the
    // connection: the second write would fail and the alert be lost.
    let (mut tls, _) = pinset_testkit::client::handshake(&config, server.addr, "127.0.0.1").expect("handshake");
    let body = "x".repeat(8 * 1024);
    let head = format!("POST /till HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n", 2 * body.len());
    tls.write_all(head.as_bytes()).expect("write the request head");
    tls.write_all(body.as_bytes()).expect("write half the body");
    std::thread::sleep(Duration::from_millis(300));
    tls.write_all(body.as_bytes()).expect("the rest of the body is written after the refusal");
    let mut answer = Vec::new();
    let err = tls.read_to_end(&mut answer).expect_err("refused");
    assert_eq!(
        pinset_testkit::client::rustls_error(&err),
        Some(&rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)),
        "{err}"
    );
}
