//! What a server is asked to do: where it listens, what it serves, whom it lets in, and
//! its limits. Every default sits beside its reason.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::client_auth::ClientAuth;
use crate::error::Error;
use crate::log::LogFormat;

/// Where requests go.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A plain-HTTP server on the box (the reverse proxy).
    Upstream(Upstream),
    /// Files from a folder.
    Static(PathBuf),
    /// The site's status page (what `up` serves without an upstream).
    StatusPage,
}

/// A plain-HTTP upstream, `http://HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// `HOST:PORT` (IPv6 in brackets), as the connection is made.
    pub authority: http::uri::Authority,
}

impl Upstream {
    /// Parses `http://HOST[:PORT]` (a path, if any, must be `/`). HTTPS upstreams are not
    /// supported: the front exists because the box speaks plain HTTP.
    pub fn parse(value: &str) -> Result<Upstream, Error> {
        let bad = |problem: &str| Error::Value { what: "upstream", value: value.into(), problem: problem.into() };
        let uri: http::Uri = value.parse().map_err(|_| bad("is not a URL; give http://HOST:PORT"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(bad("is HTTPS: the upstream is the plain-HTTP server on the box")),
            _ => return Err(bad("must start with http://")),
        }
        if uri.path() != "/" || uri.query().is_some() {
            return Err(bad("has a path; give only http://HOST:PORT (requests keep their own paths)"));
        }
        let authority = uri.authority().cloned().ok_or_else(|| bad("names no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("carries credentials; give only http://HOST:PORT"));
        }
        let authority = match authority.port_u16() {
            Some(_) => authority,
            None => {
                format!("{}:80", authority.as_str()).parse().map_err(|_| bad("names a host that cannot be dialled"))?
            }
        };
        Ok(Upstream { authority })
    }

    /// `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.authority)
    }
}

/// Limits and timeouts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once (10,000: far more than a site's devices open, small enough
    /// for an on-site box's memory, about 20 KiB each when idle).
    pub max_connections: usize,
    /// Time for a TLS handshake to complete (10 s: a phone on weak Wi-Fi finishes in well
    /// under a second; a client that stalls longer is holding a slot).
    pub handshake_timeout: Duration,
    /// Time for a request's headers to arrive once started (10 s, for the same reason).
    pub header_timeout: Duration,
    /// Time a connection may sit with no request in progress and no byte moving (60 s:
    /// longer than the keep-alive clients use, shorter than a forgotten socket).
    pub idle_timeout: Duration,
    /// Time the upstream has to start its response (60 s: a slow report on the box, not a
    /// hung one).
    pub upstream_timeout: Duration,
    /// Largest request head, in bytes (64 KiB: cookies and tokens fit; a flood does not).
    pub max_header_bytes: usize,
    /// Largest request body, in bytes (64 MiB: photos and backups from a device; a larger
    /// upload is a mistake or an attack).
    pub max_body_bytes: u64,
    /// Time in-flight requests get to finish at shutdown (10 s, under the 90 s a service
    /// manager waits before killing).
    pub drain_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            upstream_timeout: Duration::from_secs(60),
            max_header_bytes: 64 * 1024,
            max_body_bytes: 64 * 1024 * 1024,
            drain_deadline: Duration::from_secs(10),
        }
    }
}

/// Everything a [`crate::Server`] needs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The site folder.
    pub site: PathBuf,
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Where requests go.
    pub backend: Backend,
    /// Serve only this server identity, whatever the client dialled.
    pub server: Option<String>,
    /// Client certificates.
    pub client_auth: ClientAuth,
    /// Client identities (names) allowed in; empty: every client the site issued.
    pub allow_clients: Vec<String>,
    /// Limits and timeouts.
    pub limits: Limits,
    /// Access-log format.
    pub log_format: LogFormat,
    /// Also serve Prometheus metrics (plain HTTP) here.
    pub metrics: Option<SocketAddr>,
    /// TLS session resumption (a server-side cache; no tickets). On by default: a client
    /// reconnecting skips the key exchange. Turned off for benchmarks of full handshakes.
    pub session_resumption: bool,
    /// Reload when the site's certificate, key or revocation files change.
    pub watch_files: bool,
}

impl ServeOptions {
    /// Options with the defaults: no client certificates, resumption and file watching on.
    pub fn new(site: PathBuf, listen: Vec<SocketAddr>, backend: Backend) -> ServeOptions {
        ServeOptions {
            site,
            listen,
            backend,
            server: None,
            client_auth: ClientAuth::Off,
            allow_clients: Vec::new(),
            limits: Limits::default(),
            log_format: LogFormat::Text,
            metrics: None,
            session_resumption: true,
            watch_files: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_plain_http_host_and_port() {
        assert_eq!(Upstream::parse("http://127.0.0.1:8080").expect("ok").url(), "http://127.0.0.1:8080");
        assert_eq!(Upstream::parse("http://[::1]:9000/").expect("ok").url(), "http://[::1]:9000");
        assert_eq!(Upstream::parse("http://localhost").expect("ok").url(), "http://localhost:80");
        for bad in ["https://127.0.0.1:1", "127.0.0.1:8080", "http://h:1/api", "http://u:p@h:1", "ftp://h"] {
            assert!(Upstream::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
