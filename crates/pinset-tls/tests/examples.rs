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

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use pinset_testkit::V4;
use pinset_testkit::pki::{Spec, ip};
use pinset_testkit::process::run_bounded;
use pinset_testkit::rustls_server::{Response, TlsServer};
use pinset_testkit::site::LibrarySite;

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
    let mut cmd = Command::new(example_binary(example));
    cmd.arg(site).arg(url);
    run_bounded(cmd, Duration::from_secs(60), example)
}

/// A pinset site (private CA, apps pin the CA keys) whose server is 127.0.0.1, and that
/// server running.
fn genuine() -> (LibrarySite, TlsServer) {
    let site = LibrarySite::new("examples", vec![V4]);
    let server = TlsServer::start(site.server_config(), Response::ok(GENUINE_BODY));
    (site, server)
}

/// A server for the same address with a self-signed certificate of its own: what an
/// attacker on the local network can present.
fn impostor() -> TlsServer {
    let forged = Spec::server("impostor", vec![ip("127.0.0.1")]).self_signed();
    TlsServer::start(forged.server_config(&[]), Response::ok(IMPOSTOR_BODY))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check_genuine(example: &str, expect_in_stdout: &str) {
    let (site, server) = genuine();
    let out = run_example(example, &site.path, &server.url());
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
    let (site, _genuine) = genuine();
    let server = impostor();
    let out = run_example(example, &site.path, &server.url());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{example} against an impostor\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.contains(IMPOSTOR_BODY), "{example} printed the impostor's answer:\n{stdout}");
    // pinset's report, not a bare rustls error: the kind, the chain seen, the pins expected.
    assert!(stderr.contains("trusted anchor"), "{example}: no pinset report in\n{stderr}");
    assert!(stderr.contains("Peer certificate chain:"), "{example}: no chain in the report\n{stderr}");
    assert!(stderr.contains("Pinned certificates for 127.0.0.1:"), "{example}: no pins in the report\n{stderr}");
    for pin in site.site.trust().expect("trust").app_pins() {
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
