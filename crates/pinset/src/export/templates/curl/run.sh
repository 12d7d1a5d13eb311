
status=0
if [ -n "$pins" ]; then
    curl -q --cacert "$anchors" --capath /dev/null --noproxy '*' --proto =https --proto-redir =https \
        --pinnedpubkey "$pins" "$@" || status=$?
else
    curl -q --cacert "$anchors" --capath /dev/null --noproxy '*' --proto =https --proto-redir =https \
        "$@" || status=$?
fi
case $status in
    90)
        # The handshake stopped before any request was sent. Ask curl again, each URL alone,
        # which key it saw: -v prints it as "public key hash" (and a server that matches now
        # gets a HEAD request).
        printf '%s' "$urls" | while IFS= read -r url; do
            report=$(curl -q -sv -I -o /dev/null --cacert "$anchors" --capath /dev/null --noproxy '*' \
                --proto =https --pinnedpubkey "$pins" "$url" 2>&1) || true
            case $report in
                *'does not match pinned'*) ;;
                *) continue ;;
            esac
            {
                printf 'pinset-curl: Certificate pinning failure for %s (server %s of site %s)!\n' \
                    "$url" "$chosen" "$site"
                printf '  Server key (curl checks the leaf certificate only):\n'
                printf '%s\n' "$report" | sed -n 's/^\* *public key hash: /    /p'
                printf '  Pinned keys for %s:\n' "$(url_host "$url")"
                printf '%s\n' "$pins" | tr ';' '\n' | sed 's/^/    /'
            } >&2
        done
        ;;
    60)
        printf 'pinset-curl: the certificate does not chain to an anchor of site %s (%s) or does not name the address dialled\n' \
            "$site" "$anchors" >&2
        ;;
esac
exit "$status"
