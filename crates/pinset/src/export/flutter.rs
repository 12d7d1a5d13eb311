//! Export for `flutter`: a Dart library with a `SecurityContext` that trusts only the site's
//! anchors and an `HttpClient` whose connection factory checks the server's key at connect
//! time, before a request is sent. dart:io exposes only the server's own certificate (as
//! DER), so the SPKI is cut out of it by a small DER walk and hashed with `package:crypto`.

use super::{Export, ExportFile, Options, SiteTrust, Target, text};
use crate::plan::PinTarget;

const FILE: &str = "pinset_pinning.dart";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Flutter);
    export.files.push(ExportFile::text(
        FILE,
        library(model),
        "Dart library: `pinsetHttpClient()`, an HttpClient that trusts only the site's anchors and checks the \
         server's key when it connects, before a request is sent; goes in the app's `lib/`",
    ));
    export.usage = format!(
        "Run `dart pub add crypto` (`package:crypto` computes the pins' SHA-256; everything else is dart:io), copy \
         `{FILE}` into `lib/`, and make every request to the site with `pinsetHttpClient()`: directly, through \
         `package:http` as `IOClient(pinsetHttpClient())`, or through dio as \
         `IOHttpClientAdapter(createHttpClient: pinsetHttpClient)`. Never set a `badCertificateCallback` on it.\n\
         Needs Dart 3.1 (Flutter 3.13) or later: earlier releases checked an IP address against DNS names \
         (dart-lang/sdk#52118) and refused every certificate of a server dialled by IP.\n"
    );
    if model.pin_target == PinTarget::Ca {
        export.warn(
            "dart-leaf-only",
            "dart:io shows an app only the server's own certificate, never the chain it was validated through, so \
             the CA pins cannot be compared with a certificate there; the SecurityContext enforces them instead: \
             it trusts the site's anchors and nothing else, and the library refuses to start unless every anchor's \
             key is a pinned one, so every chain it accepts ends at a pinned key",
        );
    }
    export
}

fn library(model: &SiteTrust) -> String {
    let mut out = text::comment("// ", &text::provenance(model, "flutter"));
    out.push_str(&format!(
        "//\n\
         // HTTPS to the servers of site {site}: trusts only the site's anchors (no system roots),\n\
         // keeps the platform's check of the address (an IP address must be an iPAddress SAN of the\n\
         // certificate, a DNS name a dNSName), and checks the pins when the connection is made,\n\
         // before a request is sent. Needs `package:crypto` (`dart pub add crypto`) and Dart 3.1\n\
         // (Flutter 3.13) or later.\n\
         //\n\
         //   final client = pinsetHttpClient(); // make it once, reuse it\n\
         //   final request = await client.getUrl(Uri.parse('https://{host}/'));\n\
         //   final response = await request.close();\n",
        site = text::quote(&model.site),
        host = model.example_host(),
    ));
    out.push_str(IMPORTS);
    out.push_str(&format!("\n/// The site, for messages.\nconst String pinsetSite = {};\n", text::quote(&model.site)));
    out.push_str("\n/// The site's anchors, active first: the only certificates this library trusts.\n");
    for a in &model.anchors {
        out.push_str(&format!(
            "/// - {} anchor: {} (pin {})\n",
            a.role,
            text::comment_safe(&a.subject),
            a.pin.to_base64()
        ));
    }
    // A raw string: PEM holds no `'''`, `$` or `\` that Dart would read.
    out.push_str(&format!("const String pinsetAnchorsPem = r'''\n{}''';\n", model.anchors_pem()));
    let (leaf, what) = match model.pin_target {
        PinTarget::Leaf => ("true", "the pins are each server's own keys, checked on the certificate it\n/// presents"),
        PinTarget::Ca => (
            "false",
            "the pins are the keys of the site's CA, which the anchors enforce\n/// (dart:io does not show \
             the chain: see [pinsetCheckPeer])",
        ),
    };
    out.push_str(&format!(
        "\n/// {}: {what}.\nconst bool pinsetPinsAreServerKeys = {leaf};\n",
        if leaf == "true" { "True" } else { "False" }
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => text::quote(&day.to_string()),
        None => "null".to_string(),
    };
    out.push_str(&format!(
        "\n/// Last day (UTC) the pins are enforced; after it only the anchors are, so an app that is\n\
         /// never updated keeps working across a key rotation. `null`: the pins do not expire.\n\
         const String? pinsetPinsExpireAfter = {expiry};\n"
    ));
    out.push_str(
        "\n/// Each server of the site: the addresses clients dial (IP addresses, DNS names, `*.` names\n\
         /// covering one label) and its pins (SPKI SHA-256, base64); any one pin matching passes.\n\
         const List<_Server> _servers = [\n",
    );
    for s in &model.servers {
        out.push_str(&format!("  _Server(\n    {},\n", text::quote(&s.name)));
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        let line = format!("    [{}],", hosts.join(", "));
        // Within `dart format`'s 80 columns, else one address a line as it would write them.
        if line.len() <= 80 {
            out.push_str(&line);
            out.push('\n');
        } else {
            out.push_str("    [\n");
            for h in &hosts {
                out.push_str(&format!("      {h},\n"));
            }
            out.push_str("    ],\n");
        }
        out.push_str("    [\n");
        out.push_str(&text::pin_list(&s.pins, "      ", " ", "//"));
        out.push_str("    ],\n  ),\n");
    }
    out.push_str("];\n");
    out.push_str(CODE);
    out
}

const IMPORTS: &str = include_str!("templates/flutter/imports.dart");

const CODE: &str = include_str!("templates/flutter/code.dart");
