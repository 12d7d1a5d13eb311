//! Export for `go`: package `pinsetpin`, whose `tls.Config` trusts only the site's anchors
//! (embedded with `//go:embed`) and checks pins in `VerifyConnection`, which Go runs after it
//! validated the chain and the name, on every handshake, resumed ones included. The pins
//! are compared with every certificate of `ConnectionState.VerifiedChains`, hashing
//! `RawSubjectPublicKeyInfo`.
//!
//! The server is looked up by the host the client dials, bound into the configuration:
//! `ConnectionState.ServerName` cannot serve, since on a client it is the SNI sent, empty for
//! an IP address. So `Client()` dials TLS itself, one configuration per host.
//!
//! A `go.mod` (no dependencies) and `cmd/pinset-get` make the folder a module that builds and
//! runs as it is: `go run ./cmd/pinset-get URL`.

use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The package's file name.
const FILE: &str = "pinsetpin.go";

/// The anchors' file name; the package embeds it.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

/// The module path of the exported folder (example.com is reserved for examples: the
/// developer renames it, or copies the package into a module of their own).
const MODULE: &str = "example.com/pinsetpin";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Go);
    export.files.push(ExportFile::text(
        FILE,
        package(model),
        "Go package `pinsetpin` (Go 1.19 or later, standard library only): `Client()` and `TLSConfig(host)` trust \
         only the site's anchors and check each server's pins in `VerifyConnection`; copy it with \
         `pinset-anchors.pem` into a folder of your module",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "go"),
        "the site's anchors (PEM, active first), embedded in the package by `//go:embed`: keep it beside \
         `pinsetpin.go`",
    ));
    export.files.push(ExportFile::text(
        "go.mod",
        format!("module {MODULE}\n\ngo 1.19\n"),
        "makes the folder a module of its own (no dependencies), so `cmd/pinset-get` builds as it is; not needed \
         once the package is in your module",
    ));
    export.files.push(ExportFile::text(
        "cmd/pinset-get/main.go",
        command(model),
        "a small command that fetches a URL with `pinsetpin.Client()`: `go run ./cmd/pinset-get https://HOST/`, to \
         try the package against a server",
    ));
    let host = model.example_host();
    export.usage = format!(
        "Copy `{FILE}` and `{ANCHORS_FILE}` into a folder of your module (say `internal/pinsetpin/`) and make every \
         request to the site with the client of `pinsetpin.Client()`; for a connection of your own, \
         `tls.Dial(\"tcp\", addr, config)` with the `config` of `pinsetpin.TLSConfig(host)`. A refused server is an error that \
         `errors.As(err, new(*pinsetpin.PinError))` finds, whose message lists the chain as \
         `sha256/<pin>: <subject>` lines and the pins expected. To try it in the exported folder (Go 1.19 or later, \
         no network needed): `go run ./cmd/pinset-get https://{host}/` prints the body, or the reason for refusing \
         and exits 1.\n"
    );
    export
}

fn package(model: &SiteTrust) -> String {
    let host = model.example_host();
    let mut out = text::comment("// ", &text::provenance(model, "go"));
    out.push_str(GENERATED);
    out.push_str(&PACKAGE_DOC.replace("{site}", &text::quote(&model.site)).replace("{host}", &host));
    out.push_str(IMPORTS);
    out.push_str(&format!("\n// Site is the site's name, for messages.\nconst Site = {}\n", text::quote(&model.site)));
    out.push_str(&format!(
        "\n// anchorsPEM holds the site's anchors, active first: the only certificates trusted.\n\
         //\n\
         //go:embed {ANCHORS_FILE}\n\
         var anchorsPEM []byte\n"
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => text::quote(&day.to_string()),
        None => "\"\"".to_string(),
    };
    out.push_str(&format!(
        "\n// pinsExpireAfter is the last day (UTC, YYYY-MM-DD) the pins are enforced; after it only the\n\
         // anchors are, so an app that is never updated keeps working across a key rotation. Empty:\n\
         // the pins do not expire.\n\
         const pinsExpireAfter = {expiry}\n"
    ));
    out.push_str(
        "\n// servers lists each server of the site: the addresses clients dial (IP addresses, DNS names,\n\
         // \"*.\" names covering one label) and its pins (SPKI SHA-256, base64); any one pin matching\n\
         // passes.\n\
         var servers = []server{\n",
    );
    for s in &model.servers {
        out.push_str(&format!("\t{{\n\t\tname:  {},\n\t\thosts: []string{{", text::quote(&s.name)));
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&hosts.join(", "));
        out.push_str("},\n\t\tpins: []string{\n");
        out.push_str(&text::pin_list(&s.pins, "\t\t\t", " ", "//"));
        out.push_str("\t\t},\n\t},\n");
    }
    out.push_str("}\n");
    out.push_str(CODE);
    out
}

fn command(model: &SiteTrust) -> String {
    let mut out = text::comment("// ", &text::provenance(model, "go"));
    out.push_str(GENERATED);
    out.push_str(&COMMAND.replace("{module}", MODULE));
    out
}

/// The line by which Go's tools (gofmt -l aside: golint, staticcheck, gopls, GitHub) know a
/// generated file.
const GENERATED: &str = "//\n// Code generated by pinset export go. DO NOT EDIT.\n";

const PACKAGE_DOC: &str = r#"
// Package pinsetpin makes HTTPS connections to the servers of site {site}: it trusts only
// the site's anchors (pinset-anchors.pem, embedded; never the system's roots), keeps Go's
// check of the address (an IP address must be an iPAddress SAN of the certificate, a DNS name
// a dNSName), and requires a pinned key in the validated chain, the anchor included, with the
// pins of the server dialled, before a request is sent. A host that is not one of the site's
// servers is refused: this package is for the site only.
//
//	client, err := pinsetpin.Client() // make it once, reuse it
//	if err != nil {
//		return err
//	}
//	resp, err := client.Get("https://{host}/")
//
// Go 1.19 or later, standard library only.
package pinsetpin
"#;

const IMPORTS: &str = r#"
import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	_ "embed" // for the anchors
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)
"#;

const CODE: &str = r#"
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
"#;

const COMMAND: &str = r#"
// Command pinset-get fetches a URL from a server of the site with pinsetpin.Client and
// writes the body to stdout; on a refusal it prints the reason and exits 1.
//
//	go run ./cmd/pinset-get https://HOST[:PORT]/PATH
package main

import (
	"fmt"
	"io"
	"os"

	"{module}"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pinset-get https://HOST[:PORT]/PATH")
		os.Exit(2)
	}
	url := os.Args[1]
	client, err := pinsetpin.Client()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinset-get: %v\n", err)
		os.Exit(1)
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinset-get: refused %s: %v\n", url, err)
		os.Exit(1)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pinset-get: %s: %v\n", url, err)
		os.Exit(1)
	}
	if resp.StatusCode >= 400 {
		fmt.Fprintf(os.Stderr, "pinset-get: %s: HTTP %s\n", url, resp.Status)
		os.Exit(1)
	}
}
"#;
