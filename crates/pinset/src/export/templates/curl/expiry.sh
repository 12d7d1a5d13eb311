
if [ "$(date -u +%Y%m%d)" -gt "$pins_expire_after" ]; then
    # The pins have expired: only the anchors are enforced now.
    pins=
fi
