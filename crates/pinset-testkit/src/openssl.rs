//! Certificates made by the openssl command line, as the people pinset serves make them
//! by hand: an impostor of a genuine certificate (same subject and SANs, another key,
//! another CA), a plain self-signed certificate, and a hostile certificate whose subject
//! and SAN carry terminal control characters (ESC, BEL, CR, LF).
//!
//! Each maker checks its result with openssl itself before handing it out, so a test never
//! runs against a forgery that is not what it claims to be.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::process::{openssl_ok, s};
use crate::s_server::OpensslServer;

/// A self-signed P-256 certificate made by `openssl req -x509`, `CN=<cn>`, with
/// `subjectAltName=<san>` in openssl's syntax (`IP:127.0.0.1`, `DNS:a.test,IP:::1`), valid
/// for 30 days: `dir/CN.pem` and `dir/CN.key`.
pub fn self_signed(dir: &Path, cn: &str, san: &str) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{cn}.pem"));
    let key = dir.join(format!("{cn}.key"));
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        s(&key),
        "-out",
        s(&cert),
        "-subj",
        &format!("/CN={cn}"),
        "-addext",
        &format!("subjectAltName={san}"),
        "-days",
        "30",
    ]);
    (cert, key)
}

/// An impostor of a genuine server certificate: same subject, same extensions (SANs, EKU),
/// another key, issued by another CA.
pub struct Impostor {
    /// The impostor's CA certificate (PEM): a client told to trust it accepts the impostor
    /// unless a pin stops it.
    pub ca: PathBuf,
    /// The impostor's certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM).
    pub key: PathBuf,
}

impl Impostor {
    /// Forges an impostor of `genuine` (a PEM certificate) in `dir` with openssl, and proves
    /// it: `openssl verify` accepts it under the impostor CA, and its subject and SANs are
    /// the genuine certificate's. The files are `dir/impostor{,-ca}.{pem,key}`: give each
    /// impostor a folder of its own.
    pub fn forge(dir: &Path, genuine: &Path) -> Impostor {
        let ca = dir.join("impostor-ca.pem");
        let ca_key = dir.join("impostor-ca.key");
        let cert = dir.join("impostor.pem");
        let key = dir.join("impostor.key");
        let csr = dir.join("impostor.csr");
        openssl_ok(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&ca_key),
            "-out",
            s(&ca),
            "-subj",
            "/CN=Impostor Root CA",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl_ok(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", s(&key)]);
        // The genuine certificate turned into a request for the impostor's key, extensions
        // and all; the impostor CA signs it (and writes its own authority key identifier).
        openssl_ok(&[
            "x509",
            "-x509toreq",
            "-in",
            s(genuine),
            "-key",
            s(&key),
            "-copy_extensions",
            "copyall",
            "-out",
            s(&csr),
        ]);
        openssl_ok(&[
            "x509",
            "-req",
            "-in",
            s(&csr),
            "-CA",
            s(&ca),
            "-CAkey",
            s(&ca_key),
            "-copy_extensions",
            "copyall",
            "-days",
            "30",
            "-out",
            s(&cert),
        ]);
        openssl_ok(&["verify", "-CAfile", s(&ca), s(&cert)]);
        let names = |c: &Path| {
            openssl_ok(&["x509", "-in", s(c), "-noout", "-subject", "-ext", "subjectAltName,extendedKeyUsage"])
        };
        assert_eq!(names(&cert), names(genuine), "the impostor must carry the genuine subject and SANs");
        Impostor { ca, cert, key }
    }

    /// An `openssl s_server -www` presenting the impostor on `ip`.
    pub fn serve(&self, dir: &Path, ip: IpAddr) -> OpensslServer {
        OpensslServer::start(dir, ip, &self.cert, &self.key, &[])
    }
}

/// The subject CN of a [`hostile`] certificate: a colour escape (ESC `[31m`), BEL, then CR
/// LF. Printed raw, it recolours the terminal, rings it, and breaks the line.
pub const HOSTILE_CN: &str = "evil\x1b[31mred\x07\r\nforged";

/// The subject O of a [`hostile`] certificate: LF, then a line shaped like a line of
/// `pinset pin` output (a pin, a source, a position). Printed raw, it adds a line of its
/// own. (openssl holds a CN and an O to 64 bytes each, so the two are split.)
pub const HOSTILE_O: &str = "\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= 10.0.0.1:1 (leaf)";

/// The dNSName SAN of a [`hostile`] certificate: ESC `[2J` (clear the screen) and BEL.
/// (Its SANs also name 127.0.0.1, so it can be served on loopback.)
pub const HOSTILE_DNS: &str = "x\x1b[2J\x07y.test";

/// A certificate whose subject is `CN=`[`HOSTILE_CN`]`, O=`[`HOSTILE_O`] and whose SANs
/// are `IP:127.0.0.1` and [`HOSTILE_DNS`], made by openssl (`-subj` and `-addext` take the
/// raw bytes): self-signed, or issued by `issuer` (a CA's certificate and key files, such
/// as a site's [`crate::site::ca_files`]). Returns `dir/NAME.pem` and `dir/NAME.key`, after
/// checking that the control bytes really are in the certificate's DER (openssl neither
/// escaped nor dropped them).
pub fn hostile(dir: &Path, name: &str, issuer: Option<(&Path, &Path)>) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let subj = format!("/CN={HOSTILE_CN}/O={HOSTILE_O}");
    let san = format!("subjectAltName=IP:127.0.0.1,DNS:{HOSTILE_DNS}");
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", s(&key)];
    match issuer {
        None => {
            let mut args = vec!["req", "-x509"];
            args.extend(new_key);
            args.extend(["-subj", &subj, "-addext", &san, "-days", "30", "-out", s(&cert)]);
            openssl_ok(&args);
        }
        Some((ca_cert, ca_key)) => {
            let csr = dir.join(format!("{name}.csr"));
            let mut args = vec!["req", "-new"];
            args.extend(new_key);
            args.extend(["-subj", &subj, "-addext", &san, "-out", s(&csr)]);
            openssl_ok(&args);
            openssl_ok(&[
                "x509",
                "-req",
                "-in",
                s(&csr),
                "-CA",
                s(ca_cert),
                "-CAkey",
                s(ca_key),
                "-copy_extensions",
                "copyall",
                "-days",
                "30",
                "-out",
                s(&cert),
            ]);
        }
    }
    let der = openssl_ok(&["x509", "-in", s(&cert), "-outform", "DER"]);
    for needle in [HOSTILE_CN, HOSTILE_O, HOSTILE_DNS] {
        assert!(
            der.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "openssl did not put {needle:?} into {} as raw bytes",
            cert.display()
        );
    }
    (cert, key)
}
