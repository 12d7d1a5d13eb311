//! The command line: every clap type of `pinset`, and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  pinset init shop --ip 192.168.1.10 --ip fd00::10     create a site with a private CA
  pinset pin --site shop                               the pins apps should carry
  pinset issue client till-1 --site shop               a client certificate for mutual TLS
  pinset inspect shop/pki/servers/server/cert.pem      what a certificate says
  pinset pin cert.pem --format okhttp                  pins of any file, in OkHttp's form
  pinset up                                            a site for this machine, served on port 8443";

/// Trustworthy TLS for apps that reach on-site servers by IP address.
#[derive(Debug, Parser)]
#[command(name = "pinset", version, about, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a site: pinset.toml, a private CA (or a self-signed identity), the first
    /// server certificate, and standby keys whose pins apps ship from day one.
    #[command(after_help = "Examples:
  pinset init shop --ip 192.168.1.10 --ip fd00::10
  pinset init --self-signed --ip 10.0.0.5 --dns hub.local
  pinset init clinic --ip 192.168.0.2 --pin leaf
  pinset init shop --ip 192.168.1.10 --pin-expiration 2027-12-31")]
    Init(InitArgs),
    /// Issue a server certificate (new addresses) or a client certificate (mutual TLS).
    #[command(subcommand)]
    Issue(IssueCommand),
    /// Print SPKI pins of certificates, keys, CSRs and PKCS#12 files, or the pins apps
    /// should carry for the site.
    #[command(after_help = "Examples:
  pinset pin                                 the site's pins for apps (active, standby)
  pinset pin chain.pem                       one line per certificate of the bundle
  pinset pin key.pem --format okhttp         sha256/<b64>, as OkHttp's CertificatePinner takes
  pinset pin cert.pem --cert-sha256          whole-certificate fingerprints (not pins)
  pinset pin https://192.168.1.10:8443       the chain a live server presents, trusted or not
  openssl s_client ... | pinset pin -        from standard input")]
    Pin(PinArgs),
    /// Validate a certificate for a server name at a time, offline, with the same checks
    /// as a TLS connection (chain, time, name, pins). Exit 0 valid, 1 invalid.
    #[command(after_help = "Examples:
  pinset verify cert.pem --ca ca.pem --name 192.168.1.10
  pinset verify cert.pem --site shop --name fd00::10 --at 2027-06-01T00:00:00Z
  pinset verify leaf.pem --chain inter.pem --ca root.pem --name hub.local --pin sha256/…
  pinset verify cert.pem --ca ca.pem --crl ca.crl --name 192.168.1.10")]
    Verify(VerifyArgs),
    /// A small curl that only talks to the site's real server: the chain must validate
    /// against the site's anchors and carry a pinned key. Exit 1 on a verification failure.
    #[command(after_help = "Examples:
  pinset get https://192.168.1.10:8443/status --site shop
  pinset get https://[fd00::10]/api -X POST -H 'Content-Type: application/json' -d '{\"a\":1}'
  pinset get https://hub.local/ --ca ca.pem --pin sha256/… --p12 till-1.p12 --json
  pinset get -L https://192.168.1.10/login --site shop")]
    Get(GetArgs),
    /// Show what a certificate (or every certificate of a chain) says.
    #[command(after_help = "Examples:
  pinset inspect pki/servers/server/cert.pem
  pinset inspect chain.pem --json")]
    Inspect(InspectArgs),
    /// Will iOS/macOS, Android, Chrome, Java and OkHttp accept this certificate for this
    /// address? Each finding names its rule and the rule's source. Exit 1 if a platform
    /// rejects it.
    #[command(after_help = "Examples:
  pinset lint pki/servers/server/cert.pem --name 192.168.1.10
  pinset lint chain.pem --for ios,android --name hub.local
  pinset lint cert.pem --json")]
    Lint(LintArgs),
    /// Pinning configuration for a client platform, ready to put in the app: the site's
    /// anchors and pins, written to the platform's own rules. Warnings (stderr) say where a
    /// platform cannot do what the plan asks.
    #[command(after_help = "Examples:
  pinset export android --out app/src/main       res/xml/network_security_config.xml and res/raw/…
  pinset export okhttp --out export/okhttp       Kotlin and Java
  pinset export trustkit > TrustKit.plist        a one-file target prints to stdout
  pinset export all --out pinning                every target and a README index
  pinset export all --exclude 127.0.0.1 --out release     a test address kept out of what ships
  pinset export capacitor-plugin --out plugins/pinset     a native pinning plugin of the site's own
  pinset export android --debug-overrides mitmproxy-ca.pem --out app/src/main
  pinset export nginx --server backoffice --client-auth require --out /etc/nginx/conf.d
  pinset export p12 till-1 --profile legacy --out till-1-legacy.p12")]
    Export(ExportArgs),
    /// The TLS front of an on-site server: the site's certificate (chosen by SNI or by the
    /// address dialled), mutual TLS, HTTP/1.1 and HTTP/2, a reverse proxy to the plain-HTTP
    /// upstream (or static files), hot reload on SIGHUP and on file changes.
    #[command(after_help = "Examples:
  pinset serve --upstream http://127.0.0.1:8080
  pinset serve --listen 192.168.1.10:443 --upstream http://127.0.0.1:8080 --client-auth require
  pinset serve --static ./www --metrics 127.0.0.1:9100 --log-format json
  kill -HUP $(pidof pinset)                           reload the certificates now")]
    Serve(ServeArgs),
    /// The one command: create a site for this machine if the folder has none (its
    /// addresses, a private CA, standby keys), then serve it on port 8443 — a proxy to
    /// --upstream, or a status page with the pins, the CA to install and every export.
    #[command(after_help = "Examples:
  pinset up                                   in an empty folder: a site, served on :8443
  pinset up --upstream http://127.0.0.1:8080  the same, in front of the app's server
  pinset up --ip 192.168.1.10 --dns shop.local --port 9443")]
    Up(UpArgs),
    /// Revoke a client certificate (by client name or serial number): recorded in the
    /// ledger, and the site's revocation list (pki/crl.pem) signed again. A running
    /// `pinset serve` refuses the client from its next handshake on.
    #[command(after_help = "Examples:
  pinset revoke till-1 --reason key-compromise
  pinset revoke 5f:3a:…:9c --reason superseded --json")]
    Revoke(RevokeArgs),
    /// Record the app releases that shipped the site's pins, retire the ones no longer
    /// supported, list them: rotation refuses any step that would cut a supported release off.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Issue server certificates that end within --within again, with the same keys: pins
    /// do not change. Safe to run daily; --dry-run says what it would do.
    #[command(after_help = "Examples:
  pinset renew                       every server certificate ending within 30 days
  pinset renew backoffice --within 60d
  pinset renew --dry-run --json")]
    Renew(RenewArgs),
    /// Rotate what apps pin (the CA key, or each server's key): promote the standby key,
    /// then retire the replaced one. Refuses a step that would cut a supported release off.
    #[command(subcommand)]
    Rotate(RotateCommand),
    /// One screen of the site's state: identities and anchors with their end dates, the
    /// releases and the pins each carries, revoked certificates, and the next safe step.
    #[command(after_help = "Examples:
  pinset status --site shop
  pinset status --json")]
    Status(StatusArgs),
    /// Show or set the last day apps enforce the site's pins (UTC). After it, apps carrying
    /// the pins trust the site's anchors alone: a bounded life, so an app that is never
    /// updated does not stay pinned to keys the site may have lost. A day in the past is
    /// refused; pinset warns when the day is near.
    #[command(after_help = "Examples:
  pinset pin-expiration                      the current last day, and the days left
  pinset pin-expiration 2027-12-31           set it (exports written from now on carry it)
  pinset pin-expiration never                pins enforced until the apps change")]
    PinExpiration(PinExpirationArgs),
    /// Check a fleet of servers as the site's apps see them: reachable or not and why, TLS
    /// version and cipher, the chain presented, the earliest expiry of the presented and
    /// of the validated chain (the site CA's own included), the name, the site's verdict,
    /// which pin matched (active, standby, retiring, none), the days left. Exit 0 ok,
    /// 1 warning, 2 critical, 3 unknown (the worst target: critical, then warning, then
    /// unknown). With --watch, check again on an interval and serve Prometheus metrics.
    #[command(after_help = "Examples:
  pinset check --site shop                            every address of the site, on port 443
  pinset check 192.168.1.10:8443 https://till-3.shop.example/ --site shop
  pinset check --targets fleet.txt --json             lines `address [name] [site]`
  pinset check --targets fleet.txt --watch --interval 60s --metrics 127.0.0.1:9793")]
    Check(CheckArgs),
    /// An interception harness that gives a verdict per connection: did the client accept
    /// a forged certificate? An explicit proxy (point a device's Wi-Fi proxy at it) or a
    /// stand-in for one server. Exit 1 if any impostor was accepted or cleartext seen.
    #[command(after_help = "Examples:
  pinset mitm --listen 0.0.0.0:8080 --site shop             a proxy for a phone; all attacks in turn
  pinset mitm --reverse 192.168.1.10:8443 --listen 0.0.0.0:8443 --attack trusted-ca
  pinset mitm --listen 127.0.0.1:8080 --duration 60s --json  one JSON object per line")]
    Mitm(MitmArgs),
    /// A local catalogue of bad TLS endpoints made from the site's CA (expired, wrong
    /// name, untrusted root, SHA-1, RSA-1024, TLS 1.0 …) and one genuine control, each on
    /// its own port, with a verdict for every connection. Exit 1 if any bad endpoint was
    /// accepted.
    #[command(after_help = "Examples:
  pinset testbed --site shop --listen 192.168.1.10
  pinset testbed --first-port 0 --json       any free ports; the catalogue as JSON lines")]
    Testbed(TestbedArgs),
}

/// What `serve` and `up` share: what is served, to whom, and the limits.
#[derive(Debug, Args)]
pub struct ServeCommon {
    /// Address to listen on, `IP:PORT` (`[::]:PORT` for IPv6; repeatable).
    #[arg(long = "listen", value_name = "ADDR:PORT")]
    pub listen: Vec<std::net::SocketAddr>,
    /// The plain-HTTP server to proxy to, `http://HOST:PORT`.
    #[arg(long, value_name = "URL", conflicts_with = "static_dir")]
    pub upstream: Option<String>,
    /// Serve the files of this folder instead of proxying.
    #[arg(long = "static", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
    /// Present this server identity's certificate on every connection [default: chosen by
    /// the name or address the client dialled].
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Client certificates (mutual TLS), checked against the site's CA and revocation list.
    #[arg(long, value_enum, default_value = "off", value_name = "MODE")]
    pub client_auth: ClientAuthArg,
    /// Let in only this client (its name in the site; repeatable) [default: every client
    /// the site issued].
    #[arg(long = "allow-client", value_name = "NAME")]
    pub allow_clients: Vec<String>,
    /// Serve Prometheus metrics over plain HTTP at ADDR:PORT/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Log lines as text or JSON (stderr).
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub log_format: LogFormatArg,
    /// Most connections open at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Seconds a TLS handshake may take.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Seconds a connection may stay idle between requests.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub idle_timeout: u64,
    /// Seconds the upstream has to start answering.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub upstream_timeout: u64,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_body: u64,
    /// No TLS session resumption (every connection makes a full handshake).
    #[arg(long)]
    pub no_session_resumption: bool,
    /// Reload only on SIGHUP, not when the site's files change.
    #[arg(long)]
    pub no_watch: bool,
    /// Print what is served as JSON (log lines stay on stderr).
    #[arg(long)]
    pub json: bool,
}

/// Client certificate modes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClientAuthArg {
    /// No client certificate asked for.
    Off,
    /// Asked for and checked when presented.
    Optional,
    /// Required: no valid certificate, no connection.
    Require,
}

/// Log formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    /// One readable line per request or event.
    Text,
    /// One JSON object per line.
    Json,
}

/// `pinset serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// What is served and how [default listen: [::]:8443 and 0.0.0.0:8443; without
    /// --upstream or --static, the status page].
    #[command(flatten)]
    pub serve: ServeCommon,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
}

/// `pinset up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The port to serve on, on every address of this machine (IPv4 and IPv6).
    #[arg(long, value_name = "PORT", default_value_t = 8443, conflicts_with = "listen")]
    pub port: u16,
    /// A new site's IP address instead of this machine's (repeatable).
    #[arg(long = "ip", value_name = "ADDRESS")]
    pub ips: Vec<String>,
    /// A new site's DNS name instead of `<hostname>.local` (repeatable).
    #[arg(long = "dns", value_name = "NAME")]
    pub dns: Vec<String>,
    /// What is served and how.
    #[command(flatten)]
    pub serve: ServeCommon,
    /// Where the site is, or is created.
    #[command(flatten)]
    pub site: SiteArg,
}

/// `pinset revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The client's name, or the certificate's serial number (hex).
    #[arg(value_name = "SERIAL|NAME")]
    pub which: String,
    /// Why (RFC 5280 reason).
    #[arg(long, value_enum, value_name = "REASON")]
    pub reason: ReasonArg,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset release …`.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Record an app release as carrying the site's pins today (what `pinset pin` prints).
    #[command(after_help = "Examples:
  pinset release add 1.0 --platform android,ios
  pinset export okhttp --out app/pinning --release 1.0     the same, from the export")]
    Add(ReleaseAddArgs),
    /// Mark a release as no longer supported: rotation stops protecting it.
    #[command(after_help = "Examples:
  pinset release retire 1.0")]
    Retire(ReleaseRetireArgs),
    /// List the releases, the pins each carries and whether it is supported.
    List(ReleaseListArgs),
}

/// `pinset release add`.
#[derive(Debug, Args)]
pub struct ReleaseAddArgs {
    /// The app's version, as the app names it.
    pub version: String,
    /// The platforms it ships on (export targets), comma-separated.
    #[arg(long, value_name = "PLATFORMS", value_delimiter = ',', value_parser = client_platform)]
    pub platform: Vec<String>,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset pin-expiration`.
#[derive(Debug, Args)]
pub struct PinExpirationArgs {
    /// The last day, YYYY-MM-DD (UTC), or `never` [default: show the current one].
    #[arg(value_name = "DATE|never")]
    pub date: Option<String>,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset release retire`.
#[derive(Debug, Args)]
pub struct ReleaseRetireArgs {
    /// The release's version.
    pub version: String,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset release list`.
#[derive(Debug, Args)]
pub struct ReleaseListArgs {
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    /// Print the releases as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset renew`.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Only this server identity.
    pub name: Option<String>,
    /// Renew certificates ending within this time (`30d`, or days).
    #[arg(long, value_name = "DAYS", default_value = "30d", value_parser = parse_days)]
    pub within: u32,
    /// Validity of the new certificates in days.
    #[arg(long, value_name = "N", default_value_t = 397)]
    pub days: u32,
    /// Say what would be renewed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `30d`, `30`: days.
fn parse_days(s: &str) -> Result<u32, String> {
    let n = s.strip_suffix('d').unwrap_or(s);
    n.parse::<u32>().map_err(|_| format!("{s:?} is not a number of days (e.g. 30d)"))
}

/// `pinset rotate …`.
#[derive(Debug, Subcommand)]
pub enum RotateCommand {
    /// The standby key apps already carry becomes active (with a CA: the standby root signs
    /// the servers' certificates again); the old key stays in exports as retiring.
    #[command(after_help = "Examples:
  pinset rotate promote
  pinset rotate promote --force        cut off the releases named in the refusal")]
    Promote(RotateArgs),
    /// Drop the retiring key from exports and from the site, once no supported release
    /// relies on it.
    #[command(after_help = "Examples:
  pinset rotate retire")]
    Retire(RotateArgs),
}

/// `pinset rotate promote` and `retire`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Go ahead although supported releases stop connecting (they are named).
    #[arg(long)]
    pub force: bool,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the state as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Revocation reasons.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReasonArg {
    /// No reason given.
    Unspecified,
    /// The key was lost, stolen or disclosed.
    KeyCompromise,
    /// The CA key was compromised.
    CaCompromise,
    /// The holder changed.
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// No longer in use.
    CessationOfOperation,
    /// No longer allowed to connect.
    PrivilegeWithdrawn,
}

/// `pinset check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Servers to check: `HOST:PORT`, `[IPv6]:PORT`, `https://HOST[:PORT]/`, or a bare
    /// host (port from --port). None: every address of the site.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// An inventory file: one target a line, `address [name] [site]` (`#` comments; a
    /// site folder is relative to the file's folder).
    #[arg(long = "targets", value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// The port of the site's addresses and of bare hosts.
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub port: u16,
    /// Warning when a certificate of the chain (the site CA's included) ends in fewer days.
    #[arg(long, value_name = "DAYS", default_value_t = 28)]
    pub warn: i64,
    /// Critical when a certificate of the chain ends in fewer days.
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub crit: i64,
    /// Deadline of each target, from the start of its own probe: connecting and the TLS
    /// handshake (`10s`, `1500ms`, `1m`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub timeout: std::time::Duration,
    /// Targets probed at once.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
    /// Print the result as JSON (with --watch, one line per round).
    #[arg(long)]
    pub json: bool,
    /// Check again on an interval until SIGINT or SIGTERM.
    #[arg(long)]
    pub watch: bool,
    /// Time between the starts of two rounds, with --watch.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration, requires = "watch")]
    pub interval: std::time::Duration,
    /// Serve Prometheus metrics of the last round at http://ADDRESS/metrics, with --watch.
    #[arg(long, value_name = "IP:PORT", requires = "watch")]
    pub metrics: Option<std::net::SocketAddr>,
    /// The site the targets' apps trust [default: $PINSET_SITE, else the current folder if
    /// it holds one].
    #[command(flatten)]
    pub site: SiteArg,
}

/// A client platform as `export` names it: a typo would be recorded and never match.
fn client_platform(s: &str) -> Result<String, String> {
    match pinset::export::Target::from_name(s) {
        Some(t) if !t.is_server() => Ok(s.to_string()),
        _ => Err(format!(
            "{s:?} is not a client platform; one of {}",
            pinset::export::Target::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// A duration as people write it: `60s`, `1500ms`, `5m`, `1h`, or a number of seconds.
fn duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{s:?} is not a duration; write 60s, 1500ms, 5m or 1h"))?;
    let d = match unit {
        "" | "s" => std::time::Duration::from_secs(n),
        "ms" => std::time::Duration::from_millis(n),
        "m" | "min" => std::time::Duration::from_secs(n.saturating_mul(60)),
        "h" => std::time::Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("{s:?} has the unit {unit:?}; write 60s, 1500ms, 5m or 1h")),
    };
    if d.is_zero() {
        return Err("a duration of zero; give at least 1ms".into());
    }
    Ok(d)
}

/// `pinset lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// A PEM or DER certificate, or a chain whose first certificate is the server's
    /// (`-` for standard input).
    pub cert: String,
    /// Platforms to check, comma-separated [default: all].
    #[arg(long = "for", value_name = "PLATFORMS", value_delimiter = ',', value_enum)]
    pub platforms: Vec<LintPlatformArg>,
    /// The address clients dial (IP or DNS name): checks that it is named the way each
    /// platform requires.
    #[arg(long, value_name = "DNS|IP")]
    pub name: Option<String>,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Platforms `pinset lint` knows the rules of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintPlatformArg {
    /// iOS and macOS (Apple's trust evaluation).
    #[value(alias = "macos")]
    Ios,
    /// Android (Conscrypt and its hostname verifier).
    Android,
    /// Chrome (Chromium's verifier).
    Chrome,
    /// Java (JSSE).
    Java,
    /// OkHttp (on Android or the JVM).
    Okhttp,
}

/// `pinset export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The platform, or `all` (every client platform); a server (nginx, caddy, haproxy,
    /// node-server, s_server: the box's configuration); or `p12` (a client's PKCS#12 file).
    #[arg(value_name = "TARGET", value_parser = export_targets())]
    pub target: String,
    /// `p12`: the client whose key and certificate go in the file.
    #[arg(value_name = "CLIENT")]
    pub client: Option<String>,
    /// Folder to write into (created if missing; files pinset writes are replaced, others
    /// left alone). Without it, a one-file target prints to stdout. `p12`: the file to write.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Android: also trust the system's CAs for the site's addresses (`src="system"`).
    #[arg(long)]
    pub system_trust: bool,
    /// Only the addresses of this server, or this one address (repeatable) [default: every
    /// address of the site].
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Leave out the addresses of this server, or this one address, e.g. a test server on
    /// 127.0.0.1 (repeatable).
    #[arg(long = "exclude", value_name = "NAME")]
    pub exclude: Vec<String>,
    /// android, ios and the plugins: also trust this CA (an interception proxy's, PEM or
    /// DER) in debug builds only, without pins; release builds are unaffected.
    #[arg(long, value_name = "CA.pem")]
    pub debug_overrides: Option<PathBuf>,
    /// Server targets: the server identity to serve [default: the site's first].
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Server targets: client certificates (mutual TLS), checked against the site's CA and
    /// revocation list.
    #[arg(long, value_enum, value_name = "MODE")]
    pub client_auth: Option<ClientAuthArg>,
    /// Server targets: address to listen on, `IP:PORT` (repeatable) [default: 0.0.0.0:8443
    /// and [::]:8443].
    #[arg(long = "listen", value_name = "ADDR:PORT")]
    pub listen: Vec<std::net::SocketAddr>,
    /// Server targets: the plain-HTTP server to proxy to [default: http://127.0.0.1:8080].
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// `p12`: PKCS#12 encryption (docs/platforms.md says which clients need legacy).
    #[arg(long, value_enum, value_name = "PROFILE")]
    pub profile: Option<P12ProfileArg>,
    /// `p12`: file holding the PKCS#12 password [else $PINSET_P12_PASSWORD, else a prompt].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// `all`: print every warning, not only how many each platform has (the index README
    /// explains them all either way).
    #[arg(short, long)]
    pub verbose: bool,
    /// Record the pins written as those of this app release (see `pinset release`).
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    #[command(flatten)]
    pub wait: WaitArg,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
}

fn export_targets() -> clap::builder::PossibleValuesParser {
    let mut names: Vec<&'static str> = pinset::export::Target::ALL.iter().map(|t| t.name()).collect();
    names.push("all");
    names.extend(pinset::export::Target::SERVERS.iter().map(|t| t.name()));
    names.push("p12");
    clap::builder::PossibleValuesParser::new(names)
}

/// Where the site is.
#[derive(Debug, Args)]
pub struct SiteArg {
    /// The site folder [default: $PINSET_SITE, else the current folder].
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
}

/// How a command that changes a site waits for another one changing it.
#[derive(Debug, Args)]
pub struct WaitArg {
    /// Seconds to wait while another pinset command is changing the site (0: fail at once).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub wait: u64,
}

/// Addresses and certificate options of a server identity.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// An IP address clients dial (IPv4 or IPv6); repeatable.
    #[arg(long = "ip", value_name = "ADDRESS")]
    pub ips: Vec<String>,
    /// A DNS name clients dial (wildcards and .local names allowed); repeatable.
    #[arg(long = "dns", value_name = "NAME")]
    pub dns: Vec<String>,
    /// Key algorithm.
    #[arg(long, value_name = "TYPE", default_value = "p256", value_parser = key_types())]
    pub key_type: String,
    /// Validity in days (Apple rejects server certificates over 825 days).
    #[arg(long, value_name = "N", default_value_t = 397)]
    pub days: u32,
    /// Allow a server certificate longer than Apple's 825 days.
    #[arg(long)]
    pub allow_long_validity: bool,
}

fn key_types() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(["p256", "p384", "ed25519", "rsa2048", "rsa3072", "rsa4096"])
}

/// `pinset init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to create the site in [default: --site, $PINSET_SITE, else the current folder].
    pub dir: Option<PathBuf>,
    /// The site folder (same as DIR).
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    pub site: Option<PathBuf>,
    /// The site's name, used in certificate subjects [default: the folder's name].
    #[arg(long)]
    pub name: Option<String>,
    /// No CA: the server certificate is its own trust anchor.
    #[arg(long)]
    pub self_signed: bool,
    /// What apps pin [default: ca with a private CA, leaf when self-signed].
    #[arg(long, value_enum)]
    pub pin: Option<PinTargetArg>,
    /// Name of the first server identity.
    #[arg(long, default_value = "server", value_name = "NAME")]
    pub server_name: String,
    /// The last day apps enforce the pins, YYYY-MM-DD (UTC) [default: no last day].
    #[arg(long, value_name = "DATE")]
    pub pin_expiration: Option<String>,
    /// Server addresses and certificate options.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Waiting for a busy site.
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What apps pin.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PinTargetArg {
    /// The authority's keys: servers can be re-issued without an app update.
    Ca,
    /// Each server's own keys.
    Leaf,
}

/// `pinset issue …`.
#[derive(Debug, Subcommand)]
pub enum IssueCommand {
    /// A server certificate for IP addresses and DNS names.
    #[command(after_help = "Example:\n  pinset issue server till-3 --ip 192.168.1.23 --dns till-3.local")]
    Server(IssueServerArgs),
    /// A client certificate for mutual TLS, as PEM, DER and PKCS#12.
    #[command(after_help = "Examples:
  PINSET_P12_PASSWORD=… pinset issue client scanner-1
  pinset issue client scanner-1 --password-file pw.txt --p12-profile legacy")]
    Client(IssueClientArgs),
}

/// `pinset issue server`.
#[derive(Debug, Args)]
pub struct IssueServerArgs {
    /// Name of the server identity (a folder under pki/servers/).
    pub name: String,
    /// Server addresses and certificate options.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    /// Waiting for a busy site.
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset issue client`.
#[derive(Debug, Args)]
pub struct IssueClientArgs {
    /// Name of the client (its CN, and a folder under pki/clients/).
    pub name: String,
    /// Key algorithm.
    #[arg(long, value_name = "TYPE", default_value = "p256", value_parser = key_types())]
    pub key_type: String,
    /// Validity in days.
    #[arg(long, value_name = "N", default_value_t = 397)]
    pub days: u32,
    /// PKCS#12 encryption: modern (AES-256, HMAC-SHA256) or legacy (3DES, SHA-1 MAC) for
    /// Android 13 and older, iOS/macOS, Windows before 10 1709, Java before 8u301/11.0.12.
    #[arg(long, value_enum, default_value = "modern")]
    pub p12_profile: P12ProfileArg,
    /// File holding the PKCS#12 password [else $PINSET_P12_PASSWORD, else a prompt].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Where the site is.
    #[command(flatten)]
    pub site: SiteArg,
    /// Waiting for a busy site.
    #[command(flatten)]
    pub wait: WaitArg,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// PKCS#12 profile.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum P12ProfileArg {
    /// PBES2 AES-256-CBC, HMAC-SHA256: Windows 10 1709+, Java 8u301+/11.0.12+, NSS, OpenSSL.
    Modern,
    /// 3DES, HMAC-SHA1: for Android 13 and older, iOS and macOS; Windows, Java, NSS and OpenSSL read it too.
    Legacy,
}

/// `pinset pin`.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// Files to pin (`-` for standard input), or live servers (`https://HOST[:PORT]`,
    /// `HOST:PORT`, `[::1]:PORT`). None: the pins apps should carry for the site.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// How to write each pin.
    #[arg(long, value_enum, default_value = "b64")]
    pub format: FormatArg,
    /// Same as --format json.
    #[arg(long)]
    pub json: bool,
    /// Print whole-certificate SHA-256 fingerprints instead (they change at every renewal,
    /// so they are not pins).
    #[arg(long)]
    pub cert_sha256: bool,
    /// File holding the password of a PKCS#12 input [else $PINSET_P12_PASSWORD, else a prompt].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Server name to send (SNI) when INPUT is a live server.
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Deadline for each live server in seconds: connecting and the TLS handshake.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
    /// Where the site is (pins for apps when no INPUT is given; what a live server is
    /// checked against).
    #[command(flatten)]
    pub site: SiteArg,
}

/// Pin output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Bare base64 (TrustKit, Apple, Android, Chromium).
    B64,
    /// sha256/<b64> (OkHttp).
    Okhttp,
    /// sha256//<b64> (curl --pinnedpubkey).
    Curl,
    /// pin-sha256="<b64>" (RFC 7469).
    Hpkp,
    /// Lower-case hex of the SHA-256.
    Hex,
    /// JSON objects with every field.
    Json,
}

/// `pinset inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A PEM or DER certificate or chain (`-` for standard input).
    pub file: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `pinset verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The certificate to check (PEM or DER; a bundle's first certificate is the leaf, the
    /// rest intermediates).
    pub cert: String,
    /// Intermediate certificates the server would send.
    #[arg(long, value_name = "FILE")]
    pub chain: Option<String>,
    /// A trust anchor (repeatable). Without --ca, the site's anchors and pins are used.
    #[arg(long = "ca", value_name = "FILE")]
    pub cas: Vec<String>,
    /// The server name dialled: a DNS name or an IP address.
    #[arg(long, value_name = "DNS|IP")]
    pub name: String,
    /// Check at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// A pin that must match the validated chain (repeatable; any one passes).
    #[arg(long = "pin", value_name = "PIN")]
    pub pins: Vec<String>,
    /// A certificate revocation list (PEM or DER) to check the chain against (repeatable).
    #[arg(long = "crl", value_name = "FILE")]
    pub crls: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where the site is (used when no --ca is given).
    #[command(flatten)]
    pub site: SiteArg,
}

/// `pinset get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// `https://HOST[:PORT]/PATH` (IPv6 in brackets).
    pub url: String,
    /// A trust anchor (repeatable). Without --ca, the site's anchors and pins are used.
    #[arg(long = "ca", value_name = "FILE")]
    pub cas: Vec<String>,
    /// A pin the validated chain must carry (repeatable; any one passes).
    #[arg(long = "pin", value_name = "PIN")]
    pub pins: Vec<String>,
    /// Client certificate (PEM, leaf first) for mutual TLS; needs --key.
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "p12")]
    pub cert: Option<String>,
    /// Client private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<String>,
    /// Client identity as PKCS#12 (password from --password-file, $PINSET_P12_PASSWORD or a prompt).
    #[arg(long, value_name = "FILE")]
    pub p12: Option<String>,
    /// File holding the PKCS#12 password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Request method [default: GET, or POST with -d].
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// A request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Request body; `@FILE` reads it from a file.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Option<String>,
    /// Write the response body to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Follow redirects (at most 5), only to https:// URLs on the site's own addresses
    /// (without a site: on the host first dialled); each is verified on its own.
    #[arg(short = 'L', long = "location")]
    pub location: bool,
    /// Deadline of the whole request in seconds: connecting, the TLS handshake, the
    /// response and any redirects followed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Print TLS version, cipher, ALPN, the chain with pins, the verdict and the response as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where the site is (used when no --ca is given).
    #[command(flatten)]
    pub site: SiteArg,
}

/// `pinset mitm`.
#[derive(Debug, Args)]
pub struct MitmArgs {
    /// Where to listen: the proxy's address, or where clients dial with --reverse (port 0:
    /// any free port, printed at start).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Stand in front of this one server (for clients that take no proxy setting) instead
    /// of being a CONNECT proxy.
    #[arg(long, value_name = "HOST:PORT")]
    pub reverse: Option<String>,
    /// The attack to play on every connection (repeatable) [default: all of them in turn].
    #[arg(long = "attack", value_name = "ATTACK", value_parser = attack_names())]
    pub attacks: Vec<String>,
    /// Folder of the harness CA, made on the first run and reused so a device installs it
    /// once.
    #[arg(long, value_name = "DIR", default_value = "pinset-mitm")]
    pub ca_dir: PathBuf,
    /// Stop after this long (`90s`, `5m`, or seconds) [default: at Ctrl-C].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub duration: Option<std::time::Duration>,
    /// Seconds a connection may show nothing decisive before it is inconclusive.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub timeout: u64,
    /// One JSON object per line: the start, each verdict, the summary.
    #[arg(long)]
    pub json: bool,
    /// The site under test [default: $PINSET_SITE if set, else none]: the proxy attacks
    /// only its addresses, and cloned-ca copies its CA.
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
}

fn attack_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(pinset_mitm::Attack::ALL.map(|a| a.name()))
}

/// `pinset testbed`.
#[derive(Debug, Args)]
pub struct TestbedArgs {
    /// The address to serve on; the certificates name it (use a site address).
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub listen: String,
    /// The first port; the endpoints take the ports that follow (0: any free ports).
    #[arg(long, value_name = "N", default_value_t = 9400)]
    pub first_port: u16,
    /// Stop after this long (`90s`, `5m`, or seconds) [default: at Ctrl-C].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub duration: Option<std::time::Duration>,
    /// Seconds a connection may show nothing decisive before it is inconclusive.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub timeout: u64,
    /// One JSON object per line: the catalogue, each verdict, the summary.
    #[arg(long)]
    pub json: bool,
    /// Where the site is (its CA signs the endpoints' certificates).
    #[command(flatten)]
    pub site: SiteArg,
}
