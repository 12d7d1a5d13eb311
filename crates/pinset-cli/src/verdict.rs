//! How a verification result is shown, by every command that checks a chain (`verify`,
//! `get`, live `pin`): the typed JSON of a result, and the same in words.

use pinset::Pin;
use pinset_tls::VerifyError;
use pinset_tls::verifier::{ChainLink, PinCheck, Position, Verified};

use crate::output::untrusted;

/// A verification result as `--json` writes it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VerdictJson {
    /// Whether the chain was accepted.
    pub valid: bool,
    /// The name or address it was checked for.
    pub name: String,
    /// Why it was refused (kebab-case kind), when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<pinset_tls::FailureKind>,
    /// The verifier's words for a refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What the pin check concluded, for an accepted chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pins: Option<PinCheck>,
    /// The chain: the validated one when accepted or refused for its pins, else the one sent.
    pub chain: Vec<ChainLink>,
    /// The pins that would have been accepted, for a refusal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected_pins: Vec<Pin>,
}

impl VerdictJson {
    /// The JSON of a result for `name`.
    pub fn of(name: &str, result: Result<&Verified, &VerifyError>) -> VerdictJson {
        match result {
            Ok(v) => VerdictJson {
                valid: true,
                name: name.to_string(),
                kind: None,
                detail: None,
                pins: Some(v.pins.clone()),
                chain: v.chain.clone(),
                expected_pins: Vec::new(),
            },
            Err(e) => VerdictJson {
                valid: false,
                name: name.to_string(),
                kind: Some(e.kind),
                detail: Some(e.detail.clone()),
                pins: None,
                chain: e.chain.clone(),
                expected_pins: e.expected_pins.clone(),
            },
        }
    }
}

/// The pin check in words.
pub fn describe_pins(p: &PinCheck) -> String {
    match p {
        PinCheck::Matched { pin, position } => format!("matched sha256/{pin} ({})", position_name(*position)),
        PinCheck::Expired { expired_after } => {
            format!("expired after {expired_after}: skipped, anchors still enforced")
        }
        PinCheck::NoPins => "none configured: anchors alone decide".into(),
        PinCheck::MismatchReported => "NO MATCH, reported only (report-only mode)".into(),
        PinCheck::MatchedWithoutNameCheck { pin } => format!("matched sha256/{pin} (pin-only mode: name not checked)"),
    }
}

/// A chain position in words.
pub fn position_name(p: Position) -> &'static str {
    match p {
        Position::Leaf => "leaf",
        Position::Intermediate => "intermediate",
        Position::Anchor => "anchor",
    }
}

/// An accepted chain in words: `valid for NAME`, the pin check, the chain.
pub fn accepted_text(name: &str, v: &Verified) -> String {
    let mut text = format!("valid for {}\n  pins: {}\n", untrusted(name), describe_pins(&v.pins));
    for l in &v.chain {
        text.push_str(&format!("    sha256/{}: {} ({})\n", l.pin, untrusted(&l.subject), position_name(l.position)));
    }
    text
}

/// A refusal in words, as [`VerifyError`]'s own report lays it out (OkHttp's layout), with
/// every text that comes from a certificate escaped, so a subject cannot add a line.
pub fn refused_text(e: &VerifyError) -> String {
    let mut text = format!("{} for {}: {}\n", e.kind.summary(), untrusted(&e.server_name), untrusted(&e.detail));
    let title =
        if e.kind == pinset_tls::FailureKind::PinMismatch { "Validated chain" } else { "Peer certificate chain" };
    text.push_str(&format!("  {title}:\n"));
    for link in &e.chain {
        let note = match (link.position, link.sent) {
            (Position::Anchor, false) => " (trust anchor, not sent)",
            (Position::Anchor, true) => " (trust anchor)",
            _ => "",
        };
        text.push_str(&format!("    sha256/{}: {}{note}\n", link.pin, untrusted(&link.subject)));
    }
    if !e.expected_pins.is_empty() {
        text.push_str(&format!("  Pinned certificates for {}:\n", untrusted(&e.server_name)));
        for pin in &e.expected_pins {
            text.push_str(&format!("    sha256/{pin}\n"));
        }
    }
    text
}
