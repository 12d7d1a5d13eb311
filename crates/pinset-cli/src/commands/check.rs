//! `pinset check`: a fleet of servers checked as the site's apps see them (the probe and
//! its judgement are `pinset-check`'s), shown as a table or JSON, with monitoring exit
//! codes; with `--watch`, again on an interval, with Prometheus metrics.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pinset::{Site, Target};
use pinset_check::report::{Report, Round, Status};
use pinset_check::{Options, Probe, SiteContext, Thresholds};

use crate::cli::CheckArgs;
use crate::output::{self, ExitStatus, untrusted};

/// How long a run goes before its progress bar appears: shorter runs show none.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Checks the targets and reports.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitStatus> {
    if args.crit > args.warn {
        bail!(pinset::Error::bad_value(
            "--crit",
            &args.crit.to_string(),
            format!("is more days than --warn {}: a certificate would be critical before it is a warning", args.warn),
            Some("give --crit fewer days than --warn, e.g. --warn 28 --crit 14"),
        ));
    }
    if args.crit < 0 {
        bail!(pinset::Error::bad_value("--crit", &args.crit.to_string(), "is negative", Some("give 0 or more days")));
    }
    let probes = probes(&args)?;
    let options = Options {
        timeout: args.timeout,
        concurrency: usize::from(args.concurrency),
        thresholds: Thresholds { warn_days: args.warn, crit_days: args.crit },
    };
    if args.watch {
        return watch(&args, &probes, &options);
    }
    let progress = Progress::start(probes.len());
    let round = pinset_net::block_on(pinset_check::check::run(&probes, &options, &mut |done, _| progress.set(done)))
        .context("cannot start the network")?;
    progress.finish();
    if args.json {
        output::emit_json(&round)?;
    } else {
        output::emit(&table(&round))?;
    }
    Ok(exit_status(round.status))
}

fn exit_status(status: Status) -> ExitStatus {
    match status {
        Status::Ok => ExitStatus::Success,
        Status::Warning => ExitStatus::Warning,
        Status::Critical => ExitStatus::Critical,
        Status::Unknown => ExitStatus::Unknown,
    }
}

/// Re-checks until a stop signal; prints each round (a summary line when serving metrics).
fn watch(args: &CheckArgs, probes: &[Probe], options: &Options) -> anyhow::Result<ExitStatus> {
    let listener = match args.metrics {
        Some(addr) => Some(std::net::TcpListener::bind(addr).map_err(|e| {
            pinset::Error::bad_value(
                "--metrics",
                &addr.to_string(),
                format!("cannot be listened on ({e})"),
                Some("give a free address and port, e.g. --metrics 127.0.0.1:9793"),
            )
        })?),
        None => None,
    };
    let every = humane(args.interval);
    match &listener {
        Some(l) => output::note(&format!(
            "checking {} targets every {every}; metrics at http://{}/metrics (SIGINT or SIGTERM stops)",
            probes.len(),
            l.local_addr().map(|a| a.to_string()).unwrap_or_default()
        )),
        None => output::note(&format!("checking {} targets every {every} (SIGINT or SIGTERM stops)", probes.len())),
    }
    let serving = listener.is_some();
    let json = args.json;
    let on_round = move |round: &Round| {
        let c = round.counts;
        let line = format!(
            "{}: {} targets, {} ok, {} warning, {} critical, {} unknown, in {} ms\n",
            round.started.replace_nanosecond(0).unwrap_or(round.started),
            round.targets.len(),
            c.ok,
            c.warning,
            c.critical,
            c.unknown,
            round.duration.as_millis()
        );
        if serving {
            output::message(&line);
        } else if json {
            let _ = serde_json::to_string(round).map(|mut t| {
                t.push('\n');
                output::emit(&t)
            });
        } else {
            let _ = output::emit(&format!("{}\n", table(round)));
        }
    };
    pinset_net::block_on(pinset_check::exporter::watch(probes, options, args.interval, listener, on_round))
        .context("cannot start the network")?
        .context("cannot watch for signals")?;
    Ok(ExitStatus::Success)
}

fn humane(d: Duration) -> String {
    if d.subsec_nanos() == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

/// A site opened once, however many targets name it.
struct Sites(HashMap<PathBuf, Arc<SiteContext>>);

impl Sites {
    fn open(&mut self, dir: &Path) -> anyhow::Result<Arc<SiteContext>> {
        if let Some(s) = self.0.get(dir) {
            return Ok(s.clone());
        }
        let site = Site::open(dir)?;
        // Every target reports which of the site's supported releases can connect. A site
        // whose ledger cannot be read (a read-only copy on a monitoring host) is still
        // checked, without releases.
        let supported = site.supported_releases().unwrap_or_else(|e| {
            output::warn(&format!(
                "cannot read the releases of the site: {}; checking without them",
                untrusted(&e.to_string())
            ));
            Vec::new()
        });
        let releases = supported.into_iter().map(|r| {
            let pins = r.pins.iter().map(|p| p.pin).collect();
            (r.version, pins)
        });
        let context = Arc::new(SiteContext::new(site.trust()?)?.with_releases(releases));
        self.0.insert(dir.to_path_buf(), context.clone());
        Ok(context)
    }
}

/// The targets: the arguments, then the inventory's lines; without either, every address
/// of the site.
fn probes(args: &CheckArgs) -> anyhow::Result<Vec<Probe>> {
    let mut sites = Sites(HashMap::new());
    // A site named with --site must open; one found in $PINSET_SITE or the current folder
    // is used when it is there.
    let dir = output::site_dir(args.site.site.as_deref());
    let default_site = if args.site.site.is_some() || dir.join(pinset::plan::PLAN_FILE).exists() {
        Some(sites.open(&dir)?)
    } else {
        None
    };
    let mut probes = Vec::new();
    for t in &args.targets {
        let target = Target::parse(t, Some(args.port))?;
        probes.push(Probe { target, name: None, site: default_site.clone() });
    }
    if let Some(file) = &args.inventory {
        let name = file.display().to_string();
        let bytes = pinset::input::read_limited(&name)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            pinset::Error::bad_input(&name, "is not UTF-8 text", Some("write one target a line: address [name] [site]"))
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        // A bad line is reported as the library's input error, with the address's remedy.
        let entries =
            pinset_check::inventory::parse(&text, &name, base, args.port).map_err(|e| pinset::Error::BadInput {
                path: format!("{}, line {}", e.source_name, e.line),
                problem: e.problem,
                hint: e.cause.and_then(|c| c.remedy().cloned()),
            })?;
        for entry in entries {
            let site = match &entry.site {
                Some(dir) => Some(sites.open(dir).with_context(|| format!("{name}, line {}", entry.line))?),
                None => default_site.clone(),
            };
            probes.push(Probe { target: entry.target, name: entry.name, site });
        }
    }
    if probes.is_empty() && args.inventory.is_none() {
        let Some(site) = &default_site else {
            bail!(
                pinset::Error::bad_value(
                    "targets",
                    "(none)",
                    "were given, and there is no site whose addresses to check",
                    None
                )
                .with_remedy(pinset::Remedy::from(
                    "give servers (192.168.1.10:8443), an inventory with --targets FILE, or a site with --site DIR"
                ))
            );
        };
        for target in site.targets(args.port) {
            probes.push(Probe { target, name: None, site: Some(site.clone()) });
        }
    }
    if probes.is_empty() {
        bail!("no targets: the inventory holds no target lines and no target was given");
    }
    Ok(probes)
}

/// The progress bar of a long run: drawn on stderr only when it is a terminal, and only
/// once the run has taken [`PROGRESS_AFTER`].
struct Progress {
    bar: ProgressBar,
    done: Option<std::sync::mpsc::Sender<()>>,
    shower: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(total: usize) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} checking {pos}/{len} targets {wide_bar} {elapsed}") {
            bar.set_style(style);
        }
        if !std::io::stderr().is_terminal() {
            return Progress { bar, done: None, shower: None };
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let shown = bar.clone();
        let shower = std::thread::spawn(move || {
            if rx.recv_timeout(PROGRESS_AFTER) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(200));
            }
        });
        Progress { bar, done: Some(tx), shower: Some(shower) }
    }

    fn set(&self, done: usize) {
        self.bar.set_position(done as u64);
    }

    fn finish(mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
        if let Some(shower) = self.shower.take() {
            let _ = shower.join();
        }
        self.bar.finish_and_clear();
    }
}

/// A column of the table: its heading and each row's cell.
struct Column {
    heading: &'static str,
    cells: Vec<String>,
    right: bool,
}

fn date(t: Option<time::OffsetDateTime>) -> String {
    t.map_or_else(|| "-".into(), |t| t.date().to_string())
}

fn verify_cell(r: &Report) -> String {
    match (&r.verify, &r.failure) {
        (Some(v), _) => v.reason.clone(),
        (None, Some(f)) => f.kind.to_string(),
        (None, None) if r.name_match == Some(false) => "name-mismatch".into(),
        (None, None) => "not checked (no site)".into(),
    }
}

/// The human report: one line per target, then the problems, the sites, a summary.
fn table(round: &Round) -> String {
    let rows = &round.targets;
    let mut columns = vec![
        Column {
            heading: "STATUS",
            cells: rows.iter().map(|r| r.status.name().to_uppercase()).collect(),
            right: false,
        },
        Column { heading: "TARGET", cells: rows.iter().map(|r| r.target.clone()).collect(), right: false },
    ];
    if rows.iter().any(|r| r.name.is_some()) {
        columns.push(Column {
            heading: "NAME",
            cells: rows.iter().map(|r| r.name.as_deref().map_or("-".into(), |n| untrusted(n).into_owned())).collect(),
            right: false,
        });
    }
    let mut site_names: Vec<&str> = rows.iter().filter_map(|r| r.site.as_deref()).collect();
    site_names.dedup();
    if site_names.len() > 1 {
        columns.push(Column {
            heading: "SITE",
            cells: rows.iter().map(|r| r.site.as_deref().map_or("-".into(), |s| untrusted(s).into_owned())).collect(),
            right: false,
        });
    }
    columns.extend([
        Column {
            heading: "TLS",
            cells: rows.iter().map(|r| r.tls.as_ref().map_or("-".into(), |t| t.version.clone())).collect(),
            right: false,
        },
        Column {
            heading: "EXPIRES",
            cells: rows
                .iter()
                .map(|r| {
                    date(match (r.presented_expiry, r.validated_expiry) {
                        (Some(p), Some(v)) => Some(p.min(v)),
                        (p, v) => p.or(v),
                    })
                })
                .collect(),
            right: false,
        },
        Column {
            heading: "DAYS",
            cells: rows.iter().map(|r| r.days_left.map_or("-".into(), |d| d.to_string())).collect(),
            right: true,
        },
        Column {
            heading: "PIN",
            cells: rows.iter().map(|r| r.pin.as_ref().map_or("-".into(), |p| p.kind.name().to_string())).collect(),
            right: false,
        },
        Column { heading: "VERIFY", cells: rows.iter().map(verify_cell).collect(), right: false },
    ]);
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| c.cells.iter().map(|s| s.chars().count()).chain([c.heading.len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let w = widths[i];
            if i == last {
                out.push_str(cell);
            } else if columns[i].right {
                out.push_str(&format!("{cell:>w$}  "));
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push('\n');
        out
    };
    let mut text = line(columns.iter().map(|c| c.heading).collect());
    for i in 0..rows.len() {
        text.push_str(&line(columns.iter().map(|c| c.cells[i].as_str()).collect()));
    }
    let with_problems: Vec<&Report> = rows.iter().filter(|r| !r.problems.is_empty()).collect();
    if !with_problems.is_empty() {
        text.push('\n');
        for r in with_problems {
            let label = match &r.name {
                Some(n) => format!("{} ({})", r.target, untrusted(n)),
                None => r.target.clone(),
            };
            for p in &r.problems {
                text.push_str(&format!("{label}: {}: {}\n", p.status, untrusted(&p.text)));
            }
        }
    }
    for site in &round.sites {
        text.push('\n');
        text.push_str(&format!("site {}:\n", untrusted(&site.site)));
        for a in &site.anchors {
            let days = if a.days_left < 0 {
                format!("EXPIRED {} days ago", -a.days_left)
            } else {
                format!("{} days left", a.days_left)
            };
            let flag =
                if a.status == Status::Ok { String::new() } else { format!(" ({})", a.status.name().to_uppercase()) };
            text.push_str(&format!(
                "  anchor {} ({}, {}): valid until {}, {days}{flag}\n",
                untrusted(&a.stem),
                a.role,
                untrusted(&a.subject),
                a.not_after.date()
            ));
        }
        if site.releases.is_empty() {
            text.push_str("  releases: none recorded\n");
        } else {
            text.push_str(&format!("  releases: {}\n", untrusted(&site.releases.join(", "))));
        }
    }
    let c = round.counts;
    text.push_str(&format!(
        "\n{} targets: {} ok, {} warning, {} critical, {} unknown; status {}\n",
        rows.len(),
        c.ok,
        c.warning,
        c.critical,
        c.unknown,
        round.status.name().to_uppercase()
    ));
    text
}
