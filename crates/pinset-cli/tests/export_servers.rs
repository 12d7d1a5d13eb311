//! The server targets (`nginx`, `haproxy`, `caddy`, `node-server`, `s_server`) run by the
//! real servers (Debian's nginx, HAProxy and Caddy, Node's https module, `openssl
//! s_server`), each with the configuration `pinset export` wrote and nothing edited in it,
//! on loopback, in front of a real upstream that echoes what it received.
//!
//! Each one must: send the whole chain (the leaf and its CA, counted with `openssl
//! s_client -showcerts`), be reached by `pinset get --site` (its anchors and pins) and by
//! curl with a client certificate, refuse a client without one when mutual TLS is
//! required, refuse a revoked client where the server reads a revocation list (Caddy reads
//! none, as its warning says: the test shows the revoked client getting through there),
//! pass the verified client's identity upstream in `X-Client-Cert-*` and never a client's
//! own headers of those names.
//!
//! The only files a test writes around an export are what a server needs that is not the
//! export's to decide: nginx's and HAProxy's process settings and Caddy's global options
//! (admin endpoint off, storage in the test's folder), each including the exported file.

mod common;
#[path = "common/server.rs"]
mod server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{init_site, pinset, s, tempdir};
use pinset_testkit::V4;
use pinset_testkit::curl::curl;
use pinset_testkit::process::{ServerProcess, run};
use server::Echo;

const PASSWORD: &str = "correct horse";

/// A server program the exports configure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Nginx,
    Haproxy,
    Caddy,
    Node,
    SServer,
}

const KINDS: [Kind; 5] = [Kind::Nginx, Kind::Haproxy, Kind::Caddy, Kind::Node, Kind::SServer];

impl Kind {
    fn target(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Haproxy => "haproxy",
            Kind::Caddy => "caddy",
            Kind::Node => "node-server",
            Kind::SServer => "s_server",
        }
    }

    /// Whether requests reach the upstream (s_server answers itself).
    fn proxies(self) -> bool {
        self != Kind::SServer
    }

    /// Whether the server reads the site's revocation list.
    fn reads_crl(self) -> bool {
        self != Kind::Caddy
    }
}

/// A site with a private CA, its server on 127.0.0.1, two clients (till-2 revoked), and
/// another site's client (`foreign`), whose certificate no server of this site may accept.
struct Site {
    dir: PathBuf,
    other: PathBuf,
}

fn issue_client(dir: &Path, client: &str) {
    let out = pinset()
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .args(["issue", "client", client, "--site", s(dir)])
        .output()
        .expect("run pinset issue client");
    assert!(out.status.success(), "issue client {client}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Site {
    fn new(parent: &Path) -> Site {
        let dir = init_site(parent, "shop", &["--ip", "127.0.0.1"]);
        for client in ["till-1", "till-2"] {
            issue_client(&dir, client);
        }
        let other = init_site(parent, "other", &["--ip", "127.0.0.1"]);
        issue_client(&other, "foreign");
        let out = pinset()
            .args(["revoke", "till-2", "--reason", "key-compromise", "--site", s(&dir)])
            .output()
            .expect("run pinset revoke");
        assert!(out.status.success(), "revoke: {}", String::from_utf8_lossy(&out.stderr));
        Site { dir, other }
    }

    fn client(&self, name: &str, file: &str) -> PathBuf {
        let site = if name == "foreign" { &self.other } else { &self.dir };
        site.join(format!("pki/clients/{name}/{file}"))
    }

    fn ca(&self) -> PathBuf {
        self.dir.join("pki/authority/ca.pem")
    }
}

/// Exports `kind` for `addr` into `dir/TARGET-PORT/` and returns the program and arguments
/// that run it, with the few settings around it that are the test's (see the module doc).
fn exported(kind: Kind, site: &Site, dir: &Path, addr: SocketAddr, upstream: &str, mode: &str) -> Vec<String> {
    let out = dir.join(format!("{}-{}", kind.target(), addr.port()));
    let res = pinset()
        .args(["export", kind.target(), "--site", s(&site.dir), "--out", s(&out), "--listen", &addr.to_string()])
        .args(["--upstream", upstream, "--client-auth", mode])
        .output()
        .expect("run pinset export");
    assert!(res.status.success(), "export {}: {}", kind.target(), String::from_utf8_lossy(&res.stderr));
    let out = out.canonicalize().expect("export folder");
    let file = |name: &str| out.join(name).display().to_string();
    match kind {
        Kind::Nginx => {
            let conf = format!(
                "daemon off;\nmaster_process off;\npid {pid};\nerror_log {err};\nevents {{}}\nhttp {{\n    access_log off;\n\
                 \x20   client_body_temp_path {t}/body;\n    proxy_temp_path {t}/proxy;\n    fastcgi_temp_path {t}/fastcgi;\n\
                 \x20   uwsgi_temp_path {t}/uwsgi;\n    scgi_temp_path {t}/scgi;\n    include {snippet};\n}}\n",
                pid = file("nginx.pid"),
                err = file("error.log"),
                t = out.display(),
                snippet = file("pinset-server.conf"),
            );
            std::fs::write(out.join("nginx.conf"), conf).expect("write nginx.conf");
            vec!["nginx".into(), "-c".into(), file("nginx.conf"), "-p".into(), out.display().to_string()]
        }
        Kind::Haproxy => {
            let base = "global\n    log stderr format raw local0\ndefaults\n    mode http\n    timeout connect 5s\n\
                        \x20   timeout client 30s\n    timeout server 30s\n";
            std::fs::write(out.join("base.cfg"), base).expect("write base.cfg");
            vec!["haproxy".into(), "-db".into(), "-f".into(), file("base.cfg"), "-f".into(), file("pinset-server.cfg")]
        }
        Kind::Caddy => {
            let global = if mode == "off" {
                String::new()
            } else {
                format!("\timport {}\n", file("pinset-server-global.caddy"))
            };
            let caddyfile = format!(
                "{{\n\tadmin off\n\tstorage file_system {}\n{global}}}\nimport {}\n",
                file("data"),
                file("pinset-server.caddy")
            );
            std::fs::write(out.join("Caddyfile"), caddyfile).expect("write Caddyfile");
            let home = |v: &str, d: &str| format!("{v}={}", file(d));
            vec![
                "env".into(),
                home("HOME", "home"),
                home("XDG_DATA_HOME", "data"),
                home("XDG_CONFIG_HOME", "config"),
                "caddy".into(),
                "run".into(),
                "--config".into(),
                file("Caddyfile"),
                "--adapter".into(),
                "caddyfile".into(),
            ]
        }
        Kind::Node => vec!["node".into(), file("pinset-server.js")],
        Kind::SServer => vec![file("pinset-s_server"), "-quiet".into()],
    }
}

/// Starts `kind` on a free loopback port with the exported configuration.
fn start(kind: Kind, site: &Site, dir: &Path, upstream: &str, mode: &str) -> ServerProcess {
    ServerProcess::start(dir, kind.target(), V4, "env", |addr| {
        let mut args = exported(kind, site, dir, addr, upstream, mode);
        // `env` runs the program: one way to start every kind, Caddy's settings included.
        if args[0] == "env" {
            args.remove(0);
        }
        args
    })
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `pinset get URL --site SITE` with these extra arguments (a client's PKCS#12, headers).
fn pinset_get(site: &Site, url: &str, extra: &[&str]) -> Output {
    pinset()
        .env("PINSET_P12_PASSWORD", PASSWORD)
        .args(["get", url, "--site", s(&site.dir)])
        .args(extra)
        .output()
        .expect("run pinset get")
}

/// curl trusting the site's CA alone, with a client certificate when given.
fn curl_as(site: &Site, url: &str, client: Option<&str>) -> Output {
    let ca = site.ca();
    let mut args = vec!["--cacert".to_string(), s(&ca).to_string(), "--capath".into(), "/dev/null".into()];
    if let Some(name) = client {
        args.extend(["--cert".into(), s(&site.client(name, "cert.pem")).into()]);
        args.extend(["--key".into(), s(&site.client(name, "key.pem")).into()]);
    }
    args.extend(["-w".into(), "\nstatus=%{http_code}\n".into(), url.into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&args)
}

/// What the upstream echoes for a request line: proof the request went through.
const REACHED_UPSTREAM: &str = "GET / HTTP/1.1";

/// The certificates the server sends, counted from `openssl s_client -showcerts`.
fn certificates_sent(site: &Site, addr: SocketAddr) -> usize {
    let cert = site.client("till-1", "cert.pem");
    let key = site.client("till-1", "key.pem");
    let out =
        run("openssl", &["s_client", "-connect", &addr.to_string(), "-showcerts", "-cert", s(&cert), "-key", s(&key)]);
    String::from_utf8_lossy(&out.stdout).matches("-----BEGIN CERTIFICATE-----").count()
}

#[test]
fn each_server_export_serves_the_chain_and_requires_a_client_certificate() {
    let tmp = tempdir();
    let site = Site::new(tmp.path());
    let upstream = Echo::start();
    for kind in KINDS {
        let what = kind.target();
        let server = start(kind, &site, tmp.path(), &upstream.url(), "require");
        let url = format!("https://{}/", server.addr);
        let log = || server.log_text();

        assert_eq!(certificates_sent(&site, server.addr), 2, "{what}: the leaf and its CA are sent\n{}", log());

        // pinset get: the site's anchors and pins, the client's PKCS#12, spoofed identity headers.
        let p12 = site.client("till-1", "till-1.p12");
        let out = pinset_get(
            &site,
            &url,
            &["--p12", s(&p12), "-H", "X-Client-Cert-Subject: CN=admin", "-H", "X-Client-Cert-Pin: sha256/forged"],
        );
        let (body, err) = text(&out);
        assert!(out.status.success(), "{what}: pinset get with a client certificate:\n{err}\n{}", log());
        assert!(err.contains("pins matched"), "{what}: {err}");
        if kind.proxies() {
            assert!(body.contains(REACHED_UPSTREAM), "{what}: {body}");
            let subject = body.lines().find(|l| l.starts_with("x-client-cert-subject: ")).unwrap_or_default();
            assert!(subject.contains("CN=till-1"), "{what}: the verified client goes upstream:\n{body}");
            assert!(
                !body.contains("CN=admin") && !body.contains("forged"),
                "{what}: a spoofed header went up:\n{body}"
            );
            assert!(body.contains("x-client-cert-serial: "), "{what}: {body}");
        } else {
            // s_server's status page names the client certificate it verified.
            assert!(body.contains("CN=till-1") || body.contains("CN = till-1"), "{what}: {body}");
        }

        // curl with the client's certificate and key.
        let out = curl_as(&site, &url, Some("till-1"));
        let (body, err) = text(&out);
        assert!(out.status.success() && body.contains("status=200"), "{what}: curl --cert: {err}\n{body}\n{}", log());

        // Without a certificate: no connection, or nginx's 400; never the upstream.
        for out in [curl_as(&site, &url, None), pinset_get(&site, &url, &[])] {
            let (body, err) = text(&out);
            let refused = !out.status.success() || body.contains("status=400") || body.contains("400 Bad Request");
            assert!(refused, "{what}: a client without a certificate got in:\n{body}\n{err}");
            assert!(!body.contains(REACHED_UPSTREAM), "{what}: reached the upstream without a certificate:\n{body}");
        }

        // Another site's client.
        let out = curl_as(&site, &url, Some("foreign"));
        let (body, err) = text(&out);
        let refused = !out.status.success() || body.contains("status=400");
        assert!(refused && !body.contains(REACHED_UPSTREAM), "{what}: another site's client got in:\n{body}\n{err}");

        // The revoked client.
        let out = curl_as(&site, &url, Some("till-2"));
        let (body, err) = text(&out);
        let refused = !out.status.success() || body.contains("status=400");
        if kind.reads_crl() {
            assert!(refused && !body.contains(REACHED_UPSTREAM), "{what}: a revoked client got in:\n{body}\n{err}");
        } else {
            assert!(!refused, "{what} reads no revocation list (the caddy-no-crl warning): {body}\n{err}");
        }
    }
}

#[test]
fn without_mutual_tls_the_identity_headers_are_cleared_and_optional_lets_clients_in() {
    let tmp = tempdir();
    let site = Site::new(tmp.path());
    let upstream = Echo::start();
    for (kind, mode) in [
        (Kind::Nginx, "off"),
        (Kind::Haproxy, "off"),
        (Kind::Caddy, "off"),
        (Kind::Node, "off"),
        (Kind::Node, "optional"),
        (Kind::Nginx, "optional"),
    ] {
        let what = format!("{} --client-auth {mode}", kind.target());
        let server = start(kind, &site, tmp.path(), &upstream.url(), mode);
        let url = format!("https://{}/", server.addr);
        assert_eq!(certificates_sent(&site, server.addr), 2, "{what}: the leaf and its CA are sent");
        let out = pinset_get(&site, &url, &["-H", "X-Client-Cert-Subject: CN=admin", "-H", "X-Client-Cert-Pin: x"]);
        let (body, err) = text(&out);
        assert!(out.status.success(), "{what}: pinset get:\n{err}\n{}", server.log_text());
        assert!(body.contains(REACHED_UPSTREAM), "{what}: {body}");
        assert!(!body.contains("x-client-cert-"), "{what}: identity headers without a verified client:\n{body}");
        let out = curl_as(&site, &url, None);
        assert!(text(&out).0.contains("status=200"), "{what}: curl: {:?}", text(&out));
    }
}

#[test]
fn server_exports_refuse_what_they_cannot_serve() {
    let tmp = tempdir();
    let site = Site::new(tmp.path());
    let self_signed = init_site(tmp.path(), "hub", &["--self-signed", "--ip", "127.0.0.1"]);
    let cases: [(&Path, &[&str], &str); 5] = [
        (&site.dir, &["nginx", "--server", "nope"], "is not a server of site shop"),
        (&self_signed, &["nginx", "--client-auth", "require"], "client certificates need a site with a private CA"),
        (&site.dir, &["haproxy", "--upstream", "https://127.0.0.1:8080"], "is not an http:// URL"),
        (&site.dir, &["node", "--client-auth", "require"], "are for the server targets"),
        (&site.dir, &["nginx", "--exclude", "127.0.0.1"], "a server target serves one --server"),
    ];
    for (dir, args, want) in cases {
        let out = pinset().args(["export"]).args(args).args(["--site", s(dir)]).output().expect("run pinset");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // A site whose path a configuration would read as syntax is refused, naming the path.
    let spaced = tmp.path().join("my sites");
    std::fs::create_dir_all(&spaced).expect("mkdir");
    let odd = init_site(&spaced, "shop", &["--ip", "127.0.0.1"]);
    let out = pinset().args(["export", "nginx", "--site", s(&odd)]).output().expect("run pinset");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("my sites") && err.contains("hint:"), "{err}");
}
