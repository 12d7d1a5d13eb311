//! The `README.md` that `export all` writes at the top of its folder: the site's pins and
//! anchors, then each target's files, where they go, and what its platform cannot do.

use super::{Export, ExportFile, SiteTrust};
use crate::plan::{AuthorityMode, PinTarget};

pub(crate) fn render(model: &SiteTrust, exports: &[Export]) -> ExportFile {
    let mut md = format!("# Pinning configuration for site \"{}\"\n\n", model.site);
    md.push_str(
        "Written by `pinset export all`. Every file here is generated from the site plan: do not edit\n\
         them by hand; run the export again after every key rotation and ship the result.\n\n",
    );
    let anchored = match model.mode {
        AuthorityMode::Ca => "a private CA: apps trust its two roots (active and standby) and nothing else",
        AuthorityMode::SelfSigned => {
            "self-signed server certificates: apps trust each server's certificates (active and standby)"
        }
    };
    let pinned = match model.pin_target {
        PinTarget::Ca => "the authority's keys, so servers can be re-issued without an app release",
        PinTarget::Leaf => "each server's own keys",
    };
    md.push_str(&format!("- Anchored by {anchored}.\n- Apps pin {pinned}.\n"));
    match &model.pins_expire_after {
        Some(day) => md.push_str(&format!(
            "- Pins are enforced up to and including {day} (UTC); after it apps still require the anchors.\n"
        )),
        None => md.push_str("- Pins do not expire (the plan sets no `pin_expiration`).\n"),
    }
    md.push_str("\n## Addresses\n\n| address | server |\n|---|---|\n");
    for (h, server) in model.hosts() {
        md.push_str(&format!("| `{h}` | {} |\n", server.name));
    }
    md.push_str("\n## Pins (SPKI SHA-256, base64)\n\n| pin | key |\n|---|---|\n");
    for p in model.app_pins() {
        md.push_str(&format!("| `{}` | {} key of {} |\n", p.pin.to_base64(), p.role, p.owner));
    }
    let leaf = model.leaf_pins();
    if model.pin_target == PinTarget::Ca {
        md.push_str("\nServer keys, for platforms that can only check the leaf (curl, Chromium):\n\n");
        md.push_str("| pin | key |\n|---|---|\n");
        for p in &leaf {
            md.push_str(&format!("| `{}` | {} key of {} |\n", p.pin.to_base64(), p.role, p.owner));
        }
    }
    md.push_str("\n## Anchors\n\n| file stem | role | subject | pin |\n|---|---|---|---|\n");
    for a in &model.anchors {
        md.push_str(&format!("| `{}` | {} | {} | `{}` |\n", a.stem, a.role, a.subject, a.pin.to_base64()));
    }
    md.push_str("\n## Targets\n");
    for e in exports {
        md.push_str(&format!("\n### `{}/`: {}\n\n", e.target.name(), e.target.summary()));
        if !e.usage.is_empty() {
            md.push_str(e.usage.trim_end());
            md.push_str("\n\n");
        }
        md.push_str("| file | what it is, where it goes |\n|---|---|\n");
        for f in &e.files {
            md.push_str(&format!("| `{}/{}` | {} |\n", e.target.name(), f.path, f.about));
        }
        if !e.warnings.is_empty() {
            md.push_str("\nWhat this platform cannot do here:\n\n");
            for w in &e.warnings {
                md.push_str(&format!("- **{}**: {}\n", w.rule, w.message));
            }
        }
    }
    ExportFile::text("README.md", md, "this index")
}
