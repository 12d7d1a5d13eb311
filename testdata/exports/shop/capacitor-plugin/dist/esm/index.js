// Written by `pinset export capacitor-plugin` for site "shop". Do not edit by hand:
// run the export again after every key rotation and ship the result.
import { registerPlugin } from '@capacitor/core';
/** The plugin: `await Pinset.fetch({ url: 'https://…/' })`. */
const Pinset = registerPlugin('Pinset');
export * from './definitions';
export { Pinset };
