#!/usr/bin/env node
{{provenance}}
//
// TLS in front of a plain-HTTP upstream, with Node.js's https module and nothing else
// (Node.js 18 or later): the full chain (the leaf, then its CA), TLS 1.2 and 1.3 only, and
// for mutual TLS the site's CA and revocation list; the verified client's identity goes
// upstream in the headers pinset serve uses. Run: node pinset-server.js
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");

const CHAIN = "{{chain}}";
const KEY = "{{key}}";
const UPSTREAM = new URL("http://{{upstream}}");
const LISTEN = [
{{#listen}}
  { host: "{{ip}}", port: {{port}} },
{{/listen}}
];
{{#mtls}}
const CLIENT_CA = "{{client_ca}}";
const CRL = "{{crl}}";
{{#require}}
/** Clients must present a certificate of the site. */
const REQUIRE_CLIENT_CERT = true;
{{/require}}
{{^require}}
/** A certificate is checked when presented; clients without one are served too. */
const REQUIRE_CLIENT_CERT = false;
{{/require}}
{{/mtls}}

/** Header names of the verified client's identity, as pinset serve sends them. */
const IDENTITY_PREFIX = "x-client-cert-";

/** Hop-by-hop headers (RFC 9110, 7.6.1), never forwarded. */
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
]);

/** The identity of a verified client certificate, as pinset serve writes it. */
function identity(cert) {
  const subject = Object.entries(cert.subject || {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`));
  subject.sort((a, b) => (a.startsWith("CN=") ? -1 : 0) - (b.startsWith("CN=") ? -1 : 0));
  const spki = new crypto.X509Certificate(cert.raw).publicKey.export({ type: "spki", format: "der" });
  const sans = (cert.subjectaltname || "")
    .split(", ")
    .filter((s) => s)
    .map((s) => s.replace(/^IP Address:/, "IP:"));
  return {
    "x-client-cert-subject": subject.join(", "),
    "x-client-cert-san": sans.join(", "),
    "x-client-cert-serial": (cert.serialNumber || "").toLowerCase(),
    "x-client-cert-pin": "sha256/" + crypto.createHash("sha256").update(spki).digest("base64"),
  };
}

const options = {
  cert: fs.readFileSync(CHAIN),
  key: fs.readFileSync(KEY),
  // TLS 1.2 and 1.3 only: what Apple (App Transport Security) and current clients require.
  minVersion: "TLSv1.2",
{{#mtls}}
  ca: fs.readFileSync(CLIENT_CA),
  crl: fs.readFileSync(CRL),
  requestCert: true,
  rejectUnauthorized: REQUIRE_CLIENT_CERT,
{{/mtls}}
};

/** Forwards one request to the upstream, with the client's identity. */
function forward(req, res) {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && !name.startsWith(IDENTITY_PREFIX)) {
      headers[name] = value;
    }
  }
{{#mtls}}
  if (req.socket.authorized) {
    Object.assign(headers, identity(req.socket.getPeerCertificate()));
  }
{{/mtls}}
  headers["x-forwarded-proto"] = "https";
  headers["x-forwarded-for"] = req.socket.remoteAddress;
  const upstream = http.request(
    {
      host: UPSTREAM.hostname.replace(/^\[|\]$/g, ""),
      port: UPSTREAM.port || 80,
      method: req.method,
      path: req.url,
      headers,
    },
    (answer) => {
      const back = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name)) {
          back[name] = value;
        }
      }
      res.writeHead(answer.statusCode, back);
      answer.pipe(res);
    }
  );
  upstream.on("error", (error) => {
    res.writeHead(502, { "content-type": "text/plain" });
    res.end(`upstream ${UPSTREAM.host}: ${error.message}\n`);
  });
  req.pipe(upstream);
}

for (const { host, port } of LISTEN) {
  const server = https.createServer(options, forward);
{{#mtls}}
  // A certificate that was presented and did not verify ends the connection, as pinset
  // serve refuses it at the handshake; a client without one goes on only when optional.
  server.on("secureConnection", (socket) => {
    const cert = socket.getPeerCertificate();
    const presented = cert && Object.keys(cert).length > 0;
    if (!socket.authorized && (presented || REQUIRE_CLIENT_CERT)) {
      socket.destroy();
    }
  });
{{/mtls}}
  const shown = host.includes(":") ? `[${host}]` : host;
  // An IPv6 address listens on IPv6 alone, so [::] and 0.0.0.0 can share a port.
  server.listen({ port, host, ipv6Only: host.includes(":") }, () =>
    console.error(`serving https://${shown}:${port}/ (Ctrl-C stops)`)
  );
}
