//! `pinset pin`: pins of files and live servers, or the pins apps should carry for the site.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use pinset::input::{self, ObjectKind};
use pinset::trust::PinExpiry;
use pinset::{PinFormat, Site, Target};
use pinset_net::probe::{self, Presented};
use zeroize::Zeroizing;

use crate::cli::{FormatArg, PinArgs};
use crate::client_trust::{ClientTrust, TrustFlags};
use crate::net_report;
use crate::output::{self, ExitStatus, untrusted};
use crate::verdict::{VerdictJson, describe_pins, refused_text};

/// One object of `pinset pin --json`.
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
    site: Option<VerdictJson>,
}

/// What was made of the inputs.
struct Collected {
    records: Vec<PinRecord>,
    text: String,
    /// Live chains checked against a site and refused.
    refused: usize,
    /// Live servers that could not be reached.
    unreachable: usize,
    /// Live servers reached: each one's address and whether it sent only one
    /// certificate that it signed itself (`Some(true)`), one it did not (`Some(false)`),
    /// or more (`None`).
    presented: Vec<(String, Option<bool>)>,
}

/// Prints pins.
pub fn run(args: PinArgs) -> anyhow::Result<ExitStatus> {
    let format = if args.json { FormatArg::Json } else { args.format };
    if args.inputs.is_empty() {
        return site_pins(&args, format);
    }
    let mut out =
        Collected { records: Vec::new(), text: String::new(), refused: 0, unreachable: 0, presented: Vec::new() };
    let mut password_file = args.password_file.clone();
    let mut fetched = fetch_live(&args)?;
    // A site named with --site must open (a mistyped folder is an error, not a silent
    // skip of the check); one found in $PINSET_SITE or the current folder is optional.
    let site_dir = output::site_dir(args.site.site.as_deref());
    let site = if !fetched.is_empty() && (args.site.site.is_some() || site_dir.join(pinset::plan::PLAN_FILE).exists()) {
        Some(ClientTrust::from_flags(&TrustFlags { site: args.site.site.as_deref(), cas: &[], pins: &[], crls: &[] })?)
    } else {
        None
    };
    for (i, name) in args.inputs.iter().enumerate() {
        if let Some((target, presented)) = fetched.remove(&i) {
            match presented {
                Ok(p) => live(&args, site.as_ref(), &target, p, format, &mut out)?,
                // One server down must not hide the pins of the others: say so, go on,
                // and exit 2 at the end.
                Err(e) => {
                    let e = net_report::error(&e, None);
                    let hint = e.remedy().map(|r| format!("hint: {}\n", untrusted(&output::hint(r))));
                    output::message(&format!("error: {}\n{}", untrusted(&e.to_string()), hint.unwrap_or_default()));
                    out.unreachable += 1;
                }
            }
            continue;
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
                out.records.push(PinRecord {
                    source: object.source.clone(),
                    kind: object.kind,
                    description: object.description.clone(),
                    spki_sha256: pin.to_base64(),
                    cert_sha256,
                    live: None,
                });
                continue;
            }
            let what = format!(
                "{}  {}: {}",
                untrusted(&object.source),
                object.kind.describe(),
                untrusted(&object.description)
            );
            if args.cert_sha256 {
                match cert_sha256 {
                    Some(fp) => out.text.push_str(&format!("cert-sha256:{fp}  {what}\n")),
                    None => output::note(&format!(
                        "{} is a {}; only certificates have a certificate fingerprint",
                        untrusted(&object.source),
                        object.kind.describe()
                    )),
                }
            } else {
                out.text.push_str(&format!("{}  {what}\n", pin.format(pin_format(format))));
            }
        }
    }
    if format == FormatArg::Json {
        output::emit_json(&out.records)?;
    } else {
        output::emit(&out.text)?;
        if site.is_none() && !out.presented.is_empty() {
            output::note(&without_site_note(&out.presented));
        }
    }
    if out.unreachable > 0 {
        anyhow::bail!("{} of the servers given could not be reached (see above)", out.unreachable);
    }
    // A live chain refused by a site named with --site is a verification failure.
    if out.refused > 0 && args.site.site.is_some() {
        return Ok(ExitStatus::Failed);
    }
    Ok(ExitStatus::Success)
}

fn site_pins(args: &PinArgs, format: FormatArg) -> anyhow::Result<ExitStatus> {
    if args.cert_sha256 {
        anyhow::bail!("--cert-sha256 needs input files: apps pin keys, and the site's pins are key pins");
    }
    let trust = Site::open(&output::site_dir(args.site.site.as_deref()))?.trust()?;
    // curl (and Chromium) check only the server's own key: the CA pins apps carry could
    // never match there, so curl's syntax gets the servers' keys, as the curl export does.
    let leaf_only = format == FormatArg::Curl;
    let pins = if leaf_only { trust.leaf_pins() } else { trust.app_pins() };
    if format == FormatArg::Json {
        output::emit_json(&pins)?;
    } else {
        let text: String =
            pins.iter().map(|p| format!("{}  {} {}\n", p.pin.format(pin_format(format)), p.role, p.owner)).collect();
        output::emit(&text)?;
        if leaf_only && pins != trust.app_pins() {
            output::warn(
                "curl checks only the server's own key (the leaf), never the CA's: these are the servers' keys, \
                 not the CA pins apps carry; print them again after every server key change",
            );
        }
        let today = time::OffsetDateTime::now_utc().date();
        match trust.pin_expiry(today) {
            PinExpiry::Never => {}
            PinExpiry::Until { last } => {
                output::note(&format!("apps enforce these pins up to and including {last} (UTC)"))
            }
            expiry => {
                if let Some(warning) = expiry.warning() {
                    output::warn(&warning);
                }
            }
        }
    }
    Ok(ExitStatus::Success)
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

type Fetched = HashMap<usize, (Target, Result<Presented, pinset_net::Error>)>;

/// Fetches the chains of every live target among the inputs, concurrently (pinset-net's
/// probe, each target within `--timeout` of its own start), keyed by the input's position
/// so output keeps the order given. A malformed address is an error naming it, before
/// anything is fetched.
fn fetch_live(args: &PinArgs) -> anyhow::Result<Fetched> {
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    for (i, name) in args.inputs.iter().enumerate() {
        if let Some(t) = live_target(name)? {
            positions.push(i);
            targets.push(t);
        }
    }
    if targets.is_empty() {
        return Ok(Fetched::new());
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let results =
        pinset_net::block_on(probe::fetch_chains(&targets, args.sni.as_deref(), timeout, probe::DEFAULT_CONCURRENCY))
            .context("cannot start the network")?;
    Ok(positions.into_iter().zip(targets.into_iter().zip(results)).collect())
}

/// What a live chain fetched without a site cannot say, and where the pins apps carry
/// come from.
fn without_site_note(presented: &[(String, Option<bool>)]) -> String {
    if presented.iter().all(|(_, self_signed)| *self_signed == Some(true)) {
        return "a self-signed server's pin is its own key's: apps carry it together with the pin of its standby key, \
                which no server sends; `pinset pin --site DIR` prints both for a pinset site"
            .into();
    }
    let leaf_only: Vec<&str> =
        presented.iter().filter(|(_, s)| *s == Some(false)).map(|(source, _)| source.as_str()).collect();
    let sent = if leaf_only.is_empty() {
        String::from("these are the pins of what the server sent")
    } else {
        format!("{} sent only its own certificate", leaf_only.join(", "))
    };
    format!(
        "{sent}. Apps pin the site's CA keys, active and standby, and a server never sends its root: get them with \
         `pinset pin --site DIR` for a pinset site, or from the CA's certificate file (`pinset pin ca.pem`). A \
         server's own pin changes whenever it gets a new key."
    )
}

/// An input that is not a file but names a server: a URL, `host:port`, `[v6]…`, or an
/// IPv6 address (port 443). A name that is neither a file nor parses as an address is an
/// error about the address when it looks like one, so `127.0.0.1:65536` is not "no such
/// file".
fn live_target(name: &str) -> anyhow::Result<Option<Target>> {
    if name == "-" || Path::new(name).exists() {
        return Ok(None);
    }
    if name.contains("://") || name.contains(':') || name.starts_with('[') {
        return Ok(Some(Target::parse(name, Some(443))?));
    }
    Ok(None)
}

/// Pins of the chain a live server presented, trusted or not, and whether it validates
/// against the site (when there is one).
fn live(
    args: &PinArgs,
    site: Option<&ClientTrust>,
    target: &Target,
    presented: Presented,
    format: FormatArg,
    out: &mut Collected,
) -> anyhow::Result<()> {
    let source = target.authority();
    let now = time::OffsetDateTime::now_utc();
    let self_signed = match presented.chain.as_slice() {
        [only] => Some(pinset::cert::parse(&source, only).is_ok_and(|c| c.subject().as_raw() == c.issuer().as_raw())),
        _ => None,
    };
    out.presented.push((source.clone(), self_signed));
    let verdict = if let Some(trust) = site {
        let name = pinset_tls::probe::server_name(&target.host)?;
        let (leaf, rest) =
            presented.chain.split_first().ok_or_else(|| anyhow::anyhow!("{source}: the server sent no certificate"))?;
        Some(trust.verifier.verify_chain(leaf, rest, &name, rustls::pki_types::UnixTime::now()))
    } else {
        None
    };
    if matches!(verdict, Some(Err(_))) {
        out.refused += 1;
    }
    let date = |t: time::OffsetDateTime| t.date().to_string();
    for (i, der) in presented.chain.iter().enumerate() {
        let s = pinset::cert::summarize(&source, der, now)?;
        let position = if i == 0 { "leaf".to_string() } else { format!("chain[{i}]") };
        if format == FormatArg::Json {
            out.records.push(PinRecord {
                source: format!("{source}#{}", i + 1),
                kind: ObjectKind::Certificate,
                description: s.subject.clone(),
                spki_sha256: s.spki_sha256.to_base64(),
                cert_sha256: Some(s.cert_sha256.clone()),
                live: Some(LiveInfo {
                    position: i,
                    not_before: date(s.not_before),
                    not_after: date(s.not_after),
                    site: if i == 0 {
                        verdict.as_ref().map(|v| VerdictJson::of(&target.host.to_string(), v.as_ref()))
                    } else {
                        None
                    },
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
        out.text.push_str(&format!(
            "{value}  {source}#{} ({position})  certificate: {} (valid {} to {}{expired})\n",
            i + 1,
            untrusted(&s.subject),
            date(s.not_before),
            date(s.not_after)
        ));
    }
    if format != FormatArg::Json {
        output::message(&format!(
            "{source}: {} {} {}\n",
            presented.tls.version,
            presented.tls.cipher,
            presented.tls.alpn.as_deref().map(untrusted).unwrap_or("(no ALPN)".into())
        ));
        match &verdict {
            Some(Ok(v)) => {
                output::message(&format!("{source}: validates against the site; pins {}\n", describe_pins(&v.pins)))
            }
            Some(Err(e)) => {
                output::message(&format!("{source}: does NOT validate against the site: {}", refused_text(e)))
            }
            None => {}
        }
    }
    Ok(())
}
