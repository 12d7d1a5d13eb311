#!/usr/bin/env bash
# Benchmark: 1,000 TLS endpoints on loopback checked by one `pinset check --targets FILE`
# (concurrent probes; chain, both expiries, name, the site's verdict and pins), against the
# shell loop pinning guides teach (`openssl s_client | openssl x509 -noout -enddate`, one
# target after the other) and against blackbox_exporter probing the same targets (one
# /probe request per target, 64 at a time, as a Prometheus scraping it would).
# See bench/README.md.
#
#   bench/check.sh                       1 run of the openssl loop, 10 of pinset and blackbox
#   BENCH_RUNS=3 bench/check.sh          3 runs of the openssl loop, 30 of the others
#   BENCH_ENDPOINTS=200 bench/check.sh   fewer endpoints (a multiple of 4)
#   PINSET_BIN=/path/pinset bench/check.sh   measure that binary, skip its build
#
# Only loopback is used: one process (crates/pinset-check/examples/tls_fleet.rs, plain
# tokio-rustls, not pinset) listens on 127.0.0.1-4, on ports below the kernel's ephemeral
# range; it and blackbox_exporter are killed when the script exits.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-1}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
fast_runs=$((runs * 10))
count=${BENCH_ENDPOINTS:-1000}
if ! [[ $count =~ ^[1-9][0-9]*$ ]] || ((count % 4 != 0 || count > 4000)); then
    die "BENCH_ENDPOINTS must be a multiple of 4 up to 4000, not '$count'"
fi
per_ip=$((count / 4))
concurrency=64

need openssl "apt-get install openssl"
need ss "apt-get install iproute2"
need curl "apt-get install curl"
blackbox=$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter || true)
[[ -n $blackbox ]] || die "blackbox_exporter is required (apt-get install prometheus-blackbox-exporter)"

# 1,000 listeners and the clients' sockets need more than the usual 1,024 open files.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) > count + 2 * concurrency + 64)) || die "too few open files allowed ($(ulimit -n)) for $count endpoints"

pids=()
stop_all() {
    ((${#pids[@]})) || return 0
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
}
trap 'stop_all; rm -rf "$bench_tmp"' EXIT

build_pinset
say "building the endpoint server (cargo build --release -p pinset-check --example tls_fleet) ..."
(cd "$repo_root" && cargo build --release -p pinset-check --example tls_fleet --quiet) || die "cargo build failed"
fleet_bin=$(dirname "$pinset")/examples/tls_fleet
[[ -x $fleet_bin ]] || die "no endpoint server at $fleet_bin"

# ---------------------------------------------------------------------------------------------
# A pinset site for 127.0.0.1-4 (untimed); every endpoint serves its server's chain.
site=$bench_tmp/site
"$pinset" init "$site" --ip 127.0.0.1 --ip 127.0.0.2 --ip 127.0.0.3 --ip 127.0.0.4 >/dev/null 2>&1 \
    || die "pinset init failed"
chain=$site/pki/servers/server/chain.pem
key=$site/pki/servers/server/key.pem
ca=$site/pki/authority/ca.pem
want_end=$(openssl x509 -in "$site/pki/servers/server/cert.pem" -noout -enddate)

# $per_ip ports free on every address, from a random start in 20000-27999 (below the
# ephemeral range 32768-60999, where the clients' own sockets get their ports).
mapfile -t used < <(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
declare -A busy
for p in "${used[@]}"; do busy[$p]=1; done
ports=()
for ((p = 20000 + RANDOM % 8000; ${#ports[@]} < per_ip && p < 32768; p++)); do
    [[ -z ${busy[$p]:-} ]] && ports+=("$p")
done
((${#ports[@]} == per_ip)) || die "found only ${#ports[@]} free ports below 32768"
: >"$bench_tmp/addresses"
: >"$bench_tmp/targets"
for i in 1 2 3 4; do
    for p in "${ports[@]}"; do
        echo "127.0.0.$i:$p" >>"$bench_tmp/addresses"
    done
done
# The inventory: `address name`, the site given with --site.
awk '{ printf "%s shop-%d\n", $1, NR }' "$bench_tmp/addresses" >"$bench_tmp/targets"

say "starting $count TLS endpoints on 127.0.0.1-4 ..."
coproc FLEET { exec "$fleet_bin" "$chain" "$key" "$bench_tmp/addresses" 2>"$bench_tmp/fleet.err"; }
pids+=("$FLEET_PID")
read -r -t 60 ready _n <&"${FLEET[0]}" || die "the endpoint server did not start: $(tail -n 3 "$bench_tmp/fleet.err")"
[[ $ready == ready ]] || die "the endpoint server said '$ready'"

# blackbox_exporter: a tcp probe with TLS, verifying against the site's CA as pinset does.
bb_port=$((20000 + RANDOM % 8000))
while [[ -n ${busy[$bb_port]:-} ]] || printf '%s\n' "${ports[@]}" | grep -qx "$bb_port"; do bb_port=$((bb_port + 1)); done
cat >"$bench_tmp/blackbox.yml" <<EOF
modules:
  tls:
    prober: tcp
    timeout: 10s
    tcp:
      tls: true
      tls_config:
        ca_file: $ca
EOF
"$blackbox" --config.file="$bench_tmp/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
    --log.level=error >"$bench_tmp/blackbox.log" 2>&1 &
pids+=($!)
for ((tries = 0; tries < 100; tries++)); do
    curl -fsS "http://127.0.0.1:$bb_port/" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$bb_port/" >/dev/null || die "blackbox_exporter did not start: $(tail -n 3 "$bench_tmp/blackbox.log")"
: >"$bench_tmp/blackbox.curl"
while read -r t; do
    echo "url = \"http://127.0.0.1:$bb_port/probe?module=tls&target=$t\""
done <"$bench_tmp/addresses" >"$bench_tmp/blackbox.curl"

# ---------------------------------------------------------------------------------------------
# (a) pinset: one process, every endpoint, judged against the site.
run_pinset() {
    "$pinset" check --site "$site" --targets "$bench_tmp/targets" --concurrency "$concurrency" --json >"$1" || true
}
# (b) the openssl loop, one endpoint after the other: its certificate's end date.
run_openssl() {
    local t
    while read -r t; do
        openssl s_client -connect "$t" </dev/null 2>/dev/null | openssl x509 -noout -enddate
    done <"$bench_tmp/addresses" >"$1"
}
# (c) blackbox_exporter: one /probe per endpoint, $concurrency at once, one curl process.
run_blackbox() {
    curl -sS --no-progress-meter --parallel --parallel-max "$concurrency" -K "$bench_tmp/blackbox.curl" >"$1" 2>>"$bench_tmp/curl.err"
}

describe_machine "$("$blackbox" --version 2>&1 | head -n 1 | awk '{ print "blackbox_exporter " $3 }')"
echo "runs:    $fast_runs of pinset and blackbox_exporter, $runs of the openssl loop ($((count * 2)) processes each)"

for t in pinset openssl blackbox; do : >"$bench_tmp/$t.wall" && : >"$bench_tmp/$t.cpu"; done
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

run_pinset "$bench_tmp/warm.out" # untimed warm-up (page cache, every endpoint once)
run_blackbox "$bench_tmp/warm.bb"
for ((i = 1; i <= runs; i++)); do
    timed openssl "$bench_tmp/openssl.out"
    for ((j = 1; j <= 10; j++)); do
        timed pinset "$bench_tmp/pinset.out"
        timed blackbox "$bench_tmp/blackbox.out"
    done
    printf '.' >&2
done
printf '\n' >&2

# ---------------------------------------------------------------------------------------------
# Did each way see every endpoint, healthy? (last run of each)
# The first `"ok": N` of the JSON is the round's count of targets found OK.
ok=$(grep -m1 -o '"ok": [0-9]*' "$bench_tmp/pinset.out" | awk '{ print $2 }')
active=$(grep -c '"kind": "active"' "$bench_tmp/pinset.out" || true)
((${ok:-0} == count && active == count)) \
    || die "pinset: ${ok:-0} of $count targets ok, $active with the active pin: $(head -c 1000 "$bench_tmp/pinset.out")"
ends=$(grep -cx "$want_end" "$bench_tmp/openssl.out" || true)
((ends == count)) || die "openssl: $ends of $count endpoints gave the served certificate's end date"
succeeded=$(grep -cx 'probe_success 1' "$bench_tmp/blackbox.out" || true)
((succeeded == count)) || die "blackbox_exporter: probe_success 1 for $succeeded of $count endpoints"
echo "check:   every way saw all $count endpoints: pinset OK with the active pin, openssl the served" \
    "end date, blackbox_exporter probe_success 1"

echo
echo "$count TLS endpoints on loopback checked (TLS handshake and chain)"
printf '%-34s %10s %10s %10s %10s %12s\n' way "mean ms" "median ms" "min ms" "max ms" "cpu ms/run"
for tool in pinset blackbox openssl; do
    read -r m med lo hi <<<"$(stats "$bench_tmp/$tool.wall")"
    case $tool in
    pinset) label="pinset check (1 proc, $concurrency at once)" ;;
    blackbox) label="blackbox_exporter ($concurrency at once)" ;;
    openssl) label="openssl loop ($((count * 2)) procs)" ;;
    esac
    printf '%-34s %10.1f %10.1f %10.1f %10.1f %12.1f\n' "$label" "$m" "$med" "$lo" "$hi" "$(mean "$bench_tmp/$tool.cpu")"
done
echo "(cpu ms/run: the clients' user + system time, curl's for blackbox_exporter; not the endpoints'," \
    "nor blackbox_exporter's own)"
echo
echo "ratio openssl/pinset  = $(ratio "$(mean "$bench_tmp/openssl.wall")" "$(mean "$bench_tmp/pinset.wall")")x   (mean wall time; > 1 means pinset is faster)"
echo "ratio blackbox/pinset = $(ratio "$(mean "$bench_tmp/blackbox.wall")" "$(mean "$bench_tmp/pinset.wall")")x"
