//! `pinset export`: pinning configuration for a client platform, or for all of them.
//!
//! One target prints its warnings in full. `export all` prints one line per platform (its
//! folder, files and number of warnings) and leaves the warnings' detail to the `README.md`
//! it writes, so a new site does not greet its owner with twenty paragraphs; `-v` prints
//! every warning as well.
//!
//! The server targets write the box's configuration for one `--server`; `p12` writes a
//! client's PKCS#12 file again, in the profile a client needs, without a new certificate.

use std::path::Path;

use anyhow::anyhow;
use pinset::Site;
use pinset::export::{self, ClientAuth, DebugAnchor, Deployment, ExportFile, Options, Target, Warning};
use pinset::pki::P12Profile;

use crate::cli::{ClientAuthArg, ExportArgs, P12ProfileArg};
use crate::output::{self, ExitStatus};

/// Writes the export to `--out`, or a one-file target to stdout; warnings go to stderr.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    // With --release, the site is held from reading the pins until they are recorded, so
    // the release records exactly the pins written.
    let app_target = Target::from_name(&args.target).is_none_or(|t| !t.is_server());
    if args.release.is_some() && (args.target == "p12" || !app_target) {
        return Err(anyhow!(pinset::Error::bad_value(
            "export",
            &format!("{} --release", args.target),
            format!("records the pins an app release carries, and {} is not an app", args.target),
            None,
        )));
    }
    let mut site = match &args.release {
        Some(version) => {
            pinset::status::check_version(version)?;
            crate::issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?
        }
        None => Site::open(&dir)?,
    };
    if args.target == "p12" {
        return p12(&site, &args);
    }
    let target = match args.target.as_str() {
        "all" => None,
        name => Some(
            Target::from_name(name)
                .ok_or_else(|| anyhow!(pinset::Error::bad_value("export target", name, "is unknown", None)))?,
        ),
    };
    refuse_misplaced_flags(&args, target)?;
    let model = site.trust()?.select(&args.only, &args.exclude)?;
    let debug_ca = match &args.debug_overrides {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| pinset::Error::Io {
                action: "cannot read",
                path: path.clone(),
                source: e,
            })?;
            Some(DebugAnchor::read(&path.display().to_string(), &bytes)?)
        }
        None => None,
    };
    let deployment = match target {
        Some(t) if t.is_server() => Some(deployment(&mut site, &args)?),
        _ => None,
    };
    let options = Options { system_trust: args.system_trust, debug_ca, deployment };
    let (files, warnings, what) = match target {
        None => {
            let (files, warnings) = export::export_all(&model, &options);
            (files, warnings, "all".to_string())
        }
        Some(target) => {
            let e = export::export(&model, target, &options);
            (e.files, e.warnings, target.name().to_string())
        }
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
        let platforms: Vec<String> = if all {
            Target::ALL.iter().filter(|t| !t.is_server()).map(|t| t.name().to_string()).collect()
        } else {
            vec![what.clone()]
        };
        let release = site.add_release_of(version, &platforms, &model)?;
        output::message(&crate::lifecycle::recorded(&release));
    }
    Ok(ExitStatus::Success)
}

/// Refuses a flag given to a target it does nothing for, naming both.
fn refuse_misplaced_flags(args: &ExportArgs, target: Option<Target>) -> anyhow::Result<()> {
    let name = target.map_or("all", Target::name);
    let server = target.is_some_and(Target::is_server);
    let refuse = |flag: &str, why: &str| -> anyhow::Result<()> {
        Err(anyhow!(pinset::Error::bad_value("export", &format!("{name} {flag}"), why.to_string(), None)))
    };
    if args.client.is_some() || args.profile.is_some() || args.password_file.is_some() {
        return refuse("CLIENT/--profile/--password-file", "are for `pinset export p12 CLIENT`");
    }
    if !server
        && (args.server.is_some() || args.client_auth.is_some() || !args.listen.is_empty() || args.upstream.is_some())
    {
        return refuse(
            "--server/--client-auth/--listen/--upstream",
            "are for the server targets (nginx, caddy, haproxy, node-server, s_server)",
        );
    }
    if server && (!args.only.is_empty() || !args.exclude.is_empty()) {
        return refuse("--only/--exclude", "choose the addresses apps trust; a server target serves one --server");
    }
    if args.debug_overrides.is_some() && target.is_some_and(|t| !t.has_debug_overrides()) {
        return refuse(
            "--debug-overrides",
            "is for android, ios, cordova-plugin and capacitor-plugin (and all, which gives it to them)",
        );
    }
    Ok(())
}

/// The server targets' deployment; with mutual TLS, the site's revocation list is written
/// first if it has none (nginx and HAProxy refuse to start without the file they name).
fn deployment(site: &mut Site, args: &ExportArgs) -> anyhow::Result<Deployment> {
    let client_auth = match args.client_auth.unwrap_or(ClientAuthArg::Off) {
        ClientAuthArg::Off => ClientAuth::Off,
        ClientAuthArg::Optional => ClientAuth::Optional,
        ClientAuthArg::Require => ClientAuth::Require,
    };
    let out = args.out.clone().unwrap_or_else(|| ".".into());
    let d = Deployment::of_site(
        site,
        args.server.as_deref(),
        client_auth,
        args.listen.clone(),
        args.upstream.as_deref().unwrap_or("http://127.0.0.1:8080"),
        &out,
    )?;
    if client_auth != ClientAuth::Off && !site.crl_path().exists() {
        let path = site.write_crl()?;
        output::message(&format!(
            "wrote the site's revocation list {} (no certificate revoked yet): the server reads it\n",
            path.display()
        ));
    }
    Ok(d)
}

/// `pinset export p12 CLIENT --out FILE`: the client's key and certificate in a PKCS#12
/// file of the profile asked for, written 0600 and atomically, outside `pki/`.
fn p12(site: &Site, args: &ExportArgs) -> anyhow::Result<ExitStatus> {
    let Some(client) = args.client.as_deref() else {
        return Err(anyhow!(pinset::Error::bad_value(
            "export p12",
            "(no client)",
            "needs the name of the client whose file to write",
            Some("pinset export p12 CLIENT --out FILE"),
        )));
    };
    let Some(out) = args.out.as_deref() else {
        return Err(anyhow!(pinset::Error::bad_value(
            "export p12",
            client,
            "needs the file to write",
            Some(&format!("pinset export p12 {client} --out {client}.p12")),
        )));
    };
    let other = !args.only.is_empty()
        || !args.exclude.is_empty()
        || args.debug_overrides.is_some()
        || args.system_trust
        || args.server.is_some()
        || args.client_auth.is_some()
        || !args.listen.is_empty()
        || args.upstream.is_some();
    if other {
        return Err(anyhow!(pinset::Error::bad_value(
            "export p12",
            client,
            "takes only --profile, --password-file and --out",
            None,
        )));
    }
    refuse_inside_pki(site, out)?;
    let profile = match args.profile.unwrap_or(P12ProfileArg::Modern) {
        P12ProfileArg::Modern => P12Profile::Modern,
        P12ProfileArg::Legacy => P12Profile::Legacy,
    };
    let password =
        output::password(args.password_file.as_deref(), &format!("the PKCS#12 file of client {client:?}"), true)?;
    let bytes = site.client_pkcs12(client, profile, &password)?;
    pinset::atomic::write(out, &bytes, pinset::atomic::SECRET_MODE)?;
    output::emit(&format!("{}\n", out.display()))?;
    let what = match profile {
        P12Profile::Modern => "modern: AES-256-CBC, HMAC-SHA256, for Windows 10 1709+, Java and desktop browsers",
        P12Profile::Legacy => "legacy: 3DES, HMAC-SHA1, for Android up to 13, iOS and macOS",
    };
    output::message(&format!("PKCS#12 of client {client:?} ({what}), mode 0600, with the certificate it has\n"));
    Ok(ExitStatus::Success)
}

/// The site's `pki/` holds what the site issued and nothing else: a file written there by
/// hand would be taken for the site's own.
fn refuse_inside_pki(site: &Site, out: &Path) -> anyhow::Result<()> {
    if out.is_dir() {
        return Err(anyhow!(pinset::Error::bad_value(
            "export p12",
            &out.display().to_string(),
            "is a folder",
            Some("give the file to write, e.g. till-1-legacy.p12"),
        )));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (Ok(parent), Ok(pki)) = (parent.canonicalize(), site.path("pki").canonicalize()) else {
        return Ok(());
    };
    if parent.starts_with(&pki) {
        return Err(anyhow!(pinset::Error::bad_value(
            "export p12",
            &out.display().to_string(),
            "is inside the site's pki/, which holds only what the site issued",
            Some("write it elsewhere, e.g. next to the site folder"),
        )));
    }
    Ok(())
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
        out.push_str(&format!("{prefix:<18} {:<9} {warned}\n", count(n_files, "file")));
    }
    out.push_str(&format!("{:<18} the index: each file, where it goes, and every warning in full\n", "README.md"));
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
