//! `nghttpd` (Debian's `nghttp2-server`, installed by `scripts/setup`): a genuine HTTP/2
//! server over TLS on loopback, serving files from a folder. It is HTTP/2 only: it offers
//! ALPN `h2` alone and closes a connection that speaks HTTP/1.1 (curl `--http1.1` gets an
//! empty reply), which makes it the server for "reports `h2`" tests. `/` serves
//! `index.html`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::net::https_url;
use crate::process::{ServerProcess, s};

/// Where Debian installs nghttpd: /usr/sbin, which is not on every user's PATH.
const DEBIAN_PATH: &str = "/usr/sbin/nghttpd";

/// The nghttpd to run: Debian's, else the one on the PATH.
fn program() -> &'static str {
    if Path::new(DEBIAN_PATH).exists() { DEBIAN_PATH } else { "nghttpd" }
}

/// An `nghttpd` child process, killed (and reaped) when dropped.
pub struct Nghttpd {
    process: ServerProcess,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Nghttpd {
    /// Starts `nghttpd` on a free port of `ip` with `cert` and `key` (PEM files), serving
    /// the files under `htdocs`, and waits until it accepts connections. Its log is
    /// `dir/nghttpd-IP-PORT.log`.
    pub fn start(dir: &Path, ip: IpAddr, cert: &Path, key: &Path, htdocs: &Path) -> Nghttpd {
        let process = ServerProcess::start(dir, "nghttpd", ip, program(), |addr| {
            vec![
                format!("--address={ip}"),
                format!("--htdocs={}", s(htdocs)),
                addr.port().to_string(),
                s(key).to_string(),
                s(cert).to_string(),
            ]
        });
        let addr = process.addr;
        Nghttpd { process, addr }
    }

    /// `https://HOST:PORT/`, IPv6 in brackets.
    pub fn url(&self) -> String {
        https_url(self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// What the server wrote so far.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}
