//! What a person sees, through one writer: data on stdout (a closed pipe is not an error),
//! messages on stderr (a stderr that cannot be written, a full disk or a closed terminal,
//! never panics: the message is dropped), errors as `error:` with their causes and a
//! `hint:` line that words the library's [`Remedy`] in this tool's flags. Text that comes
//! from a certificate or a peer goes through [`untrusted`] before it reaches a terminal.
//! The exit status of every command is an [`ExitStatus`].

use std::borrow::Cow;
use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use pinset::Remedy;
use zeroize::Zeroizing;

/// How a command ended, as its exit code says it (docs/architecture.md, "Conventions").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Success,
    /// 1: a verification, pin or platform check failed (the report says which).
    Failed,
    /// 2: a usage or I/O error.
    Error,
    /// 1, for `check`: a monitoring WARNING.
    Warning,
    /// 2, for `check`: a monitoring CRITICAL.
    Critical,
    /// 3, for `check`: a monitoring UNKNOWN (also `check`'s usage and I/O errors).
    Unknown,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failed => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Warning => ExitCode::from(1),
            ExitStatus::Critical => ExitCode::from(2),
            ExitStatus::Unknown => ExitCode::from(3),
        }
    }
}

/// Marks a write to a closed stdout: the reader went away, which is not a failure.
#[derive(Debug)]
struct BrokenPipe;

impl std::fmt::Display for BrokenPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("broken pipe")
    }
}

impl std::error::Error for BrokenPipe {}

/// Writes data to stdout.
pub fn emit(text: &str) -> anyhow::Result<()> {
    emit_bytes(text.as_bytes())
}

/// Writes raw data (a response body) to stdout.
pub fn emit_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(anyhow!(BrokenPipe)),
        other => other.context("cannot write to standard output"),
    }
}

/// Writes a value to stdout as pretty JSON. JSON keeps every string exact: escaping for a
/// terminal is for human output only.
pub fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// Writes a message (lines ending in `\n`) to stderr. A stderr that cannot take it is
/// ignored: the message is lost, the command's result is not.
pub fn message(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// `warning: TEXT` on stderr.
pub fn warn(text: &str) {
    message(&format!("warning: {text}\n"));
}

/// `note: TEXT` on stderr.
pub fn note(text: &str) {
    message(&format!("note: {text}\n"));
}

/// Text from a certificate or a peer, made safe for a terminal: every control character
/// (C0, DEL, C1), Unicode line and paragraph separators and bidirectional overrides are
/// written as `\u{…}` escapes (`\n`, `\r`, `\t` and `\e` by name), so such text can neither
/// move the cursor, change colours, nor start a line of its own.
pub fn untrusted(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || c == '\\'
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Prints an error and returns its exit status.
pub fn report(err: &anyhow::Error) -> ExitCode {
    report_as(err, ExitStatus::Error)
}

/// Prints an error and returns `status` (`check` reports its errors as UNKNOWN).
pub fn report_as(err: &anyhow::Error, status: ExitStatus) -> ExitCode {
    if err.downcast_ref::<BrokenPipe>().is_some() {
        return ExitCode::SUCCESS;
    }
    let mut text = format!("error: {}\n", untrusted(&err.to_string()));
    let mut shown = err.to_string();
    for cause in err.chain().skip(1) {
        // Errors that already print their cause in their message are not repeated.
        let cause = cause.to_string();
        if !shown.contains(&cause) {
            text.push_str(&format!("  caused by: {}\n", untrusted(&cause)));
        }
        shown = cause;
    }
    if let Some(remedy) = remedy_of(err) {
        text.push_str(&format!("hint: {}\n", untrusted(&hint(&remedy))));
    }
    message(&text);
    status.into()
}

/// The remedy a library error in the chain carries, whichever crate it comes from.
fn remedy_of(err: &anyhow::Error) -> Option<Remedy> {
    err.chain().find_map(|c| {
        c.downcast_ref::<pinset::Error>()
            .and_then(pinset::Error::remedy)
            .or_else(|| c.downcast_ref::<pinset_tls::verifier::BuildError>().and_then(|e| e.remedy()))
            .cloned()
    })
}

/// A library remedy in this tool's words: its flags, commands and environment.
pub fn hint(remedy: &Remedy) -> String {
    match remedy {
        Remedy::Advice(text) => text.clone(),
        Remedy::UseIp(ip) => format!("use --ip {ip}"),
        Remedy::UseDns(name) => format!("that looks like a host name: use --dns {name}"),
        Remedy::CreateOrFindSite => {
            "create one with `pinset init --ip ADDRESS`, or point to one with --site DIR or PINSET_SITE".into()
        }
        Remedy::GiveServerAddresses => {
            "give the addresses clients dial: --ip 192.168.1.10 (repeatable) and/or --dns backoffice.local".into()
        }
        Remedy::ShortenValidity { max_days, default_days } => format!(
            "use --days {default_days} (the default; at most {max_days}), or --allow-long-validity if no Apple device \
             will ever connect"
        ),
        Remedy::PinServerKeys => "use --pin leaf (the default for --self-signed)".into(),
        Remedy::CreateSiteWithCa => "create the site without --self-signed to use mutual TLS".into(),
        Remedy::NameTheSite => "give one with --name, or fix `name` in pinset.toml".into(),
        Remedy::GivePassword => {
            "give the password with --password-file FILE or the PINSET_P12_PASSWORD environment variable".into()
        }
        Remedy::WaitForSite => {
            "run the command again once the other one has finished, or wait longer with --wait SECS".into()
        }
        Remedy::RestoreLedger => "restore pki/ledger.sqlite3 from a backup of this site; pinset starts no new ledger \
                                  for a site that has issued certificates"
            .into(),
        Remedy::NewReleaseVersion => {
            "a shipped release carries what it carries: record this build under a new version with `pinset \
             release add VERSION`"
                .into()
        }
        Remedy::ShipStandbyFirst { releases } => format!(
            "ship a release that carries the standby pin (`pinset export … --release VERSION`), then `pinset release \
             retire {}` once it is no longer supported; or `pinset rotate promote --force` to cut {} off now",
            releases.join(" "),
            if releases.len() == 1 { "it" } else { "them" }
        ),
        Remedy::RetireFirst => "run `pinset rotate retire` first (`pinset status` says whether it is safe)".into(),
        Remedy::RetireReleasesFirst { releases } => format!(
            "`pinset release retire {}` once no device runs {} any more; or `pinset rotate retire --force`",
            releases.join(" "),
            if releases.len() == 1 { "it" } else { "them" }
        ),
        Remedy::ReissueClients { clients } => format!(
            "issue {} again under the active CA (`pinset revoke NAME --reason superseded`, then `pinset issue client \
             NEW-NAME`), or `pinset rotate retire --force`",
            clients.join(", ")
        ),
        Remedy::NoStandby => "a server identity issued with a standby key (`pinset issue server NEW-NAME …`) can be \
                               promoted; this one never can"
            .into(),
        other => format!("{other:?}"),
    }
}

/// A lint finding's fix in this tool's words: when the fix is a new server certificate, the
/// `pinset issue server` command that makes it (for `server`, else `NAME`), then the
/// finding's own words (which give openssl's spelling); certificate text escaped.
pub fn fix_text(f: &pinset::lint::Finding, server: Option<&str>) -> String {
    let Some(r) = &f.reissue else { return untrusted(&f.fix).into_owned() };
    let mut cmd = format!("pinset issue server {}", server.unwrap_or("NAME"));
    for host in &r.names {
        match host {
            pinset::Host::Ip(ip) => cmd.push_str(&format!(" --ip {ip}")),
            pinset::Host::Dns(d) => cmd.push_str(&format!(" --dns {d}")),
        }
    }
    if r.every_address {
        cmd.push_str(" --ip ADDRESS");
    }
    if let Some(days) = r.days {
        cmd.push_str(&format!(" --days {days}"));
    }
    if let Some(key) = r.key_type {
        cmd.push_str(&format!(" --key-type {}", key.name()));
    }
    format!("`{}`; {}", untrusted(&cmd), untrusted(&f.fix))
}

/// The site folder from `--site`, else `PINSET_SITE`, else the current folder.
pub fn site_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    match std::env::var_os("PINSET_SITE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("."),
    }
}

/// Reads an input named on the command line: a path, or `-` for standard input.
pub fn read_input(name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(pinset::input::read_limited(name)?)
}

/// A PKCS#12 password: from `--password-file`, else `PINSET_P12_PASSWORD`, else a prompt
/// on the terminal (asked twice when `confirm`). Never from argv, where every user of the
/// machine can read it.
pub fn password(file: Option<&Path>, purpose: &str, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Some(file) = file {
        let text = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| {
            anyhow!(pinset::Error::Io { action: "cannot read password file", path: file.to_path_buf(), source: e })
        })?);
        let line = text.strip_suffix('\n').unwrap_or(&text);
        return Ok(Zeroizing::new(line.strip_suffix('\r').unwrap_or(line).to_string()));
    }
    if let Ok(pw) = std::env::var("PINSET_P12_PASSWORD") {
        return Ok(Zeroizing::new(pw));
    }
    if !io::stdin().is_terminal() {
        return Err(anyhow!(
            pinset::Error::bad_value("password", purpose, "is needed and there is no terminal to ask on", None)
                .with_remedy(Remedy::GivePassword)
        ));
    }
    let first = Zeroizing::new(rpassword::prompt_password(format!("Password for {purpose}: "))?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Again: ")?);
        if *first != *second {
            return Err(anyhow!("the two passwords differ; nothing was written"));
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_move_the_cursor_or_start_a_line() {
        assert_eq!(untrusted("CN=shop"), "CN=shop");
        assert_eq!(untrusted("a\u{1b}[31mred\u{7}\nAAAA=  x"), "a\\e[31mred\\u{7}\\nAAAA=  x");
        assert_eq!(untrusted("x\u{9b}y\u{202e}z\u{2028}"), "x\\u{9b}y\\u{202e}z\\u{2028}");
    }
}
