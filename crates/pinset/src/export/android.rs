//! Export for `android`: a Network Security Config with one `<domain-config>` per server
//! address (the site's anchors as `res/raw` resources, the pins in a `<pin-set>`).

use std::net::IpAddr;

use super::mobile::{PinnedName, Xml, pinned_names, pins_stop_day, unique_names};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// Where the configuration goes in an Android project (relative to `app/src/main/`).
const CONFIG_PATH: &str = "res/xml/network_security_config.xml";

pub(crate) fn render(model: &SiteTrust, options: &Options) -> Export {
    let mut export = Export::new(Target::Android);
    let mut raw_names = model.anchors.iter().map(|a| raw_name(model, &a.stem)).collect::<Vec<_>>();
    if options.debug_ca.is_some() {
        raw_names.push(raw_name(model, "debug-proxy-ca"));
    }
    let mut raw_names = unique_names(raw_names);
    let debug_raw = options.debug_ca.as_ref().and_then(|_| raw_names.pop());
    let anchors: Vec<(String, &super::Anchor)> = raw_names.into_iter().zip(&model.anchors).collect();
    let names = pinned_names(model);
    let stop = pins_stop_day(model);

    let mut xml = Xml::new("utf-8");
    let mut head: Vec<String> = text::provenance(model, "android").to_vec();
    head.extend([
        String::new(),
        "Add android:networkSecurityConfig=\"@xml/network_security_config\" to the <application>".to_string(),
        "element of AndroidManifest.xml (Android 7.0, API 24, and later read this file).".to_string(),
        "For each address: only the site's anchors below are trusted (they replace the system's CAs),".to_string(),
        "then the chain must hold a key of the pin-set; any one pin matching is enough.".to_string(),
    ]);
    if let Some(day) = &stop {
        head.push(format!(
            "The pin-set expires on {day} (device local time), the day after the plan's last day {}:",
            model.pins_expire_after.map(|d| d.to_string()).unwrap_or_default()
        ));
        head.push("from then on the anchors alone apply.".to_string());
    }
    xml.comment(&head);
    xml.open("network-security-config", &[]);
    for name in &names {
        domain_config(&mut xml, name, &anchors, stop.as_deref(), options);
    }
    if let (Some(ca), Some(raw)) = (&options.debug_ca, &debug_raw) {
        xml.comment(&[
            "Debuggable builds only (android:debuggable, which release builds never set): the proxy CA".to_string(),
            "below is trusted in addition, for every address, so a team can inspect its own app's traffic.".to_string(),
            "overridePins=\"true\": chains it anchors (the proxy forges every leaf) are accepted without the"
                .to_string(),
            "pins; the site's own chains keep them. Release builds ignore this whole element.".to_string(),
        ]);
        xml.open("debug-overrides", &[]);
        xml.open("trust-anchors", &[]);
        xml.empty("certificates", &[("src", &format!("@raw/{raw}")), ("overridePins", "true")]);
        xml.trailing_comment(&format!("debug proxy CA: {}", text::comment_safe(&ca.subject)));
        xml.close("trust-anchors");
        xml.close("debug-overrides");
    }
    xml.close("network-security-config");

    export.files.push(ExportFile::text(
        CONFIG_PATH,
        xml.finish(),
        "Network Security Config: goes to `app/src/main/res/xml/`; name it in the manifest's `<application>`",
    ));
    for (raw, anchor) in &anchors {
        export.files.push(ExportFile::text(
            format!("res/raw/{raw}.pem"),
            anchor.pem.clone(),
            format!(
                "{} anchor `{}` ({}) as the raw resource `@raw/{raw}`: goes to `app/src/main/res/raw/`",
                anchor.role,
                anchor.stem,
                text::comment_safe(&anchor.subject)
            ),
        ));
    }
    if let (Some(ca), Some(raw)) = (&options.debug_ca, &debug_raw) {
        export.files.push(ExportFile::text(
            format!("res/raw/{raw}.pem"),
            ca.pem.clone(),
            format!(
                "the interception proxy's CA ({}), trusted by debuggable builds only, as `@raw/{raw}`: goes to \
                 `app/src/main/res/raw/`",
                text::comment_safe(&ca.subject)
            ),
        ));
        export.warn(
            "android-debug-overrides",
            format!(
                "debuggable builds trust the proxy CA {} (pin {}) for every address, without pins for the chains it \
                 anchors (<debug-overrides>, overridePins=\"true\"); release builds are unaffected: Android applies \
                 debug-overrides only when android:debuggable is true. Keep the proxy's CA key on the developer's \
                 machine",
                text::comment_safe(&ca.subject),
                ca.pin.to_base64()
            ),
        );
    }
    export.usage = String::from(
        "Copy `res/` into `app/src/main/` and add `android:networkSecurityConfig=\"@xml/network_security_config\"` \
         to the `<application>` element of `AndroidManifest.xml`. If the app already has a Network Security \
         Config, move the `<domain-config>` elements into it. Every HTTP stack that uses the platform's default \
         trust (HttpsURLConnection, OkHttp, Cronet, WebView) then trusts only the site's anchors for these \
         addresses and checks the pins. Needs Android 7.0 (API 24); older versions ignore the file and \
         cannot reach the servers (the system does not trust the site's anchors).\n",
    );

    let v6: Vec<&str> = names.iter().filter(|n| matches!(n.ip, Some(IpAddr::V6(_)))).map(|n| n.key.as_str()).collect();
    if !v6.is_empty() {
        export.warn(
            "android-ipv6",
            format!(
                "Android matches <domain> as a string against the host the HTTP client names; pinset writes the \
                 IPv6 addresses {} compressed and without brackets, as OkHttp names them. A client that spells \
                 them otherwise gets the base-config, which does not trust the site's anchors: connections fail \
                 (closed), they are not left unpinned. Test the IPv6 addresses on a device",
                v6.join(", ")
            ),
        );
    }
    if options.system_trust {
        export.warn(
            "android-system-trust",
            "--system-trust adds <certificates src=\"system\"/>: every CA the device trusts can vouch for these \
             addresses; while the pins are in force they still decide, but after the pin-set expires (or for a \
             DNS name a public CA will certify) the site's anchors no longer stand alone",
        );
    }
    export
}

/// The `<domain-config>` of one address.
fn domain_config(
    xml: &mut Xml,
    name: &PinnedName,
    anchors: &[(String, &super::Anchor)],
    stop: Option<&str>,
    options: &Options,
) {
    xml.comment(&[format!("{}: server {}", name.names.join(", "), name.servers.join(", "))]);
    xml.open("domain-config", &[("cleartextTrafficPermitted", "false")]);
    if name.subdomains {
        xml.comment(&[format!(
            "for the wildcard *.{0}: Android's includeSubdomains also covers deeper names and {0} itself",
            name.key
        )]);
    }
    if let Some(IpAddr::V6(_)) = name.ip {
        xml.comment(&["IPv6: compressed, no brackets".to_string()]);
    }
    let subdomains = name.subdomains.to_string();
    let domain_attrs: &[(&str, &str)] =
        if name.ip.is_some() { &[] } else { &[("includeSubdomains", subdomains.as_str())] };
    xml.element("domain", domain_attrs, &name.key);
    xml.open("trust-anchors", &[]);
    for (raw, anchor) in anchors {
        xml.empty("certificates", &[("src", &format!("@raw/{raw}"))]);
        xml.trailing_comment(&format!("{}: {}", anchor.role, text::comment_safe(&anchor.subject)));
    }
    if options.system_trust {
        xml.empty("certificates", &[("src", "system")]);
    }
    xml.close("trust-anchors");
    if !name.pins.is_empty() {
        if name.pins.len() < 2 {
            xml.comment(&[
                "one pin only: Android lint warns (no backup pin); a key change locks the app out".to_string()
            ]);
        }
        let expiration: Vec<(&str, &str)> = stop.map(|d| ("expiration", d)).into_iter().collect();
        xml.open("pin-set", &expiration);
        for p in &name.pins {
            xml.element("pin", &[("digest", "SHA-256")], &p.pin.to_base64());
            xml.trailing_comment(&format!("{} key of {}", p.role, p.owner));
        }
        xml.close("pin-set");
    }
    xml.close("domain-config");
}

/// The resource name of an anchor: `pinset_<site>_<stem>`, `[a-z0-9_]` and starting with a
/// letter, as Android resource names must.
fn raw_name(model: &SiteTrust, stem: &str) -> String {
    format!("pinset_{}_{}", model.ident(), super::ident(stem))
}
