//! Export for `node`: a CommonJS module whose `https.Agent` trusts only the site's anchors
//! and checks pins in `checkServerIdentity`, after Node's own name check, over the chain
//! from the server's certificate up through `issuerCertificate`, each link's signature
//! checked (Node links issuers by name, not by signature). The agent keeps no TLS sessions:
//! Node skips `checkServerIdentity` on a resumed one. Pins hash the DER SPKI of
//! `crypto.X509Certificate`, never `cert.pubkey`, which holds a bare EC point for EC keys
//! (docs/platforms.md). `node pinset-pinning.js URL` fetches a URL with it.

use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// The module's file name.
const FILE: &str = "pinset-pinning.js";

/// The anchors' file name; the module reads it from its own folder.
const ANCHORS_FILE: &str = "pinset-anchors.pem";

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Node);
    export.files.push(ExportFile::text(
        FILE,
        module(model),
        "CommonJS module (Node.js 16 or later): `agent()`, an https.Agent that trusts only the site's anchors and \
         checks each server's pins in `checkServerIdentity`; `node pinset-pinning.js https://HOST/` fetches a URL; \
         goes in the app's source",
    ));
    export.files.push(ExportFile::text(
        ANCHORS_FILE,
        text::anchors_pem_file(model, "node"),
        "the site's anchors (PEM, active first), read by `pinset-pinning.js` as its `ca`: keep it beside it",
    ));
    let host = model.example_host();
    export.usage = format!(
        "Copy both files into the app's source and make every request to the site with the agent of \
         `require('./pinset-pinning').agent()`: `https.get('https://{host}/', {{ agent }}, …)`, or with axios \
         `axios.create({{ httpsAgent: agent, proxy: false }})`. For `tls.connect`, spread `tlsOptions()` into its \
         options and pass no `session`. A refused server is an `Error` with code `ERR_PINSET_PIN_MISMATCH` whose \
         message lists the chain as `sha256/<pin>: <subject>` lines and the pins expected (`ERR_PINSET_NOT_SITE` \
         for a host that is not the site's, Node's own codes for a chain that does not lead to an anchor). Node's global `fetch` \
         (undici) takes no https.Agent: use `https`, axios or got. To try it: `node pinset-pinning.js https://{host}/` \
         prints the body, or the reason for refusing and exits 1.\n"
    );
    export
}

fn module(model: &SiteTrust) -> String {
    let host = model.example_host();
    let mut out = text::comment("// ", &text::provenance(model, "node"));
    out.push_str(&MODULE_DOC.replace("{site}", &text::quote(&model.site)).replace("{host}", &host));
    out.push_str(REQUIRES);
    out.push_str(&format!("\n/** The site, for messages. */\nconst SITE = {};\n", text::quote(&model.site)));
    out.push_str(&format!(
        "\n/** The site's anchors (PEM), active first, beside this file: the only certificates trusted. */\n\
         const ANCHORS = fs.readFileSync(path.join(__dirname, {}));\n",
        text::quote(ANCHORS_FILE)
    ));
    let expiry = match &model.pins_expire_after {
        Some(day) => text::quote(&day.to_string()),
        None => "null".to_string(),
    };
    out.push_str(&format!(
        "\n/**\n\
         \x20* Last day (UTC, YYYY-MM-DD) the pins are enforced; after it only the anchors are, so an app\n\
         \x20* that is never updated keeps working across a key rotation. null: the pins do not expire.\n\
         \x20*/\n\
         const PINS_EXPIRE_AFTER = {expiry};\n"
    ));
    out.push_str(
        "\n/**\n\
         \x20* Each server of the site: the addresses clients dial (IP addresses, DNS names, `*.` names\n\
         \x20* covering one label) and its pins (SPKI SHA-256, base64); any one pin matching passes.\n\
         \x20*/\n\
         const SERVERS = [\n",
    );
    for s in &model.servers {
        out.push_str(&format!("  {{\n    name: {},\n    hosts: [", text::quote(&s.name)));
        let hosts: Vec<String> = s.hosts.iter().map(|h| text::quote(&h.to_string())).collect();
        out.push_str(&hosts.join(", "));
        out.push_str("],\n    pins: [\n");
        out.push_str(&text::pin_list(&s.pins, "      ", " ", "//"));
        out.push_str("    ],\n  },\n");
    }
    out.push_str("];\n");
    out.push_str(CODE);
    out
}

const MODULE_DOC: &str = r#"//
// HTTPS to the servers of site {site} from Node.js 16 or later: trusts only the site's
// anchors (pinset-anchors.pem, beside this file; never Node's bundled roots), keeps Node's
// check of the address (an IP address must be an iPAddress SAN of the certificate, a DNS
// name a dNSName), and requires a pinned key in the chain, the anchor included, with the
// pins of the server dialled, before a request is sent. A host that is not one of the
// site's servers is refused: this agent is for the site only.
//
//   const https = require('https');
//   const pinset = require('./pinset-pinning');
//   const agent = pinset.agent(); // make it once, reuse it
//   https.get('https://{host}/', { agent }, (res) => { ... });
//
// Run as a program it fetches a URL and prints the body:
//   node pinset-pinning.js https://{host}/
'use strict';
"#;

const REQUIRES: &str = r#"
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const net = require('net');
const path = require('path');
const tls = require('tls');
"#;

const CODE: &str = r#"
/** Bound on the chain walked from the server's certificate (a loop guard). */
const MAX_CHAIN = 16;

/**
 * TLS options that trust the site's anchors only and check the pins, for `tls.connect` (never
 * with a `session`: Node does not call checkServerIdentity on a resumed session).
 */
function tlsOptions() {
  return {
    ca: ANCHORS,
    rejectUnauthorized: true,
    checkServerIdentity,
    minVersion: 'TLSv1.2',
  };
}

/**
 * An https.Agent for the site's servers. It keeps no TLS sessions (a resumed session skips
 * checkServerIdentity), and every connection it makes takes tlsOptions() whatever a request
 * asks (a request's own `ca` or `rejectUnauthorized: false` cannot undo them).
 */
class PinsetAgent extends https.Agent {
  constructor(options) {
    super({ ...options, ...tlsOptions(), maxCachedSessions: 0 });
  }

  createConnection(options, callback) {
    // The name tls.connect checks: the servername, else the host (an IP address has no servername).
    const host = options.servername || options.host || '';
    if (!serverFor(host)) {
      const err = refusal(
        `${host} is not a server of site ${SITE}: this client connects only to the site's servers`,
        'ERR_PINSET_NOT_SITE',
      );
      if (callback) {
        process.nextTick(callback, err);
        return undefined;
      }
      throw err;
    }
    const checked = { ...options, ...tlsOptions() };
    delete checked.session;
    return super.createConnection(checked, callback);
  }
}

/** A new PinsetAgent. Make it once and reuse it: it holds the connection pool. */
function agent(options) {
  return new PinsetAgent(options);
}

/**
 * Node's name check, then the pins: returns an Error to refuse the server dialled as `host`
 * (an IP address or a DNS name), undefined to accept it. Node calls it only for a chain it
 * validated against the anchors.
 */
function checkServerIdentity(host, cert) {
  const nameError = tls.checkServerIdentity(host, cert);
  if (nameError) {
    return nameError;
  }
  try {
    const server = serverFor(host);
    if (!server) {
      return refusal(
        `${host} is not a server of site ${SITE}: this client connects only to the site's servers`,
        'ERR_PINSET_NOT_SITE',
      );
    }
    if (!pinsInForce(new Date())) {
      return undefined;
    }
    const seen = chainOf(cert);
    if (seen.some((link) => server.pins.includes(link.pin))) {
      return undefined;
    }
    const lines = ['Certificate pinning failure!', '  Peer certificate chain:'];
    for (const link of seen) {
      lines.push(`    sha256/${link.pin}: ${link.subject}`);
    }
    lines.push(`  Pinned certificates for ${host}:`);
    for (const pin of server.pins) {
      lines.push(`    sha256/${pin}`);
    }
    return refusal(lines.join('\n'));
  } catch (err) {
    return refusal(`cannot check the pins of ${host}: ${err.message}`);
  }
}

/** The pin of a certificate's key: SHA-256 of its DER SubjectPublicKeyInfo, base64. */
function spkiSha256(x509) {
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

/**
 * The chain from the server's certificate up, leaf first, as { pin, subject } (subject most
 * specific name first). Node links `issuerCertificate` by name from the certificates the server
 * sent and the anchors, so a link counts only when its certificate really signed the one before
 * it; the chain stops at the first that did not, and at a self-signed certificate.
 */
function chainOf(cert) {
  const seen = [];
  let current = cert;
  let x509 = new crypto.X509Certificate(cert.raw);
  for (;;) {
    seen.push({ pin: spkiSha256(x509), subject: x509.subject.split('\n').reverse().join(', ') });
    const next = current.issuerCertificate;
    if (!next || next === current || !next.raw || next.raw.equals(current.raw) || seen.length >= MAX_CHAIN) {
      return seen;
    }
    const issuer = new crypto.X509Certificate(next.raw);
    if (!x509.checkIssued(issuer) || !x509.verify(issuer.publicKey)) {
      return seen;
    }
    current = next;
    x509 = issuer;
  }
}

/** Whether the pins are enforced at `now` (a Date). */
function pinsInForce(now) {
  return PINS_EXPIRE_AFTER === null || now.toISOString().slice(0, 10) <= PINS_EXPIRE_AFTER;
}

/** The entry of SERVERS that `host` names, or undefined. */
function serverFor(host) {
  return SERVERS.find((server) => server.hosts.some((pattern) => names(pattern, host)));
}

/**
 * Whether `pattern` (an IP address, a DNS name, or `*.` and a name: exactly one more label)
 * names `host`.
 */
function names(pattern, host) {
  let bare = host;
  if (bare.startsWith('[') && bare.endsWith(']')) {
    bare = bare.slice(1, -1);
  }
  if (net.isIP(bare)) {
    return net.isIP(pattern) !== 0 && canonicalIP(pattern) === canonicalIP(bare);
  }
  const name = bare.toLowerCase().replace(/\.$/, '');
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    const label = name.slice(0, name.length - suffix.length);
    return name.endsWith(suffix) && label !== '' && !label.includes('.');
  }
  return name === pattern;
}

/** An IP address in one spelling per address: IPv6 compressed, lower case. */
function canonicalIP(ip) {
  const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
  return new net.SocketAddress({ address: ip, family }).address;
}

/** An Error with `code` (default: ERR_PINSET_PIN_MISMATCH). */
function refusal(message, code = 'ERR_PINSET_PIN_MISMATCH') {
  const err = new Error(message);
  err.code = code;
  return err;
}

/** node pinset-pinning.js URL: prints the body; exits 1 with the reason on a refusal. */
function main(argv) {
  if (argv.length !== 1 || argv[0] === '-h' || argv[0] === '--help') {
    console.error('usage: node pinset-pinning.js https://HOST[:PORT]/PATH');
    process.exitCode = 2;
    return;
  }
  const url = argv[0];
  let request;
  try {
    if (new URL(url).protocol !== 'https:') {
      throw new Error(`only https:// reaches the servers of site ${SITE}`);
    }
    request = https.get(url, { agent: agent() }, (res) => {
      res.pipe(process.stdout);
      res.on('end', () => {
        if (res.statusCode >= 400) {
          console.error(`pinset-pinning: ${url}: HTTP ${res.statusCode}`);
          process.exitCode = 1;
        }
      });
    });
  } catch (err) {
    console.error(`pinset-pinning: refused ${url}: ${err.message}`);
    process.exitCode = 1;
    return;
  }
  request.on('error', (err) => {
    console.error(`pinset-pinning: refused ${url}: ${err.message}`);
    process.exitCode = 1;
  });
}

module.exports = { agent, PinsetAgent, tlsOptions, checkServerIdentity, spkiSha256, SERVERS, SITE };

if (require.main === module) {
  main(process.argv.slice(2));
}
"#;
