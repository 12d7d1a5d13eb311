{{provenance}}

import { registerPlugin } from '@capacitor/core';

import type { PinsetPlugin } from './definitions';

/** The plugin: `await Pinset.fetch({ url: 'https://…/' })`. */
const Pinset = registerPlugin<PinsetPlugin>('Pinset');

export * from './definitions';
export { Pinset };
