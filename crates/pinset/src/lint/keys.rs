//! Key, signature and format rules: what [`support`](super::support) says clients cannot
//! parse or use in a certificate, weighed per platform (a DSA key is refused by all but Java,
//! an RSA key of 1024 to 2047 bits only by Apple …), plus the key rules that concern some
//! platforms only (`eddsa-key`, `p521-server-key`).

use super::finding::{Finding, NONE, R, Reissue, Severity, W, all, effects, trust};
use super::parsed::Cert;
use super::rules::{
    EDDSA_KEY, INVALID_VERSION, MD5_SIGNATURE, P521_SERVER_KEY, RSA_BELOW_2048, RSA_FLOOR_BITS, SHA1_SIGNATURE,
    UNKNOWN_CRITICAL_EXTENSION, UNSUPPORTED_CURVE, UNSUPPORTED_KEY, UNSUPPORTED_SIGNATURE,
};
use super::support::{MIN_RSA_BITS, Unsupported, What};
use crate::cert;

/// `invalid-version` and `unknown-critical-extension`. A trust anchor's unknown critical
/// extension is a warning: clients that check an anchor's extensions refuse it, the others
/// trust an anchor as a key and a name.
pub(super) fn format_rules(c: &Cert<'_>, anchor: bool, out: &mut Vec<Finding>) {
    for u in c.unsupported.iter().filter(|u| u.what == What::Version) {
        out.push(Finding::new(
            INVALID_VERSION,
            c,
            all(Severity::Reject),
            format!(
                "the certificate is {}: X.509 defines versions 1 to 3, with extensions in version 3 only, and every \
                 platform's parser refuses anything else",
                u.detail
            ),
            "issue it again as an X.509 version 3 certificate, as openssl and pinset always write",
        ));
    }
    let critical: Vec<&str> =
        c.unsupported.iter().filter(|u| u.what == What::CriticalExtension).map(|u| u.detail.as_str()).collect();
    if critical.is_empty() {
        return;
    }
    let (s, list) = (if critical.len() == 1 { "" } else { "s" }, critical.join(", "));
    let (platforms, message) = if anchor {
        (
            all(Severity::Warn),
            format!(
                "this root marks extension{s} {list} critical, which clients do not process: those that check a trust \
                 anchor's extensions refuse every chain to it"
            ),
        )
    } else {
        (
            all(Severity::Reject),
            format!(
                "critical extension{s} {list}, which clients do not process: every platform refuses the certificate"
            ),
        )
    };
    out.push(Finding::new(
        UNKNOWN_CRITICAL_EXTENSION,
        c,
        platforms,
        message,
        "issue it again without the extension, or with it marked non-critical",
    ));
}

/// The key rules. `server` says whether `c` is the server's certificate, whose key signs the
/// handshake; otherwise it is a CA's, whose key signs certificates.
pub(super) fn key_rules(c: &Cert<'_>, server: bool, out: &mut Vec<Finding>) {
    let role = if server { "the key" } else { "this CA's key" };
    let key = cert::key_info(c.x509.public_key());
    for u in &c.unsupported {
        match u.what {
            What::RsaKeySize { bits } => out.push(rsa_below_2048(c, role, &key.algorithm, bits)),
            What::EcCurve => out.push(Finding::new(
                UNSUPPORTED_CURVE,
                c,
                all(Severity::Reject),
                format!(
                    "{role} is an EC key on {}: TLS clients sign and verify with P-256, P-384 and P-521 only, and \
                     every platform refuses it",
                    u.detail
                ),
                "use a new key on P-256 (pinset's default) or P-384",
            )),
            What::KeyAlgorithm => out.extend(unsupported_key(c, role, server, u)),
            _ => {}
        }
    }
    if key.algorithm == "Ed25519" || key.algorithm == "Ed448" {
        out.push(
            Finding::new(
                EDDSA_KEY,
                c,
                trust(R, W, R, W),
                format!(
                    "{role} is {}: Apple and Chrome cannot use it; Java needs version 15 or later, Android a recent \
                 version",
                    key.algorithm
                ),
                "use an EC P-256 key (pinset's default) for certificates apps and browsers check",
            )
            .reissued(p256()),
        );
    }
    if server && key.algorithm == "EC P-521" {
        out.push(Finding::new(
            P521_SERVER_KEY,
            c,
            effects([NONE, R, R, NONE, R]),
            "the key is EC P-521: Chrome and Android (BoringSSL) do not accept P-521 signatures in the TLS handshake; \
             Apple and Java do"
                .into(),
            "use a P-256 (pinset's default) or P-384 key for the server; a CA may keep its P-521 key",
        ));
    }
}

/// `rsa-below-2048`: Apple refuses it; the others only below 1024 bits.
fn rsa_below_2048(c: &Cert<'_>, role: &str, algorithm: &str, bits: usize) -> Finding {
    let (others, message) = if bits < RSA_FLOOR_BITS {
        (R, format!("{role} is {algorithm} {bits} bits: below {RSA_FLOOR_BITS} every platform refuses it"))
    } else {
        (
            W,
            format!(
                "{role} is {algorithm} {bits} bits: Apple requires {MIN_RSA_BITS} (the CA/Browser Forum baseline), and \
                 so do pinset's verifier and other rustls clients; the others accept {RSA_FLOOR_BITS} and up"
            ),
        )
    };
    Finding::new(
        RSA_BELOW_2048,
        c,
        trust(R, others, others, others),
        message,
        "use a new key: EC P-256 (pinset's default) or RSA of 2048 bits or more",
    )
    .reissued(p256())
}

/// Issuing the certificate again with an EC P-256 key, pinset's default.
fn p256() -> Reissue {
    Reissue { key_type: Some(crate::pki::KeyType::P256), ..Reissue::default() }
}

/// `unsupported-key`, for the key algorithms [`support`](super::support) names (Ed448 is
/// `eddsa-key`'s, with Ed25519).
fn unsupported_key(c: &Cert<'_>, role: &str, server: bool, u: &Unsupported) -> Option<Finding> {
    let oid = c.x509.public_key().algorithm.algorithm.to_id_string();
    let fix = "use a new key: EC P-256 (pinset's default), P-384 or RSA of 2048 bits or more";
    let (platforms, why) = match oid.as_str() {
        "1.3.101.113" => return None,
        // DSA: no TLS stack but Java's negotiates it (TLS 1.2 DHE_DSS suites); as a CA's key,
        // Android may verify its signatures with a provider that has DSA.
        "1.2.840.10040.4.1" if server => (
            effects([R, R, R, W, R]),
            "Apple, Android, Chrome and OkHttp have no DSA in TLS; Java uses it only over TLS 1.2 DHE_DSS cipher \
             suites, which few servers offer",
        ),
        "1.2.840.10040.4.1" => (
            trust(R, W, R, W),
            "Apple and Chrome do not verify DSA signatures; Java does, Android only with a provider that has DSA",
        ),
        "1.3.101.110" | "1.3.101.111" if server => {
            (all(Severity::Reject), "a key-agreement key cannot sign the handshake, so no client can authenticate it")
        }
        "1.3.101.110" | "1.3.101.111" => {
            (all(Severity::Reject), "a key-agreement key cannot sign certificates, so no client can verify them")
        }
        _ => (all(Severity::Reject), "no platform uses this algorithm for TLS"),
    };
    Some(Finding::new(UNSUPPORTED_KEY, c, platforms, format!("{role} is {}: {why}", u.detail), fix))
}

/// The signature rules, for a certificate whose signature clients check (not a root).
pub(super) fn signature_rules(c: &Cert<'_>, out: &mut Vec<Finding>) {
    let fix = "have the CA sign it again with SHA-256 (openssl: -sha256; pinset always does)";
    for u in c.unsupported.iter().filter(|u| u.what.is_signature()) {
        let name = &u.detail;
        match u.what {
            What::Md5Signature => out.push(Finding::new(
                MD5_SIGNATURE,
                c,
                all(Severity::Reject),
                format!("signed with {name}: a broken hash every platform refuses"),
                fix,
            )),
            What::Sha1Signature => {
                // A self-signed server certificate trusted as its own anchor: Chromium does not
                // check the signature algorithm of a directly trusted certificate.
                let (chrome, who) = if c.index == 0 && c.self_issued {
                    (
                        W,
                        "Apple and Android refuse SHA-1 (Chrome does not check the signature of a certificate it \
                         trusts directly)",
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
            _ => out.push(Finding::new(
                UNSUPPORTED_SIGNATURE,
                c,
                all(Severity::Reject),
                format!("signed with {name}: no platform verifies this algorithm"),
                "have the CA sign it again with ECDSA or RSA and SHA-256",
            )),
        }
    }
}
