// Written by `pinset export react-native` for site "hub". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// react-native-ssl-public-key-pinning: fetch and XMLHttpRequest check these pins. Android
// checks them with OkHttp's CertificatePinner on top of the platform's trust, so the site's
// anchors must be trusted there: ship the android export's network_security_config.xml.
// iOS checks them with TrustKit after iOS's own trust evaluation: the device must trust the
// site's self-signed server certificates (active and standby), installed as a configuration profile.
// TrustKit stops on IP addresses, local-only names and fewer than two pins: those addresses
// are left out on iOS (NOT_ON_IOS); reach them with the ios export's PinsetTrust.swift.

import { Platform } from "react-native";
import { initializeSslPinning } from "react-native-ssl-public-key-pinning";

/** What the library takes for one address. */
type DomainPins = {
  includeSubdomains: boolean;
  publicKeyHashes: string[];
  expirationDate?: string;
};

/** The pins (SPKI SHA-256, base64) of each address of site "hub". */
const PINSET_PINS: { [host: string]: DomainPins } = {
  // 10.0.0.5: server hub
  "10.0.0.5": {
    includeSubdomains: false,
    publicKeyHashes: [
      "f8mSmukeA5lVsr/FWZWJvR9k0226/4RWKhbgWFL4aYw=", // active key of server hub
      "YeDWpX7BrnXgX2jbWIytI90Z2FMbao0VDCfDwRU9WKo=", // standby key of server hub
    ],
  },
};

/** Addresses TrustKit (iOS) refuses: IP addresses, local-only names, fewer than two pins. */
const NOT_ON_IOS: string[] = [
  "10.0.0.5",
];

/**
 * Turns on pinning for the servers of site "hub". Call it once, as early as possible,
 * before the first request to them.
 *
 * An address whose expirationDate has come (UTC) is left out, as the library itself does
 * on Android: there it reads the date only here, at start, and versions before
 * expirationDate support would keep enforcing the pins. iOS (TrustKit) also stops
 * checking on that day while the app runs.
 */
export async function initializePinsetPinning(): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const options: { [host: string]: DomainPins } = {};
  for (const [host, pins] of Object.entries(PINSET_PINS)) {
    if (Platform.OS === "ios" && NOT_ON_IOS.includes(host)) {
      continue;
    }
    if (pins.expirationDate !== undefined && today >= pins.expirationDate) {
      // The pins' last day has passed: the platform's trust alone applies.
      continue;
    }
    options[host] = pins;
  }
  if (Object.keys(options).length === 0) {
    // Nothing to pin here (or every pin has expired): TrustKit stops on an empty configuration.
    return;
  }
  await initializeSslPinning(options);
}
