//! `pinset mitm`: the interception harness of `pinset-mitm`, run until Ctrl-C or
//! `--duration`, printing a verdict per connection as it happens and the summary at the
//! end. Exit 1 if any impostor was accepted or cleartext seen.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use pinset::{Site, Target};
use pinset_mitm::{Attack, HarnessCa, Mitm, Mode, Options};

use crate::cli::MitmArgs;
use crate::interception::{self, Label};
use crate::output::{self, ExitStatus};

/// The CA's files, as `--json` writes them.
#[derive(serde::Serialize)]
struct CaJson {
    dir: String,
    cert: String,
    der: String,
    notes: String,
    pin: String,
    not_after: String,
    created: bool,
}

/// The start of a run, as `--json` writes it.
#[derive(serde::Serialize)]
struct StartJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    mode: &'static str,
    listen: String,
    reverse: Option<String>,
    attacks: Vec<&'static str>,
    timeout_secs: u64,
    site: Option<&'a str>,
    ca: CaJson,
}

/// Runs the harness.
pub fn run(args: MitmArgs) -> anyhow::Result<ExitStatus> {
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        pinset::Error::bad_value(
            "listen address",
            &args.listen,
            "is not ADDRESS:PORT",
            Some("write 127.0.0.1:8080, 0.0.0.0:8080 or [::]:8080"),
        )
    })?;
    let mode = match &args.reverse {
        Some(r) => Mode::Reverse(Target::parse(r, None)?),
        None => Mode::Proxy,
    };
    let attacks: Vec<Attack> = if args.attacks.is_empty() {
        Attack::ALL.to_vec()
    } else {
        args.attacks.iter().filter_map(|a| Attack::from_name(a)).collect()
    };
    let site_dir =
        args.site.clone().or_else(|| std::env::var_os("PINSET_SITE").filter(|s| !s.is_empty()).map(Into::into));
    let site = match &site_dir {
        Some(dir) => Some(Site::open(dir)?.trust()?),
        None => None,
    };
    let ca = HarnessCa::open_or_create(&args.ca_dir)?;
    let timeout = Duration::from_secs(args.timeout.max(1));
    let duration = args.duration;
    let json = args.json;
    let ca_json = CaJson {
        dir: ca.dir().display().to_string(),
        cert: ca.cert_path().display().to_string(),
        der: ca.der_path().display().to_string(),
        notes: ca.notes_path().display().to_string(),
        pin: ca.pin.to_string(),
        not_after: ca.not_after.date().to_string(),
        created: ca.created,
    };
    let site_name = site.as_ref().map(|s| s.site.clone());
    let options = Options { mode: mode.clone(), attacks: attacks.clone(), timeout, site };
    let summary = pinset_net::block_on(async move {
        let mitm = Mitm::bind(listen, ca, options).await?;
        let bound = mitm.local_addr().context("cannot read the listening address")?;
        let start = StartJson {
            kind: "start",
            mode: if matches!(mode, Mode::Proxy) { "proxy" } else { "reverse" },
            listen: bound.to_string(),
            reverse: match &mode {
                Mode::Reverse(t) => Some(t.authority()),
                Mode::Proxy => None,
            },
            attacks: attacks.iter().map(|a| a.name()).collect(),
            timeout_secs: timeout.as_secs(),
            site: site_name.as_deref(),
            ca: ca_json,
        };
        if json {
            interception::json_line(&start);
        } else {
            output::message(&start_text(&start));
        }
        let summary = mitm
            .run(pinset_mitm::until_stopped(duration), move |record| {
                interception::print_record(record, Label::Attack, json);
            })
            .await;
        anyhow::Ok(summary)
    })
    .context("cannot start the network")??;
    interception::finish(&summary, Label::Attack, json, "pinset mitm")
}

/// What a person reads at start: where the harness listens, what it plays, where its CA is.
fn start_text(start: &StartJson<'_>) -> String {
    let mut text = match &start.reverse {
        Some(upstream) => format!(
            "pinset mitm: standing in for {upstream} on {}: point the client at this address instead\n",
            start.listen
        ),
        None => format!("pinset mitm: proxy on {}: set it as the device's HTTP proxy\n", start.listen),
    };
    let attacks = start.attacks.join(", ");
    if start.attacks.len() > 1 {
        text.push_str(&format!("  attacks in turn: {attacks}\n"));
    } else {
        text.push_str(&format!("  attack: {attacks}\n"));
    }
    let ca = &start.ca;
    text.push_str(&format!(
        "  harness CA: {} ({}; DER {}; install notes {})\n",
        ca.cert,
        if ca.created { "made now" } else { "reused" },
        ca.der,
        ca.notes
    ));
    match (start.site, &start.reverse) {
        (Some(site), None) => {
            text.push_str(&format!("  site {site}: its addresses are attacked; other hosts are tunnelled untouched\n"))
        }
        (Some(site), Some(_)) => text.push_str(&format!("  site {site}: cloned-ca copies its CA\n")),
        (None, _) => {}
    }
    text.push_str(&format!(
        "  a verdict per connection below; Ctrl-C for the summary (a connection gets {}s to show one)\n",
        start.timeout_secs
    ));
    text
}
