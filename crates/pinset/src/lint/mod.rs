//! Certificate rules the client platforms enforce: will iOS/macOS, Android, Chrome, Java and
//! OkHttp accept this certificate for this address? Each [`Finding`] names its [`Rule`], the
//! platforms it affects with a [`Severity`] each, the value in question, what to do about it
//! and the rule's source.
//!
//! This module owns the entry points ([`lint`], [`lint_authorities`], [`is_authority`]), the
//! order findings are reported in and the wording the rules share (dates, spans, the advice
//! to issue again); each concern lives in a module of its own:
//! - `rules`: the rules table, each rule an id and the source that states it;
//! - `finding`: platforms, severities, findings and verdicts;
//! - `parsed`: a certificate as the rules read it (its extensions, its text made printable);
//! - `server`: the server certificate's own rules (lifetime, usages, dates);
//! - `chain`: the rules for the CAs of the chain and for roots;
//! - `names`: the address clients dial and the names and name constraints that must match it;
//! - `keys`: key, signature and format rules, weighing [`support`]'s items per platform;
//! - [`support`]: what TLS clients can parse and use at all, shared with the verifier.
//!
//! The facts come from `docs/platforms.md` ("Certificate rules the platforms enforce") and
//! the sources each rule cites. OkHttp checks names with its own hostname verifier (no CN
//! fallback) but leaves chain validation to the platform's trust manager, so for chain rules
//! it gets the stricter verdict of Android and Java.

mod chain;
mod finding;
mod keys;
mod names;
mod parsed;
mod rules;
mod server;
pub mod support;
#[cfg(test)]
mod tests;

use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::error::Result;
use crate::pki::APPLE_MAX_SERVER_DAYS;

pub use finding::{Effect, Finding, Platform, Reissue, Severity, Verdict, verdict};
pub use names::Host;
pub use rules::*;

use chain::chain_rules;
use names::name_constraint_rules;
use parsed::parse_all;
use server::server_rules;

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

/// Whether a certificate is a certificate authority's rather than a server's, as far as its
/// own contents tell: cA=TRUE, no DNS or IP name, no serverAuth, and either keyCertSign or a
/// CN that names no address. What `openssl req -x509 -subj /CN=192.168.1.10` makes (cA=TRUE
/// from the default configuration, no keyUsage, the address in the CN) is a server's.
/// A file whose first certificate is an authority's is linted with [`lint_authorities`];
/// anything else with [`lint`].
pub fn is_authority(cert: &X509Certificate<'_>) -> bool {
    let ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let names = matches!(cert.subject_alternative_name(), Ok(Some(san))
        if san.value.general_names.iter().any(|g| matches!(g, GeneralName::DNSName(_) | GeneralName::IPAddress(_))));
    let server_auth = matches!(cert.extended_key_usage(), Ok(Some(eku)) if eku.value.server_auth);
    let key_cert_sign = matches!(cert.key_usage(), Ok(Some(ku)) if ku.value.key_cert_sign());
    let cn_names_address = cert
        .subject()
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()
        .and_then(|cn| Host::parse(cn).ok())
        .is_some_and(|host| match host {
            Host::Ip(_) => true,
            // A single label ("MyCA") is as likely a CA's name as a host's; "localhost" is not.
            Host::Dns(d) => d.contains('.') || d == "localhost",
        });
    ca && !names && !server_auth && (key_cert_sign || !cn_names_address)
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

const EKU_FIX: &str = "with extendedKeyUsage serverAuth, as pinset issues server certificates";

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
