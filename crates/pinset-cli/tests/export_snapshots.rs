//! What a person sees from `pinset export`, pinned down with insta: `export all` sums up each
//! platform on one line (files, number of warnings) and points at the index README for the
//! detail, `export all -v` prints every warning too, and a single target prints its warnings
//! in full. The fixture site `testdata/sites/shop` is exported, so the counts are its own.
//!
//! Snapshots live in `tests/snapshots/`; see `common/snapshot.rs` for what is masked.

mod common;

#[path = "common/snapshot.rs"]
mod snapshot;

use std::path::{Path, PathBuf};

use common::{pinset, s, tempdir};

fn shop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sites/shop")
}

macro_rules! snap {
    ($tmp:expr, $name:expr, $out:expr) => {
        snapshot::settings($tmp).bind(|| insta::assert_snapshot!($name, snapshot::run_text(&$out)))
    };
}

#[test]
fn export_all_sums_up_each_platform_and_leaves_the_detail_to_its_index() {
    let t = tempdir();
    let out = t.path().join("out");
    let run = pinset().args(["export", "all", "--site", s(&shop()), "--out", s(&out)]).output().expect("run pinset");
    snap!(t.path(), "export_all", run);
    let index = std::fs::read_to_string(out.join("README.md")).expect("the index README");
    assert!(index.contains("**ats-no-ip**"), "the README carries the warnings left out of the terminal");

    let verbose =
        pinset().args(["export", "all", "-v", "--site", s(&shop()), "--out", s(&out)]).output().expect("run pinset");
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(verbose.status.success(), "{stderr}");
    assert!(stderr.contains("warning: ios [ats-no-ip]:"), "-v prints every warning:\n{stderr}");
    assert_eq!(verbose.stdout, run.stdout, "-v changes stderr only");
}

#[test]
fn export_one_target_prints_its_warnings_in_full() {
    let t = tempdir();
    let out = t.path().join("ios");
    let run = pinset().args(["export", "ios", "--site", s(&shop()), "--out", s(&out)]).output().expect("run pinset");
    snap!(t.path(), "export_ios", run);
}
