//! `pinset check` against real servers on loopback, one in each state a fleet's server can
//! be in: healthy, 10 days left, expired, the wrong name, an unknown CA, a key the site
//! does not pin, the standby key, a closed port, a port that accepts TCP and never
//! answers, TLS 1.0 only. Each gives its row and its monitoring exit code; the human
//! table and `--json` are pinned as snapshots. Then `--watch --metrics`: its metrics pass
//! `promtool check metrics`, the example alert rules pass `promtool check rules` and their
//! unit tests, and a real Prometheus server scrapes it and answers for the series.

mod common;

#[path = "common/snapshot.rs"]
mod snapshot;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_contains, assert_exit, pinset, s, stdout, tempdir};
use pinset_testkit::pki::{Ca, Spec, days_from_now, ip};
use pinset_testkit::s_server::OpensslServer;
use pinset_testkit::{ClosedPort, SilentServer, TlsServer, V4};
use serde_json::Value;

/// The site: a private CA whose apps pin the server's own keys (active and standby), so a
/// certificate from the site's CA for another key is a pin mismatch.
fn leaf_site(tmp: &Path) -> PathBuf {
    common::init_site(tmp, "shop", &["--ip", "127.0.0.1", "--pin", "leaf"])
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Every state, each on a server of its own.
struct Fleet {
    healthy: TlsServer,
    ten_days: TlsServer,
    expired: TlsServer,
    wrong_name: TlsServer,
    unknown_ca: TlsServer,
    pin_mismatch: TlsServer,
    standby: TlsServer,
    closed: ClosedPort,
    silent: SilentServer,
    legacy: OpensslServer,
}

impl Fleet {
    fn start(tmp: &Path, site: &Path) -> Fleet {
        let dir = site.join("pki/servers/server");
        let ca = Ca::from_files(&site.join("pki/authority/ca.pem"), &site.join("pki/authority/ca.key"));
        let active = read(&dir.join("key.pem"));
        let standby = read(&dir.join("standby.key"));
        let spec = Spec::server("127.0.0.1", vec![ip("127.0.0.1")]);
        let serve = |id: pinset_testkit::Identity| TlsServer::serve(&[id.pem(), ca.pem()], &id.key_pem());
        Fleet {
            healthy: TlsServer::serve(&[read(&dir.join("chain.pem"))], &active),
            ten_days: serve(spec.clone().valid(days_from_now(-1), days_from_now(10)).signed_for_key(&ca, &active)),
            expired: serve(spec.clone().expired().signed_for_key(&ca, &active)),
            wrong_name: serve(spec.clone().named(vec![ip("127.0.0.2")]).signed_for_key(&ca, &active)),
            unknown_ca: {
                let other = Ca::root("another CA");
                let id = spec.signed_by(&other);
                TlsServer::serve(&[id.pem(), other.pem()], &id.key_pem())
            },
            pin_mismatch: serve(spec.signed_by(&ca)),
            standby: serve(spec.signed_for_key(&ca, &standby)),
            closed: ClosedPort::new(),
            silent: SilentServer::start(),
            legacy: OpensslServer::legacy_tls(tmp, V4, &dir.join("cert.pem"), &dir.join("key.pem"), &[]),
        }
    }

    /// (state, address) in the order of the table.
    fn targets(&self) -> Vec<(&'static str, String)> {
        vec![
            ("healthy", self.healthy.authority()),
            ("ten_days", self.ten_days.authority()),
            ("expired", self.expired.authority()),
            ("wrong_name", self.wrong_name.authority()),
            ("unknown_ca", self.unknown_ca.authority()),
            ("pin_mismatch", self.pin_mismatch.authority()),
            ("standby", self.standby.authority()),
            ("closed", self.closed.authority()),
            ("silent", self.silent.authority()),
            ("legacy", self.legacy.authority()),
        ]
    }
}

/// What each state's row must say: status, verify reason (or probe failure), pin kind,
/// and the exit code of a check of that target alone.
const EXPECTED: [(&str, &str, &str, &str, i32); 10] = [
    ("healthy", "ok", "ok", "active", 0),
    ("ten_days", "critical", "ok", "active", 2),
    ("expired", "critical", "expired", "active", 2),
    ("wrong_name", "critical", "name-mismatch", "active", 2),
    ("unknown_ca", "critical", "unknown-issuer", "none", 2),
    ("pin_mismatch", "critical", "pin-mismatch", "none", 2),
    ("standby", "warning", "ok", "standby", 1),
    ("closed", "unknown", "connect", "-", 3),
    ("silent", "unknown", "timeout", "-", 3),
    ("legacy", "critical", "legacy-tls", "-", 2),
];

fn check(site: &Path, targets: &[&str], extra: &[&str]) -> std::process::Output {
    pinset()
        .args(["check", "--site", s(site), "--timeout", "2s"])
        .args(extra)
        .args(targets)
        .output()
        .expect("run pinset check")
}

#[test]
fn every_state_gives_its_row_and_exit_code() {
    let t = tempdir();
    let site = leaf_site(t.path());
    let fleet = Fleet::start(t.path(), &site);
    let targets = fleet.targets();
    let all: Vec<&str> = targets.iter().map(|(_, a)| a.as_str()).collect();

    let out = check(&site, &all, &["--json"]);
    assert_exit(&out, 2, "check of every state (the worst is critical)");
    let json: Value = serde_json::from_str(&stdout(&out)).expect("check --json is JSON");
    assert_eq!(json["status"], "critical");
    assert_eq!(json["counts"]["ok"], 1);
    assert_eq!(json["counts"]["warning"], 1);
    assert_eq!(json["counts"]["critical"], 6);
    assert_eq!(json["counts"]["unknown"], 2);
    let rows = json["targets"].as_array().expect("targets");
    assert_eq!(rows.len(), EXPECTED.len());
    for ((state, status, reason, pin, _), row) in EXPECTED.iter().zip(rows) {
        let what = format!("{state}: {row:#}");
        assert_eq!(row["status"], *status, "{what}");
        let got_reason = row["verify"]["reason"].as_str().or(row["failure"]["kind"].as_str());
        assert_eq!(got_reason, Some(*reason), "{what}");
        assert_eq!(row["pin"]["kind"].as_str().unwrap_or("-"), *pin, "{what}");
        assert_eq!(row["reachable"], !["closed", "silent", "legacy"].contains(state), "{what}");
    }
    // The dates: 10 days left counts from the leaf; an expired leaf is reported with the
    // chain that would validate, anchor included, whose expiry is the leaf's.
    let row = |name: &str| &rows[EXPECTED.iter().position(|e| e.0 == name).expect("state")];
    assert!(matches!(row("ten_days")["days_left"].as_i64(), Some(9 | 10)), "{:#}", row("ten_days"));
    let expired = row("expired");
    assert!(expired["days_left"].as_i64().is_some_and(|d| d < 0), "{expired:#}");
    let chain = expired["validated_chain"].as_array().expect("validated chain");
    assert_eq!(chain.len(), 2, "leaf and the site's anchor: {expired:#}");
    assert_eq!(chain[1]["position"], "anchor");
    assert_eq!(expired["validated_expiry"], expired["presented_expiry"]);
    // The healthy chain's earliest expiry is the leaf's; the site CA's own is reported too.
    let healthy = row("healthy");
    assert_eq!(healthy["validated_chain"].as_array().map(Vec::len), Some(2));
    assert_eq!(healthy["name_match"], true);
    assert_eq!(row("wrong_name")["name_match"], false);
    assert!(row("unknown_ca")["validated_chain"].as_array().is_some_and(Vec::is_empty));
    assert!(row("unknown_ca")["presented_expiry"].is_string(), "reported although refused");
    assert_eq!(json["sites"][0]["anchors"][0]["role"], "active");
    assert_eq!(row("legacy")["failure"]["kind"], "legacy-tls");

    // Each state alone: its exit code.
    for ((state, address), (_, _, _, _, code)) in targets.iter().zip(EXPECTED) {
        let out = check(&site, &[address], &[]);
        assert_exit(&out, code, &format!("check of the {state} server alone"));
    }
    // Thresholds move 10 days left from critical to warning, and to ok.
    let ten = targets[1].1.as_str();
    assert_exit(&check(&site, &[ten], &["--crit", "7"]), 1, "10 days left, --crit 7");
    assert_exit(&check(&site, &[ten], &["--warn", "7", "--crit", "3"]), 0, "10 days left, --warn 7");
}

#[test]
fn table_and_json_snapshots() {
    let t = tempdir();
    let site = leaf_site(t.path());
    let fleet = Fleet::start(t.path(), &site);
    let targets = fleet.targets();
    let all: Vec<&str> = targets.iter().map(|(_, a)| a.as_str()).collect();
    let mut settings = snapshot::settings(t.path());
    // Days left, right-aligned after a date in the table; in problems; durations.
    settings.add_filter(r"\[DATE\] +-?\d+ ", "[DATE] [DAYS] ");
    settings.add_filter(r"in -?\d+ days", "in [N] days");
    settings.add_filter(r"EXPIRED \d+ days ago", "EXPIRED [N] days ago");
    settings.add_filter(r#""duration_ms": \d+"#, r#""duration_ms": [MS]"#);
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
    let out = check(&site, &all, &[]);
    settings.bind(|| insta::assert_snapshot!("check_table", snapshot::run_text(&out)));
    // JSON of the states whose every field is deterministic once masked.
    let some = [targets[0].1.as_str(), targets[2].1.as_str(), targets[7].1.as_str()];
    let out = check(&site, &some, &["--json"]);
    settings.bind(|| insta::assert_snapshot!("check_json", snapshot::run_text(&out)));
}

#[test]
fn targets_file_site_addresses_and_bad_input() {
    let t = tempdir();
    let site = leaf_site(t.path());
    let fleet = Fleet::start(t.path(), &site);
    let inventory = t.path().join("fleet.txt");
    std::fs::write(
        &inventory,
        format!(
            "# two shops\n{} north-1 shop\n{} south-2 shop # expired\n",
            fleet.healthy.authority(),
            fleet.expired.authority()
        ),
    )
    .expect("write the inventory");
    let out = pinset().args(["check", "--targets", s(&inventory), "--json"]).output().expect("run");
    assert_exit(&out, 2, "inventory with an expired server");
    let json: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["targets"][0]["name"], "north-1");
    assert_eq!(json["targets"][0]["site"], "shop");
    assert_eq!(json["targets"][1]["verify"]["reason"], "expired");

    // No target: every address of the site, on --port.
    let port = fleet.healthy.addr.port().to_string();
    let out = pinset().args(["check", "--site", s(&site), "--port", &port]).output().expect("run");
    assert_exit(&out, 0, "the site's own addresses");
    assert_contains(&stdout(&out), &[&format!("127.0.0.1:{port}"), "OK"], "site addresses");

    // Errors are UNKNOWN (3), with the value and a hint.
    let bad = t.path().join("bad.txt");
    std::fs::write(&bad, "127.0.0.1:1\nhttp://127.0.0.1:2/\n").expect("write");
    let out = pinset().args(["check", "--targets", s(&bad)]).output().expect("run");
    assert_exit(&out, 3, "a bad inventory line");
    assert_contains(&common::stderr(&out), &["bad.txt, line 2", "https://"], "bad line");
    let out = pinset().current_dir(t.path()).args(["check"]).output().expect("run");
    assert_exit(&out, 3, "nothing to check");
    assert_contains(&common::stderr(&out), &["hint:", "--targets FILE"], "no targets");
    let out = pinset().args(["check", "--site", s(&site), "--warn", "5", "--crit", "9"]).output().expect("run");
    assert_exit(&out, 3, "--crit above --warn");
    let out = pinset().args(["check", "--bogus"]).output().expect("run");
    assert_exit(&out, 3, "an unknown flag of check");
    let out = pinset().args(["check", "--site", s(&site), "--timeout", "5 parsecs"]).output().expect("run");
    assert_exit(&out, 3, "a bad duration");
    // Other commands keep their codes.
    let out = pinset().args(["pin", "--bogus"]).output().expect("run");
    assert_exit(&out, 2, "an unknown flag of pin");
}

/// `pinset check --watch --metrics 127.0.0.1:0 …`, running; killed when dropped.
struct Watch {
    child: Child,
    /// Where it serves metrics.
    base: String,
}

impl Watch {
    fn start(site: &Path, targets: &[&str]) -> Watch {
        let bin = assert_cmd::cargo::cargo_bin("pinset");
        let mut child = Command::new(bin)
            .args(["check", "--site", s(site), "--timeout", "2s", "--watch", "--interval", "1s"])
            .args(["--metrics", "127.0.0.1:0"])
            .args(targets)
            .env_remove("PINSET_SITE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pinset check --watch");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let base = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split("/metrics").next())
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|| panic!("no metrics address in {first:?}"));
        // Keep reading the round lines so the pipe never fills.
        std::thread::spawn(move || for _ in lines {});
        Watch { child, base }
    }

    /// The metrics once a round has ended (bounded wait).
    fn metrics(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = pinset_testkit::curl::curl(&[&format!("{}/metrics", self.base)]);
            let text = stdout(&out);
            if text.contains("probe_success") {
                return text;
            }
            assert!(Instant::now() < deadline, "no round's metrics within 60 s: {text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn promtool(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new("promtool");
    cmd.args(args);
    match stdin {
        Some(text) => {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run promtool (install it with scripts/setup: Debian's prometheus)");
            std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), text.as_bytes()).expect("write");
            child.wait_with_output().expect("promtool")
        }
        None => cmd.output().expect("run promtool (install it with scripts/setup: Debian's prometheus)"),
    }
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

#[test]
fn watch_serves_metrics_that_promtool_accepts_and_stops_on_sigterm() {
    let t = tempdir();
    let site = leaf_site(t.path());
    let fleet = Fleet::start(t.path(), &site);
    let (healthy, standby, closed) = (fleet.healthy.authority(), fleet.standby.authority(), fleet.closed.authority());
    let mut watch = Watch::start(&site, &[&healthy, &standby, &closed]);
    let text = watch.metrics();
    let out = promtool(&["check", "metrics"], Some(&text));
    assert!(out.status.success(), "promtool check metrics:\n{}\n{text}", common::both(&out));
    assert_contains(
        &text,
        &[
            &format!("probe_success{{target=\"{healthy}\",site=\"shop\"}} 1"),
            &format!("probe_success{{target=\"{closed}\",site=\"shop\"}} 0"),
            &format!("pinset_pin_match{{target=\"{standby}\",site=\"shop\",kind=\"standby\"}} 1"),
            &format!("pinset_pin_match{{target=\"{healthy}\",site=\"shop\",kind=\"active\"}} 1"),
            &format!("pinset_verify_ok{{target=\"{healthy}\",site=\"shop\",reason=\"ok\"}} 1"),
            &format!("pinset_verify_ok{{target=\"{closed}\",site=\"shop\",reason=\"connect\"}} 0"),
            &format!("probe_tls_version_info{{target=\"{healthy}\",site=\"shop\",version=\"TLS 1.3\"}} 1"),
            &format!("pinset_check_status{{target=\"{standby}\",site=\"shop\"}} 1"),
            "probe_ssl_earliest_cert_expiry{",
            "probe_ssl_last_chain_expiry_timestamp_seconds{",
            "pinset_anchor_expiry_timestamp_seconds{site=\"shop\",anchor=\"ca\",role=\"active\"}",
            "pinset_check_duration_seconds ",
            "# EOF",
        ],
        "metrics",
    );
    // SIGTERM ends the watch cleanly.
    let pid = watch.child.id().to_string();
    let out = Command::new("kill").args(["-TERM", &pid]).output().expect("kill -TERM");
    assert!(out.status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = watch.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "pinset check --watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "a watch stopped by SIGTERM exits 0");
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let rules = repo_file("monitoring/pinset-alerts.yml");
    let out = promtool(&["check", "rules", s(&rules)], None);
    assert!(out.status.success(), "promtool check rules:\n{}", common::both(&out));
    let tests = repo_file("monitoring/pinset-alerts.test.yml");
    let out = promtool(&["test", "rules", s(&tests)], None);
    assert!(out.status.success(), "promtool test rules:\n{}", common::both(&out));
}

#[test]
fn prometheus_scrapes_the_watch_and_answers_for_its_series() {
    let t = tempdir();
    let site = leaf_site(t.path());
    let fleet = Fleet::start(t.path(), &site);
    let (healthy, standby) = (fleet.healthy.authority(), fleet.standby.authority());
    let watch = Watch::start(&site, &[&healthy, &standby]);
    watch.metrics();
    let scrape = watch.base.trim_start_matches("http://").to_string();
    let config = t.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: pinset-check\n    static_configs:\n      - targets: ['{scrape}']\n",
            s(&repo_file("monitoring/pinset-alerts.yml"))
        ),
    )
    .expect("write prometheus.yml");
    let web = format!("127.0.0.1:{}", pinset_testkit::free_port(V4));
    let mut prometheus = Command::new("prometheus")
        .args([
            &format!("--config.file={}", s(&config)),
            &format!("--storage.tsdb.path={}", s(&t.path().join("tsdb"))),
            &format!("--web.listen-address={web}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(t.path().join("prometheus.log")).expect("log"))
        .spawn()
        .expect("run prometheus (install it with scripts/setup: Debian's prometheus)");
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut prometheus);
    let query = |q: &str| -> Value {
        let out = pinset_testkit::curl::curl(&["-G", &format!("http://{web}/api/v1/query"), "--data-urlencode", q]);
        serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null)
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let standby_query = format!("query=pinset_pin_match{{kind=\"standby\",target=\"{standby}\"}}");
    let (series, alerts) = loop {
        let series = query(&standby_query);
        let alerts = query("query=ALERTS{alertname=\"PinsetStandbyKeyServed\"}");
        let found = |v: &Value| v["data"]["result"].as_array().is_some_and(|r| !r.is_empty());
        if found(&series) && found(&alerts) {
            break (series, alerts);
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus has no pinset series or alert after 90 s:\n{series}\n{alerts}\n{}",
            std::fs::read_to_string(t.path().join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let result = &series["data"]["result"][0];
    assert_eq!(result["metric"]["job"], "pinset-check");
    assert_eq!(result["metric"]["site"], "shop");
    assert_eq!(result["value"][1], "1", "{series}");
    assert_eq!(alerts["data"]["result"][0]["metric"]["target"], standby.as_str(), "{alerts}");
    let healthy_query = format!("query=probe_success{{target=\"{healthy}\"}}");
    assert_eq!(query(&healthy_query)["data"]["result"][0]["value"][1], "1");
}

/// The site's supported releases are checked on every target: a server still presenting
/// the key a promotion retired reaches both releases (each carries that pin), one
/// presenting the new standby key only the release that carries it; `--json` and the
/// `pinset_release_can_connect{release}` metric say so, and a stranded supported release
/// is critical.
#[test]
fn supported_releases_that_can_connect_are_reported_per_target_and_as_metrics() {
    let t = tempdir();
    let site = leaf_site(t.path());
    let dir = site.join("pki/servers/server");
    let (old_chain, old_key) = (read(&dir.join("chain.pem")), read(&dir.join("key.pem")));
    let ok = |args: &[&str]| {
        let out = pinset().args(args).args(["--site", s(&site)]).output().expect("run pinset");
        assert_exit(&out, 0, &format!("pinset {args:?}"));
    };
    ok(&["release", "add", "1.0"]);
    ok(&["rotate", "promote"]);
    ok(&["release", "add", "2.0"]);
    ok(&["rotate", "retire"]);
    ok(&["release", "add", "0.9"]);
    ok(&["release", "retire", "0.9"]);
    let ca = Ca::from_files(&site.join("pki/authority/ca.pem"), &site.join("pki/authority/ca.key"));
    let retired_key = TlsServer::serve(&[old_chain], &old_key);
    let spec = Spec::server("127.0.0.1", vec![ip("127.0.0.1")]);
    let standby = spec.signed_for_key(&ca, &read(&dir.join("standby.key")));
    let new_standby = TlsServer::serve(&[standby.pem(), ca.pem()], &standby.key_pem());

    let out = check(&site, &[&retired_key.authority(), &new_standby.authority()], &["--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let releases = |i: usize| -> Vec<(String, bool)> {
        report["targets"][i]["releases"]
            .as_array()
            .unwrap_or_else(|| panic!("no releases in {report}"))
            .iter()
            .map(|r| (r["release"].as_str().unwrap_or("").to_string(), r["can_connect"].as_bool().unwrap_or(false)))
            .collect()
    };
    let both_ok = vec![("1.0".to_string(), true), ("2.0".to_string(), true)];
    assert_eq!(releases(0), both_ok, "the retired key: each supported release carries it; 0.9 is not checked");
    assert_eq!(releases(1), vec![("1.0".to_string(), false), ("2.0".to_string(), true)], "the new standby key");
    assert_exit(&out, 2, "a supported release that cannot connect is critical");

    let watch = Watch::start(&site, &[&new_standby.authority()]);
    let text = watch.metrics();
    let value = |release: &str| {
        text.lines()
            .find(|l| l.starts_with("pinset_release_can_connect{") && l.contains(&format!("release=\"{release}\"")))
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no pinset_release_can_connect for {release}:\n{text}"))
    };
    assert_eq!(value("1.0").parse::<f64>().ok(), Some(0.0));
    assert_eq!(value("2.0").parse::<f64>().ok(), Some(1.0));
    assert!(!text.contains("release=\"0.9\""), "a retired release is not a series:\n{text}");
}
