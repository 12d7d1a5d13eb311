//! Certificate rules the client platforms enforce: will iOS/macOS, Android, Chrome, Java and
//! OkHttp accept this certificate for this address? Each [`Finding`] names its [`Rule`], the
//! platforms it affects with a [`Severity`] each, the value in question and the rule's source.
//!
//! The facts come from PLATFORMS.md ("Certificate rules the platforms enforce") and the
//! sources each rule cites. OkHttp checks names with its own hostname verifier (no CN
//! fallback since 3.10) but leaves chain validation to the platform's trust manager, so for
//! chain rules it gets the stricter verdict of Android and Java.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;

use crate::cert::{self, San};
use crate::error::{Error, Result};
use crate::pki::APPLE_MAX_SERVER_DAYS;

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
    source: "Apple: Requirements for trusted certificates in iOS 13 and macOS 10.15 (HT210176): validity of 825 days or fewer",
};
/// Apple requires an extendedKeyUsage extension with serverAuth on server certificates
/// issued since 2019-07-01; without one, iOS and macOS refuse the connection.
pub const NO_EKU: Rule = Rule {
    id: "no-eku",
    source: "Apple: Requirements for trusted certificates in iOS 13 and macOS 10.15 (HT210176): an extendedKeyUsage extension containing id-kp-serverAuth",
};
/// An extendedKeyUsage without serverAuth forbids TLS server use: every verifier refuses it
/// (anyExtendedKeyUsage satisfies all but Apple).
pub const EKU_WITHOUT_SERVER_AUTH: Rule = Rule {
    id: "eku-without-server-auth",
    source: "RFC 5280 §4.2.1.12; JSSE EndEntityChecker: extendedKeyUsage must include serverAuth; Apple HT210176; Chromium and Conscrypt check it too",
};
/// Apple wants RSA keys of at least 2048 bits in servers and issuing CAs; the others refuse
/// only below 1024 bits and merely fall short of the baseline between the two.
pub const RSA_BELOW_2048: Rule = Rule {
    id: "rsa-below-2048",
    source: "Apple HT210176 (RSA of 2048 bits or more); CA/Browser Forum Baseline Requirements §6.1.5; below 1024 bits Chrome, Android (Conscrypt ChainStrengthAnalyzer) and Java (jdk.certpath.disabledAlgorithms) refuse",
};
/// SHA-1 signatures can be forged (SHAttered, 2017): Apple, Chrome and Android refuse them;
/// Java refuses them only under its own bundled roots.
pub const SHA1_SIGNATURE: Rule = Rule {
    id: "sha1-signature",
    source: "Apple HT210176 (SHA-2 signatures only); Chrome 57+ refuses SHA-1; Android Conscrypt ChainStrengthAnalyzer; Java disables SHA-1 only for chains to its own roots (jdk.certpath.disabledAlgorithms: SHA1 jdkCA & usage TLSServer)",
};
/// MD5 (and MD2, MD4) signatures are broken: every platform refuses them.
pub const MD5_SIGNATURE: Rule = Rule {
    id: "md5-signature",
    source: "RFC 6151; Apple HT210176 (SHA-2 only); Chrome; Android Conscrypt ChainStrengthAnalyzer; Java jdk.certpath.disabledAlgorithms (MD2, MD5)",
};
/// Names only in the subject CN: Chrome, Apple, OkHttp and Android ignore the CN; Java
/// still falls back to it, for DNS names only.
pub const NO_SAN_CN_ONLY: Rule = Rule {
    id: "no-san-cn-only",
    source: "Chrome 58: commonName no longer matched (SAN required); Apple HT210176: names in the SAN only; OkHttp 3.10 and Android 9: no CN fallback; Java HostnameChecker falls back to the CN for DNS names only",
};
/// The address dialled is in the CN but not in a SAN of its type: only Java, for a DNS name
/// and a certificate without any DNS SAN, still accepts that.
pub const NAME_ONLY_IN_CN: Rule = Rule {
    id: "name-only-in-cn",
    source: "Chrome 58: commonName no longer matched (SAN required); Apple HT210176; OkHttp 3.10 and Android 9: no CN fallback; Java HostnameChecker: CN only for a DNS name when no DNS SAN exists",
};
/// An IP address written as a dNSName SAN matches nothing: clients compare IP hosts only
/// with iPAddress SANs.
pub const IP_ONLY_AS_DNS_SAN: Rule = Rule {
    id: "ip-only-as-dns-san",
    source: "RFC 2818 §3.1: for an IP address the iPAddress subjectAltName must be present and match exactly",
};
/// The address dialled is in no SAN: every platform's hostname check fails.
pub const NAME_NOT_IN_SAN: Rule = Rule {
    id: "name-not-in-san",
    source: "RFC 2818 §3.1 / RFC 6125 §6.4: the name dialled must match a subjectAltName of its type",
};
/// Past notAfter a certificate is refused everywhere.
pub const EXPIRED: Rule = Rule {
    id: "expired",
    source: "RFC 5280 §4.1.2.5 / §6.1.3: a certificate is valid only from notBefore to notAfter",
};
/// Before notBefore a certificate is refused everywhere (often a device clock running slow).
pub const NOT_YET_VALID: Rule = Rule {
    id: "not-yet-valid",
    source: "RFC 5280 §4.1.2.5 / §6.1.3: a certificate is valid only from notBefore to notAfter",
};
/// A certificate about to expire must be renewed and deployed before it stops every client.
pub const EXPIRES_SOON: Rule = Rule {
    id: "expires-soon",
    source: "RFC 5280 §4.1.2.5; pinset warns 30 days ahead so a renewal reaches every server in time",
};
/// JSSE checks keyUsage against the key exchange: ECDHE and TLS 1.3 need digitalSignature,
/// TLS 1.2 RSA key exchange keyEncipherment.
pub const KEY_USAGE_MISMATCH: Rule = Rule {
    id: "key-usage-mismatch",
    source: "JSSE EndEntityChecker: keyUsage must fit the key exchange (digitalSignature for ECDHE and TLS 1.3, keyEncipherment for RSA key exchange); RFC 5280 §4.2.1.3",
};
/// A root installed by hand on iOS must be enabled in Certificate Trust Settings, which
/// lists roots by their CN: without one it cannot be enabled.
pub const ROOT_WITHOUT_CN: Rule = Rule {
    id: "root-without-cn",
    source: "Apple: Trust manually installed certificate profiles in iOS (HT204477): a root must be enabled in Certificate Trust Settings, which needs a CN to list it",
};
/// A CA certificate (cA=TRUE) used as the server's: the five platforms accept it, but
/// rustls/webpki (pinset verify, pinset get, PinnedVerifier) refuse it.
pub const CA_CERT_AS_SERVER: Rule = Rule {
    id: "ca-cert-as-server",
    source: "RFC 5280 §4.2.1.9; rustls-webpki refuses a CA certificate as an end entity (CaUsedAsEndEntity)",
};
/// A chain certificate that signs another needs cA=TRUE and, with a keyUsage, keyCertSign.
pub const ISSUER_NOT_CA: Rule = Rule {
    id: "issuer-not-ca",
    source: "RFC 5280 §6.1.4 (k), (n): an issuing certificate needs basicConstraints cA=TRUE and, with keyUsage, keyCertSign",
};
/// Ed25519 certificates: Apple's trust evaluation and Chromium's verifier have no Ed25519;
/// Java has it from version 15, Android only on recent versions.
pub const ED25519_KEY: Rule = Rule {
    id: "ed25519-key",
    source: "Chromium's certificate verifier and Apple's SecTrust support RSA and ECDSA only; Java 15+ (JEP 339); pinset KeyType::Ed25519",
};
/// An extension pinset cannot read (duplicated or malformed) makes clients refuse the
/// certificate.
pub const MALFORMED_EXTENSION: Rule = Rule {
    id: "malformed-extension",
    source: "RFC 5280 §4.2: each extension at most once, in its defined syntax; clients refuse certificates they cannot parse",
};

/// Every rule, in the order reports list them.
pub const RULES: [Rule; 19] = [
    MALFORMED_EXTENSION,
    EXPIRED,
    NOT_YET_VALID,
    EXPIRES_SOON,
    APPLE_825_DAYS,
    NO_EKU,
    EKU_WITHOUT_SERVER_AUTH,
    RSA_BELOW_2048,
    ED25519_KEY,
    SHA1_SIGNATURE,
    MD5_SIGNATURE,
    KEY_USAGE_MISMATCH,
    CA_CERT_AS_SERVER,
    NO_SAN_CN_ONLY,
    IP_ONLY_AS_DNS_SAN,
    NAME_ONLY_IN_CN,
    NAME_NOT_IN_SAN,
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
/// Days before notAfter from which `expires-soon` warns.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What a rule found in one certificate of the input.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
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
    /// The rule's source.
    pub source: &'static str,
}

impl Finding {
    fn new(rule: Rule, c: &Cert<'_>, platforms: Vec<Effect>, message: String) -> Finding {
        Finding {
            rule: rule.id,
            certificate: c.index,
            subject: c.subject.clone(),
            platforms,
            message,
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
        let group = |sev: Severity| self.platforms.iter().filter(move |e| e.severity == sev).map(|e| e.platform.name());
        let mut parts = Vec::new();
        for (sev, verb) in [(Severity::Reject, "rejects"), (Severity::Warn, "warns")] {
            let names: Vec<&str> = group(sev).collect();
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
        match crate::plan::parse_ip(s) {
            Ok(ip) => return Ok(Host::Ip(ip)),
            Err(e) if looks_like_ip(s.trim()) => return Err(e),
            Err(_) => {}
        }
        let name = crate::plan::parse_dns(s)?;
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
/// certificates are its chain, used for chain rules such as `root-without-cn`) for the
/// `platforms` given, at time `now`. With `name`, also checks that the address clients dial
/// is named the way each platform requires. `source` names the input in errors.
pub fn lint(
    source: &str,
    chain_der: &[Vec<u8>],
    name: Option<&Host>,
    platforms: &[Platform],
    now: OffsetDateTime,
) -> Result<Vec<Finding>> {
    let certs = parse_all(source, chain_der)?;
    let mut findings = Vec::new();
    for c in &certs {
        if c.index == 0 {
            server_rules(c, name, now, &mut findings);
        } else {
            chain_rules(c, now, &mut findings);
        }
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
        chain_rules(c, now, &mut findings);
    }
    Ok(select(findings, platforms))
}

/// Keeps only `platforms` in each finding, and the findings left with any.
fn select(findings: Vec<Finding>, platforms: &[Platform]) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| {
            f.platforms.retain(|e| platforms.contains(&e.platform));
            f.platforms.sort_by_key(|e| e.platform);
            (!f.platforms.is_empty()).then_some(f)
        })
        .collect()
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

fn server_rules(c: &Cert<'_>, name: Option<&Host>, now: OffsetDateTime, out: &mut Vec<Finding>) {
    let x = &c.x509;
    let ext = Extensions::read(c, out);
    validity_rules(c, now, out);
    let not_before = x.validity().not_before.to_datetime();
    let not_after = x.validity().not_after.to_datetime();
    let apple_2019 = not_before >= APPLE_2019_RULES_FROM;

    // Apple: 825 days.
    let lifetime = not_after - not_before;
    if apple_2019 && lifetime > Duration::days(i64::from(APPLE_MAX_SERVER_DAYS)) {
        out.push(Finding::new(
            APPLE_825_DAYS,
            c,
            effects([R, None, None, None, None]),
            format!(
                "valid for {} ({} to {}); iOS and macOS accept at most {APPLE_MAX_SERVER_DAYS} days",
                span(lifetime),
                date(not_before),
                date(not_after)
            ),
        ));
    }

    // Extended key usage.
    match &ext.eku {
        Some(Some(eku)) if !eku.server_auth && !eku.any => {
            let listed = eku_names(eku);
            out.push(Finding::new(
                EKU_WITHOUT_SERVER_AUTH,
                c,
                trust(R, R, R, R),
                format!("extendedKeyUsage is {listed}, without serverAuth: not usable for a TLS server"),
            ));
        }
        Some(Some(eku)) if !eku.server_auth && apple_2019 => out.push(Finding::new(
            EKU_WITHOUT_SERVER_AUTH,
            c,
            effects([R, None, None, None, None]),
            format!("extendedKeyUsage is {} without serverAuth: Apple requires serverAuth itself", eku_names(eku)),
        )),
        Some(None) if apple_2019 => out.push(Finding::new(
            NO_EKU,
            c,
            effects([R, None, None, None, None]),
            format!(
                "no extendedKeyUsage extension (issued {}): iOS and macOS require one with serverAuth",
                date(not_before)
            ),
        )),
        _ => {}
    }

    key_rules(c, "the server's key", out);
    signature_rules(c, out);
    key_usage_rule(c, &ext, out);

    if let Some(Some(true)) = ext.ca {
        out.push(Finding::new(
            CA_CERT_AS_SERVER,
            c,
            all(Severity::Warn),
            "basicConstraints cA=TRUE: a CA certificate serves as the server's; pinset verify/get and other rustls \
             clients refuse it"
                .into(),
        ));
    }

    if let Some(sans) = &ext.sans {
        name_rules(c, sans, name, out);
    }
    if c.self_issued {
        root_rules(c, out);
    }
}

/// Rules for a certificate of the chain (or of a CA bundle). A self-issued one is a trust
/// anchor (a root); the others are intermediates that sign the certificate before them.
fn chain_rules(c: &Cert<'_>, now: OffsetDateTime, out: &mut Vec<Finding>) {
    let ext = Extensions::read(c, out);
    key_rules(c, "this CA's key", out);
    if c.self_issued {
        // A trust anchor is trusted as a key and a name: its own dates and self-signature
        // are not what clients check.
        root_rules(c, out);
        return;
    }
    validity_rules(c, now, out);
    signature_rules(c, out);
    let mut problems = Vec::new();
    match ext.ca {
        Some(Some(true)) => {}
        Some(Some(false)) => problems.push("basicConstraints cA=FALSE".to_string()),
        Some(None) => problems.push("no basicConstraints extension".to_string()),
        None => {}
    }
    if let Some(Some(ku)) = &ext.ku
        && !ku.key_cert_sign()
    {
        problems.push("keyUsage without keyCertSign".into());
    }
    if !problems.is_empty() {
        out.push(Finding::new(
            ISSUER_NOT_CA,
            c,
            trust(R, R, R, R),
            format!("this chain certificate signs the one before it but has {}", problems.join(" and ")),
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
            bad.dedup();
            out.push(Finding::new(
                MALFORMED_EXTENSION,
                c,
                all(Severity::Reject),
                format!("the {} extension is duplicated or malformed", bad.join(", ")),
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

fn validity_rules(c: &Cert<'_>, now: OffsetDateTime, out: &mut Vec<Finding>) {
    let not_before = c.x509.validity().not_before.to_datetime();
    let not_after = c.x509.validity().not_after.to_datetime();
    if now > not_after {
        out.push(Finding::new(
            EXPIRED,
            c,
            all(Severity::Reject),
            format!("expired on {} ({} ago)", date(not_after), span(now - not_after)),
        ));
    } else if now < not_before {
        out.push(Finding::new(
            NOT_YET_VALID,
            c,
            all(Severity::Reject),
            format!(
                "not valid before {} (in {}); a device whose clock is behind refuses it too",
                date(not_before),
                span(not_before - now)
            ),
        ));
    } else if not_after - now < Duration::days(EXPIRY_WARNING_DAYS) {
        out.push(Finding::new(
            EXPIRES_SOON,
            c,
            all(Severity::Warn),
            format!("expires on {} (in {}): renew it now", date(not_after), span(not_after - now)),
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
        out.push(Finding::new(RSA_BELOW_2048, c, trust(R, others, others, others), message));
    }
    if key.algorithm == "Ed25519" || key.algorithm == "Ed448" {
        out.push(Finding::new(
            ED25519_KEY,
            c,
            trust(R, W, R, W),
            format!(
                "{role} is {}: Apple and Chrome cannot use it; Java needs version 15 or later, Android a recent \
                 version",
                key.algorithm
            ),
        ));
    }
}

fn signature_rules(c: &Cert<'_>, out: &mut Vec<Finding>) {
    let oid = c.x509.signature_algorithm.algorithm.to_id_string();
    let name = cert::signature_name(&c.x509.signature_algorithm.algorithm);
    match oid.as_str() {
        // md2WithRSAEncryption, md4WithRSAEncryption, md5WithRSAEncryption
        "1.2.840.113549.1.1.2" | "1.2.840.113549.1.1.3" | "1.2.840.113549.1.1.4" => out.push(Finding::new(
            MD5_SIGNATURE,
            c,
            all(Severity::Reject),
            format!("signed with {}: a broken hash every platform refuses", md_name(&oid)),
        )),
        // sha1WithRSAEncryption, its old OIW id, ecdsa-with-SHA1, dsa-with-sha1
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" => out.push(Finding::new(
            SHA1_SIGNATURE,
            c,
            trust(R, R, R, W),
            format!(
                "signed with {}: Apple, Chrome and Android refuse SHA-1; Java accepts it under a private CA",
                if name == oid { "SHA-1".to_string() } else { name }
            ),
        )),
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

fn key_usage_rule(c: &Cert<'_>, ext: &Extensions<'_>, out: &mut Vec<Finding>) {
    let Some(Some(ku)) = ext.ku else { return };
    let key = cert::key_info(c.x509.public_key());
    let has = cert_ku_names(ku);
    if ku.digital_signature() {
        return;
    }
    let (java, message) = if key.algorithm.starts_with("RSA") {
        if ku.key_encipherment() {
            (
                Severity::Warn,
                format!(
                    "keyUsage is {has}, without digitalSignature: Java allows only TLS 1.2 RSA key exchange \
                     (no ECDHE, no TLS 1.3) with this RSA key"
                ),
            )
        } else {
            (
                Severity::Reject,
                format!(
                    "keyUsage is {has}: an RSA server key needs digitalSignature (ECDHE, TLS 1.3) or \
                     keyEncipherment (RSA key exchange)"
                ),
            )
        }
    } else {
        (
            Severity::Reject,
            format!(
                "keyUsage is {has}: the server's {} key needs digitalSignature to sign the handshake",
                key.algorithm
            ),
        )
    };
    out.push(Finding::new(KEY_USAGE_MISMATCH, c, trust(None, None, None, Some(java)), message));
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
            effects([W, None, None, None, None]),
            format!(
                "this root has no CN (subject {}): installed by hand on iOS it cannot be enabled in Certificate \
                 Trust Settings",
                c.subject
            ),
        ));
    }
}

fn name_rules(c: &Cert<'_>, sans: &[San], name: Option<&Host>, out: &mut Vec<Finding>) {
    let has_dns = sans.iter().any(|s| matches!(s, San::Dns(_)));
    let has_ip = sans.iter().any(|s| matches!(s, San::Ip(_)));
    let cn_text = c.cn.as_deref().map(|cn| format!("CN={cn}")).unwrap_or_else(|| "no CN either".into());
    if !has_dns && !has_ip {
        // Java falls back to the CN for DNS names only: a warning without a name to check.
        let java = match name {
            Some(Host::Ip(_)) => R,
            Some(Host::Dns(_)) | None => W,
        };
        let java = if c.cn.is_none() { R } else { java };
        out.push(Finding::new(
            NO_SAN_CN_ONLY,
            c,
            effects([R, R, R, java, R]),
            format!(
                "no DNS or IP subjectAltName, only {cn_text}: Apple, Chrome, Android 9+ and OkHttp ignore the CN; \
                 Java uses it for DNS names only"
            ),
        ));
    }
    let Some(host) = name else { return };
    let in_san = sans.iter().any(|s| match (s, host) {
        (San::Ip(a), Host::Ip(b)) => a == b,
        (San::Dns(pattern), Host::Dns(n)) => dns_matches(pattern, n),
        _ => false,
    });
    if in_san {
        return;
    }
    let san_list = if sans.is_empty() {
        "the certificate has none".to_string()
    } else {
        sans.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    if let Host::Ip(ip) = host
        && let Some(as_dns) = sans.iter().find_map(|s| match s {
            San::Dns(d) if parse_ip_text(d) == Some(*ip) => Some(d),
            _ => None,
        })
    {
        out.push(Finding::new(
            IP_ONLY_AS_DNS_SAN,
            c,
            all(Severity::Reject),
            format!(
                "{ip} is only a DNS SAN (DNS:{as_dns}); clients connecting by IP compare only iPAddress SANs \
                 (SANs: {san_list})"
            ),
        ));
        return;
    }
    let cn_matches = c.cn.as_deref().is_some_and(|cn| match host {
        Host::Ip(ip) => parse_ip_text(cn) == Some(*ip),
        Host::Dns(n) => dns_matches(cn, n),
    });
    if cn_matches {
        // Java's HostnameChecker: a DNS name may match the CN when there is no DNS SAN.
        let java = match host {
            Host::Dns(_) if !has_dns => None,
            _ => R,
        };
        out.push(Finding::new(
            NAME_ONLY_IN_CN,
            c,
            effects([R, R, R, java, R]),
            format!(
                "{host} is only in the subject CN, not in a {} SAN (SANs: {san_list})",
                if matches!(host, Host::Ip(_)) { "iPAddress" } else { "dNSName" }
            ),
        ));
        return;
    }
    out.push(Finding::new(
        NAME_NOT_IN_SAN,
        c,
        all(Severity::Reject),
        format!(
            "{host} is in no {} SAN (SANs: {san_list})",
            if matches!(host, Host::Ip(_)) { "iPAddress" } else { "dNSName" }
        ),
    ));
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

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// A pinset CA and a server certificate for `ips`/`dns` valid `days`: [leaf, root].
    fn pinset_chain(ips: &[IpAddr], dns: &[String], days: u32) -> Vec<Vec<u8>> {
        let ca_key = KeyType::P256.generate().expect("ca key");
        let root = pki::new_root("pinset CA test", "test", &ca_key, now()).expect("root");
        let issuer = pki::load_issuer(&root.cert_der, &ca_key.serialize_pem(), "ca").expect("issuer");
        let key = KeyType::P256.generate().expect("key");
        let spec = LeafSpec { kind: LeafKind::Server, common_name: "server", organization: "test", ips, dns, days };
        let leaf = pki::issue_leaf(&spec, &key, KeyType::P256, Some(&issuer), now()).expect("leaf");
        vec![leaf.cert_der, root.cert_der]
    }

    fn ids(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.rule).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_pinset_certificate_has_no_findings_for_its_addresses() {
        let chain = pinset_chain(&[ip("192.168.1.10"), ip("fd00::10")], &["hub.local".into()], 397);
        for host in [Host::Ip(ip("192.168.1.10")), Host::Ip(ip("fd00::10")), Host::Dns("hub.local".into())] {
            let f = lint("t", &chain, Some(&host), &Platform::ALL, now()).expect("lint");
            assert!(f.is_empty(), "{host}: {f:?}");
        }
        let f = lint_authorities("t", &chain[1..], &Platform::ALL, now()).expect("lint");
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn an_address_outside_the_sans_is_rejected_everywhere() {
        let chain = pinset_chain(&[ip("192.168.1.10")], &[], 397);
        let f = lint("t", &chain, Some(&Host::Ip(ip("192.168.1.11"))), &Platform::ALL, now()).expect("lint");
        assert_eq!(ids(&f), ["name-not-in-san"]);
        assert_eq!(f[0].platforms, all(Severity::Reject));
        assert!(f[0].message.contains("192.168.1.11") && f[0].message.contains("IP:192.168.1.10"), "{}", f[0].message);
    }

    #[test]
    fn apple_825_days_names_the_lifetime_and_only_ios() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
        let f = lint("t", &chain, None, &Platform::ALL, now()).expect("lint");
        assert_eq!(ids(&f), ["apple-825-days"]);
        assert_eq!(f[0].platforms, vec![Effect { platform: Platform::Ios, severity: Severity::Reject }]);
        assert!(f[0].message.starts_with("valid for 900 days ("), "{}", f[0].message);
        assert_eq!(verdict(&f, Platform::Ios), Verdict::Rejects);
        assert_eq!(verdict(&f, Platform::Android), Verdict::Accepts);
        // 825 days exactly is allowed.
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 825);
        assert!(lint("t", &chain, None, &Platform::ALL, now()).expect("lint").is_empty());
    }

    #[test]
    fn platform_selection_drops_findings_of_other_platforms() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
        let f = lint("t", &chain, None, &[Platform::Android, Platform::Java], now()).expect("lint");
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn expiry_rules_follow_the_clock() {
        let chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
        let later = now() + Duration::days(400);
        let f = lint("t", &chain, None, &Platform::ALL, later).expect("lint");
        assert_eq!(ids(&f), ["expired"]);
        let soon = now() + Duration::days(390);
        assert_eq!(ids(&lint("t", &chain, None, &Platform::ALL, soon).expect("lint")), ["expires-soon"]);
        let before = now() - Duration::days(2);
        assert_eq!(ids(&lint("t", &chain, None, &Platform::ALL, before).expect("lint")), ["not-yet-valid"]);
    }

    #[test]
    fn garbage_is_an_error_naming_the_input() {
        let err = lint("junk.der", &[vec![0x30, 0x03, 0x02, 0x01]], None, &Platform::ALL, now()).expect_err("junk");
        assert!(err.to_string().contains("junk.der"), "{err}");
        let err = lint("none.pem", &[], None, &Platform::ALL, now()).expect_err("empty");
        assert!(err.to_string().contains("none.pem"), "{err}");
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
    fn platform_text_groups_by_severity() {
        let f = Finding {
            rule: "x",
            certificate: 0,
            subject: String::new(),
            platforms: trust(R, W, W, W),
            message: "m".into(),
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
