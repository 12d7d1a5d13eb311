//! Bad input gets a clear error naming the value, a hint, exit code 2, no panic, and
//! nothing half-written. One test per kind of bad input.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{init_site, pinset, s};

/// Runs pinset, expects exit 2, and returns stderr.
fn fails(args: &[&str]) -> String {
    let out = pinset().args(args).output().expect("run pinset");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "pinset {args:?} should exit 2; stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "pinset {args:?} panicked:\n{stderr}");
    assert!(out.stdout.is_empty(), "an error prints no data on stdout: {}", String::from_utf8_lossy(&out.stdout));
    stderr
}

fn assert_mentions(stderr: &str, needles: &[&str]) {
    for n in needles {
        assert!(stderr.contains(n), "expected {n:?} in:\n{stderr}");
    }
}

/// Every file below `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).expect("prefix").display().to_string());
        }
    }
    out.sort();
    out
}

fn cert_pem(dir: &Path) -> String {
    s(&dir.join("pki/servers/server/cert.pem")).to_string()
}

#[test]
fn malformed_pem_names_the_file() {
    let t = tempfile::tempdir().expect("tempdir");
    let f = t.path().join("bad.pem");
    fs::write(&f, "-----BEGIN CERTIFICATE-----\n!!!! not base64 !!!!\n-----END CERTIFICATE-----\n").expect("write");
    let err = fails(&["pin", s(&f)]);
    assert_mentions(&err, &["error:", "bad.pem", "hint:"]);
}

#[test]
fn truncated_pem_says_truncated_and_where() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let full = fs::read_to_string(cert_pem(&site)).expect("read cert");
    let cut = t.path().join("cut.pem");
    fs::write(&cut, &full[..full.len() / 2]).expect("write");
    for cmd in ["pin", "inspect"] {
        let err = fails(&[cmd, s(&cut)]);
        assert_mentions(&err, &["cut.pem", "truncated", "line 1", "hint:"]);
    }
}

#[test]
fn truncated_der_is_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let der = fs::read(site.join("pki/servers/server/cert.cer")).expect("read der");
    let cut = t.path().join("cut.cer");
    fs::write(&cut, &der[..der.len() - 20]).expect("write");
    let err = fails(&["inspect", s(&cut)]);
    assert_mentions(&err, &["cut.cer", "hint:"]);
}

#[test]
fn der_garbage_and_empty_files_are_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let junk = t.path().join("junk.bin");
    fs::write(&junk, (0..=255u8).cycle().take(700).collect::<Vec<_>>()).expect("write");
    assert_mentions(&fails(&["pin", s(&junk)]), &["junk.bin", "neither PEM nor", "hint:"]);
    let empty = t.path().join("empty.pem");
    fs::write(&empty, b"").expect("write");
    assert_mentions(&fails(&["pin", s(&empty)]), &["empty.pem", "is empty"]);
    assert_mentions(&fails(&["pin", s(&t.path().join("missing.pem"))]), &["missing.pem", "No such file"]);
}

#[test]
fn a_private_key_where_a_certificate_is_expected() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let key = site.join("pki/servers/server/key.pem");
    let err = fails(&["inspect", s(&key)]);
    assert_mentions(&err, &["key.pem", "private key", "a certificate was expected", "hint:"]);
}

#[test]
fn an_encrypted_private_key_gets_a_hint_to_decrypt_it() {
    let t = tempfile::tempdir().expect("tempdir");
    let f = t.path().join("enc.key");
    fs::write(&f, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n").expect("write");
    assert_mentions(&fails(&["pin", s(&f)]), &["enc.key", "encrypted private key", "openssl pkey"]);
}

#[test]
fn an_invalid_ip_is_named_and_nothing_is_created() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    let err = fails(&["init", s(&dir), "--ip", "192.168.1.300"]);
    assert_mentions(&err, &["192.168.1.300", "not a valid IPv4 or IPv6 address", "hint:"]);
    assert!(!dir.exists(), "a refused init leaves no folder behind");
    let err = fails(&["init", s(&dir), "--ip", "backoffice.local"]);
    assert_mentions(&err, &["backoffice.local", "use --dns"]);
}

#[test]
fn an_ip_given_to_dns_is_refused_with_the_right_flag() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    let err = fails(&["init", s(&dir), "--dns", "192.168.1.10"]);
    assert_mentions(&err, &["192.168.1.10", "iPAddress", "hint: use --ip 192.168.1.10"]);
    let err = fails(&["init", s(&dir), "--dns", "fd00::10"]);
    assert_mentions(&err, &["hint: use --ip fd00::10"]);
    assert!(!dir.exists());
}

#[test]
fn bad_dns_names_are_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    for bad in ["a.*.example", "-x.example", "under_score.local", "*"] {
        let err = fails(&["init", s(&dir), &format!("--dns={bad}")]);
        assert_mentions(&err, &[bad, "DNS name"]);
    }
}

#[test]
fn init_without_an_address_says_what_to_give() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    let err = fails(&["init", s(&dir)]);
    assert_mentions(&err, &["needs at least one address", "--ip"]);
    assert!(!dir.exists());
}

#[test]
fn an_existing_site_is_never_overwritten() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let plan = fs::read(site.join("pinset.toml")).expect("plan");
    let ca_key = fs::read(site.join("pki/authority/ca.key")).expect("key");
    let before = tree(&site);
    let err = fails(&["init", s(&site), "--ip", "192.168.1.99"]);
    assert_mentions(&err, &["already exists", "never overwrites", "hint:"]);
    assert_eq!(fs::read(site.join("pinset.toml")).expect("plan"), plan);
    assert_eq!(fs::read(site.join("pki/authority/ca.key")).expect("key"), ca_key, "the CA key was lost");
    assert_eq!(tree(&site), before);
}

#[test]
fn leftover_pki_without_a_plan_is_not_touched() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    fs::create_dir_all(dir.join("pki")).expect("mkdir");
    fs::write(dir.join("pki/precious.key"), "keep me").expect("write");
    let err = fails(&["init", s(&dir), "--ip", "192.168.1.10"]);
    assert_mentions(&err, &["pki", "move it away"]);
    assert_eq!(fs::read_to_string(dir.join("pki/precious.key")).expect("read"), "keep me");
}

#[test]
fn an_unwritable_folder_fails_cleanly() {
    let t = tempfile::tempdir().expect("tempdir");
    // A path under a regular file can never be created, whoever runs the test.
    let blocker = t.path().join("file");
    fs::write(&blocker, "x").expect("write");
    let err = fails(&["init", s(&blocker.join("site")), "--ip", "192.168.1.10"]);
    assert_mentions(&err, &["cannot create folder", "file/site"]);

    // A read-only folder: as root permissions are not enforced, so drop to `nobody`.
    let ro = t.path().join("ro");
    fs::create_dir(&ro).expect("mkdir");
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).expect("chmod");
    let bin = assert_cmd::cargo::cargo_bin("pinset");
    let target = ro.join("site");
    let out = if is_root() {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["init", s(&target), "--ip", "192.168.1.10"])
            .output()
            .expect("setpriv")
    } else {
        std::process::Command::new(&bin).args(["init", s(&target), "--ip", "192.168.1.10"]).output().expect("run")
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_mentions(&stderr, &["ro/site", "Permission denied", "hint:"]);
    assert!(tree(&ro).is_empty(), "nothing may be left behind: {:?}", tree(&ro));

    // A site folder that exists but is read-only: the staging area cannot be made.
    let ro_site = t.path().join("ro-site");
    fs::create_dir(&ro_site).expect("mkdir");
    fs::set_permissions(&ro_site, fs::Permissions::from_mode(0o555)).expect("chmod");
    let out = if is_root() {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["init", s(&ro_site), "--ip", "192.168.1.10"])
            .output()
            .expect("setpriv")
    } else {
        std::process::Command::new(&bin).args(["init", s(&ro_site), "--ip", "192.168.1.10"]).output().expect("run")
    };
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(tree(&ro_site).is_empty(), "nothing may be left behind: {:?}", tree(&ro_site));
}

fn is_root() -> bool {
    fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

#[test]
fn a_typo_in_the_plan_is_named_with_its_line() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let plan = fs::read_to_string(site.join("pinset.toml")).expect("plan");
    fs::write(site.join("pinset.toml"), plan.replace("pin = \"ca\"", "pinn = \"ca\"")).expect("write");
    let err = fails(&["pin", "--site", s(&site)]);
    assert_mentions(&err, &["pinset.toml", "pinn", "line", "hint:"]);
}

#[test]
fn a_plan_from_a_newer_pinset_is_refused_by_version() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let plan = fs::read_to_string(site.join("pinset.toml")).expect("plan");
    fs::write(site.join("pinset.toml"), plan.replace("version = 1", "version = 7")).expect("write");
    assert_mentions(&fails(&["pin", "--site", s(&site)]), &["version = 7", "reads version 1"]);
}

#[test]
fn a_folder_that_is_not_a_site_says_how_to_make_one() {
    let t = tempfile::tempdir().expect("tempdir");
    let err = fails(&["pin", "--site", s(t.path())]);
    assert_mentions(&err, &["pinset.toml", "not a pinset site", "pinset init"]);
}

#[test]
fn validity_over_apples_limit_is_refused_unless_allowed() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("site");
    let err = fails(&["init", s(&dir), "--ip", "192.168.1.10", "--days", "900"]);
    assert_mentions(&err, &["900 days", "825", "iOS and macOS", "--allow-long-validity"]);
    assert!(!dir.exists());
    init_site(t.path(), "long", &["--ip", "192.168.1.10", "--days", "900", "--allow-long-validity"]);
}

#[test]
fn a_second_identity_with_the_same_name_is_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let err = fails(&["issue", "server", "server", "--site", s(&site), "--ip", "192.168.1.11"]);
    assert_mentions(&err, &["\"server\"", "already exists"]);
    let err = fails(&["issue", "server", "../escape", "--site", s(&site), "--ip", "192.168.1.11"]);
    assert_mentions(&err, &["../escape", "letters, digits"]);
}

#[test]
fn client_certificates_need_a_password_source_and_a_ca() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    // No --password-file, no environment variable, no terminal: refuse, write nothing.
    let err = fails(&["issue", "client", "till-1", "--site", s(&site)]);
    assert_mentions(&err, &["password", "--password-file", "PINSET_P12_PASSWORD"]);
    assert!(!site.join("pki/clients").exists());
    let pw = t.path().join("empty-pw");
    fs::write(&pw, "\n").expect("write");
    assert_mentions(&fails(&["issue", "client", "till-1", "--site", s(&site), "--password-file", s(&pw)]), &["empty"]);
    assert!(!site.join("pki/clients/till-1").exists());

    let selfsigned = init_site(t.path(), "ss", &["--self-signed", "--ip", "192.168.1.10"]);
    let out = pinset()
        .args(["issue", "client", "till-1", "--site", s(&selfsigned)])
        .env("PINSET_P12_PASSWORD", "secret")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_mentions(&String::from_utf8_lossy(&out.stderr), &["need a private CA", "self-signed"]);
}

#[test]
fn the_site_is_found_by_flag_then_environment_then_current_folder() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = init_site(t.path(), "a", &["--ip", "192.168.1.10"]);
    let b = init_site(t.path(), "b", &["--ip", "192.168.1.20"]);
    let pins = |cmd: &mut assert_cmd::Command| String::from_utf8(cmd.output().expect("run").stdout).expect("utf8");
    let by_flag = pins(pinset().args(["pin", "--site", s(&a)]));
    let by_env = pins(pinset().arg("pin").env("PINSET_SITE", &a));
    let by_cwd = pins(pinset().arg("pin").current_dir(&a));
    let flag_over_env = pins(pinset().args(["pin", "--site", s(&b)]).env("PINSET_SITE", &a));
    assert!(by_flag.contains("active authority") && by_flag.contains("standby authority"), "{by_flag}");
    assert_eq!(by_flag, by_env);
    assert_eq!(by_flag, by_cwd);
    assert_ne!(flag_over_env, by_flag, "--site wins over PINSET_SITE");
}

#[test]
fn no_temporary_files_are_left_after_failures() {
    let t = tempfile::tempdir().expect("tempdir");
    let site = init_site(t.path(), "site", &["--ip", "192.168.1.10"]);
    let _ = fails(&["issue", "server", "server", "--site", s(&site), "--ip", "192.168.1.11"]);
    let _ = fails(&["init", s(&site), "--ip", "192.168.1.10"]);
    let stray: Vec<_> = tree(&site).into_iter().filter(|p| p.contains(".tmp-") || p.contains(".pinset-init")).collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn a_release_on_an_unknown_platform_is_refused_and_nothing_is_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let site = init_site(tmp.path(), "shop", &["--ip", "127.0.0.1"]);
    let err = fails(&["release", "add", "1.0", "--platform", "android,andriod", "--site", s(&site)]);
    assert_mentions(&err, &["andriod", "is not a client platform", "android, ios"]);
    let out = pinset().args(["release", "list", "--json", "--site", s(&site)]).output().expect("run pinset");
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list, serde_json::json!([]), "no release was recorded");
}
