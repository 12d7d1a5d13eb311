//! The rules for the CAs of a chain (or of a CA bundle): an issuer must be a CA, and a root,
//! trusted as a key and a name, needs a CN to be enabled on iOS and is checked more leniently
//! than an intermediate.

use time::OffsetDateTime;

use super::finding::{Finding, NONE, R, Severity, W, effects, trust};
use super::keys::{format_rules, key_rules, signature_rules};
use super::parsed::{Cert, Extensions, cert_ku_names, printable};
use super::rules::{ISSUER_NOT_CA, ROOT_WITHOUT_CN};
use super::server::validity_rules;

/// Rules for a certificate of the chain (or of a CA bundle). A self-issued one is a trust
/// anchor (a root); the others are intermediates. `signs` says whether it issued the
/// certificate before it (always true for a CA bundle): only then must it be a CA.
pub(super) fn chain_rules(c: &Cert<'_>, signs: bool, now: OffsetDateTime, out: &mut Vec<Finding>) {
    let ext = Extensions::read(c, out);
    format_rules(c, c.self_issued, out);
    key_rules(c, false, out);
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
                "create the root again with basicConstraints CA:TRUE and keyUsage keyCertSign, as pinset makes its roots",
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

/// `root-without-cn`, for a self-issued certificate (a root, or a self-signed server that is
/// its own root).
pub(super) fn root_rules(c: &Cert<'_>, out: &mut Vec<Finding>) {
    if c.cn.is_none() {
        out.push(Finding::new(
            ROOT_WITHOUT_CN,
            c,
            effects([W, NONE, NONE, NONE, NONE]),
            format!(
                "this root has no CN (subject {}): installed by hand on iOS it cannot be enabled in Certificate \
                 Trust Settings",
                printable(&c.subject)
            ),
            "create the root again with a CN (openssl: -subj '/CN=Shop CA'; pinset names its roots `pinset CA SITE`)",
        ));
    }
}
