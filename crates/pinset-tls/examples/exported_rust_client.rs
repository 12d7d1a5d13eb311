//! The Rust export of the fixture site "shop" (`pinset export rust`), compiled as an app
//! would compile it: `cargo build --all-targets` builds this example, so an export that no
//! longer compiles against pinset-tls fails the build, not an app developer.
//!
//! ```sh
//! cargo run -p pinset-tls --example exported_rust_client                      # builds the client
//! cargo run -p pinset-tls --example exported_rust_client -- https://HOST/PATH # and GETs a URL
//! ```
//!
//! The module is the golden file `testdata/exports/shop/rust/pinset_pinning.rs`, refreshed
//! by `testdata/regenerate exports`; it includes `pinset-anchors.pem` from beside itself.

#[path = "../../../testdata/exports/shop/rust/pinset_pinning.rs"]
mod pinset_pinning;

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let client = match pinset_pinning::client() {
        Ok(client) => client,
        Err(err) => {
            eprintln!("error: cannot build the client: {err}");
            return ExitCode::FAILURE;
        }
    };
    let Some(url) = std::env::args().nth(1) else {
        println!("client ready: trusts the anchors of site \"shop\" and checks its pins");
        return ExitCode::SUCCESS;
    };
    match client.get(&url).send().await {
        Ok(response) => {
            println!("status: {}", response.status());
            ExitCode::SUCCESS
        }
        Err(err) => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(e) = source {
                text.push_str(&format!(": {e}"));
                source = e.source();
            }
            eprintln!("error: {text}");
            ExitCode::FAILURE
        }
    }
}
