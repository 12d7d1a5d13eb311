{{head}}

import { Platform } from "react-native";
import { initializeSslPinning } from "react-native-ssl-public-key-pinning";

/** What the library takes for one address. */
type DomainPins = {
  includeSubdomains: boolean;
  publicKeyHashes: string[];
  expirationDate?: string;
};

/** The pins (SPKI SHA-256, base64) of each address of site {{site_doc}}. */
const PINSET_PINS: { [host: string]: DomainPins } = {
{{#entries}}
  // {{names}}: server {{servers}}{{#subdomains}} (includeSubdomains: also {{key_doc}} and names of any depth below it){{/subdomains}}
  {{key}}: {
    includeSubdomains: {{include_subdomains}},
    publicKeyHashes: [
{{#pins}}
      {{pin}}, // {{role}} key of {{owner}}
{{/pins}}
    ],
{{#expires}}
    expirationDate: {{stop_day}}, // the day pins stop: the plan's last day + 1
{{/expires}}
  },
{{/entries}}
};

/** Addresses TrustKit (iOS) refuses: IP addresses, local-only names, fewer than two pins. */
{{^not_on_ios}}
const NOT_ON_IOS: string[] = [];
{{/not_on_ios}}
{{#some_not_on_ios}}
const NOT_ON_IOS: string[] = [
{{#not_on_ios}}
  {{key}},
{{/not_on_ios}}
];
{{/some_not_on_ios}}

/**
 * Turns on pinning for the servers of site {{site_doc}}. Call it once, as early as possible,
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
