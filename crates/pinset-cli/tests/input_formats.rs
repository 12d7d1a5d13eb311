//! Input files in the shapes people hand pinset, made by OpenSSL: each is read, or refused
//! with a message that says what the file is and what is wrong with it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{assert_contains, assert_exit, openssl_ok, pinset, s, stderr, stdout, tempdir};

/// A self-signed P-256 certificate and its key, made by OpenSSL in `dir`.
fn openssl_identity(dir: &Path, extra: &[&str]) -> (PathBuf, PathBuf) {
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    let mut args = vec!["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"];
    args.extend(["-subj", "/CN=input test", "-days", "2", "-keyout", s(&key), "-out", s(&cert)]);
    args.extend_from_slice(extra);
    openssl_ok(&args);
    (key, cert)
}

/// The pin OpenSSL gives a certificate.
fn openssl_pin(cert: &Path) -> String {
    let der = openssl_ok(&["x509", "-in", s(cert), "-pubkey", "-noout"]);
    let pubkey = cert.with_extension("pub");
    fs::write(&pubkey, der).expect("write public key");
    let spki = openssl_ok(&["pkey", "-pubin", "-in", s(&pubkey), "-outform", "der"]);
    let digest = cert.with_extension("spki");
    fs::write(&digest, spki).expect("write spki");
    let out = openssl_ok(&["dgst", "-sha256", "-binary", s(&digest)]);
    fs::write(&digest, out).expect("write digest");
    String::from_utf8(openssl_ok(&["base64", "-A", "-in", s(&digest)])).expect("base64")
}

/// The pinset binary as a plain process, for control of its standard input.
fn pinset_process() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("pinset"));
    cmd.env_remove("PINSET_SITE").env_remove("PINSET_P12_PASSWORD").env("NO_COLOR", "1");
    cmd
}

/// `pinset pin ARGS` with no password source and no terminal; returns (pin, kind) pairs.
fn pins(args: &[&str]) -> Vec<(String, String)> {
    let out = pinset_process().arg("pin").args(args).arg("--json").stdin(Stdio::null()).output().expect("run pinset");
    assert_exit(&out, 0, &format!("pin {args:?}"));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    records
        .iter()
        .map(|r| (r["spki_sha256"].as_str().unwrap_or("").to_string(), r["kind"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// `pinset ARGS`, expected to fail with exit 2; returns stderr.
fn fails(args: &[&str]) -> String {
    let out = pinset_process().args(args).stdin(Stdio::null()).output().expect("run pinset");
    assert_exit(&out, 2, &format!("{args:?}"));
    assert!(out.stdout.is_empty(), "an error prints no data: {}", stdout(&out));
    stderr(&out)
}

#[test]
fn a_pem_with_a_utf8_byte_order_mark_is_read() {
    let t = tempdir();
    let (_, cert) = openssl_identity(t.path(), &[]);
    let bom = t.path().join("bom.pem");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(fs::read(&cert).expect("read cert"));
    fs::write(&bom, bytes).expect("write");
    openssl_ok(&["x509", "-in", s(&bom), "-noout"]);
    assert_eq!(pins(&[s(&bom)]), [(openssl_pin(&cert), "certificate".to_string())]);
    let out = pinset().args(["inspect", s(&bom)]).output().expect("run");
    assert_exit(&out, 0, "inspect a PEM with a BOM");
}

#[test]
fn a_one_line_pem_is_named_by_its_label_not_its_base64() {
    let t = tempdir();
    let (_, cert) = openssl_identity(t.path(), &[]);
    let text = fs::read_to_string(&cert).expect("read");
    let one_line: String = text.lines().collect();
    let body = one_line.trim_start_matches("-----BEGIN CERTIFICATE-----");
    let f = t.path().join("one-line.pem");
    fs::write(&f, &one_line).expect("write");
    let err = fails(&["pin", s(&f)]);
    assert_contains(&err, &["one-line.pem", "BEGIN CERTIFICATE line", "line breaks", "hint:"], "one-line PEM");
    assert!(!err.contains(&body[..40]), "the base64 is not a label:\n{err}");
}

#[test]
fn a_der_certificate_with_trailing_bytes_says_so() {
    let t = tempdir();
    let (_, cert) = openssl_identity(t.path(), &[]);
    let der = openssl_ok(&["x509", "-in", s(&cert), "-outform", "der"]);
    let f = t.path().join("trailing.cer");
    let mut bytes = der.clone();
    bytes.extend_from_slice(b"\r\nextra");
    fs::write(&f, bytes).expect("write");
    for cmd in ["pin", "inspect"] {
        let err = fails(&[cmd, s(&f)]);
        let what = format!("is a DER certificate of {} bytes followed by 7 bytes", der.len());
        assert_contains(&err, &["trailing.cer", &what, "hint:"], cmd);
        assert!(!err.contains("neither PEM nor"), "{err}");
    }
}

#[test]
fn a_der_encrypted_private_key_is_called_encrypted() {
    let t = tempdir();
    let (key, _) = openssl_identity(t.path(), &[]);
    let f = t.path().join("key.enc.der");
    openssl_ok(&["pkcs8", "-topk8", "-in", s(&key), "-outform", "der", "-passout", "pass:secret", "-out", s(&f)]);
    let err = fails(&["pin", s(&f)]);
    assert_contains(&err, &["key.enc.der", "encrypted private key (PKCS#8, DER)", "openssl pkey"], "DER encrypted");
}

#[test]
fn legacy_encrypted_ec_and_rsa_keys_are_called_encrypted() {
    let t = tempdir();
    let (key, _) = openssl_identity(t.path(), &[]);
    let ec = t.path().join("ec.enc.pem");
    openssl_ok(&["ec", "-in", s(&key), "-aes256", "-passout", "pass:secret", "-out", s(&ec)]);
    assert!(fs::read_to_string(&ec).expect("read").contains("Proc-Type: 4,ENCRYPTED"));
    let err = fails(&["pin", s(&ec)]);
    assert_contains(
        &err,
        &["ec.enc.pem", "encrypted private key", "EC PRIVATE KEY", "AES-256-CBC", "openssl pkey"],
        "EC",
    );
    let rsa_plain = t.path().join("rsa.pem");
    openssl_ok(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", s(&rsa_plain)]);
    let rsa = t.path().join("rsa.enc.pem");
    openssl_ok(&["rsa", "-in", s(&rsa_plain), "-traditional", "-des3", "-passout", "pass:secret", "-out", s(&rsa)]);
    let err = fails(&["pin", s(&rsa)]);
    assert_contains(&err, &["rsa.enc.pem", "encrypted private key", "RSA PRIVATE KEY", "DES-EDE3-CBC"], "RSA");
}

/// A PKCS#12 file made by `openssl pkcs12 -export` with `args`.
fn p12(dir: &Path, name: &str, key: &Path, cert: &Path, args: &[&str]) -> PathBuf {
    let f = dir.join(name);
    let mut a = vec!["pkcs12", "-export", "-inkey", s(key), "-in", s(cert), "-out", s(&f)];
    a.extend_from_slice(args);
    openssl_ok(&a);
    f
}

#[test]
fn a_pkcs12_without_a_password_opens_without_asking_for_one() {
    let t = tempdir();
    let (key, cert) = openssl_identity(t.path(), &[]);
    let pin = openssl_pin(&cert);
    let f = p12(t.path(), "nopw.p12", &key, &cert, &["-passout", "pass:"]);
    assert_eq!(pins(&[s(&f)]), [(pin.clone(), "private-key".into()), (pin.clone(), "certificate".into())]);
    // inspect takes its certificates, and leaves the key alone.
    let out = pinset_process().args(["inspect", s(&f)]).stdin(Stdio::null()).output().expect("run");
    assert_exit(&out, 0, "inspect a PKCS#12 without a password");
    assert_contains(&stdout(&out), &["CN=input test", &pin], "inspect");
    let f = p12(
        t.path(),
        "plain.p12",
        &key,
        &cert,
        &["-passout", "pass:", "-keypbe", "NONE", "-certpbe", "NONE", "-nomac"],
    );
    assert_eq!(pins(&[s(&f)]), [(pin.clone(), "private-key".into()), (pin, "certificate".into())]);
}

#[test]
fn a_pkcs12_holding_only_a_certificate_or_only_a_key_is_pinned() {
    let t = tempdir();
    let (key, cert) = openssl_identity(t.path(), &[]);
    let pin = openssl_pin(&cert);
    let pw = t.path().join("pw");
    fs::write(&pw, "secret\n").expect("write");
    let cert_only = p12(t.path(), "cert-only.p12", &key, &cert, &["-nokeys", "-passout", "pass:secret"]);
    assert_eq!(pins(&[s(&cert_only), "--password-file", s(&pw)]), [(pin.clone(), "certificate".into())]);
    let key_only = p12(t.path(), "key-only.p12", &key, &cert, &["-nocerts", "-passout", "pass:secret"]);
    assert_eq!(pins(&[s(&key_only), "--password-file", s(&pw)]), [(pin.clone(), "private-key".into())]);
    // Without a password either opens: a certificate is not a secret.
    let open = p12(t.path(), "cert-only-nopw.p12", &key, &cert, &["-nokeys", "-passout", "pass:"]);
    assert_eq!(pins(&[s(&open)]), [(pin, "certificate".into())]);
}

#[test]
fn a_wrong_password_on_a_pkcs12_without_a_mac_gets_the_password_hint() {
    let t = tempdir();
    let (key, cert) = openssl_identity(t.path(), &[]);
    let f = p12(t.path(), "nomac.p12", &key, &cert, &["-passout", "pass:secret", "-nomac"]);
    let wrong = t.path().join("wrong");
    fs::write(&wrong, "wrong\n").expect("write");
    let err = fails(&["pin", s(&f), "--password-file", s(&wrong)]);
    assert_contains(&err, &["nomac.p12", "wrong password", "no integrity check", "hint:", "--password-file"], "no MAC");
    let right = t.path().join("right");
    fs::write(&right, "secret\n").expect("write");
    assert_eq!(pins(&[s(&f), "--password-file", s(&right)]).len(), 2);
}

#[test]
fn a_certificate_request_whose_signature_does_not_verify_is_refused() {
    let t = tempdir();
    let (key, _) = openssl_identity(t.path(), &[]);
    let good = t.path().join("good.csr");
    openssl_ok(&["req", "-new", "-key", s(&key), "-subj", "/CN=csr", "-outform", "der", "-out", s(&good)]);
    assert_eq!(pins(&[s(&good)]).len(), 1, "the genuine request is pinned");
    // The subject changed after signing: a one-letter edit inside the signed part.
    let mut der = fs::read(&good).expect("read");
    let at = der.windows(3).position(|w| w == b"csr").expect("the CN in the request");
    der[at] = b'x';
    let bad = t.path().join("bad.csr");
    fs::write(&bad, &der).expect("write");
    let verify = common::run("openssl", &["req", "-inform", "der", "-in", s(&bad), "-verify", "-noout"]);
    // OpenSSL 3.0 says so but still exits 0.
    assert_contains(&stderr(&verify), &["self-signature verify failure"], "openssl refuses it too");
    let err = fails(&["pin", s(&bad)]);
    assert_contains(&err, &["bad.csr", "self-signature does not verify", "hint:"], "bad CSR");
}

#[test]
fn a_negative_serial_is_shown_as_openssl_shows_it_and_flagged() {
    let t = tempdir();
    let (_, cert) = openssl_identity(t.path(), &["-set_serial", "-12345"]);
    let serial = String::from_utf8(openssl_ok(&["x509", "-in", s(&cert), "-noout", "-serial"])).expect("text");
    assert_eq!(serial.trim(), "serial=-3039");
    let out = pinset().args(["inspect", s(&cert)]).output().expect("run");
    assert_exit(&out, 0, "inspect");
    assert_contains(&stdout(&out), &["serial         -3039 (negative: RFC 5280"], "inspect");
    let out = pinset().args(["inspect", s(&cert), "--json"]).output().expect("run");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["serial"], "-3039");
    assert!(json[0]["serial_problem"].as_str().is_some_and(|p| p.starts_with("negative")), "{json}");
}

#[test]
fn an_endless_input_is_refused_instead_of_filling_memory() {
    let err = fails(&["pin", "/dev/zero"]);
    assert_contains(&err, &["/dev/zero", "more than 16 MiB", "hint:"], "pin /dev/zero");
    let mut yes = Command::new("yes").stdout(Stdio::piped()).spawn().expect("run yes");
    let out = pinset_process()
        .args(["inspect", "-"])
        .stdin(yes.stdout.take().expect("yes' output"))
        .output()
        .expect("run pinset");
    let _ = yes.kill();
    let _ = yes.wait();
    assert_exit(&out, 2, "yes | pinset inspect -");
    assert_contains(&stderr(&out), &["(stdin)", "more than 16 MiB"], "yes | pinset inspect -");
}
