//! `pinset pin`: pins of files, or the pins apps should carry for the site.

use std::process::ExitCode;

use std::time::Duration;

use pinset::input::{self, ObjectKind};
use pinset::{PinFormat, Site};
use pinset_tls::probe::{self, Presented, Target};
use zeroize::Zeroizing;

use crate::cli::{FormatArg, PinArgs};
use crate::commands::verify::{EXIT_INVALID, build_verifier, describe_pins};
use crate::output;

/// One line of `pinset pin --json`.
#[derive(serde::Serialize)]
struct PinRecord {
    source: String,
    kind: ObjectKind,
    description: String,
    spki_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_sha256: Option<String>,
    /// Live servers: place in the presented chain, validity, and the site's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<LiveInfo>,
}

#[derive(serde::Serialize)]
struct LiveInfo {
    position: usize,
    not_before: String,
    not_after: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<serde_json::Value>,
}

/// Prints pins.
pub fn run(args: PinArgs) -> anyhow::Result<ExitCode> {
    let format = if args.json { FormatArg::Json } else { args.format };
    if args.inputs.is_empty() {
        return site_pins(&args, format);
    }
    let mut records = Vec::new();
    let mut text = String::new();
    let mut password_file = args.password_file.clone();
    let mut all_valid = true;
    let mut unreachable = 0usize;
    let mut fetched = fetch_live(&args);
    for (i, name) in args.inputs.iter().enumerate() {
        if let Some((target, presented)) = fetched.remove(&i) {
            match presented {
                Ok(p) => all_valid &= live(&args, &target, p, format, &mut records, &mut text)?,
                // One server down must not hide the pins of the others: say so, go on,
                // and exit 2 at the end.
                Err(e) => {
                    eprintln!("error: {e}");
                    unreachable += 1;
                }
            }
            continue;
        }
        // An https:// URL that is not a live target failed to parse: say why, not "no such file".
        if name.starts_with("https://") && !std::path::Path::new(name).exists() {
            Target::parse(name)?;
        }
        let bytes = output::read_input(name)?;
        let label = if name == "-" { "(stdin)" } else { name.as_str() };
        let mut ask = |source: &str| -> pinset::Result<Zeroizing<String>> {
            output::password(password_file.take().as_deref(), &format!("the PKCS#12 file {source}"), false).map_err(
                |e| match e.downcast::<pinset::Error>() {
                    Ok(pe) => pe,
                    Err(other) => {
                        pinset::Error::BadInput { path: source.to_string(), problem: other.to_string(), hint: None }
                    }
                },
            )
        };
        for object in input::read_objects(label, &bytes, &mut ask)? {
            let pin = object.pin();
            let cert_sha256 = object.cert_sha256().map(|c| c.to_colon_hex());
            if format == FormatArg::Json {
                records.push(PinRecord {
                    source: object.source.clone(),
                    kind: object.kind,
                    description: object.description.clone(),
                    spki_sha256: pin.to_base64(),
                    cert_sha256,
                    live: None,
                });
                continue;
            }
            let what = format!("{}  {}: {}", object.source, object.kind.describe(), object.description);
            if args.cert_sha256 {
                match cert_sha256 {
                    Some(fp) => text.push_str(&format!("cert-sha256:{fp}  {what}\n")),
                    None => eprintln!(
                        "note: {} is a {}; only certificates have a certificate fingerprint",
                        object.source,
                        object.kind.describe()
                    ),
                }
            } else {
                text.push_str(&format!("{}  {what}\n", pin.format(pin_format(format))));
            }
        }
    }
    if format == FormatArg::Json {
        output::emit_json(&records)?;
    } else {
        output::emit(&text)?;
    }
    // A live chain refused by a site named with --site is a verification failure.
    if unreachable > 0 {
        anyhow::bail!("{unreachable} of the servers given could not be reached (see above)");
    }
    if !all_valid && args.site.site.is_some() {
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    Ok(ExitCode::SUCCESS)
}

fn site_pins(args: &PinArgs, format: FormatArg) -> anyhow::Result<ExitCode> {
    if args.cert_sha256 {
        anyhow::bail!("--cert-sha256 needs input files: apps pin keys, and the site's pins are key pins");
    }
    let site = Site::open(&output::site_dir(args.site.site.as_deref()))?;
    let pins = site.app_pins();
    if format == FormatArg::Json {
        output::emit_json(&pins)?;
    } else {
        let text: String =
            pins.iter().map(|p| format!("{}  {} {}\n", p.pin.format(pin_format(format)), p.role, p.owner)).collect();
        output::emit(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn pin_format(f: FormatArg) -> PinFormat {
    match f {
        FormatArg::B64 | FormatArg::Json => PinFormat::B64,
        FormatArg::Okhttp => PinFormat::OkHttp,
        FormatArg::Curl => PinFormat::Curl,
        FormatArg::Hpkp => PinFormat::Hpkp,
        FormatArg::Hex => PinFormat::Hex,
    }
}

/// Live servers are fetched at most this many at a time: enough to hide network latency
/// for a fleet, few enough threads for a small device.
const LIVE_WORKERS: usize = 32;

type Fetched = std::collections::HashMap<usize, (Target, Result<Presented, probe::ProbeError>)>;

/// Fetches the chains of every live target among the inputs, concurrently, keyed by the
/// input's position so output keeps the order given.
fn fetch_live(args: &PinArgs) -> Fetched {
    let targets: Vec<(usize, Target)> =
        args.inputs.iter().enumerate().filter_map(|(i, name)| live_target(name).map(|t| (i, t))).collect();
    let timeout = Duration::from_secs(args.timeout.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Fetched::new());
    std::thread::scope(|scope| {
        for _ in 0..targets.len().min(LIVE_WORKERS) {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((i, target)) = targets.get(n) else { break };
                    let r = probe::fetch_chain(target, args.sni.as_deref(), timeout);
                    if let Ok(mut map) = results.lock() {
                        map.insert(*i, (target.clone(), r));
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_default()
}

/// An input that is not a file but names a server: `https://…`, `host:port`, `[v6]:port`.
fn live_target(name: &str) -> Option<Target> {
    if name == "-" || std::path::Path::new(name).exists() {
        return None;
    }
    if name.starts_with("https://") || name.contains(':') { Target::parse(name).ok() } else { None }
}

/// Pins of the chain a live server presented, trusted or not, and whether it validates
/// against the site (when there is one). Returns false when the chain was checked against the site and refused.
fn live(
    args: &PinArgs,
    target: &Target,
    presented: Presented,
    format: FormatArg,
    records: &mut Vec<PinRecord>,
    text: &mut String,
) -> anyhow::Result<bool> {
    let source = target.authority();
    let now = time::OffsetDateTime::now_utc();
    let site_dir = output::site_dir(args.site.site.as_deref());
    // A site named with --site must open (a mistyped folder is an error, not a silent
    // skip of the check); one found in $PINSET_SITE or the current folder is optional.
    let verdict = if args.site.site.is_some() || site_dir.join(pinset::plan::PLAN_FILE).exists() {
        let verifier = build_verifier(args.site.site.as_deref(), &[], &[])?;
        let name = target.server_name()?;
        let (leaf, rest) =
            presented.chain.split_first().ok_or_else(|| anyhow::anyhow!("{source}: the server sent no certificate"))?;
        let unix = rustls::pki_types::UnixTime::now();
        Some(match verifier.verify(leaf, rest, &name, unix) {
            Ok(v) => (
                format!("{source}: validates against the site; pins {}", describe_pins(&v.pins)),
                serde_json::json!({"valid": true, "pins": v.pins}),
            ),
            Err(e) => (
                format!("{source}: does NOT validate against the site: {e}"),
                serde_json::json!({"valid": false, "kind": e.kind, "detail": e.detail}),
            ),
        })
    } else {
        None
    };
    let date = |t: time::OffsetDateTime| t.date().to_string();
    for (i, der) in presented.chain.iter().enumerate() {
        let s = pinset::cert::summarize(&source, der, now)?;
        let position = if i == 0 { "leaf".to_string() } else { format!("chain[{i}]") };
        if format == FormatArg::Json {
            records.push(PinRecord {
                source: format!("{source}#{}", i + 1),
                kind: ObjectKind::Certificate,
                description: s.subject.clone(),
                spki_sha256: s.spki_sha256.to_base64(),
                cert_sha256: Some(s.cert_sha256.clone()),
                live: Some(LiveInfo {
                    position: i,
                    not_before: date(s.not_before),
                    not_after: date(s.not_after),
                    site: if i == 0 { verdict.as_ref().map(|v| v.1.clone()) } else { None },
                }),
            });
            continue;
        }
        let value = if args.cert_sha256 {
            format!("cert-sha256:{}", s.cert_sha256)
        } else {
            s.spki_sha256.format(pin_format(format))
        };
        let expired = if s.days_left < 0 { ", EXPIRED" } else { "" };
        text.push_str(&format!(
            "{value}  {source}#{} ({position})  certificate: {} (valid {} to {}{expired})\n",
            i + 1,
            s.subject,
            date(s.not_before),
            date(s.not_after)
        ));
    }
    if format != FormatArg::Json {
        eprintln!(
            "{source}: {} {} {}",
            presented.protocol,
            presented.cipher,
            presented.alpn.as_deref().unwrap_or("(no ALPN)")
        );
        if let Some((line, _)) = &verdict {
            eprint!("{line}{}", if line.ends_with('\n') { "" } else { "\n" });
        }
    }
    Ok(verdict.is_none_or(|(_, v)| v["valid"] == true))
}
