//! `kill -9` at random moments of `init`, `issue server`, `revoke`, `pin-expiration`,
//! `renew`, `rotate promote` and `rotate retire` (`revoke`: a certificate the ledger calls
//! revoked is always on the revocation list; `pin-expiration`: the plan holds the old day
//! or the new one): after each, the next command works (it removes what the killed one
//! left, finishes or undoes an interrupted renewal or rotation, and says so), the site is
//! valid (its server verifies, every export is made, the plan and the ledger agree after a
//! renewal or rotation), nothing an interrupted command leaves remains, and no private key
//! lies anywhere outside the site's `pki/`.
//!
//! The moments are spread over a whole run: a run is timed first (the median of five),
//! then the 50 kills fall one in each fiftieth of that time, at a random point of it. Each
//! killed command runs on a slow disk (`pinset_testkit::SlowFsync`, 20 ms per fsync, when
//! gcc is there) so that its later steps, which a fast disk makes instantaneous, are hit
//! too. Where each kill landed is read from the disk afterwards and printed
//! (`cargo test -p pinset-cli --test hostile_crash -- --nocapture`); the seed is printed
//! too, and `PINSET_KILL_SEED` replays one. No test asserts on where kills land.

mod common;

#[path = "common/site_state.rs"]
mod site_state;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{assert_contains, assert_exit, init_site, s, stderr, tempdir};
use pinset::ledger::{LEDGER_FILE, Ledger};
use pinset_testkit::SlowFsync;
use site_state::{
    RUN_BOUND, assert_plan_and_ledger_agree, assert_site_works, keys_outside_pki, ledger_rows, leftovers, pinset_cmd,
    plan_servers, run_pinset,
};

/// Kills per command.
const KILLS: u32 = 50;
/// Each fsync of a killed command is this slow (when gcc can build the slow disk).
const FSYNC_DELAY: Duration = Duration::from_millis(20);

/// A small random generator (xorshift64*): reproducible from its printed seed.
struct Rng(u64);

impl Rng {
    fn seeded(what: &str) -> Rng {
        let seed = std::env::var("PINSET_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
        }) | 1;
        println!("{what}: PINSET_KILL_SEED={seed}");
        Rng(seed)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The killed commands' slow disk, with its fsync log.
struct Disk {
    shim: Option<SlowFsync>,
    log: PathBuf,
}

impl Disk {
    fn new(dir: &Path) -> Disk {
        let shim = SlowFsync::build().map_err(|why| println!("killing on the real disk only: {why}")).ok();
        Disk { shim, log: dir.join("fsyncs") }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = pinset_cmd(args);
        if let Some(shim) = &self.shim {
            shim.apply(&mut cmd, FSYNC_DELAY, &self.log);
        }
        cmd
    }

    /// How long a whole run takes: the median of five (`args_for(k)` for run `k`), so that
    /// one run slowed by the machine does not push the kills past most runs' end.
    fn run_time(&self, args_for: impl Fn(u32) -> Vec<String>) -> Duration {
        let mut times: Vec<Duration> = (0..5)
            .map(|k| {
                let args = args_for(k);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let start = Instant::now();
                let out = pinset_testkit::process::run_bounded(self.command(&args), RUN_BOUND, "a timed run");
                assert_exit(&out, 0, &format!("pinset {args:?}, timed"));
                start.elapsed()
            })
            .collect();
        times.sort();
        times[2]
    }

    /// Runs `args` and kills it (SIGKILL) after `delay`, unless it ended before.
    fn kill_after(&self, args: &[&str], delay: Duration) -> ExitStatus {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run pinset");
        std::thread::sleep(delay);
        let _ = child.kill();
        child.wait().expect("reap pinset")
    }
}

/// The moment of kill `i` of `KILLS`: a random point of the `i`-th slice of `run`.
fn moment(i: u32, run: Duration, rng: &mut Rng) -> Duration {
    run.mul_f64((f64::from(i) + rng.unit()) / f64::from(KILLS))
}

fn finished(status: ExitStatus) -> Option<&'static str> {
    match (status.code(), status.signal()) {
        (Some(0), _) => Some("finished before the kill"),
        (Some(code), _) => panic!("a command that was not killed failed with exit {code}"),
        (None, Some(9)) => None,
        (None, other) => panic!("ended by signal {other:?}, not the kill"),
    }
}

fn print_phases(what: &str, kills: u32, run: Duration, phases: &BTreeMap<&'static str, u32>) {
    println!("{what}: {kills} kills over a run of {} ms:", run.as_millis());
    for (phase, n) in phases {
        println!("  {n:>3}  {phase}");
    }
}

/// Where in `init` the kill landed, read from what is on disk.
fn init_phase(status: ExitStatus, site: &Path) -> &'static str {
    if let Some(phase) = finished(status) {
        return phase;
    }
    let staging: Vec<PathBuf> = std::fs::read_dir(site)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(".pinset-init-"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    if site.join("pinset.toml").exists() {
        "6 committed (plan in place), not yet ended"
    } else if site.join("pki").exists() {
        "5 between the two moves (pki/ in place, plan staged)"
    } else if staging.iter().any(|st| st.join("pinset.toml").exists()) {
        "4 everything staged, flushing"
    } else if !staging.is_empty() {
        "3 writing the staging folder"
    } else if site.exists() {
        "2 site folder made, nothing staged"
    } else {
        "1 starting: nothing on disk"
    }
}

#[test]
fn init_killed_at_50_moments_leaves_the_next_init_working_and_no_stray_key() {
    let t = tempdir();
    let disk = Disk::new(t.path());
    let run = disk.run_time(|k| {
        ["init", s(&t.path().join(format!("timed-{k}"))), "--ip", "127.0.0.1"].map(String::from).to_vec()
    });
    let mut rng = Rng::seeded("init");
    let mut phases = BTreeMap::new();
    for i in 0..KILLS {
        let root = t.path().join(format!("kill-{i}"));
        std::fs::create_dir(&root).expect("mkdir");
        let site = root.join("site");
        let status = disk.kill_after(&["init", s(&site), "--ip", "127.0.0.1"], moment(i, run, &mut rng));
        let phase = init_phase(status, &site);
        *phases.entry(phase).or_insert(0) += 1;
        let had_plan = site.join("pinset.toml").exists();
        let had_staging = !leftovers(&site).is_empty();
        let pki_without_plan = !had_plan && site.join("pki").exists();

        let next = run_pinset(&["init", s(&site), "--ip", "127.0.0.1"]);
        let what = format!("the init after kill {i} ({phase})");
        if had_plan {
            assert_exit(&next, 2, &what);
            assert_contains(&stderr(&next), &["a site already exists here"], &what);
        } else {
            assert_exit(&next, 0, &what);
        }
        if had_staging {
            assert_contains(&stderr(&next), &["note: removed", ".pinset-init-", "interrupted"], &what);
        }
        if pki_without_plan {
            assert_contains(&stderr(&next), &["moved into place by a site creation"], &what);
        }
        assert_site_works(&site, "server", "127.0.0.1", &root.join("out"));
        assert_eq!(leftovers(&site), Vec::<String>::new(), "{what}");
        assert_eq!(keys_outside_pki(&root, &site), Vec::<PathBuf>::new(), "{what}");
        let _ = std::fs::remove_dir_all(&root);
    }
    print_phases("init", KILLS, run, &phases);
    if disk.shim.is_some() {
        assert!(pinset_testkit::slow_disk::flushes(&disk.log) > 0, "the slow disk was in effect");
    }
}

/// Where in `issue server NAME` the kill landed, read from what is on disk.
fn issue_phase(status: ExitStatus, site: &Path, name: &str) -> &'static str {
    if let Some(phase) = finished(status) {
        return phase;
    }
    let in_plan = plan_servers(site).iter().any(|s| s == name);
    let in_ledger = Ledger::open(&site.join("pki").join(LEDGER_FILE))
        .and_then(|l| l.entries())
        .expect("the ledger")
        .iter()
        .any(|e| e.name == name);
    if in_plan {
        "4 committed (plan written), not yet ended"
    } else if in_ledger {
        "3 between the ledger and the plan"
    } else if site.join("pki/servers").join(name).exists() {
        "2 writing the identity's files"
    } else {
        "1 starting: nothing written for it"
    }
}

#[test]
fn issue_killed_at_50_moments_leaves_the_next_issue_working_and_no_stray_key() {
    let t = tempdir();
    let disk = Disk::new(t.path());
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let run = disk.run_time(|k| {
        ["issue", "server", &format!("timed-{k}"), "--ip", "127.0.2.1", "--site", s(&site)].map(String::from).to_vec()
    });
    let mut rng = Rng::seeded("issue");
    let mut phases = BTreeMap::new();
    for i in 0..KILLS {
        let name = format!("s{i}");
        let ip = format!("127.0.1.{}", i + 1);
        let args = ["issue", "server", name.as_str(), "--ip", ip.as_str(), "--site", s(&site)];
        let status = disk.kill_after(&args, moment(i, run, &mut rng));
        let phase = issue_phase(status, &site, &name);
        *phases.entry(phase).or_insert(0) += 1;
        let had_plan = plan_servers(&site).contains(&name);
        let folder = site.join("pki/servers").join(&name);
        let uncommitted = !had_plan && folder.exists();
        // Temporary files outside the uncommitted folder (those go with it).
        let temporary =
            leftovers(&site).iter().any(|l| l.contains(".tmp-") && !(uncommitted && Path::new(l).starts_with(&folder)));

        let next = run_pinset(&args);
        let what = format!("the issue after kill {i} ({phase})");
        if had_plan {
            assert_exit(&next, 2, &what);
            assert_contains(&stderr(&next), &["already exists in this site"], &what);
        } else {
            assert_exit(&next, 0, &what);
        }
        if uncommitted {
            assert_contains(&stderr(&next), &["note: removed", &format!("servers/{name}"), "interrupted"], &what);
        }
        if temporary {
            assert_contains(&stderr(&next), &["left by a write that was interrupted"], &what);
        }
        assert_site_works(&site, &name, &ip, &t.path().join("out"));
        assert_eq!(leftovers(&site), Vec::<String>::new(), "{what}");
        assert_eq!(keys_outside_pki(t.path(), &site), Vec::<PathBuf>::new(), "{what}");
        let rows: Vec<_> = ledger_rows(&site).into_iter().filter(|r| r.name == name).collect();
        assert_eq!(rows.len(), 1, "{what}: one ledger row for {name}: {rows:?}");
        let plan = pinset::Site::open(&site).expect("plan");
        assert_eq!(plan.plan.server(&name).and_then(|s| s.active.serial.clone()), Some(rows[0].serial.clone()));
    }
    print_phases("issue", KILLS, run, &phases);
    // No ledger row of a server the plan does not name: every uncommitted issue's rows went.
    let servers = plan_servers(&site);
    for row in ledger_rows(&site).iter().filter(|r| r.kind == "server") {
        assert!(servers.contains(&row.name), "a ledger row of an issue that never committed: {row:?}");
    }
    if disk.shim.is_some() {
        assert!(pinset_testkit::slow_disk::flushes(&disk.log) > 0, "the slow disk was in effect");
    }
}

/// Kills per renewal and rotation step.
const STEP_KILLS: u32 = 25;

/// Where in a renewal or rotation the kill landed, read from what is on disk.
fn step_phase(status: ExitStatus, site: &Path, plan_before: &str) -> &'static str {
    if let Some(phase) = finished(status) {
        return phase;
    }
    let staging = site.join("pki/.pinset-change");
    let plan_now = std::fs::read_to_string(site.join("pinset.toml")).expect("plan");
    if plan_now != plan_before {
        "4 plan moved into place, not yet ended"
    } else if staging.join("pinset.toml").exists() {
        "3 staged (committed or about to be), moving into place"
    } else if staging.exists() {
        "2 journaled, writing the staging folder"
    } else {
        "1 not yet journaled, or journaled and nothing staged"
    }
}

/// `step` (`renew …`, `rotate promote`, `rotate retire`) killed at `STEP_KILLS` moments of
/// a run, each after `setup` (not killed); after each kill the same step again completes
/// (or finds it done), having finished or undone the killed one.
fn step_killed_at_many_moments(step: &[&str], setup: &[&str], done_already: &str) {
    let t = tempdir();
    let disk = Disk::new(t.path());
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let with_site = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["--site".to_string(), s(&site).to_string()]);
        all
    };
    let setup_args = with_site(setup);
    let setup_args: Vec<&str> = setup_args.iter().map(String::as_str).collect();
    let step_args = with_site(step);
    let step_args: Vec<&str> = step_args.iter().map(String::as_str).collect();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            assert_exit(&run_pinset(&setup_args), 0, "setup");
            let start = Instant::now();
            let out = pinset_testkit::process::run_bounded(disk.command(&step_args), RUN_BOUND, "a timed run");
            assert_exit(&out, 0, &format!("pinset {step:?}, timed"));
            start.elapsed()
        })
        .collect();
    times.sort();
    let run = times[2];
    let mut rng = Rng::seeded(&step.join(" "));
    let mut phases = BTreeMap::new();
    for i in 0..STEP_KILLS {
        assert_exit(&run_pinset(&setup_args), 0, "setup");
        let plan_before = std::fs::read_to_string(site.join("pinset.toml")).expect("plan");
        let status = disk.kill_after(&step_args, run.mul_f64((f64::from(i) + rng.unit()) / f64::from(STEP_KILLS)));
        let phase = step_phase(status, &site, &plan_before);
        *phases.entry(phase).or_insert(0) += 1;
        let interrupted = site.join("pki/.pinset-change").exists();
        // Every other time `status` comes first: it settles an interrupted step too.
        let status_first = i % 2 == 1;
        let mut text = String::new();
        if status_first {
            let shown = run_pinset(&["status", "--site", s(&site)]);
            assert_exit(&shown, 0, &format!("status after kill {i} ({phase})"));
            text = stderr(&shown);
        }
        let next = run_pinset(&step_args);
        let what = format!("the {step:?} after kill {i} ({phase})");
        text.push_str(&stderr(&next));
        if next.status.code() == Some(2) {
            assert_contains(&stderr(&next), &[done_already], &what);
        } else {
            assert_exit(&next, 0, &what);
        }
        if interrupted {
            let op = if step[0] == "rotate" { step[1] } else { step[0] };
            assert!(
                text.contains(&format!("finished the {op}")) || text.contains(&format!("undid the {op}")),
                "{what}: the interrupted change is finished or undone, and said so:\n{text}"
            );
        }
        assert_site_works(&site, "server", "127.0.0.1", &t.path().join("out"));
        assert_eq!(leftovers(&site), Vec::<String>::new(), "{what}");
        assert_eq!(keys_outside_pki(t.path(), &site), Vec::<PathBuf>::new(), "{what}");
        assert_plan_and_ledger_agree(&site, &what);
    }
    print_phases(&step.join(" "), STEP_KILLS, run, &phases);
    if disk.shim.is_some() {
        assert!(pinset_testkit::slow_disk::flushes(&disk.log) > 0, "the slow disk was in effect");
    }
}

#[test]
fn renew_killed_at_25_moments_is_finished_or_undone_by_the_next_renew() {
    // Every certificate is due within 400 days: each run renews.
    step_killed_at_many_moments(&["renew", "--within", "400d"], &["status"], "unreachable");
}

#[test]
fn promote_killed_at_25_moments_is_finished_or_undone_by_the_next_promote() {
    // The next promote after one that had committed finds the key retiring (refused, exit 2).
    step_killed_at_many_moments(&["rotate", "promote"], &["rotate", "retire"], "still retiring");
}

#[test]
fn retire_killed_at_25_moments_is_finished_or_undone_by_the_next_retire() {
    step_killed_at_many_moments(&["rotate", "retire"], &["rotate", "promote"], "unreachable");
}

/// The serial numbers a PEM revocation list names, lower-case hex as the ledger spells them.
fn crl_serials(crl: &Path) -> Vec<String> {
    let out = common::run("openssl", &["crl", "-in", s(crl), "-noout", "-text"]);
    assert!(out.status.success(), "openssl reads the revocation list: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .map(|serial| serial.trim().to_ascii_lowercase())
        .collect()
}

#[test]
fn revoke_killed_at_50_moments_never_leaves_a_revoked_certificate_off_the_list() {
    let t = tempdir();
    let disk = Disk::new(t.path());
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let password = t.path().join("pw");
    std::fs::write(&password, "a passphrase for the test clients").expect("password file");
    let clients: Vec<String> = (0..KILLS + 5).map(|i| format!("c{i}")).collect();
    for c in &clients {
        let out = run_pinset(&["issue", "client", c, "--site", s(&site), "--password-file", s(&password)]);
        assert_exit(&out, 0, &format!("issue client {c}"));
    }
    let run = disk.run_time(|k| {
        ["revoke", &format!("c{}", KILLS + k), "--reason", "superseded", "--site", s(&site)].map(String::from).to_vec()
    });
    let mut rng = Rng::seeded("revoke");
    let mut phases = BTreeMap::new();
    for i in 0..KILLS {
        let name = format!("c{i}");
        let args = ["revoke", name.as_str(), "--reason", "key-compromise", "--site", s(&site)];
        let status = disk.kill_after(&args, moment(i, run, &mut rng));
        let serial = ledger_rows(&site).into_iter().find(|r| r.name == name).expect("the client's row").serial;
        let in_ledger = ledger_rows(&site).iter().any(|r| r.name == name && r.status == "revoked");
        let listed = crl_serials(&site.join("pki/crl.pem"));
        let phase = match finished(status) {
            Some(p) => p,
            None if in_ledger => "3 committed (list and ledger), not yet ended",
            None if listed.contains(&serial) => "2 on the list, not yet in the ledger",
            None => "1 nothing changed yet",
        };
        *phases.entry(phase).or_insert(0) += 1;
        // Whatever the moment, a certificate the ledger calls revoked is already refused.
        for row in ledger_rows(&site).iter().filter(|r| r.status == "revoked") {
            assert!(listed.contains(&row.serial), "kill {i} ({phase}): {} revoked, not on the list", row.name);
        }

        let next = run_pinset(&args);
        let what = format!("the revoke after kill {i} ({phase})");
        assert_exit(&next, 0, &what);
        let said = common::stdout(&next);
        assert!(said.starts_with("Revoked") || said.starts_with("Already revoked"), "{what}: {said}");
        // Every certificate the ledger says is revoked is on the list the servers read.
        let listed = crl_serials(&site.join("pki/crl.pem"));
        for row in ledger_rows(&site).iter().filter(|r| r.status == "revoked") {
            assert!(listed.contains(&row.serial), "{what}: {} revoked in the ledger, not on the list", row.name);
        }
        assert_eq!(leftovers(&site), Vec::<String>::new(), "{what}");
        assert_eq!(keys_outside_pki(t.path(), &site), Vec::<PathBuf>::new(), "{what}");
    }
    print_phases("revoke", KILLS, run, &phases);
}

#[test]
fn pin_expiration_killed_at_50_moments_leaves_a_plan_with_the_old_day_or_the_new() {
    let t = tempdir();
    let disk = Disk::new(t.path());
    let site = init_site(t.path(), "site", &["--ip", "127.0.0.1"]);
    let today = time::OffsetDateTime::now_utc().date();
    let day = |n: i64| (today + time::Duration::days(400 + n)).to_string();
    let run = disk.run_time(|k| ["pin-expiration", &day(i64::from(k)), "--site", s(&site)].map(String::from).to_vec());
    let mut rng = Rng::seeded("pin-expiration");
    let mut phases = BTreeMap::new();
    for i in 0..KILLS {
        let before = pinset::Site::open(&site).expect("the plan loads").plan.pin_expiration;
        let new = day(100 + i64::from(i));
        let args = ["pin-expiration", new.as_str(), "--site", s(&site)];
        let status = disk.kill_after(&args, moment(i, run, &mut rng));
        let after = pinset::Site::open(&site).expect("the plan loads after the kill").plan.pin_expiration;
        let phase = match finished(status) {
            Some(p) => p,
            None if after.map(|d| d.to_string()) == Some(new.clone()) => "2 the new day written",
            None => "1 the old day kept",
        };
        assert!(after == before || after.map(|d| d.to_string()) == Some(new.clone()), "old or new: {after:?}");
        *phases.entry(phase).or_insert(0) += 1;
        let next = run_pinset(&args);
        assert_exit(&next, 0, &format!("the pin-expiration after kill {i} ({phase})"));
        assert_eq!(leftovers(&site), Vec::<String>::new(), "after kill {i}");
    }
    assert_site_works(&site, "server", "127.0.0.1", &t.path().join("out"));
    print_phases("pin-expiration", KILLS, run, &phases);
}
