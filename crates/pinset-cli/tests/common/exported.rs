//! The exports that run here, run as real clients the way `export_clients.rs` and
//! `export_jvm.rs` run them: `pinset export TARGET` into a folder, built where the platform
//! builds (Go's command, javac against Debian's OkHttp 3), then the export's own
//! command-line entry fetching one URL. For tests that put something between the client
//! and its server (the interception harness), so only "did it get through" is asked.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pinset_testkit::process::{run, run_bounded, s};

/// Bound on one run of an exported client (a build included).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

pub use crate::common::OKHTTP_JARS;

/// A client platform whose export runs here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// `pinset-curl`, a curl wrapper.
    Curl,
    /// Node.js.
    Node,
    /// Go, built offline.
    Go,
    /// CPython, standard library only.
    Python,
    /// The JDK alone (HttpsURLConnection).
    Java,
    /// OkHttp 3 on the JVM (the export's Java file).
    OkHttp,
}

impl Client {
    /// Every client that runs here.
    pub const ALL: [Client; 6] = [Client::Curl, Client::Node, Client::Go, Client::Python, Client::Java, Client::OkHttp];

    /// The `pinset export` target.
    pub fn target(self) -> &'static str {
        match self {
            Client::Curl => "curl",
            Client::Node => "node",
            Client::Go => "go",
            Client::Python => "python",
            Client::Java => "java",
            Client::OkHttp => "okhttp",
        }
    }
}

/// An export, built, ready to fetch.
pub struct Exported {
    /// Which client.
    pub client: Client,
    /// The export folder.
    pub out: PathBuf,
    /// Go's command, or the JVM classes folder.
    built: Option<PathBuf>,
}

impl Exported {
    /// `pinset export TARGET --site SITE --out DIR/TARGET`, then its build.
    pub fn new(pinset: &Path, client: Client, site: &Path, dir: &Path) -> Exported {
        let out = dir.join(client.target());
        let res = run(s(pinset), &["export", client.target(), "--site", s(site), "--out", s(&out)]);
        assert!(res.status.success(), "pinset export {}:\n{}", client.target(), String::from_utf8_lossy(&res.stderr));
        let built = match client {
            Client::Go => {
                let binary = dir.join("pinset-get-go");
                let mut cmd = go_command(&out);
                cmd.args(["build", "-o", s(&binary), "./cmd/pinset-get"]);
                let res = run_bounded(cmd, CLIENT_TIMEOUT, "go build ./cmd/pinset-get");
                assert!(res.status.success(), "go build of the export:\n{}", String::from_utf8_lossy(&res.stderr));
                Some(binary)
            }
            Client::Java | Client::OkHttp => {
                let classes = dir.join(format!("{}-classes", client.target()));
                let mut args = vec!["-d", s(&classes)];
                let jars = OKHTTP_JARS.join(":");
                if client == Client::OkHttp {
                    for jar in OKHTTP_JARS {
                        assert!(Path::new(jar).exists(), "{jar} is missing: install it with scripts/setup");
                    }
                    args.extend(["-cp", &jars]);
                }
                let source = out.join("PinsetPinning.java");
                args.push(s(&source));
                let res = run("javac", &args);
                assert!(res.status.success(), "javac {args:?}:\n{}", String::from_utf8_lossy(&res.stderr));
                Some(classes)
            }
            _ => None,
        };
        Exported { client, out, built }
    }

    /// Runs the export's own entry against `url`, no proxy from the environment.
    pub fn fetch(&self, url: &str) -> Output {
        let mut cmd = match self.client {
            Client::Curl => {
                let mut cmd = Command::new(self.out.join("pinset-curl"));
                cmd.args(["-sS", url]);
                cmd
            }
            Client::Node => {
                let mut cmd = Command::new("node");
                cmd.arg(self.out.join("pinset-pinning.js")).arg(url);
                cmd
            }
            Client::Go => {
                let mut cmd = Command::new(self.built.as_ref().expect("built"));
                cmd.arg(url);
                cmd
            }
            Client::Python => {
                let mut cmd = Command::new("python3");
                cmd.arg("-I").arg(self.out.join("pinset_pinning.py")).arg(url);
                cmd
            }
            Client::Java | Client::OkHttp => {
                // The export folder holds pinset-anchors.pem at its root: the classpath
                // resource the class reads.
                let mut cp = vec![s(self.built.as_ref().expect("built")), s(&self.out)];
                if self.client == Client::OkHttp {
                    cp.extend(OKHTTP_JARS);
                }
                let mut cmd = Command::new("java");
                cmd.args(["-cp", &cp.join(":"), "pinset.PinsetPinning", url]);
                cmd
            }
        };
        for var in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY"] {
            cmd.env_remove(var);
        }
        run_bounded(cmd, CLIENT_TIMEOUT, &format!("the {} export on {url}", self.client.target()))
    }

    /// Whether a fetch got `openssl s_server -www`'s page (curl, Node, Go, Python print the
    /// body; the JVM clients print the status).
    pub fn reached(&self, out: &Output) -> bool {
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        out.status.success()
            && match self.client {
                Client::Java => text.contains("HTTP 200"),
                Client::OkHttp => text.contains("code=200"),
                _ => text.contains("s_server"),
            }
    }
}

/// `go` in `dir`, offline and hermetic, the build cache shared under cargo's target folder.
pub fn go_command(dir: &Path) -> Command {
    let shared = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut cmd = Command::new("go");
    cmd.current_dir(dir)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .env("GOENV", "off")
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", shared.join("go-build-cache"))
        .env("GOPATH", shared.join("go-path"));
    cmd
}
