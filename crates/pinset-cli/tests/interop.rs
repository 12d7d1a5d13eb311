//! Interoperability with real peers, nothing mocked: OpenSSL verifies what pinset issues
//! and computes the same pins, Java's keytool and OpenSSL read its PKCS#12 files, and a
//! rustls client reaches a rustls server over loopback with pinset's certificates.

mod common;

use std::io::{Read as _, Write as _};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{both, init_site, loopback_site, openssl_ok, pinset, run, s, tempdir};
use pinset_testkit::TlsServer;
use pinset_testkit::client::{client_trusting, handshake, rustls_error};
use pinset_testkit::rustls_server::Response;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Runs `openssl` with `input` on its standard input and returns its standard output; the
/// test fails when openssl fails.
fn openssl_stdin(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl (install it with scripts/setup): {e}"));
    let mut stdin = child.stdin.take().expect("openssl stdin is piped");
    let input = input.to_vec();
    // A writer thread: openssl may fill its stdout pipe before it has read all its input.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait for openssl");
    writer.join().expect("stdin writer thread").expect("write openssl stdin");
    assert!(out.status.success(), "openssl {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// `… | openssl dgst -sha256 -binary | base64` of DER bytes.
fn openssl_sha256_b64(der: &[u8]) -> String {
    let digest = openssl_stdin(&["dgst", "-sha256", "-binary"], der);
    assert_eq!(digest.len(), 32, "openssl dgst -sha256 -binary gave {} bytes", digest.len());
    let b64 = openssl_stdin(&["enc", "-base64", "-A"], &digest);
    String::from_utf8(b64).expect("base64 is ASCII").trim().to_string()
}

/// The pin of a PEM certificate by the canonical OpenSSL pipeline:
/// `openssl x509 -in C -pubkey -noout | openssl pkey -pubin -outform der
///  | openssl dgst -sha256 -binary | base64`.
fn openssl_cert_pin(cert_pem: &Path) -> String {
    let pubkey_pem = openssl_ok(&["x509", "-in", s(cert_pem), "-pubkey", "-noout"]);
    let spki_der = openssl_stdin(&["pkey", "-pubin", "-outform", "der"], &pubkey_pem);
    openssl_sha256_b64(&spki_der)
}

/// The pin of a private key by OpenSSL: `openssl pkey -in K -pubout -outform der | …`.
fn openssl_key_pin(key: &Path) -> String {
    let spki_der = openssl_ok(&["pkey", "-in", s(key), "-pubout", "-outform", "der"]);
    openssl_sha256_b64(&spki_der)
}

/// The SHA-256 fingerprint OpenSSL prints for a certificate, as colon hex.
fn openssl_fingerprint(cert_pem: &Path) -> String {
    let out = openssl_ok(&["x509", "-in", s(cert_pem), "-noout", "-fingerprint", "-sha256"]);
    let text = String::from_utf8(out).expect("utf-8");
    let (_, fp) = text.trim().split_once('=').unwrap_or_else(|| panic!("no '=' in openssl's fingerprint: {text}"));
    fp.to_string()
}

/// One object of `pinset pin --json`.
#[derive(Debug)]
struct Pinned {
    source: String,
    kind: String,
    spki_sha256: String,
    cert_sha256: Option<String>,
}

/// Runs `pinset pin --json` with the given arguments; the test fails when pinset fails.
fn pinset_pins(args: &[&str]) -> Vec<Pinned> {
    let out = pinset().arg("pin").arg("--json").args(args).output().expect("run pinset pin");
    assert!(out.status.success(), "pinset pin --json {args:?} failed:\n{}", both(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("pinset pin --json {args:?} printed no JSON ({e}):\n{}", both(&out)));
    let field = |o: &serde_json::Value, k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_string);
    value
        .as_array()
        .unwrap_or_else(|| panic!("pinset pin --json printed no array: {value}"))
        .iter()
        .map(|o| Pinned {
            source: field(o, "source").expect("source"),
            kind: field(o, "kind").expect("kind"),
            spki_sha256: field(o, "spki_sha256").expect("spki_sha256"),
            cert_sha256: field(o, "cert_sha256"),
        })
        .collect()
}

/// The first whitespace-separated field of every line of `pinset pin ARGS` (text output).
fn pinset_pin_fields(args: &[&str]) -> Vec<String> {
    let out = pinset().arg("pin").args(args).output().expect("run pinset pin");
    assert!(out.status.success(), "pinset pin {args:?} failed:\n{}", both(&out));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().expect("a non-empty line has a field").to_string())
        .collect()
}

/// `openssl verify -x509_strict -CAfile CA [EXTRA…] CERT`.
fn openssl_verify(ca: &Path, cert: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["verify", "-x509_strict", "-CAfile", s(ca)];
    args.extend_from_slice(extra);
    args.push(s(cert));
    run("openssl", &args)
}

fn assert_verifies(ca: &Path, cert: &Path, extra: &[&str]) {
    let out = openssl_verify(ca, cert, extra);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains(": OK"),
        "openssl verify -CAfile {} {extra:?} {} should pass:\n{}",
        ca.display(),
        cert.display(),
        both(&out)
    );
}

fn assert_verify_fails_with(ca: &Path, cert: &Path, extra: &[&str], reason: &str) {
    let out = openssl_verify(ca, cert, extra);
    assert!(
        !out.status.success(),
        "openssl verify -CAfile {} {extra:?} {} should fail:\n{}",
        ca.display(),
        cert.display(),
        both(&out)
    );
    assert!(both(&out).contains(reason), "openssl verify should fail with {reason:?}, it said:\n{}", both(&out));
}

/// Checks what a DER private key is by its structure: the version INTEGER after the outer
/// SEQUENCE and the tag that follows it. PKCS#8: (0, SEQUENCE AlgorithmIdentifier);
/// PKCS#1: (0, INTEGER modulus); SEC1: (1, OCTET STRING privateKey).
fn der_key_shape(der: &[u8]) -> (u8, u8) {
    assert_eq!(der.first(), Some(&0x30), "a DER key starts with a SEQUENCE");
    let len_byte = *der.get(1).expect("length byte");
    let header = if len_byte < 0x80 { 2 } else { 2 + usize::from(len_byte & 0x7f) };
    let body = &der[header..];
    assert_eq!(&body[..2], &[0x02, 0x01], "a DER key's first element is a one-byte version INTEGER");
    (body[2], body[3])
}

const PKCS8_SHAPE: (u8, u8) = (0, 0x30);
const PKCS1_SHAPE: (u8, u8) = (0, 0x02);
const SEC1_SHAPE: (u8, u8) = (1, 0x04);

fn first_pem_label(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines().find(|l| l.starts_with("-----BEGIN ")).unwrap_or_default().to_string()
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode() & 0o777
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("list {}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("lstat");
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------
// 1. OpenSSL verifies the IP SANs of CA-issued and self-signed certificates
// ---------------------------------------------------------------------------------------

#[test]
fn openssl_verifies_ip_sans_of_a_ca_site() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10", "--ip", "fd00::10"]);
    let ca = site.join("pki/authority/ca.pem");
    let standby_ca = site.join("pki/authority/ca-standby.pem");
    let cert = site.join("pki/servers/server/cert.pem");

    for ip in ["192.168.1.10", "fd00::10"] {
        assert_verifies(&ca, &cert, &["-purpose", "sslserver", "-verify_ip", ip]);
    }
    assert_verify_fails_with(
        &ca,
        &cert,
        &["-purpose", "sslserver", "-verify_ip", "192.168.1.11"],
        "IP address mismatch",
    );
    assert_verify_fails_with(&ca, &cert, &["-purpose", "sslserver", "-verify_ip", "fd00::11"], "IP address mismatch");

    // The standby root is a self-signed CA of its own, and did not issue the server.
    assert_verifies(&standby_ca, &standby_ca, &[]);
    let bc = String::from_utf8(openssl_ok(&["x509", "-in", s(&standby_ca), "-noout", "-ext", "basicConstraints"]))
        .expect("utf-8");
    assert!(bc.contains("CA:TRUE"), "the standby root must be a CA:\n{bc}");
    assert_verify_fails_with(&standby_ca, &cert, &["-verify_ip", "192.168.1.10"], "unable to get local issuer");

    // The pins apps carry are OpenSSL's pins of the two roots, active first.
    let app_pins = pinset_pin_fields(&["--site", s(&site)]);
    assert_eq!(app_pins, [openssl_cert_pin(&ca), openssl_cert_pin(&standby_ca)], "pinset pin --site");
}

#[test]
fn openssl_verifies_ip_sans_of_a_self_signed_site() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "hub", &["--self-signed", "--ip", "192.168.1.10", "--ip", "fd00::10"]);
    let dir = site.join("pki/servers/server");
    assert!(!site.join("pki/authority").exists(), "a self-signed site has no authority folder");

    for stem in ["cert", "standby"] {
        let cert = dir.join(format!("{stem}.pem"));
        for ip in ["192.168.1.10", "fd00::10"] {
            assert_verifies(&cert, &cert, &["-purpose", "sslserver", "-verify_ip", ip]);
        }
        assert_verify_fails_with(
            &cert,
            &cert,
            &["-purpose", "sslserver", "-verify_ip", "192.168.1.11"],
            "IP address mismatch",
        );
    }
    // Two different anchors: the active certificate does not vouch for the standby one.
    assert_verify_fails_with(&dir.join("cert.pem"), &dir.join("standby.pem"), &[], "self-signed certificate");

    // The pins apps carry are OpenSSL's pins of the two self-signed anchors, active first.
    let app_pins = pinset_pin_fields(&["--site", s(&site)]);
    let expected = [openssl_cert_pin(&dir.join("cert.pem")), openssl_cert_pin(&dir.join("standby.pem"))];
    assert_eq!(app_pins, expected, "pinset pin --site");
}

// ---------------------------------------------------------------------------------------
// 2. pinset pin = the OpenSSL pipeline, for every encoding OpenSSL writes
// ---------------------------------------------------------------------------------------

struct Algorithm {
    name: &'static str,
    /// `openssl req -newkey` arguments.
    newkey: &'static [&'static str],
    /// How OpenSSL writes the key in its traditional (pre-PKCS#8) form, if it has one.
    traditional: Option<Traditional>,
}

/// A traditional key encoding: SEC1 for EC, PKCS#1 for RSA.
struct Traditional {
    /// openssl arguments writing it as PEM (before `-in K -out F`).
    pem_args: &'static [&'static str],
    /// openssl arguments writing it as DER.
    der_args: &'static [&'static str],
    /// The PEM label.
    label: &'static str,
    /// The DER structure (see [`der_key_shape`]).
    shape: (u8, u8),
}

const SEC1: Traditional = Traditional {
    pem_args: &["pkey", "-traditional"],
    der_args: &["ec", "-outform", "der"],
    label: "EC PRIVATE KEY",
    shape: SEC1_SHAPE,
};

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm {
        name: "p256",
        newkey: &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        traditional: Some(SEC1),
    },
    Algorithm {
        name: "p384",
        newkey: &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        // `openssl ec` writes SEC1 PEM as well.
        traditional: Some(Traditional { pem_args: &["ec"], ..SEC1 }),
    },
    Algorithm { name: "ed25519", newkey: &["-newkey", "ed25519"], traditional: None },
    Algorithm {
        name: "rsa2048",
        newkey: &["-newkey", "rsa:2048"],
        traditional: Some(Traditional {
            pem_args: &["rsa", "-traditional"],
            der_args: &["rsa", "-traditional", "-outform", "der"],
            label: "RSA PRIVATE KEY",
            shape: PKCS1_SHAPE,
        }),
    },
];

#[test]
fn pins_match_openssl_for_openssl_made_certificates_keys_and_csrs() {
    let tmp = tempdir();
    let mut failures = Vec::new();
    for alg in &ALGORITHMS {
        let d = tmp.path().join(alg.name);
        std::fs::create_dir(&d).expect("mkdir");
        let p = |f: &str| d.join(f);
        let subj = format!("/CN=interop {}", alg.name);

        // Certificate and PKCS#8 key, made by OpenSSL.
        let mut req = vec!["req", "-x509", "-noenc", "-days", "2", "-subj", &subj, "-keyout"];
        let (key, cert) = (p("key.pem"), p("cert.pem"));
        req.extend([s(&key), "-out", s(&cert)]);
        req.extend_from_slice(alg.newkey);
        openssl_ok(&req);
        openssl_ok(&["req", "-new", "-key", s(&key), "-subj", &subj, "-out", s(&p("req.csr"))]);
        openssl_ok(&["req", "-in", s(&p("req.csr")), "-outform", "der", "-out", s(&p("req.csr.der"))]);
        openssl_ok(&["x509", "-in", s(&cert), "-outform", "der", "-out", s(&p("cert.der"))]);
        // OpenSSL 3.0's `pkey -outform der` writes EC and RSA keys in their traditional
        // forms; `pkcs8 -topk8` writes PKCS#8 DER for every algorithm.
        openssl_ok(&["pkcs8", "-topk8", "-nocrypt", "-in", s(&key), "-outform", "der", "-out", s(&p("key.der"))]);
        openssl_ok(&["pkey", "-in", s(&key), "-pubout", "-out", s(&p("pub.pem"))]);
        openssl_ok(&["pkey", "-in", s(&key), "-pubout", "-outform", "der", "-out", s(&p("pub.der"))]);

        // The formats are what this test claims they are.
        assert_eq!(first_pem_label(&key), "-----BEGIN PRIVATE KEY-----", "{}: PKCS#8 PEM", alg.name);
        assert_eq!(first_pem_label(&p("pub.pem")), "-----BEGIN PUBLIC KEY-----", "{}", alg.name);
        let key_der = std::fs::read(p("key.der")).expect("read key.der");
        assert_eq!(der_key_shape(&key_der), PKCS8_SHAPE, "{}: key.der is PKCS#8", alg.name);

        let expected = openssl_cert_pin(&cert);
        assert_eq!(expected.len(), 44, "{}: openssl pipeline gave {expected:?}", alg.name);
        assert_eq!(openssl_key_pin(&key), expected, "{}: openssl's own key and certificate pins differ", alg.name);

        let mut inputs: Vec<(String, &str)> = vec![
            ("cert.pem".into(), "certificate"),
            ("cert.der".into(), "certificate"),
            ("key.pem".into(), "private-key"),
            ("key.der".into(), "private-key"),
            ("pub.pem".into(), "public-key"),
            ("pub.der".into(), "public-key"),
            ("req.csr".into(), "csr"),
            ("req.csr.der".into(), "csr"),
        ];
        if let Some(Traditional { pem_args, der_args, label, shape }) = alg.traditional {
            let (trad_pem, trad_der) = (p("trad.pem"), p("trad.der"));
            let mut a = pem_args.to_vec();
            a.extend(["-in", s(&key), "-out", s(&trad_pem)]);
            openssl_ok(&a);
            let mut a = der_args.to_vec();
            a.extend(["-in", s(&key), "-out", s(&trad_der)]);
            openssl_ok(&a);
            assert_eq!(first_pem_label(&trad_pem), format!("-----BEGIN {label}-----"), "{}", alg.name);
            let der = std::fs::read(&trad_der).expect("read trad.der");
            assert_eq!(der_key_shape(&der), shape, "{}: {label} DER shape", alg.name);
            inputs.push(("trad.pem".into(), "private-key"));
            inputs.push(("trad.der".into(), "private-key"));
        }
        if alg.name.starts_with("rsa") {
            // PKCS#1 RSAPublicKey, the other public-key PEM OpenSSL writes.
            openssl_ok(&["rsa", "-in", s(&key), "-RSAPublicKey_out", "-out", s(&p("rsapub.pem"))]);
            assert_eq!(first_pem_label(&p("rsapub.pem")), "-----BEGIN RSA PUBLIC KEY-----");
            inputs.push(("rsapub.pem".into(), "public-key"));
        }

        for (file, kind) in &inputs {
            let path = p(file);
            let pins = pinset_pins(&[s(&path)]);
            match pins.as_slice() {
                [one] if one.kind == *kind && one.spki_sha256 == expected => {}
                other => failures.push(format!(
                    "{} {file}: expected one {kind} with pin {expected}, pinset gave {other:?}",
                    alg.name
                )),
            }
            // The text output carries the same pin as its first field.
            let fields = pinset_pin_fields(&[s(&path)]);
            if fields != [expected.as_str()] {
                failures.push(format!("{} {file}: text output {fields:?}, expected [{expected}]", alg.name));
            }
        }
    }
    assert!(failures.is_empty(), "pinset disagrees with openssl:\n{}", failures.join("\n"));
}

/// OpenSSL keeps the encoding of an EC key's public point and curve: a key with a
/// compressed point (or explicit curve parameters) yields a certificate whose SPKI holds
/// the same encoding. The pin of the key, SEC1 or PKCS#8, must be the pin of that
/// certificate. (Regression: pinset once re-encoded the point uncompressed.)
#[test]
fn pin_of_an_ec_key_with_a_compressed_point_matches_its_certificate() {
    let tmp = tempdir();
    let key = tmp.path().join("key.pem");
    openssl_ok(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", s(&key)]);
    for (label, opts) in
        [("compressed", &["-conv_form", "compressed"][..]), ("explicit", &["-param_enc", "explicit"][..])]
    {
        let sec1 = tmp.path().join(format!("{label}.sec1.pem"));
        let pkcs8 = tmp.path().join(format!("{label}.p8.pem"));
        let cert = tmp.path().join(format!("{label}.cert.pem"));
        let mut args = vec!["ec", "-in", s(&key), "-out", s(&sec1)];
        args.extend_from_slice(opts);
        openssl_ok(&args);
        assert!(
            std::fs::read_to_string(&sec1).expect("read").contains("BEGIN EC PRIVATE KEY"),
            "{label}: SEC1 expected"
        );
        openssl_ok(&["pkcs8", "-topk8", "-nocrypt", "-in", s(&sec1), "-out", s(&pkcs8)]);
        openssl_ok(&["req", "-x509", "-key", s(&sec1), "-subj", "/CN=c", "-days", "2", "-out", s(&cert)]);
        let expected = openssl_cert_pin(&cert);
        assert_eq!(pinset_pin_fields(&[s(&cert)]), [expected.as_str()], "{label}: the certificate");
        assert_eq!(pinset_pin_fields(&[s(&sec1)]), [expected.as_str()], "{label}: its SEC1 key");
        assert_eq!(pinset_pin_fields(&[s(&pkcs8)]), [expected.as_str()], "{label}: its PKCS#8 key");
    }
}

// ---------------------------------------------------------------------------------------
// 3. Known answers: public roots, output formats, certificate fingerprints
// ---------------------------------------------------------------------------------------

/// OpenSSL's certificate folder: `openssl version -d`'s OPENSSLDIR plus `/certs`.
fn openssl_certs_dir() -> PathBuf {
    let out = String::from_utf8(openssl_ok(&["version", "-d"])).expect("utf-8");
    let dir = out
        .trim()
        .strip_prefix("OPENSSLDIR:")
        .map(|d| d.trim().trim_matches('"'))
        .unwrap_or_else(|| panic!("unexpected `openssl version -d` output: {out}"));
    PathBuf::from(dir).join("certs")
}

const KNOWN_ROOTS: [(&str, &str); 4] = [
    ("ISRG_Root_X1.pem", "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="),
    ("ISRG_Root_X2.pem", "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="),
    ("DigiCert_Global_Root_CA.pem", "r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E="),
    ("COMODO_RSA_Certification_Authority.pem", "grX4Ta9HpZx6tSHkmCrvpApTQGo67CYDnvprLg5yRME="),
];

#[test]
fn pins_of_public_roots_are_the_known_answers() {
    let certs = openssl_certs_dir();
    for (file, known) in KNOWN_ROOTS {
        let path = certs.join(file);
        assert!(path.exists(), "{} is missing: install the ca-certificates package", path.display());
        assert_eq!(pinset_pin_fields(&[s(&path)]), [known], "pinset pin {file}");
        assert_eq!(openssl_cert_pin(&path), known, "the openssl pipeline itself, for {file}");
        let json = pinset_pins(&[s(&path)]);
        assert_eq!(json.len(), 1, "{file}: {json:?}");
        assert_eq!(json[0].spki_sha256, known, "{file} --json");
        assert_eq!(json[0].kind, "certificate", "{file} --json");
    }
}

#[test]
fn pin_formats_and_certificate_fingerprints_match_their_platforms() {
    let certs = openssl_certs_dir();
    let (file, known) = KNOWN_ROOTS[0];
    let path = certs.join(file);
    assert_eq!(pinset_pin_fields(&[s(&path), "--format", "okhttp"]), [format!("sha256/{known}")]);
    assert_eq!(pinset_pin_fields(&[s(&path), "--format", "curl"]), [format!("sha256//{known}")]);

    for (file, _) in KNOWN_ROOTS {
        let path = certs.join(file);
        let openssl_fp = openssl_fingerprint(&path);
        assert_eq!(openssl_fp.len(), 32 * 3 - 1, "openssl fingerprint of {file}: {openssl_fp}");
        let fields = pinset_pin_fields(&[s(&path), "--cert-sha256"]);
        let ours: Vec<&str> = fields.iter().map(|f| f.strip_prefix("cert-sha256:").unwrap_or(f)).collect();
        assert_eq!(ours, [openssl_fp.as_str()], "pinset pin --cert-sha256 {file}: {fields:?}");
        let json = pinset_pins(&[s(&path)]);
        assert_eq!(json[0].cert_sha256.as_deref(), Some(openssl_fp.as_str()), "{file} --json cert_sha256");
    }
}

// ---------------------------------------------------------------------------------------
// 4. PKCS#12: OpenSSL and Java read both profiles; pinset reads its own
// ---------------------------------------------------------------------------------------

const P12_PASSWORD: &str = "interop-Secret-42";

/// A client certificate issued with one PKCS#12 profile.
struct P12Case {
    /// The client's name.
    name: &'static str,
    /// `--p12-profile`.
    profile: &'static str,
    /// The PKCS#12 file pinset writes.
    file: &'static str,
    /// What `openssl pkcs12 -info` must say about its encryption.
    must: &'static [&'static str],
    /// What it must not say.
    must_not: &'static [&'static str],
}

#[test]
fn pkcs12_files_of_both_profiles_open_in_openssl_and_keytool() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let pw = tmp.path().join("pw.txt");
    write_file(&pw, &format!("{P12_PASSWORD}\n"));
    let wrong = tmp.path().join("wrong.txt");
    write_file(&wrong, "not-the-password\n");

    let cases = [
        P12Case {
            name: "phone",
            profile: "modern",
            file: "phone.p12",
            must: &["AES-256-CBC", "hmacWithSHA256", "MAC: sha256"],
            must_not: &["TripleDES", "3DES"],
        },
        P12Case {
            name: "scanner",
            profile: "legacy",
            file: "scanner-legacy.p12",
            must: &["TripleDES", "MAC: sha1"],
            must_not: &["AES", "hmacWithSHA256"],
        },
    ];
    for P12Case { name, profile, file: p12_name, must, must_not } in cases {
        let out = pinset()
            .args(["issue", "client", name, "--site", s(&site), "--password-file", s(&pw), "--p12-profile", profile])
            .output()
            .expect("run pinset issue client");
        assert!(out.status.success(), "issue client {name} ({profile}):\n{}", both(&out));
        let dir = site.join("pki/clients").join(name);
        let p12 = dir.join(p12_name);
        let cert = dir.join("cert.pem");
        for f in ["key.pem", "cert.pem", "chain.pem", "cert.cer", p12_name] {
            assert!(dir.join(f).is_file(), "{profile}: {f} missing in {}", dir.display());
        }

        // OpenSSL 3 reads both with its default provider (no -legacy) and names the ciphers.
        let passin = format!("pass:{P12_PASSWORD}");
        let info = run("openssl", &["pkcs12", "-info", "-noout", "-in", s(&p12), "-passin", &passin]);
        let text = both(&info);
        assert!(info.status.success(), "openssl pkcs12 -info ({profile}) failed:\n{text}");
        for m in must {
            assert!(text.contains(m), "openssl pkcs12 -info ({profile}) should mention {m:?}:\n{text}");
        }
        for m in must_not {
            assert!(!text.contains(m), "openssl pkcs12 -info ({profile}) should not mention {m:?}:\n{text}");
        }
        let bad = run("openssl", &["pkcs12", "-info", "-noout", "-in", s(&p12), "-passin", "pass:wrong"]);
        assert!(!bad.status.success(), "openssl must refuse a wrong password ({profile}):\n{}", both(&bad));

        // Java's keytool: one PrivateKeyEntry, holding the client's certificate.
        let kt = run("keytool", &["-list", "-storetype", "PKCS12", "-keystore", s(&p12), "-storepass", P12_PASSWORD]);
        let kt_text = both(&kt);
        assert!(kt.status.success(), "keytool -list ({profile}) failed:\n{kt_text}");
        assert!(kt_text.contains("PrivateKeyEntry"), "keytool ({profile}) lists no PrivateKeyEntry:\n{kt_text}");
        assert!(kt_text.contains(&format!("{name},")), "keytool ({profile}) lists no alias {name}:\n{kt_text}");
        let fp = openssl_fingerprint(&cert);
        assert!(kt_text.contains(&fp), "keytool ({profile}) shows another certificate than {fp}:\n{kt_text}");

        // pinset reads its own PKCS#12: the key's pin is the certificate's pin.
        let cert_pin = pinset_pins(&[s(&cert)]);
        assert_eq!(cert_pin.len(), 1, "{cert_pin:?}");
        let cert_pin = cert_pin[0].spki_sha256.clone();
        assert_eq!(cert_pin, openssl_cert_pin(&cert), "{profile}: pinset and openssl disagree on cert.pem");
        assert_eq!(pinset_pin_fields(&[s(&dir.join("key.pem"))]), [cert_pin.as_str()], "{profile}: key.pem");
        let objects = pinset_pins(&[s(&p12), "--password-file", s(&pw)]);
        let keys: Vec<&Pinned> = objects.iter().filter(|o| o.kind == "private-key").collect();
        assert_eq!(keys.len(), 1, "{profile}: one private key in the PKCS#12: {objects:?}");
        assert_eq!(keys[0].spki_sha256, cert_pin, "{profile}: the PKCS#12 key's pin: {objects:?}");
        assert!(
            objects.iter().any(|o| o.kind == "certificate"
                && o.spki_sha256 == cert_pin
                && o.cert_sha256.as_deref() == Some(fp.as_str())),
            "{profile}: the PKCS#12 carries the client certificate: {objects:?}"
        );
        assert!(objects.iter().all(|o| o.source.starts_with(s(&p12))), "{objects:?}");
        let text_fields = pinset_pin_fields(&[s(&p12), "--password-file", s(&pw)]);
        assert_eq!(text_fields.first(), Some(&cert_pin), "{profile}: first text line is the key: {text_fields:?}");

        // A wrong password: exit 2, and the message says so.
        let out = pinset().args(["pin", s(&p12), "--password-file", s(&wrong)]).output().expect("run pinset pin");
        assert_eq!(out.status.code(), Some(2), "{profile}: wrong password must exit 2:\n{}", both(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("wrong password"), "{profile}: stderr should say 'wrong password':\n{err}");
        assert!(out.stdout.is_empty(), "{profile}: nothing on stdout after an error: {:?}", out.stdout);
    }
}

// ---------------------------------------------------------------------------------------
// 5. rustls client and server on loopback
// ---------------------------------------------------------------------------------------

/// A rustls server for the site's first server identity (its chain.pem and key.pem), on
/// `ip`: it completes the handshake, writes `hello`, sends close_notify and closes.
fn start_server(site: &Path, ip: IpAddr) -> TlsServer {
    let dir = site.join("pki/servers/server");
    let chain = std::fs::read(dir.join("chain.pem")).expect("read chain.pem");
    let key = std::fs::read(dir.join("key.pem")).expect("read key.pem");
    let config = pinset_tls::server_config(&chain, &key).expect("server config from the site's files");
    TlsServer::builder(config).ip(ip).response(Response::greeting("hello")).start()
}

/// Connects to `server` with a rustls client trusting exactly `anchors_pem` (through
/// `pinset_tls::client_config_trusting`), expecting the server to be `name`, and reads
/// until the server's close_notify. A refused handshake is the client's `rustls::Error`.
fn fetch(server: &TlsServer, name: IpAddr, anchors_pem: &Path) -> Result<Vec<u8>, rustls::Error> {
    let anchors = std::fs::read(anchors_pem).expect("read trust anchors");
    let (mut tls, _) = handshake(&client_trusting(&anchors, &[]), server.addr, &name.to_string())?;
    let mut got = Vec::new();
    match tls.read_to_end(&mut got) {
        Ok(_) => Ok(got),
        Err(e) => Err(rustls_error(&e).unwrap_or_else(|| panic!("reading from {}: {e}", server.addr)).clone()),
    }
}

#[test]
fn rustls_client_reaches_the_server_at_each_ip_san() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "lan", &[]);
    let ca = site.join("pki/authority/ca.pem");
    for ip in ["127.0.0.1", "::1"] {
        let ip: IpAddr = ip.parse().expect("ip");
        let server = start_server(&site, ip);
        let addr = server.addr;
        let got = fetch(&server, ip, &ca);
        let served = server.next_outcome();
        let got = got.unwrap_or_else(|e| panic!("client at {addr}: {e} (server: {served:?})"));
        assert_eq!(got, b"hello", "client at {addr} read {:?}", String::from_utf8_lossy(&got));
        assert!(served.is_ok(), "server at {addr}: {served:?}");
    }
}

#[test]
fn rustls_client_refuses_an_address_outside_the_sans() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "lan", &[]);
    let ca = site.join("pki/authority/ca.pem");
    // Linux loopback answers on all of 127/8; the certificate names only 127.0.0.1 and ::1.
    let ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let server = start_server(&site, ip);
    let got = fetch(&server, ip, &ca);
    let served = server.next_outcome();
    let err = match got {
        Ok(data) => panic!("the client accepted a certificate not valid for {ip} and read {data:?}"),
        Err(e) => e,
    };
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "expected a NotValidForName certificate error, got {err:?}"
    );
    assert!(served.is_err(), "the server cannot complete a handshake the client aborted: {served:?}");
}

#[test]
fn rustls_client_trusting_only_the_standby_ca_fails_with_unknown_issuer() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "lan", &[]);
    let standby = site.join("pki/authority/ca-standby.pem");
    let ip: IpAddr = "127.0.0.1".parse().expect("ip");
    let server = start_server(&site, ip);
    let got = fetch(&server, ip, &standby);
    let served = server.next_outcome();
    let err = match got {
        Ok(data) => panic!("a client trusting only the standby CA accepted the server and read {data:?}"),
        Err(e) => e,
    };
    assert!(
        matches!(err, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
        "expected UnknownIssuer, got {err:?}"
    );
    assert!(served.is_err(), "the server cannot complete a handshake the client aborted: {served:?}");
}

// ---------------------------------------------------------------------------------------
// 6. File modes: keys are secret, certificates are not
// ---------------------------------------------------------------------------------------

fn is_secret_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.ends_with(".key") || name == "key.pem" || name.ends_with(".p12")
}

fn is_cert_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    !is_secret_name(path) && (name.ends_with(".pem") || name.ends_with(".cer"))
}

#[test]
fn key_files_are_0600_and_certificates_0644() {
    let tmp = tempdir();
    let ca_site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let ss_site = init_site(tmp.path(), "hub", &["--self-signed", "--ip", "10.0.0.5"]);
    let pw = tmp.path().join("pw.txt");
    write_file(&pw, &format!("{P12_PASSWORD}\n"));
    for (name, profile) in [("phone", "modern"), ("scanner", "legacy")] {
        let out = pinset()
            .args(["issue", "client", name, "--site", s(&ca_site), "--password-file", s(&pw), "--p12-profile", profile])
            .output()
            .expect("run pinset issue client");
        assert!(out.status.success(), "issue client {name}:\n{}", both(&out));
    }

    let expected_secrets = [
        "shop/pki/authority/ca.key",
        "shop/pki/authority/ca-standby.key",
        "shop/pki/servers/server/key.pem",
        "shop/pki/clients/phone/key.pem",
        "shop/pki/clients/phone/phone.p12",
        "shop/pki/clients/scanner/key.pem",
        "shop/pki/clients/scanner/scanner-legacy.p12",
        "hub/pki/servers/server/key.pem",
        "hub/pki/servers/server/standby.key",
    ];
    let expected_certs = [
        "shop/pki/authority/ca.pem",
        "shop/pki/authority/ca.cer",
        "shop/pki/authority/ca-standby.pem",
        "shop/pki/authority/ca-standby.cer",
        "shop/pki/servers/server/cert.pem",
        "shop/pki/servers/server/chain.pem",
        "shop/pki/servers/server/cert.cer",
        "shop/pki/clients/phone/cert.pem",
        "shop/pki/clients/phone/chain.pem",
        "shop/pki/clients/phone/cert.cer",
        "hub/pki/servers/server/cert.pem",
        "hub/pki/servers/server/chain.pem",
        "hub/pki/servers/server/cert.cer",
        "hub/pki/servers/server/standby.pem",
        "hub/pki/servers/server/standby.cer",
        "hub/pki/servers/server/standby-chain.pem",
    ];

    let mut secrets = Vec::new();
    let mut certs = Vec::new();
    let mut wrong = Vec::new();
    for site in [&ca_site, &ss_site] {
        for path in files_under(&site.join("pki")) {
            let rel = path.strip_prefix(tmp.path()).expect("under tmp").to_string_lossy().into_owned();
            let mode = mode_of(&path);
            let holds_private_key = std::fs::read(&path).expect("read").windows(11).any(|w| w == b"PRIVATE KEY");
            if is_secret_name(&path) || holds_private_key {
                if mode != 0o600 {
                    wrong.push(format!("{rel}: {mode:o}, a secret must be 600"));
                }
                if !is_secret_name(&path) {
                    wrong.push(format!("{rel}: holds a private key under a certificate-like name"));
                }
                secrets.push(rel);
            } else if is_cert_name(&path) {
                if mode != 0o644 {
                    wrong.push(format!("{rel}: {mode:o}, a certificate must be 644"));
                }
                certs.push(rel);
            }
        }
    }
    assert!(wrong.is_empty(), "wrong file modes:\n{}", wrong.join("\n"));
    for e in expected_secrets {
        assert!(secrets.iter().any(|f| f == e), "{e} was not found among the secrets {secrets:?}");
    }
    for e in expected_certs {
        assert!(certs.iter().any(|f| f == e), "{e} was not found among the certificates {certs:?}");
    }
}
