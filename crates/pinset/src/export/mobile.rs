//! What the mobile renderers (android, ios, trustkit, react-native, cordova, capacitor)
//! share: the site's addresses as host-keyed pin configurations name them, the day pins stop,
//! names for files and resources, and XML text (escaped values, comments that cannot close
//! early).

use std::net::IpAddr;

use super::{SiteTrust, TrustPin, text};

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
