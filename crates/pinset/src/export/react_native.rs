//! Export for `react-native`: `pinset-pinning.ts`, which calls `initializeSslPinning` of
//! react-native-ssl-public-key-pinning with the site's pins per address. Android checks them
//! with OkHttp's `CertificatePinner`; iOS with TrustKit, so the addresses TrustKit refuses
//! are left out there (see [`super::trustkit::refusal`]).

use super::ios::anchor_kind;
use super::mobile::{PinnedName, pinned_names, pins_stop_day};
use super::template::{Fill, Safe, template};
use super::trustkit::{Refusal, refusal, refused};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::ReactNative);
    let names = pinned_names(model);
    let stop = pins_stop_day(model);

    let mut head: Vec<String> = text::provenance(model, "react-native").to_vec();
    head.extend([
        String::new(),
        "react-native-ssl-public-key-pinning: fetch and XMLHttpRequest check these pins. Android".to_string(),
        "checks them with OkHttp's CertificatePinner on top of the platform's trust, so the site's".to_string(),
        "anchors must be trusted there: ship the android export's network_security_config.xml.".to_string(),
        "iOS checks them with TrustKit after iOS's own trust evaluation: the device must trust the".to_string(),
        format!("site's {}, installed as a configuration profile.", anchor_kind(model)),
        "TrustKit stops on IP addresses, local-only names and fewer than two pins: those addresses".to_string(),
        "are left out on iOS (NOT_ON_IOS); reach them with the ios export's PinsetTrust.swift.".to_string(),
    ]);
    let not_on_ios: Vec<Fill> =
        names.iter().filter(|n| refusal(n).is_some()).map(|n| Fill::new().text("key", Safe::quoted(&n.key))).collect();
    let fill = Fill::new()
        .text("head", Safe::comment_lines("// ", &head))
        .text("site_doc", Safe::comment(&text::quote(&model.site)))
        .list("entries", names.iter().map(|n| entry(n, stop.as_deref())).collect())
        .flag("some_not_on_ios", !not_on_ios.is_empty())
        .list("not_on_ios", not_on_ios);
    let ts = template!("react-native/pinset-pinning.ts").render(&fill).into_string();

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
fn entry(n: &PinnedName, stop: Option<&str>) -> Fill {
    let pins = n
        .pins
        .iter()
        .map(|p| {
            Fill::new()
                .text("pin", Safe::quoted(&p.pin.to_base64()))
                .text("role", Safe::fixed(p.role.name()))
                .text("owner", Safe::comment(&p.owner.to_string()))
        })
        .collect();
    Fill::new()
        .text("names", Safe::comment(&n.names.join(", ")))
        .text("servers", Safe::comment(&n.servers.join(", ")))
        .flag("subdomains", n.subdomains)
        .text("key_doc", Safe::comment(&n.key))
        .text("key", Safe::quoted(&n.key))
        .text("include_subdomains", Safe::fixed(if n.subdomains { "true" } else { "false" }))
        .list("pins", pins)
        .flag("expires", stop.is_some())
        .text("stop_day", Safe::quoted(stop.unwrap_or_default()))
}
