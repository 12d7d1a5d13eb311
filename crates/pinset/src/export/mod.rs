//! Pinning configuration for client platforms: a site plan turned into the files an app
//! developer pastes into an app, written to each platform's own rules (see docs/platforms.md),
//! with a [`Warning`] wherever a platform cannot do what the plan asks.
//!
//! Exports are deterministic: the same plan and certificates give byte-identical files
//! (no dates, no random names, a fixed order), so they can live in version control and a
//! diff shows exactly what a rotation changed.

use std::path::{Component, Path};

use crate::error::{Error, Result};
pub use crate::trust::{Anchor, ServerTrust, SiteTrust, TrustPin};

mod android;
mod capacitor;
mod chromium;
mod cordova;
mod curl;
mod debug;
mod dotnet;
mod flutter;
mod go;
mod index;
mod ios;
mod java;
mod mobile;
mod node;
mod okhttp;
mod plugin;
mod profile;
mod python;
mod react_native;
mod rust;
mod server;
mod template;
mod trustkit;

pub use debug::DebugAnchor;
pub use server::{ClientAuth, Deployment};

/// A client platform pinset writes configuration for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Android Network Security Config (XML, anchors in `res/raw`).
    Android,
    /// iOS/macOS: URLSession delegate code (IP hosts) and ATS `NSPinnedDomains` (DNS names).
    Ios,
    /// TrustKit configuration (iOS).
    Trustkit,
    /// OkHttp `CertificatePinner` with a trust manager for the site's anchors (Kotlin, Java).
    Okhttp,
    /// react-native-ssl-public-key-pinning.
    ReactNative,
    /// cordova-plugin-advanced-http, pinned mode.
    Cordova,
    /// @capgo/capacitor-ssl-pinning.
    Capacitor,
    /// A Cordova plugin of the site's own: `pinset.fetch` in native code (Swift, OkHttp).
    CordovaPlugin,
    /// A Capacitor plugin of the site's own, with TypeScript definitions.
    CapacitorPlugin,
    /// Flutter/Dart: `SecurityContext` with the anchors and an SPKI check.
    Flutter,
    /// curl `--cacert` and `--pinnedpubkey`.
    Curl,
    /// Chromium `--ignore-certificate-errors-spki-list`.
    Chromium,
    /// Node.js `https.Agent` with `checkServerIdentity`.
    Node,
    /// Go `tls.Config` with `VerifyConnection`.
    Go,
    /// Java (JDK only): an `X509ExtendedTrustManager` that checks pins.
    Java,
    /// .NET `HttpClientHandler` validation callback.
    Dotnet,
    /// Rust: reqwest with pinset-tls's `SiteVerifier`.
    Rust,
    /// Python: `ssl` module context and an SPKI check.
    Python,
    /// nginx: a `server` block serving one server identity (the box's side, not an app's).
    Nginx,
    /// Caddy: a site block serving one server identity.
    Caddy,
    /// HAProxy: a frontend and backend serving one server identity.
    Haproxy,
    /// Node.js: an `https` server (a reverse proxy) serving one server identity.
    NodeServer,
    /// `openssl s_server`: a script serving one server identity, for trying a client.
    SServer,
}

impl Target {
    /// Every client target, in the order `export all` writes them.
    pub const ALL: [Target; 18] = [
        Target::Android,
        Target::Ios,
        Target::Trustkit,
        Target::Okhttp,
        Target::ReactNative,
        Target::Cordova,
        Target::Capacitor,
        Target::CordovaPlugin,
        Target::CapacitorPlugin,
        Target::Flutter,
        Target::Curl,
        Target::Chromium,
        Target::Node,
        Target::Go,
        Target::Java,
        Target::Dotnet,
        Target::Rust,
        Target::Python,
    ];

    /// The server targets: configuration for the box that serves a server identity. They
    /// name files of the site by path ([`Deployment`]), so `export all` leaves them out.
    pub const SERVERS: [Target; 5] =
        [Target::Nginx, Target::Caddy, Target::Haproxy, Target::NodeServer, Target::SServer];

    /// Whether this is a server target (see [`Target::SERVERS`]).
    pub fn is_server(self) -> bool {
        Target::SERVERS.contains(&self)
    }

    /// Whether the target can trust an extra CA in debuggable builds only
    /// ([`Options::debug_ca`]).
    pub fn has_debug_overrides(self) -> bool {
        matches!(self, Target::Android | Target::Ios | Target::CordovaPlugin | Target::CapacitorPlugin)
    }

    /// The name on the command line and the folder `export all` writes it to.
    pub fn name(self) -> &'static str {
        match self {
            Target::Android => "android",
            Target::Ios => "ios",
            Target::Trustkit => "trustkit",
            Target::Okhttp => "okhttp",
            Target::ReactNative => "react-native",
            Target::Cordova => "cordova",
            Target::Capacitor => "capacitor",
            Target::CordovaPlugin => "cordova-plugin",
            Target::CapacitorPlugin => "capacitor-plugin",
            Target::Flutter => "flutter",
            Target::Curl => "curl",
            Target::Chromium => "chromium",
            Target::Node => "node",
            Target::Go => "go",
            Target::Java => "java",
            Target::Dotnet => "dotnet",
            Target::Rust => "rust",
            Target::Python => "python",
            Target::Nginx => "nginx",
            Target::Caddy => "caddy",
            Target::Haproxy => "haproxy",
            Target::NodeServer => "node-server",
            Target::SServer => "s_server",
        }
    }

    /// The target named `name` (as [`Target::name`] spells it).
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().chain(Target::SERVERS).find(|t| t.name() == name)
    }

    /// One line: what the export is.
    pub fn summary(self) -> &'static str {
        match self {
            Target::Android => "Android Network Security Config: per-address pin-sets and the anchors as raw resources",
            Target::Ios => {
                "iOS/macOS: a URLSession delegate that trusts the site's anchors and checks pins, and ATS pins for DNS names"
            }
            Target::Trustkit => "TrustKit configuration (iOS) for the DNS names",
            Target::Okhttp => "OkHttp CertificatePinner and a trust manager for the site's anchors (Kotlin and Java)",
            Target::ReactNative => "react-native-ssl-public-key-pinning configuration",
            Target::Cordova => "cordova-plugin-advanced-http pinned mode: certificate files and the call",
            Target::Capacitor => "@capgo/capacitor-ssl-pinning: certificate files and the plugin configuration",
            Target::CordovaPlugin => {
                "a Cordova plugin of the site's own: pinset.fetch() in native code (Swift URLSession delegate, OkHttp), IP hosts on iOS too"
            }
            Target::CapacitorPlugin => {
                "a Capacitor plugin of the site's own: Pinset.fetch() in native code, with TypeScript definitions"
            }
            Target::Flutter => "Flutter/Dart: a SecurityContext with the anchors and an SPKI check",
            Target::Curl => "curl: --cacert and --pinnedpubkey (leaf keys)",
            Target::Chromium => "Chromium: --ignore-certificate-errors-spki-list (leaf keys)",
            Target::Node => "Node.js: an https.Agent with the anchors and a pin check",
            Target::Go => "Go: a tls.Config with the anchors and a VerifyConnection pin check",
            Target::Java => "Java (JDK only): a trust manager with the anchors and a pin check",
            Target::Dotnet => ".NET: an HttpClientHandler that validates against the anchors and checks pins",
            Target::Rust => "Rust: a reqwest client on pinset-tls's SiteVerifier, built from the site's data",
            Target::Python => "Python: an ssl context with the anchors and an SPKI check",
            Target::Nginx => {
                "nginx: a server block with the full chain, TLS 1.2+ and (mutual TLS) the client CA, CRL and identity headers"
            }
            Target::Caddy => {
                "Caddy: a site block with the full chain, TLS 1.2+ and (mutual TLS) the client CA and identity headers"
            }
            Target::Haproxy => {
                "HAProxy: a frontend and backend with the full chain, TLS 1.2+ and (mutual TLS) the client CA, CRL and identity headers"
            }
            Target::NodeServer => {
                "Node.js: an https reverse proxy with the full chain, TLS 1.2+ and (mutual TLS) the client CA, CRL and identity headers"
            }
            Target::SServer => {
                "openssl s_server: a script that serves the full chain (-cert_chain), TLS 1.2+, and (mutual TLS) the client CA and CRL"
            }
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Choices that change what an export contains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Android: also trust the system's CAs for the site's addresses (`src="system"`).
    /// Off by default: the site's anchors alone are what makes a pin meaningful.
    pub system_trust: bool,
    /// A CA trusted in debuggable builds only, without pins, for an interception proxy a
    /// team inspects its own app's traffic with (targets with
    /// [`Target::has_debug_overrides`]). Release builds are unaffected.
    pub debug_ca: Option<DebugAnchor>,
    /// The server targets: which server identity, where its files are, mutual TLS. Without
    /// one, a server target serves the first server with paths relative to the site folder.
    pub deployment: Option<Deployment>,
}

/// `s` as a lower-case identifier fragment: every character outside `[a-z0-9]` becomes `_`.
pub fn ident(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

/// One file of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFile {
    /// Path relative to the target's folder, `/`-separated.
    pub path: String,
    /// The bytes.
    pub contents: Vec<u8>,
    /// Written with mode 0755 (a script) rather than 0644.
    pub executable: bool,
    /// Written with mode 0600: it holds a private key.
    pub secret: bool,
    /// One line for the index README: what the file is and where it goes.
    pub about: String,
}

impl ExportFile {
    /// A text file.
    pub fn text(path: impl Into<String>, contents: impl Into<String>, about: impl Into<String>) -> ExportFile {
        ExportFile {
            path: path.into(),
            contents: contents.into().into_bytes(),
            executable: false,
            secret: false,
            about: about.into(),
        }
    }

    /// A binary file.
    pub fn binary(path: impl Into<String>, contents: Vec<u8>, about: impl Into<String>) -> ExportFile {
        ExportFile { path: path.into(), contents, executable: false, secret: false, about: about.into() }
    }

    /// This file, executable.
    pub fn executable(mut self) -> ExportFile {
        self.executable = true;
        self
    }

    /// This file, readable by its owner only.
    pub fn secret(mut self) -> ExportFile {
        self.secret = true;
        self
    }
}

/// Something the plan asks that a platform cannot do, or a risk the platform's rules
/// carry; printed on stderr by `pinset export`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The target it concerns.
    pub target: Target,
    /// A short, stable name of the rule, like `trustkit-two-pins` or `ats-no-ip`.
    pub rule: &'static str,
    /// What happens and what pinset did about it.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]: {}", self.target, self.rule, self.message)
    }
}

/// The export of one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The target.
    pub target: Target,
    /// Its files, in a fixed order.
    pub files: Vec<ExportFile>,
    /// Where the platform falls short of the plan.
    pub warnings: Vec<Warning>,
    /// A few lines for the index README: how to put the files in an app.
    pub usage: String,
}

impl Export {
    /// A new, empty export of `target`.
    pub fn new(target: Target) -> Export {
        Export { target, files: Vec::new(), warnings: Vec::new(), usage: String::new() }
    }

    /// Records a warning.
    pub fn warn(&mut self, rule: &'static str, message: impl Into<String>) {
        self.warnings.push(Warning { target: self.target, rule, message: message.into() });
    }
}

/// Writes the configuration of `target` for the site described by `model`.
pub fn export(model: &SiteTrust, target: Target, options: &Options) -> Export {
    let export = match target {
        Target::Android => android::render(model, options),
        Target::Ios => ios::render(model, options),
        Target::Trustkit => trustkit::render(model, options),
        Target::Okhttp => okhttp::render(model, options),
        Target::ReactNative => react_native::render(model, options),
        Target::Cordova => cordova::render(model, options),
        Target::Capacitor => capacitor::render(model, options),
        Target::CordovaPlugin => plugin::render_cordova(model, options),
        Target::CapacitorPlugin => plugin::render_capacitor(model, options),
        Target::Flutter => flutter::render(model, options),
        Target::Curl => curl::render(model, options),
        Target::Chromium => chromium::render(model, options),
        Target::Node => node::render(model, options),
        Target::Go => go::render(model, options),
        Target::Java => java::render(model, options),
        Target::Dotnet => dotnet::render(model, options),
        Target::Rust => rust::render(model, options),
        Target::Python => python::render(model, options),
        Target::Nginx | Target::Caddy | Target::Haproxy | Target::NodeServer | Target::SServer => {
            return server::render(model, target, options);
        }
    };
    let mut export = export;
    export.warnings.extend(common_warnings(model, target));
    export
}

/// Every target, each in its own folder, and a `README.md` index explaining each file and
/// where it goes.
pub fn export_all(model: &SiteTrust, options: &Options) -> (Vec<ExportFile>, Vec<Warning>) {
    let exports: Vec<Export> = Target::ALL.iter().map(|t| export(model, *t, options)).collect();
    let mut files = vec![index::render(model, &exports)];
    let mut warnings = Vec::new();
    for e in exports {
        files.extend(e.files.into_iter().map(|f| ExportFile { path: format!("{}/{}", e.target.name(), f.path), ..f }));
        warnings.extend(e.warnings);
    }
    (files, warnings)
}

/// Warnings every target shares: the rotation rules of docs/platforms.md, and pins whose
/// last day is past or near (an export of already-expired pin-sets turns pinning off
/// without a word).
fn common_warnings(model: &SiteTrust, target: Target) -> Vec<Warning> {
    let mut out = Vec::new();
    let expiry = model.pin_expiry(time::OffsetDateTime::now_utc().date());
    if let Some(message) = expiry.warning() {
        let rule = match expiry {
            crate::trust::PinExpiry::Expired { .. } => "pins-expired",
            _ => "pins-expire-soon",
        };
        out.push(Warning { target, rule, message });
    }
    for s in &model.servers {
        let pins = match target {
            Target::Curl | Target::Chromium => &s.leaf_pins,
            _ => &s.pins,
        };
        if pins.len() < 2 {
            let hint = match target {
                Target::Curl | Target::Chromium => {
                    "this platform checks only the server's own key, and in a CA site servers have no standby key; \
                     re-export after every server key change"
                }
                _ => "give the plan a standby key (`pinset init` issues one) so apps ship a backup pin",
            };
            out.push(Warning {
                target,
                rule: "backup-pin",
                message: format!(
                    "server {} has {} pin: when that key is replaced, apps carrying this export cannot connect to it; {hint}",
                    s.name,
                    pins.len()
                ),
            });
        }
    }
    out
}

/// Writes `files` under `out`, each atomically, creating folders as needed. Refuses a
/// path that would leave `out`.
pub fn write_files(out: &Path, files: &[ExportFile]) -> Result<Vec<std::path::PathBuf>> {
    if out.exists() && !out.is_dir() {
        return Err(Error::bad_value(
            "export folder",
            &out.display().to_string(),
            "is a file, not a folder",
            Some("give a folder to write the export into (it is created if missing)"),
        ));
    }
    let mut written = Vec::new();
    for f in files {
        let rel = Path::new(&f.path);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(Error::bad_value("export path", &f.path, "leaves the output folder", None));
        }
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            crate::atomic::create_dir_all(parent)?;
        }
        let mode = if f.secret {
            crate::atomic::SECRET_MODE
        } else if f.executable {
            0o755
        } else {
            crate::atomic::PUBLIC_MODE
        };
        crate::atomic::write(&path, &f.contents, mode)?;
        written.push(path);
    }
    Ok(written)
}

/// Helpers the renderers share for writing code and configuration text.
pub(crate) mod text {
    use super::{SiteTrust, TrustPin};

    /// The first lines every generated file carries (without comment markers): where it
    /// came from and how to refresh it.
    pub fn provenance(model: &SiteTrust, target: &str) -> [String; 2] {
        [
            format!(
                "Written by `pinset export {target}` for site \"{}\". Do not edit by hand:",
                comment_safe(&model.site)
            ),
            "run the export again after every key rotation and ship the result.".to_string(),
        ]
    }

    /// `pinset-anchors.pem`, the anchors file of the code targets: a `#` provenance comment
    /// and a line per anchor, then the PEM bundle, active first. Every reader pinset exports
    /// for (OpenSSL's, so curl's and Python's; Node's; Go's `AppendCertsFromPEM`;
    /// rustls-pki-types') skips text before the first `-----BEGIN`.
    pub fn anchors_pem_file(model: &SiteTrust, target: &str) -> String {
        let mut out = comment("# ", &provenance(model, target));
        out.push_str("#\n");
        for a in &model.anchors {
            out.push_str(&comment("# ", &[format!("{} anchor: {}, pin {}", a.role, a.subject, a.pin.to_base64())]));
        }
        out.push_str(&model.anchors_pem());
        out
    }

    /// `lines`, each made safe by [`comment_safe`] and prefixed by `prefix` (`// `, `# `),
    /// trailing spaces trimmed.
    pub fn comment(prefix: &str, lines: &[String]) -> String {
        lines.iter().map(|l| format!("{}\n", format!("{prefix}{}", comment_safe(l)).trim_end())).collect()
    }

    /// `s` made safe inside a comment of any language pinset writes, whatever a site name or
    /// a certificate subject holds: a line break (control characters, U+2028 and U+2029,
    /// which end a `//` comment in JavaScript and C#) becomes a space, a backslash `_` (javac
    /// reads `\u000a` as a line break even in a comment), and `*/` and `/*` are split by `_`
    /// (they would end a block comment, or in Kotlin and Swift open a nested one).
    pub fn comment_safe(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut prev = ' ';
        for c in s.chars() {
            let c = match c {
                c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => ' ',
                '\\' => '_',
                c => c,
            };
            if (prev == '*' && c == '/') || (prev == '/' && c == '*') {
                out.push('_');
            }
            out.push(c);
            prev = c;
        }
        out
    }

    /// `s` as a single-quoted POSIX shell word. What pinset writes there is ASCII (names,
    /// addresses, base64); anything else outside printable ASCII becomes `_`, and a `'`
    /// closes the word, adds an escaped quote and opens it again.
    pub fn sh_quote(s: &str) -> String {
        let clean: String = s.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
        format!("'{}'", clean.replace('\'', r"'\''"))
    }

    /// The pins as bare base64.
    pub fn b64(pins: &[TrustPin]) -> Vec<String> {
        pins.iter().map(|p| p.pin.to_base64()).collect()
    }

    /// `s` as a double-quoted string literal valid in JSON, JavaScript, Java, Kotlin, Go,
    /// C#, Rust, Swift, Dart and Python. What pinset quotes is ASCII (site and server names,
    /// addresses, base64, dates); anything else, and `$` (Kotlin and Dart interpolate it),
    /// becomes `_` so no language ever reads an escape or a template.
    pub fn quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' | '\\' | '$' => out.push('_'),
                c if c.is_ascii_graphic() || c == ' ' => out.push(c),
                _ => out.push('_'),
            }
        }
        out.push('"');
        out
    }

    /// The pins as quoted base64 literals, one a line: `{indent}"b64",{gap}{marker} ROLE key of OWNER`,
    /// for the pin tables of the code targets (`marker` is the language's line comment).
    pub fn pin_list(pins: &[TrustPin], indent: &str, gap: &str, marker: &str) -> String {
        pins.iter()
            .map(|p| {
                format!(
                    "{indent}{},{gap}{marker} {} key of {}\n",
                    quote(&p.pin.to_base64()),
                    p.role,
                    comment_safe(&p.owner.to_string())
                )
            })
            .collect()
    }

    /// A one-line description of a pin for a comment: `b64  (active authority key)`.
    pub fn describe(p: &TrustPin) -> String {
        format!("{} ({} key of {})", p.pin.to_base64(), p.role, p.owner)
    }
}

#[cfg(test)]
mod tests {
    use super::text::{comment, comment_safe, quote, sh_quote};
    use super::{SiteTrust, Target};

    #[test]
    fn comments_cannot_be_left_whatever_the_text() {
        assert_eq!(comment_safe("a\nb\r\u{2028}c\u{2029}d\u{85}e"), "a b  c d e");
        assert_eq!(comment_safe("x */ y /* z"), "x *_/ y /_* z");
        assert_eq!(comment_safe("\\u000a"), "_u000a");
        assert_eq!(comment("// ", &["site \"a\nrm -rf /\"".into(), "".into()]), "// site \"a rm -rf /\"\n//\n");
    }

    /// A site name and an anchor subject that try every way out of a string, a comment, a
    /// shell word, XML, or a template: quotes, comment ends, line breaks (javac reads
    /// `\u000a` as one), command substitution, interpolation, CDATA and comment closers, and
    /// a placeholder. The name stays on one line (the plan refuses others); the subject comes
    /// from a certificate, which may hold anything.
    const HOSTILE_NAME: &str = "x\"'`$(pwned)${pwned}$pwned{{site}}*/ /* \\u000a </x> ]]> --> <!-- \u{2028}#%&;";
    const HOSTILE_SUBJECT: &str = "CN=evil\nforged\r\u{1b}[31m\u{7}\"'`*/ /* --> </string> ]]> $(pwned) {{site}}";

    fn shop() -> SiteTrust {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sites/shop");
        crate::Site::open(&dir).and_then(|site| site.trust()).expect("the fixture site shop")
    }

    fn with(base: &SiteTrust, name: &str, subject: &str) -> SiteTrust {
        let mut t = base.clone();
        t.site = name.to_string();
        for a in &mut t.anchors {
            a.subject = subject.to_string();
        }
        t
    }

    /// Every form in which an escaper writes `s`, without the quotes a quoting escaper puts
    /// around it, longest first.
    fn escaped_forms(s: &str) -> Vec<String> {
        let unquote = |q: String| q[1..q.len() - 1].to_string();
        let mut forms = vec![
            unquote(quote(s)),
            comment_safe(s),
            comment_safe(&unquote(quote(s))),
            unquote(sh_quote(s)),
            quick_xml::escape::escape(s).into_owned(),
            super::mobile::comment_text(s),
            super::mobile::comment_text(&comment_safe(s)),
            super::ident(s),
            super::mobile::file_part(s),
            unquote(serde_json::to_string(s).unwrap_or_default()),
            unquote(serde_json::to_string(&comment_safe(s)).unwrap_or_default()),
        ];
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        forms
    }

    /// `text` with every escaped form of every value replaced by a marker naming the value.
    fn masked(text: &str, values: &[(&str, &str)]) -> String {
        let mut out = text.to_string();
        for (marker, value) in values {
            for form in escaped_forms(value) {
                out = out.replace(&form, marker);
            }
        }
        out
    }

    /// Whatever a site name or a certificate subject holds, it reaches every file of every
    /// target only through an escaper: the files of a hostile site are the files of a benign
    /// one with each value in one of its escaped forms, line for line (no line break, quote,
    /// comment end or placeholder of the value survives; the escapers' own tests show what
    /// each form can hold).
    #[test]
    fn hostile_text_stays_in_its_place() {
        let base = shop();
        let benign = with(&base, "benignsite", "CN=benign subject");
        let hostile = with(&base, HOSTILE_NAME, HOSTILE_SUBJECT);
        let options = super::Options::default();
        for target in Target::ALL {
            let good = super::export(&benign, target, &options);
            let bad = super::export(&hostile, target, &options);
            assert_eq!(good.files.len(), bad.files.len(), "{target}");
            for (g, b) in good.files.iter().zip(&bad.files) {
                let (Ok(g_text), Ok(b_text)) = (std::str::from_utf8(&g.contents), std::str::from_utf8(&b.contents))
                else {
                    continue;
                };
                assert_eq!(g_text.lines().count(), b_text.lines().count(), "{target}/{}: a line break got in", b.path);
                let g_masked = masked(g_text, &[("<SITE>", "benignsite"), ("<SUBJECT>", "CN=benign subject")]);
                let b_masked = masked(b_text, &[("<SITE>", HOSTILE_NAME), ("<SUBJECT>", HOSTILE_SUBJECT)]);
                for (n, (gl, bl)) in g_masked.lines().zip(b_masked.lines()).enumerate() {
                    assert_eq!(bl, gl, "{target}/{} line {}: the hostile value left its escaped form", b.path, n + 1);
                }
            }
        }
    }
}
