
// Package pinsetpin makes HTTPS connections to the servers of site {{site}}: it trusts only
// the site's anchors (pinset-anchors.pem, embedded; never the system's roots), keeps Go's
// check of the address (an IP address must be an iPAddress SAN of the certificate, a DNS name
// a dNSName), and requires a pinned key in the validated chain, the anchor included, with the
// pins of the server dialled, before a request is sent. A host that is not one of the site's
// servers is refused: this package is for the site only.
//
//	client, err := pinsetpin.Client() // make it once, reuse it
//	if err != nil {
//		return err
//	}
//	resp, err := client.Get("https://{{host}}/")
//
// Go 1.19 or later, standard library only.
package pinsetpin
