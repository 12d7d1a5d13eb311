//! The inventory of a fleet: a text file with one target a line, `address [name] [site]`.
//!
//! - `address`: any form `pinset::Target` reads (`192.168.1.10:8443`, `[fd00::10]:8443`,
//!   `https://till-3.shop.example/`); a bare host takes the default port given.
//! - `name`: a label for reports and metrics (a shop, a till); `-` for none.
//! - `site`: the folder of the site whose apps connect to it, relative to the inventory
//!   file's folder; without it, the caller's default site applies.
//!
//! Blank lines and lines starting with `#` are skipped; a `#` after whitespace starts a
//! comment. An error names the line.

use std::path::{Path, PathBuf};

use pinset::Target;

/// Longest inventory kept in memory: far above any fleet (a million lines of an address,
/// a name and a path), a bound on what a wrong file can cost.
pub const MAX_INVENTORY_BYTES: usize = 64 << 20;

/// Longest name of a target: a label for a table and a metric, not a document.
const MAX_NAME_LEN: usize = 128;

/// One line of an inventory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The server to check.
    pub target: Target,
    /// Its label, if the line gives one.
    pub name: Option<String>,
    /// The site folder its apps trust, if the line gives one (resolved against the
    /// inventory's folder).
    pub site: Option<PathBuf>,
    /// The line it came from (1-based).
    pub line: usize,
}

/// A line that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}, line {line}: {problem}")]
pub struct InventoryError {
    /// The inventory, as named by the caller.
    pub source_name: String,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub problem: String,
    /// The address error, with its remedy, when the address is what is wrong.
    #[source]
    pub cause: Option<Box<pinset::Error>>,
}

/// Reads an inventory's `text`. `source_name` names it in errors, `base` is the folder
/// relative site paths start from, `default_port` the port of a bare host.
pub fn parse(text: &str, source_name: &str, base: &Path, default_port: u16) -> Result<Vec<Entry>, InventoryError> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let bad = |problem: String| InventoryError { source_name: source_name.to_string(), line, problem, cause: None };
        let content = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(at) => &raw[..at],
            None => raw,
        };
        let content = content.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.len() > 3 {
            return Err(bad(format!(
                "has {} fields; a line is `address [name] [site]` (a name holds no spaces)",
                fields.len()
            )));
        }
        let target = Target::parse(fields[0], Some(default_port)).map_err(|e| InventoryError {
            problem: e.to_string(),
            cause: Some(Box::new(e)),
            ..bad(String::new())
        })?;
        let name = match fields.get(1) {
            None | Some(&"-") => None,
            Some(n) if n.len() > MAX_NAME_LEN => {
                return Err(bad(format!("the name is longer than {MAX_NAME_LEN} characters")));
            }
            Some(n) if n.chars().any(char::is_control) => {
                return Err(bad("the name holds a control character".into()));
            }
            Some(n) => Some((*n).to_string()),
        };
        let site = fields.get(2).map(|s| base.join(s));
        entries.push(Entry { target, name, site, line });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_address_name_and_site() {
        let text = "# fleet\n\n192.168.1.10:8443 shop-1 shops/north\n[fd00::10]  -  shops/south # till\n\
                    https://till-3.shop.example/status\n10.0.0.5 hub\n";
        let e = parse(text, "fleet.txt", Path::new("/etc/pinset"), 443).expect("inventory");
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].target.authority(), "192.168.1.10:8443");
        assert_eq!(e[0].name.as_deref(), Some("shop-1"));
        assert_eq!(e[0].site.as_deref(), Some(Path::new("/etc/pinset/shops/north")));
        assert_eq!((e[1].target.authority(), e[1].name.as_deref(), e[1].line), ("[fd00::10]:443".into(), None, 4));
        assert_eq!(e[2].target.authority(), "till-3.shop.example:443");
        assert_eq!((e[3].target.port, e[3].site.as_ref()), (443, None));
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = parse("10.0.0.1:1\nhttp://10.0.0.2/\n", "fleet.txt", Path::new("."), 443).expect_err("http");
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("fleet.txt, line 2: "), "{err}");
        let err = parse("10.0.0.1:1 a b c\n", "f", Path::new("."), 443).expect_err("four fields");
        assert!(err.problem.contains("4 fields"), "{err}");
        let err = parse("10.0.0.1:99999\n", "f", Path::new("."), 443).expect_err("port");
        assert_eq!(err.line, 1);
    }
}
