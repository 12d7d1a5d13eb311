// Written by `pinset export okhttp` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// HTTPS to the servers of site "clinic" with OkHttp 3.13 or later (4.x and 5.x too),
// on Android or the JVM: trusts only the site's anchors (pinset-anchors.pem, read from the
// classpath: put it in src/main/resources/), checks that the certificate names the address
// dialled (an IP address must be an iPAddress entry of its subjectAltName, a DNS name a
// dNSName), and requires, with OkHttp's CertificatePinner, a pinned key in the validated
// chain, the anchor included. A host that is not one of the site's servers is refused.
//
//   OkHttpClient client = PinsetPinning.client(); // build it once, reuse it: it holds the connection pool
//   Request request = new Request.Builder().url("https://devices.clinic.example/").build();
//   try (Response response = client.newCall(request).execute()) { ... }
//
// PinsetPinning.kt is the same client in the other language: add one of the two, not both.

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

/**
 * OkHttp clients for the servers of site "clinic". The site's anchors, active first, the only
 * certificates they trust:
 * - active anchor: CN=pinset CA clinic, O=clinic (pin NVEJtsMuE7D7KdM4Tz/I/u0yXTzNbsCmmPaZ2/Q018M=)
 * - standby anchor: CN=pinset CA clinic (standby), O=clinic (pin jhY7qHfy2KriVgPxR5uu2A302tFo8lhDDQLNnwphXiw=)
 */
public final class PinsetPinning {
    /** The site, for messages. */
    public static final String SITE = "clinic";

    /** The classpath resource holding the site's anchors (PEM). */
    public static final String ANCHORS_RESOURCE = "/pinset-anchors.pem";

    /**
     * When the pins stop being enforced, in milliseconds since 1970: never (the plan sets no pin_expiration).
     */
    public static final long PINS_EXPIRE_AT_MILLIS = Long.MAX_VALUE;

    /**
     * Each server of the site: the addresses clients dial, as CertificatePinner patterns (IPv6 in
     * brackets, which OkHttp 3 requires; {@code *.} covers exactly one label), and its pins (SPKI
     * SHA-256); any one pin in the validated chain passes.
     */
    private static final Server[] SERVERS = {
        // server devices
        new Server(
            new String[] {"devices.clinic.example", "*.wards.clinic.example"},
            new String[] {
                "sha256/1+iJu6RbPM0NRL6iaO41RNdY+J+aXEjWkSFMWGi/7io=", // active key of server devices
                "sha256/PpsHvCXg6F4txjC+je+ddas6CGcdiqdBg7RxKKVmUQ8=", // standby key of server devices
            }),
    };

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
        // OkHttp's HTTP/2 reader and connection pool threads would keep the JVM up for a minute.
        System.exit(0);
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

    /** The address an IP literal names (IPv6 with or without brackets), or null for anything else; never a DNS lookup. */
    private static InetAddress ipLiteral(String text) {
        String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        try {
            if (IPV4.matcher(literal).matches()) {
                String[] parts = literal.split("\\.");
                byte[] octets = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int octet = Integer.parseInt(parts[i]);
                    if (octet > 255) {
                        return null;
                    }
                    octets[i] = (byte) octet;
                }
                return InetAddress.getByAddress(octets);
            }
            if (literal.indexOf(':') < 0) {
                return null;
            }
            // In brackets the text can only be an IPv6 literal: parsed, never looked up.
            return InetAddress.getByName("[" + literal + "]");
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
