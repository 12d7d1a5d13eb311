//! `pinset lint` against real certificates: made by openssl the ways people make them by
//! hand (SHA-1, RSA-1024, no EKU, CN only, an IP as a DNS name, 900 days, CA:TRUE …), with
//! what clients cannot parse or use (secp256k1, brainpool, P-192, DSA, X25519, an unknown
//! critical extension, version 9), by rcgen for dates openssl 3.0 cannot set, and by pinset
//! itself. Each test checks the rule, the platforms it applies to with their severity, the
//! source, and the exit code, and for what clients cannot use, that the library's
//! `lint::support` (which the verifier shares) names it; then the JSON shape, `--for`,
//! `--name`, bad input (exit 2), and the same findings in `pinset issue` and `pinset inspect`.
//! No network traffic: certificates only name addresses.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_contains, assert_exit, init_site, openssl_ok, pinset, s, stderr, stdout};
use pinset::lint::support::{self, What};
use pinset_testkit::pki::{Spec, ip};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const ALL: [&str; 5] = ["ios", "android", "chrome", "java", "okhttp"];

/// The extensions of a well-made server certificate for 192.168.1.10, as openssl `-extfile`
/// lines; tests drop or replace one to make each mistake.
const GOOD_EXT: [&str; 4] = [
    "subjectAltName=IP:192.168.1.10",
    "extendedKeyUsage=serverAuth",
    "keyUsage=critical,digitalSignature",
    "basicConstraints=critical,CA:FALSE",
];

/// How a certificate is signed: its validity in days and the signature's digest.
#[derive(Clone, Copy)]
struct How {
    days: u32,
    digest: &'static str,
}

/// A year and a month, SHA-256: what a careful person asks for.
const NORMAL: How = How { days: 397, digest: "sha256" };

/// A folder where openssl makes keys and certificates. The openssl config is minimal so
/// that no system default (`v3_ca`, CA:TRUE) slips into a certificate unasked.
struct Pki {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    cnf: PathBuf,
}

/// A CA openssl made: certificate and key.
struct Ca {
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let tmp = tempfile::tempdir().expect("create a temporary folder");
        let dir = tmp.path().to_path_buf();
        let cnf = dir.join("openssl.cnf");
        std::fs::write(&cnf, "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n").expect("write cnf");
        Pki { _tmp: tmp, dir, cnf }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A new key: `ec` (P-256), `rsa1024`, `dsa` (2048 bits), `x25519`, or `curve:NAME` for an EC key
    /// on any curve openssl knows (`curve:secp256k1`, `curve:brainpoolP256r1` …).
    fn key(&self, name: &str, kind: &str) -> PathBuf {
        let out = self.path(&format!("{name}.key"));
        let mut args = vec!["genpkey".to_string()];
        match kind {
            "ec" => args.extend(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"].map(String::from)),
            "rsa1024" => args.extend(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"].map(String::from)),
            "x25519" => args.extend(["-algorithm", "X25519"].map(String::from)),
            "dsa" => {
                let params = self.path(&format!("{name}.dsaparam"));
                openssl_ok(&[
                    "genpkey",
                    "-genparam",
                    "-algorithm",
                    "DSA",
                    "-pkeyopt",
                    "dsa_paramgen_bits:2048",
                    "-out",
                    s(&params),
                ]);
                args.extend(["-paramfile".to_string(), s(&params).to_string()]);
            }
            other => match other.strip_prefix("curve:") {
                Some(curve) => {
                    args.extend(["-algorithm", "EC", "-pkeyopt"].map(String::from));
                    args.push(format!("ec_paramgen_curve:{curve}"));
                }
                None => panic!("unknown key kind {other}"),
            },
        }
        args.extend(["-out".to_string(), s(&out).to_string()]);
        openssl_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        out
    }

    /// A self-signed certificate with exactly the extensions `addext` (`openssl req -x509`).
    fn self_signed(&self, name: &str, key_kind: &str, subj: &str, addext: &[&str], days: u32) -> PathBuf {
        let key = self.key(name, key_kind);
        let out = self.path(&format!("{name}.pem"));
        let days = days.to_string();
        let mut args = vec!["req", "-x509", "-new", "-key", s(&key), "-subj", subj, "-config", s(&self.cnf)];
        args.extend(["-days", &days, "-sha256", "-out", s(&out)]);
        for e in addext {
            args.extend(["-addext", e]);
        }
        openssl_ok(&args);
        out
    }

    /// A CA (self-signed root) with CN, CA:TRUE and keyCertSign, plus `addext`.
    fn ca(&self, name: &str, subj: &str, addext: &[&str]) -> Ca {
        let mut ext = vec!["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"];
        ext.extend_from_slice(addext);
        let cert = self.self_signed(name, "ec", subj, &ext, 3650);
        Ca { cert, key: self.path(&format!("{name}.key")) }
    }

    /// A certificate signed by `ca` (`openssl x509 -req`), with exactly the extensions `ext`,
    /// valid and signed as `how` says.
    fn signed(&self, name: &str, key_kind: &str, subj: &str, ca: &Ca, ext: &[&str], how: How) -> PathBuf {
        self.signed_forcing(name, key_kind, None, subj, ca, ext, how)
    }

    /// [`Pki::signed`], certifying `force_pubkey` (`openssl x509 -force_pubkey`) instead of
    /// the key the request was made with: how a key that cannot sign a request (X25519) gets
    /// a certificate.
    #[allow(clippy::too_many_arguments)]
    fn signed_forcing(
        &self,
        name: &str,
        key_kind: &str,
        force_pubkey: Option<&Path>,
        subj: &str,
        ca: &Ca,
        ext: &[&str],
        how: How,
    ) -> PathBuf {
        let How { days, digest } = how;
        let key = self.key(name, key_kind);
        let csr = self.path(&format!("{name}.csr"));
        openssl_ok(&["req", "-new", "-key", s(&key), "-subj", subj, "-config", s(&self.cnf), "-out", s(&csr)]);
        let extfile = self.path(&format!("{name}.ext"));
        std::fs::write(&extfile, ext.join("\n") + "\n").expect("write extfile");
        let out = self.path(&format!("{name}.pem"));
        let days = days.to_string();
        let digest = format!("-{digest}");
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            s(&csr),
            "-CA",
            s(&ca.cert),
            "-CAkey",
            s(&ca.key),
            "-CAcreateserial",
            "-days",
            &days,
            &digest,
            "-extfile",
            s(&extfile),
            "-out",
            s(&out),
        ];
        if let Some(k) = force_pubkey {
            args.extend(["-force_pubkey", s(k)]);
        }
        openssl_ok(&args);
        out
    }

    /// A server certificate for 192.168.1.10 from a fresh CA, with `ext` instead of
    /// [`GOOD_EXT`].
    fn server(&self, name: &str, key_kind: &str, ext: &[&str], how: How) -> PathBuf {
        let ca = self.ca(&format!("{name}-ca"), "/CN=Lint Test CA", &[]);
        self.signed(name, key_kind, "/CN=192.168.1.10", &ca, ext, how)
    }

    /// Concatenates PEM files into one chain file.
    fn chain(&self, name: &str, parts: &[&Path]) -> PathBuf {
        let text: String = parts.iter().map(|p| std::fs::read_to_string(p).expect("read pem")).collect();
        let out = self.path(name);
        std::fs::write(&out, text).expect("write chain");
        out
    }
}

/// `GOOD_EXT` without the lines starting with any of `drop`, plus `add`.
fn ext_with(drop: &[&str], add: &[&'static str]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> =
        GOOD_EXT.iter().copied().filter(|l| !drop.iter().any(|d| l.starts_with(d))).collect();
    v.extend_from_slice(add);
    v
}

/// An rcgen certificate for 192.168.1.10 valid from `from` to `to` (openssl 3.0 cannot set
/// past dates), with basicConstraints CA:FALSE, as a PEM file.
fn rcgen_cert(dir: &Path, name: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> PathBuf {
    let mut spec = Spec::server(name, vec![ip("192.168.1.10")])
        .valid(rcgen::date_time_ymd(from.0, from.1, from.2), rcgen::date_time_ymd(to.0, to.1, to.2));
    spec.is_ca = rcgen::IsCa::ExplicitNoCa;
    spec.self_signed().write(dir, name).0
}

/// What the library's support module (the one place the verifier reads too) says of the
/// first certificate in `file`: each item's kind and the value it names.
fn support_items(file: &Path) -> Vec<(What, String)> {
    let bytes = std::fs::read(file).expect("read the certificate");
    let ders = pinset::input::read_certificates(s(file), &bytes).expect("read certificates");
    let cert = pinset::cert::parse(s(file), &ders[0]).expect("parse the certificate");
    support::unsupported(&cert).into_iter().map(|u| (u.what, u.detail)).collect()
}

/// `expected` as owned pairs, to compare with [`support_items`].
fn items(expected: &[(What, &str)]) -> Vec<(What, String)> {
    expected.iter().map(|(w, d)| (*w, d.to_string())).collect()
}

fn lint(args: &[&str]) -> Output {
    pinset().arg("lint").args(args).output().expect("run pinset lint")
}

/// `pinset lint FILE ARGS --json`: the exit code and the report.
fn lint_json(file: &Path, args: &[&str]) -> (i32, Value) {
    let out = pinset().arg("lint").arg(file).args(args).arg("--json").output().expect("run pinset lint --json");
    assert!(!stderr(&out).contains("panicked"), "pinset panicked:\n{}", stderr(&out));
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n--- stderr:\n{}", stdout(&out), stderr(&out)));
    (out.status.code().expect("exit code"), v)
}

/// The rule ids of a report, in order.
fn rules(report: &Value) -> Vec<String> {
    report["findings"].as_array().expect("findings").iter().map(|f| f["rule"].as_str().expect("rule").into()).collect()
}

/// Asserts that the report holds exactly the findings `expected` (rule ids, in order).
#[track_caller]
fn assert_rules(report: &Value, expected: &[&str]) {
    assert_eq!(rules(report), expected, "{report:#}");
}

/// Asserts one finding: its platforms with their severities, in report order, and words of
/// its source and message.
#[track_caller]
fn assert_finding(report: &Value, rule: &str, platforms: &[(&str, &str)], source: &[&str], message: &[&str]) {
    let f = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {report:#}"));
    let got: Vec<(String, String)> = f["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .map(|e| (e["platform"].as_str().expect("p").into(), e["severity"].as_str().expect("s").into()))
        .collect();
    let want: Vec<(String, String)> = platforms.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect();
    assert_eq!(got, want, "{rule}: platforms in {f:#}");
    let strictest = if platforms.iter().any(|(_, s)| *s == "reject") { "reject" } else { "warn" };
    assert_eq!(f["severity"], strictest, "{rule}: severity in {f:#}");
    assert_contains(f["source"].as_str().expect("source"), source, &format!("{rule} source"));
    assert_contains(f["message"].as_str().expect("message"), message, &format!("{rule} message"));
    assert!(!f["fix"].as_str().expect("fix").is_empty(), "{rule}: a fix in {f:#}");
}

/// Each platform with the same severity.
fn every(severity: &'static str) -> Vec<(&'static str, &'static str)> {
    ALL.iter().map(|p| (*p, severity)).collect()
}

/// The verdict of each platform in a report.
fn verdicts(report: &Value) -> Vec<(String, String)> {
    report["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| (v["platform"].as_str().expect("p").into(), v["verdict"].as_str().expect("v").into()))
        .collect()
}

#[track_caller]
fn assert_verdicts(report: &Value, expected: &[(&str, &str)]) {
    let want: Vec<(String, String)> = expected.iter().map(|(p, v)| (p.to_string(), v.to_string())).collect();
    assert_eq!(verdicts(report), want, "{report:#}");
}

// ---------------------------------------------------------------------------------------
// 1. Certificates every platform accepts: no false positives
// ---------------------------------------------------------------------------------------

#[test]
fn a_pinset_certificate_is_accepted_by_every_platform() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10", "--ip", "fd00::10", "--dns", "hub.local"]);
    let cert = site.join("pki/servers/server/cert.pem");

    let out = lint(&[s(&cert), "--name", "192.168.1.10"]);
    assert_exit(&out, 0, "a pinset certificate for its own address");
    let text = stdout(&out);
    for p in ALL {
        assert!(text.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == [p, "accepts"]), "{p}:\n{text}");
    }
    assert_contains(&text, &["for 192.168.1.10", "No findings."], "the report");

    for name in ["192.168.1.10", "fd00::10", "[fd00::10]", "hub.local"] {
        for file in ["cert.pem", "chain.pem", "cert.cer"] {
            let (code, v) = lint_json(&site.join("pki/servers/server").join(file), &["--name", name]);
            assert_eq!(code, 0, "{file} for {name}: {v:#}");
            assert_rules(&v, &[]);
            assert_eq!(v["rejected"], false);
        }
    }

    // A self-signed site too.
    let selfsigned = init_site(tmp.path(), "solo", &["--self-signed", "--ip", "10.0.0.5"]);
    let out = lint(&[s(&selfsigned.join("pki/servers/server/cert.pem")), "--name", "10.0.0.5"]);
    assert_exit(&out, 0, "a self-signed pinset certificate");
    assert_contains(&stdout(&out), &["No findings."], "self-signed");
}

#[test]
fn a_well_made_openssl_certificate_is_accepted_by_every_platform() {
    let pki = Pki::new();
    let ca = pki.ca("ca", "/CN=Lint Test CA", &[]);
    let leaf = pki.signed("good", "ec", "/CN=192.168.1.10", &ca, &GOOD_EXT, NORMAL);
    let chain = pki.chain("chain.pem", &[&leaf, &ca.cert]);
    for file in [&leaf, &chain] {
        let (code, v) = lint_json(file, &["--name", "192.168.1.10"]);
        assert_eq!(code, 0, "{v:#}");
        assert_rules(&v, &[]);
        assert_verdicts(&v, &ALL.map(|p| (p, "accepts")));
    }
}

// ---------------------------------------------------------------------------------------
// 2. One rule each, on certificates made the way people make them
// ---------------------------------------------------------------------------------------

#[test]
fn apple_825_day_rule_rejects_a_900_day_certificate_on_ios_only() {
    let pki = Pki::new();
    let cert = pki.server("long", "ec", &GOOD_EXT, How { days: 900, ..NORMAL });
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["apple-825-days"]);
    assert_finding(&v, "apple-825-days", &[("ios", "reject")], &["HT210176", "825 days"], &["valid for 900 days"]);
    assert_verdicts(
        &v,
        &[
            ("ios", "rejects"),
            ("android", "accepts"),
            ("chrome", "accepts"),
            ("java", "accepts"),
            ("okhttp", "accepts"),
        ],
    );

    let out = lint(&[s(&cert), "--name", "192.168.1.10"]);
    assert_exit(&out, 1, "900 days");
    assert_contains(
        &stdout(&out),
        &["reject apple-825-days  ios rejects", "valid for 900 days", "fix:", "--days 397", "source: Apple HT210176"],
        "the text report",
    );

    // Apple alone enforces it: without ios, exit 0.
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10", "--for", "android,chrome,java,okhttp"]);
    assert_eq!(code, 0, "{v:#}");
    assert_rules(&v, &[]);
}

#[test]
fn an_ip_only_as_a_dns_san_is_rejected_everywhere() {
    let pki = Pki::new();
    let cert = pki.server("ipdns", "ec", &ext_with(&["subjectAltName"], &["subjectAltName=DNS:192.168.1.10"]), NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["ip-only-as-dns-san"]);
    assert_finding(&v, "ip-only-as-dns-san", &every("reject"), &["RFC 2818 §3.1", "iPAddress"], &["DNS:192.168.1.10"]);
    let fix = v["findings"][0]["fix"].as_str().expect("fix");
    assert_contains(fix, &["subjectAltName=IP:192.168.1.10"], "the fix");
    assert_eq!(v["findings"][0]["reissue"], serde_json::json!({"names": ["192.168.1.10"]}), "{v:#}");
    let human = lint(&[s(&cert), "--name", "192.168.1.10"]);
    assert_contains(&stdout(&human), &["fix: `pinset issue server NAME --ip 192.168.1.10`;"], "the fix in words");

    // Without --name it is found too: nothing else in the certificate is a usable name.
    let (code, v) = lint_json(&cert, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_finding(&v, "ip-only-as-dns-san", &every("reject"), &["RFC 2818"], &["written as a DNS name"]);
}

#[test]
fn no_eku_is_rejected_by_apple_only() {
    let pki = Pki::new();
    let cert = pki.server("noeku", "ec", &ext_with(&["extendedKeyUsage"], &[]), NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["no-eku"]);
    assert_finding(&v, "no-eku", &[("ios", "reject")], &["HT210176", "serverAuth"], &["no extendedKeyUsage"]);
    let (code, _) = lint_json(&cert, &["--name", "192.168.1.10", "--for", "android,java"]);
    assert_eq!(code, 0);
}

#[test]
fn an_eku_without_server_auth_is_rejected_everywhere() {
    let pki = Pki::new();
    let ext = ext_with(&["extendedKeyUsage"], &["extendedKeyUsage=clientAuth"]);
    let cert = pki.server("client", "ec", &ext, NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["eku-without-server-auth"]);
    assert_finding(&v, "eku-without-server-auth", &every("reject"), &["RFC 5280 §4.2.1.12", "Java"], &["clientAuth"]);
}

#[test]
fn rsa_1024_is_rejected_by_apple_and_below_baseline_elsewhere() {
    let pki = Pki::new();
    let cert = pki.server("rsa1024", "rsa1024", &GOOD_EXT, NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["rsa-below-2048"]);
    assert_finding(
        &v,
        "rsa-below-2048",
        &[("ios", "reject"), ("android", "warn"), ("chrome", "warn"), ("java", "warn"), ("okhttp", "warn")],
        &["HT210176", "2048"],
        &["RSA 1024 bits"],
    );
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10", "--for", "java"]);
    assert_eq!(code, 0, "a warning alone exits 0: {v:#}");
    assert_verdicts(&v, &[("java", "accepts-with-warnings")]);
    // pinset's verifier refuses it, as rustls does.
    assert_eq!(support_items(&cert), items(&[(What::RsaKeySize { bits: 1024 }, "RSA 1024 bits")]));
}

#[test]
fn a_sha1_signature_is_rejected_except_by_java_under_a_private_ca() {
    let pki = Pki::new();
    let cert = pki.server("sha1", "ec", &GOOD_EXT, How { digest: "sha1", ..NORMAL });
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["sha1-signature"]);
    assert_finding(
        &v,
        "sha1-signature",
        &[("ios", "reject"), ("android", "reject"), ("chrome", "reject"), ("java", "warn"), ("okhttp", "reject")],
        &["HT210176", "SHA1 jdkCA"],
        &["ecdsa-with-SHA1"],
    );
    assert_eq!(support_items(&cert), items(&[(What::Sha1Signature, "ecdsa-with-SHA1")]));
}

// ---------------------------------------------------------------------------------------
// 2b. What clients cannot parse or use: rejected, never "accepts"
// ---------------------------------------------------------------------------------------

#[test]
fn keys_on_secp256k1_brainpool_and_p192_are_rejected_everywhere() {
    let pki = Pki::new();
    for (curve, named) in [
        ("secp256k1", "secp256k1 (1.3.132.0.10)"),
        ("brainpoolP256r1", "brainpoolP256r1 (1.3.36.3.3.2.8.1.1.7)"),
        ("prime192v1", "P-192 (1.2.840.10045.3.1.1)"),
    ] {
        let cert = pki.server(curve, &format!("curve:{curve}"), &GOOD_EXT, NORMAL);
        let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
        assert_eq!(code, 1, "{curve}: {v:#}");
        assert_rules(&v, &["unsupported-curve"]);
        assert_finding(
            &v,
            "unsupported-curve",
            &every("reject"),
            &["SimplePathBuilderDelegate", "JDK-8235710", "RFC 8446"],
            &[&format!("the key is an EC key on {named}")],
        );
        assert_verdicts(&v, &ALL.map(|p| (p, "rejects")));
        assert_eq!(support_items(&cert), items(&[(What::EcCurve, named)]), "{curve}");
    }
    // The text report says so per platform.
    let cert = pki.server("k1", "curve:secp256k1", &GOOD_EXT, NORMAL);
    let out = lint(&[s(&cert), "--name", "192.168.1.10"]);
    assert_exit(&out, 1, "secp256k1");
    assert_contains(&stdout(&out), &["android  rejects", "chrome   rejects", "reject unsupported-curve"], "text");
}

#[test]
fn a_dsa_key_is_rejected_by_all_but_java() {
    let pki = Pki::new();
    let cert = pki.server("dsa", "dsa", &GOOD_EXT, NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["unsupported-key"]);
    assert_finding(
        &v,
        "unsupported-key",
        &[("ios", "reject"), ("android", "reject"), ("chrome", "reject"), ("java", "warn"), ("okhttp", "reject")],
        &["BoringSSL", "DHE_DSS"],
        &["the key is DSA (1.2.840.10040.4.1)"],
    );
    assert_verdicts(
        &v,
        &[
            ("ios", "rejects"),
            ("android", "rejects"),
            ("chrome", "rejects"),
            ("java", "accepts-with-warnings"),
            ("okhttp", "rejects"),
        ],
    );
    assert_eq!(support_items(&cert), items(&[(What::KeyAlgorithm, "DSA (1.2.840.10040.4.1)")]));
}

#[test]
fn an_x25519_key_is_rejected_everywhere() {
    let pki = Pki::new();
    let x25519 = pki.key("x", "x25519");
    let public = pki.path("x.pub");
    openssl_ok(&["pkey", "-in", s(&x25519), "-pubout", "-out", s(&public)]);
    let ca = pki.ca("xca", "/CN=Lint Test CA", &[]);
    let cert = pki.signed_forcing("xleaf", "ec", Some(&public), "/CN=192.168.1.10", &ca, &GOOD_EXT, NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["unsupported-key"]);
    assert_finding(&v, "unsupported-key", &every("reject"), &["RFC 8410"], &["X25519", "cannot sign the handshake"]);
    assert_eq!(support_items(&cert), items(&[(What::KeyAlgorithm, "X25519 (1.3.101.110)")]));
}

#[test]
fn an_unknown_critical_extension_is_rejected_everywhere() {
    let pki = Pki::new();
    let cert = pki.server("crit", "ec", &ext_with(&[], &["1.2.3.4=critical,ASN1:NULL"]), NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["unknown-critical-extension"]);
    assert_finding(
        &v,
        "unknown-critical-extension",
        &every("reject"),
        &["RFC 5280 §4.2", "kSecPolicyCheckCriticalExtensions", "kUnconsumedCriticalExtension"],
        &["critical extension 1.2.3.4"],
    );
    assert_eq!(support_items(&cert), items(&[(What::CriticalExtension, "1.2.3.4")]));
    // Not critical, clients ignore it.
    let cert = pki.server("noncrit", "ec", &ext_with(&[], &["1.2.3.4=ASN1:NULL"]), NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(support_items(&cert), []);
}

#[test]
fn a_version_9_certificate_is_rejected_everywhere() {
    let pki = Pki::new();
    let good = pki.server("v3", "ec", &GOOD_EXT, NORMAL);
    let der = pinset::input::read_certificates("v3", &std::fs::read(&good).expect("read")).expect("der").remove(0);
    // The version field, [0] { INTEGER 2 } (v3), made 8 (v9). The signature breaks; clients
    // refuse the certificate before they get to it.
    let v3: &[u8] = &[0xa0, 0x03, 0x02, 0x01, 0x02];
    let at = der.windows(v3.len()).position(|w| w == v3).expect("a version field");
    let mut v9 = der.clone();
    v9[at + 4] = 8;
    let cert = pki.path("v9.der");
    std::fs::write(&cert, &v9).expect("write");
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["invalid-version"]);
    assert_finding(
        &v,
        "invalid-version",
        &every("reject"),
        &["RFC 5280 §4.1.2.1", "UnsupportedCertVersion"],
        &["the certificate is version 9"],
    );
    assert_eq!(support_items(&cert), items(&[(What::Version, "version 9")]));
}

#[test]
fn a_p521_server_key_is_rejected_by_chrome_and_android() {
    let pki = Pki::new();
    let cert = pki.server("p521", "curve:P-521", &GOOD_EXT, NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["p521-server-key"]);
    assert_finding(
        &v,
        "p521-server-key",
        &[("android", "reject"), ("chrome", "reject"), ("okhttp", "reject")],
        &["BoringSSL", "conscrypt#681"],
        &["EC P-521"],
    );
    // rustls takes P-521: not an item of support, which lists what pinset's verifier refuses.
    assert_eq!(support_items(&cert), []);
}

#[test]
fn cn_only_names_are_ignored_by_all_but_java_for_dns_names() {
    let pki = Pki::new();
    // By IP: Java has no CN fallback for addresses either.
    let cert = pki.server("cnip", "ec", &ext_with(&["subjectAltName"], &[]), NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["no-san-cn-only"]);
    assert_finding(
        &v,
        "no-san-cn-only",
        &every("reject"),
        &["HT210176", "Chrome 58", "Java"],
        &["only CN=192.168.1.10"],
    );
    // The same without --name: the CN holds an IP address, which no platform reads from a CN.
    let (code, v) = lint_json(&cert, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_finding(&v, "no-san-cn-only", &every("reject"), &["Java"], &["only CN=192.168.1.10"]);

    // By DNS name: Java still falls back to the CN, with a warning.
    let ca = pki.ca("dnsca", "/CN=Lint Test CA", &[]);
    let cert = pki.signed("cndns", "ec", "/CN=hub.local", &ca, &ext_with(&["subjectAltName"], &[]), NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "hub.local"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["no-san-cn-only"]);
    assert_finding(
        &v,
        "no-san-cn-only",
        &[("ios", "reject"), ("android", "reject"), ("chrome", "reject"), ("java", "warn"), ("okhttp", "reject")],
        &["Java HostnameChecker"],
        &["only CN=hub.local"],
    );
    let (code, v) = lint_json(&cert, &["--name", "hub.local", "--for", "java"]);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn a_ca_true_server_certificate_is_a_warning_everywhere() {
    let pki = Pki::new();
    // What `openssl req -x509` makes with most system configs: CA:TRUE.
    let cert = pki.self_signed(
        "catrue",
        "ec",
        "/CN=192.168.1.10",
        &["basicConstraints=critical,CA:TRUE", "subjectAltName=IP:192.168.1.10", "extendedKeyUsage=serverAuth"],
        397,
    );
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 0, "warnings only: {v:#}");
    assert_rules(&v, &["ca-cert-as-server"]);
    assert_finding(&v, "ca-cert-as-server", &every("warn"), &["RFC 5280 §4.2.1.9", "CaUsedAsEndEntity"], &["cA=TRUE"]);
    assert_verdicts(&v, &ALL.map(|p| (p, "accepts-with-warnings")));
    assert_eq!(v["rejected"], false);
}

#[test]
fn expired_and_not_yet_valid_certificates_are_rejected_everywhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let expired = rcgen_cert(tmp.path(), "stale", (2020, 1, 1), (2021, 1, 1));
    let (code, v) = lint_json(&expired, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["expired"]);
    assert_finding(&v, "expired", &every("reject"), &["RFC 5280 §4.1.2.5"], &["expired on 2021-01-01"]);

    let future = rcgen_cert(tmp.path(), "early", (2090, 1, 1), (2091, 1, 1));
    let (code, v) = lint_json(&future, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["not-yet-valid"]);
    assert_finding(&v, "not-yet-valid", &every("reject"), &["RFC 5280"], &["not valid before 2090-01-01"]);
}

#[test]
fn a_key_usage_without_digital_signature_is_rejected_by_java_and_boringssl() {
    let pki = Pki::new();
    let ext = ext_with(&["keyUsage"], &["keyUsage=critical,keyAgreement"]);
    let cert = pki.server("kua", "ec", &ext, NORMAL);
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["key-usage-mismatch"]);
    assert_finding(
        &v,
        "key-usage-mismatch",
        &[("android", "reject"), ("chrome", "reject"), ("java", "reject"), ("okhttp", "reject")],
        &["JSSE EndEntityChecker", "BoringSSL"],
        &["keyUsage is keyAgreement", "digitalSignature"],
    );
}

#[test]
fn chain_rules_issuer_name_constraints_and_root_cn() {
    let pki = Pki::new();
    // A "CA" that is not one signs the server: every platform refuses the chain.
    let not_ca = pki.self_signed("notca", "ec", "/CN=Not A CA", &["basicConstraints=critical,CA:FALSE"], 3650);
    let leaf = pki.signed(
        "leaf1",
        "ec",
        "/CN=192.168.1.10",
        &Ca { cert: not_ca.clone(), key: pki.path("notca.key") },
        &GOOD_EXT,
        NORMAL,
    );
    let chain = pki.chain("chain1.pem", &[&leaf, &not_ca]);
    let (code, v) = lint_json(&chain, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["issuer-not-ca"]);
    assert_finding(&v, "issuer-not-ca", &[("chrome", "reject")], &["RFC 5280 §6.1.4", "RFC 5937"], &["cA=FALSE"]);
    assert_eq!(v["findings"][0]["certificate"], 1, "{v:#}");

    // A root constrained to 10.0.0.0/8: Chrome enforces a local root's nameConstraints.
    let ca = pki.ca("nc", "/CN=Constrained CA", &["nameConstraints=critical,permitted;IP:10.0.0.0/255.0.0.0"]);
    let leaf = pki.signed("leaf2", "ec", "/CN=192.168.1.10", &ca, &GOOD_EXT, NORMAL);
    let chain = pki.chain("chain2.pem", &[&leaf, &ca.cert]);
    let (code, v) = lint_json(&chain, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["name-constraints"]);
    assert_finding(
        &v,
        "name-constraints",
        &[("chrome", "reject")],
        &["RFC 5280 §4.2.1.10", "Chrome"],
        &["IP:192.168.1.10 is outside the permitted IP:10.0.0.0/8"],
    );

    // A root without a CN cannot be enabled in iOS Certificate Trust Settings.
    let ca = pki.ca("nocn", "/O=Shop", &[]);
    let leaf = pki.signed("leaf3", "ec", "/CN=192.168.1.10", &ca, &GOOD_EXT, NORMAL);
    let chain = pki.chain("chain3.pem", &[&leaf, &ca.cert]);
    let (code, v) = lint_json(&chain, &["--name", "192.168.1.10"]);
    assert_eq!(code, 0, "a warning only: {v:#}");
    assert_rules(&v, &["root-without-cn"]);
    assert_finding(&v, "root-without-cn", &[("ios", "warn")], &["HT204477"], &["O=Shop"]);
}

// ---------------------------------------------------------------------------------------
// 3. --name, --for, --json, stdin
// ---------------------------------------------------------------------------------------

#[test]
fn a_name_the_certificate_does_not_carry_is_rejected_everywhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let cert = site.join("pki/servers/server/cert.pem");
    let (code, v) = lint_json(&cert, &["--name", "192.168.1.11"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["name-not-in-san"]);
    assert_finding(
        &v,
        "name-not-in-san",
        &every("reject"),
        &["RFC 2818 §3.1"],
        &["192.168.1.11 is in no iPAddress SAN", "IP:192.168.1.10"],
    );
    let (code, v) = lint_json(&cert, &["--name", "hub.local"]);
    assert_eq!(code, 1, "{v:#}");
    assert_finding(&v, "name-not-in-san", &every("reject"), &["RFC 6125"], &["hub.local is in no dNSName SAN"]);

    // Without --name the address is not checked, and stderr says so.
    let out = lint(&[s(&cert)]);
    assert_exit(&out, 0, "no --name");
    assert_contains(&stderr(&out), &["note: no --name"], "the note");
}

#[test]
fn for_selects_platforms_and_their_verdicts() {
    let pki = Pki::new();
    let cert = pki.server("long", "ec", &GOOD_EXT, How { days: 900, ..NORMAL });
    let (code, v) = lint_json(&cert, &["--for", "okhttp,ios", "--name", "192.168.1.10"]);
    assert_eq!(code, 1);
    // Report order, whatever the order asked.
    assert_verdicts(&v, &[("ios", "rejects"), ("okhttp", "accepts")]);
    // Repeated flags add up; macos is ios.
    let (code, v) = lint_json(&cert, &["--for", "android", "--for", "macos"]);
    assert_eq!(code, 1);
    assert_verdicts(&v, &[("ios", "rejects"), ("android", "accepts")]);
}

#[test]
fn json_report_shape() {
    let pki = Pki::new();
    let ca = pki.ca("ca", "/CN=Lint Test CA", &[]);
    let leaf = pki.signed("long", "ec", "/CN=192.168.1.10", &ca, &GOOD_EXT, How { days: 900, ..NORMAL });
    let chain = pki.chain("chain.pem", &[&leaf, &ca.cert]);
    let (code, v) = lint_json(&chain, &["--name", "192.168.1.10"]);
    assert_eq!(code, 1);
    let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    let mut want = vec!["certificates", "findings", "input", "name", "name_checked", "rejected", "subject", "verdicts"];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want, "{v:#}");
    assert_eq!(v["input"], s(&chain));
    assert_eq!(v["subject"], "CN=192.168.1.10");
    assert_eq!(v["certificates"], 2);
    assert_eq!(v["name"], "192.168.1.10");
    assert_eq!(v["name_checked"], true);
    assert_eq!(v["rejected"], true);
    assert_eq!(v["verdicts"].as_array().expect("verdicts").len(), 5);
    assert_eq!(v["verdicts"][0], serde_json::json!({"platform": "ios", "verdict": "rejects"}));
    let f = &v["findings"][0];
    let mut fkeys: Vec<&str> = f.as_object().expect("finding").keys().map(String::as_str).collect();
    fkeys.sort_unstable();
    assert_eq!(
        fkeys,
        ["certificate", "fix", "message", "platforms", "reissue", "rule", "severity", "source", "subject"],
        "{f:#}"
    );
    assert_eq!(f["reissue"], serde_json::json!({"days": 397}), "{f:#}");
    assert_eq!(f["rule"], "apple-825-days");
    assert_eq!(f["severity"], "reject");
    assert_eq!(f["certificate"], 0);
    assert_eq!(f["subject"], "CN=192.168.1.10");
    assert_eq!(f["platforms"], serde_json::json!([{"platform": "ios", "severity": "reject"}]));

    // No name: null, and name_checked false.
    let (_, v) = lint_json(&chain, &[]);
    assert_eq!((&v["name"], &v["name_checked"]), (&Value::Null, &Value::Bool(false)), "{v:#}");
}

#[test]
fn lint_reads_standard_input() {
    let pki = Pki::new();
    let cert = pki.server("long", "ec", &GOOD_EXT, How { days: 900, ..NORMAL });
    let out = pinset()
        .args(["lint", "-", "--name", "192.168.1.10"])
        .write_stdin(std::fs::read(&cert).expect("read"))
        .output()
        .expect("run pinset lint -");
    assert_exit(&out, 1, "stdin");
    assert_contains(&stdout(&out), &["(stdin)", "apple-825-days"], "stdin report");
}

// ---------------------------------------------------------------------------------------
// 4. Bad input: a clear error, exit 2, never a panic
// ---------------------------------------------------------------------------------------

/// Runs pinset lint, expects exit 2 with nothing on stdout, and returns stderr.
#[track_caller]
fn fails(args: &[&str]) -> String {
    let out = lint(args);
    assert_exit(&out, 2, &format!("pinset lint {args:?}"));
    assert!(out.stdout.is_empty(), "no data on an error: {}", stdout(&out));
    stderr(&out)
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let cert = site.join("pki/servers/server/cert.pem");
    let der = std::fs::read(site.join("pki/servers/server/cert.cer")).expect("read der");

    let missing = tmp.path().join("missing.pem");
    assert_contains(&fails(&[s(&missing)]), &["error:", "missing.pem", "hint: check the path"], "missing file");

    let bad_pem = tmp.path().join("bad.pem");
    std::fs::write(&bad_pem, "-----BEGIN CERTIFICATE-----\n!!!! not base64 !!!!\n-----END CERTIFICATE-----\n")
        .expect("write");
    assert_contains(&fails(&[s(&bad_pem)]), &["error:", "bad.pem"], "malformed PEM");

    let cut = tmp.path().join("cut.cer");
    std::fs::write(&cut, &der[..der.len() / 2]).expect("write");
    assert_contains(&fails(&[s(&cut)]), &["error:", "cut.cer"], "truncated DER");

    let empty = tmp.path().join("empty.pem");
    std::fs::write(&empty, "").expect("write");
    assert_contains(&fails(&[s(&empty)]), &["error:", "empty.pem", "is empty"], "empty file");

    let key = site.join("pki/servers/server/key.pem");
    assert_contains(&fails(&[s(&key)]), &["error:", "certificate was expected", "hint:"], "a key");

    assert_contains(
        &fails(&[s(&cert), "--name", "192.168.1.300"]),
        &["error:", "IP address \"192.168.1.300\"", "hint:"],
        "bad IP",
    );
    assert_contains(&fails(&[s(&cert), "--name", "*.shop.example"]), &["error:", "wildcard", "hint:"], "wildcard");
    assert_contains(&fails(&[s(&cert), "--name", "hub local"]), &["error:", "hub local"], "bad DNS name");
    assert_contains(
        &fails(&[s(&cert), "--for", "ios,windows"]),
        &["error:", "windows", "ios", "android", "chrome", "java", "okhttp"],
        "unknown platform",
    );
}

// ---------------------------------------------------------------------------------------
// 5. pinset issue and pinset inspect report the same rules
// ---------------------------------------------------------------------------------------

#[test]
fn issue_server_warns_about_the_apple_825_day_rule() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let out = pinset()
        .args(["issue", "server", "long", "--ip", "192.168.1.20", "--days", "900", "--allow-long-validity"])
        .arg("--site")
        .arg(&site)
        .output()
        .expect("run pinset issue server");
    assert_exit(&out, 0, "issue with --allow-long-validity");
    assert_contains(
        &stderr(&out),
        &[
            "warning: apple-825-days (ios rejects): valid for 900 days",
            "fix: `pinset issue server long --days 397`; issue it again valid 825 days or fewer",
            "source: Apple HT210176",
        ],
        "the warning",
    );
    assert_contains(&stdout(&out), &["Issued server \"long\""], "the report");

    // The certificate it wrote lints the same.
    let (code, v) = lint_json(&site.join("pki/servers/long/cert.pem"), &["--name", "192.168.1.20"]);
    assert_eq!(code, 1, "{v:#}");
    assert_rules(&v, &["apple-825-days"]);

    // A normal certificate: no warning at all.
    let out = pinset()
        .args(["issue", "server", "till", "--ip", "192.168.1.21", "--dns", "till.local", "--site"])
        .arg(&site)
        .output()
        .expect("run pinset issue server");
    assert_exit(&out, 0, "a normal issue");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn init_warns_about_platform_rules_too_and_a_default_site_has_none() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ed");
    let out = pinset()
        .args(["init", "--key-type", "ed25519", "--ip", "192.168.1.10"])
        .arg(&dir)
        .output()
        .expect("run pinset init");
    assert_exit(&out, 0, "init with an Ed25519 key");
    assert_contains(
        &stderr(&out),
        &[
            "warning: eddsa-key (ios, chrome reject",
            "fix: `pinset issue server server --key-type p256`; use an EC P-256 key",
        ],
        "the warning",
    );
    assert_contains(&stdout(&out), &["Created site"], "the report");

    let out = pinset()
        .args(["init", "--ip", "192.168.1.10", "--dns", "hub.local"])
        .arg(tmp.path().join("p256"))
        .output()
        .expect("run pinset init");
    assert_exit(&out, 0, "a default init");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn inspect_shows_the_findings() {
    let pki = Pki::new();
    let cert = pki.server("long", "ec", &ext_with(&["extendedKeyUsage"], &[]), How { days: 900, ..NORMAL });
    let out = pinset().arg("inspect").arg(&cert).output().expect("run pinset inspect");
    assert_exit(&out, 0, "inspect");
    assert_contains(
        &stdout(&out),
        &[
            "findings       reject apple-825-days (ios rejects): valid for 900 days",
            "reject no-eku (ios rejects)",
            "source: Apple HT210176",
            "fix:",
        ],
        "inspect",
    );
    let out = pinset().arg("inspect").arg(&cert).arg("--json").output().expect("run pinset inspect --json");
    assert_exit(&out, 0, "inspect --json");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> =
        v[0]["findings"].as_array().expect("findings").iter().map(|f| f["rule"].as_str().expect("rule")).collect();
    assert_eq!(ids, ["apple-825-days", "no-eku"], "{v:#}");

    // A pinset certificate and its CA: none.
    let tmp = tempfile::tempdir().expect("tempdir");
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let out = pinset().arg("inspect").arg(site.join("pki/servers/server/chain.pem")).output().expect("inspect");
    assert_exit(&out, 0, "inspect a pinset chain");
    let text = stdout(&out);
    assert_eq!(text.matches("findings       none").count(), 2, "{text}");
    assert!(!text.contains("clients that ignore the CN"), "not said of the CA:\n{text}");
}

#[test]
fn inspect_and_lint_read_the_same_findings_on_an_outsiders_self_signed_certificate() {
    // The most common certificate made outside pinset: `openssl req -x509`, with the system's
    // configuration (cA=TRUE), the address only in the CN.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (key, cert) = (tmp.path().join("key.pem"), tmp.path().join("cert.pem"));
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        s(&key),
        "-out",
        s(&cert),
        "-subj",
        "/CN=192.168.1.10",
    ]);
    let out = pinset().arg("inspect").arg(&cert).arg("--json").output().expect("run pinset inspect --json");
    assert_exit(&out, 0, "inspect --json");
    let inspected: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(inspected[0]["basic_constraints"]["ca"], true, "the case at hand is cA=TRUE: {inspected:#}");
    let (code, linted) = lint_json(&cert, &[]);
    assert_eq!(code, 1, "{linted:#}");
    assert_eq!(inspected[0]["findings"], linted["findings"], "the same findings");
    // No SAN: every platform refuses it, whatever address it is dialled by.
    assert_finding(&linted, "no-san-cn-only", &every("reject"), &["Chrome 58"], &["only CN=192.168.1.10"]);
    assert_verdicts(&linted, &ALL.map(|p| (p, "rejects")));

    let out = pinset().arg("inspect").arg(&cert).output().expect("run pinset inspect");
    assert_exit(&out, 0, "inspect");
    let text = stdout(&out);
    assert!(!text.contains("findings       none"), "{text}");
    assert_contains(
        &text,
        &[
            "(none: clients that ignore the CN will reject it)",
            "reject no-san-cn-only (ios, android, chrome, java, okhttp reject)",
        ],
        "inspect",
    );
}
