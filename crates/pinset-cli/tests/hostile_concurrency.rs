//! Commands that change one site at the same moment, as scripts and impatient people run
//! them: ten `issue server` of different names all reach the plan and the ledger, ten of one
//! name give one server and nine clear refusals, six `init` of one folder on a slow disk give
//! one intact site, ten `revoke` and five `pin-expiration` at once all land, renewals,
//! promotions, a retirement, releases and issues all at once leave a site whose plan and
//! ledger agree, and a busy site is waited for (saying so) or refused at once.
//!
//! The slow disk is `pinset_testkit::SlowFsync` (every fsync delayed, as on the disk where
//! the lost updates were seen); it needs gcc, which `scripts/setup` installs.

mod common;

#[path = "common/site_state.rs"]
mod site_state;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{assert_contains, assert_exit, init_site, s, stderr, stdout, tempdir};
use pinset_testkit::SlowFsync;
use pinset_testkit::slow_disk::flushes;
use site_state::{
    RUN_BOUND, assert_plan_and_ledger_agree, assert_site_works, keys_outside_pki, ledger_rows, leftovers, pinset_cmd,
    plan_servers, run_pinset,
};

/// Runs every command at once (each in its own thread, bounded) and returns their outputs in
/// order. With `slow`, every fsync of every command is delayed by `delay`.
fn all_at_once(commands: Vec<Vec<String>>, slow: Option<(&SlowFsync, Duration, &Path)>) -> Vec<Output> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = commands
            .iter()
            .map(|args| {
                scope.spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let mut cmd = pinset_cmd(&args);
                    if let Some((shim, delay, log)) = slow {
                        shim.apply(&mut cmd, delay, log);
                    }
                    pinset_testkit::process::run_bounded(cmd, RUN_BOUND, &format!("pinset {}", args.join(" ")))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("runner thread")).collect()
    })
}

/// The slow disk, or the reason there is none (printed by the test that goes without).
fn slow_disk() -> Result<SlowFsync, String> {
    SlowFsync::build()
}

#[test]
fn ten_issues_of_different_names_at_once_all_reach_the_plan_and_the_ledger() {
    let t = tempdir();
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let shim = slow_disk();
    let log = t.path().join("fsyncs");
    if let Err(why) = &shim {
        println!("running on the real disk only: {why}");
    }
    let commands: Vec<Vec<String>> = (1..=10)
        .map(|n| {
            ["issue", "server", &format!("n{n}"), "--ip", &format!("127.0.0.{}", n + 1), "--site", s(&site)]
                .map(String::from)
                .to_vec()
        })
        .collect();
    let outs = all_at_once(commands, shim.as_ref().ok().map(|shim| (shim, Duration::from_millis(10), log.as_path())));
    for (n, out) in (1..=10).zip(&outs) {
        assert_exit(out, 0, &format!("issue server n{n}"));
    }
    if shim.is_ok() {
        assert!(flushes(&log) > 0, "the slow disk was in effect");
    }

    let mut servers = plan_servers(&site);
    servers.sort();
    assert_eq!(servers, ["n1", "n10", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "server"]);
    let rows = ledger_rows(&site);
    for name in &servers {
        let active: Vec<_> = rows.iter().filter(|r| r.kind == "server" && &r.name == name).collect();
        assert_eq!(active.len(), 1, "server {name}: one ledger row, active: {active:?}");
        assert_eq!(active[0].status, "active");
    }
    assert_eq!(rows.iter().filter(|r| r.kind == "server").count(), 11, "no row of a lost issue");
    for n in 1..=10 {
        assert_site_works(&site, &format!("n{n}"), &format!("127.0.0.{}", n + 1), &t.path().join("out"));
    }
    assert_eq!(leftovers(&site), Vec::<String>::new());
}

#[test]
fn ten_issues_of_one_name_at_once_give_one_server_and_nine_clear_refusals() {
    let t = tempdir();
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let shim = slow_disk();
    let log = t.path().join("fsyncs");
    if let Err(why) = &shim {
        println!("running on the real disk only: {why}");
    }
    let commands: Vec<Vec<String>> = (0..10)
        .map(|_| ["issue", "server", "same", "--ip", "127.0.0.2", "--site", s(&site)].map(String::from).to_vec())
        .collect();
    let outs = all_at_once(commands, shim.as_ref().ok().map(|shim| (shim, Duration::from_millis(10), log.as_path())));
    let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(won.len(), 1, "exactly one issue of \"same\" succeeds");
    for out in outs.iter().filter(|o| !o.status.success()) {
        assert_exit(out, 2, "a second issue of the same name");
        assert_contains(&stderr(out), &["server \"same\"", "already exists in this site", "hint:"], "the refusal");
        assert!(stdout(out).is_empty(), "a refusal prints no report");
    }
    let rows: Vec<_> = ledger_rows(&site).into_iter().filter(|r| r.name == "same").collect();
    assert_eq!(rows.len(), 1, "one ledger row for \"same\": {rows:?}");
    assert_eq!(rows[0].status, "active");
    let plan = pinset::Site::open(&site).expect("plan");
    assert_eq!(plan.plan.server("same").and_then(|s| s.active.serial.clone()), Some(rows[0].serial.clone()));
    assert_site_works(&site, "same", "127.0.0.2", &t.path().join("out"));
    assert_eq!(leftovers(&site), Vec::<String>::new());
}

#[test]
fn six_inits_of_one_folder_on_a_slow_disk_give_one_intact_site_and_clear_refusals() {
    let shim = match slow_disk() {
        Ok(shim) => shim,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let t = tempdir();
    let site = t.path().join("site");
    let log = t.path().join("fsyncs");
    let commands: Vec<Vec<String>> =
        (0..6).map(|_| ["init", s(&site), "--ip", "127.0.0.1", "--json"].map(String::from).to_vec()).collect();
    // 50 ms per fsync, the disk the lost sites were seen on.
    let outs = all_at_once(commands, Some((&shim, Duration::from_millis(50), &log)));
    assert!(flushes(&log) > 0, "the slow disk was in effect");
    let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(won.len(), 1, "exactly one init creates the site");
    for out in outs.iter().filter(|o| !o.status.success()) {
        assert_exit(out, 2, "a second init of the same folder");
        assert_contains(&stderr(out), &["a site already exists here", "never overwrites", "hint:"], "the refusal");
    }

    // The site is the winner's, whole: what it printed is what the site holds.
    let printed: serde_json::Value = serde_json::from_slice(&won[0].stdout).expect("the winner's JSON report");
    let pins = run_pinset(&["pin", "--site", s(&site), "--json"]);
    assert_exit(&pins, 0, "the site's pins");
    let site_pins: serde_json::Value = serde_json::from_slice(&pins.stdout).expect("pin --json");
    let printed_pins: Vec<&str> =
        printed["app_pins"].as_array().expect("app_pins").iter().filter_map(|p| p["pin"].as_str()).collect();
    let held_pins: Vec<&str> =
        site_pins.as_array().expect("a list of pins").iter().filter_map(|p| p["pin"].as_str()).collect();
    assert!(!printed_pins.is_empty());
    assert_eq!(printed_pins, held_pins, "the pins the winner printed are the site's");
    for file in ["pki/authority/ca.pem", "pki/authority/ca.key", "pki/servers/server/key.pem", "pki/ledger.sqlite3"] {
        assert!(site.join(file).is_file(), "{file} is missing");
    }
    assert_site_works(&site, "server", "127.0.0.1", &t.path().join("out"));
    assert_eq!(leftovers(&site), Vec::<String>::new());
    assert_eq!(keys_outside_pki(t.path(), &site), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_busy_site_is_waited_for_saying_so_or_refused_at_once() {
    let t = tempdir();
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    // This test holds the site as another pinset command would.
    let held = pinset::lock::SiteLock::acquire(&site, Duration::ZERO, &|| {}).expect("the site's lock");

    let at_once = run_pinset(&["issue", "server", "x", "--ip", "127.0.0.2", "--site", s(&site), "--wait", "0"]);
    assert_exit(&at_once, 2, "--wait 0 on a busy site");
    assert_contains(
        &stderr(&at_once),
        &["another process is changing it", "hint: run the command again once the other one has finished"],
        "the refusal",
    );
    assert!(!stderr(&at_once).contains("waiting"), "no wait, no waiting notice");
    assert!(!site.join("pki/servers/x").exists(), "nothing was written");

    let briefly = run_pinset(&["issue", "server", "x", "--ip", "127.0.0.2", "--site", s(&site), "--wait", "1"]);
    assert_exit(&briefly, 2, "--wait 1 on a site busy for longer");
    let err = stderr(&briefly);
    assert_eq!(err.matches("waiting for another pinset command changing this site").count(), 1, "{err}");
    assert_contains(&err, &["another process is changing it (waited ", "--wait SECS"], "the refusal");

    // A command that waits goes on once the site is free.
    let err_file = t.path().join("stderr");
    let mut waiting = pinset_cmd(&["issue", "server", "x", "--ip", "127.0.0.2", "--site", s(&site)])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_file).expect("stderr file"))
        .spawn()
        .expect("run pinset");
    let deadline = Instant::now() + RUN_BOUND;
    while !std::fs::read_to_string(&err_file).unwrap_or_default().contains("waiting for another pinset command") {
        if Instant::now() > deadline || waiting.try_wait().expect("poll").is_some() {
            let _ = waiting.kill();
            panic!("no waiting notice: {}", std::fs::read_to_string(&err_file).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(held);
    let status = loop {
        if let Some(status) = waiting.try_wait().expect("poll") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = waiting.kill();
            panic!("the waiting issue did not finish once the site was free");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{}", std::fs::read_to_string(&err_file).unwrap_or_default());
    assert!(plan_servers(&site).contains(&"x".to_string()));
}

#[test]
fn renewals_promotions_a_retirement_releases_and_issues_at_once_leave_a_consistent_site() {
    let t = tempdir();
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let shim = slow_disk();
    let log = t.path().join("fsyncs");
    let with_site = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["--site".to_string(), s(&site).to_string()]);
        all
    };
    let commands = vec![
        with_site(&["renew", "--within", "400d"]),
        with_site(&["rotate", "promote"]),
        with_site(&["release", "add", "1.0"]),
        with_site(&["renew", "--within", "400d"]),
        with_site(&["issue", "server", "c1", "--ip", "127.0.0.2"]),
        with_site(&["rotate", "retire"]),
        with_site(&["rotate", "promote"]),
        with_site(&["release", "add", "2.0", "--platform", "android"]),
        with_site(&["issue", "server", "c2", "--ip", "127.0.0.3"]),
        with_site(&["renew", "--within", "400d"]),
    ];
    let outs =
        all_at_once(commands.clone(), shim.as_ref().ok().map(|shim| (shim, Duration::from_millis(10), log.as_path())));
    let mut promoted = 0;
    for (args, out) in commands.iter().zip(&outs) {
        let what = format!("pinset {}", args.join(" "));
        if args[..2] == ["rotate", "promote"] && out.status.code() == Some(2) {
            // The other promotion went first and its key is still retiring.
            assert_contains(&stderr(out), &["still retiring", "pinset rotate retire"], &what);
        } else {
            assert_exit(out, 0, &what);
            promoted += usize::from(args[..2] == ["rotate", "promote"]);
        }
    }
    assert!(promoted >= 1, "one promotion at least goes ahead");
    let mut servers = plan_servers(&site);
    servers.sort();
    assert_eq!(servers, ["c1", "c2", "server"]);
    let listed = stdout(&run_pinset(&["release", "list", "--site", s(&site)]));
    assert!(listed.contains("1.0") && listed.contains("2.0 (android)"), "{listed}");
    assert_plan_and_ledger_agree(&site, "after everything at once");
    assert_site_works(&site, "c2", "127.0.0.3", &t.path().join("out"));
    assert_eq!(leftovers(&site), Vec::<String>::new());
    assert_eq!(keys_outside_pki(t.path(), &site), Vec::<std::path::PathBuf>::new());
}

#[test]
fn ten_revokes_and_pin_expirations_at_once_all_reach_the_ledger_the_list_and_the_plan() {
    let t = tempdir();
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let password = t.path().join("pw");
    std::fs::write(&password, "a passphrase for the test clients").expect("password file");
    for i in 1..=10 {
        let out =
            run_pinset(&["issue", "client", &format!("c{i}"), "--site", s(&site), "--password-file", s(&password)]);
        assert_exit(&out, 0, "issue client");
    }
    let shim = slow_disk();
    let log = t.path().join("fsyncs");
    let today = time::OffsetDateTime::now_utc().date();
    let days: Vec<String> = (1..=5).map(|i| (today + time::Duration::days(300 + i)).to_string()).collect();
    let mut commands: Vec<Vec<String>> = (1..=10)
        .map(|i| ["revoke", &format!("c{i}"), "--reason", "superseded", "--site", s(&site)].map(String::from).to_vec())
        .collect();
    commands.extend(days.iter().map(|d| ["pin-expiration", d, "--site", s(&site)].map(String::from).to_vec()));
    let outs = all_at_once(commands, shim.as_ref().ok().map(|sh| (sh, Duration::from_millis(20), log.as_path())));
    for out in &outs {
        assert_exit(out, 0, "each command, after waiting its turn");
    }
    let revoked: Vec<_> = ledger_rows(&site).into_iter().filter(|r| r.status == "revoked").collect();
    assert_eq!(revoked.len(), 10, "ten revocations in the ledger: {revoked:?}");
    let crl = common::run("openssl", &["crl", "-in", s(&site.join("pki/crl.pem")), "-noout", "-text"]);
    let listed = String::from_utf8_lossy(&crl.stdout).to_ascii_lowercase();
    for row in &revoked {
        assert!(listed.contains(&row.serial), "{} is on the list", row.name);
    }
    let last = pinset::Site::open(&site).expect("plan").plan.pin_expiration.expect("a day").to_string();
    assert!(days.contains(&last), "the plan holds one of the days set: {last}");
    assert_eq!(leftovers(&site), Vec::<String>::new());
    assert_site_works(&site, "server", "127.0.0.1", &t.path().join("out"));
}
