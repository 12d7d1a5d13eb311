//! What the server presents: each server identity of the site with its certificate chain
//! and key, loaded and verified before use, behind an atomic pointer that a reload swaps.
//!
//! Verification before use (a bad file never takes the server down): the chain parses, the
//! key parses and matches the certificate, the chain validates to the site's anchors for
//! TLS server use *now* (so not expired, not yet valid, or issued by a stranger), and
//! where apps pin server keys the served key is one they pin. Each identity gets its own
//! rustls `ServerConfig`, built once per load: a connection picks one after reading the
//! ClientHello — by SNI when the client sent a name, else by the local address it dialled,
//! else the configured (or first) server. A load also builds the client verifier, so a
//! new revocation list takes effect at the swap, and resumed sessions of the old
//! configuration cannot be resumed under the new one.
//!
//! Cipher suites: the server chooses AES-128-GCM (SHA-256 key schedule) over AES-256-GCM
//! (SHA-384) whatever the client's order, as Go's TLS servers do: both are secure, and
//! SHA-384's key schedule cost a full handshake about a tenth of its CPU time. A client
//! that lists ChaCha20-Poly1305 first (one without AES instructions) keeps its own order.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use pinset::plan::PinTarget;
use pinset::{Host, Pin, Site};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

use crate::client_auth::{self, ClientAuth};
use crate::error::Error;

/// ALPN protocols offered, HTTP/2 first: clients that speak it get it.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];
/// Sessions kept for resumption per server identity: one per device of a busy site, a
/// few hundred bytes each.
const SESSION_CACHE_SIZE: usize = 4096;

/// One server identity as served.
#[derive(Debug)]
pub struct Served {
    /// Its name in the plan.
    pub name: String,
    /// Its addresses, from the plan.
    pub hosts: Vec<Host>,
    /// The served certificate.
    pub certificate: ServedSummary,
    /// AES-128-GCM preferred over the client's order.
    config: Arc<ServerConfig>,
    /// The client's order (for clients that put ChaCha20 first).
    client_order: Arc<ServerConfig>,
}

/// The certificate a server identity presents.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ServedSummary {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Subject, CN first.
    pub subject: String,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// SPKI pin of its key.
    pub pin: Pin,
    /// The chain file it was read from.
    pub chain: PathBuf,
}

/// Everything one load produced.
#[derive(Debug)]
pub struct Loaded {
    /// The site's name.
    pub site: String,
    /// The identities served, in plan order.
    pub servers: Vec<Served>,
    /// Certificates the revocation list names (0 without one or without client auth).
    pub revoked_listed: usize,
    /// The site's trust as apps see it, at load time.
    pub trust: pinset::SiteTrust,
    fixed: Option<usize>,
}

impl Loaded {
    /// The identity for a connection: by SNI, else by the local address, else the fixed
    /// or first one.
    pub fn select(&self, sni: Option<&str>, local: IpAddr) -> &Served {
        if let Some(i) = self.fixed {
            return &self.servers[i];
        }
        if let Some(name) = sni {
            let host = match name.parse::<IpAddr>() {
                Ok(ip) => Host::Ip(ip),
                Err(_) => Host::Dns(name.trim_end_matches('.').to_ascii_lowercase()),
            };
            if let Some(s) = self.servers.iter().find(|s| s.hosts.iter().any(|h| h.matches(&host))) {
                return s;
            }
        }
        let local = Host::Ip(local.to_canonical());
        self.servers.iter().find(|s| s.hosts.contains(&local)).unwrap_or(&self.servers[0])
    }

    /// The TLS configuration of an identity for a client (see the module's cipher suites).
    pub fn config(&self, served: &Served, hello: &ClientHello<'_>) -> Arc<ServerConfig> {
        let first_known = hello
            .cipher_suites()
            .iter()
            .find(|c| served.config.crypto_provider().cipher_suites.iter().any(|s| s.suite() == **c));
        match first_known {
            Some(c) if CHACHA.contains(c) => served.client_order.clone(),
            _ => served.config.clone(),
        }
    }
}

/// What a load needs besides the site.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Serve only this identity.
    pub server: Option<String>,
    /// Client certificates.
    pub client_auth: ClientAuth,
    /// Client names allowed.
    pub allow_clients: Vec<String>,
    /// Session resumption on.
    pub session_resumption: bool,
}

/// The served certificates, swapped whole by a reload.
#[derive(Debug)]
pub struct Certificates {
    current: ArcSwap<Loaded>,
}

impl Certificates {
    /// Loads and verifies the site's certificates.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Certificates, Error> {
        Ok(Certificates { current: ArcSwap::from_pointee(load(dir, opts)?) })
    }

    /// What is served now.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Loads and verifies again; on success the new certificates serve every later
    /// handshake, on failure the old ones stay and the error says why.
    pub fn reload(&self, dir: &Path, opts: &LoadOptions) -> Result<Arc<Loaded>, Error> {
        let loaded = Arc::new(load(dir, opts)?);
        self.current.store(loaded.clone());
        Ok(loaded)
    }
}

/// Reads and checks everything a server presents.
pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Loaded, Error> {
    let site = Site::open(dir)?;
    let trust = site.trust()?;
    if site.plan.servers.is_empty() {
        return Err(Error::NoServer(format!("site {:?} has no server identity to serve", site.plan.name)));
    }
    let fixed = match &opts.server {
        Some(name) => Some(site.plan.servers.iter().position(|s| &s.name == name).ok_or_else(|| {
            let names: Vec<&str> = site.plan.servers.iter().map(|s| s.name.as_str()).collect();
            Error::NoServer(format!(
                "site {:?} has no server {name:?}; its servers are {}",
                site.plan.name,
                names.join(", ")
            ))
        })?),
        None => None,
    };
    let (verifier, revoked_listed) = client_auth::verifier(&site, &trust, opts.client_auth, &opts.allow_clients)?;
    let anchor_ders: Vec<CertificateDer<'static>> =
        trust.anchors.iter().map(|a| CertificateDer::from(a.der.clone())).collect();
    let anchors: Vec<rustls::pki_types::TrustAnchor<'static>> =
        anchor_ders.iter().filter_map(|der| webpki::anchor_from_trusted_cert(der).ok()).map(|a| a.to_owned()).collect();
    let mut servers = Vec::new();
    for (i, s) in site.plan.servers.iter().enumerate() {
        if fixed.is_some_and(|f| f != i) {
            continue;
        }
        let chain_rel = s.active.chain.as_deref().or(s.active.cert.as_deref()).unwrap_or_default();
        let chain_path = site.path(chain_rel);
        let key_path = site.path(&s.active.key);
        let (key, summary) = certified_key(&chain_path, &key_path, &anchors)?;
        if trust.pin_target == PinTarget::Leaf {
            let pinned: Vec<Pin> = trust
                .servers
                .iter()
                .filter(|t| t.name == s.name)
                .flat_map(|t| t.leaf_pins.iter().map(|p| p.pin))
                .collect();
            if !pinned.contains(&summary.pin) {
                return Err(Error::cert(
                    &chain_path,
                    format!(
                        "carries key {} that apps do not pin (they pin this server's keys {}): serving it would cut \
                         every app off",
                        summary.pin,
                        pinned.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let mut config = ServerConfig::builder_with_provider(aes128_first())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_client_cert_verifier(verifier.clone())
            .with_cert_resolver(Arc::new(Fixed(Arc::new(key))));
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        if opts.session_resumption {
            config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE_SIZE);
        } else {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
        // The same sessions, suites and everything else; only the choice of suite differs.
        let mut client_order = config.clone();
        client_order.ignore_client_order = false;
        config.ignore_client_order = true;
        let hosts = s.ips.iter().map(|ip| Host::Ip(*ip)).chain(s.dns.iter().map(|d| Host::Dns(d.clone()))).collect();
        servers.push(Served {
            name: s.name.clone(),
            hosts,
            certificate: summary,
            config: Arc::new(config),
            client_order: Arc::new(client_order),
        });
    }
    Ok(Loaded { site: site.plan.name.clone(), servers, revoked_listed, trust, fixed: fixed.map(|_| 0) })
}

/// ChaCha20-Poly1305 suites: a client listing one first keeps its order.
const CHACHA: [rustls::CipherSuite; 3] = [
    rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// pinset's provider with its suites in the server's order: AES-128-GCM, AES-256-GCM,
/// then the rest (see the module).
fn aes128_first() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: std::sync::OnceLock<Arc<rustls::crypto::CryptoProvider>> = std::sync::OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let mut p = (*pinset_tls::provider()).clone();
            let rank = |s: &rustls::SupportedCipherSuite| {
                use rustls::CipherSuite as C;
                match s.suite() {
                    C::TLS13_AES_128_GCM_SHA256
                    | C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                    | C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => 0,
                    C::TLS13_AES_256_GCM_SHA384
                    | C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                    | C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => 1,
                    _ => 2,
                }
            };
            p.cipher_suites.sort_by_key(rank);
            Arc::new(p)
        })
        .clone()
}

/// Reads a chain and its key, and checks them as the module says.
fn certified_key(
    chain_path: &Path,
    key_path: &Path,
    anchors: &[rustls::pki_types::TrustAnchor<'static>],
) -> Result<(CertifiedKey, ServedSummary), Error> {
    let chain_pem = std::fs::read(chain_path).map_err(|e| Error::cert(chain_path, format!("cannot read: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::cert(chain_path, format!("is not a PEM certificate chain: {e}")))?;
    let Some(leaf) = chain.first() else {
        return Err(Error::cert(chain_path, "holds no certificate"));
    };
    let key_pem = std::fs::read(key_path).map_err(|e| Error::cert(key_path, format!("cannot read: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| Error::cert(key_path, format!("is not a PEM private key: {e}")))?;
    let signing = pinset_tls::provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| Error::cert(key_path, format!("cannot be used to sign handshakes: {e}")))?;
    let certified = CertifiedKey::new(chain.clone(), signing);
    certified
        .keys_match()
        .map_err(|_| Error::cert(key_path, format!("is not the key of the certificate in {}", chain_path.display())))?;
    let ee = webpki::EndEntityCert::try_from(leaf)
        .map_err(|e| Error::cert(chain_path, format!("holds a certificate that cannot be parsed: {e:?}")))?;
    let now = UnixTime::now();
    ee.verify_for_usage(
        pinset_tls::provider().signature_verification_algorithms.all,
        anchors,
        &chain[1..],
        now,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| {
        let why = match e {
            webpki::Error::CertExpired { .. } => "has expired".to_string(),
            webpki::Error::CertNotValidYet { .. } => "is not valid yet".to_string(),
            webpki::Error::UnknownIssuer => "is not issued by the site's CA (no chain to its anchors)".to_string(),
            other => format!("does not validate to the site's anchors for TLS servers: {other:?}"),
        };
        Error::cert(chain_path, format!("holds a server certificate that {why}"))
    })?;
    let summary = pinset::cert::summarize(&chain_path.display().to_string(), leaf, OffsetDateTime::now_utc())?;
    Ok((
        certified,
        ServedSummary {
            serial: summary.serial,
            subject: summary.subject,
            not_after: summary.not_after,
            pin: summary.spki_sha256,
            chain: chain_path.to_path_buf(),
        },
    ))
}

/// One identity's certificate, whatever the client asks for (the choice was made before).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
