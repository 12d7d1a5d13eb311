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
        java(model),
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
fn header(model: &SiteTrust, other: &str, usage: &[&str]) -> String {
    let mut lines: Vec<String> = text::provenance(model, "okhttp").to_vec();
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

fn java(model: &SiteTrust) -> String {
    let mut out = header(
        model,
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

const KOTLIN_IMPORTS: &str = r#"
package pinset

import java.io.IOException
import java.io.InputStream
import java.net.InetAddress
import java.net.Proxy
import java.net.UnknownHostException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.security.cert.CertificateParsingException
import java.security.cert.X509Certificate
import java.util.Arrays
import javax.net.ssl.HostnameVerifier
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLException
import javax.net.ssl.SSLSession
import javax.net.ssl.TrustManager
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509TrustManager
import kotlin.system.exitProcess
import okhttp3.CertificatePinner
import okhttp3.ConnectionSpec
import okhttp3.OkHttpClient
import okhttp3.Request
"#;

const KOTLIN_CODE: &str = r#"
    /** subjectAltName entry types (RFC 5280), as X509Certificate.getSubjectAlternativeNames numbers them. */
    private const val DNS_NAME = 2
    private const val IP_ADDRESS = 7

    private val IPV4 = Regex("[0-9]{1,3}(\\.[0-9]{1,3}){3}")

    /** An OkHttpClient for the site's servers. Build it once and reuse it: it holds the connection pool. */
    @JvmStatic
    @Throws(IOException::class, GeneralSecurityException::class)
    fun client(): OkHttpClient = builder().build()

    /**
     * A builder set up for the site, to add timeouts or interceptors before build(). Keep its
     * sslSocketFactory, hostnameVerifier and certificatePinner: they are the pinning.
     */
    @JvmStatic
    @Throws(IOException::class, GeneralSecurityException::class)
    fun builder(): OkHttpClient.Builder {
        val anchors = PinsetPinning::class.java.getResourceAsStream(ANCHORS_RESOURCE)
            ?: throw IOException("$ANCHORS_RESOURCE is not on the classpath: put pinset-anchors.pem in src/main/resources/")
        return anchors.use { builder(it) }
    }

    /** As [builder], with the anchors read from [anchorsPem] (PEM certificates) instead of the classpath. */
    @JvmStatic
    @Throws(IOException::class, GeneralSecurityException::class)
    fun builder(anchorsPem: InputStream): OkHttpClient.Builder {
        val trustManager = trustManager(anchorsPem)
        val tls = SSLContext.getInstance("TLS")
        tls.init(null, arrayOf<TrustManager>(trustManager), null)
        val builder = OkHttpClient.Builder()
            .sslSocketFactory(tls.socketFactory, trustManager)
            .hostnameVerifier(SiteHostnameVerifier)
            // The servers are on the local network: never through a proxy the system names.
            .proxy(Proxy.NO_PROXY)
            // TLS only: no cleartext connection (an http:// URL fails with "CLEARTEXT
            // communication not enabled"), and no redirect from https to http is followed.
            .connectionSpecs(listOf(ConnectionSpec.MODERN_TLS))
            .followSslRedirects(false)
        // CertificatePinner has no expiry of its own: after the last day the client is built
        // without it, and the anchors alone decide.
        if (pinsInForce(System.currentTimeMillis())) {
            builder.certificatePinner(certificatePinner())
        }
        return builder
    }

    /** The pins of every address of the site, for OkHttp's CertificatePinner. */
    @JvmStatic
    fun certificatePinner(): CertificatePinner {
        val pinner = CertificatePinner.Builder()
        for (server in SERVERS) {
            for (host in server.hosts) {
                pinner.add(host, *server.pins)
            }
        }
        return pinner.build()
    }

    /**
     * The platform's own chain validation (PKIX) with the certificates of [anchorsPem] as its
     * only anchors: no system CA can vouch for a server.
     */
    @JvmStatic
    @Throws(IOException::class, GeneralSecurityException::class)
    fun trustManager(anchorsPem: InputStream): X509TrustManager {
        val anchors = CertificateFactory.getInstance("X.509").generateCertificates(anchorsPem)
        if (anchors.isEmpty()) {
            throw GeneralSecurityException("the anchors of site $SITE hold no certificate")
        }
        val store = KeyStore.getInstance(KeyStore.getDefaultType())
        store.load(null, null)
        anchors.forEachIndexed { i, anchor -> store.setCertificateEntry("pinset-anchor-$i", anchor) }
        val factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
        factory.init(store)
        return factory.trustManagers.filterIsInstance<X509TrustManager>().firstOrNull()
            ?: throw GeneralSecurityException("this platform has no X.509 trust manager")
    }

    /** Whether the pins are enforced at [nowMillis] (milliseconds since 1970). */
    @JvmStatic
    fun pinsInForce(nowMillis: Long): Boolean = nowMillis < PINS_EXPIRE_AT_MILLIS

    /**
     * Accepts a server of the site (a host of [SERVERS]: this client is for the site only, and
     * so every server it accepts is pinned) whose certificate names the host dialled; the
     * subject's common name is never used. An IP address must be an iPAddress entry of the
     * subjectAltName, compared as an address: OkHttp's own verifier compared text before 4.5,
     * and Java spells an IPv6 entry uncompressed (0:0:0:0:0:0:0:1), so it refused every IPv6
     * host. A DNS name must be a dNSName entry, exactly (case aside) or through a `*.` that
     * stands for one whole label.
     */
    object SiteHostnameVerifier : HostnameVerifier {
        override fun verify(host: String, session: SSLSession): Boolean {
            if (!isServerOfSite(host)) {
                return false
            }
            val certificate = try {
                session.peerCertificates.firstOrNull() as? X509Certificate
            } catch (e: SSLException) {
                null
            }
            return certificate != null && names(certificate, host)
        }
    }

    /** Whether [host] (an IP address, IPv6 with or without brackets, or a DNS name) is an address of a server of the site. */
    @JvmStatic
    fun isServerOfSite(host: String): Boolean {
        val address = ipLiteral(host)
        for (server in SERVERS) {
            for (pattern in server.hosts) {
                val expected = ipLiteral(pattern)
                if (address != null && expected != null && Arrays.equals(expected.address, address.address)) {
                    return true
                }
                if (address == null && expected == null && dnsNameMatches(host, pattern)) {
                    return true
                }
            }
        }
        return false
    }

    /** Whether the subjectAltName of [certificate] names [host]: an IP address (IPv6 with or without brackets) or a DNS name. */
    @JvmStatic
    fun names(certificate: X509Certificate, host: String): Boolean {
        val entries = try {
            certificate.subjectAlternativeNames
        } catch (e: CertificateParsingException) {
            null
        } ?: return false
        val address = ipLiteral(host)
        for (entry in entries) {
            val type = entry[0] as? Int
            val value = entry[1] as? String ?: continue
            if (address != null && type == IP_ADDRESS) {
                val named = ipLiteral(value)
                if (named != null && Arrays.equals(named.address, address.address)) {
                    return true
                }
            } else if (address == null && type == DNS_NAME && dnsNameMatches(host, value)) {
                return true
            }
        }
        return false
    }

    /** Whether [pattern] (a dNSName: a name, or `*.` and a name of two labels or more) names [host]. */
    private fun dnsNameMatches(host: String, pattern: String): Boolean {
        val name = host.removeSuffix(".")
        val san = pattern.removeSuffix(".")
        if (name.isEmpty() || san.isEmpty() || name.startsWith(".")) {
            return false
        }
        if (!san.startsWith("*.")) {
            return '*' !in san && name.equals(san, ignoreCase = true)
        }
        // The wildcard is the whole left-most label and stands for exactly one label, never for
        // every name under a top-level domain (`*.local`).
        val suffix = san.substring(1)
        if ('*' in suffix || suffix.indexOf('.', 1) < 0) {
            return false
        }
        val label = name.length - suffix.length
        return label > 0 && name.endsWith(suffix, ignoreCase = true) && name.indexOf('.') == label
    }

    /** The address an IP literal names (IPv6 with or without brackets), or null for anything else; never a DNS lookup. */
    private fun ipLiteral(text: String): InetAddress? {
        val literal = text.removePrefix("[").removeSuffix("]")
        if (IPV4.matches(literal)) {
            val octets = literal.split('.').map { it.toInt() }
            if (octets.any { it > 255 }) {
                return null
            }
            return InetAddress.getByAddress(ByteArray(4) { octets[it].toByte() })
        }
        if (':' !in literal) {
            return null
        }
        // In brackets the text can only be an IPv6 literal: parsed, never looked up.
        return try {
            InetAddress.getByName("[$literal]")
        } catch (e: UnknownHostException) {
            null
        }
    }

    /**
     * GET of one URL, printing the response: `java -cp … pinset.PinsetPinning https://HOST:PORT/`.
     * Exits 1 with the reason when the server is refused (for a pin, OkHttp's "Certificate
     * pinning failure!" report).
     */
    @JvmStatic
    fun main(args: Array<String>) {
        if (args.size != 1) {
            System.err.println("usage: pinset.PinsetPinning https://HOST[:PORT]/PATH")
            exitProcess(2)
        }
        try {
            val request = Request.Builder().url(args[0]).build()
            client().newCall(request).execute().use { response -> println(response) }
        } catch (e: IOException) {
            System.err.println("${args[0]}: $e")
            exitProcess(1)
        } catch (e: GeneralSecurityException) {
            System.err.println("${args[0]}: $e")
            exitProcess(1)
        } catch (e: IllegalArgumentException) {
            System.err.println("${args[0]}: $e")
            exitProcess(2)
        }
    }

    /** A server of the site, as [SERVERS] lists it. */
    private class Server(val hosts: Array<String>, val pins: Array<String>)
}
"#;

const JAVA_IMPORTS: &str = r#"
package pinset;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.CertificatePinner;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
"#;

const JAVA_CODE: &str = r#"
    /** subjectAltName entry types (RFC 5280), as X509Certificate.getSubjectAlternativeNames numbers them. */
    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    private PinsetPinning() {}

    /** An OkHttpClient for the site's servers. Build it once and reuse it: it holds the connection pool. */
    public static OkHttpClient client() throws IOException, GeneralSecurityException {
        return builder().build();
    }

    /**
     * A builder set up for the site, to add timeouts or interceptors before build(). Keep its
     * sslSocketFactory, hostnameVerifier and certificatePinner: they are the pinning.
     */
    public static OkHttpClient.Builder builder() throws IOException, GeneralSecurityException {
        InputStream anchors = PinsetPinning.class.getResourceAsStream(ANCHORS_RESOURCE);
        if (anchors == null) {
            throw new IOException(
                    ANCHORS_RESOURCE + " is not on the classpath: put pinset-anchors.pem in src/main/resources/");
        }
        try (InputStream in = anchors) {
            return builder(in);
        }
    }

    /** As {@link #builder()}, with the anchors read from {@code anchorsPem} (PEM certificates) instead of the classpath. */
    public static OkHttpClient.Builder builder(InputStream anchorsPem) throws IOException, GeneralSecurityException {
        X509TrustManager trustManager = trustManager(anchorsPem);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, new TrustManager[] {trustManager}, null);
        OkHttpClient.Builder builder = new OkHttpClient.Builder()
                .sslSocketFactory(tls.getSocketFactory(), trustManager)
                .hostnameVerifier(SiteHostnameVerifier.INSTANCE)
                // The servers are on the local network: never through a proxy the system names.
                .proxy(Proxy.NO_PROXY)
                // TLS only: no cleartext connection (an http:// URL fails with "CLEARTEXT
                // communication not enabled"), and no redirect from https to http is followed.
                .connectionSpecs(Collections.singletonList(ConnectionSpec.MODERN_TLS))
                .followSslRedirects(false);
        // CertificatePinner has no expiry of its own: after the last day the client is built
        // without it, and the anchors alone decide.
        if (pinsInForce(System.currentTimeMillis())) {
            builder.certificatePinner(certificatePinner());
        }
        return builder;
    }

    /** The pins of every address of the site, for OkHttp's CertificatePinner. */
    public static CertificatePinner certificatePinner() {
        CertificatePinner.Builder pinner = new CertificatePinner.Builder();
        for (Server server : SERVERS) {
            for (String host : server.hosts) {
                pinner.add(host, server.pins);
            }
        }
        return pinner.build();
    }

    /**
     * The platform's own chain validation (PKIX) with the certificates of {@code anchorsPem} as
     * its only anchors: no system CA can vouch for a server.
     */
    public static X509TrustManager trustManager(InputStream anchorsPem) throws IOException, GeneralSecurityException {
        Collection<? extends Certificate> anchors =
                CertificateFactory.getInstance("X.509").generateCertificates(anchorsPem);
        if (anchors.isEmpty()) {
            throw new GeneralSecurityException("the anchors of site " + SITE + " hold no certificate");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate anchor : anchors) {
            store.setCertificateEntry("pinset-anchor-" + i++, anchor);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager) {
                return (X509TrustManager) manager;
            }
        }
        throw new GeneralSecurityException("this platform has no X.509 trust manager");
    }

    /** Whether the pins are enforced at {@code nowMillis} (milliseconds since 1970). */
    public static boolean pinsInForce(long nowMillis) {
        return nowMillis < PINS_EXPIRE_AT_MILLIS;
    }

    /**
     * Accepts a server of the site (a host of {@link #SERVERS}: this client is for the site only,
     * and so every server it accepts is pinned) whose certificate names the host dialled; the
     * subject's common name is never used. An IP address must be an iPAddress entry of the
     * subjectAltName, compared as an address: OkHttp's own verifier compared text before 4.5,
     * and Java spells an IPv6 entry uncompressed (0:0:0:0:0:0:0:1), so it refused every IPv6
     * host. A DNS name must be a dNSName entry, exactly (case aside) or through a {@code *.}
     * that stands for one whole label.
     */
    public static final class SiteHostnameVerifier implements HostnameVerifier {
        public static final SiteHostnameVerifier INSTANCE = new SiteHostnameVerifier();

        private SiteHostnameVerifier() {}

        @Override
        public boolean verify(String host, SSLSession session) {
            if (!isServerOfSite(host)) {
                return false;
            }
            Certificate[] chain;
            try {
                chain = session.getPeerCertificates();
            } catch (SSLException e) {
                return false;
            }
            return chain.length > 0 && chain[0] instanceof X509Certificate && names((X509Certificate) chain[0], host);
        }
    }

    /** Whether {@code host} (an IP address, IPv6 with or without brackets, or a DNS name) is an address of a server of the site. */
    public static boolean isServerOfSite(String host) {
        InetAddress address = ipLiteral(host);
        for (Server server : SERVERS) {
            for (String pattern : server.hosts) {
                InetAddress expected = ipLiteral(pattern);
                if (address != null && expected != null && Arrays.equals(expected.getAddress(), address.getAddress())) {
                    return true;
                }
                if (address == null && expected == null && dnsNameMatches(host, pattern)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the subjectAltName of {@code certificate} names {@code host}: an IP address (IPv6 with or without brackets) or a DNS name. */
    public static boolean names(X509Certificate certificate, String host) {
        Collection<List<?>> entries;
        try {
            entries = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return false;
        }
        if (entries == null) {
            return false;
        }
        InetAddress address = ipLiteral(host);
        for (List<?> entry : entries) {
            Object type = entry.get(0);
            if (!(entry.get(1) instanceof String)) {
                continue;
            }
            String value = (String) entry.get(1);
            if (address != null && Integer.valueOf(IP_ADDRESS).equals(type)) {
                InetAddress named = ipLiteral(value);
                if (named != null && Arrays.equals(named.getAddress(), address.getAddress())) {
                    return true;
                }
            } else if (address == null && Integer.valueOf(DNS_NAME).equals(type) && dnsNameMatches(host, value)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code pattern} (a dNSName: a name, or {@code *.} and a name of two labels or more) names {@code host}. */
    private static boolean dnsNameMatches(String host, String pattern) {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String san = pattern.endsWith(".") ? pattern.substring(0, pattern.length() - 1) : pattern;
        if (name.isEmpty() || san.isEmpty() || name.startsWith(".")) {
            return false;
        }
        if (!san.startsWith("*.")) {
            return san.indexOf('*') < 0 && name.equalsIgnoreCase(san);
        }
        // The wildcard is the whole left-most label and stands for exactly one label, never for
        // every name under a top-level domain (*.local).
        String suffix = san.substring(1);
        if (suffix.indexOf('*') >= 0 || suffix.indexOf('.', 1) < 0) {
            return false;
        }
        int label = name.length() - suffix.length();
        return label > 0
                && name.regionMatches(true, label, suffix, 0, suffix.length())
                && name.indexOf('.') == label;
    }

    /**
     * GET of one URL, printing the response: {@code java -cp … pinset.PinsetPinning https://HOST:PORT/}.
     * Exits 1 with the reason when the server is refused (for a pin, OkHttp's "Certificate
     * pinning failure!" report).
     */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: pinset.PinsetPinning https://HOST[:PORT]/PATH");
            System.exit(2);
        }
        Request request;
        try {
            request = new Request.Builder().url(args[0]).build();
        } catch (IllegalArgumentException e) {
            System.err.println(args[0] + ": " + e);
            System.exit(2);
            return;
        }
        try (Response response = client().newCall(request).execute()) {
            System.out.println(response);
        } catch (IOException | GeneralSecurityException e) {
            System.err.println(args[0] + ": " + e);
            System.exit(1);
        }
    }

    /** A server of the site, as {@link #SERVERS} lists it. */
    private static final class Server {
        final String[] hosts;
        final String[] pins;

        Server(String[] hosts, String[] pins) {
            this.hosts = hosts;
            this.pins = pins;
        }
    }
"#;
