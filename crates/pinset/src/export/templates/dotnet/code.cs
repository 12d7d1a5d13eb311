
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
