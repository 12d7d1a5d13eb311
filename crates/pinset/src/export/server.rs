//! The server targets (`nginx`, `caddy`, `haproxy`, `node-server`, `s_server`): configuration
//! that serves one server identity of the site on the box, with what the box already runs.
//!
//! Every one of them serves the **full chain** (the leaf, then the CA: apps that pin the CA
//! key find it in the chain, and Apple's `NSPinnedCAIdentities` needs it sent), the key, TLS
//! 1.2 and 1.3 only, and for mutual TLS the site's CA as the client CA, the revocation list
//! `pki/crl.pem` (where the server reads one) and the verified client's identity passed
//! upstream in the headers `pinset serve` uses (`X-Client-Cert-Subject`, `-San`, `-Serial`,
//! `-Pin`), each set by the proxy or cleared, so a client can never send its own.
//!
//! The files name the site's files by absolute path ([`Deployment`]); every value written
//! into them is a checked word ([`super::template::Safe::config_word`]): a path holding a
//! space, a quote or a `$` is refused, naming it, rather than quoted for five syntaxes.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::template::{Fill, Safe, Template, template};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};
use crate::error::{Error, Remedy, Result};
use crate::plan::AuthorityMode;
use crate::site::Site;

/// Client certificates (mutual TLS), as `pinset serve` names the modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// None asked for.
    #[default]
    Off,
    /// Asked for and checked when presented; clients without one are served too.
    Optional,
    /// Required: no valid certificate of the site, no connection.
    Require,
}

/// The identity headers the upstream receives, as `pinset serve` names them.
pub const IDENTITY_HEADERS: [&str; 4] =
    ["X-Client-Cert-Subject", "X-Client-Cert-San", "X-Client-Cert-Serial", "X-Client-Cert-Pin"];

/// Where a server target serves from and to: one server identity's files, the listen
/// addresses, the upstream, mutual TLS.
#[derive(Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The server identity.
    pub server: String,
    /// Its certificate followed by its issuer (the certificate alone for a self-signed
    /// site), absolute.
    pub chain: String,
    /// Its certificate alone, absolute.
    pub cert: String,
    /// Its issuer's certificate (the active CA), when it has one, absolute.
    pub issuer: Option<String>,
    /// Its private key, absolute.
    pub key: String,
    /// The CA client certificates must chain to, with mutual TLS.
    pub client_ca: Option<String>,
    /// The revocation list, with mutual TLS.
    pub crl: Option<String>,
    /// Mutual TLS.
    pub client_auth: ClientAuth,
    /// The addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// The plain-HTTP upstream, `HOST:PORT`.
    pub upstream: String,
    /// The folder the export is written to, absolute (HAProxy names its key file there).
    pub out_dir: String,
    /// The chain and the key, for HAProxy, which reads them from one file.
    chain_and_key: Zeroizing<String>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Deployment")
            .field("server", &self.server)
            .field("chain", &self.chain)
            .field("key", &self.key)
            .field("client_auth", &self.client_auth)
            .field("listen", &self.listen)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

/// The port servers listen on by default: `pinset serve`'s.
pub const DEFAULT_PORT: u16 = 8443;

impl Deployment {
    /// The deployment of server `server` (the plan's first when `None`) of `site`: its files
    /// by absolute path, read to check they are there. `upstream` is `http://HOST:PORT`;
    /// `listen` empty means port [`DEFAULT_PORT`] on every IPv4 and IPv6 address. `out_dir`
    /// is where the export goes. Mutual TLS needs a site with a CA.
    pub fn of_site(
        site: &Site,
        server: Option<&str>,
        client_auth: ClientAuth,
        listen: Vec<SocketAddr>,
        upstream: &str,
        out_dir: &Path,
    ) -> Result<Deployment> {
        let plan = &site.plan;
        let s = match server {
            Some(name) => plan.server(name).ok_or_else(|| {
                let names: Vec<&str> = plan.servers.iter().map(|s| s.name.as_str()).collect();
                Error::bad_value(
                    "server",
                    name,
                    format!("is not a server of site {}", plan.name),
                    Some(&format!("the site's servers are: {}", names.join(", "))),
                )
            })?,
            None => plan
                .servers
                .first()
                .ok_or_else(|| Error::bad_value("site", &plan.name, "has no server identity to serve", None))?,
        };
        let cert_rel = s.active.cert.as_deref().unwrap_or_default();
        let chain_rel = s.active.chain.as_deref().unwrap_or(cert_rel);
        let absolute = |rel: &str| -> Result<PathBuf> {
            let p = site.path(rel);
            std::path::absolute(&p).map_err(|e| Error::io("cannot resolve", &p, e))
        };
        let chain_path = absolute(chain_rel)?;
        let key_path = absolute(&s.active.key)?;
        let chain_pem = std::fs::read_to_string(&chain_path).map_err(|e| Error::io("cannot read", &chain_path, e))?;
        let key_pem =
            Zeroizing::new(std::fs::read_to_string(&key_path).map_err(|e| Error::io("cannot read", &key_path, e))?);
        let ca = match plan.authority.mode {
            AuthorityMode::Ca => {
                plan.authority.active.as_ref().and_then(|a| a.cert.as_deref()).map(absolute).transpose()?
            }
            AuthorityMode::SelfSigned => None,
        };
        let (client_ca, crl) = match client_auth {
            ClientAuth::Off => (None, None),
            _ => {
                let Some(ca) = &ca else {
                    return Err(Error::bad_value(
                        "site",
                        &plan.name,
                        "is self-signed: client certificates need a site with a private CA",
                        None,
                    )
                    .with_remedy(Remedy::CreateSiteWithCa));
                };
                (Some(word_path(ca)?), Some(word_path(&absolute(crate::revocation::CRL_FILE)?)?))
            }
        };
        let upstream = parse_upstream(upstream)?;
        let listen = if listen.is_empty() {
            vec![
                SocketAddr::new(IpAddr::from([0, 0, 0, 0]), DEFAULT_PORT),
                SocketAddr::new(IpAddr::from([0u16; 8]), DEFAULT_PORT),
            ]
        } else {
            listen
        };
        let out_dir = std::path::absolute(out_dir).map_err(|e| Error::io("cannot resolve", out_dir, e))?;
        let mut chain_and_key = Zeroizing::new(chain_pem);
        if !chain_and_key.ends_with('\n') {
            chain_and_key.push('\n');
        }
        chain_and_key.push_str(&key_pem);
        Ok(Deployment {
            server: s.name.clone(),
            chain: word_path(&chain_path)?,
            cert: word_path(&absolute(cert_rel)?)?,
            issuer: if s.active.chain.is_some() { ca.as_deref().map(word_path).transpose()? } else { None },
            key: word_path(&key_path)?,
            client_ca,
            crl,
            client_auth,
            listen,
            upstream,
            out_dir: word_path(&out_dir)?,
            chain_and_key,
        })
    }

    /// Without a site folder at hand: the first server of `model`, paths relative to the
    /// site folder, no mutual TLS, the default listen addresses and upstream.
    fn relative(model: &SiteTrust) -> Deployment {
        let server = model.servers.first().map_or_else(|| "server".to_string(), |s| s.name.clone());
        let dir = format!("pki/servers/{server}");
        Deployment {
            chain: format!("{dir}/chain.pem"),
            cert: format!("{dir}/cert.pem"),
            issuer: (model.mode == AuthorityMode::Ca).then(|| "pki/authority/ca.pem".to_string()),
            key: format!("{dir}/key.pem"),
            client_ca: None,
            crl: None,
            client_auth: ClientAuth::Off,
            listen: vec![SocketAddr::new(IpAddr::from([0, 0, 0, 0]), DEFAULT_PORT)],
            upstream: "127.0.0.1:8080".to_string(),
            out_dir: ".".to_string(),
            chain_and_key: Zeroizing::new(String::new()),
            server,
        }
    }
}

/// `path` as a configuration word, or an error naming it.
fn word_path(path: &Path) -> Result<String> {
    let text = path.to_str().unwrap_or_default();
    match Safe::config_word(text) {
        Some(w) => Ok(w.into_string()),
        None => Err(Error::bad_value(
            "path",
            &path.display().to_string(),
            "holds a character server configurations read as syntax (a space, a quote, `$`, `;`, `#`, a brace, \
             or non-ASCII)",
            Some("move the site (or the export folder) to a path of letters, digits and `._-/` only"),
        )),
    }
}

/// `http://HOST:PORT` → `HOST:PORT` (IPv6 in brackets).
fn parse_upstream(url: &str) -> Result<String> {
    let refuse = |problem: &str| {
        Error::bad_value(
            "upstream",
            url,
            problem.to_string(),
            Some("give the plain-HTTP server, e.g. http://127.0.0.1:8080"),
        )
    };
    let rest = url.strip_prefix("http://").ok_or_else(|| refuse("is not an http:// URL"))?;
    let authority = rest.trim_end_matches('/');
    let parsed = crate::address::Target::parse(authority, Some(80)).map_err(|_| refuse("is not http://HOST:PORT"))?;
    let host = parsed.host.url_host();
    let port = parsed.port;
    let out = format!("{host}:{port}");
    if authority.contains('/') || Safe::config_word(&out).is_none() {
        return Err(refuse("is not http://HOST:PORT"));
    }
    Ok(out)
}

fn word(s: &str) -> Safe {
    // Every value handed here was checked when the deployment was made (paths, upstream) or
    // is pinset's own (addresses, ports, plan names); anything else is a bug, written as `_`.
    Safe::config_word(s).unwrap_or_else(|| Safe::fixed("_"))
}

pub(crate) fn render(model: &SiteTrust, target: Target, options: &Options) -> Export {
    let fallback;
    let d = match &options.deployment {
        Some(d) => d,
        None => {
            fallback = Deployment::relative(model);
            &fallback
        }
    };
    let mut export = Export::new(target);
    let mtls = d.client_auth != ClientAuth::Off;
    let id = format!("pinset_{}_{}", model.ident(), super::ident(&d.server));
    let provenance = {
        let mut lines = text::provenance(model, target.name()).to_vec();
        lines.push(format!("Serves server identity {} of the site.", d.server));
        lines
    };
    let listen: Vec<Fill> = d
        .listen
        .iter()
        .map(|a| {
            Fill::new()
                .text("addr", word(&a.to_string()))
                .text("ip", word(&a.ip().to_string()))
                .text("port", word(&a.port().to_string()))
                .text("haproxy_addr", word(&haproxy_addr(a)))
        })
        .collect();
    let fill = Fill::new()
        .text("site", Safe::quoted(&model.site))
        .text("id", word(&id))
        .text("chain", word(&d.chain))
        .text("cert", word(&d.cert))
        .text("key", word(&d.key))
        .text("upstream", word(&d.upstream))
        .text("out_dir", word(&d.out_dir))
        .text("server", word(&d.server))
        .flag("issuer", d.issuer.is_some())
        .text("issuer_path", word(d.issuer.as_deref().unwrap_or("-")))
        .flag("mtls", mtls)
        .flag("require", d.client_auth == ClientAuth::Require)
        .text("client_ca", word(d.client_ca.as_deref().unwrap_or("-")))
        .text("crl", word(d.crl.as_deref().unwrap_or("-")))
        .list("listen", listen)
        .text("first_addr", word(&d.listen.first().map_or_else(|| "0.0.0.0:8443".to_string(), ToString::to_string)));
    let (file, about, template, comment) = match target {
        Target::Nginx => (
            format!("pinset-{}.conf", d.server),
            "nginx: goes in the `http` context (`/etc/nginx/conf.d/` or `sites-enabled/`), then `nginx -t && nginx -s \
             reload`",
            NGINX,
            "# ",
        ),
        Target::Caddy => (
            format!("pinset-{}.caddy", d.server),
            "Caddy site block: `import` it from the Caddyfile (or paste it there), then `caddy reload`",
            CADDY,
            "# ",
        ),
        Target::Haproxy => (
            format!("pinset-{}.cfg", d.server),
            "HAProxy frontend and backend: add them to `haproxy.cfg` (or pass the file with a second `-f`), then \
             reload",
            HAPROXY,
            "# ",
        ),
        Target::NodeServer => (
            "pinset-server.js".to_string(),
            "Node.js: `node pinset-server.js` (no dependencies): TLS in front of the upstream",
            NODE,
            "// ",
        ),
        _ => (
            "pinset-s_server".to_string(),
            "a script running `openssl s_server -www` with the full chain: for trying a client, not for production",
            S_SERVER,
            "# ",
        ),
    };
    let fill = fill.text("provenance", Safe::comment_lines(comment, &provenance));
    let mut file = ExportFile::text(file, template.render(&fill).into_string(), about);
    if target == Target::SServer {
        file = file.executable();
    }
    export.files.push(file);
    if target == Target::Caddy && mtls {
        export.files.push(ExportFile::text(
            format!("pinset-{}-global.caddy", d.server),
            CADDY_GLOBAL.render(&fill).into_string(),
            "Caddy global options for mutual TLS by IP address (no server name): `import` it inside the \
             Caddyfile's global options block",
        ));
    }
    if target == Target::Haproxy {
        export.files.push(
            ExportFile::text(
                format!("pinset-{}.pem", d.server),
                d.chain_and_key.to_string(),
                "the chain and the key in one file, as HAProxy's `crt` reads them (mode 0600): keep it where the \
                 configuration names it, and export again after every key rotation",
            )
            .secret(),
        );
    }
    export.usage = usage(target, d);
    warnings(&mut export, model, target, d);
    export
}

/// HAProxy's spelling of a listen address: `ipv4@A:P`, `ipv6@A:P` (no brackets).
fn haproxy_addr(a: &SocketAddr) -> String {
    match a.ip() {
        IpAddr::V4(ip) => format!("ipv4@{ip}:{}", a.port()),
        IpAddr::V6(ip) => format!("ipv6@{ip}:{}", a.port()),
    }
}

fn usage(target: Target, d: &Deployment) -> String {
    let headers = IDENTITY_HEADERS.join(", ");
    let mtls = match d.client_auth {
        ClientAuth::Off => format!(
            "No client certificates are asked for; the identity headers ({headers}) are cleared, so a client cannot \
             send its own."
        ),
        _ => format!(
            "Client certificates must chain to the site's CA{}; the verified client's identity goes upstream in {headers} \
             (incoming headers of those names are replaced).",
            if d.client_auth == ClientAuth::Optional { " when presented" } else { "" }
        ),
    };
    let how = match target {
        Target::Nginx => {
            "Put the file in nginx's `http` context (Debian: `/etc/nginx/conf.d/`), check with `nginx -t` \
             and reload with `nginx -s reload`. nginx reads the key as root before it drops privileges, so the key \
             can stay 0600. Subject and serial are nginx's own `$ssl_client_s_dn` (RFC 2253) and \
             `$ssl_client_serial` (upper-case hex); nginx knows neither the SANs nor the SPKI pin, so those two \
             headers are sent empty."
        }
        Target::Caddy => {
            "Import the block from the Caddyfile and run `caddy reload`; with mutual TLS, also import the \
             `-global.caddy` file inside the global options block (clients that dial an IP address send no server \
             name, which Caddy's strict SNI-Host check would refuse with 421). Subject and serial are Caddy's \
             placeholders (`{http.request.tls.client.subject}`, Go's RFC 2253 form; the serial in decimal); Caddy \
             sends no SPKI pin. Caddy reads no revocation list: a revoked client certificate is still accepted."
        }
        Target::Haproxy => {
            "HAProxy reads the chain and the key from one file: the export writes it beside the \
             configuration with mode 0600. Add the frontend and backend to `haproxy.cfg` (or add `-f` with this \
             file), check with `haproxy -c -f …` and reload. Subject (RFC 2253) and serial (lower-case hex) come from \
             `ssl_c_s_dn` and `ssl_c_serial`; HAProxy sends no SAN or pin."
        }
        Target::NodeServer => {
            "Run `node pinset-server.js` (Node.js 18 or later, no dependencies) as a user that can \
             read the key. It sends the same identity values as `pinset serve`: subject, SANs, lower-case serial and \
             `sha256/` pin. SIGHUP is not handled: restart it after a rotation."
        }
        _ => {
            "Run `./pinset-s_server`: `openssl s_server -www` with the leaf and (`-cert_chain`) its CA, so the whole \
             chain is sent (`-cert chain.pem` alone sends only the leaf). It answers every request with a status \
             page (the client certificate included), one connection at a time: for trying a client, not for \
             production."
        }
    };
    format!("{how} {mtls} After every key rotation, export again and reload.\n")
}

fn warnings(export: &mut Export, model: &SiteTrust, target: Target, d: &Deployment) {
    if target == Target::Caddy && d.client_auth != ClientAuth::Off {
        export.warn(
            "caddy-no-crl",
            "Caddy reads no certificate revocation list: a client certificate revoked with `pinset revoke` is still \
             accepted. Where revocation matters, serve with pinset serve, nginx or HAProxy",
        );
    }
    if target == Target::SServer && d.listen.len() > 1 {
        export.warn(
            "s_server-one-address",
            format!("openssl s_server listens on one address: the script uses {} only", d.listen[0]),
        );
    }
    if model.servers.iter().all(|s| s.name != d.server) {
        export.warn("server-not-exported", format!("server {} is not among the exported servers", d.server));
    }
}

const NGINX: Template = template!("server/nginx.conf");
const CADDY: Template = template!("server/Caddyfile");
const CADDY_GLOBAL: Template = template!("server/Caddyfile-global");
const HAPROXY: Template = template!("server/haproxy.cfg");
const NODE: Template = template!("server/pinset-server.js");
const S_SERVER: Template = template!("server/s_server.sh");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_http_host_port() {
        assert_eq!(parse_upstream("http://127.0.0.1:8080").expect("ok"), "127.0.0.1:8080");
        assert_eq!(parse_upstream("http://[::1]:9000/").expect("ok"), "[::1]:9000");
        assert_eq!(parse_upstream("http://app.local:80").expect("ok"), "app.local:80");
        for bad in ["https://127.0.0.1:8080", "127.0.0.1:8080", "http://x:1/path", "http://a b:1"] {
            assert!(parse_upstream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_with_syntax_are_refused() {
        assert!(word_path(Path::new("/srv/site/pki/key.pem")).is_ok());
        for bad in ["/srv/my site/key.pem", "/srv/$x/key.pem", "/srv/a;b", "/srv/\"q\"", "/srv/é"] {
            let err = word_path(Path::new(bad)).expect_err(bad).to_string();
            assert!(err.contains("holds a character"), "{err}");
        }
    }
}
