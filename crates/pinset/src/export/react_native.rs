//! Export for `react-native`: `pinset-pinning.ts`, which calls `initializeSslPinning` of
//! react-native-ssl-public-key-pinning with the site's pins per address. Android checks them
//! with OkHttp's `CertificatePinner`; iOS with TrustKit, so the addresses TrustKit refuses
//! are left out there (see [`super::trustkit::refusal`]).

use super::ios::anchor_kind;
use super::mobile::{PinnedName, pinned_names, pins_stop_day};
use super::trustkit::{Refusal, refusal, refused};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::ReactNative);
    let names = pinned_names(model);
    let stop = pins_stop_day(model);

    let mut ts = text::comment("// ", &text::provenance(model, "react-native"));
    ts.push_str(&text::comment(
        "// ",
        &[
            String::new(),
            "react-native-ssl-public-key-pinning: fetch and XMLHttpRequest check these pins. Android".to_string(),
            "checks them with OkHttp's CertificatePinner on top of the platform's trust, so the site's".to_string(),
            "anchors must be trusted there: ship the android export's network_security_config.xml.".to_string(),
            "iOS checks them with TrustKit after iOS's own trust evaluation: the device must trust the".to_string(),
            format!("site's {}, installed as a configuration profile.", anchor_kind(model)),
            "TrustKit stops on IP addresses, local-only names and fewer than two pins: those addresses".to_string(),
            "are left out on iOS (NOT_ON_IOS); reach them with the ios export's PinsetTrust.swift.".to_string(),
        ],
    ));
    ts.push_str("\nimport { Platform } from \"react-native\";\n");
    ts.push_str("import { initializeSslPinning } from \"react-native-ssl-public-key-pinning\";\n\n");
    ts.push_str("/** What the library takes for one address. */\n");
    ts.push_str("type DomainPins = {\n");
    ts.push_str("  includeSubdomains: boolean;\n");
    ts.push_str("  publicKeyHashes: string[];\n");
    ts.push_str("  expirationDate?: string;\n");
    ts.push_str("};\n\n");
    ts.push_str(&format!(
        "/** The pins (SPKI SHA-256, base64) of each address of site {}. */\n",
        text::quote(&model.site)
    ));
    ts.push_str("const PINSET_PINS: { [host: string]: DomainPins } = {\n");
    for n in &names {
        ts.push_str(&entry(n, stop.as_deref()));
    }
    ts.push_str("};\n\n");

    let not_on_ios: Vec<&PinnedName> = names.iter().filter(|n| refusal(n).is_some()).collect();
    ts.push_str("/** Addresses TrustKit (iOS) refuses: IP addresses, local-only names, fewer than two pins. */\n");
    ts.push_str("const NOT_ON_IOS: string[] = [");
    if !not_on_ios.is_empty() {
        ts.push('\n');
        for n in &not_on_ios {
            ts.push_str(&format!("  {},\n", text::quote(&n.key)));
        }
    }
    ts.push_str("];\n\n");
    ts.push_str(&format!(
        "/**\n * Turns on pinning for the servers of site {}. Call it once, as early as possible,\n \
         * before the first request to them.\n *\n \
         * An address whose expirationDate has come (UTC) is left out, as the library itself does\n \
         * on Android: there it reads the date only here, at start, and versions before\n \
         * expirationDate support would keep enforcing the pins. iOS (TrustKit) also stops\n \
         * checking on that day while the app runs.\n */\n",
        text::quote(&model.site)
    ));
    ts.push_str(
        "export async function initializePinsetPinning(): Promise<void> {\n  \
         const today = new Date().toISOString().slice(0, 10);\n  \
         const options: { [host: string]: DomainPins } = {};\n  \
         for (const [host, pins] of Object.entries(PINSET_PINS)) {\n    \
         if (Platform.OS === \"ios\" && NOT_ON_IOS.includes(host)) {\n      \
         continue;\n    \
         }\n    \
         if (pins.expirationDate !== undefined && today >= pins.expirationDate) {\n      \
         // The pins' last day has passed: the platform's trust alone applies.\n      \
         continue;\n    \
         }\n    \
         options[host] = pins;\n  \
         }\n  \
         if (Object.keys(options).length === 0) {\n    \
         // Nothing to pin here (or every pin has expired): TrustKit stops on an empty configuration.\n    \
         return;\n  \
         }\n  \
         await initializeSslPinning(options);\n\
         }\n",
    );

    export.files.push(ExportFile::text(
        "pinset-pinning.ts",
        ts,
        "react-native-ssl-public-key-pinning configuration: add to the app's source and call \
         `initializePinsetPinning()` at start",
    ));
    export.usage = "Install `react-native-ssl-public-key-pinning`, add `pinset-pinning.ts` to the app and \
         `await initializePinsetPinning()` once at start, before the first request to the site. On Android also \
         ship the `android` export's Network Security Config, which makes the site's anchors trusted (the pins \
         are checked on top of the platform's trust). On iOS the library runs TrustKit: devices must trust the \
         site's CA through a configuration profile, and the addresses in `NOT_ON_IOS` are not pinned there; use \
         the `ios` export's `PinsetTrust.swift` in native code for them.\n"
        .to_string();

    let ips = refused(&names, Refusal::Ip);
    if !ips.is_empty() {
        export.warn(
            "rn-ios-no-ip",
            format!(
                "on iOS the library runs TrustKit, which rejects IP addresses: {} left out on iOS (NOT_ON_IOS), \
                 pinned on Android only",
                ips.join(", ")
            ),
        );
    }
    let local = refused(&names, Refusal::LocalName);
    if !local.is_empty() {
        export.warn(
            "rn-ios-local-name",
            format!(
                "on iOS the library runs TrustKit, which accepts only names under a public suffix: {} left out on \
                 iOS (NOT_ON_IOS), pinned on Android only",
                local.join(", ")
            ),
        );
    }
    let one_pin = refused(&names, Refusal::OnePin);
    if !one_pin.is_empty() {
        export.warn(
            "rn-ios-two-pins",
            format!(
                "on iOS the library runs TrustKit, which refuses a domain with fewer than two pins (the call \
                 rejects): {} left out on iOS (NOT_ON_IOS); give the plan a standby key",
                one_pin.join(", ")
            ),
        );
    }
    export.warn(
        "rn-system-trust",
        format!(
            "the library checks pins on top of the platform's trust, it does not add anchors: on Android the site's \
             {kind} must be trust anchors (ship the android export's network_security_config.xml), on iOS they must \
             be installed as a configuration profile, or every connection fails before a pin is checked",
            kind = anchor_kind(model)
        ),
    );
    export
}

/// One address of `PINSET_PINS`.
fn entry(n: &PinnedName, stop: Option<&str>) -> String {
    let mut out = format!(
        "  // {}: server {}",
        text::comment_safe(&n.names.join(", ")),
        text::comment_safe(&n.servers.join(", "))
    );
    if n.subdomains {
        out.push_str(&format!(" (includeSubdomains: also {} and names of any depth below it)", n.key));
    }
    out.push('\n');
    out.push_str(&format!("  {}: {{\n", text::quote(&n.key)));
    out.push_str(&format!("    includeSubdomains: {},\n", n.subdomains));
    out.push_str("    publicKeyHashes: [\n");
    out.push_str(&text::pin_list(&n.pins, "      ", " ", "//"));
    out.push_str("    ],\n");
    if let Some(day) = stop {
        out.push_str(&format!(
            "    expirationDate: {}, // the day pins stop: the plan's last day + 1\n",
            text::quote(day)
        ));
    }
    out.push_str("  },\n");
    out
}
