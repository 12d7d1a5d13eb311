

class PinningError(ssl.SSLCertVerificationError):
    """A server whose validated chain holds none of its pins, or a host that is not a server of the site."""

    def __init__(self, message):
        super().__init__(message)
        self.verify_message = message

    def __str__(self):
        return self.verify_message


def ssl_context():
    """An SSLContext that trusts the site's anchors and nothing else.

    PROTOCOL_TLS_CLIENT turns on certificate validation and the address check. It does not
    check pins: use connect(), HTTPSConnection or urlopen(), or call check_peer() after the
    handshake and before sending anything.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=ANCHORS_FILE)
    return context


def connect(host, port=443, timeout=None):
    """A TLS connection to a server of the site, pins checked: an ssl.SSLSocket.

    host is an IP address (IPv6 with or without brackets) or a DNS name.
    """
    host = _bare(host)
    server_for(host)
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        tls = ssl_context().wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise
    try:
        check_peer(tls, host)
    except BaseException:
        tls.close()
        raise
    return tls


class HTTPSConnection(http.client.HTTPSConnection):
    """http.client's HTTPSConnection with the site's anchors, checking the pins right after
    the handshake, before a request is sent. Refuses a host that is not the site's."""

    def __init__(self, host, port=None, **kwargs):
        kwargs["context"] = ssl_context()
        super().__init__(host, port, **kwargs)
        server_for(self.host)

    def connect(self):
        super().connect()
        try:
            check_peer(self.sock, self.host)
        except BaseException:
            self.close()
            raise


class HTTPSHandler(urllib.request.HTTPSHandler):
    """A urllib handler that opens https:// URLs with HTTPSConnection."""

    def https_open(self, req):
        return self.do_open(HTTPSConnection, req)


class _HTTPSOnly(urllib.request.HTTPHandler):
    """Refuses http:// (a redirect included): it would carry the request unprotected."""

    def http_open(self, req):
        raise urllib.error.URLError(
            "%s is not https: only https:// reaches the servers of site %s" % (req.full_url, SITE)
        )


def opener():
    """A urllib OpenerDirector for the site's servers: https:// only, pins checked, never
    through a proxy (the servers are on the local network)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _HTTPSOnly(), HTTPSHandler())


def urlopen(url, data=None, timeout=30):
    """urllib.request.urlopen for the site's servers, through opener()."""
    return opener().open(url, data, timeout)


def check_peer(sock, host):
    """Accepts the server behind sock, an ssl.SSLSocket whose handshake with host is done,
    or raises PinningError. The handshake has validated the chain against the anchors and
    the address; this requires one of the host's pins in that chain."""
    server = server_for(host)
    if not pins_in_force():
        return
    chain, whole = verified_chain(sock)
    seen = []
    for der in chain:
        try:
            seen.append((spki_sha256(der), subject_of(der)))
        except ValueError as err:
            seen.append(("(unreadable: %s)" % err, "?"))
    if any(pin in server["pins"] for pin, _ in seen):
        return
    lines = ["Certificate pinning failure!", "  Peer certificate chain:"]
    lines += ["    sha256/%s: %s" % link for link in seen]
    if not whole:
        lines.append("    (Python %d.%d shows only the server's own certificate; 3.10 or later shows the chain)"
                     % sys.version_info[:2])
    lines.append("  Pinned certificates for %s:" % host)
    lines += ["    sha256/%s" % pin for pin in server["pins"]]
    raise PinningError("\n".join(lines))


def verified_chain(sock):
    """The chain the handshake validated, leaf first, as DER: (chain, True); or, on Python
    before 3.10, which does not show it, ([the server's own certificate], False)."""
    get = getattr(sock, "get_verified_chain", None)  # Python 3.13 and later
    if get is None:
        get = getattr(getattr(sock, "_sslobj", None), "get_verified_chain", None)  # 3.10 to 3.12
    if get is not None:
        chain = [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in get() or ()]
        if chain:
            return chain, True
    leaf = sock.getpeercert(binary_form=True)
    return ([leaf] if leaf else []), False


def spki_sha256(der):
    """The pin of a DER certificate's key: SHA-256 of its DER SubjectPublicKeyInfo, base64."""
    start, end = _tbs_fields(der)[5]
    return base64.b64encode(hashlib.sha256(der[start:end]).digest()).decode("ascii")


def pins_in_force(today=None):
    """Whether the pins are enforced on today (a date, UTC; default: now)."""
    if PINS_EXPIRE_AFTER is None:
        return True
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    return today.isoformat() <= PINS_EXPIRE_AFTER


def server_for(host):
    """The entry of SERVERS that host names, or PinningError."""
    host = _bare(host)
    for server in SERVERS:
        if any(_names(pattern, host) for pattern in server["hosts"]):
            return server
    raise PinningError(
        "%s is not a server of site %s: this client connects only to the site's servers" % (host, SITE)
    )


def _bare(host):
    """host without brackets around an IPv6 address."""
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1]
    return host


def _names(pattern, host):
    """Whether pattern (an IP address, a DNS name, or "*." and a name: exactly one more
    label) names host."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        try:
            return ipaddress.ip_address(pattern) == address
        except ValueError:
            return False
    name = host.lower()
    if name.endswith("."):
        name = name[:-1]
    if pattern.startswith("*."):
        suffix = pattern[1:]
        label = name[: -len(suffix)]
        return name.endswith(suffix) and label != "" and "." not in label
    return name == pattern


# --- DER: just enough to find a certificate's key and subject -----------------------------


def _element(der, at, end):
    """(tag, start of contents, end of element) of the DER element at offset at."""
    if at + 2 > end:
        raise ValueError("truncated DER")
    tag, length = der[at], der[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > end:
            raise ValueError("bad DER length")
        length = int.from_bytes(der[at:at + count], "big")
        at += count
    if at + length > end:
        raise ValueError("truncated DER")
    return tag, at, at + length


def _children(der, start, end):
    """(tag, start of element, start of contents, end) of each element in der[start:end]."""
    out = []
    at = start
    while at < end:
        tag, contents, after = _element(der, at, end)
        out.append((tag, at, contents, after))
        at = after
    return out


def _tbs_fields(der):
    """The spans (start, end) of serialNumber, signature, issuer, validity, subject and
    subjectPublicKeyInfo in a DER certificate, whole elements, header included."""
    tag, contents, end = _element(der, 0, len(der))
    if tag != 0x30:
        raise ValueError("not a certificate")
    tag, tbs, tbs_end = _element(der, contents, end)
    if tag != 0x30:
        raise ValueError("not a certificate")
    fields = _children(der, tbs, tbs_end)
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 6 or fields[5][0] != 0x30:
        raise ValueError("no subjectPublicKeyInfo")
    return [(f[1], f[3]) for f in fields[:6]]


_ATTRIBUTES = {
    b"\x55\x04\x03": "CN",
    b"\x55\x04\x0a": "O",
    b"\x55\x04\x0b": "OU",
    b"\x55\x04\x06": "C",
    b"\x55\x04\x07": "L",
    b"\x55\x04\x08": "ST",
}


def _dotted(oid):
    """A DER object identifier's contents in dotted form: 2.5.4.5."""
    arcs, arc = [], 0
    for byte in oid:
        arc = arc << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def subject_of(der):
    """A DER certificate's subject, most specific first: "CN=…, O=…"."""
    start, end = _tbs_fields(der)[4]
    _, contents, end = _element(der, start, end)
    parts = []
    for _, _, rdn, rdn_end in _children(der, contents, end):
        for _, _, pair, pair_end in _children(der, rdn, rdn_end):
            (_, _, oid, oid_end), (value_tag, _, value, value_end) = _children(der, pair, pair_end)[:2]
            oid = bytes(der[oid:oid_end])
            raw = bytes(der[value:value_end])
            text = raw.decode("utf-16-be" if value_tag == 0x1E else "utf-8", "replace")
            parts.append("%s=%s" % (_ATTRIBUTES.get(oid) or _dotted(oid), text))
    return ", ".join(reversed(parts))


def main(argv):
    """python3 pinset_pinning.py URL: prints the body; exits 1 with the reason on a refusal."""
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: python3 pinset_pinning.py https://HOST[:PORT]/PATH", file=sys.stderr)
        return 2
    url = argv[1]
    try:
        with urlopen(url) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        print("pinset_pinning: %s: HTTP %s %s" % (url, err.code, err.reason), file=sys.stderr)
        return 1
    except urllib.error.URLError as err:
        print("pinset_pinning: refused %s: %s" % (url, err.reason), file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print("pinset_pinning: refused %s: %s" % (url, err), file=sys.stderr)
        return 1
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
