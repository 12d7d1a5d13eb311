//! What every integration test shares: the built `pinset` binary, site creation, and
//! running real peers (openssl, keytool) with readable failures.

#![allow(dead_code)]

pub mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `pinset` binary cargo built for this test run.
pub fn pinset() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("pinset").expect("pinset binary");
    cmd.env_remove("PINSET_SITE").env_remove("PINSET_P12_PASSWORD").env("NO_COLOR", "1");
    cmd
}

/// Creates a site in `parent/name` with `pinset init` and the given extra arguments.
pub fn init_site(parent: &Path, name: &str, args: &[&str]) -> PathBuf {
    let dir = parent.join(name);
    let out = pinset().arg("init").arg(&dir).args(args).output().expect("run pinset init");
    assert!(out.status.success(), "pinset init {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// Runs a program and returns its output, failing the test with a clear message when the
/// program itself cannot be started.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (install it with scripts/setup): {e}"))
}

/// Runs `openssl` and returns stdout; the test fails when openssl fails.
pub fn openssl_ok(args: &[&str]) -> Vec<u8> {
    let out = run("openssl", args);
    assert!(out.status.success(), "openssl {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A path as &str (test paths are always UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A temporary folder, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

/// Standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails unless pinset exited with `code` and did not panic; the message shows both streams.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\n--- stdout:\n{}\n--- stderr:\n{}",
        stdout(out),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{what}: pinset panicked:\n{}", stderr(out));
}

/// Fails unless `haystack` contains every one of `needles`.
#[track_caller]
pub fn assert_contains(haystack: &str, needles: &[&str], what: &str) {
    for n in needles {
        assert!(haystack.contains(n), "{what}: expected {n:?} in:\n{haystack}");
    }
}
