// Written by `pinset export capacitor-plugin` for site "shop". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// One HTTPS request to a server of the site, through PinsetTrust (the same code as the ios
// export's PinsetTrust.swift): the site's anchors only, the address checked against the
// certificate, then the pins. TLS only: an http:// URL is refused before any connection, and
// a redirect is never followed to http://.

import Foundation

/// What the JavaScript side receives.
struct PinsetFetchResult {
    /// The HTTP status.
    let status: Int
    /// The response headers, names lower case.
    let headers: [String: String]
    /// The body as UTF-8 text (invalid sequences replaced).
    let body: String
    /// The URL of the response, after the redirects followed.
    let url: String
}

/// Makes requests to the site's servers with PinsetTrust as the session's trust.
final class PinsetFetch: NSObject, URLSessionTaskDelegate {
    static let shared = PinsetFetch()

    /// One session for every request: it keeps connections to the site's servers open.
    lazy var session: URLSession = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)

    /// Sends one request; `done` gets the result or a message saying why there is none.
    func fetch(
        url text: String,
        method: String,
        headers: [String: String],
        body: String?,
        timeout: TimeInterval,
        done: @escaping (Result<PinsetFetchResult, Error>) -> Void
    ) {
        guard let url = URL(string: text), url.scheme?.lowercased() == "https" else {
            done(.failure(PinsetFetchError.message("pinset: \(text) is not an https:// URL; the site is reached over TLS only")))
            return
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers {
            request.setValue(value, forHTTPHeaderField: name)
        }
        request.httpBody = body?.data(using: .utf8)
        session.dataTask(with: request) { data, response, error in
            if let error = error {
                done(.failure(error))
                return
            }
            guard let http = response as? HTTPURLResponse else {
                done(.failure(PinsetFetchError.message("pinset: \(text) gave no HTTP response")))
                return
            }
            var fields: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                fields[String(describing: name).lowercased()] = String(describing: value)
            }
            let body = String(decoding: data ?? Data(), as: UTF8.self)
            done(.success(PinsetFetchResult(status: http.statusCode, headers: fields, body: body, url: http.url?.absoluteString ?? text)))
        }.resume()
    }

    func urlSession(
        _ session: URLSession,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        PinsetTrust.shared.urlSession(session, didReceive: challenge, completionHandler: completionHandler)
    }

    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        PinsetTrust.shared.urlSession(session, didReceive: challenge, completionHandler: completionHandler)
    }

    /// A redirect is followed only to https://; any other is answered with the 3xx itself.
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(request.url?.scheme?.lowercased() == "https" ? request : nil)
    }
}

/// A failure with a message of pinset's.
enum PinsetFetchError: LocalizedError {
    case message(String)

    var errorDescription: String? {
        switch self {
        case .message(let text):
            return text
        }
    }
}
