{{provenance}}
import { registerPlugin } from '@capacitor/core';
/** The plugin: `await Pinset.fetch({ url: 'https://…/' })`. */
const Pinset = registerPlugin('Pinset');
export * from './definitions';
export { Pinset };
