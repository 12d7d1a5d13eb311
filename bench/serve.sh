#!/usr/bin/env bash
# bench/serve.sh: `pinset serve` against nginx as the TLS front of the same plain-HTTP
# upstream, with the same ECDSA P-256 certificate, on loopback. The server under test is
# pinned to core 0 (taskset), the load generators and the upstream to core 1. Rows:
#   (a) new TLS 1.3 connections: wrk with `Connection: close` (one request per connection)
#   (b) keep-alive HTTP/1.1 requests through the proxy: wrk
#   (c) HTTP/2 requests through the proxy: h2load -m 10
#   (d) p99 latency at a fixed rate: h2load --h1 --rps, per-request log
#   (e) server memory (RSS) with 10,000 idle TLS connections, on a freshly started server
# Session resumption is off on both servers (every connection of row (a) is a full
# handshake). On 2 cores the load generator saturates before the server, so each row
# reports the server's CPU time per operation (utime + stime from /proc/PID/stat, before and
# after) next to the rate, each as a ratio pinset/nginx measured in the same run.
# Needs nginx, wrk, h2load (nghttp2-client), taskset, python3; see bench/README.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DUR=${BENCH_SECONDS:-10}
IDLE=${BENCH_IDLE:-10000}
RATE=${BENCH_RPS:-2000}
PORT_BASE=${BENCH_PORT:-28440}
need nginx "apt-get install nginx-light"
need wrk "apt-get install wrk"
need h2load "apt-get install nghttp2-client"
need taskset "apt-get install util-linux"
need python3
[[ $(nproc) -ge 2 ]] || die "needs 2 cores: the server on one, the load on the other"
build_pinset
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

upstream_port=$PORT_BASE
nginx_port=$((PORT_BASE + 1))
pinset_port=$((PORT_BASE + 2))
site=$bench_tmp/site
"$pinset" init "$site" --ip 127.0.0.1 --name bench >/dev/null 2>&1
cert=$site/pki/servers/server/chain.pem
key=$site/pki/servers/server/key.pem
ca=$site/pki/authority/ca.pem
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user root root;"

# The upstream: a second nginx, plain HTTP, answering a small body from memory.
mkdir -p "$bench_tmp/upstream" "$bench_tmp/front"
cat >"$bench_tmp/upstream/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $bench_tmp/upstream/nginx.pid;
error_log $bench_tmp/upstream/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $bench_tmp/upstream;
    proxy_temp_path $bench_tmp/upstream;
    fastcgi_temp_path $bench_tmp/upstream;
    uwsgi_temp_path $bench_tmp/upstream;
    scgi_temp_path $bench_tmp/upstream;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$upstream_port;
        location / { default_type text/plain; return 200 "hello from the upstream\n"; }
    }
}
EOF
# The front under comparison: what a team writes by hand today.
cat >"$bench_tmp/front/nginx.conf" <<EOF
$user_line
worker_processes 1;
worker_rlimit_nofile 65536;
pid $bench_tmp/front/nginx.pid;
error_log $bench_tmp/front/error.log warn;
events { worker_connections 20000; }
http {
    access_log $bench_tmp/front/access.log combined buffer=64k flush=1s;
    client_body_temp_path $bench_tmp/front;
    proxy_temp_path $bench_tmp/front;
    fastcgi_temp_path $bench_tmp/front;
    uwsgi_temp_path $bench_tmp/front;
    scgi_temp_path $bench_tmp/front;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_header_timeout 300s;
    upstream app { server 127.0.0.1:$upstream_port; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_port ssl http2;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        http2_max_concurrent_streams 100;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto https;
        }
    }
}
EOF

pids_of() { # PID and its children (nginx: master and worker)
    echo "$1"
    pgrep -P "$1" || true
}
cpu_ticks() { # utime + stime of a process and its children, in clock ticks
    local total=0 p f
    for p in $(pids_of "$1"); do
        f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
        # After "(comm)": state is field 3, utime 14, stime 15 → words 12 and 13.
        set -- $f
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
rss_kib() {
    local total=0 p v
    for p in $(pids_of "$1"); do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$((total + v))
    done
    echo "$total"
}
wait_port() {
    local i
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    die "nothing listens on port $1"
}
tck=$(getconf CLK_TCK)

taskset -c 1 nginx -c "$bench_tmp/upstream/nginx.conf" -g 'daemon off;' 2>>"$bench_tmp/upstream/error.log" &
upstream_pid=$!
server_pid=""
stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -INT "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; kill "$upstream_pid" 2>/dev/null || true; rm -rf "$bench_tmp"' EXIT
wait_port "$upstream_port"

start_server() { # name
    case $1 in
        nginx)
            taskset -c 0 nginx -c "$bench_tmp/front/nginx.conf" -g 'daemon off;' 2>>"$bench_tmp/front/error.log" &
            server_pid=$!
            port=$nginx_port
            ;;
        pinset)
            taskset -c 0 "$pinset" serve --site "$site" --listen "127.0.0.1:$pinset_port" \
                --upstream "http://127.0.0.1:$upstream_port" --no-session-resumption \
                --max-connections 20000 --idle-timeout 300 --handshake-timeout 300 \
                >/dev/null 2>"$bench_tmp/pinset.log" &
            server_pid=$!
            port=$pinset_port
            ;;
    esac
    wait_port "$port"
    url=https://127.0.0.1:$port/
    # Both must answer with the upstream's body, trusting only the site's CA.
    curl -sS --cacert "$ca" "$url" | grep -q "hello from the upstream" || die "$1 does not proxy"
    curl -sS --http2 --cacert "$ca" "$url" | grep -q "hello from the upstream" || die "$1 does not proxy over HTTP/2"
}

# measure NAME ROW CMD…: runs the load on core 1, records ops, rate and server CPU per op.
declare -A rate cpu_us p99 rss_idle rss_base
measure() {
    local name=$1 row=$2
    shift 2
    local before after out ops secs t0 t1
    before=$(cpu_ticks "$server_pid")
    now_us
    t0=$now
    out=$(taskset -c 1 "$@" 2>&1) || die "load generator failed: $*: $out"
    now_us
    t1=$now
    after=$(cpu_ticks "$server_pid")
    case $1 in
        wrk) ops=$(awk '/requests in/ { print $1 }' <<<"$out") ;;
        h2load) ops=$(awk '/^requests:/ { print $8 }' <<<"$out") ;;
    esac
    local errors
    errors=$(grep -E "Non-2xx|Socket errors|errored|timeout [1-9]" <<<"$out" || true)
    [[ -z $errors ]] || say "  $name $row: $errors"
    [[ ${ops:-0} -gt 0 ]] || die "no request completed: $out"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
    rate[$name,$row]=$(awk -v n="$ops" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    cpu_us[$name,$row]=$(awk -v d="$((after - before))" -v t="$tck" -v n="$ops" 'BEGIN { printf "%.1f", d / t * 1e6 / n }')
    say "  $name $row: $ops ops in ${secs}s, ${rate[$name,$row]}/s, ${cpu_us[$name,$row]} µs server CPU per op"
}

idle_client=$(cat <<'PY'
import asyncio, ssl, sys
host, port, n, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])
async def main():
    sem = asyncio.Semaphore(100)
    conns = []
    async def one():
        async with sem:
            r, w = await asyncio.open_connection(host, port, ssl=ctx, server_hostname="127.0.0.1")
            conns.append(w)
    await asyncio.gather(*(one() for _ in range(n)))
    print("open", len(conns), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
PY
)

for name in nginx pinset; do
    say "$name:"
    start_server "$name"
    taskset -c 1 wrk -t1 -c20 -d2s "$url" >/dev/null # warm-up
    measure "$name" a wrk -t1 -c20 -d"${DUR}s" -H 'Connection: close' "$url"
    measure "$name" b wrk -t1 -c50 -d"${DUR}s" "$url"
    measure "$name" c h2load -c10 -m10 -D "$DUR" "$url"
    log=$bench_tmp/$name-latency.log
    per_client=$((RATE / 10))
    measure "$name" d h2load --h1 -c10 --rps "$per_client" -D "$DUR" --log-file="$log" "$url"
    p99[$name]=$(awk '{ print $3 }' "$log" | sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }')
    say "  $name d: p99 ${p99[$name]} ms at $RATE requests/s"
    # Memory on a fresh server: what idle connections cost, not what the rows above left.
    stop_server
    start_server "$name"
    rss_base[$name]=$(rss_kib "$server_pid")
    coproc IDLE_CLIENT { taskset -c 1 python3 -c "$idle_client" 127.0.0.1 "$port" "$IDLE" "$ca"; }
    read -r word opened <&"${IDLE_CLIENT[0]}" || die "the idle client failed"
    [[ $word == open && $opened -eq $IDLE ]] || die "the idle client opened ${opened:-no} connections"
    sleep 1
    rss_idle[$name]=$(rss_kib "$server_pid")
    exec {IDLE_CLIENT[1]}>&-
    wait "$IDLE_CLIENT_PID" 2>/dev/null || true
    say "  $name e: RSS ${rss_base[$name]} KiB, ${rss_idle[$name]} KiB with $IDLE idle TLS connections"
    stop_server
    sleep 1
done

describe_machine
echo "peers:   $("$pinset" --version), $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(h2load --version | head -1)"
echo "setup:   server on core 0, load generator and upstream (nginx, return 200) on core 1; ECDSA P-256, TLS 1.3, X25519; no session resumption; ${DUR}s per row"
echo
printf '%-42s %12s %12s %12s %12s\n' "row" "nginx" "pinset" "pinset/nginx" ""
row() { # label key unit
    printf '%-42s %12s %12s %12s\n' "$1" "$2" "$3" "$(ratio "$3" "$2")x"
}
for r in a b c d; do
    case $r in
        a) label="(a) new TLS 1.3 connections" ;;
        b) label="(b) keep-alive HTTP/1.1, proxied" ;;
        c) label="(c) HTTP/2 -m 10, proxied" ;;
        d) label="(d) HTTP/1.1 at $RATE req/s" ;;
    esac
    row "$label: req/s" "${rate[nginx,$r]}" "${rate[pinset,$r]}"
    row "$label: server CPU µs/op" "${cpu_us[nginx,$r]}" "${cpu_us[pinset,$r]}"
done
row "(d) p99 latency ms at $RATE req/s" "${p99[nginx]}" "${p99[pinset]}"
row "(e) RSS KiB, fresh, no connections" "${rss_base[nginx]}" "${rss_base[pinset]}"
row "(e) RSS KiB, $IDLE idle TLS connections" "${rss_idle[nginx]}" "${rss_idle[pinset]}"
echo
echo "ratio cpu per new connection pinset/nginx = $(ratio "${cpu_us[pinset,a]}" "${cpu_us[nginx,a]}")x   (goal <= 0.45)"
echo "ratio proxied keep-alive requests per server CPU-second pinset/nginx = $(ratio "${cpu_us[nginx,b]}" "${cpu_us[pinset,b]}")x   (goal >= 1.3)"
echo "ratio memory with $IDLE idle connections pinset/nginx = $(ratio "${rss_idle[pinset]}" "${rss_idle[nginx]}")x   (goal <= 1)"
