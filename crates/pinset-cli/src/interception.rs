//! What `mitm` and `testbed` share: how a connection's verdict is shown (one line as it
//! happens, or one JSON object a line) and how a run's summary and result are shown. What
//! a client sent is shown only as its size and first line, escaped for a terminal.

use std::net::IpAddr;

use pinset_mitm::verdict::{Record, Rejection, Summary, Verdict, VerdictKind};

use crate::output::{self, ExitStatus, untrusted};

/// What the scenario of a record is called: `attack` (mitm) or `endpoint` (testbed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// An attack of `pinset mitm`.
    Attack,
    /// An endpoint of `pinset testbed`.
    Endpoint,
}

impl Label {
    fn name(self) -> &'static str {
        match self {
            Label::Attack => "attack",
            Label::Endpoint => "endpoint",
        }
    }
}

/// What the client sent, as `--json` writes it.
#[derive(serde::Serialize)]
struct SentJson<'a> {
    bytes: u64,
    first_line: &'a str,
}

/// One verdict, as `--json` writes it.
#[derive(serde::Serialize)]
struct VerdictJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    client: String,
    host: &'a str,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    attack: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a str>,
    verdict: &'static str,
    how: Option<&'static str>,
    alert: Option<&'a str>,
    tls: Option<&'a str>,
    sent: Option<SentJson<'a>>,
    detail: String,
}

/// One row of the summary, as `--json` writes it.
#[derive(serde::Serialize)]
struct SummaryJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    client: IpAddr,
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attack: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a str>,
    connections: u64,
    accepted_impostor: u64,
    cleartext: u64,
    rejected: u64,
    inconclusive: u64,
    connected: u64,
}

/// The result of a run, as `--json` writes it.
#[derive(serde::Serialize)]
struct ResultJson {
    #[serde(rename = "type")]
    kind: &'static str,
    connections: u64,
    accepted_impostor: u64,
    cleartext: u64,
    rejected: u64,
    inconclusive: u64,
    connected: u64,
    passed: bool,
}

/// Writes one JSON object on one line of stdout.
pub fn json_line(value: &impl serde::Serialize) {
    if let Ok(mut text) = serde_json::to_string(value) {
        text.push('\n');
        // A reader that went away is not the harness's failure: the run goes on.
        let _ = output::emit(&text);
    }
}

/// What a verdict means, in words; peer text (what the client sent) is left out.
fn detail(verdict: &Verdict) -> String {
    match verdict {
        Verdict::AcceptedImpostor(_) => "the client sent application data over the forged channel".into(),
        Verdict::Cleartext(_) => "the client sent plain HTTP where TLS was expected".into(),
        Verdict::Rejected(Rejection::Alert(Some(alert))) => format!("the client sent the alert {alert}"),
        Verdict::Rejected(Rejection::Alert(None)) => {
            "the client sent an alert (encrypted: its name cannot be read on a relayed connection)".into()
        }
        Verdict::Rejected(Rejection::ClosedInHandshake) => {
            "the client closed the connection during the handshake".into()
        }
        Verdict::Rejected(Rejection::ResetInHandshake) => "the client reset the connection during the handshake".into(),
        Verdict::Rejected(Rejection::Incompatible(why)) => why.clone(),
        Verdict::Rejected(Rejection::ClosedAfterHandshake { reset }) => format!(
            "the client completed the handshake, then {} the connection without sending data",
            if *reset { "reset" } else { "closed" }
        ),
        Verdict::Inconclusive(why) => why.clone(),
        Verdict::Connected => "the client sent application data to the genuine server".into(),
    }
}

/// `host:port`, an IPv6 address in brackets.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// Prints one record: a line as it happens, or a JSON object.
pub fn print_record(record: &Record, label: Label, json: bool) {
    let verdict = &record.verdict;
    if json {
        let (attack, endpoint) = match label {
            Label::Attack => (Some(record.scenario.as_str()), None),
            Label::Endpoint => (None, Some(record.scenario.as_str())),
        };
        let (how, alert) = match verdict {
            Verdict::Rejected(r) => (Some(r.how()), if let Rejection::Alert(a) = r { a.as_deref() } else { None }),
            _ => (None, None),
        };
        json_line(&VerdictJson {
            kind: "verdict",
            time: record.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            client: record.client.to_string(),
            host: &record.host,
            port: record.port,
            attack,
            endpoint,
            verdict: verdict.kind().name(),
            how,
            alert,
            tls: record.tls.as_deref(),
            sent: verdict.sent().map(|s| SentJson { bytes: s.bytes, first_line: &s.first_line }),
            detail: detail(verdict),
        });
        return;
    }
    let mut line = format!(
        "{:02}:{:02}:{:02} {} -> {} {}: {} ({})",
        record.time.hour(),
        record.time.minute(),
        record.time.second(),
        record.client,
        untrusted(&authority(&record.host, record.port)),
        record.scenario,
        verdict.kind().name(),
        untrusted(&detail(verdict)),
    );
    if let Some(sent) = verdict.sent() {
        line.push_str(&format!("; sent {} bytes, first line \"{}\"", sent.bytes, untrusted(&sent.first_line)));
    }
    line.push('\n');
    let _ = output::emit(&line);
}

const KINDS: [VerdictKind; 5] = [
    VerdictKind::AcceptedImpostor,
    VerdictKind::Cleartext,
    VerdictKind::Rejected,
    VerdictKind::Inconclusive,
    VerdictKind::Connected,
];

/// Prints the summary per client address, host and scenario, then the result; the exit
/// status says whether any impostor was accepted or cleartext seen (1) or not (0).
pub fn finish(summary: &Summary, label: Label, json: bool, command: &str) -> anyhow::Result<ExitStatus> {
    let total = |k| summary.total(k);
    let connections: u64 = KINDS.iter().map(|&k| total(k)).sum();
    let passed = !summary.failed();
    if json {
        for row in summary.rows() {
            let c = row.counts;
            let (attack, endpoint) = match label {
                Label::Attack => (Some(row.scenario), None),
                Label::Endpoint => (None, Some(row.scenario)),
            };
            json_line(&SummaryJson {
                kind: "summary",
                client: row.client,
                host: row.host,
                attack,
                endpoint,
                connections: c.total(),
                accepted_impostor: c.of(VerdictKind::AcceptedImpostor),
                cleartext: c.of(VerdictKind::Cleartext),
                rejected: c.of(VerdictKind::Rejected),
                inconclusive: c.of(VerdictKind::Inconclusive),
                connected: c.of(VerdictKind::Connected),
            });
        }
        json_line(&ResultJson {
            kind: "result",
            connections,
            accepted_impostor: total(VerdictKind::AcceptedImpostor),
            cleartext: total(VerdictKind::Cleartext),
            rejected: total(VerdictKind::Rejected),
            inconclusive: total(VerdictKind::Inconclusive),
            connected: total(VerdictKind::Connected),
            passed,
        });
    } else {
        let mut text = format!("summary: {connections} connection{}\n", if connections == 1 { "" } else { "s" });
        let rows: Vec<_> = summary.rows().collect();
        if !rows.is_empty() {
            let client_w = rows.iter().map(|r| r.client.to_string().len()).max().unwrap_or(0).max(6);
            let host_w = rows.iter().map(|r| untrusted(r.host).len()).max().unwrap_or(0).max(4);
            let scen_w = rows.iter().map(|r| r.scenario.len()).max().unwrap_or(0).max(8);
            text.push_str(&format!(
                "  {:client_w$}  {:host_w$}  {:scen_w$}  verdicts\n",
                "client",
                "host",
                label.name()
            ));
            for row in rows {
                let verdicts: Vec<String> = KINDS
                    .iter()
                    .filter(|&&k| row.counts.of(k) > 0)
                    .map(|&k| format!("{} {}", k.name(), row.counts.of(k)))
                    .collect();
                text.push_str(&format!(
                    "  {:client_w$}  {:host_w$}  {:scen_w$}  {}\n",
                    row.client.to_string(),
                    untrusted(row.host),
                    row.scenario,
                    verdicts.join(", ")
                ));
            }
        }
        output::emit(&text)?;
        let (impostors, cleartext) = (total(VerdictKind::AcceptedImpostor), total(VerdictKind::Cleartext));
        if passed {
            output::message(&format!("{command}: passed: no impostor accepted, no cleartext seen\n"));
        } else {
            output::message(&format!(
                "{command}: FAILED: {impostors} impostor{} accepted, {cleartext} cleartext request{}\n",
                if impostors == 1 { "" } else { "s" },
                if cleartext == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(if passed { ExitStatus::Success } else { ExitStatus::Failed })
}
