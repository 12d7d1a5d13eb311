//! `pinset mitm` and `pinset testbed` against real clients on loopback: every client that
//! pins the site (pinset get, and every export that runs here) refuses every attack and
//! reaches the genuine server through the passthrough control; clients that do not pin
//! (curl trusting the harness CA, `openssl s_client` without verification, `curl -k` on the
//! testbed) are caught accepting impostors; cleartext is caught; a client trusting only
//! the site's CA refuses an untrusted forgery.
//!
//! The harness runs as the `pinset` binary with `--json` and is stopped with SIGINT, as a
//! person stops it with Ctrl-C; its verdicts are read from its output.

mod common;

#[path = "common/exported.rs"]
mod exported;

#[allow(dead_code)]
#[path = "common/snapshot.rs"]
mod snapshot;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{loopback_site, run, run_bounded, s, tempdir};
use exported::{Client, Exported};
use pinset_testkit::curl::curl;
use pinset_testkit::site::ca_pem;
use pinset_testkit::{OpensslServer, V4, V4_OTHER};
use serde_json::Value;

/// The attacks, in the order the harness plays them.
const ATTACKS: [&str; 8] = [
    "untrusted-ca",
    "trusted-ca",
    "cloned-ca",
    "self-signed-copy",
    "expired",
    "wrong-name",
    "tls12-only",
    "passthrough",
];

/// Bound on the harness's start and stop.
const HARNESS_TIMEOUT: Duration = Duration::from_secs(30);

fn pinset_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("pinset")
}

/// `pinset mitm` or `pinset testbed` running as a child, its stdout in a file.
struct Running {
    child: Option<Child>,
    out: PathBuf,
    err: PathBuf,
}

/// What a stopped run printed.
struct Finished {
    code: Option<i32>,
    lines: Vec<Value>,
    stderr: String,
}

impl Finished {
    /// The objects of `kind` (`verdict`, `summary`, `result`, `endpoint`).
    fn of(&self, kind: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["type"] == kind).collect()
    }
}

impl Running {
    /// `pinset ARGS --json`, once its first line is out.
    fn start(dir: &Path, name: &str, args: &[&str]) -> Running {
        let out = dir.join(format!("{name}.out"));
        let err = dir.join(format!("{name}.err"));
        let child = Command::new(pinset_bin())
            .args(args)
            .arg("--json")
            .env_remove("PINSET_SITE")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("run pinset");
        let running = Running { child: Some(child), out, err };
        let deadline = Instant::now() + HARNESS_TIMEOUT;
        while !running.text().contains('\n') {
            assert!(Instant::now() < deadline, "{name} did not start:\n{}", running.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        running
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn lines(&self) -> Vec<Value> {
        self.text().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
    }

    /// Waits until `n` verdicts are out (a verdict is printed when reached, which may be
    /// a moment after the client is done).
    fn wait_verdicts(&self, n: usize) {
        let deadline = Instant::now() + HARNESS_TIMEOUT;
        while self.lines().iter().filter(|l| l["type"] == "verdict").count() < n {
            assert!(Instant::now() < deadline, "fewer than {n} verdicts:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT, as Ctrl-C, then its exit and everything it printed.
    fn stop(mut self) -> Finished {
        let mut child = self.child.take().expect("running");
        // bash's own kill: no procps needed.
        let _ = run("bash", &["-c", "kill -INT \"$1\"", "bash", &child.id().to_string()]);
        let deadline = Instant::now() + HARNESS_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("pinset did not stop on SIGINT:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr();
        assert!(!stderr.contains("panicked"), "pinset panicked:\n{stderr}");
        Finished { code: status.code(), lines: self.lines(), stderr }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A harness: `pinset mitm --listen 127.0.0.1:0 --ca-dir DIR/ca --timeout 3 ARGS`, and the
/// address it listens on.
fn mitm(dir: &Path, args: &[&str]) -> (Running, SocketAddr) {
    let ca_dir = dir.join("ca");
    let mut all = vec!["mitm", "--listen", "127.0.0.1:0", "--ca-dir", s(&ca_dir), "--timeout", "3"];
    all.extend_from_slice(args);
    let running = Running::start(dir, "mitm", &all);
    let start = running.lines().into_iter().next().expect("a start line");
    assert_eq!(start["type"], "start", "{start}");
    let addr = start["listen"].as_str().expect("listen").parse().expect("an address");
    (running, addr)
}

fn url(addr: SocketAddr) -> String {
    format!("https://{addr}/")
}

/// `pinset get URL --site SITE`.
fn pinset_get(url: &str, site: &Path) -> Output {
    run(s(&pinset_bin()), &["get", url, "--site", s(site), "--timeout", "20"])
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A site on loopback and its genuine server (`openssl s_server -www` on 127.0.0.1).
fn site_and_server(dir: &Path) -> (PathBuf, OpensslServer) {
    let site = loopback_site(dir, "site", &[]);
    let server = OpensslServer::site(dir, &site, V4, &[]);
    (site, server)
}

/// Snapshot lines: the verdicts ordered by attack (or endpoint), then the summary rows and
/// the result, one JSON object a line.
fn snapshot_lines(finished: &Finished, key: &str, order: &[&str]) -> String {
    let mut verdicts = finished.of("verdict");
    verdicts.sort_by_key(|v| order.iter().position(|o| v[key] == *o).unwrap_or(usize::MAX));
    let rest = finished.lines.iter().filter(|l| l["type"] == "summary" || l["type"] == "result");
    verdicts.into_iter().chain(rest).map(|v| format!("{v}\n")).collect()
}

fn settings(dir: &Path) -> insta::Settings {
    let mut settings = snapshot::settings(dir);
    settings.add_filter(r#""port":\d+"#, r#""port":[PORT]"#);
    settings
}

#[test]
fn pinset_get_refuses_every_attack_and_reaches_the_server_through_the_control() {
    let tmp = tempdir();
    let (site, server) = site_and_server(tmp.path());
    let (harness, addr) = mitm(tmp.path(), &["--reverse", &server.authority(), "--site", s(&site)]);
    for attack in ATTACKS {
        let out = pinset_get(&url(addr), &site);
        if attack == "passthrough" {
            assert_eq!(out.status.code(), Some(0), "the control reaches the server:\n{}", text(&out));
            assert!(text(&out).contains("s_server"), "the genuine page:\n{}", text(&out));
        } else {
            assert_eq!(out.status.code(), Some(1), "pinset get refuses {attack}:\n{}", text(&out));
            assert!(text(&out).contains("refused:"), "{attack}: {}", text(&out));
        }
    }
    harness.wait_verdicts(ATTACKS.len());
    let finished = harness.stop();
    assert_eq!(finished.code, Some(0), "nothing accepted: exit 0\n{}", finished.stderr);
    let verdicts = finished.of("verdict");
    let played: Vec<&str> = verdicts.iter().map(|v| v["attack"].as_str().expect("attack")).collect();
    assert_eq!(played, ATTACKS, "every attack in turn");
    for v in &verdicts {
        let expected = if v["attack"] == "passthrough" { "connected" } else { "rejected" };
        assert_eq!(v["verdict"], expected, "{v}");
    }
    settings(tmp.path()).bind(|| {
        insta::assert_snapshot!("mitm_pinset_get_json", snapshot_lines(&finished, "attack", &ATTACKS));
    });
}

/// One client's export, run through a harness playing each attack alone.
fn export_refuses_every_attack(client: Client) {
    let tmp = tempdir();
    let (site, server) = site_and_server(tmp.path());
    let export = Exported::new(&pinset_bin(), client, &site, tmp.path());
    for attack in ATTACKS {
        let dir = tmp.path().join(attack);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let (harness, addr) = mitm(&dir, &["--reverse", &server.authority(), "--attack", attack]);
        let out = export.fetch(&url(addr));
        if attack == "passthrough" {
            assert!(export.reached(&out), "{client:?} reaches the server through the control:\n{}", text(&out));
        } else {
            assert!(!out.status.success(), "{client:?} refuses {attack}:\n{}", text(&out));
            assert!(!export.reached(&out), "{client:?} got no page under {attack}:\n{}", text(&out));
        }
        harness.wait_verdicts(1);
        let finished = harness.stop();
        let verdicts = finished.of("verdict");
        let expected = if attack == "passthrough" { "connected" } else { "rejected" };
        for v in &verdicts {
            assert_eq!(v["attack"], attack, "{v}");
            assert_eq!(v["verdict"], expected, "{client:?} under {attack}: {v}");
        }
        assert_eq!(finished.code, Some(0), "{client:?} under {attack}: exit 0\n{}", finished.stderr);
    }
}

#[test]
fn curl_export_refuses_every_attack() {
    export_refuses_every_attack(Client::Curl);
}

#[test]
fn node_export_refuses_every_attack() {
    export_refuses_every_attack(Client::Node);
}

#[test]
fn go_export_refuses_every_attack() {
    export_refuses_every_attack(Client::Go);
}

#[test]
fn python_export_refuses_every_attack() {
    export_refuses_every_attack(Client::Python);
}

#[test]
fn java_export_refuses_every_attack() {
    export_refuses_every_attack(Client::Java);
}

#[test]
fn okhttp_export_refuses_every_attack() {
    export_refuses_every_attack(Client::OkHttp);
}

#[test]
fn cleartext_through_the_proxy_or_to_the_stand_in_is_reported() {
    let tmp = tempdir();
    let (site, server) = site_and_server(tmp.path());
    let (proxy, addr) = mitm(tmp.path(), &["--site", s(&site)]);
    let proxy_url = format!("http://{addr}");
    // A client following an http:// link to the site's address, through the proxy.
    let link = format!("http://127.0.0.1:{}/status?token=secret", server.addr.port());
    // (Not the kit's curl, which turns proxies off.)
    let proxied = |args: &[&str]| run("curl", &[&["-q", "-sS", "--max-time", "30", "-x", &proxy_url], args].concat());
    let out = proxied(&[&link]);
    assert!(out.status.success(), "curl through the proxy:\n{}", text(&out));
    // A tunnel to port 8443 that starts in cleartext.
    let out = proxied(&["--proxytunnel", "http://127.0.0.1:8443/plain"]);
    assert!(out.status.success(), "curl through a tunnel:\n{}", text(&out));
    proxy.wait_verdicts(2);
    let finished = proxy.stop();
    assert_eq!(finished.code, Some(1), "cleartext fails the run:\n{}", finished.stderr);
    let verdicts = finished.of("verdict");
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    for v in &verdicts {
        assert_eq!(v["verdict"], "cleartext", "{v}");
        assert_eq!(v["host"], "127.0.0.1", "{v}");
    }
    assert_eq!(verdicts[0]["port"], server.addr.port());
    assert_eq!(
        verdicts[0]["sent"]["first_line"],
        "GET http://127.0.0.1:".to_string() + &server.addr.port().to_string() + "/status?token=secret HTTP/1.1"
    );
    assert_eq!(verdicts[1]["port"], 8443);
    assert_eq!(verdicts[1]["sent"]["first_line"], "GET /plain HTTP/1.1");
    for v in &verdicts {
        assert!(!v.to_string().contains("User-Agent"), "no header is kept: {v}");
    }

    // The reverse stand-in expects TLS: a plain request is cleartext too.
    let dir = tmp.path().join("reverse");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (reverse, addr) = mitm(&dir, &["--reverse", &server.authority()]);
    let out = curl(&[&format!("http://{addr}/")]);
    assert!(out.status.success(), "{}", text(&out));
    reverse.wait_verdicts(1);
    let finished = reverse.stop();
    assert_eq!(finished.code, Some(1));
    assert_eq!(finished.of("verdict")[0]["verdict"], "cleartext");
}

#[test]
fn the_proxy_attacks_the_site_s_addresses_and_tunnels_other_hosts_untouched() {
    let tmp = tempdir();
    let (site, server) = site_and_server(tmp.path());
    // 127.0.0.2 is no address of the site: its traffic goes through untouched.
    let other = OpensslServer::site(tmp.path(), &site, V4_OTHER, &[]);
    let (proxy, addr) = mitm(tmp.path(), &["--site", s(&site), "--attack", "trusted-ca"]);
    let proxy_url = format!("http://{addr}");
    let ca = tmp.path().join("ca/ca.pem");
    let out = run("curl", &["-q", "-sS", "--max-time", "30", "-x", &proxy_url, "--cacert", s(&ca), &server.url()]);
    assert!(out.status.success() && text(&out).contains("intercepted"), "forged through CONNECT:\n{}", text(&out));
    let out = run("curl", &["-q", "-sS", "--max-time", "30", "-x", &proxy_url, "-k", &other.url()]);
    assert!(out.status.success() && text(&out).contains("s_server"), "tunnelled untouched:\n{}", text(&out));
    proxy.wait_verdicts(1);
    let finished = proxy.stop();
    assert_eq!(finished.code, Some(1), "{}", finished.stderr);
    let verdicts = finished.of("verdict");
    assert_eq!(verdicts.len(), 1, "only the site's address is attacked: {verdicts:?}");
    assert_eq!(verdicts[0]["verdict"], "accepted-impostor");
    assert_eq!(verdicts[0]["host"], "127.0.0.1");
    assert_eq!(verdicts[0]["port"], server.addr.port());
}

#[test]
fn curl_trusting_the_harness_ca_without_a_pin_accepts_the_impostor() {
    let tmp = tempdir();
    let (_site, server) = site_and_server(tmp.path());
    let (harness, addr) =
        mitm(tmp.path(), &["--reverse", &server.authority(), "--attack", "trusted-ca", "--attack", "expired"]);
    let ca = tmp.path().join("ca/ca.pem");
    let curl_ca = |u: &str| curl(&["--cacert", s(&ca), "--capath", "/dev/null", u]);
    let out = curl_ca(&url(addr));
    assert!(out.status.success(), "curl accepts the harness CA's forgery:\n{}", text(&out));
    assert!(text(&out).contains("intercepted"), "{}", text(&out));
    // The same curl refuses the harness CA's expired certificate: not every forgery passes.
    let out = curl_ca(&url(addr));
    assert_eq!(out.status.code(), Some(60), "{}", text(&out));
    harness.wait_verdicts(2);
    let finished = harness.stop();
    assert_eq!(finished.code, Some(1), "an accepted impostor fails the run:\n{}", finished.stderr);
    let verdicts = finished.of("verdict");
    assert_eq!(verdicts[0]["attack"], "trusted-ca");
    assert_eq!(verdicts[0]["verdict"], "accepted-impostor", "{}", verdicts[0]);
    assert_eq!(verdicts[0]["sent"]["first_line"], "GET / HTTP/1.1");
    assert_eq!(verdicts[1]["attack"], "expired");
    assert_eq!(verdicts[1]["verdict"], "rejected", "{}", verdicts[1]);
    assert_eq!(verdicts[1]["alert"], "certificate_expired", "{}", verdicts[1]);
    let result = finished.of("result");
    assert_eq!(result[0]["accepted_impostor"], 1);
    assert_eq!(result[0]["passed"], false);
}

#[test]
fn openssl_s_client_without_verification_accepts_the_impostor() {
    let tmp = tempdir();
    let (_site, server) = site_and_server(tmp.path());
    let (harness, addr) = mitm(tmp.path(), &["--reverse", &server.authority(), "--attack", "untrusted-ca"]);
    let mut cmd = Command::new("bash");
    cmd.args([
        "-c",
        "printf 'GET /secret HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect \"$1\" -quiet",
        "bash",
        &addr.to_string(),
    ]);
    let out = run_bounded(cmd, HARNESS_TIMEOUT, "openssl s_client");
    assert!(text(&out).contains("intercepted"), "s_client got the harness's answer:\n{}", text(&out));
    harness.wait_verdicts(1);
    let finished = harness.stop();
    assert_eq!(finished.code, Some(1));
    let v = &finished.of("verdict")[0];
    assert_eq!(v["verdict"], "accepted-impostor", "{v}");
    assert_eq!(v["sent"]["first_line"], "GET /secret HTTP/1.0");
    assert_eq!(v["sent"]["bytes"], 24);
}

#[test]
fn python_ssl_with_only_the_site_ca_refuses_an_untrusted_forgery() {
    let tmp = tempdir();
    let (site, server) = site_and_server(tmp.path());
    let (harness, addr) = mitm(tmp.path(), &["--reverse", &server.authority(), "--attack", "untrusted-ca"]);
    let script = "import socket, ssl, sys\n\
ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
sock = socket.create_connection(('127.0.0.1', int(sys.argv[2])))\n\
tls = ctx.wrap_socket(sock, server_hostname='127.0.0.1')\n\
tls.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n\
print(tls.recv(100))\n";
    let out = run("python3", &["-I", "-c", script, s(&ca_pem(&site)), &addr.port().to_string()]);
    assert!(!out.status.success(), "python refuses the forgery:\n{}", text(&out));
    assert!(text(&out).contains("CERTIFICATE_VERIFY_FAILED"), "{}", text(&out));
    harness.wait_verdicts(1);
    let finished = harness.stop();
    assert_eq!(finished.code, Some(0));
    let v = &finished.of("verdict")[0];
    assert_eq!(v["verdict"], "rejected", "{v}");
    assert_eq!(v["how"], "alert", "{v}");
    assert_eq!(v["alert"], "unknown_ca", "{v}");
}

/// The catalogue, in order.
const ENDPOINTS: [&str; 14] = [
    "control",
    "expired",
    "not-yet-valid",
    "wrong-ip",
    "wrong-name",
    "self-signed",
    "untrusted-root",
    "impostor-ca-name",
    "incomplete-chain",
    "rsa-1024",
    "sha1-signature",
    "ca-as-leaf",
    "client-auth-only",
    "tls10-11-only",
];

fn testbed(dir: &Path, site: &Path) -> (Running, Vec<(String, u16)>) {
    let running =
        Running::start(dir, "testbed", &["testbed", "--site", s(site), "--first-port", "0", "--timeout", "3"]);
    let deadline = Instant::now() + HARNESS_TIMEOUT;
    while running.lines().iter().filter(|l| l["type"] == "endpoint").count() < ENDPOINTS.len() {
        assert!(Instant::now() < deadline, "the catalogue is incomplete:\n{}\n{}", running.text(), running.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    let endpoints = running
        .lines()
        .iter()
        .filter(|l| l["type"] == "endpoint")
        .map(|l| (l["name"].as_str().expect("name").to_string(), l["port"].as_u64().expect("port") as u16))
        .collect();
    (running, endpoints)
}

#[test]
fn the_testbed_is_refused_by_pinset_get_except_its_control() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", &[]);
    let (running, endpoints) = testbed(tmp.path(), &site);
    let names: Vec<&str> = endpoints.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ENDPOINTS);
    let catalogue: String =
        running.lines().iter().filter(|l| l["type"] == "endpoint").map(|l| format!("{l}\n")).collect();
    for (name, port) in &endpoints {
        let out = pinset_get(&format!("https://127.0.0.1:{port}/"), &site);
        if name == "control" {
            assert_eq!(out.status.code(), Some(0), "the control is accepted:\n{}", text(&out));
            assert!(text(&out).contains("pinset testbed: control"), "{}", text(&out));
        } else {
            assert!(!out.status.success(), "pinset get refuses {name}:\n{}", text(&out));
            assert!(!text(&out).contains("pinset testbed:"), "{name}: no body:\n{}", text(&out));
        }
    }
    running.wait_verdicts(ENDPOINTS.len());
    let finished = running.stop();
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    for v in finished.of("verdict") {
        let expected = if v["endpoint"] == "control" { "connected" } else { "rejected" };
        assert_eq!(v["verdict"], expected, "{v}");
    }
    settings(tmp.path()).bind(|| {
        insta::assert_snapshot!("testbed_catalogue_json", catalogue);
        insta::assert_snapshot!("testbed_pinset_get_json", snapshot_lines(&finished, "endpoint", &ENDPOINTS));
    });
}

#[test]
fn curl_k_on_the_testbed_is_reported_as_accepting_impostors() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "site", &[]);
    let (running, endpoints) = testbed(tmp.path(), &site);
    for (_, port) in &endpoints {
        let _ = curl(&["-k", &format!("https://127.0.0.1:{port}/")]);
    }
    running.wait_verdicts(ENDPOINTS.len());
    let finished = running.stop();
    assert_eq!(finished.code, Some(1), "curl -k accepted impostors: exit 1\n{}", finished.stderr);
    for v in finished.of("verdict") {
        let expected = match v["endpoint"].as_str() {
            Some("control") => "connected",
            // curl's OpenSSL will not speak TLS 1.0 either: refused for the version, not by -k.
            Some("tls10-11-only") => "rejected",
            _ => "accepted-impostor",
        };
        assert_eq!(v["verdict"], expected, "{v}");
    }
    assert_eq!(finished.of("result")[0]["accepted_impostor"], ENDPOINTS.len() - 2);
}
