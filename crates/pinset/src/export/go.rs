//! Export for `go`: package `pinsetpin`, whose `tls.Config` trusts only the site's anchors
//! (embedded with `//go:embed`) and checks pins in `VerifyConnection`, which Go runs after it
//! validated the chain and the name, on every handshake, resumed ones included. The pins
//! are compared with every certificate of `ConnectionState.VerifiedChains`, hashing
//! `RawSubjectPublicKeyInfo`.
//!
//! The server is looked up by the host the client dials, bound into the configuration:
//! `ConnectionState.ServerName` cannot serve, since on a client it is the SNI sent, empty for
//! an IP address. So `Client()` dials TLS itself, one configuration per host.
//!
//! A `go.mod` (no dependencies) and `cmd/pinset-get` make the folder a module that builds and
//! runs as it is: `go run ./cmd/pinset-get URL`.

use super::template::{Fill, Safe, Template, template};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The package's file name.
const FILE: &str = "pinsetpin.go";

/// The anchors' file name; the package embeds it.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

/// The module path of the exported folder (example.com is reserved for examples: the
/// developer renames it, or copies the package into a module of their own).
const MODULE: &str = "example.com/pinsetpin";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Go);
    export.files.push(ExportFile::text(
        FILE,
        package(model),
        "Go package `pinsetpin` (Go 1.19 or later, standard library only): `Client()` and `TLSConfig(host)` trust \
         only the site's anchors and check each server's pins in `VerifyConnection`; copy it with \
         `pinset-anchors.pem` into a folder of your module",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "go"),
        "the site's anchors (PEM, active first), embedded in the package by `//go:embed`: keep it beside \
         `pinsetpin.go`",
    ));
    export.files.push(ExportFile::text(
        "go.mod",
        format!("module {MODULE}\n\ngo 1.19\n"),
        "makes the folder a module of its own (no dependencies), so `cmd/pinset-get` builds as it is; not needed \
         once the package is in your module",
    ));
    export.files.push(ExportFile::text(
        "cmd/pinset-get/main.go",
        command(model),
        "a small command that fetches a URL with `pinsetpin.Client()`: `go run ./cmd/pinset-get https://HOST/`, to \
         try the package against a server",
    ));
    let host = model.example_host();
    export.usage = format!(
        "Copy `{FILE}` and `{ANCHORS_FILE}` into a folder of your module (say `internal/pinsetpin/`) and make every \
         request to the site with the client of `pinsetpin.Client()`; for a connection of your own, \
         `tls.Dial(\"tcp\", addr, config)` with the `config` of `pinsetpin.TLSConfig(host)`. A refused server is an error that \
         `errors.As(err, new(*pinsetpin.PinError))` finds, whose message lists the chain as \
         `sha256/<pin>: <subject>` lines and the pins expected. To try it in the exported folder (Go 1.19 or later, \
         no network needed): `go run ./cmd/pinset-get https://{host}/` prints the body, or the reason for refusing \
         and exits 1.\n"
    );
    export
}

fn package(model: &SiteTrust) -> String {
    let host = model.example_host();
    let mut out = text::comment("// ", &text::provenance(model, "go"));
    out.push_str(GENERATED);
    out.push_str(
        PACKAGE_DOC
            .render(
                &Fill::new().text("site", Safe::comment(&text::quote(&model.site))).text("host", Safe::comment(&host)),
            )
            .as_str(),
    );
    out.push_str(IMPORTS);
    out.push_str(&format!("\n// Site is the site's name, for messages.\nconst Site = {}\n", text::quote(&model.site)));
    out.push_str(&format!(
        "\n// anchorsPEM holds the site's anchors, active first: the only certificates trusted.\n\
         //\n\
         //go:embed {ANCHORS_FILE}\n\
         var anchorsPEM []byte\n"
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => text::quote(&day.to_string()),
        None => "\"\"".to_string(),
    };
    out.push_str(&format!(
        "\n// pinsExpireAfter is the last day (UTC, YYYY-MM-DD) the pins are enforced; after it only the\n\
         // anchors are, so an app that is never updated keeps working across a key rotation. Empty:\n\
         // the pins do not expire.\n\
         const pinsExpireAfter = {expiry}\n"
    ));
    out.push_str(
        "\n// servers lists each server of the site: the addresses clients dial (IP addresses, DNS names,\n\
         // \"*.\" names covering one label) and its pins (SPKI SHA-256, base64); any one pin matching\n\
         // passes.\n\
         var servers = []server{\n",
    );
    for s in &model.servers {
        out.push_str(&format!("\t{{\n\t\tname:  {},\n\t\thosts: []string{{", text::quote(&s.name)));
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&hosts.join(", "));
        out.push_str("},\n\t\tpins: []string{\n");
        out.push_str(&text::pin_list(&s.pins, "\t\t\t", " ", "//"));
        out.push_str("\t\t},\n\t},\n");
    }
    out.push_str("}\n");
    out.push_str(CODE);
    out
}

fn command(model: &SiteTrust) -> String {
    let mut out = text::comment("// ", &text::provenance(model, "go"));
    out.push_str(GENERATED);
    out.push_str(COMMAND.render(&Fill::new().text("module", Safe::fixed(MODULE))).as_str());
    out
}

/// The line by which Go's tools (gofmt -l aside: golint, staticcheck, gopls, GitHub) know a
/// generated file.
const GENERATED: &str = "//\n// Code generated by pinset export go. DO NOT EDIT.\n";

const PACKAGE_DOC: Template = template!("go/package_doc.go");

const IMPORTS: &str = include_str!("templates/go/imports.go");

const CODE: &str = include_str!("templates/go/code.go");

const COMMAND: Template = template!("go/command.go");
