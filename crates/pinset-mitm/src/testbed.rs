//! The testbed: a local catalogue of bad TLS endpoints, in the spirit of badssl.com for a
//! LAN, made from a site's CA and from impostor CAs, plus one genuine control. Each
//! endpoint has a port of its own and the same verdicts as the harness: application data
//! to a bad endpoint is an accepted impostor, to the control a connection that works.
//!
//! Most endpoints are served by rustls with certificates made by rcgen. Three need the
//! openssl command line, because neither rcgen nor rustls (with aws-lc) will make or serve
//! them: the SHA-1-signed certificate is signed by `openssl x509 -sha1`; the RSA-1024 one
//! is made by openssl and served by an `openssl s_server` child (aws-lc refuses RSA keys
//! under 2,048 bits); the TLS 1.0/1.1 endpoint is an `openssl s_server -min_protocol TLSv1
//! -max_protocol TLSv1.1 -cipher DEFAULT:@SECLEVEL=0` child, since rustls cannot speak TLS
//! 1.0. The children listen on loopback ports of their own; the testbed relays each
//! connection to them untouched and reads its verdict from the TLS records. Without
//! openssl those three endpoints are skipped, and [`Testbed::skipped`] says so.
//!
//! Certificates made by the testbed live [`TESTBED_DAYS`] days and their keys only in
//! memory (and, for openssl, in a private temporary folder removed at the end).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pinset::{Host, Site};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::forge::{copy_name, leaf, random_serial, server_config};
use crate::observe::{self, Sniff};
use crate::verdict::{Record, Summary, Verdict};

/// Lifetime of the testbed's good-looking certificates: a week, so one that leaks is soon
/// worth nothing.
pub const TESTBED_DAYS: i64 = 7;

/// The arguments that restrict `openssl s_server` to TLS 1.0 and 1.1: OpenSSL 3 refuses
/// those versions at its default security level (their handshake signs with SHA-1 or
/// MD5+SHA-1), so the level is lowered for that server alone.
pub const LEGACY_TLS_ARGS: [&str; 6] =
    ["-min_protocol", "TLSv1", "-max_protocol", "TLSv1.1", "-cipher", "DEFAULT:@SECLEVEL=0"];

/// How long an `openssl s_server` child may take to accept connections.
const CHILD_START: Duration = Duration::from_secs(10);

/// One endpoint of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Its name (`expired`, `rsa-1024`, …, `control`).
    pub name: &'static str,
    /// The port it is served on.
    pub port: u16,
    /// What is wrong with it (for the control: nothing).
    pub defect: &'static str,
    /// What a correct client does.
    pub correct: &'static str,
    /// Whether it is the genuine control.
    pub control: bool,
    /// What serves it: `rustls`, or the `openssl s_server` child.
    pub served_by: &'static str,
}

/// The catalogue: name, defect, what a correct client does.
const CATALOGUE: [(&str, &str, &str); 14] = [
    ("control", "nothing: a certificate from the site CA for this address", "connects"),
    ("expired", "the certificate expired yesterday", "refuses: certificate expired"),
    ("not-yet-valid", "the certificate becomes valid tomorrow", "refuses: certificate not yet valid"),
    ("wrong-ip", "the certificate names another IP address", "refuses: name mismatch"),
    (
        "wrong-name",
        "the certificate names another host; the address only in its CN",
        "refuses: name mismatch (the CN is not read)",
    ),
    ("self-signed", "a self-signed certificate for this address", "refuses: unknown issuer"),
    ("untrusted-root", "a certificate from a root the site never used", "refuses: unknown issuer"),
    (
        "impostor-ca-name",
        "another key under a CA carrying the site CA's name",
        "refuses: bad signature (the name matches, the key does not)",
    ),
    (
        "incomplete-chain",
        "a certificate from an intermediate of the site CA, sent without the intermediate",
        "refuses: unknown issuer",
    ),
    ("rsa-1024", "an RSA key of 1,024 bits", "refuses: key too small"),
    ("sha1-signature", "the certificate is signed with SHA-1", "refuses: SHA-1 signature"),
    ("ca-as-leaf", "a CA certificate (CA:TRUE) presented as the server's", "refuses: a CA is no server"),
    ("client-auth-only", "an extended key usage of clientAuth only", "refuses: not for TLS servers"),
    ("tls10-11-only", "the server speaks TLS 1.0 and 1.1 only", "refuses: protocol version"),
];

enum Backend {
    Rustls(Arc<rustls::ServerConfig>),
    Relay(SocketAddr),
}

struct Entry {
    endpoint: Endpoint,
    backend: Backend,
    answer: Vec<u8>,
}

/// An `openssl s_server` child, killed and reaped when dropped.
struct ChildServer(Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a testbed does.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The address served on; the certificates name it.
    pub ip: IpAddr,
    /// The first port; the endpoints take the ports that follow, in catalogue order (0:
    /// any free ports).
    pub first_port: u16,
    /// How long a connection may show nothing decisive.
    pub timeout: Duration,
}

/// A testbed bound to its ports, ready to run.
pub struct Testbed {
    entries: Vec<Entry>,
    listeners: Vec<TcpListener>,
    skipped: Vec<(&'static str, String)>,
    timeout: Duration,
    ip: IpAddr,
    _children: Vec<ChildServer>,
    _work: tempfile::TempDir,
}

/// The site CA: its certificate, key file and issuer.
struct SiteCa {
    cert_der: CertificateDer<'static>,
    cert_path: PathBuf,
    key_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

fn site_ca(site: &Site) -> pinset::Result<SiteCa> {
    let slot = site.plan.authority.active.as_ref().ok_or_else(|| {
        pinset::Error::bad_input(
            &site.dir().display().to_string(),
            "is a self-signed site: the testbed signs its endpoints with the site's CA",
            Some("run the testbed with a site that has a private CA"),
        )
    })?;
    let cert_path = site.path(slot.cert.as_deref().unwrap_or("pki/authority/ca.pem"));
    let key_path = site.path(&slot.key);
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| pinset::Error::Io { action: "cannot read", path: p.to_path_buf(), source })
    };
    let label = cert_path.display().to_string();
    let cert_der = pinset::input::read_certificates(&label, &read(&cert_path)?)?
        .into_iter()
        .next()
        .ok_or_else(|| pinset::Error::bad_input(&label, "holds no certificate", None))?;
    let key_pem = String::from_utf8_lossy(&read(&key_path)?).into_owned();
    let issuer = pinset::pki::load_issuer(&cert_der, &key_pem, &key_path.display().to_string())?;
    Ok(SiteCa { cert_der: cert_der.into(), cert_path, key_path, issuer })
}

fn fail(what: &str) -> impl Fn(rcgen::Error) -> pinset::Error + '_ {
    move |e| pinset::Error::Crypto(format!("cannot make the {what} endpoint: {e}"))
}

impl Testbed {
    /// Makes the catalogue from `site`'s CA and binds its ports.
    pub async fn bind(site: &Site, options: Options) -> pinset::Result<Testbed> {
        let ca = site_ca(site)?;
        let ip = options.ip;
        let host = Host::Ip(ip);
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|e| pinset::Error::Crypto(e.to_string()))?;
        let hour = time::Duration::hours(1);
        let fresh = (now - hour, now + time::Duration::days(TESTBED_DAYS));
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail("key"))?;
        let key_der = PrivatePkcs8KeyDer::from(key.serialize_der());
        let ca_der = ca.cert_der.clone();
        let work = tempfile::Builder::new()
            .prefix("pinset-testbed-")
            .tempdir()
            .map_err(|source| pinset::Error::Io { action: "cannot create", path: std::env::temp_dir(), source })?;
        let leaf_for = |validity| leaf(&host, validity).map_err(pinset::Error::Crypto);
        let by_site = |params: CertificateParams, what: &str| {
            params.signed_by(&key, &ca.issuer).map(|c| c.der().clone()).map_err(fail(what))
        };
        let root = |cn: &str| -> pinset::Result<(CertificateParams, KeyPair)> {
            let k = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail("root"))?;
            let mut p = CertificateParams::default();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            (p.not_before, p.not_after) = fresh;
            p.serial_number = Some(random_serial()?);
            Ok((p, k))
        };

        let mut chains: Vec<(&'static str, Option<Vec<CertificateDer<'static>>>)> = Vec::new();
        let control = by_site(leaf_for(fresh)?, "control")?;
        chains.push(("control", Some(vec![control.clone(), ca_der.clone()])));
        let day = time::Duration::days(1);
        let expired = by_site(leaf_for((now - time::Duration::days(30), now - day))?, "expired")?;
        chains.push(("expired", Some(vec![expired, ca_der.clone()])));
        let later = by_site(leaf_for((now + day, now + time::Duration::days(30)))?, "not-yet-valid")?;
        chains.push(("not-yet-valid", Some(vec![later, ca_der.clone()])));
        let other_ip = leaf(&crate::forge::wrong_name(&host), fresh).map_err(pinset::Error::Crypto)?;
        chains.push(("wrong-ip", Some(vec![by_site(other_ip, "wrong-ip")?, ca_der.clone()])));
        let mut other_name = leaf_for(fresh)?;
        other_name.subject_alt_names =
            vec![SanType::DnsName("wrong-name.invalid".try_into().map_err(fail("wrong-name"))?)];
        chains.push(("wrong-name", Some(vec![by_site(other_name, "wrong-name")?, ca_der.clone()])));
        let mut own = leaf_for(fresh)?;
        own.key_usages.push(KeyUsagePurpose::KeyCertSign);
        own.use_authority_key_identifier_extension = false;
        chains.push(("self-signed", Some(vec![own.self_signed(&key).map_err(fail("self-signed"))?.der().clone()])));
        let (untrusted, untrusted_key) = root("pinset testbed untrusted root")?;
        let untrusted_der = untrusted.self_signed(&untrusted_key).map_err(fail("untrusted-root"))?.der().clone();
        let by_untrusted =
            leaf_for(fresh)?.signed_by(&key, &Issuer::new(untrusted, untrusted_key)).map_err(fail("untrusted-root"))?;
        chains.push(("untrusted-root", Some(vec![by_untrusted.der().clone(), untrusted_der])));
        let (mut lookalike, lookalike_key) = root("")?;
        let parsed = x509_parser::parse_x509_certificate(&ca.cert_der)
            .map_err(|e| pinset::Error::Crypto(format!("the site CA does not parse: {e}")))?
            .1;
        lookalike.distinguished_name = copy_name(parsed.subject());
        let lookalike_der = lookalike.self_signed(&lookalike_key).map_err(fail("impostor-ca-name"))?.der().clone();
        let by_lookalike = leaf_for(fresh)?
            .signed_by(&key, &Issuer::new(lookalike, lookalike_key))
            .map_err(fail("impostor-ca-name"))?;
        chains.push(("impostor-ca-name", Some(vec![by_lookalike.der().clone(), lookalike_der])));
        let (mut inter, inter_key) = root("pinset testbed intermediate")?;
        inter.use_authority_key_identifier_extension = true;
        let _inter_cert = inter.signed_by(&inter_key, &ca.issuer).map_err(fail("incomplete-chain"))?;
        let by_inter =
            leaf_for(fresh)?.signed_by(&key, &Issuer::new(inter, inter_key)).map_err(fail("incomplete-chain"))?;
        chains.push(("incomplete-chain", Some(vec![by_inter.der().clone()])));
        chains.push(("rsa-1024", None));
        chains.push(("sha1-signature", None));
        let mut ca_leaf = leaf_for(fresh)?;
        ca_leaf.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
        chains.push(("ca-as-leaf", Some(vec![by_site(ca_leaf, "ca-as-leaf")?, ca_der.clone()])));
        let mut client_only = leaf_for(fresh)?;
        client_only.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        chains.push(("client-auth-only", Some(vec![by_site(client_only, "client-auth-only")?, ca_der.clone()])));
        chains.push(("tls10-11-only", None));

        // What openssl makes and serves.
        let openssl = OpensslWork { dir: work.path(), ca: &ca, ip };
        let mut children = Vec::new();
        let mut skipped = Vec::new();
        let mut entries = Vec::new();
        for ((name, chain), (cat_name, defect, correct)) in chains.into_iter().zip(CATALOGUE) {
            debug_assert_eq!(name, cat_name);
            let control = name == "control";
            let made: Result<(Backend, &'static str), String> = match (name, chain) {
                (_, Some(chain)) => {
                    server_config(chain, key_der.clone_key(), false).map(|c| (Backend::Rustls(Arc::new(c)), "rustls"))
                }
                ("sha1-signature", None) => openssl.sha1(&key).and_then(|cert| {
                    server_config(vec![cert, ca_der.clone()], key_der.clone_key(), false)
                        .map(|c| (Backend::Rustls(Arc::new(c)), "rustls"))
                }),
                ("rsa-1024", None) => openssl.rsa1024().map(|(child, addr)| {
                    children.push(child);
                    (Backend::Relay(addr), "openssl s_server")
                }),
                (_, None) => openssl.legacy(&key).map(|(child, addr)| {
                    children.push(child);
                    (Backend::Relay(addr), "openssl s_server")
                }),
            };
            let (backend, served_by) = match made {
                Ok(m) => m,
                Err(why) => {
                    skipped.push((name, why));
                    continue;
                }
            };
            let body = if control {
                "pinset testbed: control, the genuine endpoint\n".to_string()
            } else {
                format!("pinset testbed: {name}: a correct client refuses this endpoint ({defect})\n")
            };
            let answer = crate::mitm::answer("200 OK", &body);
            let index = CATALOGUE.iter().position(|c| c.0 == name).unwrap_or(0) as u16;
            let port = if options.first_port == 0 { 0 } else { options.first_port.saturating_add(index) };
            let endpoint = Endpoint { name, port, defect, correct, control, served_by };
            entries.push(Entry { endpoint, backend, answer });
        }
        let mut listeners = Vec::new();
        for entry in &mut entries {
            let addr = SocketAddr::new(ip, entry.endpoint.port);
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                pinset::Error::bad_value(
                    "port",
                    &addr.to_string(),
                    format!("cannot listen there for the {} endpoint: {e}", entry.endpoint.name),
                    Some("choose other ports with a first port, or 0 for any free ports"),
                )
            })?;
            entry.endpoint.port = listener.local_addr().map(|a| a.port()).unwrap_or(entry.endpoint.port);
            listeners.push(listener);
        }
        Ok(Testbed { entries, listeners, skipped, timeout: options.timeout, ip, _children: children, _work: work })
    }

    /// The endpoints served, in catalogue order.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.entries.iter().map(|e| e.endpoint.clone()).collect()
    }

    /// The endpoints that could not be made, and why (openssl missing).
    pub fn skipped(&self) -> &[(&'static str, String)] {
        &self.skipped
    }

    /// Runs until `stop` completes, calling `report` with every record as it is made, and
    /// returns the summary.
    pub async fn run(
        self,
        stop: impl std::future::Future<Output = ()>,
        report: impl Fn(&Record) + Send + Sync + 'static,
    ) -> Summary {
        let Testbed { entries, listeners, timeout, ip, _children: children, _work: work, .. } = self;
        let entries = Arc::new(entries);
        let summary = Arc::new(std::sync::Mutex::new(Summary::default()));
        let report = Arc::new(report);
        let (handler_summary, handler_entries) = (summary.clone(), entries.clone());
        crate::listen::serve(listeners, stop, timeout * 2, move |sock, peer, index| {
            let (summary, entries, report) = (handler_summary.clone(), handler_entries.clone(), report.clone());
            async move {
                let entry = &entries[index];
                let Some((verdict, tls)) = serve_one(entry, sock, timeout).await else { return };
                let record = Record {
                    time: OffsetDateTime::now_utc(),
                    client: peer,
                    host: ip.to_string(),
                    port: entry.endpoint.port,
                    scenario: entry.endpoint.name.to_string(),
                    tls,
                    verdict,
                };
                summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner).add(&record);
                report(&record);
            }
        })
        .await;
        // The openssl children stop and the private folder goes only now.
        drop((children, work));
        summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// One connection to one endpoint, to its verdict; `None` for a connection closed before
/// its first byte (nothing was shown to it).
async fn serve_one(entry: &Entry, sock: TcpStream, timeout: Duration) -> Option<(Verdict, Option<String>)> {
    match observe::sniff(&sock, timeout).await {
        Sniff::Tls => {}
        Sniff::Http => {
            let answer = crate::mitm::answer("400 Bad Request", "pinset testbed: this port speaks TLS only\n");
            return Some((Verdict::Cleartext(observe::read_cleartext(sock, &answer).await), None));
        }
        Sniff::Other => return Some((Verdict::Inconclusive("the client sent neither TLS nor HTTP".into()), None)),
        Sniff::Silent => {
            let why = format!("the client sent nothing within {}s", timeout.as_secs_f32());
            return Some((Verdict::Inconclusive(why), None));
        }
        Sniff::Closed => return None,
    }
    Some(match &entry.backend {
        Backend::Rustls(config) => {
            let deadline = Instant::now() + timeout;
            let start = match observe::client_hello(sock, deadline).await {
                Ok(s) => s,
                Err(v) => return Some((v, None)),
            };
            let on_data: fn(crate::verdict::Sent) -> Verdict =
                if entry.endpoint.control { |_| Verdict::Connected } else { |s| Verdict::AcceptedImpostor(Some(s)) };
            observe::handshake(start, config.clone(), deadline, timeout, on_data, &entry.answer).await
        }
        Backend::Relay(addr) => {
            let on_data = if entry.endpoint.control { Verdict::Connected } else { Verdict::AcceptedImpostor(None) };
            match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                Ok(Ok(up)) => observe::relay(sock, up, timeout, on_data).await,
                _ => (
                    Verdict::Inconclusive(format!("the openssl server behind {} did not answer", entry.endpoint.name)),
                    None,
                ),
            }
        }
    })
}

/// What openssl makes in the testbed's private folder.
struct OpensslWork<'a> {
    dir: &'a Path,
    ca: &'a SiteCa,
    ip: IpAddr,
}

impl OpensslWork<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn run(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new("openssl")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("needs the openssl command ({e})"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "openssl {} failed: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn write(&self, name: &str, text: &str, mode: u32) -> Result<PathBuf, String> {
        let path = self.path(name);
        pinset::atomic::write(&path, text.as_bytes(), mode).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// A certificate request for `key_path`, and the certificate the site CA signs for it
    /// with `digest`: the endpoint's address as SAN, serverAuth.
    fn sign(&self, stem: &str, key_path: &Path, digest: &str) -> Result<PathBuf, String> {
        let ext = self.write(
            &format!("{stem}.ext"),
            &format!(
                "subjectAltName=IP:{}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n\
                 keyUsage=critical,digitalSignature,keyEncipherment\n",
                self.ip
            ),
            pinset::atomic::PUBLIC_MODE,
        )?;
        let csr = self.path(&format!("{stem}.csr"));
        let cert = self.path(&format!("{stem}.pem"));
        let s = |p: &Path| p.display().to_string();
        self.run(&["req", "-new", "-key", &s(key_path), "-subj", &format!("/CN={}", self.ip), "-out", &s(&csr)])?;
        let serial = random_serial().map_err(|e| e.to_string())?;
        let serial = format!("0x{}", serial.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>());
        // -set_serial: -CAcreateserial would write a serial file next to the site's CA.
        self.run(&[
            "x509",
            "-req",
            "-in",
            &s(&csr),
            "-CA",
            &s(&self.ca.cert_path),
            "-CAkey",
            &s(&self.ca.key_path),
            "-set_serial",
            &serial,
            "-days",
            &TESTBED_DAYS.to_string(),
            digest,
            "-extfile",
            &s(&ext),
            "-out",
            &s(&cert),
        ])?;
        Ok(cert)
    }

    /// The leaf key's certificate, signed by the site CA with SHA-1.
    fn sha1(&self, key: &KeyPair) -> Result<CertificateDer<'static>, String> {
        let key_path = self.write("sha1.key", &key.serialize_pem(), pinset::atomic::SECRET_MODE)?;
        let cert = self.sign("sha1", &key_path, "-sha1")?;
        let pem = std::fs::read(&cert).map_err(|e| e.to_string())?;
        let der = pinset::input::read_certificates("sha1.pem", &pem).map_err(|e| e.to_string())?;
        der.into_iter().next().map(CertificateDer::from).ok_or_else(|| "openssl made no certificate".into())
    }

    /// An RSA-1024 key and certificate, served by an s_server child.
    fn rsa1024(&self) -> Result<(ChildServer, SocketAddr), String> {
        let key_path = self.path("rsa1024.key");
        let s = |p: &Path| p.display().to_string();
        self.run(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", &s(&key_path)])?;
        let cert = self.sign("rsa1024", &key_path, "-sha256")?;
        // Security level 0: OpenSSL refuses to serve a 1,024-bit key at its default level.
        self.serve(&cert, &key_path, &["-cipher", "DEFAULT:@SECLEVEL=0"])
    }

    /// A genuine-looking certificate served over TLS 1.0 and 1.1 only by an s_server child.
    fn legacy(&self, key: &KeyPair) -> Result<(ChildServer, SocketAddr), String> {
        let key_path = self.write("legacy.key", &key.serialize_pem(), pinset::atomic::SECRET_MODE)?;
        let cert = self.sign("legacy", &key_path, "-sha256")?;
        self.serve(&cert, &key_path, &LEGACY_TLS_ARGS)
    }

    /// `openssl s_server -www` on a free loopback port, once it accepts connections.
    fn serve(&self, cert: &Path, key: &Path, extra: &[&str]) -> Result<(ChildServer, SocketAddr), String> {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for _attempt in 0..5 {
            let port = std::net::TcpListener::bind((loopback, 0))
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free loopback port: {e}"))?
                .port();
            let addr = SocketAddr::new(loopback, port);
            let mut args = vec!["s_server".to_string(), "-accept".into(), addr.to_string()];
            args.extend(
                ["-cert", &cert.display().to_string(), "-key", &key.display().to_string(), "-www", "-quiet"]
                    .map(String::from),
            );
            args.extend(extra.iter().map(|a| a.to_string()));
            let child = Command::new("openssl")
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("needs the openssl command ({e})"))?;
            let mut child = ChildServer(child);
            let started = std::time::Instant::now();
            while started.elapsed() < CHILD_START {
                if child.0.try_wait().ok().flatten().is_some() {
                    break;
                }
                if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Ok((child, addr));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err("openssl s_server would not start".into())
    }
}
