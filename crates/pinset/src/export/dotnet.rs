//! Export for `dotnet`: a C# static class whose `HttpClientHandler` refuses a name mismatch
//! outright, builds the chain again against the site's anchors only
//! (`X509ChainTrustMode.CustomRootTrust`), and then requires a pinned key in that validated
//! chain, hashed from `PublicKey.ExportSubjectPublicKeyInfo()` (.NET 6 and later).

use super::{Export, ExportFile, Options, SiteTrust, Target, text};

const FILE: &str = "PinsetPinning.cs";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Dotnet);
    export.files.push(ExportFile::text(
        FILE,
        class(model),
        "C# static class `Pinset.PinsetPinning`: `CreateHttpClient()`/`CreateHandler()` validate the server \
         against the site's anchors only, keep the name check, and check pins; add it to the project (.NET 6 or later)",
    ));
    export.usage = format!(
        "Add `{FILE}` to the project (.NET 6 or later) and make every request to the site with \
         `PinsetPinning.CreateHttpClient()` (or `new HttpClient(PinsetPinning.CreateHandler())`); with \
         `IHttpClientFactory`, `.ConfigurePrimaryHttpMessageHandler(PinsetPinning.CreateHandler)`. A refused server \
         surfaces as an `HttpRequestException` whose `InnerException` is an `AuthenticationException` saying why \
         (for a pin failure, OkHttp's report: the chain as `sha256/<pin>: <subject>` lines and the pins). \
         For an `SslStream` of your own, call `PinsetPinning.CheckServerCertificate` from its \
         `RemoteCertificateValidationCallback` (its certificate is an `X509Certificate`: pass \
         `certificate as X509Certificate2`) and return true when it does not throw.\n"
    );
    export
}

fn class(model: &SiteTrust) -> String {
    let mut out = text::comment("// ", &text::provenance(model, "dotnet"));
    out.push_str(&format!(
        "//\n\
         // HTTPS to the servers of site {site} from .NET 6 or later: trusts only the site's anchors\n\
         // (never the system's roots), keeps the check of the address (an IP address must be an\n\
         // iPAddress SAN of the certificate, a DNS name a dNSName), and requires a pinned key in the\n\
         // validated chain, the anchor included.\n\
         //\n\
         //   using var client = PinsetPinning.CreateHttpClient(); // make it once, reuse it\n\
         //   var body = await client.GetStringAsync(\"https://{host}/\");\n",
        site = text::quote(&model.site),
        host = model.example_host(),
    ));
    out.push_str(USINGS);
    out.push_str(HEAD);
    out.push_str(&format!(
        "    /// <summary>The site, for messages.</summary>\n    private const string Site = {};\n\n",
        text::quote(&model.site)
    ));
    out.push_str(
        "    /// <summary>\n\
         \x20   /// The site's anchors (DER, base64), active first: the only certificates trusted.\n\
         \x20   /// </summary>\n\
         \x20   private static readonly string[] AnchorsDer =\n    {\n",
    );
    for a in &model.anchors {
        out.push_str(&format!(
            "        // {} anchor: {}, pin {}\n",
            a.role,
            text::comment_safe(&a.subject),
            a.pin.to_base64()
        ));
        out.push_str(&format!("        \"{}\",\n", base64_der(&a.der)));
    }
    out.push_str("    };\n\n");
    let expiry = match model.pins_expire_after.map(|d| (d.year(), u8::from(d.month()), d.day())) {
        Some((y, m, d)) => format!("new DateTime({y}, {m}, {d}, 0, 0, 0, DateTimeKind.Utc)"),
        None => "null".to_string(),
    };
    out.push_str(&format!(
        "    /// <summary>\n\
         \x20   /// Last day (UTC) the pins are enforced; after it only the anchors are, so an app that is\n\
         \x20   /// never updated keeps working across a key rotation. Null: the pins do not expire.\n\
         \x20   /// </summary>\n\
         \x20   private static readonly DateTime? PinsExpireAfter = {expiry};\n\n"
    ));
    out.push_str(
        "    /// <summary>\n\
         \x20   /// Each server of the site: the addresses clients dial (IP addresses, DNS names, <c>*.</c>\n\
         \x20   /// names covering one label) and its pins (SPKI SHA-256, base64); any one pin matching passes.\n\
         \x20   /// </summary>\n\
         \x20   private static readonly Server[] Servers =\n    {\n",
    );
    for s in &model.servers {
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&format!(
            "        new Server(\n            {},\n            new[] {{ {} }},\n            new[]\n            {{\n",
            text::quote(&s.name),
            hosts.join(", ")
        ));
        out.push_str(&text::pin_list(&s.pins, "                ", " ", "//"));
        out.push_str("            }),\n");
    }
    out.push_str("    };\n");
    out.push_str(CODE);
    out
}

/// The certificate as one line of standard base64 (what `Convert.FromBase64String` reads).
fn base64_der(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// `YYYY-MM-DD` as numbers without leading zeros, for `new DateTime(…)`.
const USINGS: &str = include_str!("templates/dotnet/usings.cs");

const HEAD: &str = include_str!("templates/dotnet/head.cs");

const CODE: &str = include_str!("templates/dotnet/code.cs");
