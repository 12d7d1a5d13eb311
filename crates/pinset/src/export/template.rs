//! The code and configuration text an export carries verbatim, kept as template files under
//! `export/templates/` (loaded with `include_str!`), and the one way a site's values enter
//! them.
//!
//! A template is the file as the app developer gets it, with placeholders in the style of
//! mustache:
//!
//! - `{{name}}` is replaced by the value `name`;
//! - `{{#name}}…{{/name}}` repeats its body once for every entry of the list `name` (each
//!   entry's values shadow the outer ones), or once when the flag `name` is set;
//! - `{{^name}}…{{/name}}` renders its body once when the flag `name` is not set or the list
//!   `name` is empty.
//!
//! Names are lower case letters and `_`. A section tag alone on its line takes the whole
//! line with it, so sections leave no blank lines. Rendering is one pass: a value's text is
//! never read for placeholders, so a site name holding `{{…}}` stays text.
//!
//! A value ([`Safe`]) can only be made by an escaper for the place it goes (a string literal,
//! a comment), from pinset's own `'static` text, or by rendering a template, whose own text
//! is pinset's: whatever a site name or a certificate subject holds reaches a file through
//! an escaper (see the `hostile_text_stays_in_its_place` test of `export`).
//!
//! Renderers whose files are mostly generated tables keep the verbatim part of the file (the
//! trust managers, helpers, scripts) here as a template of its own, included whole.

/// Text safe where the template puts it: made by one of the escapers below or by
/// [`Template::render`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Safe(String);

impl Safe {
    /// `s` as a double-quoted string literal of any language pinset writes ([`super::text::quote`]).
    pub fn quoted(s: &str) -> Safe {
        Safe(super::text::quote(s))
    }

    /// `s` followed by a line break, as a double-quoted string literal of Java, JavaScript or
    /// Swift: [`Self::quoted`] with the escape `\n` before the closing quote.
    pub fn quoted_line(s: &str) -> Safe {
        let mut q = super::text::quote(s);
        q.pop();
        q.push_str("\\n\"");
        Safe(q)
    }

    /// `s` as text inside a comment of any language pinset writes ([`super::text::comment_safe`]).
    pub fn comment(s: &str) -> Safe {
        Safe(super::text::comment_safe(s))
    }

    /// `lines` as line comments, each prefixed by `prefix` ([`super::text::comment`]), without
    /// the last line break (the template has it).
    pub fn comment_lines(prefix: &'static str, lines: &[String]) -> Safe {
        let mut text = super::text::comment(prefix, lines);
        text.pop();
        Safe(text)
    }

    /// `s` as a bare word of a configuration file or script (nginx, Caddy, HAProxy, a POSIX
    /// shell, a JavaScript string): only ASCII letters, digits and `._/:+@,=-[]`, none of
    /// which those read as a quote, a variable, an escape, a comment or a separator. `None`
    /// for anything else: the caller refuses the value, naming it.
    pub fn config_word(s: &str) -> Option<Safe> {
        let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/:+@,=-[]".contains(&b));
        ok.then(|| Safe(s.to_string()))
    }

    /// Text pinset itself wrote (a keyword, a punctuation mark, a fixed name): a `'static`
    /// string, so never a site's value.
    pub fn fixed(s: &'static str) -> Safe {
        Safe(s.to_string())
    }

    /// These values one after the other, `sep` between them.
    pub fn join(values: impl IntoIterator<Item = Safe>, sep: &'static str) -> Safe {
        Safe(values.into_iter().map(|v| v.0).collect::<Vec<_>>().join(sep))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// What a placeholder name stands for.
#[derive(Clone, Debug)]
enum Slot {
    Text(Safe),
    Flag(bool),
    List(Vec<Fill>),
}

/// The values of one rendering (or of one entry of a list): names and what they stand for.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fill {
    slots: Vec<(&'static str, Slot)>,
}

impl Fill {
    /// No values yet.
    pub fn new() -> Fill {
        Fill::default()
    }

    /// `{{name}}` is `value`.
    pub fn text(mut self, name: &'static str, value: Safe) -> Fill {
        self.slots.push((name, Slot::Text(value)));
        self
    }

    /// `{{#name}}` renders when `on`, `{{^name}}` when not.
    pub fn flag(mut self, name: &'static str, on: bool) -> Fill {
        self.slots.push((name, Slot::Flag(on)));
        self
    }

    /// `{{#name}}` renders once per entry.
    pub fn list(mut self, name: &'static str, entries: Vec<Fill>) -> Fill {
        self.slots.push((name, Slot::List(entries)));
        self
    }

    fn get(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().rev().find(|(n, _)| *n == name).map(|(_, s)| s)
    }
}

/// A template file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Template {
    /// Its path under `templates/`, for messages.
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
}

/// A template of `templates/PATH`, compiled in.
macro_rules! template {
    ($path:literal) => {
        $crate::export::template::Template { name: $path, text: include_str!(concat!("templates/", $path)) }
    };
}
pub(crate) use template;

/// A piece of a parsed template.
#[derive(Debug)]
enum Node<'t> {
    Text(&'t str),
    Value(&'t str),
    Section { name: &'t str, inverted: bool, body: Vec<Node<'t>> },
}

impl Template {
    /// The template with its placeholders replaced by `fill`'s values.
    ///
    /// Templates are pinset's own files, checked by the tests that render every target: a
    /// placeholder without a value, or a value of the wrong kind, is a bug in pinset and
    /// panics naming the template and the placeholder.
    pub fn render(&self, fill: &Fill) -> Safe {
        let nodes = self.parse();
        let mut out = String::with_capacity(self.text.len() * 2);
        self.emit(&nodes, &mut vec![fill], &mut out);
        Safe(out)
    }

    /// Every placeholder name the template uses, in order of first use.
    #[cfg(test)]
    pub fn names(&self) -> Vec<&'static str> {
        fn walk<'t>(nodes: &[Node<'t>], out: &mut Vec<&'t str>) {
            for n in nodes {
                match n {
                    Node::Text(_) => {}
                    Node::Value(name) => out.push(name),
                    Node::Section { name, body, .. } => {
                        out.push(name);
                        walk(body, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.parse(), &mut out);
        let mut seen = Vec::new();
        for n in out {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        seen
    }

    fn emit<'t>(&self, nodes: &[Node<'t>], scopes: &mut Vec<&Fill>, out: &mut String) {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Value(name) => match lookup(scopes, name) {
                    Some(Slot::Text(v)) => out.push_str(&v.0),
                    other => self.bug(name, "a text value", other),
                },
                Node::Section { name, inverted, body } => match (lookup(scopes, name), inverted) {
                    (Some(Slot::Flag(on)), _) => {
                        if *on != *inverted {
                            self.emit(body, scopes, out);
                        }
                    }
                    (Some(Slot::List(entries)), false) => {
                        for entry in entries {
                            scopes.push(entry);
                            self.emit(body, scopes, out);
                            scopes.pop();
                        }
                    }
                    (Some(Slot::List(entries)), true) => {
                        if entries.is_empty() {
                            self.emit(body, scopes, out);
                        }
                    }
                    (other, _) => self.bug(name, "a flag or a list", other),
                },
            }
        }
    }

    #[allow(clippy::panic)]
    fn bug(&self, name: &str, wanted: &str, got: Option<&Slot>) -> ! {
        let got = match got {
            None => "nothing",
            Some(Slot::Text(_)) => "a text value",
            Some(Slot::Flag(_)) => "a flag",
            Some(Slot::List(_)) => "a list",
        };
        panic!("template {}: {{{{{name}}}}} needs {wanted}, the renderer gave {got}", self.name)
    }

    /// The template as text, values and sections. A malformed tag is a bug in the template
    /// and panics, like a missing value.
    #[allow(clippy::panic)]
    fn parse(&self) -> Vec<Node<'static>> {
        let text = self.text;
        // (name, inverted, nodes before the section)
        let mut stack: Vec<(&'static str, bool, Vec<Node<'static>>)> = Vec::new();
        let mut nodes: Vec<Node<'static>> = Vec::new();
        let mut pos = 0;
        while let Some(found) = text[pos..].find("{{") {
            let start = pos + found;
            let Some(len) = text[start + 2..].find("}}") else {
                panic!("template {}: `{{{{` without `}}}}` at byte {start}", self.name)
            };
            let tag = &text[start + 2..start + 2 + len];
            let end = start + 2 + len + 2;
            let (sigil, name) = match tag.as_bytes().first() {
                Some(b'#' | b'^' | b'/') => (Some(&tag[..1]), &tag[1..]),
                _ => (None, tag),
            };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                panic!("template {}: `{{{{{tag}}}}}` is not a placeholder (names are [a-z_])", self.name);
            }
            // A section tag alone on its line takes the line (its indent and line break) along.
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
            let standalone = sigil.is_some()
                && text[line_start..start].bytes().all(|b| b == b' ')
                && text[end..line_end].trim_end_matches('\n').is_empty();
            let (text_end, next) = if standalone { (line_start, line_end) } else { (start, end) };
            if text_end > pos {
                nodes.push(Node::Text(&text[pos..text_end]));
            }
            match sigil {
                None => nodes.push(Node::Value(name)),
                Some("/") => {
                    let Some((open, inverted, before)) = stack.pop() else {
                        panic!("template {}: `{{{{/{name}}}}}` closes no section", self.name)
                    };
                    if open != name {
                        panic!("template {}: `{{{{/{name}}}}}` closes `{open}`", self.name);
                    }
                    let body = std::mem::replace(&mut nodes, before);
                    nodes.push(Node::Section { name, inverted, body });
                }
                Some(s) => stack.push((name, s == "^", std::mem::take(&mut nodes))),
            }
            pos = next;
        }
        if let Some((open, _, _)) = stack.last() {
            panic!("template {}: section `{open}` is never closed", self.name);
        }
        if pos < text.len() {
            nodes.push(Node::Text(&text[pos..]));
        }
        nodes
    }
}

fn lookup<'f>(scopes: &[&'f Fill], name: &str) -> Option<&'f Slot> {
    scopes.iter().rev().find_map(|f| f.get(name))
}

#[cfg(test)]
mod tests {
    use super::{Fill, Safe, Template};

    fn t(text: &'static str) -> Template {
        Template { name: "test", text }
    }

    #[test]
    fn values_sections_and_standalone_lines() {
        let fill = Fill::new().text("site", Safe::quoted("shop")).flag("expires", false).list(
            "servers",
            vec![
                Fill::new().text("name", Safe::comment("a")).flag("last", false),
                Fill::new().text("name", Safe::comment("b")).flag("last", true),
            ],
        );
        let out = t("site = {{site}}\n{{#servers}}\n  // {{name}} of {{site}}{{^last}},{{/last}}\n{{/servers}}\n{{#expires}}\nnever\n{{/expires}}\n{{^expires}}\n  no expiry\n{{/expires}}\nend\n")
            .render(&fill);
        assert_eq!(out.as_str(), "site = \"shop\"\n  // a of \"shop\",\n  // b of \"shop\"\n  no expiry\nend\n");
    }

    #[test]
    fn a_value_is_never_read_for_placeholders() {
        let fill = Fill::new().text("site", Safe::comment("{{site}} {{#x}}"));
        assert_eq!(t("// {{site}}\n").render(&fill).as_str(), "// {{site}} {{#x}}\n");
    }

    #[test]
    #[should_panic(expected = "template test: {{missing}} needs a text value, the renderer gave nothing")]
    fn a_placeholder_without_a_value_is_a_bug_named() {
        t("{{missing}}").render(&Fill::new());
    }

    #[test]
    fn names_lists_every_placeholder_once() {
        assert_eq!(t("{{a}}{{#b}}{{a}}{{c}}{{/b}}").names(), ["a", "b", "c"]);
    }
}
