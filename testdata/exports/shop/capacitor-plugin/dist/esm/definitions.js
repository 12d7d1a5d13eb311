// Written by `pinset export capacitor-plugin` for site "shop". Do not edit by hand:
// run the export again after every key rotation and ship the result.
export {};
