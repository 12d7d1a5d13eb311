
/// An [HttpClient] for the site's servers. Make it once and reuse it: it holds the
/// connection pool.
///
/// Its connection factory makes every TLS connection itself, with [pinsetSecurityContext],
/// and hands the socket to the client only after [pinsetCheckPeer] accepted the server: a
/// refused server never receives a request. It connects directly, never through a proxy
/// (the servers are on the local network), only over https, and only to the site's servers.
HttpClient pinsetHttpClient() {
  final context = pinsetSecurityContext();
  final client = HttpClient(context: context);
  client.findProxy = (uri) => 'DIRECT';
  client.connectionFactory =
      (uri, proxyHost, proxyPort) => _connect(uri, context);
  return client;
}

/// A [SecurityContext] that trusts the site's anchors and nothing else: a certificate that
/// does not chain to one of them fails the handshake (no `badCertificateCallback` is ever
/// set, so no such certificate is let through). For [SecureSocket] users: connect with it,
/// then call [pinsetCheckPeer] before sending anything.
SecurityContext pinsetSecurityContext() {
  if (!pinsetPinsAreServerKeys) {
    _checkAnchorsArePinned();
  }
  return SecurityContext(withTrustedRoots: false)
    ..setTrustedCertificatesBytes(utf8.encode(pinsetAnchorsPem));
}

/// Checks the certificate that the server dialled as [host] presented in a handshake made
/// with [pinsetSecurityContext] (which has validated the chain against the anchors, the
/// validity dates, and the name against [host]). Throws a [HandshakeException] whose
/// message follows OkHttp's when no pin matches, or when [host] is not a server of the site.
void pinsetCheckPeer(String host, X509Certificate? certificate) {
  final server = _serverFor(host);
  if (certificate == null) {
    throw HandshakeException('$host presented no certificate');
  }
  if (!pinsetPinsAreServerKeys) {
    // The pins are the CA's keys. dart:io shows only the server's own certificate, not the
    // chain it was validated through, so the CA's key cannot be read here. The context
    // enforces the pins instead: it trusts exactly the site's anchors, and
    // _checkAnchorsArePinned has made sure that every anchor's key is pinned, so the
    // handshake succeeded only through a chain ending at a pinned key.
    return;
  }
  if (!_pinsInForce(DateTime.now())) {
    return;
  }
  final pin = pinsetSpkiSha256(certificate.der);
  if (server.pins.contains(pin)) {
    return;
  }
  final message = StringBuffer('Certificate pinning failure!\n')
    ..write('  Peer certificate chain:\n')
    ..write('    sha256/$pin: ${certificate.subject}\n')
    ..write('  Pinned certificates for $host:\n');
  for (final pinned in server.pins) {
    message.write('    sha256/$pinned\n');
  }
  throw HandshakeException(message.toString());
}

/// The pin of a certificate's key: SHA-256 of its DER SubjectPublicKeyInfo, base64.
String pinsetSpkiSha256(Uint8List certificateDer) =>
    base64.encode(sha256.convert(_subjectPublicKeyInfo(certificateDer)).bytes);

Future<ConnectionTask<Socket>> _connect(
  Uri uri,
  SecurityContext context,
) async {
  if (uri.scheme != 'https') {
    throw HttpException(
      'pinset: $uri is not https; this client only speaks TLS to the site',
      uri: uri,
    );
  }
  final host = uri.host;
  _serverFor(host);
  final task =
      await SecureSocket.startConnect(host, uri.port, context: context);
  final checked = task.socket.then((socket) {
    try {
      pinsetCheckPeer(host, socket.peerCertificate);
    } catch (_) {
      socket.destroy();
      rethrow;
    }
    return socket;
  });
  return ConnectionTask.fromSocket(checked, task.cancel);
}

/// A server of the site, as [_servers] lists it.
class _Server {
  const _Server(this.name, this.hosts, this.pins);

  final String name;
  final List<String> hosts;
  final List<String> pins;
}

_Server _serverFor(String host) {
  for (final server in _servers) {
    if (server.hosts.any((pattern) => _names(pattern, host))) {
      return server;
    }
  }
  throw HandshakeException(
    '$host is not a server of site "$pinsetSite": '
    'this client connects only to the site\'s servers',
  );
}

/// Whether [pattern] (an IP address, a DNS name, or `*.` and a name: exactly one more
/// label) names [host].
bool _names(String pattern, String host) {
  final address = InternetAddress.tryParse(host);
  if (address != null) {
    final expected = InternetAddress.tryParse(pattern);
    return expected != null &&
        _sameBytes(expected.rawAddress, address.rawAddress);
  }
  var name = host.toLowerCase();
  if (name.endsWith('.')) {
    name = name.substring(0, name.length - 1);
  }
  if (pattern.startsWith('*.')) {
    final suffix = pattern.substring(1);
    if (!name.endsWith(suffix)) {
      return false;
    }
    final label = name.substring(0, name.length - suffix.length);
    return label.isNotEmpty && !label.contains('.');
  }
  return name == pattern;
}

bool _sameBytes(List<int> a, List<int> b) {
  if (a.length != b.length) {
    return false;
  }
  for (var i = 0; i < a.length; i++) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

bool _pinsInForce(DateTime now) {
  final lastDay = pinsetPinsExpireAfter;
  if (lastDay == null) {
    return true;
  }
  final today = now.toUtc().toIso8601String().substring(0, 10);
  return today.compareTo(lastDay) <= 0;
}

/// With CA pins, the anchors are what enforces them: refuse to start if an anchor's key is
/// not pinned for every server (this file edited by hand, or mixed from two exports).
void _checkAnchorsArePinned() {
  final block = RegExp(
    r'-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----',
  );
  for (final match in block.allMatches(pinsetAnchorsPem)) {
    final der = base64.decode(match.group(1)!.replaceAll(RegExp(r'\s'), ''));
    final pin = pinsetSpkiSha256(der);
    for (final server in _servers) {
      if (!server.pins.contains(pin)) {
        throw StateError(
          'pinset: the key $pin of an anchor is not pinned for server '
          '${server.name}: this file was changed by hand; export it again',
        );
      }
    }
  }
}

/// The SubjectPublicKeyInfo of an X.509 certificate, as encoded (RFC 5280, section 4.1):
///
///     Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
///     TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
///         issuer, validity, subject, subjectPublicKeyInfo, ... }
///
/// dart:io gives a certificate's bytes but not its key, hence this small DER walk.
Uint8List _subjectPublicKeyInfo(Uint8List certificateDer) {
  final certificate = _DerReader(certificateDer).element(0x30);
  final tbs = _DerReader(certificate.content).element(0x30);
  final fields = _DerReader(tbs.content);
  if (fields.nextTag == 0xa0) {
    fields.element(0xa0); // version
  }
  fields.element(0x02); // serialNumber
  fields.element(0x30); // signature
  fields.element(0x30); // issuer
  fields.element(0x30); // validity
  fields.element(0x30); // subject
  return fields.element(0x30).encoded; // subjectPublicKeyInfo
}

/// One DER element: its whole encoding and its content.
class _DerElement {
  _DerElement(this.encoded, this.content);

  final Uint8List encoded;
  final Uint8List content;
}

/// Reads DER elements one after another (definite lengths only, as DER requires).
class _DerReader {
  _DerReader(this._bytes);

  final Uint8List _bytes;
  int _offset = 0;

  int? get nextTag => _offset < _bytes.length ? _bytes[_offset] : null;

  _DerElement element(int tag) {
    final start = _offset;
    if (nextTag != tag) {
      throw FormatException('DER: expected tag $tag', _bytes, start);
    }
    var length = _byte(start + 1);
    var header = 2;
    if (length >= 0x80) {
      final count = length & 0x7f;
      if (count == 0 || count > 4) {
        throw FormatException('DER: unsupported length', _bytes, start);
      }
      length = 0;
      for (var i = 0; i < count; i++) {
        length = (length << 8) | _byte(start + 2 + i);
      }
      header += count;
    }
    final end = start + header + length;
    if (end > _bytes.length) {
      throw FormatException('DER: truncated', _bytes, start);
    }
    _offset = end;
    return _DerElement(
      Uint8List.sublistView(_bytes, start, end),
      Uint8List.sublistView(_bytes, start + header, end),
    );
  }

  int _byte(int index) {
    if (index >= _bytes.length) {
      throw FormatException('DER: truncated', _bytes, index);
    }
    return _bytes[index];
  }
}
