//! `pinset testbed`: the catalogue of bad TLS endpoints of `pinset-mitm`, made from the
//! site's CA, served until Ctrl-C or `--duration`: each port printed with what a correct
//! client does, a verdict per connection as it happens, the summary at the end. Exit 1 if
//! a client accepted a bad endpoint (or sent cleartext).

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context as _;
use pinset::Site;
use pinset_mitm::testbed::{Endpoint, Options, TESTBED_DAYS, Testbed};

use crate::cli::TestbedArgs;
use crate::interception::{self, Label};
use crate::output::{self, ExitStatus};

/// One endpoint, as `--json` writes it.
#[derive(serde::Serialize)]
struct EndpointJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    port: u16,
    url: String,
    defect: &'a str,
    correct: &'a str,
    control: bool,
    served_by: &'a str,
}

/// An endpoint that could not be made, as `--json` writes it.
#[derive(serde::Serialize)]
struct SkippedJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    reason: &'a str,
}

fn url(ip: IpAddr, e: &Endpoint) -> String {
    match ip {
        IpAddr::V6(v6) => format!("https://[{v6}]:{}/", e.port),
        IpAddr::V4(v4) => format!("https://{v4}:{}/", e.port),
    }
}

/// Serves the catalogue.
pub fn run(args: TestbedArgs) -> anyhow::Result<ExitStatus> {
    let ip = pinset::address::parse_ip(&args.listen)?;
    let site = Site::open(&output::site_dir(args.site.site.as_deref()))?;
    let site_name = site.plan.name.clone();
    let timeout = Duration::from_secs(args.timeout.max(1));
    let duration = args.duration;
    let json = args.json;
    let options = Options { ip, first_port: args.first_port, timeout };
    let summary = pinset_net::block_on(async move {
        let testbed = Testbed::bind(&site, options).await?;
        let endpoints = testbed.endpoints();
        if json {
            for e in &endpoints {
                interception::json_line(&EndpointJson {
                    kind: "endpoint",
                    name: e.name,
                    port: e.port,
                    url: url(ip, e),
                    defect: e.defect,
                    correct: e.correct,
                    control: e.control,
                    served_by: e.served_by,
                });
            }
            for (name, reason) in testbed.skipped() {
                interception::json_line(&SkippedJson { kind: "skipped", name, reason });
            }
        } else {
            output::message(&format!(
                "pinset testbed: {} endpoints on {ip}, signed by site {site_name}'s CA (certificates valid {TESTBED_DAYS} \
                 days, keys in memory)\n",
                endpoints.len()
            ));
            let name_w = endpoints.iter().map(|e| e.name.len()).max().unwrap_or(0);
            let defect_w = endpoints.iter().map(|e| e.defect.len()).max().unwrap_or(0);
            let mut text = String::new();
            for e in &endpoints {
                text.push_str(&format!("{:<5}  {:name_w$}  {:defect_w$}  {}\n", e.port, e.name, e.defect, e.correct));
            }
            output::emit(&text)?;
            for (name, reason) in testbed.skipped() {
                output::warn(&format!("endpoint {name} skipped: {reason}"));
            }
            output::message(
                "  tls10-11-only and rsa-1024 are served by openssl s_server children (rustls serves neither); a \
                 verdict per connection below; Ctrl-C for the summary\n",
            );
        }
        let summary = testbed
            .run(pinset_mitm::until_stopped(duration), move |record| {
                interception::print_record(record, Label::Endpoint, json);
            })
            .await;
        anyhow::Ok(summary)
    })
    .context("cannot start the network")??;
    interception::finish(&summary, Label::Endpoint, json, "pinset testbed")
}
