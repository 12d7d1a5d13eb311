//! `pinset export` as a whole: every target of the fixture sites equals its committed
//! golden file byte for byte (the snapshot test), exports are deterministic, one-file
//! targets print to stdout, and bad sites or targets give clear errors.
//!
//! The goldens live in `testdata/exports/<site>/`, made from `testdata/sites/<site>/` by
//! `testdata/regenerate exports`; after a deliberate change to a renderer, run it and
//! review the diff like any other code change.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use common::{init_site, pinset, s, tempdir};

const FIXTURE_SITES: [&str; 3] = ["shop", "hub", "clinic"];

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Runs `pinset export all -v` on `site` into `out`, returning stderr (every warning).
fn export_all(site: &Path, out: &Path) -> String {
    let res = pinset().args(["export", "all", "-v", "--site", s(site), "--out", s(out)]).output().expect("run pinset");
    let stderr = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(res.status.success(), "pinset export all --site {} failed:\n{stderr}", site.display());
    stderr
}

#[test]
fn every_target_of_every_fixture_site_matches_its_golden_files() {
    let tmp = tempdir();
    for site in FIXTURE_SITES {
        let out = tmp.path().join(site);
        let warnings = export_all(&testdata().join("sites").join(site), &out);
        let got = tree(&out);
        let golden_dir = testdata().join("exports").join(site);
        let want = tree(&golden_dir);
        let hint = "if the change is intended, run `testdata/regenerate exports` and review the diff";
        let got_names: Vec<&String> = got.keys().collect();
        let want_names: Vec<&String> = want.keys().collect();
        assert_eq!(got_names, want_names, "site {site}: the set of exported files changed; {hint}");
        for (path, bytes) in &got {
            assert!(
                want[path] == *bytes,
                "site {site}: {path} differs from {}/{path}; {hint}\n--- exported now ---\n{}",
                golden_dir.display(),
                String::from_utf8_lossy(bytes)
            );
        }
        let want_warnings =
            std::fs::read_to_string(testdata().join("exports").join(format!("{site}.warnings"))).expect("warnings");
        assert_eq!(warnings, want_warnings, "site {site}: the warnings changed; {hint}");
    }
}

#[test]
fn the_same_plan_gives_byte_identical_exports() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "site", &["--ip", "192.168.1.10", "--ip", "fd00::10", "--dns", "hub.local"]);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let wa = export_all(&site, &a);
    let wb = export_all(&site, &b);
    assert_eq!(wa, wb, "warnings differ between two runs");
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 16, "export all wrote only {} files", ta.len());
    assert_eq!(ta, tb, "two exports of the same plan differ");

    // A single target is the same as its folder in `export all`.
    let c = tmp.path().join("c");
    let res = pinset().args(["export", "node", "--site", s(&site), "--out", s(&c)]).output().expect("run pinset");
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let node: BTreeMap<String, Vec<u8>> =
        ta.iter().filter_map(|(k, v)| k.strip_prefix("node/").map(|k| (k.to_string(), v.clone()))).collect();
    assert_eq!(tree(&c), node, "export node differs from all/node");
}

#[test]
fn the_index_names_every_file_and_every_warning_rule() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let warnings = export_all(&testdata().join("sites/shop"), &out);
    let index = std::fs::read_to_string(out.join("README.md")).expect("README.md");
    for path in tree(&out).keys().filter(|p| *p != "README.md") {
        assert!(index.contains(&format!("`{path}`")), "README.md does not explain {path}");
    }
    for line in warnings.lines() {
        let rule = line.split('[').nth(1).and_then(|r| r.split(']').next()).expect("warning: target [rule]: …");
        assert!(index.contains(&format!("**{rule}**")), "README.md does not mention warning rule {rule}");
    }
    for pin in ["buHGk5I70w0QlIwLP68iFJrYqgVzxpCoERDu332PkqE=", "W6zvg2q3iLjpKZ4e7tYDM7vFaLaEVh8cRXszzQMeUwo="] {
        assert!(index.contains(pin), "README.md lacks the CA pin {pin}");
    }
}

#[test]
fn a_one_file_target_prints_to_stdout_and_a_many_file_target_needs_out() {
    let site = testdata().join("sites/shop");
    let tmp = tempdir();
    // Every one-file target prints exactly the file `--out` writes.
    for target in pinset::export::Target::ALL {
        let out = tmp.path().join(target.name());
        let res =
            pinset().args(["export", target.name(), "--site", s(&site), "--out", s(&out)]).output().expect("pinset");
        assert!(res.status.success(), "export {target}: {}", String::from_utf8_lossy(&res.stderr));
        let files = tree(&out);
        let printed = pinset().args(["export", target.name(), "--site", s(&site)]).output().expect("run pinset");
        if files.len() == 1 {
            assert!(
                printed.status.success(),
                "export {target} to stdout: {}",
                String::from_utf8_lossy(&printed.stderr)
            );
            assert_eq!(&printed.stdout, files.values().next().expect("one file"), "export {target} on stdout");
        } else {
            assert_eq!(printed.status.code(), Some(2), "export {target} ({} files) without --out", files.len());
            let err = String::from_utf8_lossy(&printed.stderr);
            assert!(printed.stdout.is_empty(), "nothing on stdout when refusing: {:?}", printed.stdout);
            assert!(
                err.contains(&format!("hint: give a folder: pinset export {target} --out DIR")),
                "export {target} without --out should say to give --out:\n{err}"
            );
        }
    }
}

#[test]
fn files_are_written_with_their_modes_next_to_files_pinset_did_not_write() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("curl")).expect("mkdir");
    std::fs::write(out.join("curl/mine.txt"), "not pinset's").expect("write");
    export_all(&testdata().join("sites/shop"), &out);
    // And again over the first: files are replaced, nothing is left half-written.
    let listed = pinset()
        .args(["export", "all", "--site", s(&testdata().join("sites/shop")), "--out", s(&out)])
        .output()
        .expect("run pinset");
    assert!(listed.status.success());
    let stdout = String::from_utf8_lossy(&listed.stdout);
    for target in pinset::export::Target::ALL {
        let line = format!("{}/", target.name());
        assert!(
            stdout.lines().filter(|l| l.starts_with(&line)).count() == 1,
            "one summary line for {target} on stdout:\n{stdout}"
        );
    }
    assert_eq!(std::fs::read_to_string(out.join("curl/mine.txt")).expect("read"), "not pinset's");
    for (path, _) in tree(&out) {
        assert!(!path.contains(".tmp-"), "a temporary file was left behind: {path}");
        let mode = std::fs::metadata(out.join(&path)).expect("stat").permissions().mode() & 0o777;
        // The launchers are scripts a developer runs; everything else is data.
        let want = if matches!(path.as_str(), "curl/pinset-curl" | "chromium/pinset-chromium") {
            0o755
        } else if path == "curl/mine.txt" {
            mode
        } else {
            0o644
        };
        assert_eq!(mode, want, "{path} has mode {mode:o}");
    }
}

#[test]
fn an_unknown_target_lists_the_known_ones() {
    let res = pinset().args(["export", "blackberry"]).output().expect("run pinset");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    for name in ["android", "ios", "okhttp", "flutter", "python", "all"] {
        assert!(err.contains(name), "the error lists {name}:\n{err}");
    }
}

#[test]
fn a_missing_site_or_a_damaged_anchor_is_a_clear_error() {
    let tmp = tempdir();
    let res = pinset().args(["export", "node", "--site", s(tmp.path())]).output().expect("run pinset");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("pinset.toml"), "names the missing plan:\n{err}");

    // The CA certificate truncated: the export refuses and names the file; no output folder.
    let site = init_site(tmp.path(), "site", &["--ip", "192.168.1.10"]);
    let ca = site.join("pki/authority/ca.pem");
    let pem = std::fs::read_to_string(&ca).expect("read ca.pem");
    std::fs::write(&ca, &pem[..pem.len() / 2]).expect("truncate");
    let out = tmp.path().join("out");
    let res = pinset().args(["export", "all", "--site", s(&site), "--out", s(&out)]).output().expect("run pinset");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("ca.pem"), "names the damaged file:\n{err}");
    assert!(!out.exists(), "nothing is written when the site cannot be read");

    // A certificate swapped for another one: the pin in the plan no longer matches.
    std::fs::write(&ca, pem).expect("restore");
    let standby = std::fs::read(site.join("pki/authority/ca-standby.pem")).expect("read standby");
    std::fs::write(&ca, standby).expect("swap");
    let res = pinset().args(["export", "node", "--site", s(&site), "--out", s(&out)]).output().expect("run pinset");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("is not the plan's"), "says the pin does not match the plan:\n{err}");
}

#[test]
fn a_site_name_that_would_break_out_of_a_comment_is_refused() {
    // The name is in every file's first comment; a newline there would end a `#` comment in
    // the curl and Chromium scripts (and run the rest), U+2028 a `//` comment in JavaScript.
    let tmp = tempdir();
    let site = init_site(tmp.path(), "site", &["--ip", "192.168.1.10"]);
    let plan_path = site.join("pinset.toml");
    let plan = std::fs::read_to_string(&plan_path).expect("read pinset.toml");
    for hostile in ["x\\n$(touch pwned)", "x\\u2028y = 1"] {
        let edited = plan.replace("name = \"site\"", &format!("name = \"{hostile}\""));
        assert_ne!(edited, plan, "the plan names the site");
        std::fs::write(&plan_path, edited).expect("write pinset.toml");
        let out = tmp.path().join("out");
        let res = pinset().args(["export", "all", "--site", s(&site), "--out", s(&out)]).output().expect("run pinset");
        assert_eq!(res.status.code(), Some(2), "{hostile}");
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains("site name") && err.contains("on one line"), "{hostile}:\n{err}");
        assert!(!out.exists(), "nothing is written for {hostile}");
    }
}

#[test]
fn an_out_that_is_a_file_is_refused_and_left_alone() {
    let tmp = tempdir();
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "mine").expect("write");
    let res = pinset()
        .args(["export", "node", "--site", s(&testdata().join("sites/shop")), "--out", s(&file)])
        .output()
        .expect("run pinset");
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("notes.txt") && err.contains("is a file, not a folder"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "mine");
}

#[test]
fn a_test_server_can_be_kept_out_of_every_export() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "site", &["--ip", "192.168.1.10", "--dns", "shop.example"]);
    let out = pinset()
        .args(["issue", "server", "bench", "--ip", "127.0.0.1", "--site", s(&site)])
        .output()
        .expect("run pinset issue server");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // By server name and by address: nothing of the test server in any file of any target.
    for how in [&["--exclude", "bench"][..], &["--exclude", "127.0.0.1"][..], &["--only", "server"][..]] {
        let dir = tmp.path().join(format!("release{}", how.join("")));
        let res =
            pinset().args(["export", "all", "--site", s(&site), "--out", s(&dir)]).args(how).output().expect("run");
        assert!(res.status.success(), "{how:?}: {}", String::from_utf8_lossy(&res.stderr));
        let files = tree(&dir);
        for (path, bytes) in &files {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("127.0.0.1"), "{how:?}: {path} still names the test server's address");
        }
        let nsc = String::from_utf8_lossy(&files["android/res/xml/network_security_config.xml"]).into_owned();
        assert!(nsc.contains("192.168.1.10") && nsc.contains("shop.example"), "{how:?}: the production addresses stay");
    }

    // One address of a server: the others stay.
    let dir = tmp.path().join("no-dns");
    let res = pinset()
        .args(["export", "android", "--site", s(&site), "--out", s(&dir), "--exclude", "shop.example"])
        .output()
        .expect("run");
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let nsc = std::fs::read_to_string(dir.join("res/xml/network_security_config.xml")).expect("read");
    assert!(nsc.contains("192.168.1.10") && nsc.contains("127.0.0.1") && !nsc.contains("shop.example"), "{nsc}");

    // A self-signed site: excluding a server drops its own certificates from the anchors too.
    let hub = init_site(tmp.path(), "hub", &["--self-signed", "--ip", "10.0.0.5", "--server-name", "hub"]);
    let res = pinset()
        .args(["issue", "server", "bench", "--ip", "127.0.0.1", "--site", s(&hub)])
        .output()
        .expect("run pinset issue server");
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let dir = tmp.path().join("hub-release");
    let res = pinset()
        .args(["export", "android", "--site", s(&hub), "--out", s(&dir), "--exclude", "bench"])
        .output()
        .expect("run");
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let raw: Vec<String> = tree(&dir).keys().filter(|k| k.starts_with("res/raw/")).cloned().collect();
    assert_eq!(raw.len(), 2, "the hub's active and standby certificates only: {raw:?}");
    assert!(raw.iter().all(|r| !r.contains("bench")), "{raw:?}");

    // A name that is neither, and a selection that leaves nothing, are refused, naming what there is.
    for (how, want) in [
        (&["--exclude", "tills"][..], "is neither a server nor an address of site site"),
        (&["--only", "10.9.9.9"][..], "is neither a server nor an address of site site"),
        (&["--exclude", "server", "--exclude", "bench"][..], "leaves no address of site site to export"),
    ] {
        let dir = tmp.path().join("refused");
        let res =
            pinset().args(["export", "all", "--site", s(&site), "--out", s(&dir)]).args(how).output().expect("run");
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "{how:?}: {err}");
        assert!(err.contains(want), "{how:?}: {err}");
        assert!(err.contains("hint: the site's servers and addresses are: server server (192.168.1.10, shop.example); server bench (127.0.0.1)"), "{how:?}: {err}");
        assert!(!dir.exists(), "{how:?}: nothing is written");
    }
}
