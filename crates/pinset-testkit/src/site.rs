//! pinset sites in tests: where a site keeps its files (the layout `pinset init` writes),
//! and [`LibrarySite`], a site made through the library (`Site::init`) for the tests and
//! benchmarks of crates that do not run the `pinset` binary.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pinset::plan::AuthorityMode;
use pinset::site::{InitOptions, ServerRequest};

use crate::process::tempdir;

/// `pki/servers/server/{cert,key}.pem` of a site (its first server identity, named `server`).
pub fn server_files(site: &Path) -> (PathBuf, PathBuf) {
    let dir = site.join("pki/servers/server");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// The site's CA certificate, `pki/authority/ca.pem`.
pub fn ca_pem(site: &Path) -> PathBuf {
    site.join("pki/authority/ca.pem")
}

/// The site's CA certificate and key, `pki/authority/ca.{pem,key}`: sign with them through
/// [`crate::pki::Ca::from_files`] or openssl to make certificates that chain to the site.
pub fn ca_files(site: &Path) -> (PathBuf, PathBuf) {
    (ca_pem(site), site.join("pki/authority/ca.key"))
}

/// A site made by the library in a temporary folder (private CA mode, apps pin the CA
/// keys), with its server's chain and key read back: what a rustls server of the site
/// serves.
pub struct LibrarySite {
    _dir: tempfile::TempDir,
    /// The site's folder.
    pub path: PathBuf,
    /// The site, open.
    pub site: pinset::Site,
    /// The server's `chain.pem` (leaf, then CA).
    pub chain_pem: Vec<u8>,
    /// The server's `key.pem`.
    pub key_pem: Vec<u8>,
}

impl LibrarySite {
    /// A site named `name` whose one server, `server`, is `ips`.
    pub fn new(name: &str, ips: Vec<IpAddr>) -> LibrarySite {
        let dir = tempdir();
        let path = dir.path().join("site");
        let site = pinset::Site::init(
            &path,
            InitOptions {
                name: Some(name.into()),
                mode: AuthorityMode::Ca,
                pin: None,
                server: ServerRequest::new("server", ips, vec![]),
                pin_expiration: None,
            },
        )
        .expect("pinset site");
        let server = &site.plan.servers[0].active;
        let chain_path = site.path(server.chain.as_deref().expect("a CA site's server has a chain"));
        let chain_pem = std::fs::read(&chain_path).expect("chain.pem");
        let key_pem = std::fs::read(site.path(&server.key)).expect("key.pem");
        LibrarySite { _dir: dir, path, site, chain_pem, key_pem }
    }

    /// A rustls server configuration serving the site's server (chain and key) through
    /// `pinset_tls::server_config`.
    pub fn server_config(&self) -> rustls::ServerConfig {
        pinset_tls::server_config(&self.chain_pem, &self.key_pem).expect("server config")
    }
}
