
    /// The anchors as certificates (parsed per use: a handful of small certificates).
    static var anchors: [SecCertificate] {
        PinsetTrust.anchorsBase64.compactMap { encoded in
            Data(base64Encoded: encoded).flatMap { SecCertificateCreateWithData(nil, $0 as CFData) }
        }
    }

    func urlSession(
        _ session: URLSession,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        guard challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust,
              let trust = challenge.protectionSpace.serverTrust
        else {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        let host = PinsetTrust.canonicalHost(challenge.protectionSpace.host)
        guard let pins = PinsetTrust.pins(for: host) else {
            // Not an address of the site: the system decides as usual.
            completionHandler(.performDefaultHandling, nil)
            return
        }
        if PinsetTrust.evaluate(trust, host: host, pins: pins, now: Date()) {
            completionHandler(.useCredential, URLCredential(trust: trust))
{{#debug}}
        } else if PinsetTrust.evaluateDebug(trust, host: host) {
            // Debug builds only: a chain of the interception proxy's CA, accepted without pins.
            completionHandler(.useCredential, URLCredential(trust: trust))
{{/debug}}
        } else {
            completionHandler(.cancelAuthenticationChallenge, nil)
        }
    }

    /// Evaluates `trust` for `host` against the site's anchors only, then (while pins are in
    /// force) requires a certificate of the evaluated chain, anchor included, to have a pinned key.
    static func evaluate(_ trust: SecTrust, host: String, pins: Set<String>, now: Date) -> Bool {
        let anchors = PinsetTrust.anchors
        guard !anchors.isEmpty,
              SecTrustSetPolicies(trust, SecPolicyCreateSSL(true, host as CFString)) == errSecSuccess,
              SecTrustSetAnchorCertificates(trust, anchors as CFArray) == errSecSuccess,
              SecTrustSetAnchorCertificatesOnly(trust, true) == errSecSuccess
        else {
            return false
        }
        var error: CFError?
        guard SecTrustEvaluateWithError(trust, &error) else {
            return false
        }
        guard pinsInForce(now), !pins.isEmpty else {
            return true
        }
        return certificateChain(of: trust).contains { certificate in
            spkiSHA256Base64(of: certificate).map { pins.contains($0) } ?? false
        }
    }

{{#debug}}
    /// Debug builds only: evaluates `trust` for `host` against the interception proxy's CA
    /// (`debugAnchorsBase64`) alone, without pins, since the proxy forges every leaf. Always
    /// false in a release build, whose list is empty.
    static func evaluateDebug(_ trust: SecTrust, host: String) -> Bool {
        let anchors = debugAnchorsBase64.compactMap { encoded in
            Data(base64Encoded: encoded).flatMap { SecCertificateCreateWithData(nil, $0 as CFData) }
        }
        guard !anchors.isEmpty,
              SecTrustSetPolicies(trust, SecPolicyCreateSSL(true, host as CFString)) == errSecSuccess,
              SecTrustSetAnchorCertificates(trust, anchors as CFArray) == errSecSuccess,
              SecTrustSetAnchorCertificatesOnly(trust, true) == errSecSuccess
        else {
            return false
        }
        var error: CFError?
        return SecTrustEvaluateWithError(trust, &error)
    }

{{/debug}}
    /// The pins of `host`, or nil when it is not an address of the site.
    static func pins(for host: String) -> Set<String>? {
        if let pins = pinsByHost[host] {
            return pins
        }
        guard !host.contains(":"), let dot = host.firstIndex(of: ".") else {
            return nil
        }
        return pinsByHost["*" + String(host[dot...])]
    }

    /// `host` as the table spells it: lower case, no brackets or final dot, IPv6 compressed.
    static func canonicalHost(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") {
            name = String(name.dropFirst().dropLast())
        }
        if name.hasSuffix(".") {
            name = String(name.dropLast())
        }
        guard name.contains(":") else {
            return name
        }
        var address = in6_addr()
        guard inet_pton(AF_INET6, name, &address) == 1 else {
            return name
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else {
            return name
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True while the current UTC day is not after `pinsLastDay`.
    static func pinsInForce(_ now: Date) -> Bool {
        guard let lastDay = pinsLastDay else {
            return true
        }
        var calendar = Calendar(identifier: .gregorian)
        if let utc = TimeZone(secondsFromGMT: 0) {
            calendar.timeZone = utc
        }
        let day = calendar.dateComponents([.year, .month, .day], from: now)
        let today = String(format: "%04ld-%02ld-%02ld", day.year ?? 0, day.month ?? 0, day.day ?? 0)
        return today <= lastDay
    }

    /// The evaluated chain, leaf first, anchor last.
    static func certificateChain(of trust: SecTrust) -> [SecCertificate] {
        if #available(iOS 15.0, macOS 12.0, tvOS 15.0, watchOS 8.0, *) {
            return (SecTrustCopyCertificateChain(trust) as? [SecCertificate]) ?? []
        }
        return (0..<SecTrustGetCertificateCount(trust)).compactMap { SecTrustGetCertificateAtIndex(trust, $0) }
    }

    /// The pin of `certificate`'s key: SHA-256 over its DER SubjectPublicKeyInfo, base64.
    static func spkiSHA256Base64(of certificate: SecCertificate) -> String? {
        guard let key = SecCertificateCopyKey(certificate),
              let attributes = SecKeyCopyAttributes(key) as? [String: Any],
              let keyType = attributes[kSecAttrKeyType as String] as? String,
              let bits = attributes[kSecAttrKeySizeInBits as String] as? Int,
              let raw = SecKeyCopyExternalRepresentation(key, nil) as Data?,
              let entry = spkiHeaders.first(where: {
                  $0.keyType == keyType && $0.bits == bits && $0.rawLength == raw.count
              }),
              let header = Data(base64Encoded: entry.header)
        else {
            return nil
        }
        return Data(SHA256.hash(data: header + raw)).base64EncodedString()
    }
