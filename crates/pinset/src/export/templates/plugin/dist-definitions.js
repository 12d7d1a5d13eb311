{{provenance}}
export {};
