//! Export for `android`: a Network Security Config with one `<domain-config>` per server
//! address (the site's anchors as `res/raw` resources, the pins in a `<pin-set>`), and the
//! helpers the other mobile renderers share (XML text, address keys, the day pins stop).

use std::net::IpAddr;

use super::{Export, ExportFile, Options, SiteTrust, Target, TrustPin, text};

/// Where the configuration goes in an Android project (relative to `app/src/main/`).
const CONFIG_PATH: &str = "res/xml/network_security_config.xml";

pub(crate) fn render(model: &SiteTrust, options: &Options) -> Export {
    let mut export = Export::new(Target::Android);
    let raw_names = unique_names(model.anchors.iter().map(|a| raw_name(model, &a.stem)).collect());
    let anchors: Vec<(String, &super::Anchor)> = raw_names.into_iter().zip(&model.anchors).collect();
    let names = pinned_names(model);
    let stop = pins_stop_day(model);

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
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
    xml.push_str(&xml_comment("", &head));
    xml.push_str("<network-security-config>\n");
    for name in &names {
        xml.push_str(&domain_config(name, &anchors, stop.as_deref(), options));
    }
    xml.push_str("</network-security-config>\n");

    export.files.push(ExportFile::text(
        CONFIG_PATH,
        xml,
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
    name: &PinnedName,
    anchors: &[(String, &super::Anchor)],
    stop: Option<&str>,
    options: &Options,
) -> String {
    let mut out = String::new();
    out.push_str(&xml_comment("    ", &[format!("{}: server {}", name.names.join(", "), name.servers.join(", "))]));
    out.push_str("    <domain-config cleartextTrafficPermitted=\"false\">\n");
    if name.subdomains {
        out.push_str(&xml_comment(
            "        ",
            &[format!(
                "for the wildcard *.{0}: Android's includeSubdomains also covers deeper names and {0} itself",
                name.key
            )],
        ));
    }
    if let Some(IpAddr::V6(_)) = name.ip {
        out.push_str(&xml_comment("        ", &["IPv6: compressed, no brackets".to_string()]));
    }
    let domain_attr = match (name.ip, name.subdomains) {
        (Some(_), _) => String::new(),
        (None, subdomains) => format!(" includeSubdomains=\"{subdomains}\""),
    };
    out.push_str(&format!("        <domain{domain_attr}>{}</domain>\n", xml_escape(&name.key)));
    out.push_str("        <trust-anchors>\n");
    for (raw, anchor) in anchors {
        out.push_str(&format!(
            "            <certificates src=\"@raw/{raw}\"/> <!-- {} -->\n",
            comment_text(&format!("{}: {}", anchor.role, text::comment_safe(&anchor.subject)))
        ));
    }
    if options.system_trust {
        out.push_str("            <certificates src=\"system\"/>\n");
    }
    out.push_str("        </trust-anchors>\n");
    if !name.pins.is_empty() {
        if name.pins.len() < 2 {
            out.push_str(&xml_comment(
                "        ",
                &["one pin only: Android lint warns (no backup pin); a key change locks the app out".to_string()],
            ));
        }
        let expiration = stop.map(|d| format!(" expiration=\"{}\"", xml_escape(d))).unwrap_or_default();
        out.push_str(&format!("        <pin-set{expiration}>\n"));
        for p in &name.pins {
            out.push_str(&format!(
                "            <pin digest=\"SHA-256\">{}</pin> <!-- {} -->\n",
                p.pin.to_base64(),
                comment_text(&format!("{} key of {}", p.role, p.owner))
            ));
        }
        out.push_str("        </pin-set>\n");
    }
    out.push_str("    </domain-config>\n");
    out
}

/// The resource name of an anchor: `pinset_<site>_<stem>`, `[a-z0-9_]` and starting with a
/// letter, as Android resource names must.
fn raw_name(model: &SiteTrust, stem: &str) -> String {
    format!("pinset_{}_{}", model.ident(), super::ident(stem))
}

/// `names` with every repeat (compared without case, as Android resource names and
/// case-insensitive file systems compare them) given a `_2`, `_3`… suffix. Stems that differ
/// only in characters a name cannot hold (servers `till-3` and `till_3`, or `Hub` and `hub`)
/// would otherwise share one file, and one anchor would silently replace the other.
pub(super) fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.clone();
        let mut n = 2;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&candidate)) {
            candidate = format!("{name}_{n}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Shared by the mobile renderers (android, ios, trustkit, react_native, cordova, capacitor).

/// An address as host-keyed pin configurations name it (Android `<domain>`, ATS and
/// TrustKit domain keys, react-native options): a `*.x` wildcard becomes `x` with
/// subdomains. Addresses with the same key are merged into one entry, since every one of
/// these formats rejects or silently drops a repeated key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PinnedName {
    /// An IP address (IPv6 compressed, no brackets), a lower-case DNS name, or the parent of
    /// a `*.` wildcard.
    pub key: String,
    /// True when a `*.` wildcard stands behind it: the entry covers the names below `key`.
    pub subdomains: bool,
    /// The IP address, when the key is one.
    pub ip: Option<IpAddr>,
    /// The addresses as the plan spells them.
    pub names: Vec<String>,
    /// The servers answering on them.
    pub servers: Vec<String>,
    /// The pins apps carry for them, each once, in plan order.
    pub pins: Vec<TrustPin>,
}

/// Every address of the site as a [`PinnedName`], in plan order.
pub(super) fn pinned_names(model: &SiteTrust) -> Vec<PinnedName> {
    let mut out: Vec<PinnedName> = Vec::new();
    for server in &model.servers {
        for host in &server.hosts {
            let lower = host.to_string();
            let (key, subdomains) = match lower.strip_prefix("*.") {
                Some(parent) => (parent.to_string(), true),
                None => (lower.clone(), false),
            };
            let entry = match out.iter_mut().position(|n| n.key == key) {
                Some(i) => &mut out[i],
                None => {
                    out.push(PinnedName {
                        key,
                        subdomains: false,
                        ip: host.ip(),
                        names: Vec::new(),
                        servers: Vec::new(),
                        pins: Vec::new(),
                    });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            entry.subdomains |= subdomains;
            if !entry.names.contains(&lower) {
                entry.names.push(lower.clone());
            }
            if !entry.servers.contains(&server.name) {
                entry.servers.push(server.name.clone());
            }
            for p in &server.pins {
                if !entry.pins.iter().any(|e| e.pin == p.pin) {
                    entry.pins.push(p.clone());
                }
            }
        }
    }
    out
}

/// The day pins stop being enforced (`YYYY-MM-DD`): the day after the plan's last day, as
/// Android's `expiration`, TrustKit's `TSKExpirationDate` and react-native's
/// `expirationDate` name it. `None` when pins do not expire.
pub(super) fn pins_stop_day(model: &SiteTrust) -> Option<String> {
    let last = model.pins_expire_after?;
    // The last representable day has no next one: pins then stop a day early, never late.
    Some(last.next_day().unwrap_or(last).to_string())
}

/// `s` escaped for XML text and attribute values.
pub(super) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` made safe inside an XML comment: no `--`, no trailing `-`, one line.
pub(super) fn comment_text(s: &str) -> String {
    let mut out = text::comment_safe(s);
    while out.contains("--") {
        out = out.replace("--", "- -");
    }
    if out.ends_with('-') {
        out.push(' ');
    }
    out
}

/// An XML comment at `indent`: one line `<!-- text -->`, or a block for several lines.
pub(super) fn xml_comment(indent: &str, lines: &[String]) -> String {
    match lines {
        [one] => format!("{indent}<!-- {} -->\n", comment_text(one)),
        _ => {
            let mut out = format!("{indent}<!--\n");
            for l in lines {
                out.push_str(format!("{indent}    {}", comment_text(l)).trim_end());
                out.push('\n');
            }
            out.push_str(&format!("{indent}-->\n"));
            out
        }
    }
}

/// A file name part: `[A-Za-z0-9._-]` kept, anything else `_`.
pub(super) fn file_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_names_get_a_suffix() {
        let names = unique_names(vec!["a_b".into(), "a_b".into(), "A_B".into(), "c".into(), "a_b_2".into()]);
        assert_eq!(names, ["a_b", "a_b_2", "A_B_3", "c", "a_b_2_2"]);
    }

    #[test]
    fn comments_never_close_early() {
        assert_eq!(comment_text("a--b---c-"), "a- -b- - -c- ");
        let block = xml_comment("", &["x--".into(), "y\nz".into()]);
        assert_eq!(block, "<!--\n    x- -\n    y z\n-->\n");
        let inner = block.strip_prefix("<!--").and_then(|b| b.strip_suffix("-->\n")).expect("a comment block");
        assert!(!inner.contains("--"), "{block}");
    }
}
