//! `pinset export`: pinning configuration for a client platform, or for all of them.
//!
//! One target prints its warnings in full. `export all` prints one line per platform (its
//! folder, files and number of warnings) and leaves the warnings' detail to the `README.md`
//! it writes, so a new site does not greet its owner with twenty paragraphs; `-v` prints
//! every warning as well.

use anyhow::anyhow;
use pinset::Site;
use pinset::export::{self, ExportFile, Options, Target, Warning};

use crate::cli::ExportArgs;
use crate::output::{self, ExitStatus};

/// Writes the export to `--out`, or a one-file target to stdout; warnings go to stderr.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    // With --release, the site is held from reading the pins until they are recorded, so
    // the release records exactly the pins written.
    let mut site = match &args.release {
        Some(version) => {
            pinset::status::check_version(version)?;
            crate::issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?
        }
        None => Site::open(&dir)?,
    };
    let model = site.trust()?;
    let options = Options { system_trust: args.system_trust };
    let (files, warnings, what) = if args.target == "all" {
        let (files, warnings) = export::export_all(&model, &options);
        (files, warnings, "all".to_string())
    } else {
        let target = Target::from_name(&args.target)
            .ok_or_else(|| anyhow!(pinset::Error::bad_value("export target", &args.target, "is unknown", None)))?;
        let e = export::export(&model, target, &options);
        (e.files, e.warnings, target.name().to_string())
    };
    let all = args.target == "all";
    if !all || args.verbose {
        warn(&warnings);
    }
    match &args.out {
        Some(out) if all => {
            export::write_files(out, &files)?;
            output::emit(&summary(&files, &warnings))?;
            if !args.verbose && !warnings.is_empty() {
                let index = out.join("README.md");
                output::message(&format!(
                    "{}: each is explained in {} under its platform; -v prints them here\n",
                    count(warnings.len(), "warning"),
                    index.display()
                ));
            }
        }
        Some(out) => {
            let written = export::write_files(out, &files)?;
            let list: String = written.iter().map(|p| format!("{}\n", p.display())).collect();
            output::emit(&list)?;
        }
        None => match files.as_slice() {
            [one] => emit_bytes(one)?,
            _ => return Err(anyhow!(needs_out(&what, &files))),
        },
    }
    if let Some(version) = &args.release {
        let platforms: Vec<String> =
            if all { Target::ALL.iter().map(|t| t.name().to_string()).collect() } else { vec![what.clone()] };
        let release = site.add_release(version, &platforms)?;
        output::message(&crate::lifecycle::recorded(&release));
    }
    Ok(ExitStatus::Success)
}

fn warn(warnings: &[Warning]) {
    let text: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
    output::message(&text);
}

/// One line per platform of `export all`: its folder, how many files, how many warnings;
/// then the index.
fn summary(files: &[ExportFile], warnings: &[Warning]) -> String {
    let mut out = String::new();
    for target in Target::ALL {
        let prefix = format!("{}/", target.name());
        let n_files = files.iter().filter(|f| f.path.starts_with(&prefix)).count();
        let n_warnings = warnings.iter().filter(|w| w.target == target).count();
        let warned = if n_warnings == 0 { "no warnings".to_string() } else { count(n_warnings, "warning") };
        out.push_str(&format!("{prefix:<14} {:<9} {warned}\n", count(n_files, "file")));
    }
    out.push_str(&format!("{:<14} the index: each file, where it goes, and every warning in full\n", "README.md"));
    out
}

/// `1 file`, `3 files`.
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn emit_bytes(file: &ExportFile) -> anyhow::Result<()> {
    match std::str::from_utf8(&file.contents) {
        Ok(text) => output::emit(text),
        Err(_) => Err(anyhow!(pinset::Error::bad_value(
            "export",
            &file.path,
            "is a binary file",
            Some("give --out DIR to write it"),
        ))),
    }
}

fn needs_out(what: &str, files: &[ExportFile]) -> pinset::Error {
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    pinset::Error::bad_value(
        "export",
        what,
        format!("writes {} files ({}), which cannot all go to standard output", files.len(), names.join(", ")),
        Some(&format!("give a folder: pinset export {what} --out DIR")),
    )
}
