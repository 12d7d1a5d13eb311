//! curl, the reference client: run quietly (`-q`: no `~/.curlrc`), bounded in time, never
//! through a proxy, errors on stderr, so its exit code and stderr are what a test checks
//! (60: the chain does not verify; 90: the pinned key does not match).

use std::path::Path;
use std::process::Output;

use pinset::Pin;

use crate::process::{run, s};

/// Bound on one curl run (`--max-time`, seconds).
pub const CURL_MAX_TIME: &str = "30";

/// Runs `curl -q --silent --show-error --noproxy '*' --max-time 30` with `args`.
pub fn curl(args: &[&str]) -> Output {
    let mut all = vec!["-q", "--silent", "--show-error", "--noproxy", "*", "--max-time", CURL_MAX_TIME];
    all.extend_from_slice(args);
    run("curl", &all)
}

/// curl trusting exactly `ca_file` (no system CAs) and pinning `pin`, as an app is told
/// to by a site, fetching `url`.
pub fn curl_pinned(ca_file: &Path, pin: Pin, url: &str) -> Output {
    curl(&["--cacert", s(ca_file), "--capath", "/dev/null", "--pinnedpubkey", &format!("sha256//{pin}"), url])
}
