// Written by `pinset export cordova` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// cordova-plugin-advanced-http, pinned mode: requests made with cordova.plugin.http trust only
// the certificates in www/certificates/ (every request of the plugin, not per host):
//   pinset-clinic-ca.cer: active (CN=pinset CA clinic, O=clinic)
//   pinset-clinic-ca-standby.cer: standby (CN=pinset CA clinic (standby), O=clinic)
// On iOS the system must trust the server's chain first: install the site's anchors as a
// configuration profile, or requests fail there.

"use strict";

/**
 * Turns on pinned mode. Resolves once the plugin uses only the bundled certificates.
 * @returns {Promise<void>}
 */
function pinsetEnablePinning() {
  return new Promise(function (resolve, reject) {
    cordova.plugin.http.setServerTrustMode(
      "pinned",
      function () {
        resolve();
      },
      function (error) {
        reject(new Error("pinset: cannot turn on pinned mode: " + error));
      }
    );
  });
}

document.addEventListener(
  "deviceready",
  function () {
    pinsetEnablePinning().catch(function (error) {
      console.error(error);
    });
  },
  false
);
