//! Hostile conditions from outside, each class kept as a test: a standard error that cannot
//! be written, addresses and URLs that try to smuggle something past pinset, a site whose
//! files were swapped behind the plan's back, and decoding bombs. Concurrent writers are in
//! `hostile_concurrency.rs`, `kill -9` in `hostile_crash.rs`; slow and lying servers in
//! `get.rs`, forged certificate text in `snapshots.rs`.

mod common;

use std::fs::File;
use std::process::Stdio;

use common::{assert_contains, assert_exit, loopback_site, pinset, s, stderr, tempdir};
use pinset_testkit::site::{ca_pem, server_files};

/// Runs pinset with stderr on `/dev/full`, where every write fails with ENOSPC.
fn with_stderr_full(args: &[&str]) -> std::process::Output {
    let full = File::options().write(true).open("/dev/full").expect("open /dev/full");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pinset"));
    cmd.args(args).env_remove("PINSET_SITE").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(full));
    cmd.output().expect("run pinset")
}

#[test]
fn no_command_panics_when_stderr_is_a_full_device() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let (cert, _) = server_files(&site);
    let ca = ca_pem(&site);
    let missing = t.path().join("missing.pem");
    let (ed, bad) = (t.path().join("ed"), t.path().join("bad"));
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["pin", s(&cert)], 0),
        (vec!["pin", s(&missing)], 2),
        (vec!["pin", "127.0.0.1:1"], 2),
        (vec!["inspect", s(&cert)], 0),
        (vec!["verify", s(&cert), "--site", s(&site), "--name", "127.0.0.1"], 0),
        (vec!["verify", s(&cert), "--ca", s(&ca), "--name", "10.9.9.9"], 1),
        (vec!["lint", s(&cert), "--name", "10.9.9.9"], 1),
        (vec!["get", "https://127.0.0.1:1/", "--site", s(&site), "--timeout", "2"], 2),
        (vec!["export", "all", "--site", s(&site)], 2),
        (vec!["init", s(&ed), "--ip", "127.0.0.1", "--key-type", "ed25519"], 0),
        (vec!["init", s(&bad), "--ip", "300.1.1.1"], 2),
        (vec!["issue", "server", "x", "--site", s(&site), "--ip", "127.0.0.9"], 0),
        (vec!["issue", "server", "x", "--site", s(&site), "--ip", "127.0.0.9"], 2),
    ];
    for (args, code) in cases {
        let out = with_stderr_full(&args);
        assert_ne!(out.status.code(), Some(101), "pinset {args:?} panicked with stderr on /dev/full");
        assert_eq!(out.status.code(), Some(code), "pinset {args:?}: exit code with stderr on /dev/full");
    }
}

#[test]
fn an_ipv4_mapped_ipv6_address_is_refused_with_the_ipv4_address_to_give() {
    let t = tempdir();
    let out = pinset().args(["init", s(&t.path().join("x")), "--ip", "::ffff:192.168.1.10"]).output().expect("run");
    assert_exit(&out, 2, "an IPv4-mapped IPv6 address");
    assert_contains(&stderr(&out), &["192.168.1.10 written as IPv6", "hint: use --ip 192.168.1.10"], "the refusal");
    assert!(!t.path().join("x").exists(), "nothing is created");
}

#[test]
fn urls_cannot_smuggle_credentials_or_headers_into_a_request() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    for (url, says) in [
        ("https://user@127.0.0.1:1/", "user name or password"),
        ("https://user:pw@127.0.0.1:1/", "user name or password"),
        ("https://127.0.0.1:1/a\r\nX-Injected: 1", "control character"),
        ("http://127.0.0.1:1/", "plain http"),
    ] {
        let out = pinset().args(["get", url, "--site", s(&site), "--timeout", "2"]).output().expect("run");
        assert_exit(&out, 2, url);
        assert_contains(&stderr(&out), &[says], url);
    }
    let out = pinset()
        .args(["get", "https://127.0.0.1:1/", "--site", s(&site), "-H", "X-A: 1\r\nX-Injected: 1", "--timeout", "2"])
        .output()
        .expect("run");
    assert_exit(&out, 2, "a header with a line break");
}

#[test]
fn an_anchor_swapped_behind_the_plan_is_refused_even_after_the_pins_expired() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let (cert, _) = server_files(&site);
    // Pins that expired long ago: only the anchors decide now.
    let plan = site.join("pinset.toml");
    let text = std::fs::read_to_string(&plan).expect("plan");
    std::fs::write(&plan, text.replacen("\npin = \"ca\"\n", "\npin = \"ca\"\npin_expiration = \"2020-01-01\"\n", 1))
        .expect("write plan");
    let ok = pinset().args(["verify", s(&cert), "--site", s(&site), "--name", "127.0.0.1"]).output().expect("run");
    assert_exit(&ok, 0, "the genuine site with expired pins");

    // An attacker replaces the standby root's file with a CA of their own.
    let other = tempdir();
    let theirs = loopback_site(other.path(), "theirs", &[]);
    std::fs::copy(ca_pem(&theirs), site.join("pki/authority/ca-standby.pem")).expect("swap");
    let (their_cert, _) = server_files(&theirs);
    let out =
        pinset().args(["verify", s(&their_cert), "--site", s(&site), "--name", "127.0.0.1"]).output().expect("run");
    assert_exit(&out, 2, "a site whose anchor file holds another key");
    assert_contains(&stderr(&out), &["ca-standby.pem", "is not the plan's"], "the refusal names the file");
}

#[test]
fn decoding_bombs_are_refused_before_any_work() {
    let t = tempdir();
    let site = loopback_site(t.path(), "shop", &[]);
    let bags = t.path().join("bags.p12");
    let scrypt = t.path().join("scrypt.p12");
    std::fs::write(&bags, pinset_testkit::bombs::pkcs12_many_key_bags()).expect("write");
    std::fs::write(&scrypt, pinset_testkit::bombs::pkcs12_scrypt_gigabyte()).expect("write");
    let bags_says = ["bags.p12", "200 encrypted key bag(s)", "200,000,000", "6,000,000 rounds"];
    let scrypt_says = ["scrypt.p12", "N=1048576, r=8, p=16", "1024 MiB", "pinset allows 32 MiB"];
    for (args, says) in [
        (vec!["pin", s(&bags)], &bags_says),
        (vec!["inspect", s(&bags)], &bags_says),
        (vec!["pin", s(&scrypt)], &scrypt_says),
        (vec!["get", "https://127.0.0.1:1/", "--site", s(&site), "--p12", s(&scrypt), "--timeout", "2"], &scrypt_says),
    ] {
        // Bounded as every run is; the refusal's words show that no key was derived.
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pinset"));
        cmd.args(&args).env_remove("PINSET_SITE").env("PINSET_P12_PASSWORD", "pinset");
        let out = common::run_bounded(cmd, std::time::Duration::from_secs(20), &format!("pinset {args:?}"));
        assert_exit(&out, 2, &format!("{args:?}"));
        assert_contains(&stderr(&out), says, &format!("{args:?}"));
    }
}

#[test]
fn malformed_addresses_for_a_live_pin_are_named_as_addresses_not_files() {
    for (address, says) in [
        ("127.0.0.1:65536", "not a number from 1 to 65535"),
        ("[::1", "has no closing ']'"),
        ("a:b:c", "is not an IPv6 address"),
        ("http://127.0.0.1:80", "plain http"),
    ] {
        let out = pinset().args(["pin", address, "--timeout", "2"]).output().expect("run");
        assert_exit(&out, 2, address);
        let err = stderr(&out);
        assert_contains(&err, &[&format!("{address:?}"), says], address);
        assert!(!err.contains("No such file"), "{address}: reported as a missing file:\n{err}");
    }
}

#[test]
fn ten_thousand_addresses_for_one_server_are_refused_before_any_work() {
    let t = tempdir();
    let dir = t.path().join("many");
    let ips: Vec<String> = (0..10_000u32).map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)).collect();
    let mut args = vec!["init".to_string(), s(&dir).to_string()];
    for ip in &ips {
        args.extend(["--ip".to_string(), ip.clone()]);
    }
    let out = pinset().args(&args).output().expect("run");
    assert_exit(&out, 2, "init with 10,000 addresses");
    assert_contains(&stderr(&out), &["has 10000 addresses; one certificate names at most 64", "hint:"], "the refusal");
    assert!(!dir.exists(), "nothing is created");
}
