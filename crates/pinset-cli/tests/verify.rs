//! `pinset verify` says what a handshake says: a leaf whose key a TLS client cannot verify
//! (RSA-1024), a leaf allowed to sign certificates (keyUsage keyCertSign), and a leaf listed
//! in a revocation list made by `openssl ca -gencrl` are refused; the same chain without the
//! list is accepted. Every certificate here is made by openssl.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_contains, assert_exit, openssl_ok, pinset, s, stderr, stdout, tempdir};

/// An openssl CA: `ca.pem`, `ca.key`, and what `openssl ca` needs to keep its records.
struct OpensslCa {
    dir: PathBuf,
}

impl OpensslCa {
    fn new(dir: &Path) -> OpensslCa {
        let dir = dir.join("ca");
        std::fs::create_dir_all(dir.join("newcerts")).expect("mkdir");
        std::fs::write(dir.join("index.txt"), "").expect("index");
        std::fs::write(dir.join("crlnumber"), "1000\n").expect("crlnumber");
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ ca ]\ndefault_ca = site\n[ site ]\ndir = {d}\ndatabase = {d}/index.txt\nnew_certs_dir = \
                 {d}/newcerts\ncertificate = {d}/ca.pem\nprivate_key = {d}/ca.key\nserial = {d}/serial\ncrlnumber = \
                 {d}/crlnumber\ndefault_md = sha256\ndefault_days = 30\ndefault_crl_days = 7\npolicy = any\n\
                 copy_extensions = copyall\nunique_subject = no\n[ any ]\ncommonName = supplied\n",
                d = dir.display()
            ),
        )
        .expect("ca.cnf");
        openssl_ok(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&dir.join("ca.key")),
            "-out",
            s(&dir.join("ca.pem")),
            "-subj",
            "/CN=openssl test CA",
            "-days",
            "30",
        ]);
        OpensslCa { dir }
    }

    fn ca_pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A leaf for 127.0.0.1 with `key` (`openssl req -newkey` syntax) and extra extensions,
    /// issued and recorded by `openssl ca`.
    fn leaf(&self, name: &str, key: &[&str], ext: &[&str]) -> PathBuf {
        let csr = self.dir.join(format!("{name}.csr"));
        let cert = self.dir.join(format!("{name}.pem"));
        let keyfile = self.dir.join(format!("{name}.key"));
        let mut args = vec!["req", "-new", "-nodes", "-keyout", s(&keyfile), "-out", s(&csr), "-subj"];
        let subj = format!("/CN={name}");
        args.push(&subj);
        args.extend_from_slice(key);
        for e in ["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth", "basicConstraints=critical,CA:FALSE"]
            .iter()
            .chain(ext)
        {
            args.extend(["-addext", e]);
        }
        openssl_ok(&args);
        let cnf = self.dir.join("ca.cnf");
        openssl_ok(&[
            "ca",
            "-batch",
            "-config",
            s(&cnf),
            "-create_serial",
            "-in",
            s(&csr),
            "-out",
            s(&cert),
            "-notext",
        ]);
        cert
    }

    /// Revokes `cert` and writes a CRL of the CA, PEM.
    fn revoke(&self, cert: &Path) -> PathBuf {
        let cnf = self.dir.join("ca.cnf");
        openssl_ok(&["ca", "-config", s(&cnf), "-revoke", s(cert), "-crl_reason", "keyCompromise"]);
        let crl = self.dir.join("ca.crl");
        openssl_ok(&["ca", "-config", s(&cnf), "-gencrl", "-out", s(&crl)]);
        crl
    }
}

fn verify(cert: &Path, ca: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["verify", s(cert), "--ca", s(ca), "--name", "127.0.0.1"];
    args.extend_from_slice(extra);
    pinset().args(&args).output().expect("run pinset verify")
}

#[test]
fn verify_refuses_an_rsa_1024_leaf_as_a_handshake_would() {
    let t = tempdir();
    let ca = OpensslCa::new(t.path());
    let weak = ca.leaf("weak", &["-newkey", "rsa:1024"], &["keyUsage=critical,digitalSignature"]);
    let out = verify(&weak, &ca.ca_pem(), &[]);
    assert_exit(&out, 1, "an RSA-1024 leaf");
    assert_contains(&stderr(&out), &["type or size TLS clients refuse", "RSA 1024"], "the report");
    let out = verify(&weak, &ca.ca_pem(), &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "unsupported-key", "{v:#}");

    // The control: an RSA-2048 leaf from the same CA.
    let fine = ca.leaf("fine", &["-newkey", "rsa:2048"], &["keyUsage=critical,digitalSignature,keyEncipherment"]);
    assert_exit(&verify(&fine, &ca.ca_pem(), &[]), 0, "an RSA-2048 leaf");
}

#[test]
fn verify_refuses_a_leaf_allowed_to_sign_certificates() {
    let t = tempdir();
    let ca = OpensslCa::new(t.path());
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    let signer = ca.leaf("signer", &ec, &["keyUsage=critical,digitalSignature,keyCertSign"]);
    let out = verify(&signer, &ca.ca_pem(), &[]);
    assert_exit(&out, 1, "a leaf with keyCertSign");
    assert_contains(&stderr(&out), &["not allowed for TLS servers", "keyCertSign"], "the report");
    let fine = ca.leaf("server", &ec, &["keyUsage=critical,digitalSignature"]);
    assert_exit(&verify(&fine, &ca.ca_pem(), &[]), 0, "the same leaf without keyCertSign");
}

#[test]
fn verify_with_an_openssl_crl_refuses_the_revoked_leaf_and_accepts_it_without() {
    let t = tempdir();
    let ca = OpensslCa::new(t.path());
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    let revoked = ca.leaf("revoked", &ec, &["keyUsage=critical,digitalSignature"]);
    let other = ca.leaf("other", &ec, &["keyUsage=critical,digitalSignature"]);
    let crl = ca.revoke(&revoked);

    let out = verify(&revoked, &ca.ca_pem(), &["--crl", s(&crl)]);
    assert_exit(&out, 1, "a leaf in the CRL");
    assert_contains(&stderr(&out), &["revoked"], "the report");
    let out = verify(&revoked, &ca.ca_pem(), &["--crl", s(&crl), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "revoked", "{v:#}");

    // The same chain without the list, and another leaf with it, are accepted.
    let out = verify(&revoked, &ca.ca_pem(), &[]);
    assert_exit(&out, 0, "the revoked leaf without the CRL");
    assert_contains(&stdout(&out), &["valid for 127.0.0.1"], "the verdict");
    assert_exit(&verify(&other, &ca.ca_pem(), &["--crl", s(&crl)]), 0, "a leaf the CRL does not list");

    // DER works too; a file that is no CRL is named.
    let der = t.path().join("ca.crl.der");
    openssl_ok(&["crl", "-in", s(&crl), "-outform", "DER", "-out", s(&der)]);
    assert_exit(&verify(&revoked, &ca.ca_pem(), &["--crl", s(&der)]), 1, "the DER CRL");
    let out = verify(&revoked, &ca.ca_pem(), &["--crl", s(&ca.ca_pem())]);
    assert_exit(&out, 2, "a certificate given as a CRL");
    assert_contains(&stderr(&out), &["not an X509 CRL"], "the error");
}
