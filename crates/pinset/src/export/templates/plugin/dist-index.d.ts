import type { PinsetPlugin } from './definitions';
/** The plugin: `await Pinset.fetch({ url: 'https://…/' })`. */
declare const Pinset: PinsetPlugin;
export * from './definitions';
export { Pinset };
