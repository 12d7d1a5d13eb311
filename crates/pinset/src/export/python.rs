//! Export for `python`: a module on the standard library alone. Its `ssl.SSLContext` trusts
//! only the site's anchors (`PROTOCOL_TLS_CLIENT`, so the address check stays on), and right
//! after each handshake, before a request is sent, it requires a pinned key in the chain
//! OpenSSL validated (`get_verified_chain`, Python 3.10 and later), each key's
//! SubjectPublicKeyInfo cut out of the DER by a small walker and hashed with `hashlib`.
//! `urlopen`, `connect` and an `http.client` connection class use it, and
//! `python3 pinset_pinning.py URL` fetches a URL with it.

use super::template::{Fill, Safe, Template, template};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The module's file name.
const FILE: &str = "pinset_pinning.py";

/// The anchors' file name; the module reads it from its own folder.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Python);
    export.files.push(ExportFile::text(
        FILE,
        module(model),
        "Python module (standard library only, Python 3.7 or later): `urlopen`, `connect` and `HTTPSConnection` \
         trust only the site's anchors and check each server's pins before a request is sent; \
         `python3 pinset_pinning.py https://HOST/` fetches a URL; goes in the app's package",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "python"),
        "the site's anchors (PEM, active first), read by `pinset_pinning.py` with `load_verify_locations`: keep it \
         beside it",
    ));
    let host = model.example_host();
    export.usage = format!(
        "Copy both files into the app's package and make every request to the site through the module: \
         `pinset_pinning.urlopen(\"https://{host}/\")` (urllib), `pinset_pinning.HTTPSConnection(host, port)` \
         (http.client), or `pinset_pinning.connect(host, port)` (a checked `ssl.SSLSocket`). A refused server raises \
         `pinset_pinning.PinningError`, an `ssl.SSLCertVerificationError` whose message lists the chain as \
         `sha256/<pin>: <subject>` lines and the pins expected (urllib wraps it in a `URLError`). To try it: \
         `python3 pinset_pinning.py https://{host}/` prints the body, or the reason for refusing and exits 1.\n\
         Python 3.10 or later shows the module the validated chain; on older releases only the server's own \
         certificate is checked, so CA pins refuse every server there.\n"
    );
    export
}

fn module(model: &SiteTrust) -> String {
    let host = model.example_host();
    let mut out = text::comment("# ", &text::provenance(model, "python"));
    out.push_str(
        MODULE_DOC
            .render(
                &Fill::new().text("site", Safe::comment(&text::quote(&model.site))).text("host", Safe::comment(&host)),
            )
            .as_str(),
    );
    out.push_str(IMPORTS);
    out.push_str(&format!("\n#: The site, for messages.\nSITE = {}\n", text::quote(&model.site)));
    out.push_str(&format!(
        "\n#: The site's anchors (PEM), active first, beside this file: the only certificates trusted.\n\
         ANCHORS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), {})\n",
        text::quote(ANCHORS_FILE)
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => text::quote(&day.to_string()),
        None => "None".to_string(),
    };
    out.push_str(&format!(
        "\n#: Last day (UTC, YYYY-MM-DD) the pins are enforced; after it only the anchors are, so an\n\
         #: app that is never updated keeps working across a key rotation. None: the pins do not expire.\n\
         PINS_EXPIRE_AFTER = {expiry}\n"
    ));
    out.push_str(
        "\n#: Each server of the site: the addresses clients dial (IP addresses, DNS names, \"*.\" names\n\
         #: covering one label) and its pins (SPKI SHA-256, base64); any one pin matching passes.\n\
         SERVERS = (\n",
    );
    for s in &model.servers {
        out.push_str(&format!("    {{\n        \"name\": {},\n        \"hosts\": (\n", text::quote(&s.name)));
        for h in &s.hosts {
            out.push_str(&format!("            {},\n", text::quote(&h.to_string())));
        }
        out.push_str("        ),\n        \"pins\": (\n");
        out.push_str(&text::pin_list(&s.pins, "            ", "  ", "#"));
        out.push_str("        ),\n    },\n");
    }
    out.push_str(")\n");
    out.push_str(CODE);
    out
}

const MODULE_DOC: Template = template!("python/module_doc.py");

const IMPORTS: &str = include_str!("templates/python/imports.py");

const CODE: &str = include_str!("templates/python/code.py");
