// Written by `pinset export react-native` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// react-native-ssl-public-key-pinning: fetch and XMLHttpRequest check these pins. Android
// checks them with OkHttp's CertificatePinner on top of the platform's trust, so the site's
// anchors must be trusted there: ship the android export's network_security_config.xml.
// iOS checks them with TrustKit after iOS's own trust evaluation: the device must trust the
// site's private CA roots (active and standby), installed as a configuration profile.
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

/** The pins (SPKI SHA-256, base64) of each address of site "clinic". */
const PINSET_PINS: { [host: string]: DomainPins } = {
  // devices.clinic.example: server devices
  "devices.clinic.example": {
    includeSubdomains: false,
    publicKeyHashes: [
      "1+iJu6RbPM0NRL6iaO41RNdY+J+aXEjWkSFMWGi/7io=", // active key of server devices
      "PpsHvCXg6F4txjC+je+ddas6CGcdiqdBg7RxKKVmUQ8=", // standby key of server devices
    ],
  },
  // *.wards.clinic.example: server devices (includeSubdomains: also wards.clinic.example and names of any depth below it)
  "wards.clinic.example": {
    includeSubdomains: true,
    publicKeyHashes: [
      "1+iJu6RbPM0NRL6iaO41RNdY+J+aXEjWkSFMWGi/7io=", // active key of server devices
      "PpsHvCXg6F4txjC+je+ddas6CGcdiqdBg7RxKKVmUQ8=", // standby key of server devices
    ],
  },
};

/** Addresses TrustKit (iOS) refuses: IP addresses, local-only names, fewer than two pins. */
const NOT_ON_IOS: string[] = [
  "devices.clinic.example",
  "wards.clinic.example",
];

/**
 * Turns on pinning for the servers of site "clinic". Call it once, as early as possible,
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
