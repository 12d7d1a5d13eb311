//! The `curl`, `node`, `go`, `python` and `rust` exports run, as exported, by the real
//! clients (curl, Node.js, the Go toolchain, CPython, and a reqwest program built with cargo
//! around the exported Rust module) against real `openssl s_server` processes on loopback
//! only (127.0.0.1 and ::1).
//!
//! Each export must reach the site's own server over IPv4 and IPv6, and refuse an impostor
//! (the genuine certificate's subject and SANs, another key, another CA) twice over: first
//! with a trust error, the impostor's CA being unknown; then, once the client has been told
//! to trust the impostor's CA, with a pin error. That second refusal is what proves the pin
//! check: the chain itself is trusted then, as a negative control shows with `openssl verify`
//! and a curl given the same anchors but no pins. After the plan's last pin day the same
//! trusted impostor is accepted (pins expired) while an untrusted one is still refused
//! (anchors enforced): that proves the expiry logic.
//!
//! The one change a test makes to an export: it appends the impostor CA's PEM to the exported
//! `pinset-anchors.pem`, which is how a client "has been told to trust" it. The code is never
//! edited. The Go and Rust exports are built after that change, since they embed the file.
//!
//! None of them falls back to cleartext: an `http://` URL of the site's own address is
//! refused without a connection, and so is the `http://` redirect the genuine server answers
//! with (a plain HTTP server there counts the connections it gets: none).

mod common;
#[path = "common/exported.rs"]
mod exported;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{loopback_site, openssl_ok, pinset, run, run_bounded, s, tempdir};
use pinset_testkit::curl::curl;
use pinset_testkit::net::Loopback;
use pinset_testkit::openssl::Impostor;
use pinset_testkit::rustls_server::{Response, TlsServer};
use pinset_testkit::site::{ca_pem, server_files};
use pinset_testkit::{OpensslServer, V4, V6};

/// Bound on one run of an exported client (a Go build included).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// What every export prints when the pins refuse a server (OkHttp's wording).
const PIN_FAILURE: &str = "Certificate pinning failure";

/// A client platform whose export runs here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Curl,
    Node,
    Go,
    Python,
    Rust,
}

impl Client {
    const ALL: [Client; 5] = [Client::Curl, Client::Node, Client::Go, Client::Python, Client::Rust];

    /// The `pinset export` target.
    fn target(self) -> &'static str {
        match self {
            Client::Curl => "curl",
            Client::Node => "node",
            Client::Go => "go",
            Client::Python => "python",
            Client::Rust => "rust",
        }
    }

    /// The program the export needs, and the argument that makes it print its version.
    fn program(self) -> (&'static str, &'static str) {
        match self {
            Client::Curl => ("curl", "--version"),
            Client::Node => ("node", "--version"),
            Client::Go => ("go", "version"),
            Client::Python => ("python3", "--version"),
            Client::Rust => (env!("CARGO"), "--version"),
        }
    }

    /// What the client says when a chain does not lead to one of its anchors (never a pin
    /// failure: the pins are not looked at then).
    fn trust_error(self) -> &'static str {
        match self {
            Client::Curl => "does not chain to an anchor",
            Client::Node => "unable to verify the first certificate",
            Client::Go => "certificate signed by unknown authority",
            Client::Python => "CERTIFICATE_VERIFY_FAILED",
            Client::Rust => "does not lead to a trusted anchor",
        }
    }

    /// What the client says when the pins refuse a server.
    fn pin_failure(self) -> &'static str {
        match self {
            // pinset-tls's report, the same as the `pinset` tool's.
            Client::Rust => "certificate pinning failure",
            _ => PIN_FAILURE,
        }
    }

    /// The exit code of a refusal by pin, and by trust.
    fn refusal_codes(self) -> (i32, i32) {
        match self {
            // curl's own: CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_PEER_FAILED_VERIFICATION.
            Client::Curl => (90, 60),
            _ => (1, 1),
        }
    }
}

/// Fails the test, saying how to install it, when the program `client` runs on is missing.
fn require(client: Client) {
    let (program, version) = client.program();
    let out = run(program, &[version]);
    assert!(
        out.status.success(),
        "{program} {version} failed (install it with scripts/setup):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An export of one target, written by `pinset export`, and how to run it.
struct Exported {
    client: Client,
    /// The export folder.
    out: PathBuf,
    /// The Go command, or the Rust program, built from the export.
    go_binary: Option<PathBuf>,
}

impl Exported {
    /// `pinset export TARGET --site SITE --out DIR/TARGET`; Go's command is built right away.
    fn new(client: Client, site: &Path, dir: &Path) -> Exported {
        require(client);
        let out = dir.join(client.target());
        let res =
            pinset().args(["export", client.target(), "--site", s(site), "--out", s(&out)]).output().expect("pinset");
        assert!(
            res.status.success(),
            "pinset export {} failed:\n{}",
            client.target(),
            String::from_utf8_lossy(&res.stderr)
        );
        let mut export = Exported { client, out, go_binary: None };
        export.build();
        export
    }

    /// The exported anchors file.
    fn anchors(&self) -> PathBuf {
        self.out.join("pinset-anchors.pem")
    }

    /// Tells the client to trust `ca` as well: its PEM appended to the exported anchors, the
    /// one change these tests make to an export (then Go's command is built again).
    fn trust(&mut self, ca: &Path) {
        let mut anchors = std::fs::read_to_string(self.anchors()).expect("read the exported anchors");
        anchors.push_str(&std::fs::read_to_string(ca).expect("read the impostor CA"));
        std::fs::write(self.anchors(), anchors).expect("write the exported anchors");
        self.build();
    }

    /// Go: `go build ./cmd/pinset-get` in the export folder; Rust: a reqwest program around
    /// the exported module, built with cargo ([`build_rust`]).
    fn build(&mut self) {
        if self.client == Client::Rust {
            self.go_binary = Some(build_rust(&self.out));
            return;
        }
        if self.client != Client::Go {
            return;
        }
        let binary = self.out.with_file_name(format!("pinset-get-{}", u8::from(self.go_binary.is_some())));
        let mut cmd = exported::go_command(&self.out);
        cmd.args(["build", "-o", s(&binary), "./cmd/pinset-get"]);
        let out = run_bounded(cmd, CLIENT_TIMEOUT, "go build ./cmd/pinset-get");
        assert!(out.status.success(), "go build of the export failed:\n{}", String::from_utf8_lossy(&out.stderr));
        self.go_binary = Some(binary);
    }

    /// Runs the exported code against `url`: its own command-line entry, unchanged.
    fn fetch(&self, url: &str) -> Output {
        let mut cmd = match self.client {
            Client::Curl => {
                let mut cmd = Command::new(self.out.join("pinset-curl"));
                cmd.args(["-sS", url]);
                cmd
            }
            Client::Node => {
                let mut cmd = Command::new("node");
                cmd.arg(self.out.join("pinset-pinning.js")).arg(url);
                cmd
            }
            Client::Go | Client::Rust => {
                let mut cmd = Command::new(self.go_binary.as_ref().expect("built"));
                cmd.arg(url);
                cmd
            }
            Client::Python => {
                let mut cmd = Command::new("python3");
                // -I: no PYTHON* variables, no user site-packages; standard library only.
                cmd.arg("-I").arg(self.out.join("pinset_pinning.py")).arg(url);
                cmd
            }
        };
        // The clients connect directly; a proxy variable of the environment must not matter.
        for var in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY"] {
            cmd.env_remove(var);
        }
        run_bounded(cmd, CLIENT_TIMEOUT, &format!("the {} export on {url}", self.client.target()))
    }

    /// Fails unless the fetch of `server` succeeded with s_server's status page.
    #[track_caller]
    fn assert_fetches(&self, server: &OpensslServer, what: &str) {
        let out = self.fetch(&server.url());
        let (stdout, stderr) = texts(&out);
        assert!(
            out.status.success() && stdout.contains("s_server"),
            "{} export, {what} ({}): expected s_server's page\n--- exit: {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
            self.client.target(),
            server.url(),
            out.status.code(),
        );
    }

    /// Fails unless the fetch of `server` was refused by the trust check (no pin error).
    #[track_caller]
    fn assert_refused_by_trust(&self, server: &OpensslServer, what: &str) {
        let out = self.fetch(&server.url());
        let (stdout, stderr) = texts(&out);
        let context = format!(
            "{} export, {what} ({})\n--- exit: {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
            self.client.target(),
            server.url(),
            out.status.code()
        );
        assert_eq!(out.status.code(), Some(self.client.refusal_codes().1), "exit code of a trust refusal: {context}");
        assert!(!stdout.contains("s_server"), "no body from a refused server: {context}");
        assert!(stderr.contains(self.client.trust_error()), "expected a trust error: {context}");
        assert!(!stderr.contains(self.client.pin_failure()), "a trust error, not a pin error: {context}");
    }

    /// Fails unless the fetch of `server` was refused by the pin check, with a report naming
    /// the key `seen` and every pin `expected`.
    #[track_caller]
    fn assert_refused_by_pin(&self, server: &OpensslServer, seen: &str, expected: &[String], what: &str) {
        let out = self.fetch(&server.url());
        let (stdout, stderr) = texts(&out);
        let context = format!(
            "{} export, {what} ({})\n--- exit: {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
            self.client.target(),
            server.url(),
            out.status.code()
        );
        assert_eq!(out.status.code(), Some(self.client.refusal_codes().0), "exit code of a pin refusal: {context}");
        assert!(!stdout.contains("s_server"), "no body from a refused server: {context}");
        assert!(stderr.contains(self.client.pin_failure()), "expected a pin error: {context}");
        assert!(!stderr.contains(self.client.trust_error()), "a pin error, not a trust error: {context}");
        assert!(stderr.contains(seen), "the report names the impostor's key {seen}: {context}");
        for pin in expected {
            assert!(stderr.contains(pin.as_str()), "the report names the pinned key {pin}: {context}");
        }
    }
}

/// The program the Rust tests run: the exported module, compiled in as an app compiles it,
/// and a `main` that GETs its argument with `pinset_pinning::client()`, printing the body, or
/// the error and its sources (pinset's report among them) and exit 1.
const RUST_MAIN: &str = r#"#[path = "../export/pinset_pinning.rs"]
mod pinset_pinning;

use std::error::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let url = std::env::args().nth(1).expect("usage: pinset-get URL");
    let result: Result<String, pinset_pinning::Error> = async {
        Ok(pinset_pinning::client()?.get(&url).send().await?.error_for_status()?.text().await?)
    }
    .await;
    match result {
        Ok(body) => {
            print!("{body}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            let mut text = err.to_string();
            let mut source = err.source();
            while let Some(e) = source {
                text.push_str(&format!(": {e}"));
                source = e.source();
            }
            eprintln!("{url}: {text}");
            if let Some(report) = report(err.as_ref()) {
                eprint!("{report}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// pinset's report, as pinset-tls's reqwest example finds it among the error's sources.
fn report(err: &(dyn Error + 'static)) -> Option<pinset_tls::VerifyError> {
    if let Some(report) = err.downcast_ref::<rustls::Error>().and_then(pinset_tls::VerifyError::from_rustls) {
        return Some(report.clone());
    }
    let wrapped = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
    if let Some(report) = wrapped.and_then(|inner| report(inner)) {
        return Some(report);
    }
    err.source().and_then(report)
}
"#;

/// Builds [`RUST_MAIN`] around the Rust export in `export` (its `pinset_pinning.rs` and the
/// `pinset-anchors.pem` it includes) with cargo, offline, as a package of its own beside the
/// export, against this repository's `pinset-tls` and with its `Cargo.lock`; the build goes
/// to cargo's target folder of this test run, so the dependencies compiled for the workspace
/// are reused. Returns the program.
fn build_rust(export: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().expect("the repository root");
    let package = export.with_file_name(format!(
        "rust-client-{}",
        export.file_name().and_then(|n| n.to_str()).expect("export folder name")
    ));
    // A program name of its own: every package's program lands in the same target/debug/.
    let bin = format!("pinset-get-{:016x}", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        package.hash(&mut h);
        h.finish()
    });
    let link = package.join("export");
    std::fs::create_dir_all(package.join("src")).expect("create the Rust package");
    if !link.exists() {
        std::os::unix::fs::symlink(export, &link).expect("link the export into the package");
    }
    // The dependencies as pinset-tls's examples declare them, so the workspace's builds serve.
    let manifest = format!(
        r#"[package]
name = "pinset-export-client"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "{bin}"
path = "src/main.rs"

[dependencies]
pinset-tls = {{ path = "{root}/crates/pinset-tls" }}
rustls = {{ version = "0.23", default-features = false, features = ["aws_lc_rs", "std", "tls12", "logging"] }}
reqwest = {{ version = "0.12", default-features = false, features = ["rustls-tls-manual-roots-no-provider"] }}
tokio = {{ version = "1", default-features = false, features = ["rt", "net", "io-util", "macros", "time"] }}

[profile.dev.package."*"]
opt-level = 2

[workspace]
"#,
        root = root.display(),
        bin = bin
    );
    std::fs::write(package.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::copy(root.join("Cargo.lock"), package.join("Cargo.lock")).expect("copy Cargo.lock");
    std::fs::write(package.join("src/main.rs"), RUST_MAIN).expect("write main.rs");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("cargo's target folder").to_path_buf();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(&package).args(["build", "--offline", "--quiet", "--target-dir", s(&target)]);
    let out = run_bounded(cmd, Duration::from_secs(1200), "cargo build of the Rust export");
    assert!(out.status.success(), "cargo build of the Rust export failed:\n{}", String::from_utf8_lossy(&out.stderr));
    target.join("debug").join(bin)
}

fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The SPKI pin of a certificate, computed by openssl alone (docs/platforms.md's recipe).
fn cert_pin(cert: &Path) -> String {
    pipeline(
        "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
         | openssl dgst -sha256 -binary | openssl base64 -A",
        cert,
    )
}

/// The SPKI pin of a private key's public half, computed by openssl alone.
fn key_pin(key: &Path) -> String {
    pipeline("openssl pkey -in \"$1\" -pubout -outform der | openssl dgst -sha256 -binary | openssl base64 -A", key)
}

fn pipeline(script: &str, file: &Path) -> String {
    let out = run("bash", &["-c", &format!("set -o pipefail; {script}"), "bash", s(file)]);
    let pin = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success() && pin.len() == 44, "cannot compute the pin of {}: {pin:?}", file.display());
    pin
}

/// An impostor of the site's server, forged in a folder of its own under `dir`.
fn forge(dir: &Path, site: &Path) -> Impostor {
    let folder = dir.join("impostor");
    std::fs::create_dir_all(&folder).expect("create the impostor's folder");
    Impostor::forge(&folder, &server_files(site).0)
}

/// What apps pin.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pins {
    /// The CA's keys (`pinset init`'s default).
    Ca,
    /// The server's keys (`--pin leaf`).
    Leaf,
}

/// The pins `client`'s export of `site` must name in a refusal: curl carries the server's
/// own keys whatever the plan pins (it checks only the leaf).
fn expected_pins(client: Client, site: &Path, pins: Pins) -> Vec<String> {
    let (cert, _) = server_files(site);
    let standby_key = cert.with_file_name("standby.key");
    match (client, pins) {
        (_, Pins::Leaf) => vec![cert_pin(&cert), key_pin(&standby_key)],
        (Client::Curl, Pins::Ca) => vec![cert_pin(&cert)],
        (_, Pins::Ca) => vec![cert_pin(&ca_pem(site)), cert_pin(&site.join("pki/authority/ca-standby.pem"))],
    }
}

/// The whole story for one client: the genuine server is reached over IPv4 and IPv6; an
/// impostor is refused by trust; once its CA is trusted, it is refused by pin; the genuine
/// server is still reached.
fn reaches_the_site_and_refuses_an_impostor_by_its_pin(client: Client, pins: Pins) {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", if pins == Pins::Leaf { &["--pin", "leaf"] } else { &[] });
    let impostor = forge(tmp.path(), &site);
    let mut export = Exported::new(client, &site, tmp.path());
    let servers: Vec<(OpensslServer, OpensslServer)> = [V4, V6]
        .into_iter()
        .map(|ip| (OpensslServer::site(tmp.path(), &site, ip, &[]), impostor.serve(tmp.path(), ip)))
        .collect();

    for (genuine, fake) in &servers {
        export.assert_fetches(genuine, "the site's own server");
        export.assert_refused_by_trust(fake, "an impostor under a CA the client does not trust");
    }

    export.trust(&impostor.ca);
    let seen = cert_pin(&impostor.cert);
    let expected = expected_pins(client, &site, pins);
    for (genuine, fake) in &servers {
        export.assert_fetches(genuine, "the site's own server, the impostor CA trusted too");
        export.assert_refused_by_pin(fake, &seen, &expected, "an impostor under a CA the client trusts");
    }
}

/// After the plan's last pin day: anchors still enforced, pins not.
fn after_the_pins_expire_only_the_anchors_are_enforced(client: Client) {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", &[]);
    let plan_path = site.join("pinset.toml");
    let plan = std::fs::read_to_string(&plan_path).expect("read pinset.toml");
    // As testdata/regenerate does it: the plan's last pin day, here long past.
    let expired = plan.replacen("\npin = \"ca\"\n", "\npin = \"ca\"\npin_expiration = \"2020-01-01\"\n", 1);
    assert_ne!(expired, plan, "pinset.toml has no `pin = \"ca\"` line:\n{plan}");
    std::fs::write(&plan_path, expired).expect("write pinset.toml");

    let impostor = forge(tmp.path(), &site);
    let mut export = Exported::new(client, &site, tmp.path());
    let genuine = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let fake = impostor.serve(tmp.path(), V4);
    export.assert_fetches(&genuine, "the site's own server, pins expired");
    export.assert_refused_by_trust(&fake, "an impostor under a CA the client does not trust, pins expired");

    export.trust(&impostor.ca);
    export.assert_fetches(&genuine, "the site's own server, pins expired, the impostor CA trusted too");
    // An impostor made as in the pin tests, where it is refused by pin, is let through now:
    // the pins are no longer checked, only the anchors.
    export.assert_fetches(&fake, "an impostor under a CA the client trusts, pins expired");
}

#[test]
fn curl_export_reaches_the_site_and_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Curl, Pins::Ca);
}

#[test]
fn node_export_reaches_the_site_and_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Node, Pins::Ca);
}

#[test]
fn go_export_reaches_the_site_and_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Go, Pins::Ca);
}

#[test]
fn python_export_reaches_the_site_and_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Python, Pins::Ca);
}

#[test]
fn curl_export_of_a_leaf_pinned_site_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Curl, Pins::Leaf);
}

#[test]
fn node_export_of_a_leaf_pinned_site_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Node, Pins::Leaf);
}

#[test]
fn go_export_of_a_leaf_pinned_site_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Go, Pins::Leaf);
}

#[test]
fn python_export_of_a_leaf_pinned_site_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Python, Pins::Leaf);
}

#[test]
fn curl_export_after_the_pins_expire_enforces_only_the_anchors() {
    after_the_pins_expire_only_the_anchors_are_enforced(Client::Curl);
}

#[test]
fn node_export_after_the_pins_expire_enforces_only_the_anchors() {
    after_the_pins_expire_only_the_anchors_are_enforced(Client::Node);
}

#[test]
fn go_export_after_the_pins_expire_enforces_only_the_anchors() {
    after_the_pins_expire_only_the_anchors_are_enforced(Client::Go);
}

#[test]
fn python_export_after_the_pins_expire_enforces_only_the_anchors() {
    after_the_pins_expire_only_the_anchors_are_enforced(Client::Python);
}

/// The negative control of the pin tests: with the impostor CA appended, the exported anchors
/// alone accept the impostor (`openssl verify`, and curl given them as its only trust but no
/// pins), so what refuses it in those tests is the pin check.
#[test]
fn the_impostor_is_trusted_by_the_extended_anchors_alone() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", &[]);
    let impostor = forge(tmp.path(), &site);
    let mut export = Exported::new(Client::Curl, &site, tmp.path());
    let written = tmp.path().join("written-anchors.pem");
    std::fs::copy(export.anchors(), &written).expect("copy the anchors as exported");
    export.trust(&impostor.ca);
    let anchors = export.anchors();

    // openssl verify: the impostor's chain leads to an anchor and names 127.0.0.1.
    openssl_ok(&["verify", "-CAfile", s(&anchors), "-verify_ip", "127.0.0.1", s(&impostor.cert)]);

    for ip in [V4, V6] {
        let fake = impostor.serve(tmp.path(), ip);
        let curl = |anchors: &Path| curl(&["--cacert", s(anchors), "--capath", "/dev/null", &fake.url()]);
        // curl with the trust pinset-curl gives it, but no --pinnedpubkey: the impostor is served.
        let out = curl(&anchors);
        let (stdout, stderr) = texts(&out);
        assert!(
            out.status.success() && stdout.contains("s_server"),
            "curl with the extended anchors and no pins should accept the impostor at {}:\n{stderr}",
            fake.url()
        );
        // With the anchors as exported, the same curl refuses it: the appended CA is what
        // makes the impostor trusted.
        let out = curl(&written);
        assert_eq!(
            out.status.code(),
            Some(60),
            "curl with the site's anchors alone refuses the impostor at {}:\n{}",
            fake.url(),
            texts(&out).1
        );
    }
}

/// A host that is not one of the site's servers is refused before any connection (port 1 of
/// localhost: nothing listens there, and nothing is dialled).
#[test]
fn every_export_refuses_a_host_that_is_not_a_server_of_the_site() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", &[]);
    // The Rust export refuses such a host in the handshake (pinset-tls's `SiteVerifier`: "it is
    // not an address of site"), so it has dialled by then; the others check before.
    for client in Client::ALL.into_iter().filter(|c| *c != Client::Rust) {
        let export = Exported::new(client, &site, tmp.path());
        let out = export.fetch("https://localhost:1/");
        let (stdout, stderr) = texts(&out);
        assert!(!out.status.success(), "{client:?}: localhost is not the site's:\n{stdout}\n{stderr}");
        assert!(
            stderr.contains("localhost is not") && stderr.contains("site"),
            "{client:?} should say localhost is not a server of the site:\n{stderr}"
        );
        assert!(
            !stderr.contains("onnection refused") && !stderr.contains("ECONNREFUSED"),
            "{client:?} should refuse before dialling:\n{stderr}"
        );
    }
}

/// A plain HTTP server on 127.0.0.1, one of the site's addresses, that answers every
/// request with [`CLEARTEXT_BODY`] and counts the connections it gets.
fn cleartext_server() -> Loopback {
    Loopback::start(V4, |mut sock, _stop| {
        use std::io::{Read as _, Write as _};
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = write!(
            sock,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{CLEARTEXT_BODY}",
            CLEARTEXT_BODY.len()
        );
    })
}

/// What the cleartext server answers: a client that prints it fell back to cleartext.
const CLEARTEXT_BODY: &str = "served in cleartext";

/// An `http://` URL of the site's own address is refused without a connection, and a
/// redirect from the genuine server to it is not followed: the cleartext server is never
/// reached, and its answer never printed.
fn refuses_cleartext(client: Client) {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", &[]);
    let export = Exported::new(client, &site, tmp.path());
    let plain = cleartext_server();
    let http_url = format!("http://{}/", plain.addr());
    let chain = std::fs::read_to_string(site.join("pki/servers/server/chain.pem")).expect("chain.pem");
    let key = std::fs::read_to_string(server_files(&site).1).expect("key.pem");
    let genuine =
        TlsServer::start(pinset_testkit::pki::server_config(&[chain], &key), Response::redirect(302, &http_url));

    let out = export.fetch(&http_url);
    let (stdout, stderr) = texts(&out);
    let context = format!("{} export, {http_url}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}", client.target());
    assert!(!out.status.success(), "an http:// URL must fail: {context}");
    assert!(!stdout.contains(CLEARTEXT_BODY), "the cleartext answer was printed: {context}");
    assert_eq!(plain.accepted(), 0, "the client connected in cleartext: {context}");

    // The genuine server redirects to http://; curl follows redirects only when told (-L).
    let mut cmd_url = genuine.url();
    if client == Client::Curl {
        cmd_url = format!("-L {cmd_url}");
    }
    let out = match client {
        Client::Curl => {
            let mut cmd = Command::new(export.out.join("pinset-curl"));
            cmd.args(["-sS", "-L", &genuine.url()]);
            run_bounded(cmd, CLIENT_TIMEOUT, "pinset-curl -L")
        }
        _ => export.fetch(&genuine.url()),
    };
    let (stdout, stderr) = texts(&out);
    let context = format!(
        "{} export, {cmd_url} redirecting to {http_url}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
        client.target()
    );
    assert!(genuine.next_outcome().is_ok(), "the genuine server answered the redirect: {context}");
    assert!(!stdout.contains(CLEARTEXT_BODY), "the cleartext answer was printed: {context}");
    assert_eq!(plain.accepted(), 0, "the client followed the redirect to cleartext: {context}");
}

#[test]
fn curl_export_refuses_http_urls_and_redirects_to_http() {
    refuses_cleartext(Client::Curl);
}

#[test]
fn node_export_refuses_http_urls_and_redirects_to_http() {
    refuses_cleartext(Client::Node);
}

#[test]
fn go_export_refuses_http_urls_and_redirects_to_http() {
    refuses_cleartext(Client::Go);
}

#[test]
fn python_export_refuses_http_urls_and_redirects_to_http() {
    refuses_cleartext(Client::Python);
}

#[test]
fn rust_export_refuses_http_urls_and_redirects_to_http() {
    refuses_cleartext(Client::Rust);
}

#[test]
fn rust_export_reaches_the_site_and_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Rust, Pins::Ca);
}

#[test]
fn rust_export_of_a_leaf_pinned_site_refuses_an_impostor_by_its_pin() {
    reaches_the_site_and_refuses_an_impostor_by_its_pin(Client::Rust, Pins::Leaf);
}

#[test]
fn rust_export_after_the_pins_expire_enforces_only_the_anchors() {
    after_the_pins_expire_only_the_anchors_are_enforced(Client::Rust);
}
