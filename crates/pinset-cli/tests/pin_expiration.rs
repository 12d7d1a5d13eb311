//! Pins that expire safely: the last day apps enforce the pins is set with `init
//! --pin-expiration` or `pinset pin-expiration`, a day in the past is refused (an export of
//! already-expired pin-sets turns pinning off without a word), and `init`, `pin`, `export`
//! and `pin-expiration` warn while the day is near or past. Also `pin --format curl` on a
//! site, which prints the servers' own keys: curl checks only the leaf.

mod common;

#[path = "common/server.rs"]
mod server;
#[path = "common/snapshot.rs"]
mod snapshot;

use std::path::Path;
use std::process::Output;

use common::{assert_contains, assert_exit, init_site, pinset, s, stderr, stdout, tempdir};
use time::{Duration, OffsetDateTime};

fn run(args: &[&str]) -> Output {
    pinset().args(args).output().expect("run pinset")
}

fn day(offset_days: i64) -> String {
    (OffsetDateTime::now_utc().date() + Duration::days(offset_days)).to_string()
}

fn plan_line(site: &Path) -> Option<String> {
    std::fs::read_to_string(site.join("pinset.toml"))
        .expect("plan")
        .lines()
        .find(|l| l.starts_with("pin_expiration"))
        .map(str::to_string)
}

macro_rules! snap {
    ($tmp:expr, $name:expr, $out:expr) => {
        snapshot::settings($tmp).bind(|| insta::assert_snapshot!($name, snapshot::run_text(&$out)))
    };
}

#[test]
fn init_refuses_a_past_day_and_writes_nothing() {
    let t = tempdir();
    let dir = t.path().join("shop");
    let out = run(&["init", s(&dir), "--ip", "192.168.1.10", "--pin-expiration", &day(-1)]);
    assert_exit(&out, 2, "a past day");
    assert_contains(&stderr(&out), &["pin expiration", "is in the past", "hint: "], "the refusal");
    assert!(!dir.exists(), "nothing was created");

    for bad in ["2027-13-01", "next year", "2027/12/31", ""] {
        let out = run(&["init", s(&dir), "--ip", "192.168.1.10", "--pin-expiration", bad]);
        assert_exit(&out, 2, bad);
        assert_contains(&stderr(&out), &["is not a date as YYYY-MM-DD"], bad);
        assert!(!dir.exists(), "nothing was created for {bad:?}");
    }
}

#[test]
fn init_sets_the_day_and_warns_only_when_it_is_near() {
    let t = tempdir();
    let far = day(400);
    let site = init_site(t.path(), "far", &["--ip", "192.168.1.10", "--pin-expiration", &far]);
    assert_eq!(plan_line(&site), Some(format!("pin_expiration = \"{far}\"")));

    let out = run(&["init", s(&t.path().join("near")), "--ip", "192.168.1.10", "--pin-expiration", &day(20)]);
    assert_exit(&out, 0, "a near day is allowed");
    assert_contains(&stderr(&out), &["warning: apps stop enforcing the pins after", "(20 days left)"], "init");

    // Today is the last day: pins still apply today.
    let out = run(&["init", s(&t.path().join("today")), "--ip", "192.168.1.10", "--pin-expiration", &day(0)]);
    assert_exit(&out, 0, "today");
    assert_contains(&stderr(&out), &["(today is the last day)"], "init today");
}

#[test]
fn pin_expiration_shows_sets_and_clears_the_day_under_the_sites_rules() {
    let t = tempdir();
    let site = init_site(t.path(), "shop", &["--ip", "192.168.1.10", "--ip", "127.0.0.1"]);

    let out = run(&["pin-expiration", "--site", s(&site)]);
    snap!(t.path(), "pin_expiration_none", out);

    let out = run(&["pin-expiration", &day(20), "--site", s(&site)]);
    snap!(t.path(), "pin_expiration_set_near", out);
    assert_eq!(plan_line(&site), Some(format!("pin_expiration = \"{}\"", day(20))));

    let out = run(&["pin-expiration", "--site", s(&site), "--json"]);
    snap!(t.path(), "pin_expiration_json", out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["pin_expiration"], day(20));
    assert_eq!(json["state"], "near");
    assert_eq!(json["days_left"], 20);

    // A past day is refused and the plan keeps the day it had.
    let before = std::fs::read(site.join("pinset.toml")).expect("plan");
    let out = run(&["pin-expiration", &day(-3), "--site", s(&site)]);
    snap!(t.path(), "pin_expiration_past", out);
    assert_eq!(std::fs::read(site.join("pinset.toml")).expect("plan"), before, "the plan is unchanged");

    let out = run(&["pin-expiration", &day(500), "--site", s(&site)]);
    assert_exit(&out, 0, "far");
    assert!(stderr(&out).is_empty(), "no warning for a far day: {}", stderr(&out));

    let out = run(&["pin-expiration", "never", "--site", s(&site)]);
    assert_exit(&out, 0, "never");
    assert_eq!(plan_line(&site), None);
    assert_contains(&stdout(&out), &["no last day"], "never");
}

#[test]
fn pin_expiration_waits_for_a_busy_site_like_every_change() {
    let t = tempdir();
    let site = init_site(t.path(), "shop", &["--ip", "127.0.0.1"]);
    let held = pinset::lock::SiteLock::acquire(&site, std::time::Duration::ZERO, &|| {}).expect("the site's lock");
    let out = run(&["pin-expiration", &day(100), "--site", s(&site), "--wait", "0"]);
    assert_exit(&out, 2, "busy");
    assert_contains(&stderr(&out), &["another process is changing it"], "the refusal");
    assert_eq!(plan_line(&site), None, "nothing was written");
    drop(held);
    let out = run(&["pin-expiration", &day(100), "--site", s(&site), "--wait", "0"]);
    assert_exit(&out, 0, "free again");
    assert_eq!(plan_line(&site), Some(format!("pin_expiration = \"{}\"", day(100))));
}

#[test]
fn pin_and_export_warn_while_the_day_is_near_and_once_it_is_past() {
    let t = tempdir();
    let site = init_site(t.path(), "shop", &["--ip", "192.168.1.10", "--pin-expiration", &day(10)]);

    let out = run(&["pin", "--site", s(&site)]);
    assert_exit(&out, 0, "pin");
    assert_contains(&stderr(&out), &["apps stop enforcing the pins after", "(10 days left)"], "pin");

    let out = run(&["export", "android", "--site", s(&site), "--out", s(&t.path().join("android"))]);
    assert_exit(&out, 0, "export");
    assert_contains(&stderr(&out), &["android [pins-expire-soon]: apps stop enforcing the pins after"], "export");
    let xml = std::fs::read_to_string(t.path().join("android/res/xml/network_security_config.xml")).expect("xml");
    // Android stops at the start of its expiration day: the day after the last day.
    assert!(xml.contains(&format!("expiration=\"{}\"", day(11))), "{xml}");

    // A plan edited by hand to a past day still loads, but nothing exports it silently.
    let plan = std::fs::read_to_string(site.join("pinset.toml")).expect("plan");
    std::fs::write(site.join("pinset.toml"), plan.replace(&day(10), &day(-5))).expect("edit the plan");
    let out = run(&["pin", "--site", s(&site)]);
    assert_contains(&stderr(&out), &["warning: the pins expired after", "pinning is off"], "pin, expired");
    let out = run(&["export", "all", "--site", s(&site), "--out", s(&t.path().join("all")), "-v"]);
    assert_exit(&out, 0, "export all");
    let err = stderr(&out);
    for target in ["android", "ios", "okhttp", "curl", "cordova-plugin"] {
        assert!(err.contains(&format!("{target} [pins-expired]: the pins expired after")), "{target}: {err}");
    }
    let index = std::fs::read_to_string(t.path().join("all/README.md")).expect("index");
    assert!(index.contains("pins-expired"), "the index explains it:\n{index}");
}

#[test]
fn pin_in_curls_syntax_prints_the_servers_own_keys_and_says_why() {
    let t = tempdir();
    let site = init_site(t.path(), "shop", &["--ip", "192.168.1.10"]);
    let out = run(&["pin", "--site", s(&site), "--format", "curl"]);
    assert_exit(&out, 0, "pin --format curl");
    assert_contains(&stderr(&out), &["curl checks only the server's own key"], "the warning");
    let leaf = run(&["pin", s(&site.join("pki/servers/server/cert.pem")), "--format", "curl"]);
    let leaf_pin = stdout(&leaf).split_whitespace().next().expect("a pin").to_string();
    assert!(leaf_pin.starts_with("sha256//"), "{leaf_pin}");
    let printed = stdout(&out);
    assert!(printed.contains(&leaf_pin), "the server's key {leaf_pin} is printed:\n{printed}");
    let ca = run(&["pin", s(&site.join("pki/authority/ca.pem")), "--format", "curl"]);
    let ca_pin = stdout(&ca).split_whitespace().next().expect("a pin").to_string();
    assert!(!printed.contains(&ca_pin), "the CA's key is not:\n{printed}");
    snap!(t.path(), "pin_site_curl", out);

    // Every other format still prints the pins apps carry, the CA's.
    let out = run(&["pin", "--site", s(&site), "--format", "okhttp"]);
    assert!(stdout(&out).contains("authority"), "{}", stdout(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn check_warns_while_the_pins_last_day_is_near() {
    let t = tempdir();
    let site = init_site(t.path(), "shop", &["--ip", "127.0.0.1", "--pin-expiration", &day(400)]);
    let running = server::Running::start(&["serve", "--site", s(&site), "--listen", "127.0.0.1:0"]);
    let target = running.addr.to_string();

    let far = run(&["check", &target, "--site", s(&site)]);
    assert_exit(&far, 0, "a far day");

    let out = run(&["pin-expiration", &day(12), "--site", s(&site)]);
    assert_exit(&out, 0, "set a near day");
    let near = run(&["check", &target, "--site", s(&site)]);
    assert_exit(&near, 1, "a near day is a warning");
    assert_contains(&stdout(&near), &["the site's pins expire after", "(12 days left)"], "check");
    drop(running);
}
