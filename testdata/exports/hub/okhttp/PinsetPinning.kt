// Written by `pinset export okhttp` for site "hub". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// HTTPS to the servers of site "hub" with OkHttp 3.13 or later (4.x and 5.x too),
// on Android or the JVM: trusts only the site's anchors (pinset-anchors.pem, read from the
// classpath: put it in src/main/resources/), checks that the certificate names the address
// dialled (an IP address must be an iPAddress entry of its subjectAltName, a DNS name a
// dNSName), and requires, with OkHttp's CertificatePinner, a pinned key in the validated
// chain, the anchor included. A host that is not one of the site's servers is refused.
//
//   val client = PinsetPinning.client() // build it once, reuse it: it holds the connection pool
//   val request = Request.Builder().url("https://10.0.0.5/").build()
//   client.newCall(request).execute().use { response -> println(response) }
//
// PinsetPinning.java is the same client in the other language: add one of the two, not both.

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

/**
 * OkHttp clients for the servers of site "hub". The site's anchors, active first, the only
 * certificates they trust:
 * - active anchor: CN=10.0.0.5, O=hub (pin f8mSmukeA5lVsr/FWZWJvR9k0226/4RWKhbgWFL4aYw=)
 * - standby anchor: CN=10.0.0.5, O=hub (pin YeDWpX7BrnXgX2jbWIytI90Z2FMbao0VDCfDwRU9WKo=)
 */
object PinsetPinning {
    /** The site, for messages. */
    const val SITE = "hub"

    /** The classpath resource holding the site's anchors (PEM). */
    const val ANCHORS_RESOURCE = "/pinset-anchors.pem"

    /**
     * When the pins stop being enforced, in milliseconds since 1970: never (the plan sets no pin_expiration).
     */
    const val PINS_EXPIRE_AT_MILLIS: Long = Long.MAX_VALUE

    /**
     * Each server of the site: the addresses clients dial, as CertificatePinner patterns (IPv6 in
     * brackets, which OkHttp 3 requires; `*.` covers exactly one label), and its pins (SPKI
     * SHA-256); any one pin in the validated chain passes.
     */
    private val SERVERS = arrayOf<Server>(
        // server hub
        Server(
            arrayOf("10.0.0.5"),
            arrayOf(
                "sha256/f8mSmukeA5lVsr/FWZWJvR9k0226/4RWKhbgWFL4aYw=", // active key of server hub
                "sha256/YeDWpX7BrnXgX2jbWIytI90Z2FMbao0VDCfDwRU9WKo=" // standby key of server hub
            )
        )
    )

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
        // OkHttp's HTTP/2 reader and connection pool threads would keep the JVM up for a minute.
        exitProcess(0)
    }

    /** A server of the site, as [SERVERS] lists it. */
    private class Server(val hosts: Array<String>, val pins: Array<String>)
}
