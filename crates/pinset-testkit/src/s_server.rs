//! `openssl s_server -www` on loopback: the real, non-Rust TLS server the tests connect to.
//! It answers `GET /` with a status page naming the protocol and cipher (and the client
//! certificate, with mutual TLS); extra arguments restrict it (`-tls1_2`, `-Verify 1`, …).
//!
//! [`OpensslServer::legacy_tls`] runs one that speaks only TLS 1.0 and 1.1. OpenSSL 3
//! (Debian 12's 3.0) refuses those versions at its default security level 1, because their
//! handshake signs with SHA-1 or MD5+SHA-1; `-cipher DEFAULT:@SECLEVEL=0` lowers the level
//! for that server alone (without it s_server answers a TLS 1.0 ClientHello with an
//! `internal_error` alert). Debian's `/etc/ssl/openssl.cnf` sets no `MinProtocol`, so no
//! system setting needs overriding.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::net::{V4, https_url};
use crate::process::{ServerProcess, s};
use crate::site::server_files;

/// The arguments that restrict `openssl s_server` to TLS 1.0 and 1.1 (see the module doc).
pub const LEGACY_TLS_ARGS: [&str; 6] =
    ["-min_protocol", "TLSv1", "-max_protocol", "TLSv1.1", "-cipher", "DEFAULT:@SECLEVEL=0"];

/// An `openssl s_server -www` child process, killed (and reaped) when dropped.
pub struct OpensslServer {
    process: ServerProcess,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl OpensslServer {
    /// Starts `openssl s_server -www -quiet` on a free port of `ip` with `cert` and `key`
    /// plus `extra` arguments, and waits until it accepts connections. Its log is
    /// `dir/s_server-IP-PORT.log`.
    pub fn start(dir: &Path, ip: IpAddr, cert: &Path, key: &Path, extra: &[&str]) -> OpensslServer {
        let process = ServerProcess::start(dir, "s_server", ip, "openssl", |addr| {
            // SocketAddr displays IPv6 in brackets: [::1]:PORT, the form s_server takes.
            let mut args: Vec<String> =
                ["s_server", "-accept", &addr.to_string(), "-cert", s(cert), "-key", s(key)].map(String::from).to_vec();
            args.extend(["-www", "-quiet"].map(String::from));
            args.extend(extra.iter().map(|a| a.to_string()));
            args
        });
        let addr = process.addr;
        OpensslServer { process, addr }
    }

    /// Serves a certificate and key given as PEM text, followed by `chain` (PEMs sent after
    /// the leaf, in order) on 127.0.0.1: the files are written as `dir/NAME-{cert,key,chain}.pem`.
    pub fn start_pem(dir: &Path, name: &str, cert: &str, key: &str, chain: &[String]) -> OpensslServer {
        let write = |file: &str, text: &str| {
            let path = dir.join(format!("{name}-{file}"));
            std::fs::write(&path, text).expect("write a PEM file for s_server");
            path
        };
        let cert_path = write("cert.pem", cert);
        let key_path = write("key.pem", key);
        if chain.is_empty() {
            OpensslServer::start(dir, V4, &cert_path, &key_path, &[])
        } else {
            let chain_path = write("chain.pem", &chain.concat());
            OpensslServer::start(dir, V4, &cert_path, &key_path, &["-cert_chain", s(&chain_path)])
        }
    }

    /// The first server identity of a pinset site (`pki/servers/server`; s_server sends
    /// the leaf only, as `-cert` holds it) on `ip`.
    pub fn site(dir: &Path, site: &Path, ip: IpAddr, extra: &[&str]) -> OpensslServer {
        let (cert, key) = server_files(site);
        OpensslServer::start(dir, ip, &cert, &key, extra)
    }

    /// A server that speaks TLS 1.0 and 1.1 only ([`LEGACY_TLS_ARGS`]), plus `extra`
    /// arguments: a TLS 1.2+ client fails its handshake with a protocol-version alert.
    pub fn legacy_tls(dir: &Path, ip: IpAddr, cert: &Path, key: &Path, extra: &[&str]) -> OpensslServer {
        let mut args = LEGACY_TLS_ARGS.to_vec();
        args.extend_from_slice(extra);
        OpensslServer::start(dir, ip, cert, key, &args)
    }

    /// `https://HOST:PORT/`, IPv6 in brackets.
    pub fn url(&self) -> String {
        https_url(self.addr)
    }

    /// `HOST:PORT`, IPv6 in brackets, as pinset names a server.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// What the server wrote so far.
    pub fn log_text(&self) -> String {
        self.process.log_text()
    }
}
