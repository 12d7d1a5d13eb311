//! `pinset up`: a site for this machine if the folder has none, then served.

use pinset_serve::Server;
use pinset_serve::up::{self, UpSite};

use crate::cli::UpArgs;
use crate::output::{self, ExitStatus, untrusted};
use crate::serving;

/// Creates or opens the site, prints its addresses, pins and a QR code, and serves it
/// until Ctrl-C.
pub fn run(args: UpArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let (ips, dns) = if args.ips.is_empty() && args.dns.is_empty() {
        up::host_addresses()
    } else {
        let ips = args.ips.iter().map(|s| pinset::address::parse_ip(s)).collect::<pinset::Result<Vec<_>>>()?;
        let dns = args.dns.iter().map(|s| pinset::address::parse_dns(s)).collect::<pinset::Result<Vec<_>>>()?;
        (ips, dns)
    };
    // Ctrl-C while the site is made lets it be finished first, then stops.
    let (made, stop) = pinset_serve::shielded(|| up::open_or_create(&dir, ips, dns))?;
    let UpSite { site, created } = made?;
    if let Some(signal) = stop {
        output::message(&format!(
            "Stopped ({}) after {} the site; nothing was served.\n",
            signal.name(),
            if created { "creating" } else { "opening" }
        ));
        return Ok(ExitStatus::Success);
    }
    let addresses_given = !args.ips.is_empty() || !args.dns.is_empty();
    if !created && addresses_given {
        output::warn("the site exists: --ip and --dns only choose a new site's addresses, so they are ignored here");
    }
    let listen =
        if args.serve.listen.is_empty() { serving::all_addresses(args.port) } else { args.serve.listen.clone() };
    let opts = serving::options(&args.serve, dir.clone(), listen)?;
    let logger = serving::logger(&args.serve);
    let server = Server::bind(opts, logger.clone())?;
    let summary = server.summary();
    let trust = site.trust()?;
    let pins = trust.app_pins();
    if args.serve.json {
        #[derive(serde::Serialize)]
        struct UpReport<'a> {
            created: bool,
            #[serde(flatten)]
            serving: &'a pinset_serve::Summary,
            app_pins: &'a [pinset::TrustPin],
        }
        output::emit_json(&UpReport { created, serving: &summary, app_pins: &pins })?;
    } else {
        let mut text = String::new();
        if created {
            text.push_str(&format!(
                "Created site {:?} in {} (private CA; apps pin the CA keys)\n",
                site.plan.name,
                untrusted(&dir.display().to_string())
            ));
        } else {
            text.push_str(&format!("Using site {:?} in {}\n", site.plan.name, untrusted(&dir.display().to_string())));
        }
        text.push_str(&serving::summary_text(&summary));
        text.push_str("Pins apps carry (SPKI SHA-256):\n");
        for p in &pins {
            text.push_str(&format!("  {:<8} {:<20} {}\n", p.role.name(), p.owner.to_string(), p.pin));
        }
        // A phone dials the machine's network address, not loopback: IPv4 first (every
        // network has it), then the .local name, then IPv6.
        let loopback = |u: &&String| u.contains("://127.") || u.contains("://[::1]");
        let url = summary
            .urls
            .iter()
            .filter(|u| !loopback(u))
            .min_by_key(|u| {
                if u.contains("://[") {
                    2
                } else if u.contains(".local:") {
                    1
                } else {
                    0
                }
            })
            .or(summary.urls.first())
            .cloned()
            .unwrap_or_default();
        let payload = up::qr_payload(&url, &pins.iter().map(|p| p.pin).collect::<Vec<_>>());
        if let Some(qr) = up::qr_code(&payload) {
            text.push_str(&format!("Scan to open {url} on a phone (the link carries the pins):\n{qr}\n"));
        }
        output::emit(&text)?;
    }
    serving::warn_about_expiry(&summary);
    serving::run(server, &logger)
}
