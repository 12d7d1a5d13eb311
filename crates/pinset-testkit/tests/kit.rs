//! The kit's own servers behave as documented, each shown against a real client on
//! loopback: the trickle server trickles, the silent one stays silent and closes when
//! dropped, the closed port refuses, the canned TLS server sends exactly its canned answer
//! (short bodies, redirects, ALPN), the TLS 1.0/1.1 s_server refuses a TLS 1.2+ client and
//! serves an old one, nghttpd speaks HTTP/2 only, and the hostile certificate carries its
//! control bytes in its DER.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pinset_testkit::client::{Session, client_trusting, connect, handshake};
use pinset_testkit::curl::curl;
use pinset_testkit::misbehave::{TLS_RECORD_HEADER, TRICKLE_BODY_HEAD, TRICKLE_HEAD};
use pinset_testkit::net::IO_TIMEOUT;
use pinset_testkit::openssl::{HOSTILE_CN, HOSTILE_DNS, HOSTILE_O, Impostor, hostile};
use pinset_testkit::pki::{Ca, Genuine, Identity, dns, ip};
use pinset_testkit::process::{both, openssl_ok, run_bounded, s, stdout, tempdir};
use pinset_testkit::rustls_server::{Close, Response};
use pinset_testkit::{ClosedPort, Nghttpd, OpensslServer, SilentServer, TlsServer, TrickleServer, V4, V6};
use rustls::ProtocolVersion;

/// A site root and its server for 127.0.0.1, ::1 and localhost.test.
fn genuine() -> (Ca, Identity) {
    let Genuine { root, leaf, .. } = Genuine::new(vec![ip("127.0.0.1"), ip("::1"), dns("localhost.test")]);
    (root, leaf)
}

/// A rustls client trusting `root` only, offering `alpn`.
fn trusting(root: &Ca, alpn: &[&str]) -> Arc<rustls::ClientConfig> {
    client_trusting(root.pem().as_bytes(), alpn)
}

/// Reads from `r` until `n` bytes have come, returning them and how many reads it took.
fn read_exactly(r: &mut impl Read, n: usize) -> (Vec<u8>, usize) {
    let mut got = Vec::new();
    let mut reads = 0;
    let mut buf = [0u8; 256];
    while got.len() < n {
        let k = r.read(&mut buf[..n - got.len()]).expect("read from the trickle server");
        assert!(k > 0, "the server closed after {got:?}");
        got.extend_from_slice(&buf[..k]);
        reads += 1;
    }
    (got, reads)
}

/// Waits until `f` holds, failing the test after the kit's I/O timeout.
fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while !f() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------
// TrickleServer, SilentServer, ClosedPort
// ---------------------------------------------------------------------------------------

#[test]
fn the_tcp_trickle_server_keeps_a_tls_handshake_waiting_one_byte_at_a_time() {
    let server = TrickleServer::tcp();
    let mut sock = TcpStream::connect(server.addr).expect("connect");
    sock.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");

    // The record header at once, then zero bytes one by one: never all three in one read.
    let (header, _) = read_exactly(&mut sock, TLS_RECORD_HEADER.len());
    assert_eq!(header, TLS_RECORD_HEADER);
    let (filler, reads) = read_exactly(&mut sock, 3);
    assert_eq!(filler, [0, 0, 0]);
    assert!(reads >= 2, "three bytes came in {reads} read: not trickled");
    assert_eq!(server.accepted(), 1);

    // A rustls client with a per-read timeout: every read brings a byte, the handshake
    // neither fails nor completes.
    let (root, _) = genuine();
    let config = trusting(&root, &[]);
    let mut sock = TcpStream::connect(server.addr).expect("connect");
    sock.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
    let mut conn = rustls::ClientConnection::new(config, "127.0.0.1".try_into().expect("name")).expect("client");
    while conn.wants_write() {
        conn.write_tls(&mut sock).expect("send the ClientHello");
    }
    let mut received = 0;
    for _ in 0..3 {
        let n = conn.read_tls(&mut sock).expect("a read brings bytes before the read timeout");
        assert!(n > 0, "the server closed");
        received += n;
        conn.process_new_packets().expect("a partial record is no error");
        assert!(conn.is_handshaking(), "the handshake cannot complete");
    }
    assert!(received > TLS_RECORD_HEADER.len(), "{received} bytes: the header and at least one more");
}

#[test]
fn the_tls_trickle_server_completes_the_handshake_then_trickles_the_response() {
    let (root, leaf) = genuine();
    for (prefix, what) in [(TRICKLE_HEAD, "head"), (TRICKLE_BODY_HEAD, "body")] {
        let server = TrickleServer::tls(leaf.server_config(&[]), prefix);
        let (mut tls, negotiated) =
            handshake(&trusting(&root, &[]), server.addr, "127.0.0.1").expect("the handshake completes");
        assert_eq!(negotiated.version, Some(ProtocolVersion::TLSv1_3), "{what}");
        tls.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
        let (head, _) = read_exactly(&mut tls, prefix.len());
        assert_eq!(head, prefix, "{what}: the prefix at once");
        let (filler, reads) = read_exactly(&mut tls, 3);
        assert_eq!(filler, b"aaa", "{what}");
        assert!(reads >= 2, "{what}: three bytes came in {reads} read: not trickled");
    }
}

#[test]
fn the_silent_server_accepts_never_sends_and_closes_when_dropped() {
    let server = SilentServer::start();
    let mut sock = TcpStream::connect(server.addr).expect("connect");
    sock.write_all(b"\x16\x03\x01 hello?").expect("the server takes what is sent");
    eventually("the silent server accepting", || server.accepted() == 1);
    sock.set_read_timeout(Some(Duration::from_millis(300))).expect("read timeout");
    let mut buf = [0u8; 16];
    let err = sock.read(&mut buf).expect_err("the silent server sends nothing");
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err:?}");

    drop(server);
    sock.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
    match sock.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("a dropped silent server closes its connections, got {other:?}"),
    }
}

#[test]
fn a_closed_port_refuses_connections_and_cannot_be_taken() {
    for ip in [V4, V6] {
        let port = ClosedPort::on(ip);
        let err = TcpStream::connect(port.addr).expect_err("nothing listens on a closed port");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{}: {err:?}", port.addr);
        let err = TcpListener::bind(port.addr).expect_err("the port is held");
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{}: {err:?}", port.addr);
        assert_eq!(port.url(), format!("https://{}/", port.authority()));
    }
}

// ---------------------------------------------------------------------------------------
// The PKI
// ---------------------------------------------------------------------------------------

/// Each impostor of [`Genuine`] is refused by a client trusting the genuine root, for the
/// reason it is made for, and the genuine server is accepted.
#[test]
fn each_genuine_impostor_is_refused_for_its_own_reason() {
    use rustls::CertificateError::{BadSignature, Expired, NotValidForName, NotValidForNameContext, UnknownIssuer};
    let site = Genuine::new(vec![ip("127.0.0.1")]);
    let config = client_trusting(site.root.pem().as_bytes(), &[]);
    let dial = |identity: &Identity| {
        let server = TlsServer::serve(&[identity.pem()], &identity.key_pem());
        connect(&config, server.addr, "127.0.0.1")
    };
    assert!(dial(&site.leaf).is_ok(), "the genuine server");
    // Same CA, another key: trust alone accepts it (a pin is what refuses it).
    let other_key = site.other_key();
    assert_ne!(other_key.pin(), site.leaf.pin());
    assert!(dial(&other_key).is_ok(), "another key under the genuine root passes trust");

    let reason = |identity: &Identity| match dial(identity) {
        Err(rustls::Error::InvalidCertificate(e)) => e,
        other => panic!("expected a certificate error, got {other:?}"),
    };
    assert_eq!(reason(&site.other_ca("evil root").1), UnknownIssuer);
    assert_eq!(reason(&site.self_signed_copy()), UnknownIssuer);
    assert_eq!(reason(&site.lookalike_root().1), BadSignature);
    assert!(matches!(reason(&site.expired()), Expired | rustls::CertificateError::ExpiredContext { .. }));
    assert!(matches!(reason(&site.wrong_name(vec![ip("127.0.0.9")])), NotValidForName | NotValidForNameContext { .. }));
}

// ---------------------------------------------------------------------------------------
// The canned rustls server
// ---------------------------------------------------------------------------------------

#[test]
fn the_tls_server_sends_its_canned_response_and_records_each_connection() {
    let (root, leaf) = genuine();
    let response = Response::redirect(302, "https://127.0.0.2:8443/next").header("X-Kit", "yes").body("moved");
    let server = TlsServer::builder(leaf.server_config(&[])).ip(V6).response(response).start();
    assert!(server.url().starts_with("https://[::1]:"), "{}", server.url());

    let Session { body, version, alpn, .. } =
        connect(&trusting(&root, &[]), server.addr, "::1").expect("the genuine server");
    assert_eq!(version, Some(ProtocolVersion::TLSv1_3));
    assert_eq!(alpn, None, "no ALPN offered by either side");
    assert_eq!(
        body,
        "HTTP/1.1 302 Found\r\nLocation: https://127.0.0.2:8443/next\r\nX-Kit: yes\r\nContent-Length: 5\r\n\
         Connection: close\r\n\r\nmoved"
    );
    let served = server.next_outcome().expect("served");
    assert_eq!(served.request, "GET / HTTP/1.0\r\n\r\n");
    assert_eq!(served.sni, None, "a client dialling an IP address sends no SNI");

    // A client that does not trust the certificate ends the handshake: recorded as such.
    let err = connect(&trusting(&Ca::root("other root"), &[]), server.addr, "::1").expect_err("untrusted");
    assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err:?}");
    let refused = server.next_outcome().expect_err("the handshake failed on the server too");
    assert!(refused.contains("alert"), "{refused}");

    // By name: SNI is recorded.
    let v4 = TlsServer::serve(&[leaf.pem()], &leaf.key_pem());
    connect(&trusting(&root, &[]), v4.addr, "localhost.test").expect("by DNS name");
    assert_eq!(v4.next_outcome().expect("served").sni.as_deref(), Some("localhost.test"));
}

#[test]
fn the_tls_server_offers_alpn_only_when_told() {
    let (root, leaf) = genuine();
    let h2 = TlsServer::builder(leaf.server_config(&[])).alpn(&["h2", "http/1.1"]).start();
    let plain = TlsServer::start(leaf.server_config(&[]), Response::ok("plain"));
    for (server, offered, expected) in [
        (&h2, &["h2", "http/1.1"][..], Some(&b"h2"[..])),
        (&h2, &["http/1.1"][..], Some(&b"http/1.1"[..])),
        (&h2, &[][..], None),
        (&plain, &["h2", "http/1.1"][..], None),
    ] {
        let session = connect(&trusting(&root, offered), server.addr, "127.0.0.1").expect("connect");
        assert_eq!(session.alpn.as_deref(), expected, "client offering {offered:?}");
        let served = server.next_outcome().expect("served");
        assert_eq!(served.alpn.as_deref(), expected, "the server's record, client offering {offered:?}");
    }
}

/// The short-body server: the head announces more than the body holds; a clean close or
/// an abrupt one.
#[test]
fn the_short_body_server_announces_more_than_it_sends() {
    let (root, leaf) = genuine();
    for (close, clean) in [(Close::Notify, true), (Close::Abrupt, false)] {
        let server = TlsServer::start(leaf.server_config(&[]), Response::short_body("half", 100).close(close));
        let (mut tls, _) = handshake(&trusting(&root, &[]), server.addr, "127.0.0.1").expect("handshake");
        tls.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
        let mut got = Vec::new();
        let end = tls.read_to_end(&mut got);
        let text = String::from_utf8_lossy(&got);
        let (head, body) = text.split_once("\r\n\r\n").expect("a whole head");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nContent-Length: 100"), "{head}");
        assert_eq!(body, "half", "{close:?}: 4 bytes of the 100 announced");
        match end {
            Ok(_) => assert!(clean, "{close:?}: the read ended cleanly"),
            Err(e) => {
                assert!(!clean, "{close:?}: {e}");
                assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "no close_notify: {e}");
            }
        }
    }
}

#[test]
fn the_greeting_server_writes_at_once_without_a_request() {
    let (root, leaf) = genuine();
    let server = TlsServer::start(leaf.server_config(&[]), Response::greeting("hello"));
    let (mut tls, _) = handshake(&trusting(&root, &[]), server.addr, "127.0.0.1").expect("handshake");
    let mut got = Vec::new();
    tls.read_to_end(&mut got).expect("the greeting, then close_notify");
    assert_eq!(got, b"hello");
    assert_eq!(server.next_outcome().expect("served").request, "", "no request read");
}

// ---------------------------------------------------------------------------------------
// openssl s_server: any version, TLS 1.0/1.1 only
// ---------------------------------------------------------------------------------------

#[test]
fn the_legacy_s_server_refuses_tls_1_2_and_serves_tls_1_0_and_1_1() {
    let tmp = tempdir();
    let (root, leaf) = genuine();
    let (cert, key) = leaf.write(tmp.path(), "leaf");
    let ca = root.write(tmp.path(), "root");
    let server = OpensslServer::legacy_tls(tmp.path(), V4, &cert, &key, &[]);

    // rustls speaks TLS 1.2 and 1.3 only: the server answers with a protocol_version alert.
    let err = connect(&trusting(&root, &[]), server.addr, "127.0.0.1").expect_err("a TLS 1.2+ client is refused");
    assert_eq!(err, rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion), "{err:?}");
    // So is curl held to TLS 1.2 or later.
    let out = curl(&["--cacert", s(&ca), "--capath", "/dev/null", "--tlsv1.2", &server.url()]);
    assert_eq!(out.status.code(), Some(35), "curl --tlsv1.2: a handshake failure:\n{}", both(&out));

    // The positive controls: curl allowed TLS 1.0/1.1 (and SHA-1 handshake signatures).
    for (max, protocol) in [("1.1", "Protocol  : TLSv1.1\n"), ("1.0", "Protocol  : TLSv1\n")] {
        let out = curl(&[
            "--cacert",
            s(&ca),
            "--capath",
            "/dev/null",
            "--tlsv1.0",
            "--tls-max",
            max,
            "--ciphers",
            "DEFAULT:@SECLEVEL=0",
            &server.url(),
        ]);
        assert!(out.status.success(), "curl --tls-max {max}:\n{}", both(&out));
        assert!(stdout(&out).contains(protocol), "curl --tls-max {max}: the status page names {protocol:?}");
    }

    // Dropped, the process is gone.
    let addr = server.addr;
    drop(server);
    assert!(TcpStream::connect(addr).is_err(), "s_server still listens on {addr} after the drop");
}

#[test]
fn an_openssl_impostor_copies_the_names_under_another_key_and_ca() {
    let tmp = tempdir();
    let (root, leaf) = genuine();
    let (cert, _) = leaf.write(tmp.path(), "genuine");
    let impostor = Impostor::forge(tmp.path(), &cert);
    let genuine_ca = root.write(tmp.path(), "root");
    let out = Command::new("openssl").args(["verify", "-CAfile", s(&genuine_ca), s(&impostor.cert)]).output();
    let out = out.expect("run openssl");
    assert!(!out.status.success(), "the impostor does not chain to the genuine root:\n{}", both(&out));
    let spki = |c: &std::path::Path| openssl_ok(&["x509", "-in", s(c), "-noout", "-pubkey"]);
    assert_ne!(spki(&impostor.cert), spki(&cert), "another key");

    let server = impostor.serve(tmp.path(), V4);
    let err = connect(&trusting(&root, &[]), server.addr, "127.0.0.1").expect_err("the impostor is not trusted");
    assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err:?}");
    let impostor_ca = std::fs::read(&impostor.ca).expect("impostor CA");
    let session = connect(&client_trusting(&impostor_ca, &[]), server.addr, "127.0.0.1").expect("under its CA");
    assert!(session.body.contains("s_server"), "{session:?}");
}

// ---------------------------------------------------------------------------------------
// nghttpd
// ---------------------------------------------------------------------------------------

#[test]
fn nghttpd_speaks_http2_only() {
    let tmp = tempdir();
    let (root, leaf) = genuine();
    let (cert, key) = leaf.write(tmp.path(), "leaf");
    let ca = root.write(tmp.path(), "root");
    let htdocs = tmp.path().join("htdocs");
    std::fs::create_dir(&htdocs).expect("htdocs");
    std::fs::write(htdocs.join("index.html"), "served over h2\n").expect("index.html");

    for ip in [V4, V6] {
        let server = Nghttpd::start(tmp.path(), ip, &cert, &key, &htdocs);
        let (_, negotiated) =
            handshake(&trusting(&root, &["h2", "http/1.1"]), server.addr, &ip.to_string()).expect("handshake");
        assert_eq!(negotiated.alpn.as_deref(), Some(&b"h2"[..]), "{ip}: nghttpd chooses h2");

        let fetch = |version: &str| {
            curl(&["--cacert", s(&ca), "--capath", "/dev/null", version, "-w", "\n%{http_version}", &server.url()])
        };
        let out = fetch("--http2");
        assert!(out.status.success(), "{ip}: curl --http2:\n{}", both(&out));
        assert_eq!(stdout(&out), "served over h2\n\n2", "{ip}: the file, over HTTP/2");
        let out = fetch("--http1.1");
        assert!(!out.status.success(), "{ip}: nghttpd answers no HTTP/1.1:\n{}", both(&out));
    }
}

// ---------------------------------------------------------------------------------------
// The hostile certificate
// ---------------------------------------------------------------------------------------

#[test]
fn the_hostile_certificate_carries_raw_control_bytes() {
    let tmp = tempdir();
    let root = Ca::root("kit root");
    let (root_cert, root_key) = {
        let key = tmp.path().join("root.key");
        std::fs::write(&key, root.issuer.key().serialize_pem()).expect("root key");
        (root.write(tmp.path(), "root"), key)
    };
    for (name, issuer) in [("self", None), ("issued", Some((root_cert.as_path(), root_key.as_path())))] {
        let (cert, _) = hostile(tmp.path(), name, issuer);
        // Read back by pinset's own reader, independently of the check openssl made.
        let pem = std::fs::read(&cert).expect("the certificate");
        let der = pinset::input::read_certificates("hostile", &pem).expect("a certificate").remove(0);
        for needle in [HOSTILE_CN, HOSTILE_O, HOSTILE_DNS] {
            assert!(der.windows(needle.len()).any(|w| w == needle.as_bytes()), "{name}: {needle:?} is in the DER");
        }
        for control in [b'\x1b', b'\x07', b'\r', b'\n'] {
            assert!(der.contains(&control), "{name}: byte {control:#04x} in the DER");
        }
        if issuer.is_some() {
            openssl_ok(&["verify", "-CAfile", s(&root_cert), s(&cert)]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Process helpers
// ---------------------------------------------------------------------------------------

#[test]
fn run_bounded_returns_both_streams_and_the_exit_code() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
    let out = run_bounded(cmd, IO_TIMEOUT, "sh");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(both(&out), "out\nerr\n");
}

#[test]
#[should_panic(expected = "did not finish")]
fn run_bounded_kills_a_program_that_outlives_its_bound() {
    let mut cmd = Command::new("sleep");
    cmd.arg("60");
    run_bounded(cmd, Duration::from_millis(200), "sleep 60");
}
