
// server is a server of the site, as servers lists it.
type server struct {
	name  string
	hosts []string
	pins  []string
}

// PinError is the error of a server whose validated chains hold none of its pins.
type PinError struct {
	// Host is the host dialled.
	Host string
	// Server is the name of the site's server it is.
	Server string
	// Chain is every certificate of the validated chains, leaf first, each once.
	Chain []*x509.Certificate
	// Pins are the pins expected.
	Pins []string
}

// Error follows OkHttp's report: the chain as "sha256/<pin>: <subject>" lines, then the pins.
func (e *PinError) Error() string {
	var b strings.Builder
	b.WriteString("Certificate pinning failure!\n  Peer certificate chain:\n")
	for _, cert := range e.Chain {
		fmt.Fprintf(&b, "    sha256/%s: %s\n", SPKISHA256(cert), cert.Subject)
	}
	fmt.Fprintf(&b, "  Pinned certificates for %s:", e.Host)
	for _, pin := range e.Pins {
		fmt.Fprintf(&b, "\n    sha256/%s", pin)
	}
	return b.String()
}

// Client returns an http.Client for the site's servers. Make it once and reuse it: it holds
// the connection pool. It speaks https:// only and connects directly, never through a proxy
// (the servers are on the local network).
func Client() (*http.Client, error) {
	pool, err := anchors()
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil,
		// Every TLS connection gets the configuration of the host it dials.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			config, err := tlsConfig(pool, host)
			if err != nil {
				return nil, err
			}
			tlsDialer := &tls.Dialer{NetDialer: dialer, Config: config}
			return tlsDialer.DialContext(ctx, network, addr)
		},
		// Plain http:// would carry requests unprotected: refused, a redirect to it included.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, fmt.Errorf("%s: only https:// reaches the servers of site %q", addr, Site)
		},
		MaxIdleConns:    16,
		IdleConnTimeout: 90 * time.Second,
	}
	return &http.Client{Transport: transport}, nil
}

// TLSConfig returns the configuration of a connection to host, an IP address (IPv6 with or
// without brackets) or a DNS name, for tls.Dial and other clients: the site's anchors as the
// only roots, host as the name to check, and the pin check in VerifyConnection.
func TLSConfig(host string) (*tls.Config, error) {
	pool, err := anchors()
	if err != nil {
		return nil, err
	}
	return tlsConfig(pool, host)
}

func tlsConfig(pool *x509.CertPool, host string) (*tls.Config, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	s := serverFor(host)
	if s == nil {
		return nil, fmt.Errorf("%s is not a server of site %q: this client connects only to the site's servers", host, Site)
	}
	return &tls.Config{
		RootCAs: pool,
		// For an IP address Go sends no SNI and checks the certificate's iPAddress SANs.
		ServerName: host,
		MinVersion: tls.VersionTLS12,
		// Go calls it after validating the chain and the name, on every handshake (unlike
		// VerifyPeerCertificate, also on a resumed session).
		VerifyConnection: func(cs tls.ConnectionState) error {
			return s.check(host, cs.VerifiedChains, time.Now())
		},
	}, nil
}

// check accepts chains, validated for host, when one of their certificates has a pinned key.
func (s *server) check(host string, chains [][]*x509.Certificate, now time.Time) error {
	if !pinsInForce(now) {
		return nil
	}
	var seen []*x509.Certificate
	for _, chain := range chains {
		for _, cert := range chain {
			pin := SPKISHA256(cert)
			for _, want := range s.pins {
				if pin == want {
					return nil
				}
			}
			if !contains(seen, cert) {
				seen = append(seen, cert)
			}
		}
	}
	return &PinError{Host: host, Server: s.name, Chain: seen, Pins: s.pins}
}

// SPKISHA256 is the pin of a certificate's key: SHA-256 of its DER SubjectPublicKeyInfo,
// base64.
func SPKISHA256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func pinsInForce(now time.Time) bool {
	return pinsExpireAfter == "" || now.UTC().Format("2006-01-02") <= pinsExpireAfter
}

func anchors() (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(anchorsPEM) {
		return nil, errors.New("pinset-anchors.pem holds no certificate: export it again with pinset")
	}
	return pool, nil
}

// serverFor returns the entry of servers that host names, or nil.
func serverFor(host string) *server {
	for i := range servers {
		for _, pattern := range servers[i].hosts {
			if names(pattern, host) {
				return &servers[i]
			}
		}
	}
	return nil
}

// names reports whether pattern (an IP address, a DNS name, or "*." and a name: exactly one
// more label) names host.
func names(pattern, host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		want := net.ParseIP(pattern)
		return want != nil && want.Equal(ip)
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if suffix := strings.TrimPrefix(pattern, "*"); suffix != pattern {
		label := strings.TrimSuffix(name, suffix)
		return label != name && label != "" && !strings.Contains(label, ".")
	}
	return name == pattern
}

func contains(certs []*x509.Certificate, cert *x509.Certificate) bool {
	for _, c := range certs {
		if c.Equal(cert) {
			return true
		}
	}
	return false
}
