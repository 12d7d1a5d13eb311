#!/usr/bin/env bash
# Benchmark: new intercepted connections per second through `pinset mitm --reverse`
# (forged certificates, one full TLS handshake and one request per connection), against
# mitmdump (PyPI mitmproxy) in reverse mode under the same client load, and the server CPU
# each spends per intercepted connection. See bench/README.md.
#
#   bench/mitm.sh                          10 s of load on each, after a warm-up
#   BENCH_SECONDS=30 bench/mitm.sh         longer runs
#   BENCH_CONNECTIONS=32 bench/mitm.sh     more connections in flight (default 16)
#   BENCH_THREADS=2 bench/mitm.sh          more wrk threads (default 1)
#   PINSET_BIN=/path/pinset bench/mitm.sh  measure that binary, skip the build
#
# The load is wrk: every request carries `Connection: close`, so every request is a new
# TCP connection and a new TLS handshake (both servers refuse session resumption or are
# given none to resume: wrk opens each connection afresh). Both harnesses answer every
# request themselves (pinset mitm always does; mitmdump through a four-line addon and
# `connection_strategy=lazy`), so neither opens a connection to the upstream server and
# the same work is measured: accept, forge (cached per name), handshake, read a request,
# answer, close. Only loopback is used; every process started is stopped on exit.
#
# mitmproxy is installed with pip into a venv of the checkout (.tools/mitmproxy-venv) the
# first time; wrk and openssl come from Debian (apt-get install wrk openssl).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-16}
threads=${BENCH_THREADS:-1}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer, not '$seconds'"
[[ $conns =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS must be a positive integer, not '$conns'"
[[ $threads =~ ^[1-9][0-9]*$ ]] || die "BENCH_THREADS must be a positive integer, not '$threads'"

need openssl "apt-get install openssl"
need wrk "apt-get install wrk"
need python3 "apt-get install python3 python3-venv"

pids=()
stop_all() {
    ((${#pids[@]})) || return 0
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
}
trap 'stop_all; rm -rf "$bench_tmp"' EXIT

venv=$repo_root/.tools/mitmproxy-venv
if ! "$venv/bin/mitmdump" --version >/dev/null 2>&1; then
    say "installing mitmproxy into $venv (pip) ..."
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check mitmproxy || die "pip install mitmproxy failed"
fi
mitm_version=$("$venv/bin/mitmdump" --version 2>/dev/null | awk '/^Mitmproxy:/ { print $2 }')

build_pinset

# A port nobody listens on now (bind 0 and let go).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() { # wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s at most)
    local i
    for ((i = 0; i < 200; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    die "nothing listens on 127.0.0.1:$1"
}

# CPU (user + system) a process has used so far, in milliseconds.
proc_cpu_ms() {
    local tick stat
    tick=$(getconf CLK_TCK)
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) } # fields after the command name: state is field 3
    read -r -a f <<<"$stat"
    echo $(((f[11] + f[12]) * 1000 / tick))
}

# The genuine server the harnesses stand in front of (never contacted during the load).
site=$bench_tmp/site
"$pinset" init "$site" --ip 127.0.0.1 >/dev/null 2>&1 || die "pinset init failed"
up_port=$(free_port)
openssl s_server -accept "127.0.0.1:$up_port" -cert "$site/pki/servers/server/cert.pem" \
    -key "$site/pki/servers/server/key.pem" -www -quiet >/dev/null 2>&1 &
pids+=($!)
wait_port "$up_port"

# The mitmdump addon: answer every request itself, as pinset mitm does.
cat >"$bench_tmp/answer.py" <<'PY'
from mitmproxy import http

def request(flow: http.HTTPFlow) -> None:
    flow.response = http.Response.make(502, b"intercepted\n", {"Content-Type": "text/plain"})
PY

# run_load NAME PORT PID: warm-up, then $seconds of wrk; prints "conns_per_s cpu_ms_per_conn conns".
run_load() {
    local name=$1 port=$2 pid=$3 out before after requests rate
    curl -sk "https://127.0.0.1:$port/" -o /dev/null || die "$name does not answer"
    wrk -t"$threads" -c"$conns" -d2s -H 'Connection: close' "https://127.0.0.1:$port/" >/dev/null 2>&1 || true
    before=$(proc_cpu_ms "$pid")
    out=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" -H 'Connection: close' "https://127.0.0.1:$port/")
    after=$(proc_cpu_ms "$pid")
    printf '%s\n' "$out" >"$bench_tmp/wrk-$name.txt"
    requests=$(awk '/requests in/ { print $1 }' <<<"$out")
    [[ $requests =~ ^[0-9]+$ && $requests -gt 0 ]] || die "$name: wrk completed no request:\n$out"
    rate=$(awk -v n="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
    echo "$rate $(awk -v c=$((after - before)) -v n="$requests" 'BEGIN { printf "%.3f", c / n }') $requests"
}

# ---------------------------------------------------------------------------------------------
say "pinset mitm --reverse ..."
p_port=$(free_port)
"$pinset" mitm --reverse "127.0.0.1:$up_port" --listen "127.0.0.1:$p_port" --attack untrusted-ca \
    --ca-dir "$bench_tmp/pinset-ca" --json >"$bench_tmp/pinset.jsonl" 2>"$bench_tmp/pinset.err" &
p_pid=$!
pids+=("$p_pid")
wait_port "$p_port"
read -r p_rate p_cpu p_n < <(run_load pinset "$p_port" "$p_pid")
kill -INT "$p_pid"
wait "$p_pid" || true
# Check: every request wrk counted is a verdict, and every verdict an accepted impostor.
accepted=$(grep -c '"verdict":"accepted-impostor"' "$bench_tmp/pinset.jsonl" || true)
other=$(grep '"type":"verdict"' "$bench_tmp/pinset.jsonl" | grep -vc '"verdict":"accepted-impostor"' || true)
((accepted >= p_n)) || die "pinset recorded $accepted accepted impostors for $p_n requests"
say "  $p_rate connections/s; $accepted accepted impostors recorded, $other other verdicts (wrk's cut connections)"

say "mitmdump --mode reverse ..."
m_port=$(free_port)
"$venv/bin/mitmdump" --mode "reverse:https://127.0.0.1:$up_port" --listen-host 127.0.0.1 --listen-port "$m_port" \
    --set confdir="$bench_tmp/mitmproxy" --set connection_strategy=lazy --set ssl_insecure=true \
    -s "$bench_tmp/answer.py" -q >"$bench_tmp/mitmdump.log" 2>&1 &
m_pid=$!
pids+=("$m_pid")
wait_port "$m_port"
read -r m_rate m_cpu m_n < <(run_load mitmdump "$m_port" "$m_pid")
say "  $m_rate connections/s ($m_n requests)"
stop_all

echo "$(describe_machine "wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), mitmproxy $mitm_version")"
echo "load:    wrk -t$threads -c$conns -d${seconds}s -H 'Connection: close' (a new TLS connection per request)"
printf '%-28s %12s %16s\n' "" "conn/s" "cpu ms/conn"
printf '%-28s %12s %16s\n' "pinset mitm --reverse" "$p_rate" "$p_cpu"
printf '%-28s %12s %16s\n' "mitmdump --mode reverse" "$m_rate" "$m_cpu"
echo "ratio pinset/mitmdump = $(ratio "$p_rate" "$m_rate")x connections per second," \
    "$(ratio "$m_cpu" "$p_cpu")x less CPU per connection"
