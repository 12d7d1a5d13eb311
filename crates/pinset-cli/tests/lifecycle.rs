//! A site's whole life on loopback, served by a running `pinset serve` that is never
//! restarted: init (a 20-day server certificate: time simulated by its dates) → release 1.0
//! (its OkHttp and curl exports, carrying the active and standby pins) → renew (same pins;
//! 1.0 still connects) → promote (1.0 still connects through its standby pin) → release
//! 2.0 → retire the old key → a promotion refused, naming 1.0 → retire release 1.0 →
//! promote again (2.0 connects; 1.0, retired, is cut off as its clients show). Each step is
//! checked with `pinset get` pinned as the release, and with the release's exported OkHttp
//! client (compiled against OkHttp 3) and curl script. Then a client certificate revoked
//! while the server runs is refused from the next handshake on.

mod common;
#[path = "common/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{both, pinset, run, s, tempdir};
use server::Running;

use common::OKHTTP_JARS;

const PASSWORD: &str = "correct horse";

fn pinset_ok(args: &[&str]) -> String {
    let out = pinset().args(args).output().expect("run pinset");
    assert!(out.status.success(), "pinset {args:?} failed:\n{}", both(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&pinset_ok(args)).expect("JSON")
}

/// The server certificate's serial in the plan.
fn plan_serial(site: &Path) -> String {
    let status = json(&["status", "--site", s(site), "--json"]);
    status["identities"][0]["serial"].as_str().expect("serial").to_string()
}

/// The app pins as `pinset pin --site` lists them.
fn app_pins(site: &Path) -> Vec<String> {
    pinset_ok(&["pin", "--site", s(site)])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// The serial of the certificate the server presents now, lower-case hex.
fn served_serial(addr: &str) -> String {
    let script =
        format!("openssl s_client -connect {addr} </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null");
    let out = run("sh", &["-c", &script]);
    String::from_utf8_lossy(&out.stdout).trim().trim_start_matches("serial=").to_ascii_lowercase()
}

/// Waits (bounded) until the running server presents the plan's certificate: it reloads
/// by itself when the site's files change.
fn wait_served(server: &Running, site: &Path) {
    let want = plan_serial(site);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = served_serial(&server.addr.to_string());
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "the server still presents {got:?}, not {want}:\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One release's clients, exported with `--release`: its OkHttp program (compiled) and
/// curl script, and its pins for `pinset get`.
struct ReleaseClients {
    version: String,
    okhttp_cp: String,
    curl: PathBuf,
    anchors: PathBuf,
    pins: Vec<String>,
    /// Whether `pinset get` checks it too: its `--ca`/`--pin` verifier refuses a
    /// self-signed server certificate (keyCertSign), which only `--site` accepts.
    by_get: bool,
}

impl ReleaseClients {
    fn export(site: &Path, dir: &Path, version: &str) -> ReleaseClients {
        for jar in OKHTTP_JARS {
            assert!(Path::new(jar).exists(), "{jar} is missing: install it with scripts/setup");
        }
        let root = dir.join(format!("release-{version}"));
        let okhttp = root.join("okhttp");
        let out = pinset()
            .args(["export", "okhttp", "--site", s(site), "--out", s(&okhttp), "--release", version])
            .output()
            .expect("export okhttp");
        assert!(out.status.success(), "export okhttp --release {version}: {}", both(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("Recorded release {version}")),
            "the export records the release: {}",
            both(&out)
        );
        let curl = root.join("curl");
        pinset_ok(&["export", "curl", "--site", s(site), "--out", s(&curl), "--release", version]);
        let classes = root.join("classes");
        let javac =
            run("javac", &["-d", s(&classes), "-cp", &OKHTTP_JARS.join(":"), s(&okhttp.join("PinsetPinning.java"))]);
        assert!(javac.status.success(), "javac: {}", both(&javac));
        // The anchors go on the classpath as a resource, as an app bundles them.
        let resources = root.join("resources");
        std::fs::create_dir_all(&resources).expect("mkdir");
        std::fs::copy(okhttp.join("pinset-anchors.pem"), resources.join("pinset-anchors.pem")).expect("copy anchors");
        let okhttp_cp = [s(&classes), s(&resources), OKHTTP_JARS[0], OKHTTP_JARS[1]].join(":");
        let release = json(&["release", "list", "--site", s(site), "--json"]);
        let pins =
            release.as_array().expect("list").iter().find(|r| r["version"] == version).expect("recorded")["pins"]
                .as_array()
                .expect("pins")
                .iter()
                .map(|p| p["pin"].as_str().expect("pin").to_string())
                .collect();
        ReleaseClients {
            version: version.into(),
            okhttp_cp,
            curl: curl.join("pinset-curl"),
            anchors: okhttp.join("pinset-anchors.pem"),
            pins,
            by_get: true,
        }
    }

    fn okhttp(&self, url: &str) -> Output {
        // The export's own `main`, which ends the JVM itself once it has printed.
        run("java", &["-cp", &self.okhttp_cp, "pinset.PinsetPinning", url])
    }

    fn curl(&self, url: &str) -> Output {
        run(s(&self.curl), &["-sS", url])
    }

    /// `pinset get` trusting only the release's anchors and pins.
    fn get(&self, url: &str) -> Output {
        let mut args = vec!["get".to_string(), url.to_string(), "--ca".into(), s(&self.anchors).to_string()];
        for p in &self.pins {
            args.push("--pin".into());
            args.push(format!("sha256/{p}"));
        }
        pinset().args(&args).output().expect("pinset get")
    }

    /// All three clients of the release reach the server.
    #[track_caller]
    fn assert_connect(&self, url: &str, step: &str) {
        let out = self.okhttp(url);
        assert!(
            out.status.success() && both(&out).contains("code=200"),
            "{step}: release {}'s OkHttp client was refused:\n{}",
            self.version,
            both(&out)
        );
        let out = self.curl(url);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("lifecycle page"),
            "{step}: release {}'s curl script was refused:\n{}",
            self.version,
            both(&out)
        );
        if !self.by_get {
            return;
        }
        let out = self.get(url);
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("lifecycle page"),
            "{step}: pinset get pinned as release {} was refused:\n{}",
            self.version,
            both(&out)
        );
    }
}

#[test]
fn a_site_lives_through_renewal_two_promotions_and_a_revocation_without_cutting_off_a_supported_release() {
    let t = tempdir();
    let site = t.path().join("shop");
    pinset_ok(&["init", s(&site), "--ip", "127.0.0.1", "--days", "20"]);
    let www = t.path().join("www");
    std::fs::create_dir_all(&www).expect("mkdir www");
    std::fs::write(www.join("index.html"), "lifecycle page\n").expect("write page");
    let server = Running::start(&[
        "serve",
        "--site",
        s(&site),
        "--listen",
        "127.0.0.1:0",
        "--static",
        s(&www),
        "--client-auth",
        "optional",
    ]);
    let url = server.url("/");

    // Release 1.0 ships the active and the standby pin.
    let pins_at_start = app_pins(&site);
    assert_eq!(pins_at_start.len(), 2, "active and standby: {pins_at_start:?}");
    let v1 = ReleaseClients::export(&site, t.path(), "1.0");
    assert_eq!(v1.pins, pins_at_start);
    v1.assert_connect(&url, "release 1.0");

    // Renewal: due (20 days left), same key, same pins; 1.0 still connects.
    let before = plan_serial(&site);
    let renew = pinset_ok(&["renew", "--site", s(&site)]);
    assert!(renew.contains("Renewed server \"server\""), "{renew}");
    assert_ne!(plan_serial(&site), before);
    assert_eq!(app_pins(&site), pins_at_start, "renewal changes no pin");
    wait_served(&server, &site);
    v1.assert_connect(&url, "after renewal");
    let again = pinset_ok(&["renew", "--site", s(&site)]);
    assert!(again.contains("Nothing to renew"), "renewal is idempotent: {again}");

    // Promotion: the standby root (which 1.0 carries) issues the servers now.
    let promote = pinset_ok(&["rotate", "promote", "--site", s(&site)]);
    assert!(promote.contains("1.0: connects"), "{promote}");
    wait_served(&server, &site);
    v1.assert_connect(&url, "after the first promotion");
    let status = json(&["status", "--site", s(&site), "--json"]);
    let roles: Vec<&str> =
        status["anchors"].as_array().expect("anchors").iter().map(|a| a["role"].as_str().unwrap_or("")).collect();
    assert_eq!(roles, ["active", "standby", "retiring"], "the old root stays as retiring");

    // Release 2.0 carries the new active, the new standby and the retiring pin.
    let v2 = ReleaseClients::export(&site, t.path(), "2.0");
    assert_eq!(v2.pins.len(), 3, "{:?}", v2.pins);
    assert!(v2.pins.contains(&pins_at_start[1]) && v2.pins.contains(&pins_at_start[0]));
    // The export itself carries the retiring pin, and the retiring root as an anchor.
    let java = std::fs::read_to_string(t.path().join("release-2.0/okhttp/PinsetPinning.java")).expect("read export");
    assert!(java.contains(&format!("\"sha256/{}\", // retiring key of authority", pins_at_start[0])), "{java}");
    let anchors = std::fs::read_to_string(&v2.anchors).expect("read anchors");
    assert_eq!(anchors.matches("BEGIN CERTIFICATE").count(), 3, "active, standby and retiring roots");
    v2.assert_connect(&url, "release 2.0");

    // The old key retires (1.0 carries the active pin, so it is safe); then a promotion
    // would cut 1.0 off: refused, naming it, and nothing changes.
    pinset_ok(&["rotate", "retire", "--site", s(&site)]);
    let serial = plan_serial(&site);
    let out = pinset().args(["rotate", "promote", "--site", s(&site)]).output().expect("promote");
    let text = both(&out);
    assert_eq!(out.status.code(), Some(2), "an unsafe promotion is refused:\n{text}");
    assert!(text.contains("release 1.0 carries") && !text.contains("release 2.0"), "names 1.0 only:\n{text}");
    assert!(text.contains("pinset release retire 1.0"), "{text}");
    assert_eq!(plan_serial(&site), serial, "a refused promotion changes nothing");
    v1.assert_connect(&url, "after the refused promotion");
    v2.assert_connect(&url, "after the refused promotion");

    // 1.0 is no longer supported: the second promotion goes ahead.
    pinset_ok(&["release", "retire", "1.0", "--site", s(&site)]);
    let promote = pinset_ok(&["rotate", "promote", "--site", s(&site)]);
    assert!(promote.contains("2.0: connects") && !promote.contains("1.0"), "{promote}");
    wait_served(&server, &site);
    v2.assert_connect(&url, "after the second promotion");
    // Release 1.0 is cut off, as its retirement allowed: the new root is neither among its
    // anchors nor its pins.
    let out = v1.okhttp(&url);
    assert_eq!(out.status.code(), Some(1), "release 1.0 still connects after the second promotion:\n{}", both(&out));
    assert!(both(&out).contains("PKIX path"), "{}", both(&out));
    assert!(!v1.get(&url).status.success(), "pinset get pinned as 1.0 connects after the second promotion");

    // A client certificate revoked while the server runs is refused from then on.
    let out = pinset()
        .args(["issue", "client", "till-1", "--site", s(&site)])
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .output()
        .expect("issue client");
    assert!(out.status.success(), "issue client: {}", both(&out));
    let p12 = site.join("pki/clients/till-1/till-1.p12");
    let with_cert = || {
        pinset()
            .args(["get", &url, "--site", s(&site), "--p12", s(&p12)])
            .env("PINSET_P12_PASSWORD", PASSWORD)
            .output()
            .expect("pinset get --p12")
    };
    let out = with_cert();
    assert!(out.status.success(), "till-1 before revocation: {}", both(&out));
    let pid = server.pid();
    pinset_ok(&["revoke", "till-1", "--site", s(&site), "--reason", "key-compromise"]);
    server.wait_for_log("revocation list names 1 certificate", 1, Duration::from_secs(30));
    let out = with_cert();
    assert!(!out.status.success(), "a revoked client was let in:\n{}", both(&out));
    v2.assert_connect(&url, "clients without a certificate, after the revocation");
    assert_eq!(server.pid(), pid, "the same server process throughout");
    let (status, _, log) = server.stop();
    assert!(status.success(), "{log}");
}

/// A self-signed site, where apps pin each server's keys and bundle each server's
/// certificates as anchors: the promotion serves the standby certificate release 1.0
/// already carries, so its OkHttp and curl clients connect without an update, by the
/// standby pin. (`pinset get --ca --pin` refuses a self-signed server certificate, so it
/// is not one of the clients here.)
#[test]
fn a_self_signed_site_promotes_its_server_key_without_an_app_update() {
    let t = tempdir();
    let site = t.path().join("hub");
    pinset_ok(&["init", s(&site), "--self-signed", "--ip", "127.0.0.1"]);
    let www = t.path().join("www");
    std::fs::create_dir_all(&www).expect("mkdir www");
    std::fs::write(www.join("index.html"), "lifecycle page\n").expect("write page");
    let server = Running::start(&["serve", "--site", s(&site), "--listen", "127.0.0.1:0", "--static", s(&www)]);
    let url = server.url("/");
    let mut v1 = ReleaseClients::export(&site, t.path(), "1.0");
    v1.by_get = false;
    v1.assert_connect(&url, "release 1.0");
    let standby = v1.pins[1].clone();
    let promote = pinset_ok(&["rotate", "promote", "--site", s(&site)]);
    assert!(promote.contains("server server") && promote.contains("1.0: connects"), "{promote}");
    wait_served(&server, &site);
    let pins = app_pins(&site);
    assert_eq!(pins[0], standby, "the standby key is active: {pins:?}");
    v1.assert_connect(&url, "after the promotion");
    let (status, _, log) = server.stop();
    assert!(status.success(), "{log}");
}
