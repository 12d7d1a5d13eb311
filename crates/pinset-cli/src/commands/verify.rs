//! `pinset verify`: offline validation of a certificate for a server name at a time, with
//! the engine TLS connections use.

use rustls::pki_types::{CertificateDer, UnixTime};

use crate::cli::VerifyArgs;
use crate::client_trust::{ClientTrust, TrustFlags};
use crate::output::{self, ExitStatus};
use crate::verdict::{VerdictJson, accepted_text, refused_text};

/// Validates the certificate and prints the verdict: stdout when valid, stderr when not;
/// exit 0 valid, 1 invalid.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitStatus> {
    let mut chain = pinset::input::read_certificates(&args.cert, &output::read_input(&args.cert)?)?;
    if let Some(extra) = &args.chain {
        chain.extend(pinset::input::read_certificates(extra, &output::read_input(extra)?)?);
    }
    let leaf = CertificateDer::from(chain.remove(0));
    let intermediates: Vec<CertificateDer<'_>> = chain.into_iter().map(CertificateDer::from).collect();
    let trust = ClientTrust::from_flags(&TrustFlags {
        site: args.site.site.as_deref(),
        cas: &args.cas,
        pins: &args.pins,
        crls: &args.crls,
    })?;
    let host = pinset::Host::parse(&args.name)?;
    let name = pinset_tls::probe::server_name(&host)?;
    let at = match &args.at {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(|_| {
            pinset::Error::bad_value("time", t, "is not an RFC 3339 time", Some("write it like 2027-06-01T00:00:00Z"))
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.unix_timestamp().max(0) as u64));
    let result = trust.verifier.verify_chain(&leaf, &intermediates, &name, now);
    let shown = args.name.clone();
    if args.json {
        output::emit_json(&VerdictJson::of(&shown, result.as_ref()))?;
    }
    match &result {
        Ok(v) => {
            if !args.json {
                output::emit(&accepted_text(&shown, v))?;
            }
            Ok(ExitStatus::Success)
        }
        Err(e) => {
            if !args.json {
                output::message(&format!("invalid: {}", refused_text(e)));
            }
            Ok(ExitStatus::Failed)
        }
    }
}
