{{provenance}}
//
// The Cordova side of pinset.fetch(url, options) on iOS: the request goes through
// PinsetFetch, so through PinsetTrust (the site's anchors and pins, IP hosts included).

import Foundation

@objc(PinsetPlugin)
class PinsetPlugin: CDVPlugin {
    /// pinset.fetch(url, options): options.method, options.headers, options.body (text),
    /// options.timeout (seconds). Succeeds with {status, headers, body, url}.
    @objc(fetch:)
    func fetch(_ command: CDVInvokedUrlCommand) {
        let url = command.argument(at: 0) as? String ?? ""
        let options = command.argument(at: 1) as? [String: Any] ?? [:]
        let method = (options["method"] as? String ?? "GET").uppercased()
        let headers = options["headers"] as? [String: String] ?? [:]
        let body = options["body"] as? String
        let timeout = options["timeout"] as? Double ?? 30
        PinsetFetch.shared.fetch(url: url, method: method, headers: headers, body: body, timeout: timeout) { result in
            let answer: CDVPluginResult
            switch result {
            case .success(let response):
                answer = CDVPluginResult(
                    status: CDVCommandStatus_OK,
                    messageAs: [
                        "status": response.status,
                        "headers": response.headers,
                        "body": response.body,
                        "url": response.url,
                    ]
                )
            case .failure(let error):
                answer = CDVPluginResult(status: CDVCommandStatus_ERROR, messageAs: error.localizedDescription)
            }
            self.commandDelegate.send(answer, callbackId: command.callbackId)
        }
    }
}
