//
// HTTPS to the servers of site {{site}} from Node.js 16 or later: trusts only the site's
// anchors (pinset-anchors.pem, beside this file; never Node's bundled roots), keeps Node's
// check of the address (an IP address must be an iPAddress SAN of the certificate, a DNS
// name a dNSName), and requires a pinned key in the chain, the anchor included, with the
// pins of the server dialled, before a request is sent. A host that is not one of the
// site's servers is refused: this agent is for the site only.
//
//   const https = require('https');
//   const pinset = require('./pinset-pinning');
//   const agent = pinset.agent(); // make it once, reuse it
//   https.get('https://{{host}}/', { agent }, (res) => { ... });
//
// Run as a program it fetches a URL and prints the body:
//   node pinset-pinning.js https://{{host}}/
'use strict';
