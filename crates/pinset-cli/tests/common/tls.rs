//! Real TLS peers on loopback for the integration tests: `openssl s_server` processes that
//! die with their test, and impostors forged by openssl (a certificate with the genuine
//! one's subject and SANs but another key, signed by another CA).

use std::fs::File;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{openssl_ok, s};

/// Bound on waiting for a server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A port nobody listens on right now: bind port 0 on `ip`, read it, let it go.
pub fn free_port(ip: IpAddr) -> u16 {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0))
        .unwrap_or_else(|e| panic!("cannot listen on {ip} (is loopback {ip} configured?): {e}"));
    listener.local_addr().expect("local address").port()
}

/// An `openssl s_server -www` child process, killed (and reaped) when dropped, so no server
/// outlives its test, even one that fails.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts `openssl s_server` on `ip` with `cert` and `key` plus `extra` arguments, and
    /// waits until it accepts connections. A port taken between `free_port` and the
    /// server's bind makes the server exit; another port is tried then.
    pub fn start(dir: &Path, ip: IpAddr, cert: &Path, key: &Path, extra: &[&str]) -> Server {
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let addr = SocketAddr::new(ip, free_port(ip));
            // SocketAddr displays IPv6 in brackets: [::1]:PORT, the form s_server takes.
            let accept = addr.to_string();
            let log = dir.join(format!("s_server-{}-{}.log", ip.to_string().replace(':', "_"), addr.port()));
            let out = File::create(&log).expect("create the s_server log");
            let err = out.try_clone().expect("clone the log handle");
            let child = Command::new("openssl")
                .args(["s_server", "-accept", &accept, "-cert", s(cert), "-key", s(key), "-www", "-quiet"])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run openssl (install it with scripts/setup): {e}"));
            let mut server = Server { child, addr, log };
            let deadline = Instant::now() + START_TIMEOUT;
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
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("openssl s_server {extra:?} on {ip} would not start:\n{last_log}");
    }

    /// The site's first server identity (leaf only; s_server sends what `-cert` holds).
    pub fn site(dir: &Path, site: &Path, ip: IpAddr, extra: &[&str]) -> Server {
        let (cert, key) = server_files(site);
        Server::start(dir, ip, &cert, &key, extra)
    }

    /// `https://HOST:PORT/`, IPv6 in brackets.
    pub fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets, as pinset names the server.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// What the server wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pki/servers/server/{cert,key}.pem` of a site (its first server identity, named `server`).
pub fn server_files(site: &Path) -> (PathBuf, PathBuf) {
    let dir = site.join("pki/servers/server");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// The site's CA certificate.
pub fn ca_pem(site: &Path) -> PathBuf {
    site.join("pki/authority/ca.pem")
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
    /// the genuine certificate's.
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

    /// An `openssl s_server` presenting the impostor on `ip`.
    pub fn serve(&self, dir: &Path, ip: IpAddr) -> Server {
        Server::start(dir, ip, &self.cert, &self.key, &[])
    }
}
