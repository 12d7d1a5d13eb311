//! Export for `chromium`: a launcher script that starts Chromium with a profile of its own
//! and `--ignore-certificate-errors-spki-list` set to the servers' own keys.
//!
//! A launcher rather than a flags file: desktop Chromium reads no flags file of its own
//! (Debian's `/etc/chromium.d/` holds shell snippets, Arch's `chromium-flags.conf` is its
//! wrapper's, Android's `chrome-command-line` takes no comments), so a script is the one
//! form that works the same everywhere and can carry its explanation.
//!
//! The flag lists servers' keys only, never the CA's: Chromium matches it against the keys
//! of the certificates the server *sends*, validated or not, and a CA certificate is public,
//! so an impostor could send the genuine CA certificate after its own leaf and match a CA
//! pin.

use super::{Export, ExportFile, Options, SiteTrust, Target, text};
use crate::plan::PinTarget;

const FILE: &str = "pinset-chromium";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Chromium);
    export.files.push(
        ExportFile::text(
            FILE,
            script(model),
            "launcher script: starts Chromium with a profile of its own that accepts the site's servers by their \
             keys (`--ignore-certificate-errors-spki-list`); for testing and kiosks, put it on the PATH",
        )
        .executable(),
    );
    export.usage = format!(
        "Run `./{FILE} https://{host}/` (extra arguments go to Chromium). `PINSET_CHROMIUM` names the browser \
         (default `chromium`; `google-chrome`, `chromium-browser`), `PINSET_CHROMIUM_PROFILE` the profile folder: \
         Chromium honours the flag only with `--user-data-dir`. This is an override for testing and kiosks, not \
         pinning: see the warnings.\n",
        host = model.example_host(),
    );
    export.warn(
        "chromium-override",
        "--ignore-certificate-errors-spki-list is an override, not a pin: when a listed key is in the certificates \
         a server sends, Chromium ignores every certificate error (unknown issuer, wrong name, expiry), and it \
         restricts nothing: other servers are validated as usual; use it for testing and kiosks, not to protect users",
    );
    if model.pin_target == PinTarget::Ca {
        export.warn(
            "chromium-leaf-keys",
            "the plan pins the CA, but Chromium matches the keys of the certificates a server sends, and a CA \
             certificate is public (an impostor can send it after its own leaf): the flag lists each server's own \
             key instead",
        );
    }
    export
}

fn script(model: &SiteTrust) -> String {
    let pins = model.leaf_pins();
    let list = text::b64(&pins).join(",");
    let profile = format!("${{XDG_CONFIG_HOME:-$HOME/.config}}/pinset-chromium-{}", model.ident());
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&text::comment("# ", &text::provenance(model, "chromium")));
    let mut lines: Vec<String> =
        vec![String::new(), format!("Starts Chromium for the servers of site \"{}\":", model.site)];
    lines.extend(model.servers.iter().map(|s| {
        let hosts: Vec<String> = s.hosts.iter().map(ToString::to_string).collect();
        format!("  {}: {}", s.name, hosts.join(", "))
    }));
    lines.extend([
        String::new(),
        "--ignore-certificate-errors-spki-list is an OVERRIDE, not a pin: when a listed key is".into(),
        "in the certificates a server sends, Chromium ignores every certificate error (unknown".into(),
        "issuer, wrong name, expiry) for it; every other server is validated as usual. Use it".into(),
        "for testing and kiosks, never as protection. Chromium honours it only together with".into(),
        "--user-data-dir, so this script gives it a profile of its own.".into(),
        String::new(),
        "Only the servers' own keys are listed, never the CA's: Chromium compares the keys of".into(),
        "the certificates a server sends, checked or not, and a CA certificate is public, so an".into(),
        "impostor could send the genuine CA certificate after its own leaf and match a CA pin.".into(),
        "Re-export after every server key change.".into(),
    ]);
    if model.pins_expire_after.is_some() {
        lines.extend([String::new(), "The plan's pin expiration does not apply: the flag has no end date.".into()]);
    }
    lines.push(String::new());
    lines.push("Keys (SPKI SHA-256, base64):".into());
    lines.extend(pins.iter().map(|p| format!("  {}", text::describe(p))));
    lines.extend([
        String::new(),
        "The command it runs:".into(),
        format!("  chromium --user-data-dir=\"{profile}\" \\"),
        format!("    --ignore-certificate-errors-spki-list={list} URL"),
        String::new(),
        "PINSET_CHROMIUM: the browser to run (default chromium; google-chrome, chromium-browser).".into(),
        "PINSET_CHROMIUM_PROFILE: its profile folder.".into(),
    ]);
    out.push_str(&text::comment("# ", &lines));
    out.push_str(&format!(
        "\nexec \"${{PINSET_CHROMIUM:-chromium}}\" \\\n\
         \x20   --user-data-dir=\"${{PINSET_CHROMIUM_PROFILE:-{profile}}}\" \\\n\
         \x20   --ignore-certificate-errors-spki-list={list} \\\n\
         \x20   \"$@\"\n"
    ));
    out
}
