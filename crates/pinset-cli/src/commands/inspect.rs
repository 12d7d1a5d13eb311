//! `pinset inspect`: a readable summary of a certificate or chain.

use pinset::cert::{self, CertSummary};
use pinset::lint::{self, Finding, Platform};
use time::OffsetDateTime;

use crate::cli::InspectArgs;
use crate::output::{self, ExitStatus, untrusted};

/// Prints the summary of every certificate in the input.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitStatus> {
    let bytes = output::read_input(&args.file)?;
    let label = if args.file == "-" { "(stdin)" } else { args.file.as_str() };
    let certs = pinset::input::read_certificates(label, &bytes)?;
    let now = OffsetDateTime::now_utc();
    let summaries = certs.iter().map(|der| cert::summarize(label, der, now)).collect::<pinset::Result<Vec<_>>>()?;
    // The findings `pinset lint` reports without an address: a server certificate (and its
    // chain) is linted as a server's, a file that starts with a CA as CA certificates.
    let starts_with_ca =
        certs.first().map(|der| cert::parse(label, der).map(|c| lint::is_authority(&c))).transpose()?.unwrap_or(false);
    let findings = if starts_with_ca {
        lint::lint_authorities(label, &certs, &Platform::ALL, now)?
    } else {
        lint::lint(label, &certs, None, &Platform::ALL, now)?
    };
    let of = |i: usize| findings.iter().filter(|f| f.certificate == i).collect::<Vec<_>>();
    if args.json {
        let with_findings: Vec<Inspected<'_>> =
            summaries.iter().enumerate().map(|(i, summary)| Inspected { summary, findings: of(i) }).collect();
        output::emit_json(&with_findings)?;
        return Ok(ExitStatus::Success);
    }
    let n = summaries.len();
    let text: Vec<String> = summaries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let title = if n > 1 { format!("{label} [{}/{n}]", i + 1) } else { label.to_string() };
            // Address rules concern the server's certificate only.
            let server = i == 0 && !starts_with_ca;
            render(&title, s, &of(i), server)
        })
        .collect();
    output::emit(&text.join("\n"))?;
    Ok(ExitStatus::Success)
}

/// One certificate in `--json`: the summary's fields, then the platform findings.
#[derive(serde::Serialize)]
struct Inspected<'a> {
    #[serde(flatten)]
    summary: &'a CertSummary,
    findings: Vec<&'a Finding>,
}

fn render(title: &str, s: &CertSummary, findings: &[&Finding], server: bool) -> String {
    let date = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let left = if s.days_left < 0 {
        format!("EXPIRED {} days ago", -s.days_left)
    } else {
        format!("{} days left", s.days_left)
    };
    let names = if s.sans.is_empty() && server {
        "(none: clients that ignore the CN will reject it)".into()
    } else if s.sans.is_empty() {
        "(none)".into()
    } else {
        s.sans.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    let constraints = match &s.basic_constraints {
        Some(c) if c.ca => format!("CA:TRUE{}", c.path_len.map(|p| format!(", pathlen:{p}")).unwrap_or_default()),
        Some(_) => "CA:FALSE".into(),
        None => "(none)".into(),
    };
    let list = |v: &[String]| if v.is_empty() { "(none)".to_string() } else { v.join(", ") };
    let rows = [
        ("subject", s.subject.clone()),
        ("issuer", if s.self_signed { format!("{} (self-signed)", s.issuer) } else { s.issuer.clone() }),
        ("serial", s.serial_problem.as_ref().map_or(s.serial.clone(), |p| format!("{} ({p})", s.serial))),
        ("valid from", date(s.not_before)),
        ("valid until", format!("{} ({left}; {} days in all)", date(s.not_after), s.validity_days)),
        ("names", names),
        ("key", format!("{} ({} bits)", s.key.algorithm, s.key.bits)),
        ("signature", s.signature_algorithm.clone()),
        ("key usage", list(&s.key_usage)),
        ("ext key usage", list(&s.extended_key_usage)),
        ("constraints", constraints),
        ("spki sha256", format!("{}  (the pin)", s.spki_sha256)),
        ("cert sha256", format!("{}  (changes at every renewal: not a pin)", s.cert_sha256)),
    ];
    let mut out = format!("{}\n", untrusted(title));
    for (k, v) in rows {
        out.push_str(&format!("  {k:<14} {}\n", untrusted(&v)));
    }
    // Rules that need the address clients dial are `pinset lint --name`'s.
    if findings.is_empty() {
        let none = if server { "none (pinset lint FILE --name ADDR also checks an address)" } else { "none" };
        out.push_str(&format!("  {:<14} {none}\n", "findings"));
    }
    for (i, f) in findings.iter().enumerate() {
        let label = if i == 0 { "findings" } else { "" };
        out.push_str(&format!("  {label:<14} {} {}\n", f.severity().name(), untrusted(&f.to_string())));
        out.push_str(&format!("  {:<14}   fix: {}\n", "", output::fix_text(f, None)));
        out.push_str(&format!("  {:<14}   source: {}\n", "", f.source));
    }
    out
}
