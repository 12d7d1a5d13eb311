//! Export for `okhttp`: the same client in Kotlin (`PinsetPinning.kt`) and Java
//! (`PinsetPinning.java`), for OkHttp 3.13 and later on Android or the JVM: an `X509TrustManager`
//! whose only anchors are the site's (a classpath resource, `pinset-anchors.pem`), a hostname
//! verifier that compares IP addresses as addresses, and OkHttp's `CertificatePinner` with each
//! address's pins, left out once the pins have expired.
//!
//! Both files use only what OkHttp 3 and 4 spell the same way from their language: builder
//! methods, `CertificatePinner.Builder().add`, and no getter of `Response` or `OkHttpClient`
//! (OkHttp 4 turned those into Kotlin properties, and Kotlin then refuses the 3.x call form).

use std::net::IpAddr;

use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The anchors' file name, and the classpath resource the code reads (`/` + this).
const ANCHORS_FILE: &str = "pinset-anchors.pem";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Okhttp);
    export.files.push(ExportFile::text(
        "PinsetPinning.kt",
        kotlin(model),
        "Kotlin object `pinset.PinsetPinning`: `client()`/`builder()` make an OkHttpClient that trusts only the \
         site's anchors, checks the address against the certificate and each address's pins with \
         CertificatePinner; goes in the app's Kotlin sources (instead of `PinsetPinning.java`)",
    ));
    export.files.push(ExportFile::text(
        "PinsetPinning.java",
        java(model, "okhttp"),
        "Java class `pinset.PinsetPinning`, the same as `PinsetPinning.kt`; goes in the app's Java sources (instead \
         of `PinsetPinning.kt`)",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        model.anchors_pem(),
        "the site's anchors (PEM, active first), read from the classpath as `/pinset-anchors.pem`: goes to \
         `src/main/resources/` (also in an Android module)",
    ));
    export.usage = format!(
        "Add one of `PinsetPinning.kt` and `PinsetPinning.java` to the app (package `pinset`: change its `package` \
         line to move it), put `{ANCHORS_FILE}` in `src/main/resources/`, and make every request to the site with \
         `PinsetPinning.client()`, or start from `PinsetPinning.builder()` to add timeouts and interceptors while \
         keeping its trust manager, hostname verifier and CertificatePinner; a host that is not one of the site's \
         servers is refused. The client speaks TLS only: an `http://` URL fails (`CLEARTEXT communication not \
         enabled`) and a redirect to `http://` is not followed (the 3xx response is returned). OkHttp 3.13 or later \
         (4.x and 5.x too), on Android 5.0 or later or the JVM.\n\
         A pin failure is an `SSLPeerUnverifiedException` whose message starts `Certificate pinning failure!` \
         and lists the chain as `sha256/<pin>: <subject>` lines and the pins; a certificate that does not chain to \
         the anchors fails the handshake (`SSLHandshakeException`). The pins are chosen when the client is \
         built: after the plan's last day a client built then no longer checks them.\n"
    );
    let v6: Vec<String> =
        model.hosts().filter(|(h, _)| matches!(h.ip(), Some(IpAddr::V6(_)))).map(|(h, _)| h.to_string()).collect();
    if !v6.is_empty() {
        export.warn(
            "okhttp-ipv6-name",
            format!(
                "OkHttp before 4.5 compares an IPv6 address with the certificate's iPAddress entries as text, and \
                 Java spells those uncompressed (0:0:0:0:0:0:0:1), so it refuses every IPv6 host ({}) \
                 (square/okhttp#5885); PinsetPinning sets a hostname verifier that compares addresses as \
                 addresses: keep it in any client of your own",
                v6.join(", ")
            ),
        );
    }
    export
}

/// A host as a CertificatePinner pattern: IPv6 in brackets (OkHttp 3 reads a pattern as the
/// host of a URL and refuses a bare IPv6 address; OkHttp 4 takes both forms).
fn pattern(host: &crate::address::Host) -> String {
    host.url_host()
}

/// The first instant the pins are no longer enforced, in milliseconds since 1970 (UTC): the
/// midnight after the plan's last day. `None` when the plan sets no last day, or one that
/// is not a date (the plan loader refuses those).
fn expire_at_millis(model: &SiteTrust) -> Option<(i64, String)> {
    let next = model.pins_expire_after?.next_day()?;
    let millis = next.midnight().assume_utc().unix_timestamp().checked_mul(1000)?;
    Some((millis, format!("{:04}-{:02}-{:02}T00:00:00Z", next.year(), u8::from(next.month()), next.day())))
}

/// The header comment both files share: provenance, what the client does, `usage` (an
/// example, `{host}` standing for the site's first address), and the other file's name.
fn header(model: &SiteTrust, target: &str, other: &str, usage: &[&str]) -> String {
    let mut lines: Vec<String> = text::provenance(model, target).to_vec();
    let host = model.example_host();
    lines.extend([
        String::new(),
        format!(
            "HTTPS to the servers of site {} with OkHttp 3.13 or later (4.x and 5.x too),",
            text::quote(&model.site)
        ),
        "on Android or the JVM: trusts only the site's anchors (pinset-anchors.pem, read from the".to_string(),
        "classpath: put it in src/main/resources/), checks that the certificate names the address".to_string(),
        "dialled (an IP address must be an iPAddress entry of its subjectAltName, a DNS name a".to_string(),
        "dNSName), and requires, with OkHttp's CertificatePinner, a pinned key in the validated".to_string(),
        "chain, the anchor included. A host that is not one of the site's servers is refused.".to_string(),
        String::new(),
    ]);
    lines.extend(usage.iter().map(|l| l.replace("{host}", &host)));
    lines.extend([
        String::new(),
        format!("{other} is the same client in the other language: add one of the two, not both."),
    ]);
    let lines: Vec<String> = lines.iter().map(|l| text::comment_safe(l)).collect();
    text::comment("// ", &lines)
}

/// The anchors, for a doc comment: one line each, ` * ` prefixed.
fn anchors_doc(model: &SiteTrust, indent: &str) -> String {
    let mut out = String::new();
    for a in &model.anchors {
        out.push_str(&format!(
            "{indent} * - {} anchor: {} (pin {})\n",
            a.role,
            text::comment_safe(&a.subject),
            a.pin.to_base64()
        ));
    }
    out
}

/// The constant holding the end of the pins, with its doc comment, in `kotlin` or Java.
fn expiry_constant(model: &SiteTrust, kotlin: bool) -> String {
    let decl = if kotlin {
        "const val PINS_EXPIRE_AT_MILLIS: Long ="
    } else {
        "public static final long PINS_EXPIRE_AT_MILLIS ="
    };
    let end = if kotlin { "" } else { ";" };
    match (expire_at_millis(model), model.pins_expire_after) {
        (Some((millis, instant)), Some(last)) => format!(
            "    /**\n\
             \x20    * When the pins stop being enforced, in milliseconds since 1970: {instant}, the\n\
             \x20    * midnight after the plan's last day, {last} (UTC). From then on only the anchors are,\n\
             \x20    * so an app that is never updated keeps working across a key rotation.\n\
             \x20    */\n\
             \x20   {decl} {millis}L{end}\n"
        ),
        (_, last) => {
            let why = match last {
                Some(last) => format!("the plan's last day {last} is the last day there is"),
                None => "the plan sets no pin_expiration".to_string(),
            };
            format!(
                "    /**\n\
                 \x20    * When the pins stop being enforced, in milliseconds since 1970: never ({why}).\n\
                 \x20    */\n\
                 \x20   {decl} Long.MAX_VALUE{end}\n"
            )
        }
    }
}

/// The servers, as `Server(hosts, pins)` entries in `kotlin` or Java.
fn servers(model: &SiteTrust, kotlin: bool) -> String {
    let entries: Vec<String> = model
        .servers
        .iter()
        .map(|s| {
            let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&pattern(h))).collect();
            let pins: Vec<String> = s
                .pins
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    // Kotlin 1.3 takes no trailing comma; Java does.
                    let comma = if kotlin && i + 1 == s.pins.len() { "" } else { "," };
                    format!(
                        "                {}{comma} // {} key of {}\n",
                        text::quote(&format!("sha256/{}", p.pin.to_base64())),
                        p.role,
                        p.owner
                    )
                })
                .collect();
            if kotlin {
                format!(
                    "        // server {}\n        Server(\n            arrayOf({}),\n            arrayOf(\n{}            )\n        )",
                    text::comment_safe(&s.name),
                    hosts.join(", "),
                    pins.concat()
                )
            } else {
                format!(
                    "        // server {}\n        new Server(\n            new String[] {{{}}},\n            new String[] {{\n{}            }}),\n",
                    text::comment_safe(&s.name),
                    hosts.join(", "),
                    pins.concat()
                )
            }
        })
        .collect();
    if kotlin { format!("{}\n", entries.join(",\n")) } else { entries.concat() }
}

fn kotlin(model: &SiteTrust) -> String {
    let mut out = header(
        model,
        "okhttp",
        "PinsetPinning.java",
        &[
            "  val client = PinsetPinning.client() // build it once, reuse it: it holds the connection pool",
            "  val request = Request.Builder().url(\"https://{host}/\").build()",
            "  client.newCall(request).execute().use { response -> println(response) }",
        ],
    );
    out.push_str(KOTLIN_IMPORTS);
    out.push_str(&format!(
        "\n/**\n\
         \x20* OkHttp clients for the servers of site {site_doc}. The site's anchors, active first, the only\n\
         \x20* certificates they trust:\n\
         {anchors}\
         \x20*/\n\
         object PinsetPinning {{\n\
         \x20   /** The site, for messages. */\n\
         \x20   const val SITE = {site}\n\n\
         \x20   /** The classpath resource holding the site's anchors (PEM). */\n\
         \x20   const val ANCHORS_RESOURCE = {resource}\n\n",
        site = text::quote(&model.site),
        site_doc = text::comment_safe(&text::quote(&model.site)),
        anchors = anchors_doc(model, ""),
        resource = text::quote(&format!("/{ANCHORS_FILE}")),
    ));
    out.push_str(&expiry_constant(model, true));
    out.push_str(&SERVERS_DOC.replace("{wildcard}", "`*.`"));
    out.push_str("    private val SERVERS = arrayOf<Server>(\n");
    out.push_str(&servers(model, true));
    out.push_str("    )\n");
    out.push_str(KOTLIN_CODE);
    out
}

/// `PinsetPinning.java`, as the `okhttp` export and the plugins (`target` names the export in
/// the provenance comment) ship it.
pub(super) fn java(model: &SiteTrust, target: &str) -> String {
    let mut out = header(
        model,
        target,
        "PinsetPinning.kt",
        &[
            "  OkHttpClient client = PinsetPinning.client(); // build it once, reuse it: it holds the connection pool",
            "  Request request = new Request.Builder().url(\"https://{host}/\").build();",
            "  try (Response response = client.newCall(request).execute()) { ... }",
        ],
    );
    out.push_str(JAVA_IMPORTS);
    out.push_str(&format!(
        "\n/**\n\
         \x20* OkHttp clients for the servers of site {site_doc}. The site's anchors, active first, the only\n\
         \x20* certificates they trust:\n\
         {anchors}\
         \x20*/\n\
         public final class PinsetPinning {{\n\
         \x20   /** The site, for messages. */\n\
         \x20   public static final String SITE = {site};\n\n\
         \x20   /** The classpath resource holding the site's anchors (PEM). */\n\
         \x20   public static final String ANCHORS_RESOURCE = {resource};\n\n",
        site = text::quote(&model.site),
        site_doc = text::comment_safe(&text::quote(&model.site)),
        anchors = anchors_doc(model, ""),
        resource = text::quote(&format!("/{ANCHORS_FILE}")),
    ));
    out.push_str(&expiry_constant(model, false));
    out.push_str(&SERVERS_DOC.replace("{wildcard}", "{@code *.}"));
    out.push_str("    private static final Server[] SERVERS = {\n");
    out.push_str(&servers(model, false));
    out.push_str("    };\n");
    out.push_str(JAVA_CODE);
    out.push_str(super::java::IP_LITERAL);
    out
}

/// The doc comment of `SERVERS`; `{wildcard}` is `*.` as the language's doc comments quote code.
const SERVERS_DOC: &str = "
    /**
     * Each server of the site: the addresses clients dial, as CertificatePinner patterns (IPv6 in
     * brackets, which OkHttp 3 requires; {wildcard} covers exactly one label), and its pins (SPKI
     * SHA-256); any one pin in the validated chain passes.
     */
";

const KOTLIN_IMPORTS: &str = include_str!("templates/okhttp/imports.kt");

const KOTLIN_CODE: &str = include_str!("templates/okhttp/code.kt");

const JAVA_IMPORTS: &str = include_str!("templates/okhttp/imports.java");

const JAVA_CODE: &str = include_str!("templates/okhttp/code.java");
