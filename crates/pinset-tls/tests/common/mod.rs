//! What the verifier tests share: a test PKI made with rcgen, TLS servers on loopback (a
//! rustls server in a thread, `openssl s_server` child processes), a rustls client that
//! hands back the handshake's `rustls::Error`, and curl.
//!
//! Nothing here can hang a test: every socket has timeouts, the rustls server thread
//! serves a bounded number of connections before a deadline, and `openssl s_server`
//! processes are killed and reaped when their handle is dropped.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pinset::Pin;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData, SanType,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, ProtocolVersion, ServerConfig, ServerConnection};
use time::OffsetDateTime;

/// Bound on every socket read and write, and on waiting for a server to start.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// The test PKI
// ---------------------------------------------------------------------------------------

/// `n` days from now (negative: in the past).
pub fn days_from_now(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(n)
}

/// A CA: its certificate and the issuer (name and key) that signs with it.
pub struct Ca {
    /// The CA certificate.
    pub cert: rcgen::Certificate,
    /// Signs certificates as this CA.
    pub issuer: Issuer<'static, KeyPair>,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = days_from_now(-1);
    params.not_after = days_from_now(365);
    params
}

impl Ca {
    /// A self-signed root CA named `CN=<cn>`, valid from yesterday for a year.
    pub fn root(cn: &str) -> Ca {
        Ca::root_valid(cn, days_from_now(-1), days_from_now(365))
    }

    /// A self-signed root CA named `CN=<cn>`, valid over the given times.
    pub fn root_valid(cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Ca {
        let key = KeyPair::generate().expect("generate a root key");
        let mut params = ca_params(cn);
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.self_signed(&key).expect("self-sign the root");
        Ca { cert, issuer: Issuer::new(params, key) }
    }

    /// An intermediate CA named `CN=<cn>`, signed by this CA.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let key = KeyPair::generate().expect("generate an intermediate key");
        let params = ca_params(cn);
        let cert = params.signed_by(&key, &self.issuer).expect("sign the intermediate");
        Ca { cert, issuer: Issuer::new(params, key) }
    }

    /// Another certificate for this CA's name and key, signed by `other` (a cross-sign).
    pub fn cross_signed_by(&self, cn: &str, other: &Ca) -> rcgen::Certificate {
        ca_params(cn).signed_by(self.issuer.key(), &other.issuer).expect("cross-sign")
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The pin of the CA's key.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.issuer.key().subject_public_key_info())
    }
}

/// What a server (or impostor) certificate says.
pub struct Spec {
    /// The subject's CN.
    pub cn: String,
    /// Its subjectAltNames.
    pub sans: Vec<SanType>,
    /// Valid from.
    pub not_before: OffsetDateTime,
    /// Valid until.
    pub not_after: OffsetDateTime,
    /// Its extendedKeyUsage (empty: no extension).
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    /// Its basicConstraints.
    pub is_ca: IsCa,
}

/// An iPAddress subjectAltName.
pub fn ip(addr: &str) -> SanType {
    SanType::IpAddress(addr.parse().expect("an IP address"))
}

/// A dNSName subjectAltName.
pub fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().expect("a DNS name"))
}

impl Spec {
    /// A TLS server certificate valid from yesterday for 30 days, EKU serverAuth.
    pub fn server(cn: &str, sans: Vec<SanType>) -> Spec {
        Spec {
            cn: cn.into(),
            sans,
            not_before: days_from_now(-1),
            not_after: days_from_now(30),
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            is_ca: IsCa::NoCa,
        }
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, self.cn.as_str());
        params.subject_alt_names = self.sans.clone();
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        params.extended_key_usages = self.eku.clone();
        params.is_ca = self.is_ca;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if matches!(self.is_ca, IsCa::Ca(_)) {
            params.key_usages.push(KeyUsagePurpose::KeyCertSign);
        }
        params
    }

    /// Issues it with a new key, signed by `ca`.
    pub fn signed_by(&self, ca: &Ca) -> Identity {
        let key = KeyPair::generate().expect("generate a server key");
        let cert = self.params().signed_by(&key, &ca.issuer).expect("sign the server certificate");
        Identity { cert, key }
    }

    /// Issues it with a new key, self-signed.
    pub fn self_signed(&self) -> Identity {
        let key = KeyPair::generate().expect("generate a server key");
        let cert = self.params().self_signed(&key).expect("self-sign the server certificate");
        Identity { cert, key }
    }
}

/// A certificate and its private key.
pub struct Identity {
    /// The certificate.
    pub cert: rcgen::Certificate,
    /// Its key.
    pub key: KeyPair,
}

impl Identity {
    /// The certificate, DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The pin of its key.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.key.subject_public_key_info())
    }
}

// ---------------------------------------------------------------------------------------
// A rustls server in a thread
// ---------------------------------------------------------------------------------------

/// What the rustls test server answers once the handshake is done.
pub const RUSTLS_BODY: &str = "pinset test server";

/// Serves `chain` (PEMs, in the order sent, leaf first) with `key_pem` on 127.0.0.1 for
/// up to `connections` connections (or 60 s), through `pinset_tls::server_config`.
pub fn serve(chain: &[String], key_pem: &str, connections: usize) -> SocketAddr {
    let config = pinset_tls::server_config(chain.concat().as_bytes(), key_pem.as_bytes()).expect("server config");
    serve_config(Arc::new(config), connections)
}

/// Serves with a ready `ServerConfig` (see [`serve`]).
pub fn serve_config(config: Arc<ServerConfig>, connections: usize) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("listen on 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    listener.set_nonblocking(true).expect("non-blocking listener");
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut served = 0;
        while served < connections && Instant::now() < deadline {
            match listener.accept() {
                Ok((sock, _)) => {
                    served += 1;
                    // A refused handshake is the client's business: the server moves on.
                    let _ = answer(config.clone(), sock);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(5)),
                Err(_) => break,
            }
        }
    });
    addr
}

fn answer(config: Arc<ServerConfig>, sock: TcpStream) -> io::Result<()> {
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))?;
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    tls.write_all(format!("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n{RUSTLS_BODY}\n").as_bytes())?;
    tls.conn.send_close_notify();
    tls.flush()
}

// ---------------------------------------------------------------------------------------
// openssl s_server
// ---------------------------------------------------------------------------------------

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("listen on 127.0.0.1");
    listener.local_addr().expect("local address").port()
}

/// An `openssl s_server -www` child process on 127.0.0.1, killed and reaped on drop.
pub struct OpensslServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl OpensslServer {
    /// Writes `cert`, `key` and `chain` (extra certificates sent after the leaf, in
    /// order) as PEM files under `dir`, starts `openssl s_server` with them and waits until
    /// it accepts. A port taken in between makes s_server exit; another one is tried then.
    pub fn start(dir: &Path, name: &str, cert: &str, key: &str, chain: &[String]) -> OpensslServer {
        let write = |file: &str, text: &str| {
            let path = dir.join(format!("{name}-{file}"));
            std::fs::write(&path, text).expect("write a PEM file for s_server");
            path
        };
        let cert_path = write("cert.pem", cert);
        let key_path = write("key.pem", key);
        let chain_path = (!chain.is_empty()).then(|| write("chain.pem", &chain.concat()));
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), free_port());
            let log = dir.join(format!("{name}-s_server-{}.log", addr.port()));
            let out = File::create(&log).expect("create the s_server log");
            let err = out.try_clone().expect("clone the log handle");
            let mut cmd = Command::new("openssl");
            cmd.args(["s_server", "-accept", &addr.to_string(), "-www", "-quiet"])
                .arg("-cert")
                .arg(&cert_path)
                .arg("-key")
                .arg(&key_path);
            if let Some(chain_path) = &chain_path {
                cmd.arg("-cert_chain").arg(chain_path);
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
            let mut server = OpensslServer { child, addr, log };
            let deadline = Instant::now() + IO_TIMEOUT;
            loop {
                if server.child.try_wait().expect("poll s_server").is_some() {
                    last_log = server.log_text();
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    // The server that answered is ours only if ours is still running.
                    if server.child.try_wait().expect("poll s_server").is_none() {
                        return server;
                    }
                    last_log = server.log_text();
                    break;
                }
                assert!(Instant::now() < deadline, "s_server on {addr} did not accept in time:\n{}", server.log_text());
                thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("openssl s_server ({name}) would not start:\n{last_log}");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------

/// A client configuration verifying with `verifier` through
/// `pinset_tls::verifier::client_config` (resumption on, as by default).
pub fn client(verifier: &Arc<pinset_tls::PinnedVerifier>) -> Arc<ClientConfig> {
    Arc::new(pinset_tls::verifier::client_config(verifier.clone()).expect("client config"))
}

/// A TLS 1.2-only client configuration with the same verifier.
pub fn client_tls12(verifier: Arc<dyn ServerCertVerifier>) -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder_with_provider(pinset_tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    )
}

/// A connection that got through.
#[derive(Debug)]
pub struct Session {
    /// What the server answered to `GET /`.
    pub body: String,
    /// Full or resumed.
    pub kind: Option<HandshakeKind>,
    /// TLS version.
    pub version: Option<ProtocolVersion>,
}

/// Connects to `addr` dialling `name` (an IP literal or a DNS name; SNI and the name
/// check use it), completes the handshake, sends `GET /` and reads the answer. A refused
/// handshake is the `rustls::Error` the client raised.
pub fn connect(config: &Arc<ClientConfig>, addr: SocketAddr, name: &str) -> Result<Session, rustls::Error> {
    let server_name = ServerName::try_from(name.to_string()).expect("a valid server name");
    let sock = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("TCP connect");
    sock.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
    sock.set_write_timeout(Some(IO_TIMEOUT)).expect("write timeout");
    let conn = ClientConnection::new(config.clone(), server_name)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).map_err(|e| tls_error(e, "handshake"))?;
    }
    let kind = tls.conn.handshake_kind();
    let version = tls.conn.protocol_version();
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").map_err(|e| tls_error(e, "request"))?;
    let mut body = Vec::new();
    if let Err(e) = tls.read_to_end(&mut body) {
        // A server that closes without close_notify, or resets, still answered.
        if let Some(tls_err) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return Err(tls_err.clone());
        }
    }
    Ok(Session { body: String::from_utf8_lossy(&body).into_owned(), kind, version })
}

fn tls_error(e: io::Error, during: &str) -> rustls::Error {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => tls.clone(),
        None => panic!("I/O error during the {during}, not a TLS refusal: {e}"),
    }
}

/// curl with the site's CA file and a pin, as an app would be told to: its exit code
/// (`None` if killed) and stderr.
pub fn curl(ca_file: &Path, pin: Pin, addr: SocketAddr) -> (Option<i32>, String) {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
        .arg(ca_file)
        .arg("--pinnedpubkey")
        .arg(format!("sha256//{pin}"))
        .arg(format!("https://{addr}/"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}
