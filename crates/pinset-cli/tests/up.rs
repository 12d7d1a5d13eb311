//! `pinset up`: a site created in an empty folder and served with its status page (the
//! pins, the anchors to download, every export as a .zip, the same as JSON), reused by a
//! second run; Ctrl-C at any moment leaves either no site or a whole one; and a real
//! browser (Debian's headless Chromium) that trusts the site's CA through its NSS database
//! shows the page with the pins, while the same browser without the CA refuses it.

mod common;
#[path = "common/server.rs"]
mod server;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{pinset, run_bounded, s, tempdir};
use pinset_testkit::curl::curl;
use server::Running;

fn up(dir: &Path, extra: &[&str]) -> Running {
    let mut args = vec!["up", "--ip", "127.0.0.1", "--ip", "::1", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Running::start_in(Some(dir), &args)
}

fn get(dir: &Path, url: &str) -> Vec<u8> {
    let ca = dir.join("pki/authority/ca.pem");
    let out = curl(&["--cacert", s(&ca), "--capath", "/dev/null", url]);
    assert!(out.status.success(), "GET {url}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn app_pins(dir: &Path) -> Vec<String> {
    let out = pinset().args(["pin", "--site", s(dir)]).output().expect("pinset pin");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Temporary files and staging folders anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp-") || name.starts_with(".pinset-init-") {
                found.push(e.path().display().to_string());
            }
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
    found
}

#[test]
fn up_creates_a_site_serves_its_status_page_and_a_second_run_reuses_it() {
    let t = tempdir();
    let dir = t.path().join("shop");
    std::fs::create_dir(&dir).expect("empty folder");
    let first = up(&dir, &[]);
    let out = first.stdout();
    assert!(out.contains("Created site \"shop\""), "{out}");
    let pins = app_pins(&dir);
    assert_eq!(pins.len(), 2, "{pins:?}");
    for p in &pins {
        assert!(out.contains(p.as_str()), "pin {p} not printed:\n{out}");
    }
    assert!(out.contains("Scan to open https://127.0.0.1:"), "{out}");
    assert!(out.contains('▀') || out.contains('▄'), "no QR code:\n{out}");

    let page = String::from_utf8(get(&dir, &first.url("/"))).expect("utf-8 page");
    for p in &pins {
        assert!(page.contains(p.as_str()), "pin {p} not on the page");
    }
    assert!(page.contains("Install on Android") && page.contains("Install on iPhone"), "install notes");
    let json: serde_json::Value =
        serde_json::from_slice(&get(&dir, &first.url("/.well-known/pinset.json"))).expect("json");
    assert_eq!(json["site"], "shop");
    let listed: Vec<&str> =
        json["app_pins"].as_array().expect("pins").iter().filter_map(|p| p["pin"].as_str()).collect();
    assert_eq!(listed, pins.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(json["exports"].as_array().expect("exports").len(), pinset::export::Target::ALL.len());
    assert!(json["servers"][0]["not_after"].as_str().is_some(), "{json}");

    // The anchors download as the files on disk.
    let ca_pem = std::fs::read(dir.join("pki/authority/ca.pem")).expect("ca.pem");
    let ca_der = std::fs::read(dir.join("pki/authority/ca.cer")).expect("ca.cer");
    let pem = get(&dir, &first.url("/anchors/ca.pem"));
    let from_pem = pinset::input::read_certificates("ca.pem download", &pem).expect("a PEM certificate");
    assert_eq!(from_pem, vec![ca_der.clone()], "the PEM download is not the site's CA");
    assert_eq!(get(&dir, &first.url("/anchors/ca.cer")), ca_der);
    // Every export is a zip that unzip reads, holding what `pinset export` writes.
    for target in ["android", "all"] {
        let zip = t.path().join(format!("{target}.zip"));
        std::fs::write(&zip, get(&dir, &first.url(&format!("/export/{target}.zip")))).expect("write zip");
        let listing = common::run(
            "python3",
            &["-c", &format!("import zipfile; print('\\n'.join(zipfile.ZipFile({:?}).namelist()))", s(&zip))],
        );
        let names = String::from_utf8_lossy(&listing.stdout);
        assert!(listing.status.success() && names.contains("network_security_config.xml"), "{target}.zip: {names}");
    }

    let (status, _, log) = first.stop();
    assert!(status.success(), "{log}");
    assert!(leftovers(&dir).is_empty(), "left behind: {:?}", leftovers(&dir));

    let second = up(&dir, &[]);
    assert!(second.stdout().contains("Using site \"shop\""), "{}", second.stdout());
    assert_eq!(app_pins(&dir), pins, "the second run changed the site's pins");
    assert_eq!(std::fs::read(dir.join("pki/authority/ca.pem")).expect("ca"), ca_pem, "the CA was replaced");
    let page = String::from_utf8(get(&dir, &second.url("/"))).expect("page");
    assert!(page.contains(pins[0].as_str()));
    let (status, _, log) = second.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn up_without_addresses_names_loopback_and_this_hosts_addresses() {
    let t = tempdir();
    let dir = t.path().join("box");
    let running = Running::start_in(None, &["up", "--site", s(&dir), "--listen", "127.0.0.1:0"]);
    let plan = std::fs::read_to_string(dir.join("pinset.toml")).expect("plan");
    assert!(plan.contains("\"127.0.0.1\"") && plan.contains("\"::1\""), "{plan}");
    let host = gethostname_label();
    if let Some(h) = host {
        assert!(plan.contains(&format!("\"{h}.local\"")), "no {h}.local in:\n{plan}");
    }
    drop(running);
}

fn gethostname_label() -> Option<String> {
    let out = Command::new("hostname").output().ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().split('.').next()?.to_ascii_lowercase();
    (!name.is_empty() && name != "localhost" && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then_some(name)
}

#[test]
fn ctrl_c_at_any_moment_leaves_no_site_or_a_whole_one() {
    let t = tempdir();
    let bin = assert_cmd::cargo::cargo_bin("pinset");
    for (i, delay_ms) in [0u64, 2, 5, 10, 20, 40, 80, 160].into_iter().enumerate() {
        let dir = t.path().join(format!("site-{i}"));
        let mut child = Command::new(&bin)
            .args(["up", "--site", s(&dir), "--ip", "127.0.0.1", "--listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start pinset up");
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Ctrl-C, pressed again until it stops (bounded).
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            std::thread::sleep(Duration::from_millis(50));
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("pinset up did not stop on Ctrl-C after {delay_ms} ms");
            }
        };
        assert!(leftovers(&dir).is_empty(), "after Ctrl-C at {delay_ms} ms ({status}): {:?}", leftovers(&dir));
        if dir.join("pinset.toml").exists() {
            assert_eq!(app_pins(&dir).len(), 2, "a half-made site after Ctrl-C at {delay_ms} ms");
            assert!(dir.join("pki/servers/server/key.pem").exists());
        } else {
            assert!(!dir.join("pki").exists(), "pki/ without a plan after Ctrl-C at {delay_ms} ms");
        }
    }
}

/// Headless Chromium with its own profile and home (its NSS database is
/// `$HOME/.pki/nssdb`), bounded in time.
fn chromium(home: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("chromium");
    cmd.env("HOME", home)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", home.join("profile").display()))
        .args(args);
    run_bounded(cmd, Duration::from_secs(90), "chromium (install it with scripts/setup)")
}

fn nss_db_trusting(home: &Path, ca: &Path) {
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).expect("nssdb folder");
    let db_arg = format!("sql:{}", db.display());
    let out = common::run("certutil", &["-N", "-d", &db_arg, "--empty-password"]);
    assert!(out.status.success(), "certutil -N: {}", String::from_utf8_lossy(&out.stderr));
    let out = common::run("certutil", &["-A", "-d", &db_arg, "-n", "pinset site CA", "-t", "C,,", "-i", s(ca)]);
    assert!(out.status.success(), "certutil -A: {}", String::from_utf8_lossy(&out.stderr));
}

/// Width and height from a PNG's IHDR.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let n = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    Some((n(16), n(20)))
}

#[test]
fn a_real_browser_trusting_the_site_ca_shows_the_pins_and_one_without_it_refuses() {
    let t = tempdir();
    let dir = t.path().join("shop");
    std::fs::create_dir(&dir).expect("empty folder");
    let running = up(&dir, &[]);
    let url = running.url("/");
    let pins = app_pins(&dir);

    let trusting = t.path().join("trusting");
    nss_db_trusting(&trusting, &dir.join("pki/authority/ca.pem"));
    let dom = chromium(&trusting, &["--dump-dom", &url]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        html.contains("Site shop"),
        "Chromium trusting the CA did not load the page:\n{html}\n{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    for p in &pins {
        assert!(html.contains(p.as_str()), "pin {p} not in the page Chromium loaded");
    }
    let shot = t.path().join("page.png");
    let out = chromium(&trusting, &["--window-size=412,1400", &format!("--screenshot={}", shot.display()), &url]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!("no screenshot ({e}):\n{}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(png_size(&png), Some((412, 1400)), "not a PNG of the window");
    // A blank or error page compresses to a few kilobytes; text and boxes do not.
    assert!(png.len() > 30_000, "the screenshot is nearly empty ({} bytes)", png.len());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ERR_CERT"), "{}", String::from_utf8_lossy(&out.stderr));
    // The server saw the browser's requests.
    running.wait_for_log("\"GET / HTTP/", 2, Duration::from_secs(10));

    let stranger = t.path().join("stranger");
    std::fs::create_dir_all(&stranger).expect("home");
    let refused = chromium(&stranger, &["--dump-dom", &url]);
    let html = String::from_utf8_lossy(&refused.stdout);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!html.contains(pins[0].as_str()), "Chromium without the CA showed the page:\n{html}");
    assert!(
        err.contains("ERR_CERT_AUTHORITY_INVALID"),
        "Chromium without the CA did not refuse the certificate:\n{err}"
    );
}
