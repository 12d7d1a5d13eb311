{{provenance}}
//
// pinset.fetch(url, options): HTTPS to the servers of the site from native code, which trusts
// the site's anchors only and checks the pins (iOS: PinsetTrust.swift, IP hosts included;
// Android: OkHttp). Resolves with {status, headers, body, url}; rejects with the reason a
// server was refused.
"use strict";

var exec = require("cordova/exec");

/**
 * One HTTPS request to a server of the site.
 * @param {string} url an https:// URL (http:// is refused)
 * @param {Object} [options] method (GET by default), headers (an object), body (text),
 *     timeout (seconds, 30 by default)
 * @returns {Promise<Object>} status, headers (names lower case), body (text), url
 */
exports.fetch = function (url, options) {
  return new Promise(function (resolve, reject) {
    exec(
      resolve,
      function (error) {
        reject(new Error(String(error)));
      },
      "Pinset",
      "fetch",
      [url, options || {}]
    );
  });
};
