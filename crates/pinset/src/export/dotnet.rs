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
const USINGS: &str = r#"
#nullable enable

using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Pinset;
"#;

const HEAD: &str = r#"
/// <summary>
/// An <see cref="HttpClient"/> for the site's servers: the certificate must chain to one of the
/// site's anchors, name the address dialled, and a pinned key must be in the validated chain.
/// A host that is not one of the site's servers is refused.
/// </summary>
public static class PinsetPinning
{
"#;

const CODE: &str = r#"
    private static readonly X509Certificate2Collection Anchors = LoadAnchors();

    /// <summary>serverAuth, the extended key usage a TLS server certificate must allow.</summary>
    private static readonly Oid ServerAuth = new Oid("1.3.6.1.5.5.7.3.1");

    /// <summary>
    /// An <see cref="HttpClient"/> on <see cref="CreateHandler"/>. Make it once and reuse it: it
    /// holds the connection pool.
    /// </summary>
    public static HttpClient CreateHttpClient() => new HttpClient(CreateHandler(), disposeHandler: true);

    /// <summary>
    /// A handler that checks every server certificate with <see cref="CheckServerCertificate"/>
    /// and connects directly, never through a proxy (the servers are on the local network).
    /// </summary>
    public static HttpClientHandler CreateHandler() => new HttpClientHandler
    {
        UseProxy = false,
        ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) =>
        {
            CheckServerCertificate(request.RequestUri?.Host ?? "", certificate, chain, errors);
            return true;
        },
    };

    /// <summary>
    /// Accepts the certificate a server presented for <paramref name="host"/>, or throws an
    /// <see cref="AuthenticationException"/> saying why not. The order matters: the name
    /// first, then the chain against the site's anchors, and only then the pins.
    /// </summary>
    /// <param name="host">The host dialled: an IP address (IPv6 with or without brackets) or a DNS name.</param>
    /// <param name="certificate">The server's certificate.</param>
    /// <param name="presented">The chain the platform built, whose certificates help build ours.</param>
    /// <param name="errors">What the platform found wrong.</param>
    public static void CheckServerCertificate(
        string host, X509Certificate2? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        host = host.Trim('[', ']');
        var server = ServerFor(host);
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            throw new AuthenticationException($"{host} presented no certificate");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            throw new AuthenticationException(
                $"the certificate of {host} does not name it ({certificate.Subject}); "
                + "an IP address must be an iPAddress entry of its subjectAltName");
        }

        // RemoteCertificateChainErrors is expected: the system does not trust the site's CA.
        // The chain is built again here against the site's anchors alone.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Anchors);
        // A private CA publishes no CRL or OCSP responder: a revocation check could only fail.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuth);
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        if (!chain.Build(certificate))
        {
            var status = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()));
            throw new AuthenticationException(
                $"the certificate of {host} does not chain to an anchor of site {Site}: {status}");
        }

        if (!PinsInForce(DateTime.UtcNow))
        {
            return;
        }
        var seen = chain.ChainElements
            .Cast<X509ChainElement>()
            .Select(element => (Pin: SpkiSha256(element.Certificate), element.Certificate.Subject))
            .ToList();
        if (seen.Any(link => server.Pins.Contains(link.Pin)))
        {
            return;
        }
        var message = new StringBuilder("Certificate pinning failure!\n  Peer certificate chain:\n");
        foreach (var link in seen)
        {
            message.Append($"    sha256/{link.Pin}: {link.Subject}\n");
        }
        message.Append($"  Pinned certificates for {host}:\n");
        foreach (var pin in server.Pins)
        {
            message.Append($"    sha256/{pin}\n");
        }
        throw new AuthenticationException(message.ToString());
    }

    /// <summary>The pin of a certificate's key: SHA-256 of its DER SubjectPublicKeyInfo, base64.</summary>
    /// <remarks>
    /// Not <c>GetPublicKey()</c>: it returns the bare key (an RSA modulus and exponent, an EC
    /// point) without the algorithm identifier around it, and its hash matches no pin.
    /// </remarks>
    public static string SpkiSha256(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    private static bool PinsInForce(DateTime utcNow) =>
        PinsExpireAfter is null || utcNow.Date <= PinsExpireAfter.Value;

    private static Server ServerFor(string host)
    {
        foreach (var server in Servers)
        {
            if (server.Hosts.Any(pattern => Names(pattern, host)))
            {
                return server;
            }
        }
        throw new AuthenticationException(
            $"{host} is not a server of site {Site}: this client connects only to the site's servers");
    }

    /// <summary>
    /// Whether <paramref name="pattern"/> (an IP address, a DNS name, or <c>*.</c> and a name:
    /// exactly one more label) names <paramref name="host"/>.
    /// </summary>
    private static bool Names(string pattern, string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return IPAddress.TryParse(pattern, out var expected) && expected.Equals(address);
        }
        var name = host.TrimEnd('.').ToLowerInvariant();
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern.Substring(1);
            var label = name.Length - suffix.Length;
            return label > 0 && name.EndsWith(suffix, StringComparison.Ordinal) && name.IndexOf('.') == label;
        }
        return name == pattern;
    }

    private static X509Certificate2Collection LoadAnchors()
    {
        var anchors = new X509Certificate2Collection();
        foreach (var der in AnchorsDer)
        {
            var bytes = Convert.FromBase64String(der);
#if NET9_0_OR_GREATER
            anchors.Add(X509CertificateLoader.LoadCertificate(bytes));
#else
            anchors.Add(new X509Certificate2(bytes));
#endif
        }
        return anchors;
    }

    /// <summary>A server of the site, as <see cref="Servers"/> lists it.</summary>
    private sealed record Server(string Name, string[] Hosts, string[] Pins);
}
"#;
