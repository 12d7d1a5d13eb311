//! Certificate rules the client platforms enforce: will iOS/macOS, Android, Chrome, Java and
//! OkHttp accept this certificate for this address? Each [`Finding`] names its [`Rule`], the
//! platforms it affects with a [`Severity`] each, the value in question, what to do about it
//! and the rule's source.
//!
//! The facts come from PLATFORMS.md ("Certificate rules the platforms enforce") and the
//! sources each rule cites. OkHttp checks names with its own hostname verifier (no CN
//! fallback) but leaves chain validation to the platform's trust manager, so for chain rules
//! it gets the stricter verdict of Android and Java.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::ser::SerializeStruct as _;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::cert::{self, San};
use crate::error::{Error, Result};
use crate::pki::{APPLE_MAX_SERVER_DAYS, LEAF_VALIDITY_DAYS};

/// A client platform whose certificate rules pinset knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// iOS and macOS: Apple's trust evaluation.
    Ios,
    /// Android: Conscrypt's trust manager and the platform hostname verifier.
    Android,
    /// Chrome: Chromium's certificate verifier.
    Chrome,
    /// Java: JSSE's trust manager and hostname checker.
    Java,
    /// OkHttp on Android or the JVM: its own hostname verifier, the platform's trust manager.
    Okhttp,
}

impl Platform {
    /// Every platform, in the order reports list them.
    pub const ALL: [Platform; 5] =
        [Platform::Ios, Platform::Android, Platform::Chrome, Platform::Java, Platform::Okhttp];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Chrome => "chrome",
            Platform::Java => "java",
            Platform::Okhttp => "okhttp",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Platform {
    type Err = Error;
    fn from_str(s: &str) -> Result<Platform> {
        let lower = s.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "macos" | "apple" => "ios",
            other => other,
        };
        Platform::ALL.into_iter().find(|p| p.name() == alias).ok_or_else(|| {
            Error::bad_value(
                "platform",
                s,
                "is not one pinset lints for",
                Some("use ios, android, chrome, java or okhttp"),
            )
        })
    }
}

/// How a platform treats a certificate a rule fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The platform refuses the connection.
    Reject,
    /// The platform accepts it, but it is risky: close to expiry, below a baseline, or
    /// refused by some versions or configurations.
    Warn,
}

impl Severity {
    /// The stricter of two severities.
    pub fn stricter(self, other: Severity) -> Severity {
        if self == Severity::Reject || other == Severity::Reject { Severity::Reject } else { Severity::Warn }
    }

    /// The word reports use: "reject" or "warn".
    pub fn name(self) -> &'static str {
        match self {
            Severity::Reject => "reject",
            Severity::Warn => "warn",
        }
    }
}

/// One platform's severity for a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Effect {
    /// The platform.
    pub platform: Platform,
    /// What it does with the certificate.
    pub severity: Severity,
}

/// A rule: its stable id and the source that states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// Stable identifier, as reports and JSON name it (`apple-825-days`).
    pub id: &'static str,
    /// A short citation of where the rule comes from.
    pub source: &'static str,
}

/// Apple refuses a TLS server certificate issued since 2019-07-01 that is valid for more
/// than 825 days, whatever its root.
pub const APPLE_825_DAYS: Rule = Rule {
    id: "apple-825-days",
    source: "Apple HT210176, Requirements for trusted certificates in iOS 13 and macOS 10.15: TLS server \
             certificates issued after 2019-07-01 must have a validity period of 825 days or fewer",
};
/// Apple requires an extendedKeyUsage extension with serverAuth on server certificates
/// issued since 2019-07-01; without one, iOS and macOS refuse the connection.
pub const NO_EKU: Rule = Rule {
    id: "no-eku",
    source: "Apple HT210176: TLS server certificates issued after 2019-07-01 must contain an extendedKeyUsage \
             extension with id-kp-serverAuth",
};
/// An extendedKeyUsage without serverAuth forbids TLS server use: every verifier refuses it
/// (anyExtendedKeyUsage satisfies all but Apple).
pub const EKU_WITHOUT_SERVER_AUTH: Rule = Rule {
    id: "eku-without-server-auth",
    source: "RFC 5280 §4.2.1.12; Java (JSSE EndEntityChecker): an extendedKeyUsage, if present, must include \
             serverAuth; Apple HT210176; Chromium and Android check it too",
};
/// Apple wants RSA keys of at least 2048 bits in servers and issuing CAs; the others refuse
/// only below 1024 bits and merely fall short of the baseline between the two.
pub const RSA_BELOW_2048: Rule = Rule {
    id: "rsa-below-2048",
    source: "Apple HT210176: RSA keys of 2048 bits or more; CA/Browser Forum Baseline Requirements §6.1.5; below \
             1024 bits Chrome, Android (Conscrypt ChainStrengthAnalyzer) and Java (jdk.certpath.disabledAlgorithms \
             RSA keySize < 1024) refuse",
};
/// SHA-1 signatures can be forged (SHAttered, 2017): Apple, Chrome and Android refuse them;
/// Java refuses them only under its own bundled roots.
pub const SHA1_SIGNATURE: Rule = Rule {
    id: "sha1-signature",
    source: "Apple HT210176: SHA-2 signatures only; Chrome refuses SHA-1 since version 57; Android Conscrypt \
             ChainStrengthAnalyzer; Java disables SHA-1 only for chains to its own roots \
             (jdk.certpath.disabledAlgorithms: SHA1 jdkCA & usage TLSServer)",
};
/// MD5 (and MD2, MD4) signatures are broken: every platform refuses them.
pub const MD5_SIGNATURE: Rule = Rule {
    id: "md5-signature",
    source: "RFC 6151; Apple HT210176 (SHA-2 only); Chrome; Android Conscrypt ChainStrengthAnalyzer; Java \
             jdk.certpath.disabledAlgorithms (MD2, MD5)",
};
/// EdDSA (Ed25519, Ed448) certificates: Apple's trust evaluation and Chromium's verifier have
/// none; Java has Ed25519 from version 15, Android only on recent versions.
pub const EDDSA_KEY: Rule = Rule {
    id: "eddsa-key",
    source: "Chromium's certificate verifier and Apple's trust evaluation accept RSA and ECDSA keys only; Java 15+ \
             (JEP 339: EdDSA); Android's support depends on its version",
};
/// JSSE and BoringSSL (Chrome, Android) check keyUsage against the handshake: ECDHE and TLS
/// 1.3 need digitalSignature, TLS 1.2 RSA key exchange keyEncipherment.
pub const KEY_USAGE_MISMATCH: Rule = Rule {
    id: "key-usage-mismatch",
    source: "Java (JSSE EndEntityChecker): keyUsage must fit the key exchange (digitalSignature for ECDHE and TLS \
             1.3, keyEncipherment for RSA key exchange); BoringSSL (Chrome, Android's Conscrypt) enforces keyUsage \
             for ECDSA keys and in TLS 1.3; RFC 5280 §4.2.1.3",
};
/// A CA certificate (cA=TRUE) used as the server's: the five platforms accept it, but
/// Chromium flags it and rustls/webpki (pinset verify, pinset get, PinnedVerifier) refuse it.
pub const CA_CERT_AS_SERVER: Rule = Rule {
    id: "ca-cert-as-server",
    source: "RFC 5280 §4.2.1.9; CA/Browser Forum Baseline Requirements 1.8.4 §7.1.2.3 (d): a server certificate \
             is not a CA; Chromium warns (kTargetCertShouldNotBeCa); rustls-webpki refuses it (CaUsedAsEndEntity)",
};
/// Names only in the subject CN: Chrome, Apple, OkHttp and Android ignore the CN; Java
/// still falls back to it, for DNS names only.
pub const NO_SAN_CN_ONLY: Rule = Rule {
    id: "no-san-cn-only",
    source: "Apple HT210176: names in the subjectAltName only, the CN is ignored; Chrome 58+: SAN required; \
             Android 9+ and OkHttp: no CN fallback; Java HostnameChecker falls back to the CN for DNS names only, \
             and needs an iPAddress SAN for an IP",
};
/// The address dialled is in the CN but not in a SAN of its type.
pub const NAME_ONLY_IN_CN: Rule = Rule {
    id: "name-only-in-cn",
    source: "Apple HT210176: the CN is ignored; Chrome 58+; Android 9+ and OkHttp: no CN fallback; Java \
             HostnameChecker uses the CN only for a DNS name when the certificate has no dNSName SAN",
};
/// An IP address written as a dNSName SAN matches nothing: clients compare IP hosts only
/// with iPAddress SANs.
pub const IP_ONLY_AS_DNS_SAN: Rule = Rule {
    id: "ip-only-as-dns-san",
    source: "RFC 2818 §3.1: for an IP address, the iPAddress subjectAltName must be present and match exactly; \
             Apple, Chrome, Java (HostnameChecker) and OkHttp compare an IP host with iPAddress SANs only",
};
/// The address dialled is in no SAN: every platform's hostname check fails.
pub const NAME_NOT_IN_SAN: Rule = Rule {
    id: "name-not-in-san",
    source: "RFC 2818 §3.1 / RFC 6125 §6.4: the name dialled must match a subjectAltName of its type",
};
/// A CA of the chain constrains names (nameConstraints) and a name of the server's
/// certificate falls outside: path validation fails.
pub const NAME_CONSTRAINTS: Rule = Rule {
    id: "name-constraints",
    source: "RFC 5280 §4.2.1.10 and §6.1.3 (b), (c): every platform applies an intermediate's nameConstraints; \
             Chrome also applies a locally trusted root's (RFC 5937 trust anchor constraints), Java and Android do \
             not",
};
/// Past notAfter a certificate is refused everywhere.
pub const EXPIRED: Rule = Rule {
    id: "expired",
    source: "RFC 5280 §4.1.2.5 / §6.1.3 (a)(2): a certificate is valid only from notBefore to notAfter",
};
/// Before notBefore a certificate is refused everywhere (often a device clock running slow).
pub const NOT_YET_VALID: Rule = Rule {
    id: "not-yet-valid",
    source: "RFC 5280 §4.1.2.5 / §6.1.3 (a)(2): a certificate is valid only from notBefore to notAfter",
};
/// A certificate about to expire must be renewed and deployed before it stops every client.
pub const EXPIRES_SOON: Rule = Rule {
    id: "expires-soon",
    source: "RFC 5280 §4.1.2.5; pinset warns 30 days ahead so a renewal reaches every server in time",
};
/// A chain certificate that signs another needs cA=TRUE and, with a keyUsage, keyCertSign.
pub const ISSUER_NOT_CA: Rule = Rule {
    id: "issuer-not-ca",
    source: "RFC 5280 §6.1.4 (k), (n): an issuing certificate needs basicConstraints cA=TRUE and, with keyUsage, \
             keyCertSign; Chrome applies the same to a locally trusted root (RFC 5937)",
};
/// A root installed by hand on iOS must be enabled in Certificate Trust Settings, which
/// lists roots by their CN: without one it cannot be enabled.
pub const ROOT_WITHOUT_CN: Rule = Rule {
    id: "root-without-cn",
    source: "Apple HT204477, Trust manually installed certificate profiles in iOS: a root must be enabled in \
             Settings > General > About > Certificate Trust Settings, which lists it by its CN",
};
/// An extension pinset cannot read (duplicated or malformed) makes clients refuse the
/// certificate.
pub const MALFORMED_EXTENSION: Rule = Rule {
    id: "malformed-extension",
    source: "RFC 5280 §4.2: each extension at most once, in its defined syntax; clients refuse certificates they \
             cannot parse",
};

/// Every rule, in the order reports list them.
pub const RULES: [Rule; 20] = [
    MALFORMED_EXTENSION,
    EXPIRED,
    NOT_YET_VALID,
    EXPIRES_SOON,
    APPLE_825_DAYS,
    NO_EKU,
    EKU_WITHOUT_SERVER_AUTH,
    RSA_BELOW_2048,
    EDDSA_KEY,
    SHA1_SIGNATURE,
    MD5_SIGNATURE,
    KEY_USAGE_MISMATCH,
    CA_CERT_AS_SERVER,
    NO_SAN_CN_ONLY,
    IP_ONLY_AS_DNS_SAN,
    NAME_ONLY_IN_CN,
    NAME_NOT_IN_SAN,
    NAME_CONSTRAINTS,
    ISSUER_NOT_CA,
    ROOT_WITHOUT_CN,
];

/// Apple's iOS 13 rules on validity and EKU bind certificates whose notBefore is on or after
/// this day (HT210176).
const APPLE_2019_RULES_FROM: OffsetDateTime = datetime!(2019-07-01 0:00 UTC);
/// Apple's minimum RSA size for servers and issuing CAs; also the CA/Browser Forum baseline.
const RSA_BASELINE_BITS: usize = 2048;
/// Below this RSA size Chrome, Android (Conscrypt) and Java refuse the key outright.
const RSA_FLOOR_BITS: usize = 1024;
/// Days before notAfter from which `expires-soon` warns: time for a renewal to reach every
/// server of a site before clients start refusing the old certificate.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What a rule found in one certificate of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable id.
    pub rule: &'static str,
    /// Which certificate: 0 is the server's, then the chain in input order.
    pub certificate: usize,
    /// That certificate's subject.
    pub subject: String,
    /// The platforms it affects, each with its severity.
    pub platforms: Vec<Effect>,
    /// What was found, naming the value (`valid for 900 days (…)`).
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// The rule's source.
    pub source: &'static str,
}

impl serde::Serialize for Finding {
    /// The fields, plus `severity`: the strictest among the platforms.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Finding", 8)?;
        s.serialize_field("rule", self.rule)?;
        s.serialize_field("severity", &self.severity())?;
        s.serialize_field("certificate", &self.certificate)?;
        s.serialize_field("subject", &self.subject)?;
        s.serialize_field("platforms", &self.platforms)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("fix", &self.fix)?;
        s.serialize_field("source", self.source)?;
        s.end()
    }
}

impl Finding {
    fn new(rule: Rule, c: &Cert<'_>, platforms: Vec<Effect>, message: String, fix: impl Into<String>) -> Finding {
        Finding {
            rule: rule.id,
            certificate: c.index,
            subject: c.subject.clone(),
            platforms,
            message,
            fix: fix.into(),
            source: rule.source,
        }
    }

    /// The strictest severity among its platforms.
    pub fn severity(&self) -> Severity {
        self.platforms.iter().fold(Severity::Warn, |s, e| s.stricter(e.severity))
    }

    /// This finding's severity for `platform`, if it affects it.
    pub fn severity_for(&self, platform: Platform) -> Option<Severity> {
        self.platforms.iter().find(|e| e.platform == platform).map(|e| e.severity)
    }

    /// "ios rejects", or "ios rejects; android, java warn".
    pub fn platforms_text(&self) -> String {
        let mut parts = Vec::new();
        for (sev, verb) in [(Severity::Reject, "rejects"), (Severity::Warn, "warns")] {
            let names: Vec<&str> =
                self.platforms.iter().filter(|e| e.severity == sev).map(|e| e.platform.name()).collect();
            if !names.is_empty() {
                let verb = if names.len() > 1 { verb.trim_end_matches('s') } else { verb };
                parts.push(format!("{} {verb}", names.join(", ")));
            }
        }
        parts.join("; ")
    }
}

impl fmt::Display for Finding {
    /// `apple-825-days (ios rejects): valid for 900 days (…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.rule, self.platforms_text(), self.message)
    }
}

/// What a platform does with the certificate, all findings considered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No finding affects it.
    Accepts,
    /// Only warnings affect it.
    AcceptsWithWarnings,
    /// At least one finding makes it refuse the connection.
    Rejects,
}

impl Verdict {
    /// "accepts", "accepts with warnings", "rejects".
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Accepts => "accepts",
            Verdict::AcceptsWithWarnings => "accepts with warnings",
            Verdict::Rejects => "rejects",
        }
    }
}

/// The verdict of `platform` given `findings`.
pub fn verdict(findings: &[Finding], platform: Platform) -> Verdict {
    let mut v = Verdict::Accepts;
    for s in findings.iter().filter_map(|f| f.severity_for(platform)) {
        match s {
            Severity::Reject => return Verdict::Rejects,
            Severity::Warn => v = Verdict::AcceptsWithWarnings,
        }
    }
    v
}

/// The address a client dials: an IP literal or a DNS name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Host {
    /// An IPv4 or IPv6 address: matched only against iPAddress SANs.
    Ip(IpAddr),
    /// A DNS name, lower case: matched against dNSName SANs.
    Dns(String),
}

impl Host {
    /// Parses what a user gives as the address clients dial: an IP address (brackets allowed
    /// around IPv6) or a DNS name; a wildcard pattern or a malformed address is refused.
    pub fn parse(s: &str) -> Result<Host> {
        match crate::address::parse_ip(s) {
            Ok(ip) => return Ok(Host::Ip(ip)),
            Err(e) if looks_like_ip(s.trim()) => return Err(e),
            Err(_) => {}
        }
        let name = crate::address::parse_dns(s)?;
        if name.starts_with("*.") {
            return Err(Error::bad_value(
                "server name",
                s,
                "is a wildcard pattern, not a name clients dial",
                Some("give the name itself, e.g. till-3.shop.example"),
            ));
        }
        Ok(Host::Dns(name))
    }

    fn san_type(&self) -> &'static str {
        match self {
            Host::Ip(_) => "iPAddress",
            Host::Dns(_) => "dNSName",
        }
    }

    /// The `pinset issue server` option that names this address.
    fn issue_option(&self) -> String {
        match self {
            Host::Ip(ip) => format!("--ip {ip}"),
            Host::Dns(d) => format!("--dns {d}"),
        }
    }
}

/// Digits and dots ending in a numeric label (a TLD is never all digits), or hex digits with
/// colons: meant as an IP address, so a parse failure is an IP error, not a DNS name.
fn looks_like_ip(s: &str) -> bool {
    let allowed = s.bytes().all(|b| b.is_ascii_hexdigit() || b"[]:.".contains(&b));
    let last_label_numeric = s
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    allowed && (s.contains(':') || last_label_numeric)
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Dns(d) => f.write_str(d),
        }
    }
}

/// Lints a server certificate and its chain (`chain_der[0]` is the server's; later
/// certificates are its chain, used for chain rules such as `issuer-not-ca` and
/// `name-constraints`) for the `platforms` given, at time `now`. With `name`, also checks
/// that the address clients dial is named the way each platform requires. `source` names the
/// input in errors.
pub fn lint(
    source: &str,
    chain_der: &[Vec<u8>],
    name: Option<&Host>,
    platforms: &[Platform],
    now: OffsetDateTime,
) -> Result<Vec<Finding>> {
    let certs = parse_all(source, chain_der)?;
    let mut findings = Vec::new();
    let Some((server, chain)) = certs.split_first() else { return Ok(findings) };
    let sans = server_rules(server, name, now, &mut findings);
    let mut issued = server;
    for c in chain {
        // A certificate signs the one before it when its subject is that one's issuer; one
        // that does not (a stray certificate in a bundle) is checked as a CA on its own.
        let signs = c.x509.subject().as_raw() == issued.x509.issuer().as_raw();
        chain_rules(c, signs, now, &mut findings);
        issued = c;
    }
    if let Some(sans) = sans {
        name_constraint_rules(&certs, &sans, name, &mut findings);
    }
    Ok(select(findings, platforms))
}

/// Lints certificate-authority certificates (a root, a CA bundle): the chain rules only, as
/// `pinset inspect` does for a file whose first certificate is a CA.
pub fn lint_authorities(
    source: &str,
    certs_der: &[Vec<u8>],
    platforms: &[Platform],
    now: OffsetDateTime,
) -> Result<Vec<Finding>> {
    let certs = parse_all(source, certs_der)?;
    let mut findings = Vec::new();
    for c in &certs {
        chain_rules(c, true, now, &mut findings);
    }
    Ok(select(findings, platforms))
}

/// Keeps only `platforms` in each finding, and the findings left with any, in report order:
/// by certificate, rejections first, then in [`RULES`] order.
fn select(findings: Vec<Finding>, platforms: &[Platform]) -> Vec<Finding> {
    let mut kept: Vec<Finding> = findings
        .into_iter()
        .filter_map(|mut f| {
            f.platforms.retain(|e| platforms.contains(&e.platform));
            f.platforms.sort_by_key(|e| e.platform);
            (!f.platforms.is_empty()).then_some(f)
        })
        .collect();
    kept.sort_by_key(|f| {
        let rank = RULES.iter().position(|r| r.id == f.rule).unwrap_or(RULES.len());
        (f.certificate, f.severity() != Severity::Reject, rank)
    });
    kept
}

/// One parsed certificate with what the rules need.
struct Cert<'a> {
    index: usize,
    x509: X509Certificate<'a>,
    subject: String,
    /// The most specific CN, if any.
    cn: Option<String>,
    /// Subject and issuer are the same name: a root (or a self-signed server).
    self_issued: bool,
}

fn parse_all<'a>(source: &str, chain_der: &'a [Vec<u8>]) -> Result<Vec<Cert<'a>>> {
    if chain_der.is_empty() {
        return Err(Error::bad_input(source, "holds no certificate", Some("give a PEM or DER certificate")));
    }
    chain_der
        .iter()
        .enumerate()
        .map(|(index, der)| {
            let label =
                if chain_der.len() > 1 { format!("{source} (certificate {})", index + 1) } else { source.into() };
            let x509 = cert::parse(&label, der)?;
            let subject = cert::name_to_string(x509.subject());
            let cn = x509.subject().iter_common_name().filter_map(|a| a.as_str().ok()).last().map(str::to_string);
            let self_issued = x509.subject().as_raw() == x509.issuer().as_raw();
            Ok(Cert { index, x509, subject, cn, self_issued })
        })
        .collect()
}

fn all(severity: Severity) -> Vec<Effect> {
    Platform::ALL.iter().map(|&platform| Effect { platform, severity }).collect()
}

/// Effects of a chain-validation rule: OkHttp leaves chain validation to the platform's
/// trust manager, so it gets the stricter of Android's and Java's severities.
fn trust(
    ios: Option<Severity>,
    android: Option<Severity>,
    chrome: Option<Severity>,
    java: Option<Severity>,
) -> Vec<Effect> {
    let okhttp = match (android, java) {
        (Some(a), Some(j)) => Some(a.stricter(j)),
        (a, j) => a.or(j),
    };
    effects([ios, android, chrome, java, okhttp])
}

/// Effects from one optional severity per platform, in [`Platform::ALL`] order.
fn effects(per_platform: [Option<Severity>; 5]) -> Vec<Effect> {
    Platform::ALL
        .iter()
        .zip(per_platform)
        .filter_map(|(&platform, s)| s.map(|severity| Effect { platform, severity }))
        .collect()
}

const R: Option<Severity> = Some(Severity::Reject);
const W: Option<Severity> = Some(Severity::Warn);
const NONE: Option<Severity> = None;

const EKU_FIX: &str = "with extendedKeyUsage serverAuth, as `pinset issue server` does";

fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

/// "900 days"; hours too when they matter: "825 days and 5 hours", "1 day and 3 hours".
fn span(d: Duration) -> String {
    let days = d.whole_days();
    let hours = d.whole_hours() - days * 24;
    let unit = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if hours > 0 && (days < 3 || days == i64::from(APPLE_MAX_SERVER_DAYS)) {
        format!("{} and {}", unit(days, "day", "days"), unit(hours, "hour", "hours"))
    } else {
        unit(days, "day", "days")
    }
}

/// What to do about a server certificate that has to be issued again: `what` it needs, and
/// how to get it with openssl.
fn reissue(what: &str, openssl: &str) -> String {
    format!("issue it again {what}; openssl: {openssl}")
}

/// How to name `host` in a new certificate, with pinset and with openssl.
fn name_it(host: &Host) -> String {
    let san = match host {
        Host::Ip(ip) => format!("IP:{ip}"),
        Host::Dns(d) => format!("DNS:{d}"),
    };
    format!("`pinset issue server NAME {}`; openssl: -addext subjectAltName={san}", host.issue_option())
}

/// The rules for the server's certificate; returns its SANs when they could be read.
fn server_rules(c: &Cert<'_>, name: Option<&Host>, now: OffsetDateTime, out: &mut Vec<Finding>) -> Option<Vec<San>> {
    let x = &c.x509;
    let ext = Extensions::read(c, out);
    validity_rules(c, now, Some(Severity::Reject), out);
    let not_before = x.validity().not_before.to_datetime();
    let not_after = x.validity().not_after.to_datetime();
    let apple_2019 = not_before >= APPLE_2019_RULES_FROM;

    // Apple: 825 days.
    let lifetime = not_after - not_before;
    if apple_2019 && lifetime > Duration::days(i64::from(APPLE_MAX_SERVER_DAYS)) {
        out.push(Finding::new(
            APPLE_825_DAYS,
            c,
            effects([R, NONE, NONE, NONE, NONE]),
            format!(
                "valid for {} ({} to {}); iOS and macOS accept at most {APPLE_MAX_SERVER_DAYS} days",
                span(lifetime),
                date(not_before),
                date(not_after)
            ),
            reissue(
                &format!(
                    "valid {APPLE_MAX_SERVER_DAYS} days or fewer: `pinset issue server NAME --days \
                     {LEAF_VALIDITY_DAYS}` (the default)"
                ),
                &format!("-days {LEAF_VALIDITY_DAYS}"),
            ),
        ));
    }

    // Extended key usage.
    match &ext.eku {
        Some(Some(eku)) if !eku.server_auth && !eku.any => out.push(Finding::new(
            EKU_WITHOUT_SERVER_AUTH,
            c,
            trust(R, R, R, R),
            format!("extendedKeyUsage is {}, without serverAuth: not usable for a TLS server", eku_names(eku)),
            reissue(EKU_FIX, "-addext extendedKeyUsage=serverAuth"),
        )),
        Some(Some(eku)) if !eku.server_auth && apple_2019 => out.push(Finding::new(
            EKU_WITHOUT_SERVER_AUTH,
            c,
            effects([R, NONE, NONE, NONE, NONE]),
            format!("extendedKeyUsage is {}, without serverAuth: Apple requires serverAuth itself", eku_names(eku)),
            reissue(EKU_FIX, "-addext extendedKeyUsage=serverAuth"),
        )),
        Some(None) if apple_2019 => out.push(Finding::new(
            NO_EKU,
            c,
            effects([R, NONE, NONE, NONE, NONE]),
            format!(
                "no extendedKeyUsage extension (issued {}): iOS and macOS require one with serverAuth",
                date(not_before)
            ),
            reissue(EKU_FIX, "-addext extendedKeyUsage=serverAuth"),
        )),
        _ => {}
    }

    key_rules(c, "the key", out);
    signature_rules(c, out);
    key_usage_rule(c, &ext, out);

    if let Some(Some(true)) = ext.ca {
        out.push(Finding::new(
            CA_CERT_AS_SERVER,
            c,
            all(Severity::Warn),
            "basicConstraints cA=TRUE: a CA certificate serves as the server's; Chrome flags it, and pinset \
             verify/get and other rustls clients refuse it"
                .into(),
            "if this is the CA, lint the server's certificate instead; otherwise issue it again with basicConstraints \
             CA:FALSE, as `pinset issue server` does; openssl: -addext basicConstraints=critical,CA:FALSE",
        ));
    }

    if let Some(sans) = &ext.sans {
        name_rules(c, sans, name, out);
    }
    if c.self_issued {
        root_rules(c, out);
    }
    ext.sans
}

/// Rules for a certificate of the chain (or of a CA bundle). A self-issued one is a trust
/// anchor (a root); the others are intermediates. `signs` says whether it issued the
/// certificate before it (always true for a CA bundle): only then must it be a CA.
fn chain_rules(c: &Cert<'_>, signs: bool, now: OffsetDateTime, out: &mut Vec<Finding>) {
    let ext = Extensions::read(c, out);
    key_rules(c, "this CA's key", out);
    let mut problems = Vec::new();
    match ext.ca {
        Some(Some(true)) => {}
        Some(Some(false)) => problems.push("basicConstraints cA=FALSE".to_string()),
        // A root without basicConstraints (an old v1 root) is still an anchor.
        Some(None) if !c.self_issued => problems.push("no basicConstraints extension".to_string()),
        _ => {}
    }
    if let Some(Some(ku)) = &ext.ku
        && !ku.key_cert_sign()
    {
        problems.push(format!("keyUsage {} without keyCertSign", cert_ku_names(ku)));
    }
    if c.self_issued {
        // A trust anchor is trusted as a key and a name: clients do not check its own
        // signature, and only some check its dates or extensions.
        root_rules(c, out);
        validity_rules(c, now, None, out);
        if signs && !problems.is_empty() {
            out.push(Finding::new(
                ISSUER_NOT_CA,
                c,
                effects([NONE, NONE, R, NONE, NONE]),
                format!(
                    "this root has {}: Chrome checks a locally trusted root's extensions and refuses it as an issuer",
                    problems.join(" and ")
                ),
                "create the root again with basicConstraints CA:TRUE and keyUsage keyCertSign (pinset init does)",
            ));
        }
        return;
    }
    validity_rules(c, now, Some(Severity::Reject), out);
    signature_rules(c, out);
    if signs && !problems.is_empty() {
        out.push(Finding::new(
            ISSUER_NOT_CA,
            c,
            trust(R, R, R, R),
            format!("this chain certificate signs the one before it but has {}", problems.join(" and ")),
            "issue the intermediate again with basicConstraints CA:TRUE and keyUsage keyCertSign",
        ));
    }
}

/// The extensions the rules read; `None` when unreadable (a `malformed-extension` finding is
/// recorded), `Some(None)` when absent.
struct Extensions<'c> {
    eku: Option<Option<&'c x509_parser::extensions::ExtendedKeyUsage<'c>>>,
    ku: Option<Option<&'c x509_parser::extensions::KeyUsage>>,
    ca: Option<Option<bool>>,
    sans: Option<Vec<San>>,
}

impl<'c> Extensions<'c> {
    fn read(c: &'c Cert<'_>, out: &mut Vec<Finding>) -> Extensions<'c> {
        let x = &c.x509;
        let mut bad: Vec<String> = Vec::new();
        // The four extensions the rules read: an error is a duplicate or a malformed value.
        let eku = x.extended_key_usage().map(|o| o.map(|e| e.value)).ok();
        let ku = x.key_usage().map(|o| o.map(|e| e.value)).ok();
        let ca = x.basic_constraints().map(|o| o.map(|e| e.value.ca)).ok();
        let sans = x
            .subject_alternative_name()
            .map(|o| o.map(|e| e.value.general_names.iter().map(cert::san).collect()).unwrap_or_default())
            .ok();
        for (what, ok) in [
            ("extendedKeyUsage", eku.is_some()),
            ("keyUsage", ku.is_some()),
            ("basicConstraints", ca.is_some()),
            ("subjectAltName", sans.is_some()),
        ] {
            if !ok {
                bad.push(what.into());
            }
        }
        // Any other extension whose value does not parse.
        const READ_ABOVE: [&str; 4] = ["2.5.29.37", "2.5.29.15", "2.5.29.19", "2.5.29.17"];
        for e in x.extensions() {
            let oid = e.oid.to_id_string();
            if e.parsed_extension().error().is_some() && !READ_ABOVE.contains(&oid.as_str()) && !bad.contains(&oid) {
                bad.push(oid);
            }
        }
        if !bad.is_empty() {
            out.push(Finding::new(
                MALFORMED_EXTENSION,
                c,
                all(Severity::Reject),
                format!("the {} extension is duplicated or malformed", bad.join(", ")),
                "issue the certificate again with a tool that encodes its extensions correctly (pinset issue)",
            ));
        }
        Extensions { eku, ku, ca, sans }
    }
}

fn eku_names(eku: &x509_parser::extensions::ExtendedKeyUsage<'_>) -> String {
    let mut names: Vec<String> = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n.to_string())
    .collect();
    names.extend(eku.other.iter().map(|o| o.to_id_string()));
    if names.is_empty() { "empty".into() } else { names.join(", ") }
}

/// `expired`, `not-yet-valid`, `expires-soon`. `severity` is what clients do with a
/// certificate outside its dates: reject, or for a trust anchor (`None`) a warning, since
/// clients differ (Java and Android trust an anchor's key whatever its dates).
fn validity_rules(c: &Cert<'_>, now: OffsetDateTime, severity: Option<Severity>, out: &mut Vec<Finding>) {
    let not_before = c.x509.validity().not_before.to_datetime();
    let not_after = c.x509.validity().not_after.to_datetime();
    let (effects, whom) = match severity {
        Some(s) => (all(s), ""),
        None => (all(Severity::Warn), "; clients differ on an expired root, some refuse every chain to it"),
    };
    let what = if c.index == 0 { "the server certificate" } else { "this certificate" };
    if now > not_after {
        out.push(Finding::new(
            EXPIRED,
            c,
            effects,
            format!("expired on {} ({} ago){whom}", date(not_after), span(now - not_after)),
            format!("issue {what} again and deploy it"),
        ));
    } else if now < not_before {
        out.push(Finding::new(
            NOT_YET_VALID,
            c,
            effects,
            format!(
                "not valid before {} (in {}); a device whose clock is behind refuses it too",
                date(not_before),
                span(not_before - now)
            ),
            "check the clock of the machine that issued it; pinset backdates notBefore by an hour",
        ));
    } else if not_after - now < Duration::days(EXPIRY_WARNING_DAYS) {
        out.push(Finding::new(
            EXPIRES_SOON,
            c,
            all(Severity::Warn),
            format!("expires on {} (in {})", date(not_after), span(not_after - now)),
            format!("issue {what} again now and deploy it before {}", date(not_after)),
        ));
    }
}

fn key_rules(c: &Cert<'_>, role: &str, out: &mut Vec<Finding>) {
    let key = cert::key_info(c.x509.public_key());
    if key.algorithm.starts_with("RSA") && key.bits < RSA_BASELINE_BITS {
        let (others, message) = if key.bits < RSA_FLOOR_BITS {
            (
                R,
                format!(
                    "{role} is {} {} bits: below {RSA_FLOOR_BITS} every platform refuses it",
                    key.algorithm, key.bits
                ),
            )
        } else {
            (
                W,
                format!(
                    "{role} is {} {} bits: Apple requires {RSA_BASELINE_BITS} (the CA/Browser Forum baseline); the \
                     others accept {RSA_FLOOR_BITS} and up",
                    key.algorithm, key.bits
                ),
            )
        };
        out.push(Finding::new(
            RSA_BELOW_2048,
            c,
            trust(R, others, others, others),
            message,
            "use a new key: EC P-256 (pinset's default, --key-type p256) or RSA of 2048 bits or more",
        ));
    }
    if key.algorithm == "Ed25519" || key.algorithm == "Ed448" {
        out.push(Finding::new(
            EDDSA_KEY,
            c,
            trust(R, W, R, W),
            format!(
                "{role} is {}: Apple and Chrome cannot use it; Java needs version 15 or later, Android a recent \
                 version",
                key.algorithm
            ),
            "use an EC P-256 key (--key-type p256, pinset's default) for certificates apps and browsers check",
        ));
    }
}

fn signature_rules(c: &Cert<'_>, out: &mut Vec<Finding>) {
    let oid = c.x509.signature_algorithm.algorithm.to_id_string();
    let name = cert::signature_name(&c.x509.signature_algorithm.algorithm);
    let fix = "have the CA sign it again with SHA-256 (openssl: -sha256; pinset always does)";
    match oid.as_str() {
        // md2WithRSAEncryption, md4WithRSAEncryption, md5WithRSAEncryption
        "1.2.840.113549.1.1.2" | "1.2.840.113549.1.1.3" | "1.2.840.113549.1.1.4" => out.push(Finding::new(
            MD5_SIGNATURE,
            c,
            all(Severity::Reject),
            format!("signed with {}: a broken hash every platform refuses", md_name(&oid)),
            fix,
        )),
        // sha1WithRSAEncryption, its old OIW id, ecdsa-with-SHA1, dsa-with-sha1
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" => {
            let name = if name == oid { "SHA-1".to_string() } else { name };
            // A self-signed server certificate trusted as its own anchor: Chromium does not
            // check the signature algorithm of a directly trusted certificate.
            let (chrome, who) = if c.index == 0 && c.self_issued {
                (
                    W,
                    "Apple and Android refuse SHA-1 (Chrome does not check the signature of a certificate it trusts directly)",
                )
            } else {
                (R, "Apple, Android and Chrome refuse SHA-1")
            };
            out.push(Finding::new(
                SHA1_SIGNATURE,
                c,
                trust(R, R, chrome, W),
                format!("signed with {name}: {who}; Java accepts it under a private CA"),
                fix,
            ));
        }
        _ => {}
    }
}

fn md_name(oid: &str) -> &'static str {
    match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.3" => "md4WithRSAEncryption",
        _ => "md5WithRSAEncryption",
    }
}

/// `key-usage-mismatch`: a keyUsage that does not allow the server's handshake signature.
fn key_usage_rule(c: &Cert<'_>, ext: &Extensions<'_>, out: &mut Vec<Finding>) {
    let Some(Some(ku)) = ext.ku else { return };
    if ku.digital_signature() {
        return;
    }
    let key = cert::key_info(c.x509.public_key());
    let has = cert_ku_names(ku);
    let (effects, message) = if key.algorithm.starts_with("RSA") && ku.key_encipherment() {
        (
            trust(NONE, W, W, W),
            format!(
                "keyUsage is {has}, without digitalSignature: this RSA key works only with TLS 1.2 RSA key exchange, \
                 which TLS 1.3 and rustls servers (pinset serve) never use"
            ),
        )
    } else if key.algorithm.starts_with("RSA") {
        (
            trust(NONE, R, R, R),
            format!(
                "keyUsage is {has}: an RSA server key needs digitalSignature (ECDHE, TLS 1.3) or keyEncipherment (RSA \
                 key exchange)"
            ),
        )
    } else {
        (
            trust(NONE, R, R, R),
            format!(
                "keyUsage is {has}: the server's {} key needs digitalSignature to sign the handshake",
                key.algorithm
            ),
        )
    };
    out.push(Finding::new(
        KEY_USAGE_MISMATCH,
        c,
        effects,
        message,
        reissue(
            "with keyUsage digitalSignature (and keyEncipherment for an RSA key), as `pinset issue server` does",
            "-addext keyUsage=critical,digitalSignature",
        ),
    ));
}

fn cert_ku_names(ku: &x509_parser::extensions::KeyUsage) -> String {
    let names: Vec<&str> = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n)
    .collect();
    if names.is_empty() { "empty".into() } else { names.join(", ") }
}

/// `root-without-cn`, for a self-issued certificate (a root, or a self-signed server that is
/// its own root).
fn root_rules(c: &Cert<'_>, out: &mut Vec<Finding>) {
    if c.cn.is_none() {
        out.push(Finding::new(
            ROOT_WITHOUT_CN,
            c,
            effects([W, NONE, NONE, NONE, NONE]),
            format!(
                "this root has no CN (subject {}): installed by hand on iOS it cannot be enabled in Certificate \
                 Trust Settings",
                c.subject
            ),
            "create the root again with a CN (openssl: -subj '/CN=Shop CA'; pinset init names it `pinset CA SITE`)",
        ));
    }
}

/// The address rules: SANs of the right type, no CN-only names, no IP written as a DNS name.
fn name_rules(c: &Cert<'_>, sans: &[San], name: Option<&Host>, out: &mut Vec<Finding>) {
    let ips: Vec<IpAddr> = sans.iter().filter_map(|s| if let San::Ip(ip) = s { Some(*ip) } else { None }).collect();
    let dns: Vec<&str> =
        sans.iter().filter_map(|s| if let San::Dns(d) = s { Some(d.as_str()) } else { None }).collect();
    let san_list = if sans.is_empty() {
        "the certificate has none".to_string()
    } else {
        sans.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    let cn_matches = |host: &Host| {
        c.cn.as_deref().is_some_and(|cn| match host {
            Host::Ip(ip) => parse_ip_text(cn) == Some(*ip),
            Host::Dns(n) => dns_matches(cn, n),
        })
    };

    if ips.is_empty() && dns.is_empty() {
        // Java falls back to the CN for a DNS name, never for an IP address (dialled, or the
        // one the CN holds when no name is given).
        let cn_is_ip = c.cn.as_deref().and_then(parse_ip_text).is_some();
        let java = match (name, c.cn.is_some()) {
            (_, false) | (Some(Host::Ip(_)), _) => R,
            (None, true) if cn_is_ip => R,
            (Some(host @ Host::Dns(_)), true) if !cn_matches(host) => R,
            _ => W,
        };
        let cn_text = c.cn.as_deref().map(|cn| format!("only CN={cn}")).unwrap_or_else(|| "and no CN".into());
        let suggest = match (name, c.cn.as_deref()) {
            (Some(host), _) => Some(host.clone()),
            (None, Some(cn)) => match parse_ip_text(cn) {
                Some(ip) => Some(Host::Ip(ip)),
                None => Host::parse(cn).ok(),
            },
            (None, None) => None,
        };
        let fix = match suggest {
            Some(host) => format!("issue it again with a subjectAltName for each address: {}", name_it(&host)),
            None => "issue it again with a subjectAltName for each address: `pinset issue server NAME --ip \
                     ADDRESS`; openssl: -addext subjectAltName=IP:ADDRESS"
                .into(),
        };
        out.push(Finding::new(
            NO_SAN_CN_ONLY,
            c,
            effects([R, R, R, java, R]),
            format!(
                "no DNS or IP subjectAltName, {cn_text}: Apple, Chrome, Android 9+ and OkHttp ignore the CN; Java \
                 uses it for DNS names only"
            ),
            fix,
        ));
        // The CN carries the name dialled: the finding above says all there is to say.
        if name.is_none_or(cn_matches) {
            return;
        }
    }

    // DNS SANs that hold an IP address: no client matches them.
    let ip_as_dns: Vec<(&str, IpAddr)> =
        dns.iter().filter_map(|d| parse_ip_text(d).map(|ip| (*d, ip))).filter(|(_, ip)| !ips.contains(ip)).collect();

    let Some(host) = name else {
        // Without the name dialled, an IP written as a DNS name is still a mistake: a refusal
        // when nothing else in the certificate is a usable name.
        let usable = !ips.is_empty() || dns.iter().any(|d| parse_ip_text(d).is_none());
        for (as_dns, ip) in ip_as_dns {
            out.push(Finding::new(
                IP_ONLY_AS_DNS_SAN,
                c,
                all(if usable { Severity::Warn } else { Severity::Reject }),
                format!(
                    "DNS:{as_dns} is an IP address written as a DNS name: clients dialling {ip} compare only iPAddress \
                     SANs and refuse it (SANs: {san_list})"
                ),
                format!("issue it again with an iPAddress SAN, not a DNS one: {}", name_it(&Host::Ip(ip))),
            ));
        }
        return;
    };

    let in_san = match host {
        Host::Ip(ip) => ips.contains(ip),
        Host::Dns(n) => dns.iter().any(|d| dns_matches(d, n)),
    };
    if in_san {
        return;
    }
    if let Host::Ip(ip) = host
        && let Some((as_dns, _)) = ip_as_dns.iter().find(|(_, i)| i == ip)
    {
        out.push(Finding::new(
            IP_ONLY_AS_DNS_SAN,
            c,
            all(Severity::Reject),
            format!(
                "{ip} is only a DNS SAN (DNS:{as_dns}); clients connecting by IP compare only iPAddress SANs (SANs: \
                 {san_list})"
            ),
            format!("issue it again with an iPAddress SAN, not a DNS one: {}", name_it(host)),
        ));
        return;
    }
    if !(ips.is_empty() && dns.is_empty()) && cn_matches(host) {
        // Java's HostnameChecker: a DNS name may match the CN when there is no DNS SAN.
        let java = match host {
            Host::Dns(_) if dns.is_empty() => W,
            _ => R,
        };
        out.push(Finding::new(
            NAME_ONLY_IN_CN,
            c,
            effects([R, R, R, java, R]),
            format!("{host} is only in the subject CN, not in a {} SAN (SANs: {san_list})", host.san_type()),
            format!("issue it again with {host} in the SANs: {}", name_it(host)),
        ));
        return;
    }
    out.push(Finding::new(
        NAME_NOT_IN_SAN,
        c,
        all(Severity::Reject),
        format!("{host} is in no {} SAN (SANs: {san_list})", host.san_type()),
        format!("dial an address the certificate names, or issue it again with {host} added: {}", name_it(host)),
    ));
}

/// One subtree of a nameConstraints extension that pinset can check.
enum Subtree {
    /// A DNS name and every name under it (`.x` only under it).
    Dns(String),
    /// An address range: network address and mask, both 4 or 16 bytes.
    Ip(Vec<u8>, Vec<u8>),
}

impl Subtree {
    fn from_general_name(g: &GeneralName<'_>) -> Option<Subtree> {
        match g {
            GeneralName::DNSName(d) => Some(Subtree::Dns(d.trim_end_matches('.').to_ascii_lowercase())),
            GeneralName::IPAddress(b) if b.len() == 8 || b.len() == 32 => {
                let (addr, mask) = b.split_at(b.len() / 2);
                Some(Subtree::Ip(addr.to_vec(), mask.to_vec()))
            }
            _ => None,
        }
    }

    /// Whether this subtree constrains names of `san`'s type.
    fn same_type(&self, san: &San) -> bool {
        matches!((self, san), (Subtree::Dns(_), San::Dns(_)) | (Subtree::Ip(..), San::Ip(_)))
    }

    /// RFC 5280 §4.2.1.10: a DNS name is within a subtree when labels added on the left give
    /// it; an address when it falls in the range.
    fn contains(&self, san: &San) -> bool {
        match (self, san) {
            (Subtree::Dns(base), San::Dns(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                match base.strip_prefix('.') {
                    _ if base.is_empty() => true,
                    Some(parent) => name.ends_with(&format!(".{parent}")),
                    None => name == *base || name.ends_with(&format!(".{base}")),
                }
            }
            (Subtree::Ip(addr, mask), San::Ip(ip)) => {
                let bytes = match ip {
                    IpAddr::V4(v4) => v4.octets().to_vec(),
                    IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                bytes.len() == addr.len() && bytes.iter().zip(addr).zip(mask).all(|((b, a), m)| b & m == a & m)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Subtree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subtree::Dns(d) => write!(f, "DNS:{d}"),
            Subtree::Ip(addr, mask) => {
                let ip = match <[u8; 4]>::try_from(addr.as_slice()) {
                    Ok(v4) => IpAddr::from(v4),
                    Err(_) => IpAddr::from(<[u8; 16]>::try_from(addr.as_slice()).unwrap_or_default()),
                };
                let ones: u32 = mask.iter().map(|b| b.count_ones()).sum();
                write!(f, "IP:{ip}/{ones}")
            }
        }
    }
}

/// `name-constraints`: each CA of the chain with nameConstraints, against the server's DNS
/// and IP names (and the name dialled).
fn name_constraint_rules(certs: &[Cert<'_>], sans: &[San], name: Option<&Host>, out: &mut Vec<Finding>) {
    let mut names: Vec<San> = sans.iter().filter(|s| matches!(s, San::Dns(_) | San::Ip(_))).cloned().collect();
    if let Some(host) = name {
        let san = match host {
            Host::Ip(ip) => San::Ip(*ip),
            Host::Dns(d) => San::Dns(d.clone()),
        };
        if !names.contains(&san) {
            names.push(san);
        }
    }
    for c in certs.iter().skip(1) {
        let Ok(Some(nc)) = c.x509.name_constraints() else { continue };
        let subtrees = |list: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| -> Vec<Subtree> {
            list.iter().flatten().filter_map(|s| Subtree::from_general_name(&s.base)).collect()
        };
        let permitted = subtrees(&nc.value.permitted_subtrees);
        let excluded = subtrees(&nc.value.excluded_subtrees);
        let mut outside = Vec::new();
        for n in &names {
            let typed: Vec<&Subtree> = permitted.iter().filter(|p| p.same_type(n)).collect();
            if !typed.is_empty() && !typed.iter().any(|p| p.contains(n)) {
                let list = typed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                outside.push(format!("{n} is outside the permitted {list}"));
            } else if let Some(e) = excluded.iter().find(|e| e.contains(n)) {
                outside.push(format!("{n} is in the excluded {e}"));
            }
        }
        if outside.is_empty() {
            continue;
        }
        // Java and Android build trust anchors from the key and name only: a root's own
        // constraints bind Chrome, which enforces them on locally trusted roots.
        let (platforms, whose) = if c.self_issued {
            (effects([NONE, NONE, R, NONE, NONE]), "this root")
        } else {
            (trust(R, R, R, R), "this CA")
        };
        out.push(Finding::new(
            NAME_CONSTRAINTS,
            c,
            platforms,
            format!("{whose} constrains names and the server certificate breaks them: {}", outside.join("; ")),
            "issue the server certificate from a CA whose nameConstraints cover its addresses, or widen them",
        ));
    }
}

/// An IP address written as text (in a dNSName or CN), brackets allowed.
fn parse_ip_text(s: &str) -> Option<IpAddr> {
    let t = s.trim();
    t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(t).parse().ok()
}

/// RFC 6125 §6.4 matching: case-insensitive, a trailing dot ignored, and a `*` only as the
/// whole left-most label, standing for exactly one label, under a parent of two labels or
/// more (OkHttp and Chrome refuse `*.tld`).
fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if pattern == name {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(parent) if parent.contains('.') && !parent.contains('*') => {
            name.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == parent)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{self, KeyType, LeafKind, LeafSpec};
    use rcgen::{
        BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, NameConstraints, SanType,
    };

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// A pinset CA and a server certificate for `ips`/`dns` valid `days`: [leaf, root].
    fn pinset_chain(ips: &[IpAddr], dns: &[String], days: u32) -> Vec<Vec<u8>> {
        pinset_chain_of(LeafKind::Server, KeyType::P256, ips, dns, days)
    }

    fn pinset_chain_of(kind: LeafKind, kt: KeyType, ips: &[IpAddr], dns: &[String], days: u32) -> Vec<Vec<u8>> {
        let ca_key = KeyType::P256.generate().expect("ca key");
        let root = pki::new_root("pinset CA test", "test", &ca_key, now()).expect("root");
        let issuer = pki::load_issuer(&root.cert_der, &ca_key.serialize_pem(), "ca").expect("issuer");
        let key = kt.generate().expect("key");
        let spec = LeafSpec { kind, common_name: "server", organization: "test", ips, dns, days };
        let leaf = pki::issue_leaf(&spec, &key, kt, Some(&issuer), now()).expect("leaf");
        vec![leaf.cert_der, root.cert_der]
    }

    /// Certificate parameters like a careful hand-made server certificate: valid a year from
    /// yesterday, CN `cn`, the given SANs, EKU serverAuth, KU digitalSignature, CA:FALSE.
    fn params(cn: &str, sans: Vec<SanType>) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.subject_alt_names = sans;
        p.not_before = now() - Duration::days(1);
        p.not_after = now() + Duration::days(364);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p
    }

    fn ca_params(cn: &str) -> CertificateParams {
        let mut p = params(cn, Vec::new());
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.extended_key_usages = Vec::new();
        p
    }

    fn self_signed(p: &CertificateParams) -> Vec<u8> {
        let key = KeyPair::generate().expect("key");
        p.self_signed(&key).expect("self-sign").der().to_vec()
    }

    /// `leaf` signed by a root made from `root`: [leaf, root].
    fn signed(leaf: &CertificateParams, root: CertificateParams) -> Vec<Vec<u8>> {
        let root_key = KeyPair::generate().expect("root key");
        let root_der = root.self_signed(&root_key).expect("root").der().to_vec();
        let issuer = Issuer::new(root, root_key);
        let key = KeyPair::generate().expect("key");
        vec![leaf.signed_by(&key, &issuer).expect("leaf").der().to_vec(), root_der]
    }

    fn ip_san(s: &str) -> SanType {
        SanType::IpAddress(ip(s))
    }

    fn dns_san(s: &str) -> SanType {
        SanType::DnsName(s.to_string().try_into().expect("ia5"))
    }

    fn ids(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.rule).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn lint_all(chain: &[Vec<u8>], name: Option<&str>) -> Vec<Finding> {
        let host = name.map(|n| Host::parse(n).expect("host"));
        lint("t", chain, host.as_ref(), &Platform::ALL, now()).expect("lint")
    }

    fn only<'f>(findings: &'f [Finding], rule: &str) -> &'f Finding {
        assert_eq!(ids(findings), [rule], "{findings:#?}");
        &findings[0]
    }

    #[test]
    fn a_pinset_certificate_has_no_findings_for_its_addresses() {
        let chain = pinset_chain(&[ip("192.168.1.10"), ip("fd00::10")], &["hub.local".into()], 397);
        for host in ["192.168.1.10", "fd00::10", "[fd00::10]", "hub.local", "HUB.local."] {
            let f = lint_all(&chain, Some(host));
            assert!(f.is_empty(), "{host}: {f:?}");
        }
        assert!(lint_all(&chain[..1], None).is_empty());
        let f = lint_authorities("t", &chain[1..], &Platform::ALL, now()).expect("lint");
        assert!(f.is_empty(), "{f:?}");
        // Every key type pinset offers but Ed25519 (which eddsa-key reports) passes too.
        for kt in [KeyType::P384, KeyType::Rsa2048] {
            let chain = pinset_chain_of(LeafKind::Server, kt, &[ip("10.0.0.5")], &[], 397);
            assert!(lint_all(&chain, Some("10.0.0.5")).is_empty(), "{kt:?}");
        }
    }

    #[test]
    fn a_self_signed_pinset_server_has_no_findings() {
        let key = KeyType::P256.generate().expect("key");
        let ips = [ip("10.0.0.5")];
        let spec = LeafSpec {
            kind: LeafKind::Server,
            common_name: "hub",
            organization: "t",
            ips: &ips,
            dns: &["hub.local".into()],
            days: 397,
        };
        let leaf = pki::issue_leaf(&spec, &key, KeyType::P256, None, now()).expect("leaf");
        for host in ["10.0.0.5", "hub.local"] {
            assert!(lint_all(std::slice::from_ref(&leaf.cert_der), Some(host)).is_empty(), "{host}");
        }
    }

    #[test]
    fn an_address_outside_the_sans_is_rejected_everywhere() {
        let chain = pinset_chain(&[ip("192.168.1.10")], &[], 397);
        let f = lint_all(&chain, Some("192.168.1.11"));
        let f = only(&f, "name-not-in-san");
        assert_eq!(f.platforms, all(Severity::Reject));
        assert!(f.message.contains("192.168.1.11") && f.message.contains("IP:192.168.1.10"), "{}", f.message);
        assert!(f.fix.contains("--ip 192.168.1.11"), "{}", f.fix);
        let f = lint_all(&chain, Some("hub.local"));
        assert!(only(&f, "name-not-in-san").message.contains("no dNSName SAN"));
    }

    #[test]
    fn apple_825_days_names_the_lifetime_and_only_ios() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
        let f = lint_all(&chain, None);
        let finding = only(&f, "apple-825-days");
        assert_eq!(finding.platforms, vec![Effect { platform: Platform::Ios, severity: Severity::Reject }]);
        assert!(finding.message.starts_with("valid for 900 days ("), "{}", finding.message);
        assert!(finding.fix.contains("--days 397"), "{}", finding.fix);
        assert!(finding.source.contains("HT210176"));
        assert_eq!(verdict(&f, Platform::Ios), Verdict::Rejects);
        assert_eq!(verdict(&f, Platform::Android), Verdict::Accepts);
        // 825 days exactly is allowed.
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 825);
        assert!(lint_all(&chain, None).is_empty());
    }

    #[test]
    fn apple_2019_rules_spare_older_certificates() {
        let mut p = params("old", vec![ip_san("10.0.0.5")]);
        p.not_before = datetime!(2019-06-01 0:00 UTC);
        p.not_after = now() + Duration::days(400);
        p.extended_key_usages = Vec::new();
        assert!(lint_all(&[self_signed(&p)], Some("10.0.0.5")).is_empty());
        p.not_before = datetime!(2019-07-02 0:00 UTC);
        let f = lint_all(&[self_signed(&p)], Some("10.0.0.5"));
        assert_eq!(ids(&f), ["apple-825-days", "no-eku"]);
    }

    #[test]
    fn platform_selection_drops_findings_of_other_platforms() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
        let f = lint("t", &chain, None, &[Platform::Android, Platform::Java], now()).expect("lint");
        assert!(f.is_empty(), "{f:?}");
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
        let f =
            lint("t", &chain, Some(&Host::Ip(ip("10.0.0.6"))), &[Platform::Java, Platform::Ios], now()).expect("lint");
        let platforms: Vec<Platform> = only(&f, "name-not-in-san").platforms.iter().map(|e| e.platform).collect();
        assert_eq!(platforms, [Platform::Ios, Platform::Java]);
    }

    #[test]
    fn expiry_rules_follow_the_clock() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
        let later = now() + Duration::days(400);
        let f = lint("t", &chain, None, &Platform::ALL, later).expect("lint");
        assert_eq!(only(&f, "expired").platforms, all(Severity::Reject));
        let soon = now() + Duration::days(390);
        assert_eq!(ids(&lint("t", &chain, None, &Platform::ALL, soon).expect("lint")), ["expires-soon"]);
        let before = now() - Duration::days(2);
        // The root too (issued at the same time), as a warning: clients differ on anchors.
        let f = lint("t", &chain, None, &Platform::ALL, before).expect("lint");
        assert_eq!(ids(&f), ["not-yet-valid", "not-yet-valid"]);
        assert_eq!((f[0].severity(), f[1].severity()), (Severity::Reject, Severity::Warn));
        // The root expires in ten years: past that, a warning on the root as well.
        let f = lint("t", &chain, None, &Platform::ALL, now() + Duration::days(3700)).expect("lint");
        assert_eq!(ids(&f), ["expired", "expired"]);
        assert_eq!((f[1].certificate, f[1].severity()), (1, Severity::Warn));
    }

    #[test]
    fn garbage_is_an_error_naming_the_input() {
        let err = lint("junk.der", &[vec![0x30, 0x03, 0x02, 0x01]], None, &Platform::ALL, now()).expect_err("junk");
        assert!(err.to_string().contains("junk.der"), "{err}");
        let err = lint("none.pem", &[], None, &Platform::ALL, now()).expect_err("empty");
        assert!(err.to_string().contains("none.pem"), "{err}");
        let mut chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
        chain[1].truncate(40);
        let err = lint("chain.pem", &chain, None, &Platform::ALL, now()).expect_err("truncated");
        assert!(err.to_string().contains("chain.pem (certificate 2)"), "{err}");
    }

    #[test]
    fn hosts_parse_as_ip_or_dns_and_refuse_the_rest() {
        assert_eq!(Host::parse("192.168.1.10").expect("ip"), Host::Ip(ip("192.168.1.10")));
        assert_eq!(Host::parse("[fd00::10]").expect("ip6"), Host::Ip(ip("fd00::10")));
        assert_eq!(Host::parse("Hub.Local.").expect("dns"), Host::Dns("hub.local".into()));
        for bad in ["192.168.1.300", "fd00::zz", "*.shop.example", "hub.local:8443", "", "a b"] {
            assert!(Host::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let err = Host::parse("192.168.1.300").expect_err("bad ip");
        assert!(err.to_string().contains("IP address"), "{err}");
    }

    #[test]
    fn wildcards_match_exactly_one_label() {
        assert!(dns_matches("*.shop.example", "till.shop.example"));
        assert!(dns_matches("HUB.local.", "hub.local"));
        assert!(!dns_matches("*.shop.example", "shop.example"));
        assert!(!dns_matches("*.shop.example", "a.till.shop.example"));
        assert!(!dns_matches("*.local", "hub.local"));
        assert!(!dns_matches("t*.shop.example", "till.shop.example"));
    }

    #[test]
    fn cn_only_names_java_alone_may_fall_back_for_a_dns_name() {
        let p = params("hub.local", Vec::new());
        let der = [self_signed(&p)];
        // Without a name: Java warns (its CN fallback), the others refuse.
        let f = lint_all(&der, None);
        let finding = only(&f, "no-san-cn-only");
        assert_eq!(finding.platforms, effects([R, R, R, W, R]));
        assert!(finding.message.contains("only CN=hub.local"), "{}", finding.message);
        assert!(finding.fix.contains("--dns hub.local"), "{}", finding.fix);
        // Dialled by that name: the same single finding.
        assert_eq!(only(&lint_all(&der, Some("hub.local")), "no-san-cn-only").platforms, effects([R, R, R, W, R]));
        // Another name: Java refuses too, and the mismatch is named.
        let f = lint_all(&der, Some("till.local"));
        assert_eq!(ids(&f), ["no-san-cn-only", "name-not-in-san"]);
        assert_eq!(f[0].platforms, all(Severity::Reject));
        // An IP in the CN: Java has no CN fallback for addresses.
        let der = [self_signed(&params("192.168.1.10", Vec::new()))];
        let f = lint_all(&der, Some("192.168.1.10"));
        assert_eq!(only(&f, "no-san-cn-only").platforms, all(Severity::Reject));
        assert_eq!(only(&lint_all(&der, None), "no-san-cn-only").platforms, all(Severity::Reject));
        assert!(f[0].fix.contains("--ip 192.168.1.10"), "{}", f[0].fix);
    }

    #[test]
    fn a_name_only_in_the_cn_beside_other_sans() {
        let der = [self_signed(&params("hub.local", vec![ip_san("10.0.0.5")]))];
        let f = lint_all(&der, Some("hub.local"));
        // Java's HostnameChecker uses the CN when there is no dNSName SAN at all.
        assert_eq!(only(&f, "name-only-in-cn").platforms, effects([R, R, R, W, R]));
        let der = [self_signed(&params("hub.local", vec![dns_san("till.local")]))];
        assert_eq!(only(&lint_all(&der, Some("hub.local")), "name-only-in-cn").platforms, all(Severity::Reject));
    }

    #[test]
    fn an_ip_written_as_a_dns_san_is_found_with_or_without_a_name() {
        let der = [self_signed(&params("server", vec![dns_san("192.168.1.10")]))];
        let f = lint_all(&der, Some("192.168.1.10"));
        let finding = only(&f, "ip-only-as-dns-san");
        assert_eq!(finding.platforms, all(Severity::Reject));
        assert!(finding.message.contains("DNS:192.168.1.10"), "{}", finding.message);
        assert!(finding.fix.contains("IP:192.168.1.10"), "{}", finding.fix);
        // No name: nothing else in the certificate can match, so every platform refuses.
        assert_eq!(only(&lint_all(&der, None), "ip-only-as-dns-san").platforms, all(Severity::Reject));
        // Beside a usable name it is a warning without --name.
        let der = [self_signed(&params("server", vec![dns_san("192.168.1.10"), dns_san("hub.local")]))];
        assert_eq!(only(&lint_all(&der, None), "ip-only-as-dns-san").platforms, all(Severity::Warn));
        assert!(lint_all(&der, Some("hub.local")).is_empty());
        // Beside the iPAddress SAN of the same address it is harmless.
        let der = [self_signed(&params("server", vec![dns_san("192.168.1.10"), ip_san("192.168.1.10")]))];
        assert!(lint_all(&der, None).is_empty());
    }

    #[test]
    fn extended_key_usage_rules() {
        let mut p = params("s", vec![ip_san("10.0.0.5")]);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let f = lint_all(&[self_signed(&p)], None);
        let finding = only(&f, "eku-without-server-auth");
        assert_eq!(finding.platforms, all(Severity::Reject));
        assert!(finding.message.contains("clientAuth"), "{}", finding.message);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
        assert_eq!(
            only(&lint_all(&[self_signed(&p)], None), "eku-without-server-auth").platforms,
            effects([R, NONE, NONE, NONE, NONE])
        );
        p.extended_key_usages = Vec::new();
        assert_eq!(only(&lint_all(&[self_signed(&p)], None), "no-eku").platforms, effects([R, NONE, NONE, NONE, NONE]));
        // A pinset client certificate is not a server's.
        let chain = pinset_chain_of(LeafKind::Client, KeyType::P256, &[], &[], 397);
        let f = lint_all(&chain, None);
        assert_eq!(ids(&f), ["eku-without-server-auth", "no-san-cn-only"]);
    }

    #[test]
    fn key_usage_must_allow_the_handshake_signature() {
        let mut p = params("s", vec![ip_san("10.0.0.5")]);
        p.key_usages = vec![KeyUsagePurpose::KeyAgreement];
        let f = lint_all(&[self_signed(&p)], None);
        let finding = only(&f, "key-usage-mismatch");
        // Java, and BoringSSL in Chrome and Android; OkHttp follows its platform; Apple is silent.
        assert_eq!(finding.platforms, effects([NONE, R, R, R, R]));
        assert!(finding.message.contains("keyUsage is keyAgreement") && finding.message.contains("EC P-256"));
    }

    #[test]
    fn a_ca_certificate_as_the_server_is_a_warning() {
        let mut p = params("s", vec![ip_san("10.0.0.5")]);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages.push(KeyUsagePurpose::KeyCertSign);
        let f = lint_all(&[self_signed(&p)], Some("10.0.0.5"));
        assert_eq!(only(&f, "ca-cert-as-server").platforms, all(Severity::Warn));
        assert!(Platform::ALL.iter().all(|&pl| verdict(&f, pl) == Verdict::AcceptsWithWarnings));
    }

    #[test]
    fn an_issuer_must_be_a_ca() {
        let leaf = params("s", vec![ip_san("10.0.0.5")]);
        let mut not_ca = params("not a CA", Vec::new());
        not_ca.extended_key_usages = Vec::new();
        // Self-issued: a root, which only Chrome checks.
        let chain = signed(&leaf, not_ca.clone());
        let f = lint_all(&chain, Some("10.0.0.5"));
        let finding = only(&f, "issuer-not-ca");
        assert_eq!((finding.certificate, &finding.platforms), (1, &effects([NONE, NONE, R, NONE, NONE])));
        assert!(finding.message.contains("cA=FALSE") && finding.message.contains("without keyCertSign"));
        // A certificate that does not sign the one before it is not blamed.
        let unrelated = self_signed(&ca_params("other CA"));
        let chain = vec![chain[0].clone(), unrelated];
        assert!(lint_all(&chain, Some("10.0.0.5")).is_empty());
    }

    #[test]
    fn name_constraints_of_the_chain_are_checked() {
        let leaf = params("s", vec![ip_san("192.168.1.10"), dns_san("hub.shop.example")]);
        let mut root = ca_params("constrained root");
        root.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![
                GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([10, 0, 0, 0], 8)),
                GeneralSubtree::DnsName("shop.example".into()),
            ],
            excluded_subtrees: Vec::new(),
        });
        let chain = signed(&leaf, root.clone());
        let f = lint_all(&chain, Some("192.168.1.10"));
        let finding = only(&f, "name-constraints");
        // A root's constraints: Chrome enforces them on locally trusted roots.
        assert_eq!((finding.certificate, &finding.platforms), (1, &effects([NONE, NONE, R, NONE, NONE])));
        assert!(
            finding.message.contains("IP:192.168.1.10 is outside the permitted IP:10.0.0.0/8"),
            "{}",
            finding.message
        );
        assert!(!finding.message.contains("hub.shop.example"), "{}", finding.message);
        // Inside the constraints: nothing.
        let ok = params("s", vec![ip_san("10.1.2.3"), dns_san("hub.shop.example")]);
        assert!(lint_all(&signed(&ok, root.clone()), Some("10.1.2.3")).is_empty());
        // An excluded name.
        root.name_constraints = Some(NameConstraints {
            permitted_subtrees: Vec::new(),
            excluded_subtrees: vec![GeneralSubtree::DnsName("shop.example".into())],
        });
        let f = lint_all(&signed(&leaf, root), None);
        assert!(
            only(&f, "name-constraints").message.contains("DNS:hub.shop.example is in the excluded DNS:shop.example")
        );
    }

    #[test]
    fn eddsa_keys_are_refused_by_apple_and_chrome() {
        let chain = pinset_chain_of(LeafKind::Server, KeyType::Ed25519, &[ip("10.0.0.5")], &[], 397);
        let finding = only(&lint_all(&chain, Some("10.0.0.5")), "eddsa-key").clone();
        assert_eq!(finding.platforms, effects([R, W, R, W, W]));
        assert!(finding.message.contains("Ed25519"));
    }

    #[test]
    fn a_root_without_cn_is_an_ios_warning() {
        let mut root = ca_params("x");
        root.distinguished_name = rcgen::DistinguishedName::new();
        root.distinguished_name.push(DnType::OrganizationName, "Shop");
        let chain = signed(&params("s", vec![ip_san("10.0.0.5")]), root);
        let f = lint_all(&chain, Some("10.0.0.5"));
        let finding = only(&f, "root-without-cn");
        assert_eq!((finding.certificate, &finding.platforms), (1, &effects([W, NONE, NONE, NONE, NONE])));
    }

    #[test]
    fn findings_serialize_with_their_severity_and_fix() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
        let f = lint_all(&chain, None);
        let v = serde_json::to_value(&f[0]).expect("json");
        assert_eq!(v["rule"], "apple-825-days");
        assert_eq!(v["severity"], "reject");
        assert_eq!(v["platforms"], serde_json::json!([{"platform": "ios", "severity": "reject"}]));
        assert!(v["fix"].as_str().is_some_and(|s| s.contains("--days")), "{v}");
        assert!(v["source"].as_str().is_some_and(|s| s.contains("HT210176")), "{v}");
    }

    #[test]
    fn platform_text_groups_by_severity() {
        let f = Finding {
            rule: "x",
            certificate: 0,
            subject: String::new(),
            platforms: trust(R, W, W, W),
            message: "m".into(),
            fix: "f".into(),
            source: "s",
        };
        assert_eq!(f.platforms_text(), "ios rejects; android, chrome, java, okhttp warn");
        assert_eq!(f.severity(), Severity::Reject);
        assert_eq!("macos".parse::<Platform>().expect("alias"), Platform::Ios);
    }

    #[test]
    fn every_rule_has_a_unique_id_and_a_source() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate {}", r.id);
            assert!(!r.source.is_empty());
        }
    }
}
