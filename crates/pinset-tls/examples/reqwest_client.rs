//! An HTTPS GET with [reqwest] that trusts only a pinset site: its anchors and its pins.
//!
//! ```sh
//! cargo run -p pinset-tls --example reqwest_client -- SITE_DIR https://127.0.0.1:PORT/
//! ```
//!
//! What it shows:
//!
//! 1. [`pinset::Site::open`] reads the site (`pinset.toml` + `pki/`) made by `pinset init`;
//! 2. [`SiteVerifier::for_site`] takes its trust ([`pinset::Site::trust`]): the anchors (the
//!    private CA and its standby, or the self-signed certificates), the pins apps carry for
//!    each address and the pins' expiry;
//! 3. [`pinset_tls::verifier::client_config`] wraps the verifier in a `rustls::ClientConfig`
//!    built on [`pinset_tls::provider`] (aws-lc-rs);
//! 4. `reqwest::Client::builder().use_preconfigured_tls(config)` hands that configuration
//!    to reqwest as it is. reqwest is built with `default-features = false` and
//!    `features = ["rustls-tls-manual-roots-no-provider"]`: rustls support without a
//!    crypto provider or roots of its own, so neither ring nor a second copy of the roots is
//!    compiled in, and the only trust is the site's.
//!
//! The server's certificate must chain to one of the site's anchors, name the address
//! dialled (an IP literal is matched against iPAddress SANs only), and a pinned key must be
//! in the validated chain. On success it prints the status and the body and exits 0. When
//! the server is refused it prints pinset's report (the kind of failure, the chain the
//! server presented as `sha256/<pin>: <subject>` lines, the pins expected) and exits 1;
//! any other error exits 2.
//!
//! reqwest reports a refused certificate as a chain of errors: reqwest's, hyper's, two
//! nested `io::Error`s, and inside them the `rustls::Error` that carries pinset's
//! [`VerifyError`]; [`find_verify_error`] shows how to dig it out.

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use pinset_tls::verifier::PinCheck;
use pinset_tls::{ChainVerifier as _, SiteVerifier, VerifyError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [site_dir, url] = args.as_slice() else {
        eprintln!("usage: reqwest_client SITE_DIR https://HOST:PORT/PATH");
        return ExitCode::from(2);
    };
    match run(Path::new(site_dir), url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match find_verify_error(err.as_ref()) {
            Some(report) => {
                eprint!("refused: {report}");
                ExitCode::from(1)
            }
            None => {
                eprintln!("error: {}", chain_text(err.as_ref()));
                ExitCode::from(2)
            }
        },
    }
}

async fn run(site_dir: &Path, url: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
    let site = pinset::Site::open(site_dir)?;
    let verifier = SiteVerifier::for_site(&site.trust()?).build()?;
    // One connection is made here, so its outcome is the one result of this verifier; a
    // client making many connections keeps the verifier's own config instead.
    let (verifier, outcome) = verifier.for_connection();
    let config = pinset_tls::verifier::client_config(verifier)?;

    let client = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        // A server on the local network is reached directly, never through a proxy that
        // the environment (HTTPS_PROXY …) may name.
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?;

    let response = client.get(url).send().await?;
    if let Some(Ok(verified)) = outcome.get() {
        eprintln!("verified: {}", describe(&verified.pins));
    }
    println!("status: {}", response.status());
    let body = response.text().await?;
    println!("{body}");
    Ok(())
}

/// What the pin check concluded, for a person.
fn describe(pins: &PinCheck) -> String {
    match pins {
        PinCheck::Matched { pin, position } => {
            format!("pin sha256/{pin} matched the {} of the chain", format!("{position:?}").to_lowercase())
        }
        other => format!("{other:?}"),
    }
}

/// pinset's report inside an error chain. reqwest's is reqwest → hyper → `io::Error`
/// (kind Other) → `io::Error` (kind InvalidData) → `rustls::Error` → [`VerifyError`].
///
/// `io::Error::source()` skips the error it wraps (it returns *that* error's source), so a
/// plain `source()` walk never sees the `rustls::Error`: each `io::Error` is also opened
/// with `get_ref()`.
fn find_verify_error(err: &(dyn Error + 'static)) -> Option<VerifyError> {
    if let Some(report) = err.downcast_ref::<VerifyError>() {
        return Some(report.clone());
    }
    if let Some(report) = err.downcast_ref::<rustls::Error>().and_then(VerifyError::from_rustls) {
        return Some(report.clone());
    }
    let wrapped = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
    if let Some(report) = wrapped.and_then(|inner| find_verify_error(inner)) {
        return Some(report);
    }
    err.source().and_then(find_verify_error)
}

/// The error and its causes on one line.
fn chain_text(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        text.push_str(&format!(": {e}"));
        next = e.source();
    }
    text
}
