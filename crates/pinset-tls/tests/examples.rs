//! Runs the examples `reqwest_client` and `tokio_rustls_client` as a user would, against
//! loopback rustls servers started here: the genuine server of a pinset site (exit 0, the
//! body printed) and an impostor with a self-signed certificate for the same address
//! (exit 1, pinset's report printed).
//!
//! `cargo test` compiles the examples but does not run them; this test finds their
//! binaries beside its own (`target/<profile>/deps/examples-…` →
//! `target/<profile>/examples/<name>`). A binary that is missing, or older than the sources
//! it is built from, fails the test with the command that builds it: a filtered run such
//! as `cargo test --test examples` does not rebuild examples, and testing a stale one would
//! prove nothing. (Building them from here is no way out: the running `cargo test` holds
//! the target folder's lock.)

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use pinset::plan::AuthorityMode;
use pinset::site::{InitOptions, ServerRequest};

const GENUINE_BODY: &str = "hello from the genuine server";
const IMPOSTOR_BODY: &str = "hello from an impostor";

/// The folder holding the example binaries of the profile this test was built with.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    // target/<profile>/deps/examples-<hash> → target/<profile>/examples
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    profile_dir.join("examples")
}

/// Newest modification time among the files that go into an example's binary.
fn newest_source(example: &str) -> SystemTime {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut visit = vec![
        crate_dir.join("examples").join(format!("{example}.rs")),
        crate_dir.join("Cargo.toml"),
        crate_dir.join("src"),
        crate_dir.join("../pinset/src"),
    ];
    while let Some(path) = visit.pop() {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                visit.push(entry.path());
            }
        } else if let Ok(m) = meta.modified() {
            newest = newest.max(m);
        }
    }
    newest
}

/// The example's binary, checked to exist and to be newer than its sources.
fn example_binary(example: &str) -> PathBuf {
    let bin = examples_dir().join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
    let build = "cargo build -p pinset-tls --examples (or run `cargo test -p pinset-tls` without a target filter)";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("no example binary at {}: build it with {build}", bin.display()));
    assert!(built >= newest_source(example), "{} is older than its sources: rebuild it with {build}", bin.display());
    bin
}

/// Runs an example, killing it if it has not finished after 60 s.
fn run_example(example: &str, site: &Path, url: &str) -> Output {
    let bin = example_binary(example);
    let mut child = Command::new(&bin)
        .arg(site)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("waiting for the example").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{example} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output of the example")
}

/// A loopback HTTPS server answering every request with `body`, in a background thread
/// (one thread per connection; it lives as long as the test process).
fn serve(config: rustls::ServerConfig, body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let config = Arc::new(config);
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                // A refused handshake (the impostor's fate) ends here with an error: fine.
                let _ = answer(config, sock, body);
            });
        }
    });
    addr
}

fn answer(config: Arc<rustls::ServerConfig>, sock: TcpStream, body: &str) -> std::io::Result<()> {
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    sock.set_write_timeout(Some(Duration::from_secs(10)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(response.as_bytes())?;
    tls.conn.send_close_notify();
    tls.flush()
}

/// A pinset site (private CA, apps pin the CA keys) whose server is 127.0.0.1, and that
/// server running.
fn genuine() -> (tempfile::TempDir, PathBuf, SocketAddr) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let site_dir = dir.path().join("site");
    let site = pinset::Site::init(
        &site_dir,
        InitOptions {
            name: Some("examples".into()),
            mode: AuthorityMode::Ca,
            pin: None,
            server: ServerRequest::new("server", vec![IpAddr::V4(Ipv4Addr::LOCALHOST)], vec![]),
        },
    )
    .expect("pinset site");
    let server = &site.plan.servers[0].active;
    let chain = std::fs::read(site.path(server.chain.as_deref().expect("chain"))).expect("chain.pem");
    let key = std::fs::read(site.path(&server.key)).expect("key.pem");
    let config = pinset_tls::server_config(&chain, &key).expect("server config");
    let addr = serve(config, GENUINE_BODY);
    (dir, site_dir, addr)
}

/// A server for the same address with a self-signed certificate of its own: what an
/// attacker on the local network can present.
fn impostor() -> SocketAddr {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("self-signed certificate");
    let config = pinset_tls::server_config(cert.pem().as_bytes(), signing_key.serialize_pem().as_bytes())
        .expect("impostor config");
    serve(config, IMPOSTOR_BODY)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check_genuine(example: &str, expect_in_stdout: &str) {
    let (_dir, site, addr) = genuine();
    let out = run_example(example, &site, &format!("https://{addr}/"));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{example} against the genuine server\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains(expect_in_stdout), "{example}: no {expect_in_stdout:?} in\n{stdout}");
    assert!(stdout.contains(GENUINE_BODY), "{example}: the body is missing from\n{stdout}");
}

fn check_impostor(example: &str) {
    let (_dir, site, _genuine) = genuine();
    let addr = impostor();
    let out = run_example(example, &site, &format!("https://{addr}/"));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{example} against an impostor\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.contains(IMPOSTOR_BODY), "{example} printed the impostor's answer:\n{stdout}");
    // pinset's report, not a bare rustls error: the kind, the chain seen, the pins expected.
    assert!(stderr.contains("trusted anchor"), "{example}: no pinset report in\n{stderr}");
    assert!(stderr.contains("Peer certificate chain:"), "{example}: no chain in the report\n{stderr}");
    assert!(stderr.contains("Pinned certificates for 127.0.0.1:"), "{example}: no pins in the report\n{stderr}");
    let site = pinset::Site::open(&site).expect("site");
    for pin in site.trust().expect("trust").app_pins() {
        assert!(stderr.contains(&format!("sha256/{}", pin.pin)), "{example}: pin {} not listed\n{stderr}", pin.pin);
    }
}

#[test]
fn reqwest_client_gets_the_genuine_server() {
    check_genuine("reqwest_client", "status: 200 OK");
}

#[test]
fn reqwest_client_refuses_an_impostor_with_pinsets_report() {
    check_impostor("reqwest_client");
}

#[test]
fn tokio_rustls_client_gets_the_genuine_server() {
    check_genuine("tokio_rustls_client", "HTTP/1.1 200 OK");
}

#[test]
fn tokio_rustls_client_refuses_an_impostor_with_pinsets_report() {
    check_impostor("tokio_rustls_client");
}
