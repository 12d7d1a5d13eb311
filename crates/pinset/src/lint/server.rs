//! The server certificate's own rules: Apple's lifetime and extendedKeyUsage rules, the
//! keyUsage the handshake needs, a CA certificate serving as the server's, and the dates
//! every certificate of a chain is checked against.

use time::{Duration, OffsetDateTime};

use super::chain::root_rules;
use super::finding::{Finding, NONE, R, Reissue, Severity, W, all, effects, trust};
use super::keys::{format_rules, key_rules, signature_rules};
use super::names::{Host, name_rules};
use super::parsed::{Cert, Extensions, cert_ku_names};
use super::rules::{
    APPLE_825_DAYS, APPLE_2019_RULES_FROM, CA_CERT_AS_SERVER, EKU_WITHOUT_SERVER_AUTH, EXPIRED, EXPIRES_SOON,
    EXPIRY_WARNING_DAYS, KEY_USAGE_MISMATCH, NO_EKU, NOT_YET_VALID,
};
use super::{EKU_FIX, date, reissue, span};
use crate::cert::{self, San};
use crate::pki::{APPLE_MAX_SERVER_DAYS, LEAF_VALIDITY_DAYS};

/// The rules for the server's certificate; returns its SANs when they could be read.
pub(super) fn server_rules(
    c: &Cert<'_>,
    name: Option<&Host>,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) -> Option<Vec<San>> {
    let x = &c.x509;
    let ext = Extensions::read(c, out);
    validity_rules(c, now, Some(Severity::Reject), out);
    let not_before = x.validity().not_before.to_datetime();
    let not_after = x.validity().not_after.to_datetime();
    let apple_2019 = not_before >= APPLE_2019_RULES_FROM;

    // Apple: 825 days.
    let lifetime = not_after - not_before;
    if apple_2019 && lifetime > Duration::days(i64::from(APPLE_MAX_SERVER_DAYS)) {
        out.push(
            Finding::new(
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
                    &format!("valid {APPLE_MAX_SERVER_DAYS} days or fewer ({LEAF_VALIDITY_DAYS}, pinset's default)"),
                    &format!("-days {LEAF_VALIDITY_DAYS}"),
                ),
            )
            .reissued(Reissue { days: Some(LEAF_VALIDITY_DAYS), ..Reissue::default() }),
        );
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

    format_rules(c, false, out);
    key_rules(c, true, out);
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
             CA:FALSE, as pinset issues server certificates; openssl: -addext basicConstraints=critical,CA:FALSE",
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
pub(super) fn validity_rules(c: &Cert<'_>, now: OffsetDateTime, severity: Option<Severity>, out: &mut Vec<Finding>) {
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
                 which TLS 1.3 and rustls servers (pinset's own among them) never use"
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
            "with keyUsage digitalSignature (and keyEncipherment for an RSA key), as pinset issues server certificates",
            "-addext keyUsage=critical,digitalSignature",
        ),
    ));
}
