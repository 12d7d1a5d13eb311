// Written by `pinset export cordova-plugin` for site "hub". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// PinsetTrust: TLS trust for the servers of site "hub", the way to pin a
// server reached by IP address on Apple platforms (ATS cannot). For each address of the site
// it trusts only the site's anchors (not the system's CAs), checks the host name or IP address
// against the certificate, then, while pins are in force, requires a pinned key (SPKI SHA-256)
// in the evaluated chain. Other hosts get the system's default handling.
//
// Use it as the delegate of the URLSession that talks to the site:
//     let session = URLSession(configuration: .ephemeral, delegate: PinsetTrust.shared, delegateQueue: nil)
// Needs iOS 13 / macOS 10.15 (CryptoKit). iOS 14+ asks the user before the app reaches the local
// network: add NSLocalNetworkUsageDescription to Info.plist.

import CryptoKit
import Foundation
import Security

/// Trusts the anchors of site "hub" for its addresses and checks their SPKI pins.
final class PinsetTrust: NSObject, URLSessionDelegate {
    /// One delegate serves every session: it holds no state.
    static let shared = PinsetTrust()

    /// The site's anchors (DER certificates, base64), active before standby.
    static let anchorsBase64: [String] = [
        // active: CN=10.0.0.5, O=hub
        "MIIBpTCCAUugAwIBAgIQfcSW6yjodBRbn7TtJv26gzAKBggqhkjOPQQDAjAhMQwwCgYDVQQKDANodWIxETAPBgNVBAMMCDEwLjAuMC41MB4XDTI2MTEyMzEwNDMyNVoXDTI3MTIyNTEwNDMyNVowITEMMAoGA1UECgwDaHViMREwDwYDVQQDDAgxMC4wLjAuNTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB8YCYJISO2EmPfNEY5HRMJ8kVrFhzxhTNbVpoWJsfmMDUq5xKRtDfz0CgkpQpDIXRldm8Q9vnQvtT//jAoaVcijZTBjMA8GA1UdEQQIMAaHBAoAAAUwDgYDVR0PAQH/BAQDAgKEMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBR/yZKa6R4DmVWyv8VZlYm9H2TTbTAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0gAMEUCIQCwzzEODC/Iuyb89OTqFB2hOvZh6OvCRdKVLuGMHxp2zAIgGZvnoFGuwzL2iJx4IQg/g9dp0B9dfpj2z4br67X0Iqk=",
        // standby: CN=10.0.0.5, O=hub
        "MIIBpTCCAUugAwIBAgIQW53tnNujDGye+daQvUfohTAKBggqhkjOPQQDAjAhMQwwCgYDVQQKDANodWIxETAPBgNVBAMMCDEwLjAuMC41MB4XDTI2MTEyMzEwNDMyNVoXDTI3MTIyNTEwNDMyNVowITEMMAoGA1UECgwDaHViMREwDwYDVQQDDAgxMC4wLjAuNTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGw0qF46f5PkNaNaU8PkvPCNwu7k9Fu7Zoh7gxJZUQU6O0La4Qa2OXiVOwoTBXuMp1CTsd4eqfH5rf9BVgM8dQyjZTBjMA8GA1UdEQQIMAaHBAoAAAUwDgYDVR0PAQH/BAQDAgKEMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBRh4NalfsGudeBfaNtYjK0j3RnYUzAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0gAMEUCID9/0sAMLbxfnkBVxwktOaIZUs6qBbDg3bNWq+/thngqAiEAwPrbn1f7mlKdcBAlbbv9hiiRttR6T1OkrL62ly6wF7Q=",
    ]

    /// The pins (SPKI SHA-256, base64) of each address of the site. IPv6 is compressed and
    /// without brackets; a "*.parent" key covers exactly one more label, as the certificate does.
    static let pinsByHost: [String: Set<String>] = [
        // server hub
        "10.0.0.5": [
            "f8mSmukeA5lVsr/FWZWJvR9k0226/4RWKhbgWFL4aYw=", // active key of server hub
            "YeDWpX7BrnXgX2jbWIytI90Z2FMbao0VDCfDwRU9WKo=", // standby key of server hub
        ],
    ]

    /// The last day (UTC, YYYY-MM-DD) pins are enforced; after it the anchors alone apply.
    /// nil: pins never expire.
    static let pinsLastDay: String? = nil

    /// DER SubjectPublicKeyInfo headers by key type and size. Apple exports only the raw key
    /// (an X9.63 point for EC, PKCS#1 for RSA); a pin hashes the whole SPKI, so the header goes
    /// in front. A key of any other type, size or raw length matches no pin.
    static let spkiHeaders: [(keyType: String, bits: Int, rawLength: Int, header: String)] = [
        (kSecAttrKeyTypeECSECPrimeRandom as String, 256, 65, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgA="), // EC P-256
        (kSecAttrKeyTypeECSECPrimeRandom as String, 384, 97, "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgA="), // EC P-384
        (kSecAttrKeyTypeRSA as String, 2048, 270, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"), // RSA 2048
        (kSecAttrKeyTypeRSA as String, 3072, 398, "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8A"), // RSA 3072
        (kSecAttrKeyTypeRSA as String, 4096, 526, "MIICIjANBgkqhkiG9w0BAQEFAAOCAg8A"), // RSA 4096
    ]

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
}
