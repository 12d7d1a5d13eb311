// Written by `pinset export capacitor-plugin` for site "shop". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// The Capacitor side of Pinset.fetch({url, …}) on iOS: the request goes through
// PinsetFetch, so through PinsetTrust (the site's anchors and pins, IP hosts included).

import Capacitor
import Foundation

@objc(PinsetPlugin)
public class PinsetPlugin: CAPPlugin, CAPBridgedPlugin {
    public let identifier = "PinsetPlugin"
    public let jsName = "Pinset"
    public let pluginMethods: [CAPPluginMethod] = [
        CAPPluginMethod(name: "fetch", returnType: CAPPluginReturnPromise)
    ]

    /// Pinset.fetch({url, method, headers, body, timeout}): resolves with {status, headers,
    /// body, url}, rejects with the reason a server was refused.
    @objc func fetch(_ call: CAPPluginCall) {
        let url = call.getString("url") ?? ""
        let method = (call.getString("method") ?? "GET").uppercased()
        var headers: [String: String] = [:]
        for (name, value) in call.getObject("headers") ?? [:] {
            if let text = value as? String {
                headers[name] = text
            }
        }
        let body = call.getString("body")
        let timeout = call.getDouble("timeout") ?? 30
        PinsetFetch.shared.fetch(url: url, method: method, headers: headers, body: body, timeout: timeout) { result in
            switch result {
            case .success(let response):
                call.resolve([
                    "status": response.status,
                    "headers": response.headers,
                    "body": response.body,
                    "url": response.url,
                ])
            case .failure(let error):
                call.reject(error.localizedDescription)
            }
        }
    }
}
