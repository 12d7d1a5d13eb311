// Written by `pinset export cordova-plugin` for site "hub". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// HTTPS requests to the servers of the site for the plugins' Android side, on OkHttp 3.13 or
// later: the client of PinsetPinning (the okhttp export's code: the site's anchors only, the
// address checked against the certificate, the pins with CertificatePinner, TLS only, no
// redirect to http://). JDK and OkHttp only, no Android class: the plugin class tells it
// whether the app is debuggable.

package pinset;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/** Requests to the servers of site "hub" with its anchors and pins. */
public final class PinsetHttp {
    /** The site's anchors (PEM), active first: the only certificates the client trusts. */
    static final String ANCHORS_PEM =
            "-----BEGIN CERTIFICATE-----\n" +
            "MIIBpTCCAUugAwIBAgIQfcSW6yjodBRbn7TtJv26gzAKBggqhkjOPQQDAjAhMQww\n" +
            "CgYDVQQKDANodWIxETAPBgNVBAMMCDEwLjAuMC41MB4XDTI2MTEyMzEwNDMyNVoX\n" +
            "DTI3MTIyNTEwNDMyNVowITEMMAoGA1UECgwDaHViMREwDwYDVQQDDAgxMC4wLjAu\n" +
            "NTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB8YCYJISO2EmPfNEY5HRMJ8kVrF\n" +
            "hzxhTNbVpoWJsfmMDUq5xKRtDfz0CgkpQpDIXRldm8Q9vnQvtT//jAoaVcijZTBj\n" +
            "MA8GA1UdEQQIMAaHBAoAAAUwDgYDVR0PAQH/BAQDAgKEMBMGA1UdJQQMMAoGCCsG\n" +
            "AQUFBwMBMB0GA1UdDgQWBBR/yZKa6R4DmVWyv8VZlYm9H2TTbTAMBgNVHRMBAf8E\n" +
            "AjAAMAoGCCqGSM49BAMCA0gAMEUCIQCwzzEODC/Iuyb89OTqFB2hOvZh6OvCRdKV\n" +
            "LuGMHxp2zAIgGZvnoFGuwzL2iJx4IQg/g9dp0B9dfpj2z4br67X0Iqk=\n" +
            "-----END CERTIFICATE-----\n" +
            "-----BEGIN CERTIFICATE-----\n" +
            "MIIBpTCCAUugAwIBAgIQW53tnNujDGye+daQvUfohTAKBggqhkjOPQQDAjAhMQww\n" +
            "CgYDVQQKDANodWIxETAPBgNVBAMMCDEwLjAuMC41MB4XDTI2MTEyMzEwNDMyNVoX\n" +
            "DTI3MTIyNTEwNDMyNVowITEMMAoGA1UECgwDaHViMREwDwYDVQQDDAgxMC4wLjAu\n" +
            "NTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGw0qF46f5PkNaNaU8PkvPCNwu7k\n" +
            "9Fu7Zoh7gxJZUQU6O0La4Qa2OXiVOwoTBXuMp1CTsd4eqfH5rf9BVgM8dQyjZTBj\n" +
            "MA8GA1UdEQQIMAaHBAoAAAUwDgYDVR0PAQH/BAQDAgKEMBMGA1UdJQQMMAoGCCsG\n" +
            "AQUFBwMBMB0GA1UdDgQWBBRh4NalfsGudeBfaNtYjK0j3RnYUzAMBgNVHRMBAf8E\n" +
            "AjAAMAoGCCqGSM49BAMCA0gAMEUCID9/0sAMLbxfnkBVxwktOaIZUs6qBbDg3bNW\n" +
            "q+/thngqAiEAwPrbn1f7mlKdcBAlbbv9hiiRttR6T1OkrL62ly6wF7Q=\n" +
            "-----END CERTIFICATE-----\n";

    /** No proxy CA for debuggable apps: every build trusts the site's anchors alone. */
    static final String DEBUG_CA_PEM = null;

    /** What a request got. */
    public static final class Result {
        /** The HTTP status. */
        public final int status;
        /** The response headers, names lower case, repeated fields joined by ", ". */
        public final Map<String, String> headers;
        /** The body as UTF-8 text. */
        public final String body;
        /** The URL answered, after the redirects followed. */
        public final String url;

        Result(int status, Map<String, String> headers, String body, String url) {
            this.status = status;
            this.headers = headers;
            this.body = body;
            this.url = url;
        }
    }

    private final OkHttpClient client;
    private final OkHttpClient debugClient;

    /**
     * The clients: the site's (release builds never go through a proxy the system names), and
     * when {@code debuggable} and a proxy CA was exported, the debug one, through the system's
     * proxy, as the team's interception proxy needs.
     */
    public PinsetHttp(boolean debuggable) throws IOException, GeneralSecurityException {
        OkHttpClient.Builder site = PinsetPinning.builder(stream(ANCHORS_PEM));
        if (debuggable && DEBUG_CA_PEM != null) {
            site.proxy(null);
            X509TrustManager proxyCa = PinsetPinning.trustManager(stream(DEBUG_CA_PEM));
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {proxyCa}, null);
            debugClient = new OkHttpClient.Builder()
                    .sslSocketFactory(tls.getSocketFactory(), proxyCa)
                    .hostnameVerifier(PinsetPinning.SiteHostnameVerifier.INSTANCE)
                    .followSslRedirects(false)
                    .build();
        } else {
            debugClient = null;
        }
        client = site.build();
    }

    /**
     * Sends one request: {@code method} (GET when null), {@code headers}, {@code body} as UTF-8
     * text (null: none), {@code timeoutSeconds}. An http:// URL is refused before any connection.
     * Throws what OkHttp throws when a server is refused (a pin failure: "Certificate pinning
     * failure!" and the chain).
     */
    public Result fetch(String url, String method, Map<String, String> headers, String body, double timeoutSeconds)
            throws IOException {
        HttpUrl parsed = HttpUrl.parse(url == null ? "" : url);
        if (parsed == null || !parsed.isHttps()) {
            throw new IOException("pinset: " + url + " is not an https:// URL; the site is reached over TLS only");
        }
        String verb = method == null ? "GET" : method.toUpperCase(java.util.Locale.ROOT);
        RequestBody content = null;
        if (body != null || verb.equals("POST") || verb.equals("PUT") || verb.equals("PATCH")) {
            String type = headers == null ? null : headers.get("Content-Type");
            content = RequestBody.create(
                    type == null ? null : MediaType.parse(type),
                    (body == null ? "" : body).getBytes(StandardCharsets.UTF_8));
        }
        Request.Builder request = new Request.Builder().url(parsed).method(verb, content);
        if (headers != null) {
            for (Map.Entry<String, String> h : headers.entrySet()) {
                request.header(h.getKey(), h.getValue());
            }
        }
        long millis = (long) (timeoutSeconds * 1000);
        try {
            return send(client, request.build(), millis);
        } catch (SSLHandshakeException untrusted) {
            // The chain leads to none of the site's anchors: in a debuggable app with a proxy
            // CA, perhaps the proxy's. The handshake failed, so nothing of the request was sent.
            if (debugClient == null) {
                throw untrusted;
            }
            return send(debugClient, request.build(), millis);
        }
    }

    private static Result send(OkHttpClient base, Request request, long millis) throws IOException {
        OkHttpClient client = base.newBuilder()
                .callTimeout(millis, TimeUnit.MILLISECONDS)
                .build();
        try (Response response = client.newCall(request).execute()) {
            Map<String, String> fields = new LinkedHashMap<>();
            Headers headers = response.headers();
            for (String name : headers.names()) {
                List<String> values = headers.values(name);
                fields.put(name.toLowerCase(java.util.Locale.ROOT), String.join(", ", values));
            }
            ResponseBody body = response.body();
            String text = body == null ? "" : new String(body.bytes(), StandardCharsets.UTF_8);
            return new Result(response.code(), Collections.unmodifiableMap(fields), text, response.request().url().toString());
        }
    }

    private static InputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }
}
