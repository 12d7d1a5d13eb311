
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
