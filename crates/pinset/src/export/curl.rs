//! Export for `curl`: a POSIX shell wrapper, `pinset-curl`, that runs curl with the site's
//! anchors as the only trust (`--cacert`, and `--capath /dev/null` so the system's CA folder
//! compiled into curl is not consulted as well) and `--pinnedpubkey` set to the keys of the
//! server the URL names, and explains a refusal with the server's key and the pinned ones.
//!
//! curl's `--pinnedpubkey` compares the leaf's key only (docs/platforms.md), so the script carries
//! each server's own keys even when the plan pins the CA; a `curl-leaf-only` warning says so.

use super::text::sh_quote;
use super::{Export, ExportFile, Options, ServerTrust, SiteTrust, Target, text};
use crate::plan::PinTarget;

/// The script's file name.
const FILE: &str = "pinset-curl";

/// The anchors' file name; the script finds it in its own folder.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

/// Options every command carries, before the pins: `-q` (must be first) skips `~/.curlrc`,
/// which could say `insecure`; `--capath /dev/null` replaces the CA folder compiled into
/// curl (Debian's: `/etc/ssl/certs`), which curl consults besides `--cacert`; `--noproxy '*'`
/// connects directly, the servers being on the local network; `--proto =https` and
/// `--proto-redir =https` keep every request, and every redirect `-L` follows, on TLS
/// (docs/platforms.md: `-L` follows a redirect to `http://` otherwise).
const TRUST_OPTIONS: &str = "--capath /dev/null --noproxy '*' --proto =https --proto-redir =https";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Curl);
    export.files.push(
        ExportFile::text(
            FILE,
            script(model),
            "shell script: runs curl with the site's anchors as the only trust and the pins of the server the URL \
             names (`./pinset-curl [curl options] https://HOST/`); keep it beside `pinset-anchors.pem`",
        )
        .executable(),
    );
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "curl"),
        "the site's anchors (PEM, active first), given to curl as `--cacert`: keep it beside `pinset-curl`",
    ));
    let example = model.servers.first().map(|s| plain_command(s, &host_of(s), ANCHORS_FILE)).unwrap_or_default();
    export.usage = format!(
        "Run `./{FILE} [curl options] https://HOST/` from anywhere: it finds `{ANCHORS_FILE}` beside itself, checks \
         that every URL names an address of one server of the site, and runs curl with that server's pins. It \
         refuses `-k`, `--cacert`, `--capath`, `--pinnedpubkey`, `-K` and `--next`, which would undo the check, and \
         `--proto`/`--proto-redir`: every request, and every redirect `-L` follows, stays on https://. \
         Exit codes are curl's: 90 when the server's key is not pinned (the script then prints the server's key and \
         the pinned ones), 60 when its certificate does not chain to an anchor or does not name the address.\n\
         The plain command, for scripts that call curl themselves (every server's is in the script's comments):\n\
         `{example}`\n"
    );
    if model.pin_target == PinTarget::Ca {
        export.warn(
            "curl-leaf-only",
            "the plan pins the CA, but curl's --pinnedpubkey compares the server's own key only: the script pins \
             each server's own key instead, so re-export and ship it after every server key change (`pinset issue`, \
             renewal with a new key), or curl refuses the server",
        );
    }
    export
}

/// The first address of `server` as it goes in a URL.
fn host_of(server: &ServerTrust) -> String {
    server.hosts.first().map_or_else(|| "192.0.2.1".to_string(), |h| h.url_host())
}

/// The `--pinnedpubkey` value for `server`: its own keys, `sha256//` each, `;`-joined.
fn pinned_pubkey(server: &ServerTrust) -> String {
    server.leaf_pins.iter().map(|p| format!("sha256//{}", p.pin.to_base64())).collect::<Vec<_>>().join(";")
}

/// The curl command the script runs for `server`, without the wrapper.
fn plain_command(server: &ServerTrust, url_host: &str, anchors: &str) -> String {
    format!("curl -q --cacert {anchors} {TRUST_OPTIONS} --pinnedpubkey '{}' https://{url_host}/", pinned_pubkey(server))
}

fn script(model: &SiteTrust) -> String {
    let site = text::comment_safe(&model.site);
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&text::comment("# ", &text::provenance(model, "curl")));
    let mut lines: Vec<String> = vec![
        String::new(),
        format!("curl for the servers of site \"{site}\": trusts only the site's anchors ({ANCHORS_FILE},"),
        "beside this script) and accepts a server only when its own key is one pinned for the".into(),
        "address the URL names.".into(),
        String::new(),
        "  ./pinset-curl [curl options] https://HOST[:PORT]/PATH".into(),
        String::new(),
        "Every URL (an argument holding `://`) must be https:// and name an address of one server".into(),
        "of the site. curl's exit code is kept: 90 when the server's key is not pinned (the key".into(),
        "curl saw and the pinned ones are printed then), 60 when the certificate does not chain to".into(),
        "an anchor or does not name the address.".into(),
        String::new(),
        "curl's --pinnedpubkey compares the server's own (leaf) key only, never a CA's: these are".into(),
        "each server's own keys, so re-export after every server key change.".into(),
    ];
    lines.push(String::new());
    match &model.pins_expire_after {
        Some(day) => lines.extend([
            format!(
                "Pins are enforced up to and including {} (UTC); after that day only the",
                text::comment_safe(&day.to_string())
            ),
            "anchors are, so a script that is never updated keeps working across a key rotation.".into(),
        ]),
        None => lines.push("The pins do not expire.".into()),
    }
    lines.extend([
        String::new(),
        "The commands it runs, one per server (-q skips ~/.curlrc, which could say `insecure`;".into(),
        "--capath /dev/null keeps curl from also trusting the system's CA folder compiled into it;".into(),
        "--noproxy '*' connects directly; --proto and --proto-redir =https keep every request and".into(),
        "every redirect -L follows on TLS):".into(),
    ]);
    for s in &model.servers {
        let hosts: Vec<String> = s.hosts.iter().map(ToString::to_string).collect();
        lines.push(format!("  server {} ({}):", s.name, hosts.join(", ")));
        lines.push(format!("    curl -q --cacert {ANCHORS_FILE} {TRUST_OPTIONS} \\"));
        lines.push(format!("      --pinnedpubkey '{}' \\", pinned_pubkey(s)));
        lines.push(format!("      https://{}/", host_of(s)));
    }
    out.push_str(&text::comment("# ", &lines));
    out.push_str("\nset -eu\n\n");
    out.push_str(&format!("site={}\n", sh_quote(&model.site)));
    out.push_str(&format!(
        "# The site's anchors: the only certificates curl trusts.\n\
         anchors=\"$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && pwd)/{ANCHORS_FILE}\"\n"
    ));
    if let Some(day) = &model.pins_expire_after {
        // YYYYMMDD, so the shell compares numbers; a malformed date (the plan loader refuses
        // one) leaves the pins in force.
        let digits: String = day.to_string().chars().filter(char::is_ascii_digit).collect();
        let number = if digits.len() == 8 { digits } else { "99991231".to_string() };
        out.push_str(&format!(
            "# Last day (UTC, YYYYMMDD) the pins are enforced; after it only the anchors are.\n\
             pins_expire_after={number}\n"
        ));
    }
    out.push_str(
        "\n# Sets `server` and `pins` (curl's --pinnedpubkey) for host $1, or fails when $1 is not an\n\
         # address of the site. Each server's addresses: IP addresses and DNS names as written, and\n\
         # `*.` names covering exactly one label; its pins: SPKI SHA-256 of its own keys, base64.\n\
         server_for() {\n",
    );
    for s in &model.servers {
        let hosts: Vec<String> = s.hosts.iter().map(|h| sh_quote(&h.to_string())).collect();
        out.push_str(&format!("    if names \"$1\" {}; then\n", hosts.join(" ")));
        out.push_str(&format!("        server={}\n", sh_quote(&s.name)));
        for (i, p) in s.leaf_pins.iter().enumerate() {
            let pin = format!("sha256//{}", p.pin.to_base64());
            let value = if i == 0 { sh_quote(&pin) } else { format!("\"$pins\"{}", sh_quote(&format!(";{pin}"))) };
            out.push_str(&format!("        pins={value} # {} key of {}\n", p.role, p.owner));
        }
        out.push_str("        return 0\n    fi\n");
    }
    out.push_str("    return 1\n}\n\n");
    let addresses: Vec<String> = model.hosts().map(|(h, _)| h.to_string()).collect();
    out.push_str(&format!(
        "# Every address of the site, for messages.\naddresses={}\n",
        sh_quote(&addresses.join(", "))
    ));
    out.push_str(CODE);
    if model.pins_expire_after.is_some() {
        out.push_str(EXPIRY);
    }
    out.push_str(RUN);
    out
}

const CODE: &str = include_str!("templates/curl/arguments.sh");

const EXPIRY: &str = include_str!("templates/curl/expiry.sh");

const RUN: &str = include_str!("templates/curl/run.sh");
