//! `pinset get`: one HTTPS request to a server the verifier accepts first, made by
//! pinset-net's client (hyper over tokio-rustls: HTTP/2 when the server offers it,
//! HTTP/1.1 otherwise), within one deadline; redirects followed only with `-L`, and only
//! to the site's own addresses.
//!
//! The body goes to stdout (or `-o FILE`) as the raw data it is; everything else a person
//! reads goes to stderr, with the peer's text (reason phrase, `Location`) escaped. The
//! result says whether a pin was checked: anchors alone (`--ca` without `--pin`) would
//! accept an interception proxy whose CA is among them.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use pinset::Target;
use pinset_net::client::{Client, Exchange, Identity, Limits, Redirects, Request, Scope};
use pinset_net::{HeaderMap, HeaderName, HeaderValue, Method};
use pinset_tls::VerifyError;
use pinset_tls::verifier::{ChainLink, PinCheck};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::cli::GetArgs;
use crate::client_trust::{ClientTrust, TrustFlags, TrustSource};
use crate::net_report;
use crate::output::{self, ExitStatus, untrusted};
use crate::verdict::{describe_pins, refused_text};

/// What the TLS handshake negotiated, as `--json` writes it.
#[derive(serde::Serialize)]
struct TlsJson {
    version: String,
    cipher: String,
    alpn: Option<String>,
}

/// An accepted chain's verdict, as `--json` writes it.
#[derive(serde::Serialize)]
struct AcceptedJson {
    accepted: bool,
    /// Whether a pin was required and matched (false: the anchors alone decided).
    pins_checked: bool,
    pins: Option<PinCheck>,
}

/// A redirect followed with `-L`.
#[derive(serde::Serialize)]
struct HopJson {
    url: String,
    http: &'static str,
    tls: TlsJson,
    verdict: AcceptedJson,
    status: u16,
    location: Option<String>,
}

/// `pinset get --json` for a response.
#[derive(serde::Serialize)]
struct GetJson<'a> {
    url: &'a str,
    /// The URL of the final response, when redirects were followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    effective_url: Option<String>,
    trust: &'a TrustSource,
    tls: TlsJson,
    http: &'static str,
    chain: Vec<ChainLink>,
    verdict: AcceptedJson,
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    /// The body as text; absent with `-o`.
    body: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    redirects: Vec<HopJson>,
}

/// A refused verdict, as `--json` writes it.
#[derive(serde::Serialize)]
struct RefusedVerdictJson {
    accepted: bool,
    kind: pinset_tls::FailureKind,
    detail: String,
}

/// `pinset get --json` for a server whose chain was refused.
#[derive(serde::Serialize)]
struct RefusedJson<'a> {
    url: &'a str,
    /// The server refused (another URL than `url` after a redirect).
    server: &'a str,
    trust: &'a TrustSource,
    verdict: RefusedVerdictJson,
    chain: &'a [ChainLink],
    expected_pins: &'a [pinset::Pin],
}

/// Makes the request and prints the body (or the report of a refused server).
pub fn run(args: GetArgs) -> anyhow::Result<ExitStatus> {
    let target = Target::parse(&args.url, None)?;
    let trust = ClientTrust::from_flags(&TrustFlags {
        site: args.site.site.as_deref(),
        cas: &args.cas,
        pins: &args.pins,
        crls: &[],
    })?;
    let (body, method) = request_body(&args)?;
    let request = Request { method, headers: request_headers(&args.headers)?, target, body: body.into() };
    let client = Client::new(trust.verifier.clone(), client_identity(&args)?)
        .map_err(|e| {
            let file = args.cert.as_deref().or(args.p12.as_deref()).unwrap_or("client certificate");
            pinset::Error::bad_input(
                file,
                format!("the client certificate and key do not fit together ({e})"),
                Some("give the key that was issued with this certificate"),
            )
        })?
        .with_limits(Limits { timeout: Duration::from_secs(args.timeout.max(1)), ..Limits::default() });
    let redirects = if args.location { Redirects::Within(scope(&trust)) } else { Redirects::NotFollowed };

    let fetched = match pinset_net::block_on(client.fetch(request, &redirects)).context("cannot start the network")? {
        Ok(f) => f,
        Err(e) => return failed(&args, &trust, e),
    };
    let response = &fetched.response;

    if let Some(path) = &args.output {
        pinset::atomic::write(path, &response.body, pinset::atomic::PUBLIC_MODE)?;
    }
    if args.json {
        output::emit_json(&GetJson {
            url: &args.url,
            effective_url: (!fetched.redirects.is_empty()).then(|| response.target.url()),
            trust: &trust.source,
            tls: tls_json(response),
            http: response.http.name(),
            chain: response.verified().map(|v| v.chain.clone()).unwrap_or_default(),
            verdict: verdict_json(response),
            status: response.status.as_u16(),
            reason: response.reason(),
            headers: response
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body: args.output.is_none().then(|| String::from_utf8_lossy(&response.body).into_owned()),
            redirects: fetched
                .redirects
                .iter()
                .map(|hop| HopJson {
                    url: hop.target.url(),
                    http: hop.http.name(),
                    tls: tls_json(hop),
                    verdict: verdict_json(hop),
                    status: hop.status.as_u16(),
                    location: hop.location(),
                })
                .collect(),
        })?;
        return Ok(ExitStatus::Success);
    }
    let mut text = String::new();
    for hop in &fetched.redirects {
        text.push_str(&verified_line(hop));
        text.push_str(&format!(
            "pinset: {} {} {}, redirect to {} followed\n",
            hop.http.name(),
            hop.status.as_u16(),
            untrusted(&hop.reason()),
            untrusted(&hop.location().unwrap_or_default())
        ));
    }
    text.push_str(&verified_line(response));
    text.push_str(&format!(
        "pinset: {} {} {} ({}, {})\n",
        response.http.name(),
        response.status.as_u16(),
        untrusted(&response.reason()),
        response.tls.version,
        response.tls.cipher
    ));
    output::message(&text);
    if let Some(warning) =
        std::iter::once(response).chain(&fetched.redirects).find_map(|e| unpinned_warning(e, trust.pins_given))
    {
        output::warn(&warning);
    }
    if let (Some(location), false) = (response.location(), args.location) {
        output::note(&format!(
            "the server redirects to {}; not followed (-L follows redirects to the site's own addresses)",
            untrusted(&location)
        ));
    }
    if args.output.is_none() {
        output::emit_bytes(&response.body)?;
    }
    Ok(ExitStatus::Success)
}

/// `pinset: HOST:PORT verified; pins …`.
fn verified_line(e: &Exchange) -> String {
    match e.verified() {
        Some(v) => format!("pinset: {} verified; pins {}\n", e.target.authority(), describe_pins(&v.pins)),
        None => format!("pinset: {} verified\n", e.target.authority()),
    }
}

/// Whether a pin was required and matched on this connection.
fn pins_checked(e: &Exchange) -> bool {
    matches!(e.verified().map(|v| &v.pins), Some(PinCheck::Matched { .. } | PinCheck::MatchedWithoutNameCheck { .. }))
}

/// The warning for a connection accepted without a pin; `pins_given` says whether the
/// flags asked for any (else `--pin` is the remedy).
fn unpinned_warning(e: &Exchange, pins_given: bool) -> Option<String> {
    let remedy = if pins_given { "" } else { " (add --pin to pin a key)" };
    match e.verified().map(|v| &v.pins)? {
        PinCheck::NoPins => Some(format!(
            "no pin checked for {}: the anchors alone decided, so any certificate they vouch for is accepted, an \
             interception proxy's included if its CA is among them{remedy}",
            e.target.authority()
        )),
        PinCheck::Expired { expired_after } => Some(format!(
            "no pin checked for {}: the site's pins expired after {expired_after}, so the anchors alone decided",
            e.target.authority()
        )),
        _ => None,
    }
}

fn verdict_json(e: &Exchange) -> AcceptedJson {
    AcceptedJson { accepted: true, pins_checked: pins_checked(e), pins: e.verified().map(|v| v.pins.clone()) }
}

fn tls_json(e: &Exchange) -> TlsJson {
    TlsJson { version: e.tls.version.clone(), cipher: e.tls.cipher.clone(), alpn: e.tls.alpn.clone() }
}

/// Where `-L` may go: the site's addresses (any port), or without a site the host first
/// dialled.
fn scope(trust: &ClientTrust) -> Scope {
    match &trust.site {
        Some(site) => Scope::Site { name: site.site.clone(), hosts: site.hosts().map(|(h, _)| h.clone()).collect() },
        None => Scope::SameHost,
    }
}

/// A fetch that failed: a refused chain is reported (exit 1); anything else is an error
/// naming the server, with a hint in this tool's words.
fn failed(args: &GetArgs, trust: &ClientTrust, e: pinset_net::Error) -> anyhow::Result<ExitStatus> {
    if let Some(report) = e.refusal() {
        return refused(args, trust, e.target(), report);
    }
    bail!(net_report::error(&e, args.output.as_deref()))
}

/// A server the verifier refused: the report, exit 1.
fn refused(args: &GetArgs, trust: &ClientTrust, server: &str, report: &VerifyError) -> anyhow::Result<ExitStatus> {
    if args.json {
        output::emit_json(&RefusedJson {
            url: &args.url,
            server,
            trust: &trust.source,
            verdict: RefusedVerdictJson { accepted: false, kind: report.kind, detail: report.detail.clone() },
            chain: &report.chain,
            expected_pins: &report.expected_pins,
        })?;
    } else {
        output::message(&format!("refused: {}", refused_text(report)));
    }
    Ok(ExitStatus::Failed)
}

fn client_identity(args: &GetArgs) -> anyhow::Result<Option<Identity>> {
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let chain = pinset::input::read_certificates(cert, &output::read_input(cert)?)?
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        let key_der = PrivateKeyDer::from_pem_slice(&output::read_input(key)?)
            .map_err(|e| anyhow!("{key}: not a PEM private key ({e})"))?;
        return Ok(Some(Identity { chain, key: key_der }));
    }
    if let Some(p12) = &args.p12 {
        let password = output::password(args.password_file.as_deref(), &format!("the PKCS#12 file {p12}"), false)?;
        let id = pinset::pki::read_pkcs12(p12, &output::read_input(p12)?, &password)?;
        let chain = id.chain.into_iter().map(CertificateDer::from).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_pkcs8_der.to_vec()));
        return Ok(Some(Identity { chain, key }));
    }
    Ok(None)
}

/// The `-H` headers. A header is `Name: value` on one line: a CR or LF would end it and
/// start a header of the user's (or an attacker's) making, so it is refused, as is any
/// name that is not an HTTP token and any value with a control character.
fn request_headers(given: &[String]) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for h in given {
        let bad = |problem: &str| pinset::Error::BadValue {
            what: "header",
            value: h.clone(),
            problem: problem.into(),
            hint: Some("write it like -H 'Accept: application/json'".into()),
        };
        if h.contains('\r') || h.contains('\n') {
            bail!(bad("holds a line break, which would start another header: a header is one line"));
        }
        let Some((name, value)) = h.split_once(':') else { bail!(bad("is not `Name: value`")) };
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| bad("has a name that is not an HTTP header name (letters, digits and -)"))?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("has a control character in its value"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

fn request_body(args: &GetArgs) -> anyhow::Result<(Vec<u8>, Method)> {
    let body = match args.data.as_deref() {
        Some(d) if d.starts_with('@') => Some(output::read_input(&d[1..])?),
        Some(d) => Some(d.as_bytes().to_vec()),
        None => None,
    };
    let method = args.method.clone().unwrap_or_else(|| if body.is_some() { "POST".into() } else { "GET".into() });
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
        bail!(pinset::Error::BadValue {
            what: "method",
            value: method,
            problem: "is not an HTTP method".into(),
            hint: Some("use GET, POST, PUT, DELETE …".into()),
        });
    }
    let method = Method::from_bytes(method.as_bytes()).map_err(|e| anyhow!("method {method:?}: {e}"))?;
    Ok((body.unwrap_or_default(), method))
}
