//! `pinset export p12 CLIENT`: a client's key and certificate in another PKCS#12 profile,
//! without issuing a new certificate, opened by the readers clients use: OpenSSL 3 (whose
//! `-info` names the ciphers and MAC, the proof of each profile) and Java's keytool.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::{init_site, pinset, run, s, tempdir};

const PASSWORD: &str = "correct horse";

fn export_p12(site: &Path, client: &str, out: &Path, profile: &str) -> std::process::Output {
    pinset()
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .args(["export", "p12", client, "--site", s(site), "--out", s(out), "--profile", profile])
        .output()
        .expect("run pinset export p12")
}

/// The SPKI pins `pinset pin` reads from a file (a PKCS#12 with the password).
fn pins(path: &Path) -> Vec<String> {
    let out = pinset().env("PINSET_P12_PASSWORD", PASSWORD).args(["pin", s(path)]).output().expect("run pinset pin");
    assert!(out.status.success(), "pinset pin {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn another_profile_of_an_existing_client_opens_with_openssl_and_keytool() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let issued = pinset()
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .args(["issue", "client", "till-1", "--site", s(&site)])
        .output()
        .expect("run pinset issue client");
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let cert = site.join("pki/clients/till-1/cert.pem");
    let cert_pin = pins(&cert)[0].clone();
    let ledger_before = std::fs::read(site.join("pki/ledger.sqlite3")).ok();
    let pass = format!("pass:{PASSWORD}");

    for profile in ["legacy", "modern"] {
        let out = tmp.path().join(format!("till-1-{profile}.p12"));
        let res = export_p12(&site, "till-1", &out, profile);
        assert!(res.status.success(), "{profile}: {}", String::from_utf8_lossy(&res.stderr));
        assert_eq!(String::from_utf8_lossy(&res.stdout).trim(), out.display().to_string());
        let mode = std::fs::metadata(&out).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{profile}: the file holds a private key");

        // OpenSSL 3 opens both (3DES is in its default provider; only RC2 and single DES
        // need -legacy), and says which ciphers and MAC the file uses.
        let opened = run("openssl", &["pkcs12", "-in", s(&out), "-passin", &pass, "-nodes"]);
        assert!(opened.status.success(), "{profile}: {}", String::from_utf8_lossy(&opened.stderr));
        let text = String::from_utf8_lossy(&opened.stdout);
        assert!(
            text.contains("PRIVATE KEY") && text.matches("BEGIN CERTIFICATE").count() == 2,
            "{profile}: key, leaf, CA"
        );
        let info = run("openssl", &["pkcs12", "-info", "-noout", "-in", s(&out), "-passin", &pass]);
        let info = String::from_utf8_lossy(&info.stderr).into_owned();
        let want: &[&str] = if profile == "legacy" {
            &["MAC: sha1", "pbeWithSHA1And3-KeyTripleDES-CBC"]
        } else {
            &["MAC: sha256", "AES-256-CBC"]
        };
        for w in want {
            assert!(info.contains(w), "{profile}: expected {w} in:\n{info}");
        }
        let other = if profile == "legacy" { "AES-256-CBC" } else { "TripleDES" };
        assert!(!info.contains(other), "{profile}: {info}");

        // The same certificate and key as issued: no new certificate.
        let p12_pins = pins(&out);
        assert!(p12_pins.contains(&cert_pin), "{profile}: {p12_pins:?} lacks the client's pin {cert_pin}");

        // Java's keytool reads it as a key store with the client's key entry.
        let res =
            run("keytool", &["-list", "-v", "-storetype", "PKCS12", "-keystore", s(&out), "-storepass", PASSWORD]);
        let listed = String::from_utf8_lossy(&res.stdout);
        assert!(res.status.success(), "{profile}: keytool:\n{listed}{}", String::from_utf8_lossy(&res.stderr));
        assert!(listed.contains("PrivateKeyEntry") && listed.contains("CN=till-1"), "{profile}: {listed}");
    }
    assert_eq!(std::fs::read(site.join("pki/ledger.sqlite3")).ok(), ledger_before, "nothing was issued");

    // Refusals: inside pki/, an unknown client, an empty password, a wrong flag.
    let inside = site.join("pki/clients/till-1/again.p12");
    let res = export_p12(&site, "till-1", &inside, "legacy");
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("is inside the site's pki/"), "{res:?}");
    assert!(!inside.exists());
    let res = export_p12(&site, "till-9", &tmp.path().join("x.p12"), "legacy");
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a client of site shop") && err.contains("the site's clients are: till-1"), "{err}");
    let res = pinset()
        .env("PINSET_P12_PASSWORD", "")
        .args(["export", "p12", "till-1", "--site", s(&site), "--out", s(&tmp.path().join("e.p12"))])
        .output()
        .expect("run");
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("may not be empty"), "{res:?}");
    assert!(!tmp.path().join("e.p12").exists());
    let res = pinset()
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .args(["export", "p12", "till-1", "--site", s(&site), "--out", s(&tmp.path().join("f.p12")), "--only", "x"])
        .output()
        .expect("run");
    assert_eq!(res.status.code(), Some(2), "{res:?}");
}
