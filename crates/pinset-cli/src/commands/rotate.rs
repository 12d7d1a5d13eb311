//! `pinset rotate promote` and `rotate retire`: change what apps pin without cutting off a
//! supported release.

use pinset::Site;

use crate::cli::{RotateArgs, RotateCommand};
use crate::output::{self, ExitStatus, untrusted};
use crate::{issuing, lifecycle};

/// Runs one `rotate` subcommand.
pub fn run(cmd: RotateCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        RotateCommand::Promote(args) => promote(args),
        RotateCommand::Retire(args) => retire(args),
    }
}

fn open(args: &RotateArgs) -> anyhow::Result<Site> {
    let dir = output::site_dir(args.site.site.as_deref());
    Ok(issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?)
}

fn promote(args: RotateArgs) -> anyhow::Result<ExitStatus> {
    let mut site = open(&args)?;
    let p = site.promote(args.force, time::OffsetDateTime::now_utc())?;
    if !p.cut_off.is_empty() {
        output::warn(&format!(
            "forced: these supported releases stop connecting now: {}",
            untrusted(&p.cut_off.join(", "))
        ));
    }
    if args.json {
        output::emit_json(&p)?;
        return Ok(ExitStatus::Success);
    }
    let mut t = String::new();
    for k in &p.promoted {
        t.push_str(&format!("Promoted the standby key of {}:\n", untrusted(&k.owner)));
        t.push_str(&format!("  active    {}  (was standby)\n", k.active));
        t.push_str(&format!(
            "  retiring  {}  (was active; stays in exports until `pinset rotate retire`)\n",
            k.retiring
        ));
        t.push_str(&format!("  standby   {}  (new: ship it in the next release)\n", k.standby));
    }
    if !p.reissued.is_empty() {
        t.push_str(&format!(
            "Issued again: server {} ({}).\n",
            untrusted(&p.reissued.join(", ")),
            match p.pin_target {
                pinset::plan::PinTarget::Ca => "under the new active root, with the same server keys",
                pinset::plan::PinTarget::Leaf => "for the promoted keys",
            }
        ));
    }
    if p.releases.is_empty() {
        t.push_str("No supported release is recorded.\n");
    } else {
        t.push_str("Supported releases:\n");
        t.push_str(&lifecycle::views_text(&p.releases));
    }
    t.push_str(
        "Next: export for the next release (`pinset export … --release VERSION`: it carries the new standby); once \
         no supported release needs the retiring key, `pinset rotate retire`.\n",
    );
    output::emit(&t)?;
    Ok(ExitStatus::Success)
}

fn retire(args: RotateArgs) -> anyhow::Result<ExitStatus> {
    let mut site = open(&args)?;
    let r = site.retire(args.force)?;
    if !r.cut_off.is_empty() {
        output::warn(&format!(
            "forced: these supported releases stop connecting now: {}",
            untrusted(&r.cut_off.join(", "))
        ));
    }
    if !r.clients_cut_off.is_empty() {
        output::warn(&format!(
            "forced: servers now refuse the certificates of clients {}",
            untrusted(&r.clients_cut_off.join(", "))
        ));
    }
    if args.json {
        output::emit_json(&r)?;
        return Ok(ExitStatus::Success);
    }
    if r.retired.is_empty() {
        output::emit("Nothing to retire: no key is retiring.\n")?;
        return Ok(ExitStatus::Success);
    }
    let mut t = String::new();
    for k in &r.retired {
        t.push_str(&format!("Retired the old key of {}: {}\n", untrusted(&k.owner), k.pin));
    }
    t.push_str("Its pin leaves every export from now on, and its files the site.\n");
    output::emit(&t)?;
    Ok(ExitStatus::Success)
}
