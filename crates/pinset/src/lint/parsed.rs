//! A certificate as the rules read it: parsed once, with its subject, CN, what clients
//! cannot use in it ([`support`](super::support)) and the extensions the rules look at; and
//! [`printable`], the one function through which text from a certificate enters a message.

use x509_parser::certificate::X509Certificate;

use super::finding::{Finding, Severity, all};
use super::rules::MALFORMED_EXTENSION;
use super::support::{self, Unsupported};
use crate::cert::{self, San};
use crate::error::{Error, Result};

/// One parsed certificate with what the rules need.
pub(super) struct Cert<'a> {
    /// Which certificate: 0 is the server's, then the chain in input order.
    pub(super) index: usize,
    pub(super) x509: X509Certificate<'a>,
    /// The subject as written (`CN=…, O=…`), for [`Finding::subject`]; pass it through
    /// [`printable`] before putting it in a message.
    pub(super) subject: String,
    /// The most specific CN, if any, as written.
    pub(super) cn: Option<String>,
    /// Subject and issuer are the same name: a root (or a self-signed server).
    pub(super) self_issued: bool,
    /// What clients cannot parse or use in it.
    pub(super) unsupported: Vec<Unsupported>,
}

/// Parses every certificate of the input, naming `source` (and the certificate's place in
/// it) in errors.
pub(super) fn parse_all<'a>(source: &str, chain_der: &'a [Vec<u8>]) -> Result<Vec<Cert<'a>>> {
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
            let unsupported = support::unsupported(&x509);
            Ok(Cert { index, x509, subject, cn, self_issued, unsupported })
        })
        .collect()
}

/// The extensions the rules read; `None` when unreadable (a `malformed-extension` finding is
/// recorded), `Some(None)` when absent.
pub(super) struct Extensions<'c> {
    pub(super) eku: Option<Option<&'c x509_parser::extensions::ExtendedKeyUsage<'c>>>,
    pub(super) ku: Option<Option<&'c x509_parser::extensions::KeyUsage>>,
    pub(super) ca: Option<Option<bool>>,
    pub(super) sans: Option<Vec<San>>,
}

impl<'c> Extensions<'c> {
    /// Reads the extensions of `c`, recording a `malformed-extension` finding for those that
    /// do not parse.
    pub(super) fn read(c: &'c Cert<'_>, out: &mut Vec<Finding>) -> Extensions<'c> {
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
                "issue the certificate again with a tool that encodes its extensions correctly (pinset does)",
            ));
        }
        Extensions { eku, ku, ca, sans }
    }
}

/// The keyUsage bits set, by name (`digitalSignature, keyEncipherment`), or `empty`.
pub(super) fn cert_ku_names(ku: &x509_parser::extensions::KeyUsage) -> String {
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

/// Text from a certificate (a subject, a CN, a SAN, a name constraint) as a message may carry
/// it: every control character (C0, DEL, C1) written as an escape (`\u{1b}`), so that a
/// certificate cannot move the cursor, ring the bell or start a line of its own on the
/// terminal of whoever reads the finding.
pub(super) fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}
