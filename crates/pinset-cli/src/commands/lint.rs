//! `pinset lint`: will each platform accept this certificate for this address? One verdict
//! per platform, then each finding with its rule, platforms, value and source.

use std::io::Write as _;

use pinset::lint::{self, Finding, Host, Platform, Verdict};
use time::OffsetDateTime;

use crate::cli::{LintArgs, LintPlatformArg};
use crate::output::{self, ExitStatus, untrusted};

/// What `pinset lint --json` prints.
#[derive(serde::Serialize)]
struct Report<'a> {
    input: &'a str,
    subject: String,
    certificates: usize,
    name: Option<&'a Host>,
    name_checked: bool,
    verdicts: Vec<PlatformVerdict>,
    findings: &'a [Finding],
    rejected: bool,
}

#[derive(serde::Serialize)]
struct PlatformVerdict {
    platform: Platform,
    verdict: Verdict,
}

/// Lints a certificate (or chain) for the platforms asked; exit 1 when one of them rejects it.
pub fn run(args: LintArgs) -> anyhow::Result<ExitStatus> {
    let host = args.name.as_deref().map(Host::parse).transpose()?;
    let platforms = platforms(&args.platforms);
    let bytes = output::read_input(&args.cert)?;
    let label = if args.cert == "-" { "(stdin)" } else { args.cert.as_str() };
    let chain = pinset::input::read_certificates(label, &bytes)?;
    let findings = lint::lint(label, &chain, host.as_ref(), &platforms, OffsetDateTime::now_utc())?;
    let subject = chain
        .first()
        .map(|der| pinset::cert::parse(label, der).map(|c| pinset::cert::name_to_string(c.subject())))
        .transpose()?
        .unwrap_or_default();
    let verdicts: Vec<PlatformVerdict> =
        platforms.iter().map(|&p| PlatformVerdict { platform: p, verdict: lint::verdict(&findings, p) }).collect();
    let rejected = verdicts.iter().any(|v| v.verdict == Verdict::Rejects);
    let report = Report {
        input: label,
        subject,
        certificates: chain.len(),
        name: host.as_ref(),
        name_checked: host.is_some(),
        verdicts,
        findings: &findings,
        rejected,
    };
    if args.json {
        output::emit_json(&report)?;
    } else {
        output::emit(&render(&report))?;
        if host.is_none() {
            // Advice, not data: on stderr.
            let _ = std::io::stderr().write_all(
                b"note: no --name, so whether the certificate names the address clients dial was not checked; \
                  give --name with that IP address or DNS name\n",
            );
        }
    }
    Ok(if rejected { ExitStatus::Failed } else { ExitStatus::Success })
}

/// The platforms asked for, in report order, each once; none means all.
fn platforms(args: &[LintPlatformArg]) -> Vec<Platform> {
    if args.is_empty() {
        return Platform::ALL.to_vec();
    }
    let asked: Vec<Platform> = args
        .iter()
        .map(|a| match a {
            LintPlatformArg::Ios => Platform::Ios,
            LintPlatformArg::Android => Platform::Android,
            LintPlatformArg::Chrome => Platform::Chrome,
            LintPlatformArg::Java => Platform::Java,
            LintPlatformArg::Okhttp => Platform::Okhttp,
        })
        .collect();
    Platform::ALL.into_iter().filter(|p| asked.contains(p)).collect()
}

fn render(r: &Report<'_>) -> String {
    let chain = if r.certificates > 1 { format!(", chain of {}", r.certificates) } else { String::new() };
    let target = match r.name {
        Some(h) => format!(" for {h}"),
        None => String::new(),
    };
    let mut t = format!("{} ({}{chain}){}\n", untrusted(r.input), untrusted(&r.subject), untrusted(&target));
    for v in &r.verdicts {
        t.push_str(&format!("  {:<8} {}\n", v.platform.name(), v.verdict.describe()));
    }
    if r.findings.is_empty() {
        t.push_str("\nNo findings.\n");
    }
    for f in r.findings {
        t.push('\n');
        let which = if f.certificate == 0 {
            "server certificate".to_string()
        } else {
            format!("chain certificate {} ({})", f.certificate + 1, untrusted(&f.subject))
        };
        t.push_str(&format!("{:<6} {}  {}\n", f.severity().name(), f.rule, f.platforms_text()));
        t.push_str(&format!("       {which}: {}\n", untrusted(&f.message)));
        t.push_str(&format!("       fix: {}\n", output::fix_text(f, None)));
        t.push_str(&format!("       source: {}\n", f.source));
    }
    t
}
