//! Export for `rust`: a module that builds pinset-tls's `SiteVerifier` from the site's data it
//! carries (the anchors as a PEM file it includes at build time, each server's addresses and
//! pins, the pins' last day) and a reqwest client on it. The module holds no verifier or
//! address matcher of its own: the library type is the one the `pinset` tool checks servers
//! with. The code is `templates/rust/pinset_pinning.rs`.

use super::template::{Fill, Safe, template};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The anchors' file name; the module includes it with `include_bytes!`.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Rust);
    export.files.push(ExportFile::text(
        "pinset_pinning.rs",
        module(model),
        "Rust module: `client()` builds a reqwest client on pinset-tls's `SiteVerifier`, made from the site's \
         anchors and each server's pins it carries; goes in the app's `src/` as `mod pinset_pinning;`",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "rust"),
        "the site's anchors (PEM, active first), compiled into the app by `pinset_pinning.rs`: keep it beside it",
    ));
    export.usage = "Copy both files into the app's `src/`, add `mod pinset_pinning;`, and make every request to the \
                    site with the client of `pinset_pinning::client()` (or give `pinset_pinning::tls_config()` to \
                    another rustls-based client). Dependencies: `pinset-tls` (from the pinset repository), \
                    `rustls = \"0.23\"`, and `reqwest = { version = \"0.12\", default-features = false, features = \
                    [\"rustls-tls-manual-roots-no-provider\"] }`: rustls without roots or a crypto provider of its \
                    own, so the site's anchors are the only trust.\n\
                    A refused server is a reqwest error whose sources hold pinset's report (the chain as \
                    `sha256/<pin>: <subject>` lines and the pins expected): `pinset_tls::VerifyError::from_rustls` \
                    finds it, as pinset-tls's `reqwest_client` example shows. An `http://` URL, or a redirect to \
                    one, is refused.\n"
        .to_string();
    export
}

fn module(model: &SiteTrust) -> String {
    let servers = model
        .servers
        .iter()
        .map(|s| {
            let pins = s
                .pins
                .iter()
                .map(|p| {
                    Fill::new()
                        .text("pin", Safe::quoted(&p.pin.to_base64()))
                        .text("role", Safe::fixed(p.role.name()))
                        .text("owner", Safe::comment(&p.owner.to_string()))
                })
                .collect();
            Fill::new()
                .text("name", Safe::comment(&s.name))
                .text("hosts", Safe::join(s.hosts.iter().map(|h| Safe::quoted(&h.to_string())), ", "))
                .list("pins", pins)
        })
        .collect();
    let fill = Fill::new()
        .text("provenance", Safe::comment_lines("// ", &text::provenance(model, "rust")))
        .text("site_doc", Safe::comment(&text::quote(&model.site)))
        .text("site", Safe::quoted(&model.site))
        .text("host", Safe::comment(&model.example_host()))
        .flag("expires", model.pins_expire_after.is_some())
        .text("last_day", Safe::quoted(&model.pins_expire_after.map(|d| d.to_string()).unwrap_or_default()))
        .list("servers", servers);
    template!("rust/pinset_pinning.rs").render(&fill).into_string()
}
