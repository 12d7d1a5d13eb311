//! What the CLI's integration tests share beyond the test kit: the built `pinset` binary
//! and site creation with `pinset init`. The kit's process helpers are re-exported here, so
//! a test imports everything it runs programs with from one place; the real peers and
//! certificates come from `pinset_testkit` itself.

#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};

pub use pinset_testkit::process::{
    assert_contains, assert_exit, both, openssl_ok, run, run_bounded, s, stderr, stdout, tempdir,
};

/// OkHttp 3.13.1 and Okio 1.16, as Debian ships them (`libokhttp-java`, which scripts/setup
/// installs): what the okhttp export is compiled against and run with.
pub const OKHTTP_JARS: [&str; 2] = ["/usr/share/java/okhttp.jar", "/usr/share/java/okio.jar"];

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

/// A site in `parent/name` whose server answers at 127.0.0.1 and ::1, made by `pinset init`
/// with `extra` arguments.
pub fn loopback_site(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["--ip", "127.0.0.1", "--ip", "::1"];
    args.extend_from_slice(extra);
    init_site(parent, name, &args)
}
