//! Export for `cordova`: cordova-plugin-advanced-http's pinned mode. The site's anchors as
//! DER `.cer` files in `www/certificates/`, and `pinset-pinning.js`, which turns the mode on.

use super::ios::anchor_kind;
use super::mobile::{file_part, unique_names};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};
use crate::plan::{AuthorityMode, PinTarget};

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Cordova);
    let certs = cer_files(model);
    for (file, anchor) in &certs {
        export.files.push(ExportFile::binary(
            format!("www/certificates/{file}"),
            anchor.der.clone(),
            format!(
                "{} anchor `{}` ({}), DER: goes to the app's `www/certificates/`",
                anchor.role,
                anchor.stem,
                text::comment_safe(&anchor.subject)
            ),
        ));
    }

    let mut js = text::comment("// ", &text::provenance(model, "cordova"));
    js.push_str(&text::comment(
        "// ",
        &[
            String::new(),
            "cordova-plugin-advanced-http, pinned mode: requests made with cordova.plugin.http trust only".to_string(),
            "the certificates in www/certificates/ (every request of the plugin, not per host):".to_string(),
        ],
    ));
    for (file, anchor) in &certs {
        js.push_str(&format!("//   {file}: {} ({})\n", anchor.role, text::comment_safe(&anchor.subject)));
    }
    js.push_str(&text::comment(
        "// ",
        &[
            "On iOS the system must trust the server's chain first: install the site's anchors as a".to_string(),
            "configuration profile, or requests fail there.".to_string(),
        ],
    ));
    js.push_str(
        "\n\"use strict\";\n\n\
         /**\n \
         * Turns on pinned mode. Resolves once the plugin uses only the bundled certificates.\n \
         * @returns {Promise<void>}\n \
         */\n\
         function pinsetEnablePinning() {\n  \
         return new Promise(function (resolve, reject) {\n    \
         cordova.plugin.http.setServerTrustMode(\n      \
         \"pinned\",\n      \
         function () {\n        \
         resolve();\n      \
         },\n      \
         function (error) {\n        \
         reject(new Error(\"pinset: cannot turn on pinned mode: \" + error));\n      \
         }\n    \
         );\n  \
         });\n\
         }\n\n\
         document.addEventListener(\n  \
         \"deviceready\",\n  \
         function () {\n    \
         pinsetEnablePinning().catch(function (error) {\n      \
         console.error(error);\n    \
         });\n  \
         },\n  \
         false\n\
         );\n",
    );
    export.files.push(ExportFile::text(
        "pinset-pinning.js",
        js,
        "turns on pinned mode at `deviceready`: goes to `www/js/`, loaded from `index.html` after `cordova.js`",
    ));
    export.usage = "Install `cordova-plugin-advanced-http`, copy `www/certificates/` into the app's `www/`, and \
         load `pinset-pinning.js` from `index.html` after `cordova.js`: at `deviceready` it calls \
         `cordova.plugin.http.setServerTrustMode('pinned')`. Wait for `pinsetEnablePinning()` before the first \
         request. Only requests made with `cordova.plugin.http` are pinned, and all of them (the mode is global).\n"
        .to_string();

    let ips: Vec<String> = model.hosts().filter(|(h, _)| h.is_ip()).map(|(h, _)| h.to_string()).collect();
    let ip_note = if ips.is_empty() {
        String::new()
    } else {
        format!(", and requests to the IP hosts ({}) fail there regardless", ips.join(", "))
    };
    export.warn(
        "cordova-ios-system-trust",
        format!(
            "on iOS pinned mode runs after the system's own trust evaluation: unless the device trusts the site's \
             {} (installed as a configuration profile) every request fails there{ip_note}; Android uses the .cer \
             files as the only roots and needs nothing more",
            anchor_kind(model)
        ),
    );
    export.warn(
        "cordova-global",
        "pinned mode is global: every request made with cordova.plugin.http (any host) must chain to these \
         certificates; requests to other servers need the mode switched back ('default') around them",
    );
    if model.mode == AuthorityMode::SelfSigned {
        export.warn("whole-certificate-pin", whole_certificate_message(model));
    } else if model.pin_target == PinTarget::Leaf {
        export.warn("cordova-ca-only", ca_only_message(model));
    }
    export
}

/// The `.cer` file name of each anchor: `pinset-<site>-<stem>.cer`, each distinct (the
/// plugins load every file by its name alone).
pub(super) fn cer_files(model: &SiteTrust) -> Vec<(String, &super::Anchor)> {
    let bases = unique_names(
        model.anchors.iter().map(|a| format!("pinset-{}-{}", file_part(&model.site), file_part(&a.stem))).collect(),
    );
    bases.into_iter().map(|b| format!("{b}.cer")).zip(&model.anchors).collect()
}

/// The `whole-certificate-pin` warning for a self-signed site (cordova and capacitor).
pub(super) fn whole_certificate_message(model: &SiteTrust) -> String {
    let stems: Vec<&str> = model.anchors.iter().map(|a| a.stem.as_str()).collect();
    format!(
        "this plugin trusts whole certificates, and the anchors of this self-signed site are the server \
         certificates themselves ({}): every renewal breaks the app, even with the same key. The standby \
         certificates are shipped too, so promoting a standby keeps working; re-export and ship before renewing",
        stems.join(", ")
    )
}

/// The warning for a CA site whose plan pins server keys (cordova and capacitor): the plugin
/// can only restrict trust to the CA certificates.
pub(super) fn ca_only_message(model: &SiteTrust) -> String {
    format!(
        "the plan pins each server's own key, but this plugin only restricts trust to certificates: pinset ships \
         the site's {}, so any server certificate that CA issues is accepted, not only the pinned keys",
        anchor_kind(model)
    )
}
