//! Snapshots of exactly what a person sees: the exit code, stdout and stderr of a `pinset`
//! run, pinned with insta. What differs between runs — the temporary folder, pins, dates,
//! serials, fingerprints, days left — is replaced by a named placeholder, so a snapshot
//! changes only when the output's wording or layout does.
//!
//! Update snapshots after an intended change with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p pinset-cli --test snapshots`), then read the diff.

use std::path::Path;
use std::process::Output;

/// The filters that make a run's output stable: `tmp` (the test's folder) becomes `[TMP]`.
pub fn settings(tmp: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    let tmp = regex_escape(&tmp.display().to_string());
    s.add_filter(&tmp, "[TMP]");
    // SPKI pins and base64 SHA-256 values: 43 base64 characters and '='.
    s.add_filter(r"[A-Za-z0-9+/]{43}=", "[PIN]");
    // Whole-certificate fingerprints, colon hex.
    s.add_filter(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}", "[CERT-SHA256]");
    // RFC 3339 times, then dates.
    s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", "[TIME]");
    s.add_filter(r"\d{4}-\d{2}-\d{2}", "[DATE]");
    // Serial numbers (pinset's and openssl's are random), in hex.
    s.add_filter(r"\b[0-9a-f]{16,40}\b", "[SERIAL]");
    s.add_filter(r"\b\d+ days left\b", "[N] days left");
    s.add_filter(r"\(in \d+ days\)", "(in [N] days)");
    s.add_filter(r#""days_left": -?\d+"#, r#""days_left": [N]"#);
    s.add_filter(r"\(-?\d+ days\)", "([N] days)");
    s.add_filter(r"the first in -?\d+", "the first in [N]");
    // The key tag in the name of a root made by a promotion.
    s.add_filter(r"\([0-9a-f]{8}\)", "([TAG])");
    // Loopback ports of test servers.
    s.add_filter(r"127\.0\.0\.1:\d{2,5}", "127.0.0.1:[PORT]");
    s.add_filter(r"\[::1\]:\d{2,5}", "[::1]:[PORT]");
    s.set_prepend_module_to_snapshot(false);
    s
}

/// A run as one text: `exit: N`, then stdout and stderr under their own headings.
pub fn run_text(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().map_or("signal".into(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn regex_escape(s: &str) -> String {
    s.chars().map(|c| if "\\.+*?()|[]{}^$#&-~".contains(c) { format!("\\{c}") } else { c.to_string() }).collect()
}
