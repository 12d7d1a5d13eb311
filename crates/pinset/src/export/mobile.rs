//! What the mobile renderers (android, ios, trustkit, react-native, cordova, capacitor)
//! share: the site's addresses as host-keyed pin configurations name them, the day pins stop,
//! names for files and resources, and XML text (escaped values, comments that cannot close
//! early).

use std::net::IpAddr;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

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

/// An XML document written with quick-xml's writer, which escapes every text and attribute
/// value; comments go through [`comment_text`]. Indented by four spaces, as the exports have
/// always been.
pub(super) struct Xml {
    writer: quick_xml::Writer<Vec<u8>>,
    depth: usize,
}

impl Xml {
    /// A document starting with the XML declaration (`encoding` as written there).
    pub(super) fn new(encoding: &str) -> Xml {
        let mut xml = Xml { writer: quick_xml::Writer::new_with_indent(Vec::new(), b' ', 4), depth: 0 };
        xml.event(Event::Decl(BytesDecl::new("1.0", Some(encoding), None)));
        xml
    }

    /// `<!DOCTYPE text>`.
    pub(super) fn doctype(&mut self, text: &'static str) {
        self.event(Event::DocType(BytesText::from_escaped(text)));
    }

    /// A comment on a line of its own: `<!-- text -->` for one line, a block for several.
    pub(super) fn comment(&mut self, lines: &[String]) {
        let text = match lines {
            [one] => format!(" {} ", comment_text(one)),
            _ => {
                let pad = "    ".repeat(self.depth);
                let mut text = String::from("\n");
                for l in lines {
                    text.push_str(format!("{pad}    {}", comment_text(l)).trim_end());
                    text.push('\n');
                }
                text.push_str(&pad);
                text
            }
        };
        self.event(Event::Comment(BytesText::from_escaped(text)));
    }

    /// A comment at the end of the line just written: ` <!-- text -->`.
    pub(super) fn trailing_comment(&mut self, line: &str) {
        self.event(Event::Text(BytesText::new(" ")));
        self.event(Event::Comment(BytesText::from_escaped(format!(" {} ", comment_text(line)))));
    }

    /// `<name attributes…>`.
    pub(super) fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.event(Event::Start(BytesStart::new(name).with_attributes(attributes.iter().copied())));
        self.depth += 1;
    }

    /// `</name>`.
    pub(super) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.event(Event::End(BytesEnd::new(name)));
    }

    /// `<name attributes…/>`.
    pub(super) fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.event(Event::Empty(BytesStart::new(name).with_attributes(attributes.iter().copied())));
    }

    /// `<name attributes…>text</name>`.
    pub(super) fn element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.event(Event::Start(BytesStart::new(name).with_attributes(attributes.iter().copied())));
        self.event(Event::Text(BytesText::new(text)));
        self.event(Event::End(BytesEnd::new(name)));
    }

    /// The document, ending with a line break.
    pub(super) fn finish(self) -> String {
        let mut out = String::from_utf8_lossy(&self.writer.into_inner()).into_owned();
        out.push('\n');
        out
    }

    fn event(&mut self, event: Event<'_>) {
        // Writing to a Vec cannot fail.
        let _ = self.writer.write_event(event);
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
        let mut xml = Xml::new("utf-8");
        xml.comment(&["x--".into(), "y\nz".into()]);
        xml.open("a", &[("k", "\"<&>'")]);
        xml.element("b", &[], "</b><!-- & ]]>");
        xml.trailing_comment("-->");
        xml.close("a");
        assert_eq!(
            xml.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!--\n    x- -\n    y z\n-->\n\
             <a k=\"&quot;&lt;&amp;&gt;&apos;\">\n    <b>&lt;/b&gt;&lt;!-- &amp; ]]&gt;</b> <!-- - -> -->\n</a>\n"
        );
    }
}
