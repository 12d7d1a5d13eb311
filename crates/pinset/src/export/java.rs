//! Export for `java`: a JDK-only class (Java 11 or later, no library) whose
//! `X509ExtendedTrustManager` hands the chain to the JDK's PKIX trust manager built from the
//! site's anchors alone (which also checks the address, the client having turned endpoint
//! identification on), then rebuilds the chain it was validated through, up to and including
//! the anchor, and requires a pin of the server dialled in it, until the pins expire. The
//! anchors are `pinset-anchors.pem`, read from the classpath or a path.

use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The anchors' file name, and the classpath resource the class reads (`/` + this).
const ANCHORS_FILE: &str = "pinset-anchors.pem";

const FILE: &str = "PinsetPinning.java";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Java);
    export.files.push(ExportFile::text(
        FILE,
        class(model),
        "Java class `pinset.PinsetPinning` (JDK 11 or later, no library): `sslContext()`, `open(url)` \
         (HttpsURLConnection) and `httpClient()` (java.net.http) trust only the site's anchors, check the address, \
         and check the pins of the server dialled in the validated chain; goes in the app's Java sources",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        model.anchors_pem(),
        "the site's anchors (PEM, active first), read from the classpath as `/pinset-anchors.pem`: goes to \
         `src/main/resources/` (or anywhere, given to `sslContext(Path)`)",
    ));
    export.usage = format!(
        "Add `{FILE}` to the app's sources (package `pinset`: change its `package` line to move it) and \
         `{ANCHORS_FILE}` to `src/main/resources/`. Make every request to the site through \
         `PinsetPinning.open(url)` (an `HttpsURLConnection`) or `PinsetPinning.httpClient()` (a \
         `java.net.http.HttpClient`), or give `PinsetPinning.sslContext()` to another client that turns on endpoint \
         identification (`SSLParameters.setEndpointIdentificationAlgorithm(\"HTTPS\")`): without it the trust \
         manager refuses every server, since nothing would check the address. To keep the anchors in a file \
         instead, use `open(url, socketFactory)` and `httpClient(context)` with `PinsetPinning.sslContext(path)`. \
         JDK 11 or later; for Android use the `okhttp` export.\n\
         A refused server fails the handshake with an `SSLHandshakeException` saying why; for a pin, the message \
         starts `Certificate pinning failure!` and lists the chain as `sha256/<pin>: <subject>` lines and the pins, \
         as OkHttp's does. Nothing goes in cleartext: `open(url)` and the client of `httpClient()` refuse a URL that is \
         not https, and neither follows a redirect to http.\n"
    );
    export
}

fn class(model: &SiteTrust) -> String {
    let provenance: Vec<String> = text::provenance(model, "java").iter().map(|l| text::comment_safe(l)).collect();
    let mut out = text::comment("// ", &provenance);
    let host = model.example_host();
    out.push_str(&format!(
        "//\n\
         // HTTPS to the servers of site {site} with the JDK alone (Java 11 or later): trusts only\n\
         // the site's anchors (pinset-anchors.pem, a classpath resource: put it in\n\
         // src/main/resources/), checks that the certificate names the address dialled (an IP\n\
         // address must be an iPAddress entry of its subjectAltName, a DNS name a dNSName), and\n\
         // requires a pinned key of the server dialled in the validated chain, the anchor included.\n\
         //\n\
         //   HttpsURLConnection connection = PinsetPinning.open(URI.create(\"https://{host}/\").toURL());\n\
         //   int status = connection.getResponseCode();\n\
         //\n\
         //   HttpClient client = PinsetPinning.httpClient(); // build it once, reuse it\n\
         //   HttpResponse<String> response = client.send(\n\
         //           HttpRequest.newBuilder(URI.create(\"https://{host}/\")).build(),\n\
         //           HttpResponse.BodyHandlers.ofString());\n",
        site = text::comment_safe(&text::quote(&model.site)),
    ));
    out.push_str(IMPORTS);
    out.push_str(&format!(
        "\n/**\n\
         \x20* TLS for the servers of site {site}. The site's anchors, active first, the only certificates\n\
         \x20* trusted:\n",
        site = text::comment_safe(&text::quote(&model.site))
    ));
    for a in &model.anchors {
        out.push_str(&format!(
            " * - {} anchor: {} (pin {})\n",
            a.role,
            text::comment_safe(&a.subject),
            a.pin.to_base64()
        ));
    }
    out.push_str(&format!(
        " */\n\
         public final class PinsetPinning {{\n\
         \x20   /** The site, for messages. */\n\
         \x20   public static final String SITE = {site};\n\n\
         \x20   /** The classpath resource holding the site's anchors (PEM). */\n\
         \x20   public static final String ANCHORS_RESOURCE = {resource};\n\n",
        site = text::quote(&model.site),
        resource = text::quote(&format!("/{ANCHORS_FILE}")),
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => format!("LocalDate.parse({})", text::quote(&day.to_string())),
        None => "null".to_string(),
    };
    out.push_str(&format!(
        "    /**\n\
         \x20    * Last day (UTC) the pins are enforced; after it only the anchors are, so an app that is\n\
         \x20    * never updated keeps working across a key rotation. Null: the pins do not expire.\n\
         \x20    */\n\
         \x20   public static final LocalDate PINS_EXPIRE_AFTER = {expiry};\n\n"
    ));
    out.push_str(
        "    /**\n\
         \x20    * Each server of the site: the addresses clients dial (IP addresses, DNS names, {@code *.}\n\
         \x20    * names covering one label) and its pins (SPKI SHA-256, base64); any one pin in the validated\n\
         \x20    * chain passes.\n\
         \x20    */\n\
         \x20   private static final Server[] SERVERS = {\n",
    );
    for s in &model.servers {
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&format!(
            "        // server {}\n        new Server(\n            new String[] {{{}}},\n            new String[] {{\n",
            text::comment_safe(&s.name),
            hosts.join(", ")
        ));
        out.push_str(&text::pin_list(&s.pins, "                ", " ", "//"));
        out.push_str("            }),\n");
    }
    out.push_str("    };\n");
    out.push_str(CODE);
    out.push_str(IP_LITERAL);
    out
}

const IMPORTS: &str = include_str!("templates/java/imports.java");

const CODE: &str = include_str!("templates/java/code.java");

/// The last method of both Java exports (`java`, and `okhttp`'s Java file), and the end of the
/// class: each file stands alone, so both carry it.
pub(super) const IP_LITERAL: &str = include_str!("templates/java/ip_literal.java");
