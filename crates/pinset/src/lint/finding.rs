//! What a lint run reports: the platforms pinset knows, how each treats a finding
//! ([`Severity`]), the findings themselves, each platform's [`Verdict`], and the helpers the
//! rules use to say which platforms a finding affects.

use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeStruct as _;

use super::parsed::Cert;
use super::rules::Rule;
use crate::error::{Error, Result};

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
    /// What to do about it, in words (with openssl's spelling where it helps).
    pub fix: String,
    /// When the fix is to issue the server certificate again: what to change, as data a
    /// front end words in its own options.
    pub reissue: Option<Reissue>,
    /// The rule's source.
    pub source: &'static str,
}

/// A server certificate issued again with these changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reissue {
    /// Addresses it must name (each as the SAN type its kind needs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<crate::address::Host>,
    /// Every address clients dial must be named, and the finding cannot tell which.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub every_address: bool,
    /// Its validity, in days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Its key type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_type: Option<crate::pki::KeyType>,
}

impl serde::Serialize for Finding {
    /// The fields, plus `severity`: the strictest among the platforms.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Finding", 9)?;
        s.serialize_field("rule", self.rule)?;
        s.serialize_field("severity", &self.severity())?;
        s.serialize_field("certificate", &self.certificate)?;
        s.serialize_field("subject", &self.subject)?;
        s.serialize_field("platforms", &self.platforms)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("fix", &self.fix)?;
        if let Some(r) = &self.reissue {
            s.serialize_field("reissue", r)?;
        } else {
            s.skip_field("reissue")?;
        }
        s.serialize_field("source", self.source)?;
        s.end()
    }
}

impl Finding {
    pub(super) fn new(
        rule: Rule,
        c: &Cert<'_>,
        platforms: Vec<Effect>,
        message: String,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            rule: rule.id,
            certificate: c.index,
            subject: c.subject.clone(),
            platforms,
            message,
            fix: fix.into(),
            reissue: None,
            source: rule.source,
        }
    }

    /// This finding, fixed by issuing the server certificate again with `reissue`.
    pub(super) fn reissued(mut self, reissue: Reissue) -> Finding {
        self.reissue = Some(reissue);
        self
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

/// Every platform with the same severity.
pub(super) fn all(severity: Severity) -> Vec<Effect> {
    Platform::ALL.iter().map(|&platform| Effect { platform, severity }).collect()
}

/// Effects of a chain-validation rule: OkHttp leaves chain validation to the platform's
/// trust manager, so it gets the stricter of Android's and Java's severities.
pub(super) fn trust(
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
pub(super) fn effects(per_platform: [Option<Severity>; 5]) -> Vec<Effect> {
    Platform::ALL
        .iter()
        .zip(per_platform)
        .filter_map(|(&platform, s)| s.map(|severity| Effect { platform, severity }))
        .collect()
}

/// Shorthands for [`effects`] and [`trust`]: the platform rejects, warns, is not affected.
pub(super) const R: Option<Severity> = Some(Severity::Reject);
pub(super) const W: Option<Severity> = Some(Severity::Warn);
pub(super) const NONE: Option<Severity> = None;
