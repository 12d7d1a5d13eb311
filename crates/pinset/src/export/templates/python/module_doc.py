
"""HTTPS to the servers of site {{site}}, with Python's standard library alone.

Trusts only the site's anchors (pinset-anchors.pem, beside this file; never the system's
roots), keeps the check of the address (an IP address must be an iPAddress SAN of the
certificate, a DNS name a dNSName), and requires a pinned key in the validated chain, the
anchor included, with the pins of the server dialled. The pins are checked right after
the handshake, before a request is sent. A host that is not one of the site's servers is
refused: this module is for the site only.

    import pinset_pinning

    with pinset_pinning.urlopen("https://{{host}}/") as response:
        body = response.read()

    conn = pinset_pinning.HTTPSConnection("{{host}}")  # http.client
    sock = pinset_pinning.connect("{{host}}", 443)     # an ssl.SSLSocket

A refused server raises PinningError, an ssl.SSLCertVerificationError whose message lists
the chain's pins and the pins expected; urllib wraps it in a URLError. Run as a program it
fetches a URL and prints the body: python3 pinset_pinning.py https://{{host}}/

Python 3.7 or later. The validated chain is visible from Python 3.10 on; older releases
show only the server's own certificate, so pins of a CA never match there.
"""
