//! Export for `node`: a CommonJS module whose `https.Agent` trusts only the site's anchors
//! and checks pins in `checkServerIdentity`, after Node's own name check, over the chain
//! from the server's certificate up through `issuerCertificate`, each link's signature
//! checked (Node links issuers by name, not by signature). The agent keeps no TLS sessions:
//! Node skips `checkServerIdentity` on a resumed one. Pins hash the DER SPKI of
//! `crypto.X509Certificate`, never `cert.pubkey`, which holds a bare EC point for EC keys
//! (docs/platforms.md). `node pinset-pinning.js URL` fetches a URL with it.

use super::template::{Fill, Safe, Template, template};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The module's file name.
const FILE: &str = "pinset-pinning.js";

/// The anchors' file name; the module reads it from its own folder.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Node);
    export.files.push(ExportFile::text(
        FILE,
        module(model),
        "CommonJS module (Node.js 16 or later): `agent()`, an https.Agent that trusts only the site's anchors and \
         checks each server's pins in `checkServerIdentity`; `node pinset-pinning.js https://HOST/` fetches a URL; \
         goes in the app's source",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "node"),
        "the site's anchors (PEM, active first), read by `pinset-pinning.js` as its `ca`: keep it beside it",
    ));
    let host = model.example_host();
    export.usage = format!(
        "Copy both files into the app's source and make every request to the site with the agent of \
         `require('./pinset-pinning').agent()`: `https.get('https://{host}/', {{ agent }}, …)`, or with axios \
         `axios.create({{ httpsAgent: agent, proxy: false }})`. For `tls.connect`, spread `tlsOptions()` into its \
         options and pass no `session`. A refused server is an `Error` with code `ERR_PINSET_PIN_MISMATCH` whose \
         message lists the chain as `sha256/<pin>: <subject>` lines and the pins expected (`ERR_PINSET_NOT_SITE` \
         for a host that is not the site's, Node's own codes for a chain that does not lead to an anchor). Node's global `fetch` \
         (undici) takes no https.Agent: use `https`, axios or got. To try it: `node pinset-pinning.js https://{host}/` \
         prints the body, or the reason for refusing and exits 1.\n"
    );
    export
}

fn module(model: &SiteTrust) -> String {
    let host = model.example_host();
    let mut out = text::comment("// ", &text::provenance(model, "node"));
    out.push_str(
        MODULE_DOC
            .render(
                &Fill::new().text("site", Safe::comment(&text::quote(&model.site))).text("host", Safe::comment(&host)),
            )
            .as_str(),
    );
    out.push_str(REQUIRES);
    out.push_str(&format!("\n/** The site, for messages. */\nconst SITE = {};\n", text::quote(&model.site)));
    out.push_str(&format!(
        "\n/** The site's anchors (PEM), active first, beside this file: the only certificates trusted. */\n\
         const ANCHORS = fs.readFileSync(path.join(__dirname, {}));\n",
        text::quote(ANCHORS_FILE)
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => text::quote(&day.to_string()),
        None => "null".to_string(),
    };
    out.push_str(&format!(
        "\n/**\n\
         \x20* Last day (UTC, YYYY-MM-DD) the pins are enforced; after it only the anchors are, so an app\n\
         \x20* that is never updated keeps working across a key rotation. null: the pins do not expire.\n\
         \x20*/\n\
         const PINS_EXPIRE_AFTER = {expiry};\n"
    ));
    out.push_str(
        "\n/**\n\
         \x20* Each server of the site: the addresses clients dial (IP addresses, DNS names, `*.` names\n\
         \x20* covering one label) and its pins (SPKI SHA-256, base64); any one pin matching passes.\n\
         \x20*/\n\
         const SERVERS = [\n",
    );
    for s in &model.servers {
        out.push_str(&format!("  {{\n    name: {},\n    hosts: [", text::quote(&s.name)));
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&hosts.join(", "));
        out.push_str("],\n    pins: [\n");
        out.push_str(&text::pin_list(&s.pins, "      ", " ", "//"));
        out.push_str("    ],\n  },\n");
    }
    out.push_str("];\n");
    out.push_str(CODE);
    out
}

const MODULE_DOC: Template = template!("node/module_doc.js");

const REQUIRES: &str = include_str!("templates/node/requires.js");

const CODE: &str = include_str!("templates/node/code.js");
