#!/bin/sh
{{provenance}}
#
# openssl s_server -www with the leaf and its CA (-cert_chain), so the whole chain is sent:
# `-cert chain.pem` alone sends only the leaf. One connection at a time, a status page for
# every request (the client certificate included): for trying a client, not for production.
# With client certificates, -verify_return_error: without it s_server only prints a failed
# verification (a foreign or revoked certificate) and carries on.
exec openssl s_server -www \
    -accept {{first_addr}} \
    -cert {{cert}} \
    -key {{key}} \
{{#issuer}}
    -cert_chain {{issuer_path}} \
{{/issuer}}
{{#mtls}}
{{#require}}
    -Verify 1 \
{{/require}}
{{^require}}
    -verify 1 \
{{/require}}
    -CAfile {{client_ca}} \
    -CRL {{crl}} -crl_check \
    -verify_return_error \
{{/mtls}}
    -min_protocol TLSv1.2 \
    "$@"
