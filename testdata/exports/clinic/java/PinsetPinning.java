// Written by `pinset export java` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// HTTPS to the servers of site "clinic" with the JDK alone (Java 11 or later): trusts only
// the site's anchors (pinset-anchors.pem, a classpath resource: put it in
// src/main/resources/), checks that the certificate names the address dialled (an IP
// address must be an iPAddress entry of its subjectAltName, a DNS name a dNSName), and
// requires a pinned key of the server dialled in the validated chain, the anchor included.
//
//   HttpsURLConnection connection = PinsetPinning.open(URI.create("https://devices.clinic.example/").toURL());
//   int status = connection.getResponseCode();
//
//   HttpClient client = PinsetPinning.httpClient(); // build it once, reuse it
//   HttpResponse<String> response = client.send(
//           HttpRequest.newBuilder(URI.create("https://devices.clinic.example/")).build(),
//           HttpResponse.BodyHandlers.ofString());

package pinset;

import java.io.IOException;
import java.io.InputStream;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the servers of site "clinic". The site's anchors, active first, the only certificates
 * trusted:
 * - active anchor: CN=pinset CA clinic, O=clinic (pin NVEJtsMuE7D7KdM4Tz/I/u0yXTzNbsCmmPaZ2/Q018M=)
 * - standby anchor: CN=pinset CA clinic (standby), O=clinic (pin jhY7qHfy2KriVgPxR5uu2A302tFo8lhDDQLNnwphXiw=)
 */
public final class PinsetPinning {
    /** The site, for messages. */
    public static final String SITE = "clinic";

    /** The classpath resource holding the site's anchors (PEM). */
    public static final String ANCHORS_RESOURCE = "/pinset-anchors.pem";

    /**
     * Last day (UTC) the pins are enforced; after it only the anchors are, so an app that is
     * never updated keeps working across a key rotation. Null: the pins do not expire.
     */
    public static final LocalDate PINS_EXPIRE_AFTER = null;

    /**
     * Each server of the site: the addresses clients dial (IP addresses, DNS names, {@code *.}
     * names covering one label) and its pins (SPKI SHA-256, base64); any one pin in the validated
     * chain passes.
     */
    private static final Server[] SERVERS = {
        // server devices
        new Server(
            new String[] {"devices.clinic.example", "*.wards.clinic.example"},
            new String[] {
                "1+iJu6RbPM0NRL6iaO41RNdY+J+aXEjWkSFMWGi/7io=", // active key of server devices
                "PpsHvCXg6F4txjC+je+ddas6CGcdiqdBg7RxKKVmUQ8=", // standby key of server devices
            }),
    };

    /** How many certificates a chain may hold between the server's and the anchor. */
    private static final int MAX_INTERMEDIATES = 8;

    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    private static SSLContext shared;
    private static SSLSocketFactory sharedSocketFactory;

    private PinsetPinning() {}

    /**
     * The site's SSLContext, made once from the anchors on the classpath. Its trust manager is a
     * {@link SiteTrustManager}.
     */
    public static synchronized SSLContext sslContext() throws IOException, GeneralSecurityException {
        if (shared == null) {
            InputStream anchors = PinsetPinning.class.getResourceAsStream(ANCHORS_RESOURCE);
            if (anchors == null) {
                throw new IOException(ANCHORS_RESOURCE + " is not on the classpath: put pinset-anchors.pem in "
                        + "src/main/resources/, or call sslContext(Path)");
            }
            try (InputStream in = anchors) {
                shared = sslContext(in);
            }
            sharedSocketFactory = shared.getSocketFactory();
        }
        return shared;
    }

    /** An SSLContext that trusts only the certificates of {@code anchorsPem} and checks the site's pins. */
    public static SSLContext sslContext(InputStream anchorsPem) throws IOException, GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trustManager(anchorsPem)}, null);
        return context;
    }

    /** As {@link #sslContext(InputStream)}, the anchors read from the file {@code anchorsPem}. */
    public static SSLContext sslContext(Path anchorsPem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(anchorsPem)) {
            return sslContext(in);
        }
    }

    /**
     * A connection to {@code url}, an https URL of one of the site's servers, on the site's
     * SSLContext and never through a proxy (the servers are on the local network). Keep its
     * default HostnameVerifier: with it the JDK checks the address during the handshake.
     */
    public static HttpsURLConnection open(URL url) throws IOException, GeneralSecurityException {
        return open(url, socketFactory());
    }

    /**
     * As {@link #open(URL)}, on {@code factory}: the socket factory of an SSLContext of this
     * class, such as {@code sslContext(path).getSocketFactory()}. Give every connection the same
     * factory, so HttpsURLConnection can keep connections alive.
     */
    public static HttpsURLConnection open(URL url, SSLSocketFactory factory) throws IOException {
        if (!"https".equalsIgnoreCase(url.getProtocol())) {
            throw new IOException(url + " is not an https URL");
        }
        HttpsURLConnection connection = (HttpsURLConnection) url.openConnection(Proxy.NO_PROXY);
        connection.setSSLSocketFactory(factory);
        return connection;
    }

    /** The socket factory of {@link #sslContext()}, made once. */
    private static synchronized SSLSocketFactory socketFactory() throws IOException, GeneralSecurityException {
        sslContext();
        return sharedSocketFactory;
    }

    /**
     * A java.net.http client for the site's servers, on the site's SSLContext and never through a
     * proxy, that sends nothing in cleartext: a request whose URI is not https fails (an
     * {@code IOException}) and redirects are not followed. Build it once and reuse it: it holds
     * the connection pool.
     */
    public static HttpClient httpClient() throws IOException, GeneralSecurityException {
        return httpClient(sslContext());
    }

    /** As {@link #httpClient()}, on {@code context}, an SSLContext of this class such as {@code sslContext(path)}. */
    public static HttpClient httpClient(SSLContext context) {
        return new TlsOnlyHttpClient(HttpClient.newBuilder()
                .sslContext(context)
                .proxy(HttpClient.Builder.NO_PROXY)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build());
    }

    /**
     * The client of {@link #httpClient()}: java.net.http would send an http:// URI in cleartext,
     * so every request is checked to be https before the wrapped client sends it.
     */
    private static final class TlsOnlyHttpClient extends HttpClient {
        private final HttpClient client;

        TlsOnlyHttpClient(HttpClient client) {
            this.client = client;
        }

        private static void requireHttps(HttpRequest request) throws IOException {
            if (!"https".equalsIgnoreCase(request.uri().getScheme())) {
                throw new IOException(request.uri() + " is not an https URL: the servers of site " + SITE
                        + " are reached over TLS only");
            }
        }

        @Override
        public Optional<CookieHandler> cookieHandler() {
            return client.cookieHandler();
        }

        @Override
        public Optional<Duration> connectTimeout() {
            return client.connectTimeout();
        }

        @Override
        public HttpClient.Redirect followRedirects() {
            return client.followRedirects();
        }

        @Override
        public Optional<ProxySelector> proxy() {
            return client.proxy();
        }

        @Override
        public SSLContext sslContext() {
            return client.sslContext();
        }

        @Override
        public SSLParameters sslParameters() {
            return client.sslParameters();
        }

        @Override
        public Optional<Authenticator> authenticator() {
            return client.authenticator();
        }

        @Override
        public HttpClient.Version version() {
            return client.version();
        }

        @Override
        public Optional<Executor> executor() {
            return client.executor();
        }

        @Override
        public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
                throws IOException, InterruptedException {
            requireHttps(request);
            return client.send(request, handler);
        }

        @Override
        public <T> CompletableFuture<HttpResponse<T>> sendAsync(
                HttpRequest request, HttpResponse.BodyHandler<T> handler) {
            try {
                requireHttps(request);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
            return client.sendAsync(request, handler);
        }

        @Override
        public <T> CompletableFuture<HttpResponse<T>> sendAsync(
                HttpRequest request,
                HttpResponse.BodyHandler<T> handler,
                HttpResponse.PushPromiseHandler<T> pushPromiseHandler) {
            try {
                requireHttps(request);
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
            return client.sendAsync(request, handler, pushPromiseHandler);
        }
    }

    /** The site's trust manager, with the certificates of {@code anchorsPem} as its only anchors. */
    public static SiteTrustManager trustManager(InputStream anchorsPem) throws IOException, GeneralSecurityException {
        List<X509Certificate> anchors = new ArrayList<>();
        for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(anchorsPem)) {
            anchors.add((X509Certificate) certificate);
        }
        if (anchors.isEmpty()) {
            throw new GeneralSecurityException("the anchors of site " + SITE + " hold no certificate");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        for (int i = 0; i < anchors.size(); i++) {
            store.setCertificateEntry("pinset-anchor-" + i, anchors.get(i));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509ExtendedTrustManager) {
                return new SiteTrustManager((X509ExtendedTrustManager) manager, anchors);
            }
        }
        throw new GeneralSecurityException("this JDK has no PKIX X509ExtendedTrustManager");
    }

    /** Whether the pins are enforced on {@code todayUtc}. */
    public static boolean pinsInForce(LocalDate todayUtc) {
        return PINS_EXPIRE_AFTER == null || !todayUtc.isAfter(PINS_EXPIRE_AFTER);
    }

    /**
     * The pin of a certificate's key: SHA-256 of its DER SubjectPublicKeyInfo
     * ({@code getPublicKey().getEncoded()}), base64.
     */
    public static String spkiSha256(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded());
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256, which every Java platform has, is missing", e);
        }
    }

    /**
     * Checks a server in three steps, each of which must pass: the JDK's PKIX trust manager over
     * the site's anchors alone validates the chain and, endpoint identification being on, that
     * the certificate names the address dialled; then the chain it was validated through, from
     * the server's certificate up to and including the anchor (sent or not), must hold one of the
     * pins of the server dialled, until the pins expire. A host that is not one of the site's
     * servers is refused: this trust manager is for the site only.
     */
    public static final class SiteTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager pkix;
        private final List<X509Certificate> anchors;

        SiteTrustManager(X509ExtendedTrustManager pkix, List<X509Certificate> anchors) {
            this.pkix = pkix;
            this.anchors = List.copyOf(anchors);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            if (!(socket instanceof SSLSocket) || ((SSLSocket) socket).getHandshakeSession() == null) {
                throw new CertificateException("no TLS handshake in progress on this socket");
            }
            SSLSocket tls = (SSLSocket) socket;
            String host = unbracketed(tls.getHandshakeSession().getPeerHost());
            Server server = serverFor(host);
            requireEndpointIdentification(tls.getSSLParameters(), host);
            pkix.checkServerTrusted(chain, authType, socket);
            checkPins(chain, host, server);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            if (engine == null) {
                throw new CertificateException("no TLS engine");
            }
            String host = unbracketed(engine.getPeerHost());
            Server server = serverFor(host);
            requireEndpointIdentification(engine.getSSLParameters(), host);
            pkix.checkServerTrusted(chain, authType, engine);
            checkPins(chain, host, server);
        }

        /** Refused: the pins depend on the server dialled, which this call does not say. */
        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the server dialled is unknown here: use PinsetPinning.sslContext() "
                    + "with HttpsURLConnection or java.net.http.HttpClient");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("this trust manager checks servers only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("this trust manager checks servers only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("this trust manager checks servers only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return anchors.toArray(new X509Certificate[0]);
        }

        /**
         * Without endpoint identification the JDK would not check the address at all, and any
         * certificate of the site could stand in for any server: refused rather than trusted.
         */
        private static void requireEndpointIdentification(SSLParameters parameters, String host)
                throws CertificateException {
            String algorithm = parameters.getEndpointIdentificationAlgorithm();
            if (algorithm == null || algorithm.isEmpty()) {
                throw new CertificateException("endpoint identification is off for " + host
                        + ", so nothing would check that the certificate names it: use PinsetPinning.open(url) "
                        + "or httpClient(), or call SSLParameters.setEndpointIdentificationAlgorithm(\"HTTPS\")");
            }
        }

        private void checkPins(X509Certificate[] presented, String host, Server server) throws CertificateException {
            if (!pinsInForce(LocalDate.now(ZoneOffset.UTC))) {
                return;
            }
            List<X509Certificate> chain = validatedChain(presented);
            for (X509Certificate certificate : chain) {
                if (server.pins.contains(spkiSha256(certificate))) {
                    return;
                }
            }
            StringBuilder message = new StringBuilder("Certificate pinning failure!\n  Peer certificate chain:\n");
            for (X509Certificate certificate : chain) {
                message.append("    sha256/").append(spkiSha256(certificate)).append(": ")
                        .append(certificate.getSubjectX500Principal()).append('\n');
            }
            message.append("  Pinned certificates for ").append(host).append(":\n");
            for (String pin : server.pins) {
                message.append("    sha256/").append(pin).append('\n');
            }
            throw new CertificateException(message.toString());
        }

        /**
         * The chain the server's certificate was validated through: from it, each issuer among
         * the certificates the server sent, up to an anchor, which is included even when the
         * server did not send it. PKIX has just found such a path; this finds it again, since the
         * JDK does not hand it back.
         */
        private List<X509Certificate> validatedChain(X509Certificate[] presented) throws CertificateException {
            List<X509Certificate> chain = new ArrayList<>();
            X509Certificate current = presented[0];
            chain.add(current);
            for (int depth = 0; depth <= MAX_INTERMEDIATES; depth++) {
                if (anchors.contains(current)) {
                    return chain;
                }
                X509Certificate anchor = issuerAmong(current, anchors);
                if (anchor != null) {
                    chain.add(anchor);
                    return chain;
                }
                X509Certificate next = issuerAmong(current, Arrays.asList(presented));
                if (next == null || chain.contains(next)) {
                    break;
                }
                chain.add(next);
                current = next;
            }
            throw new CertificateException("the certificate of the server does not lead to an anchor of site " + SITE);
        }

        /** The certificate among {@code candidates} that issued and signed {@code certificate}, or null. */
        private static X509Certificate issuerAmong(X509Certificate certificate, Collection<X509Certificate> candidates) {
            for (X509Certificate candidate : candidates) {
                if (!candidate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
                    continue;
                }
                try {
                    certificate.verify(candidate.getPublicKey());
                    return candidate;
                } catch (GeneralSecurityException e) {
                    // Same name, another key: not this one.
                }
            }
            return null;
        }
    }

    /** {@code host} without the brackets around an IPv6 address (HttpsURLConnection keeps them); null stays null. */
    private static String unbracketed(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The server {@code host} (as the TLS session names it) is, or an exception saying it is none. */
    private static Server serverFor(String host) throws CertificateException {
        if (host == null) {
            throw new CertificateException("the server dialled is unknown: open connections by host name or address");
        }
        for (Server server : SERVERS) {
            for (String pattern : server.hosts) {
                if (names(pattern, host)) {
                    return server;
                }
            }
        }
        throw new CertificateException(host + " is not a server of site " + SITE
                + ": this client connects only to the site's servers");
    }

    /**
     * Whether {@code pattern} (an IP address, a DNS name, or {@code *.} and a name: exactly one
     * more label) names {@code host} (an IP address, IPv6 with or without brackets, or a DNS name).
     */
    private static boolean names(String pattern, String host) {
        InetAddress address = ipLiteral(host);
        if (address != null) {
            InetAddress expected = ipLiteral(pattern);
            return expected != null && Arrays.equals(expected.getAddress(), address.getAddress());
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (pattern.startsWith("*.")) {
            String suffix = pattern.substring(1);
            int label = name.length() - suffix.length();
            return label > 0
                    && name.regionMatches(true, label, suffix, 0, suffix.length())
                    && name.indexOf('.') == label;
        }
        return name.equalsIgnoreCase(pattern);
    }

    /**
     * GET of one URL, printing the status:
     * {@code java -cp … pinset.PinsetPinning https://HOST:PORT/ [ANCHORS.pem]}, with the anchors
     * of the classpath, or of the file given. Exits 1 with the reason when the server is refused.
     */
    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: pinset.PinsetPinning https://HOST[:PORT]/PATH [ANCHORS.pem]");
            System.exit(2);
        }
        URL url;
        try {
            url = URI.create(args[0]).toURL();
        } catch (IllegalArgumentException | IOException e) {
            System.err.println(args[0] + ": " + e);
            System.exit(2);
            return;
        }
        try {
            HttpsURLConnection connection = args.length == 2
                    ? open(url, sslContext(Path.of(args[1])).getSocketFactory())
                    : open(url);
            int status = connection.getResponseCode();
            connection.disconnect();
            System.out.println("HTTP " + status + " from " + url);
        } catch (IOException | GeneralSecurityException e) {
            System.err.println(url + ": " + e);
            System.exit(1);
        }
    }

    /** A server of the site, as {@link #SERVERS} lists it. */
    private static final class Server {
        final List<String> hosts;
        final List<String> pins;

        Server(String[] hosts, String[] pins) {
            this.hosts = List.of(hosts);
            this.pins = List.of(pins);
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
