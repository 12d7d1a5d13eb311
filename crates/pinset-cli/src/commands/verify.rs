//! `pinset verify`: offline validation of a certificate for a server name at a time, with
//! the engine TLS connections use.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use pinset::{Pin, Site};
use pinset_tls::PinnedVerifier;
use pinset_tls::verifier::VerifyError;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::cli::VerifyArgs;
use crate::output;

/// Exit code of a verification failure.
pub const EXIT_INVALID: u8 = 1;

/// Builds the verifier the CLI uses: anchors from `--ca` files with `--pin` pins, or, with
/// no `--ca`, the site's anchors with the site's pins (`--pin` replaces them).
pub fn build_verifier(site: Option<&Path>, cas: &[String], pins: &[String]) -> anyhow::Result<Arc<PinnedVerifier>> {
    let pins = pins.iter().map(|p| p.parse::<Pin>()).collect::<pinset::Result<Vec<_>>>()?;
    // --pin replaces the site's pins (and with them the plan's pin expiration).
    let mut builder = match (cas.is_empty(), pins.is_empty()) {
        (true, true) => PinnedVerifier::for_site(&Site::open(&output::site_dir(site))?)?,
        (true, false) => anchors(Site::open(&output::site_dir(site))?.anchors()?),
        (false, _) => {
            let mut ders = Vec::new();
            for ca in cas {
                ders.extend(pinset::input::read_certificates(ca, &output::read_input(ca)?)?);
            }
            anchors(ders)
        }
    };
    for pin in pins {
        builder = builder.pin(pin);
    }
    Ok(builder.build()?)
}

fn anchors(ders: Vec<Vec<u8>>) -> pinset_tls::verifier::Builder {
    ders.into_iter().fold(PinnedVerifier::builder(), |b, der| b.anchor(CertificateDer::from(der)))
}

/// The name dialled: an IP literal (brackets allowed) or a DNS name.
pub fn server_name(name: &str) -> anyhow::Result<ServerName<'static>> {
    let bare = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    ServerName::try_from(bare.to_string()).map_err(|_| {
        anyhow::anyhow!(pinset::Error::BadValue {
            what: "server name",
            value: name.to_string(),
            problem: "is neither a DNS name nor an IP address".into(),
            hint: Some("give the name or address clients dial, e.g. 192.168.1.10 or backoffice.local".into()),
        })
    })
}

/// Validates the certificate and prints the verdict.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut chain = pinset::input::read_certificates(&args.cert, &output::read_input(&args.cert)?)?;
    if let Some(extra) = &args.chain {
        chain.extend(pinset::input::read_certificates(extra, &output::read_input(extra)?)?);
    }
    let leaf = CertificateDer::from(chain.remove(0));
    let intermediates: Vec<CertificateDer<'_>> = chain.into_iter().map(CertificateDer::from).collect();
    let verifier = build_verifier(args.site.site.as_deref(), &args.cas, &args.pins)?;
    let name = server_name(&args.name)?;
    let at = match &args.at {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(|_| {
            anyhow::anyhow!(pinset::Error::BadValue {
                what: "time",
                value: t.clone(),
                problem: "is not an RFC 3339 time".into(),
                hint: Some("write it like 2027-06-01T00:00:00Z".into()),
            })
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.unix_timestamp().max(0) as u64));
    let result = verifier.verify(&leaf, &intermediates, &name, now);
    report(&args.name, result.as_ref(), args.json)
}

/// Prints a verification result (stdout when valid, stderr when not) and returns the exit
/// code: 0 valid, 1 invalid.
pub fn report(
    name: &str,
    result: Result<&pinset_tls::verifier::Verified, &VerifyError>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(v) => {
            if json {
                output::emit_json(
                    &serde_json::json!({ "valid": true, "name": name, "chain": v.chain, "pins": v.pins }),
                )?;
            } else {
                let mut text = format!("valid for {name}\n  pins: {}\n", describe_pins(&v.pins));
                for l in &v.chain {
                    text.push_str(&format!("    sha256/{}: {} ({:?})\n", l.pin, l.subject, l.position));
                }
                output::emit(&text)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                output::emit_json(&serde_json::json!({
                    "valid": false, "name": name, "kind": e.kind, "detail": e.detail,
                    "chain": e.chain, "expected_pins": e.expected_pins,
                }))?;
            } else {
                eprint!("invalid: {e}");
            }
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}

/// The pin check in words.
pub fn describe_pins(p: &pinset_tls::verifier::PinCheck) -> String {
    use pinset_tls::verifier::PinCheck;
    match p {
        PinCheck::Matched { pin, position } => format!("matched sha256/{pin} ({position:?})"),
        PinCheck::Expired { expired_after } => {
            format!("pins expired after {expired_after}: skipped, anchors still enforced")
        }
        PinCheck::NoPins => "none configured: anchors alone decide".into(),
        PinCheck::MismatchReported => "NO MATCH, reported only (report-only mode)".into(),
        PinCheck::MatchedWithoutNameCheck { pin } => format!("matched sha256/{pin} (pin-only mode: name not checked)"),
    }
}
