//! `pinset pin`: pins of files, or the pins apps should carry for the site.

use std::process::ExitCode;

use pinset::input::{self, ObjectKind};
use pinset::{PinFormat, Site};
use zeroize::Zeroizing;

use crate::cli::{FormatArg, PinArgs};
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
    for name in &args.inputs {
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
