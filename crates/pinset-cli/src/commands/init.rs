//! `pinset init`: create a site.

use pinset::plan::{AuthorityMode, PinTarget};
use pinset::site::{InitOptions, Site};

use crate::cli::{InitArgs, PinTargetArg};
use crate::issuing::{self, SiteReport, server_request, warn_about_platform_rules};
use crate::output::{self, ExitStatus};

/// Creates the site and prints what was made and the pins apps should carry.
pub fn run(args: InitArgs) -> anyhow::Result<ExitStatus> {
    let dir = match args.dir.as_deref().or(args.site.as_deref()) {
        Some(dir) => dir.to_path_buf(),
        None => output::site_dir(None),
    };
    let server = server_request(&args.server_name, &args.server)?;
    let opts = InitOptions {
        name: args.name,
        mode: if args.self_signed { AuthorityMode::SelfSigned } else { AuthorityMode::Ca },
        pin: args.pin.map(|p| match p {
            PinTargetArg::Ca => PinTarget::Ca,
            PinTargetArg::Leaf => PinTarget::Leaf,
        }),
        server,
        pin_expiration: args.pin_expiration.as_deref().map(pinset::plan::parse_pin_expiration).transpose()?,
    };
    let site = issuing::exclusive(&dir, &args.wait, |how| Site::init_with(&dir, opts, how))?;
    warn_about_platform_rules(&site, &args.server_name);
    let trust = site.trust()?;
    if let Some(warning) = trust.pin_expiry(time::OffsetDateTime::now_utc().date()).warning() {
        output::warn(&warning);
    }
    let report = SiteReport::of(&site, &trust);
    if args.json {
        output::emit_json(&report)?;
    } else {
        let mode = match trust.mode {
            AuthorityMode::Ca => "private CA",
            AuthorityMode::SelfSigned => "self-signed",
        };
        let pins = match trust.pin_target {
            PinTarget::Ca => "apps pin the CA keys",
            PinTarget::Leaf => "apps pin the server keys",
        };
        let mut text = format!(
            "Created site {:?} in {} ({mode}; {pins})\n\n",
            trust.site,
            output::untrusted(&dir.display().to_string())
        );
        text.push_str(&report.to_text());
        output::emit(&text)?;
    }
    Ok(ExitStatus::Success)
}
