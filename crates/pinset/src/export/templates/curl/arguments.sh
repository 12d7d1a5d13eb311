
die() {
    printf 'pinset-curl: %s\n' "$*" >&2
    exit 2
}

# Whether host $1 is one of the addresses that follow.
names() {
    host=$1
    shift
    for pattern in "$@"; do
        case $pattern in
            '*.'*)
                label=${host%"${pattern#\*}"}
                if [ "$label" != "$host" ] && [ -n "$label" ]; then
                    case $label in
                        *.*) ;;
                        *) return 0 ;;
                    esac
                fi
                ;;
            *)
                if [ "$host" = "$pattern" ]; then
                    return 0
                fi
                ;;
        esac
    done
    return 1
}

# The host of URL $1: lower case, without brackets (IPv6), zone or trailing dot.
url_host() {
    rest=${1#*://}
    rest=${rest%%[/?#]*}
    rest=${rest##*@}
    case $rest in
        \[*)
            rest=${rest#\[}
            rest=${rest%%]*}
            ;;
        *) rest=${rest%%:*} ;;
    esac
    rest=${rest%%\%*}
    rest=${rest%.}
    printf '%s\n' "$rest" | tr '[:upper:]' '[:lower:]'
}

chosen=
urls=
for arg in "$@"; do
    case $arg in
        -k | --insecure | --cacert | --capath | --pinnedpubkey | --ca-native | -K | --config | -: | --next)
            die "$arg would undo the check of the site's anchors or pins: leave it out" ;;
        --proto | --proto-redir | --proto-default)
            die "$arg would let curl leave TLS (only https:// reaches the site, redirects included): leave it out" ;;
        --*) ;;
        -?*)
            # Short options, perhaps several in one word (-sSk): each letter up to the first
            # that takes a value (the rest of the word is that value).
            letters=${arg#-}
            while [ -n "$letters" ]; do
                rest=${letters#?}
                case ${letters%"$rest"} in
                    k | K | :) die "$arg holds -k, -K or -:, which would undo the check of the site's anchors or pins: leave it out" ;;
                    [AbcCdDeEFHmoPQrtTuUwxXyYz]) break ;;
                esac
                letters=$rest
            done
            ;;
        *://*)
            scheme=$(printf '%s\n' "${arg%%://*}" | tr '[:upper:]' '[:lower:]')
            if [ "$scheme" != https ]; then
                die "$arg is not an https:// URL: only https:// reaches the servers of site $site"
            fi
            host=$(url_host "$arg")
            if ! server_for "$host"; then
                die "$host is not an address of site $site ($addresses); write an IP address as listed"
            fi
            if [ -n "$chosen" ] && [ "$chosen" != "$server" ]; then
                die "the URLs name two servers, $chosen and $server: run pinset-curl once for each"
            fi
            chosen=$server
            urls="$urls$arg
"
            ;;
    esac
done
if [ -z "$chosen" ]; then
    die "give an https:// URL of a server of site $site ($addresses): pinset-curl [curl options] https://HOST/"
fi
if [ ! -r "$anchors" ]; then
    die "cannot read $anchors: keep it beside this script"
fi
