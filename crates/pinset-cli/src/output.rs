//! What a person sees: data on stdout (a closed pipe is not an error), errors on stderr as
//! `error:` with its causes and a `hint:` line saying what to do next.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use zeroize::Zeroizing;

/// Exit code of usage and I/O errors.
pub const EXIT_ERROR: u8 = 2;

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
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(anyhow!(BrokenPipe)),
        other => other.context("cannot write to standard output"),
    }
}

/// Writes a value to stdout as pretty JSON.
pub fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// Prints an error and returns its exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if err.downcast_ref::<BrokenPipe>().is_some() {
        return ExitCode::SUCCESS;
    }
    let mut text = format!("error: {err}\n");
    let mut shown = err.to_string();
    for cause in err.chain().skip(1) {
        // Errors that already print their cause in their message are not repeated.
        let cause = cause.to_string();
        if !shown.contains(&cause) {
            text.push_str(&format!("  caused by: {cause}\n"));
        }
        shown = cause;
    }
    let hint = err.chain().find_map(|c| c.downcast_ref::<pinset::Error>()).and_then(pinset::Error::hint);
    if let Some(hint) = hint {
        text.push_str(&format!("hint: {hint}\n"));
    }
    let _ = io::stderr().write_all(text.as_bytes());
    ExitCode::from(EXIT_ERROR)
}

/// The site folder from `--site`, else `PINSET_SITE`, else the current folder.
pub fn site_dir(flag: Option<&Path>) -> PathBuf {
    pinset::plan::site_dir(flag)
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
        return Err(anyhow!(pinset::Error::BadValue {
            what: "password",
            value: purpose.to_string(),
            problem: "is needed and there is no terminal to ask on".into(),
            hint: Some("give it with --password-file FILE or the PINSET_P12_PASSWORD environment variable".into()),
        }));
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
