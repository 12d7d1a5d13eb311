//! `pinset issue server` and `pinset issue client`.

use pinset::pki::{KeyType, P12Profile};
use pinset::site::{ClientRequest, Site};

use crate::cli::{IssueClientArgs, IssueServerArgs, P12ProfileArg};
use crate::issuing::{self, SiteReport, server_request, warn_about_platform_rules};
use crate::output::{self, ExitStatus};

/// Issues a server certificate into the site.
pub fn server(args: IssueServerArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let mut site = issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
    let req = server_request(&args.name, &args.server)?;
    site.issue_server(&req)?;
    warn_about_platform_rules(&site, &args.name);
    let report = SiteReport::of(&site, &site.trust()?);
    if args.json {
        output::emit_json(&report)?;
    } else {
        output::emit(&format!("Issued server {:?}\n\n{}", args.name, report.to_text()))?;
    }
    Ok(ExitStatus::Success)
}

/// Issues a client certificate for mutual TLS.
pub fn client(args: IssueClientArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    // Read first, so a folder that is no site fails before the password is asked for.
    Site::open(&dir)?;
    let password =
        output::password(args.password_file.as_deref(), &format!("the PKCS#12 file of client {:?}", args.name), true)?;
    let req = ClientRequest {
        name: args.name.clone(),
        key_type: args.key_type.parse::<KeyType>()?,
        days: args.days,
        p12_profile: match args.p12_profile {
            P12ProfileArg::Modern => P12Profile::Modern,
            P12ProfileArg::Legacy => P12Profile::Legacy,
        },
        password,
    };
    // The site is held from here, not while someone types a password.
    let mut site = issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
    let files = site.issue_client(&req)?;
    let pin = site.plan.client(&args.name).map(|c| c.active.pin);
    if args.json {
        output::emit_json(&IssuedClient { client: &args.name, files: &files, spki_sha256: pin })?;
    } else {
        let mut text = format!("Issued client {:?}\n", args.name);
        for (label, path) in [
            ("key", Some(&files.key)),
            ("certificate", Some(&files.cert)),
            ("chain", files.chain.as_ref()),
            ("DER", Some(&files.cer)),
            ("PKCS#12", files.p12.as_ref()),
        ] {
            if let Some(path) = path {
                text.push_str(&format!("  {label:<12} {}\n", site.path(path).display()));
            }
        }
        if let Some(pin) = pin {
            text.push_str(&format!("  {:<12} {pin}\n", "pin"));
        }
        output::emit(&text)?;
        if matches!(req.p12_profile, P12Profile::Modern) {
            output::note(&format!(
                "the PKCS#12 file is AES-protected, which Android up to 13, iOS and macOS fail to import \
                 (\"wrong password\"); for those devices: pinset export p12 {} --profile legacy --out FILE",
                args.name
            ));
        }
    }
    Ok(ExitStatus::Success)
}

/// `pinset issue client --json`.
#[derive(serde::Serialize)]
struct IssuedClient<'a> {
    client: &'a str,
    files: &'a pinset::site::IssuedFiles,
    spki_sha256: Option<pinset::Pin>,
}
