#!/usr/bin/env bash
# Benchmark: pins of 200 live TLS servers on loopback, with one `pinset pin HOST:PORT …`
# process (it fetches the chains concurrently) versus the usual
# `openssl s_client | openssl x509 | openssl pkey | openssl dgst | base64` per server.
# See bench/README.md.
#
#   bench/live-pins.sh                    3 timed runs of the openssl loop, 30 of pinset
#   BENCH_RUNS=1 bench/live-pins.sh       1 run of openssl, 10 of pinset
#   BENCH_SERVERS=50 bench/live-pins.sh   fewer servers
#   PINSET_BIN=/path/pinset bench/live-pins.sh   measure that binary, skip the build
#
# Only loopback is used: the servers listen on 127.0.0.1, on free ports below the kernel's
# ephemeral range, and are all killed when the script exits (also on error or ^C).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
pinset_runs=$((runs * 10))
count=${BENCH_SERVERS:-200}
if ! [[ $count =~ ^[1-9][0-9]*$ ]] || ((count > 2000)); then
    die "BENCH_SERVERS must be 1 to 2000, not '$count'"
fi

need openssl "apt-get install openssl"
need base64 "coreutils"
need ss "apt-get install iproute2"

# The servers are children of this shell: kill them on exit, before lib.sh's clean-up.
server_pids=()
stop_servers() {
    ((${#server_pids[@]})) || return 0
    kill "${server_pids[@]}" 2>/dev/null || true
    wait "${server_pids[@]}" 2>/dev/null || true
    server_pids=()
}
trap 'stop_servers; rm -rf "$bench_tmp"' EXIT

build_pinset

# ---------------------------------------------------------------------------------------------
# A pinset site for 127.0.0.1 with two server identities (untimed). Servers alternate
# between them, so that comparing the pins port by port also catches a mixed-up port.
site=$bench_tmp/site
"$pinset" init "$site" --ip 127.0.0.1 >/dev/null 2>&1 || die "pinset init failed"
"$pinset" issue server second --site "$site" --ip 127.0.0.1 >/dev/null 2>&1 || die "pinset issue failed"
ca=$site/pki/authority/ca.pem
ids=(server second)
declare -A want # identity -> pin of its certificate
for id in "${ids[@]}"; do
    want[$id]=$("$pinset" pin "$site/pki/servers/$id/cert.pem" | awk '{ print $1 }')
done
[[ ${want[server]} != "${want[second]}" ]] || die "the two identities have the same pin"

# Free ports: $count ports not listening now, from a random start in 20000-27999 (below the
# ephemeral range 32768-60999, where the clients' own sockets get their ports).
mapfile -t used < <(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
declare -A busy
for p in "${used[@]}"; do busy[$p]=1; done
ports=()
for ((p = 20000 + RANDOM % 8000; ${#ports[@]} < count && p < 32768; p++)); do
    [[ -z ${busy[$p]:-} ]] && ports+=("$p")
done
((${#ports[@]} == count)) || die "found only ${#ports[@]} free ports below 32768"

# ---------------------------------------------------------------------------------------------
# $count `openssl s_server` processes, each serving the leaf and the CA (-cert_chain) on its
# own port. -www answers an HTTP GET; the clients here only do the handshake.
say "starting $count openssl s_server on 127.0.0.1 ..."
now_us && s0=$now
: >"$bench_tmp/expected"
for i in "${!ports[@]}"; do
    id=${ids[i % 2]}
    dir=$site/pki/servers/$id
    openssl s_server -quiet -www -accept "127.0.0.1:${ports[i]}" -cert "$dir/cert.pem" -key "$dir/key.pem" \
        -cert_chain "$ca" </dev/null >/dev/null 2>>"$bench_tmp/servers.err" &
    server_pids+=($!)
    echo "${ports[i]} ${want[$id]}" >>"$bench_tmp/expected"
done
sort -n -o "$bench_tmp/expected" "$bench_tmp/expected"

# Wait until every port accepts (ss lists it as listening), at most 60 s.
listening=0
for ((tries = 0; tries < 600; tries++)); do
    listening=$(ss -Htln | awk -v want="${ports[*]}" 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ours[w[i]] = 1 }
        { k = split($4, a, ":"); p = a[k]; if ((p in ours) && !(p in seen)) { seen[p] = 1; c++ } } END { print c + 0 }')
    ((listening == count)) && break
    for pid in "${server_pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "an openssl s_server exited: $(tail -n 3 "$bench_tmp/servers.err")"
    done
    sleep 0.1
done
((listening == count)) || die "only $listening of $count servers listen after 60 s"
now_us && s1=$now
rss_kib=$(ps -o rss= -p "$(IFS=,; echo "${server_pids[*]}")" | awk '{ s += $1 } END { print s }')
echo "servers: $count openssl s_server on 127.0.0.1:${ports[0]}-${ports[count - 1]}," \
    "up in $(((s1 - s0) / 1000)) ms, $((rss_kib / 1024)) MiB resident in all (untimed)"

# ---------------------------------------------------------------------------------------------
# (a) one pinset process for every server. Run in a folder without a site, so it only
# fetches and pins (no validation against a site). Its leaf lines read
# `PIN  127.0.0.1:PORT#1 (leaf)  certificate: …`; output is "PORT PIN".
targets=()
for p in "${ports[@]}"; do targets+=("127.0.0.1:$p"); done
run_pinset() {
    (cd "$bench_tmp" && "$pinset" pin "${targets[@]}" 2>/dev/null) \
        | awk '$3 == "(leaf)" { split($2, a, "[:#]"); print a[2], $1 }' | sort -n >"$1"
}

# (b) per server, the usual pipeline: fetch the chain with s_client, take the first
# certificate (the leaf), its public key, DER, SHA-256, base64.
run_openssl() {
    local p pin
    for p in "${ports[@]}"; do
        pin=$(openssl s_client -connect "127.0.0.1:$p" </dev/null 2>/dev/null | openssl x509 -pubkey -noout \
            | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
        echo "$p $pin"
    done >"$1"
}

describe_machine ""
echo "runs:    $pinset_runs of pinset, $runs of the openssl loop ($((count * 5)) processes each)"

for t in pinset openssl; do : >"$bench_tmp/$t.wall" && : >"$bench_tmp/$t.cpu"; done
timed() { # timed TOOL OUT
    local t0 t1 c0 c1
    children_cpu_ms && c0=$cpu
    now_us && t0=$now
    "run_$1" "$2"
    now_us && t1=$now
    children_cpu_ms && c1=$cpu
    echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$bench_tmp/$1.wall"
    echo "$((c1 - c0))" >>"$bench_tmp/$1.cpu"
}

run_pinset "$bench_tmp/warm.out" # untimed warm-up (page cache, every server once)
for ((i = 1; i <= runs; i++)); do
    timed openssl "$bench_tmp/openssl.out"
    for ((j = 1; j <= 10; j++)); do timed pinset "$bench_tmp/pinset.out"; done
    printf '.' >&2
done
printf '\n' >&2

# ---------------------------------------------------------------------------------------------
# Same pins, port by port, as the certificates each server was given? (last run of each)
for t in pinset openssl; do
    if ! cmp -s "$bench_tmp/$t.out" "$bench_tmp/expected"; then
        say "FAIL: $t's pins differ from the served certificates' ($(wc -l <"$bench_tmp/$t.out") lines):"
        diff "$bench_tmp/expected" "$bench_tmp/$t.out" | head -n 20 >&2 || true
        exit 1
    fi
done
echo "check:   pinset and openssl print, port by port, the pin of the certificate each of the" \
    "$count servers serves (2 identities, alternating)"

echo
echo "SPKI SHA-256 pins of $count live servers on loopback (TLS handshake included)"
printf '%-24s %10s %10s %10s %10s %12s\n' way "mean ms" "median ms" "min ms" "max ms" "cpu ms/run"
for tool in pinset openssl; do
    read -r m med lo hi <<<"$(stats "$bench_tmp/$tool.wall")"
    label=$tool
    [[ $tool == pinset ]] && label="pinset pin (1 proc)"
    [[ $tool == openssl ]] && label="openssl ($((count * 5)) procs)"
    printf '%-24s %10.1f %10.1f %10.1f %10.1f %12.1f\n' "$label" "$m" "$med" "$lo" "$hi" "$(mean "$bench_tmp/$tool.cpu")"
done
echo "(cpu ms/run: the clients' user + system time; the servers' is not counted)"
echo
echo "ratio openssl/pinset = $(ratio "$(mean "$bench_tmp/openssl.wall")" "$(mean "$bench_tmp/pinset.wall")")x   (mean wall time; > 1 means pinset is faster)"
