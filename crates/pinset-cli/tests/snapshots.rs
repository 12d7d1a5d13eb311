//! What a person sees, pinned down: the human and `--json` output of `init`, `pin`,
//! `inspect` and `verify`, exit code and stderr included, and the same commands on a
//! certificate whose subject and SANs carry terminal escapes, line breaks and BEL (made by
//! openssl), which must reach the terminal escaped, never as control bytes.
//!
//! Snapshots live in `tests/snapshots/`; see `common/snapshot.rs` for what is masked.

mod common;

#[path = "common/server.rs"]
mod server;
#[path = "common/snapshot.rs"]
mod snapshot;

use std::path::Path;

use common::{pinset, s, tempdir};
use pinset_testkit::openssl::{HOSTILE_O, hostile};
use pinset_testkit::site::{ca_files, ca_pem, server_files};

fn run(args: &[&str]) -> std::process::Output {
    pinset().args(args).output().expect("run pinset")
}

fn site(tmp: &Path, extra: &[&str]) -> String {
    let dir = tmp.join("shop");
    let mut args = vec!["init", s(&dir), "--ip", "192.168.1.10", "--ip", "fd00::10", "--dns", "backoffice.local"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
    dir.display().to_string()
}

macro_rules! snap {
    ($tmp:expr, $name:expr, $out:expr) => {
        snapshot::settings($tmp).bind(|| insta::assert_snapshot!($name, snapshot::run_text(&$out)))
    };
}

#[test]
fn init_human_and_json() {
    let t = tempdir();
    let dir = t.path().join("shop");
    let out = run(&["init", s(&dir), "--ip", "192.168.1.10", "--ip", "fd00::10", "--dns", "backoffice.local"]);
    snap!(t.path(), "init", out);
    let dir = t.path().join("hub");
    let out = run(&["init", s(&dir), "--self-signed", "--ip", "10.0.0.5", "--json"]);
    snap!(t.path(), "init_self_signed_json", out);
    let out = run(&["init", s(&t.path().join("x")), "--ip", "192.168.1.300"]);
    snap!(t.path(), "init_bad_ip", out);
}

#[test]
fn pin_site_files_and_json() {
    let t = tempdir();
    let dir = site(t.path(), &[]);
    snap!(t.path(), "pin_site", run(&["pin", "--site", &dir]));
    snap!(t.path(), "pin_site_okhttp", run(&["pin", "--site", &dir, "--format", "okhttp"]));
    snap!(t.path(), "pin_site_json", run(&["pin", "--site", &dir, "--json"]));
    let (cert, _) = server_files(Path::new(&dir));
    let chain = Path::new(&dir).join("pki/servers/server/chain.pem");
    snap!(t.path(), "pin_chain", run(&["pin", s(&chain)]));
    snap!(t.path(), "pin_cert_json", run(&["pin", s(&cert), "--json"]));
}

#[test]
fn inspect_human_and_json() {
    let t = tempdir();
    let dir = site(t.path(), &[]);
    let (cert, _) = server_files(Path::new(&dir));
    snap!(t.path(), "inspect", run(&["inspect", s(&cert)]));
    snap!(t.path(), "inspect_json", run(&["inspect", s(&cert), "--json"]));
}

#[test]
fn verify_valid_and_invalid_human_and_json() {
    let t = tempdir();
    let dir = site(t.path(), &[]);
    let (cert, _) = server_files(Path::new(&dir));
    let ca = ca_pem(Path::new(&dir));
    snap!(t.path(), "verify_valid", run(&["verify", s(&cert), "--site", &dir, "--name", "192.168.1.10"]));
    snap!(t.path(), "verify_valid_json", run(&["verify", s(&cert), "--site", &dir, "--name", "fd00::10", "--json"]));
    snap!(t.path(), "verify_not_site", run(&["verify", s(&cert), "--site", &dir, "--name", "192.168.1.99"]));
    snap!(
        t.path(),
        "verify_not_site_json",
        run(&["verify", s(&cert), "--site", &dir, "--name", "192.168.1.99", "--json"])
    );
    snap!(t.path(), "verify_name_mismatch", run(&["verify", s(&cert), "--ca", s(&ca), "--name", "192.168.1.99"]));
    snap!(
        t.path(),
        "verify_ca_with_site",
        run(&["verify", s(&cert), "--site", &dir, "--ca", s(&ca), "--name", "192.168.1.10"])
    );
}

/// No byte below 0x20 but `\n`, no DEL and no C1 control in `text`.
fn assert_no_control_bytes(text: &[u8], what: &str) {
    let bad: Vec<u8> = text.iter().copied().filter(|b| (*b < 0x20 && *b != b'\n') || *b == 0x7f).collect();
    assert!(bad.is_empty(), "{what}: control bytes {bad:02x?} reach the terminal:\n{}", String::from_utf8_lossy(text));
    let s = String::from_utf8_lossy(text);
    assert!(!s.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)), "{what}: a C1 control reaches the terminal");
}

#[test]
fn a_certificate_with_terminal_escapes_prints_no_control_byte_and_adds_no_line() {
    let t = tempdir();
    let dir = site(t.path(), &[]);
    let (ca, ca_key) = ca_files(Path::new(&dir));
    let (cert, _) = hostile(t.path(), "hostile", Some((&ca, &ca_key)));
    let forged_line = HOSTILE_O.trim_start_matches('\n');
    for (name, args) in [
        ("hostile_inspect", vec!["inspect", s(&cert)]),
        ("hostile_pin", vec!["pin", s(&cert)]),
        ("hostile_verify", vec!["verify", s(&cert), "--ca", s(&ca), "--name", "127.0.0.1"]),
        ("hostile_verify_mismatch", vec!["verify", s(&cert), "--ca", s(&ca), "--name", "10.9.9.9"]),
    ] {
        let out = run(&args);
        assert_no_control_bytes(&out.stdout, &format!("{name} stdout"));
        assert_no_control_bytes(&out.stderr, &format!("{name} stderr"));
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.lines().any(|l| l.starts_with(forged_line)),
                "{name}: the certificate's subject started a line of its own:\n{text}"
            );
        }
        snap!(t.path(), name, out);
    }
    // JSON keeps the subject exact (escaped the JSON way).
    let out = run(&["inspect", s(&cert), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v[0]["subject"].as_str().expect("subject").contains('\u{1b}'), "{v}");
}

/// A server's whole run as a person sees it: started, then stopped with Ctrl-C.
fn served_run(dir: Option<&Path>, args: &[&str]) -> String {
    let running = server::Running::start_in(dir, args);
    let (status, stdout, stderr) = running.stop();
    format!(
        "exit: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        status.code().map_or("signal".into(), |c| c.to_string())
    )
}

#[test]
fn serve_and_up_start_messages_human_and_json() {
    let t = tempdir();
    let dir = site(t.path(), &[]);
    let mut settings = snapshot::settings(t.path());
    // The QR code encodes the random pins: its drawing is replaced whole.
    settings.add_filter(r"(?m)(^[ █▀▄]+\n)+", "[QR CODE]\n");
    let upstream = "http://127.0.0.1:9";
    let serve = ["serve", "--site", &dir, "--listen", "127.0.0.1:0", "--upstream", upstream];
    settings.bind(|| insta::assert_snapshot!("serve_start", served_run(None, &serve)));
    let mut json = serve.to_vec();
    json.extend(["--json", "--client-auth", "require", "--allow-client", "till-1"]);
    settings.bind(|| insta::assert_snapshot!("serve_start_json", served_run(None, &json)));
    let folder = t.path().join("box");
    std::fs::create_dir(&folder).expect("folder");
    let up = ["up", "--ip", "127.0.0.1", "--dns", "box.local", "--listen", "127.0.0.1:0"];
    settings.bind(|| insta::assert_snapshot!("up_start", served_run(Some(&folder), &up)));
    let mut json = up.to_vec();
    json.push("--json");
    settings.bind(|| insta::assert_snapshot!("up_again_json", served_run(Some(&folder), &json)));
}

#[test]
fn revoke_human_and_json() {
    let t = tempdir();
    let dir = site(t.path(), &[]);
    for name in ["till-1", "till-2"] {
        let out = pinset()
            .args(["issue", "client", name, "--site", &dir])
            .env("PINSET_P12_PASSWORD", "pw")
            .output()
            .expect("issue client");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    snap!(t.path(), "revoke", run(&["revoke", "till-1", "--site", &dir, "--reason", "key-compromise"]));
    snap!(t.path(), "revoke_again", run(&["revoke", "till-1", "--site", &dir, "--reason", "superseded"]));
    snap!(
        t.path(),
        "revoke_json",
        run(&["revoke", "till-2", "--site", &dir, "--reason", "cessation-of-operation", "--json"])
    );
    snap!(t.path(), "revoke_unknown", run(&["revoke", "nobody", "--site", &dir, "--reason", "unspecified"]));
}

/// `status`, `release`, `renew` and `rotate` through a site's life, human and JSON:
/// renewal due (a 20-day certificate), a release recorded, renewed, promoted, a promotion
/// refused while a key is retiring and then for the release it would cut off, forced, a
/// retirement refused for that release, the release retired, the key retired.
#[test]
fn lifecycle_commands_human_and_json() {
    let t = tempdir();
    let dir = site(t.path(), &["--days", "20"]);
    let site = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--site", &dir]);
        run(&all)
    };
    snap!(t.path(), "status_new", site(&["status"]));
    snap!(t.path(), "status_new_json", site(&["status", "--json"]));
    snap!(t.path(), "release_add", site(&["release", "add", "1.0", "--platform", "android,ios"]));
    snap!(t.path(), "release_add_json", site(&["release", "add", "1.0", "--platform", "okhttp", "--json"]));
    snap!(t.path(), "release_list", site(&["release", "list"]));
    snap!(t.path(), "release_list_json", site(&["release", "list", "--json"]));
    snap!(t.path(), "renew_dry_run", site(&["renew", "--dry-run"]));
    snap!(t.path(), "renew", site(&["renew"]));
    snap!(t.path(), "renew_nothing_due_json", site(&["renew", "--json"]));
    snap!(t.path(), "rotate_promote", site(&["rotate", "promote"]));
    snap!(t.path(), "rotate_promote_retiring", site(&["rotate", "promote"]));
    snap!(t.path(), "status_retiring", site(&["status"]));
    snap!(t.path(), "rotate_retire", site(&["rotate", "retire"]));
    snap!(t.path(), "rotate_promote_refused", site(&["rotate", "promote"]));
    snap!(t.path(), "rotate_promote_forced_json", site(&["rotate", "promote", "--force", "--json"]));
    snap!(t.path(), "rotate_retire_refused", site(&["rotate", "retire"]));
    snap!(t.path(), "release_retire_json", site(&["release", "retire", "1.0", "--json"]));
    snap!(t.path(), "release_retire_again", site(&["release", "retire", "1.0"]));
    snap!(t.path(), "rotate_retire_json", site(&["rotate", "retire", "--json"]));
    snap!(t.path(), "rotate_retire_nothing", site(&["rotate", "retire"]));
    let out = t.path().join("curl-2.0");
    snap!(t.path(), "export_release", site(&["export", "curl", "--out", s(&out), "--release", "2.0"]));
    snap!(t.path(), "export_release_server_target", site(&["export", "nginx", "--out", s(&out), "--release", "3.0"]));
    snap!(t.path(), "release_add_bad_version", site(&["release", "add", "2.0 beta"]));
    snap!(t.path(), "release_add_other_pins", site(&["release", "add", "1.0"]));
    snap!(t.path(), "release_retire_unknown", site(&["release", "retire", "9.9"]));
    snap!(t.path(), "renew_unknown_server", site(&["renew", "nosuch"]));
    snap!(t.path(), "status_after", site(&["status"]));
    snap!(t.path(), "status_after_json", site(&["status", "--json"]));
    snap!(t.path(), "renew_json", site(&["renew", "--within", "400d", "--json"]));
    snap!(t.path(), "release_retire", site(&["release", "retire", "2.0"]));
}
