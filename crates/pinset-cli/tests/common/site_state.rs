//! What the hostile concurrency and crash tests check of a site on disk after the fact:
//! that it still works (its server verifies, every export is made), that nothing an
//! interrupted command leaves is still there, that no private key lies outside its
//! `pki/`, and what its ledger says.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pinset::ledger::{LEDGER_FILE, Ledger, LedgerEntry};
use pinset_testkit::process::{assert_exit, run_bounded, s};

/// Bound on one `pinset` run in these tests: far above what any takes, even behind a slow
/// disk and nine others, so only a hang reaches it.
pub const RUN_BOUND: Duration = Duration::from_secs(180);

/// A `pinset` command (std, for spawning many at once), with the environment of a test.
pub fn pinset_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("pinset"));
    cmd.args(args).env_remove("PINSET_SITE").env_remove("PINSET_P12_PASSWORD").env("NO_COLOR", "1");
    cmd
}

/// Runs `pinset args` to its end, bounded.
pub fn run_pinset(args: &[&str]) -> std::process::Output {
    run_bounded(pinset_cmd(args), RUN_BOUND, &format!("pinset {}", args.join(" ")))
}

/// Every regular file under `root` (symbolic links not followed).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// Files under `root` holding a PEM private key (any kind: PKCS#8, SEC1, PKCS#1,
/// encrypted) that are not inside `site/pki/`.
pub fn keys_outside_pki(root: &Path, site: &Path) -> Vec<PathBuf> {
    let pki = site.join("pki");
    files_under(root)
        .into_iter()
        .filter(|f| !f.starts_with(&pki))
        .filter(|f| std::fs::read(f).is_ok_and(|bytes| bytes.windows(16).any(|w| w == b"PRIVATE KEY-----")))
        .collect()
}

/// What interrupted commands leave, anywhere under `site`: staging folders, temporary
/// files of atomic writes, issue markers, the staging folder of a renewal or rotation.
pub fn leftovers(site: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![site.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".pinset-init-")
                || name.contains(".tmp-")
                || name == ".pinset-issuing"
                || name == ".pinset-change"
            {
                found.push(entry.path().display().to_string());
            }
            if entry.file_type().is_ok_and(|k| k.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    found
}

/// Every row of the site's ledger.
pub fn ledger_rows(site: &Path) -> Vec<LedgerEntry> {
    Ledger::open(&site.join("pki").join(LEDGER_FILE)).expect("the ledger").entries().expect("ledger rows")
}

/// The names of the servers in the site's plan.
pub fn plan_servers(site: &Path) -> Vec<String> {
    pinset::Site::open(site).expect("the plan").plan.servers.iter().map(|s| s.name.clone()).collect()
}

/// The site works: server `server`'s chain verifies for `ip` against the site, and every
/// export is made (into `out`, outside the site).
#[track_caller]
pub fn assert_site_works(site: &Path, server: &str, ip: &str, out: &Path) {
    let chain = site.join(format!("pki/servers/{server}/chain.pem"));
    let verified = run_pinset(&["verify", s(&chain), "--site", s(site), "--name", ip]);
    assert_exit(&verified, 0, &format!("verify of server {server} in {}", site.display()));
    let _ = std::fs::remove_dir_all(out);
    let exported = run_pinset(&["export", "all", "--site", s(site), "--out", s(out)]);
    assert_exit(&exported, 0, &format!("export all of {}", site.display()));
}

/// The plan and the ledger agree: one active certificate per identity, the one the plan
/// names; the roots' rows are those of the plan's active, standby and retiring roots.
pub fn assert_plan_and_ledger_agree(site: &Path, what: &str) {
    let plan = pinset::Site::open(site).expect("plan").plan;
    let rows = ledger_rows(site);
    let status_of = |serial: &Option<String>| {
        rows.iter().find(|r| Some(&r.serial) == serial.as_ref()).map(|r| (r.kind.clone(), r.status.clone()))
    };
    for server in &plan.servers {
        let active: Vec<_> =
            rows.iter().filter(|r| r.kind == "server" && r.name == server.name && r.status == "active").collect();
        assert_eq!(active.len(), 1, "{what}: one active row for {}: {active:?}", server.name);
        assert_eq!(Some(&active[0].serial), server.active.serial.as_ref(), "{what}");
    }
    let authority = &plan.authority;
    assert_eq!(
        status_of(&authority.active.as_ref().and_then(|s| s.serial.clone())),
        Some(("ca".into(), "active".into())),
        "{what}"
    );
    assert_eq!(
        status_of(&authority.standby.as_ref().and_then(|s| s.serial.clone())),
        Some(("ca-standby".into(), "standby".into())),
        "{what}"
    );
    if let Some(r) = &authority.retiring {
        assert_eq!(status_of(&r.serial), Some(("ca".into(), "retiring".into())), "{what}");
    }
    assert_eq!(rows.iter().filter(|r| r.kind == "ca" && r.status == "active").count(), 1, "{what}");
}
