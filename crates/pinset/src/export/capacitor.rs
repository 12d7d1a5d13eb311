//! Export for `capacitor`: @capgo/capacitor-ssl-pinning. The site's anchors as DER `.cer`
//! files and a `capacitor.config.json` fragment listing them under `plugins.SSLPinning.certs`
//! (with `CapacitorHttp` enabled, the requests the plugin pins).

use super::cordova::{ca_only_message, cer_files, whole_certificate_message};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};
use crate::plan::{AuthorityMode, PinTarget};

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Capacitor);
    let certs = cer_files(model);
    let paths: Vec<String> = certs.iter().map(|(file, _)| format!("certificates/{file}")).collect();
    for ((_, anchor), path) in certs.iter().zip(&paths) {
        export.files.push(ExportFile::binary(
            path.clone(),
            anchor.der.clone(),
            format!(
                "{} anchor `{}` ({}), DER: goes to `certificates/` at the app's root",
                anchor.role,
                anchor.stem,
                text::comment_safe(&anchor.subject)
            ),
        ));
    }

    // JSON has no comments: the provenance goes in a "//" key, as package.json does it.
    let mut note: Vec<String> = text::provenance(model, "capacitor").to_vec();
    note.push(
        "Merge \"plugins\" into capacitor.config.json (or .ts) and copy certificates/ to the app's root.".to_string(),
    );
    let config = serde_json::json!({
        "//": note,
        "plugins": {
            "CapacitorHttp": { "enabled": true },
            "SSLPinning": { "certs": paths },
        },
    });
    let mut json = serde_json::to_string_pretty(&config).unwrap_or_default();
    json.push('\n');
    export.files.push(ExportFile::text(
        "capacitor.config.json",
        json,
        "`plugins` fragment (`SSLPinning.certs`, `CapacitorHttp` enabled): merge into the app's Capacitor config",
    ));
    export.usage = "Install `@capgo/capacitor-ssl-pinning`, copy `certificates/` to the app's root and merge the \
         `plugins` of `capacitor.config.json` into the app's Capacitor config, then run `npx cap sync` (it copies \
         the certificates into the native projects). Requests made through `CapacitorHttp` then trust only these \
         certificates, on iOS and Android alike.\n"
        .to_string();

    export.warn(
        "capacitor-global",
        "the certificates are the only trusted roots for every HTTPS request the app makes through CapacitorHttp, \
         not per host: requests to any other server fail unless listed in SSLPinning.excludedDomains (as URLs with \
         the scheme, e.g. https://other.example)",
    );
    if model.mode == AuthorityMode::SelfSigned {
        export.warn("whole-certificate-pin", whole_certificate_message(model));
    } else if model.pin_target == PinTarget::Leaf {
        export.warn("capacitor-ca-only", ca_only_message(model));
    }
    export
}
