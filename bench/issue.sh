#!/usr/bin/env bash
# Benchmark: issue certificates for an address as whole processes, with pinset, with the
# openssl CLI and with mkcert. See bench/README.md. Two rows:
#
#   EC:  a CA (+ standby CA for pinset and openssl) and a P-256 server certificate for one
#        address: `pinset init` against `mkcert -ecdsa` and 4 openssl processes.
#   RSA: the same plus an RSA-2048 server certificate for a second address.
#
#   bench/issue.sh                        400 EC runs and 100 RSA runs of each tool
#   BENCH_RUNS=30 bench/issue.sh          30 RSA runs (and 4 x 30 EC runs)
#   PINSET_BIN=/path/pinset bench/issue.sh   measure that binary, skip the build
#
# Runs are interleaved (pinset, openssl, mkcert, pinset, ...) after one untimed warm-up of
# each, so that drift of the machine hits every tool alike. Every run starts from an empty
# folder: nothing is reused between runs, each run creates its own CA.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-100}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
# An EC run takes milliseconds, an RSA run hundreds: the EC row runs 4 times as often.
ec_runs=$((runs * 4))

need openssl "apt-get install openssl"
build_pinset

# ---------------------------------------------------------------------------------------------
# mkcert: install it if missing (Debian package), else skip it.
have_mkcert=0
if command -v mkcert >/dev/null 2>&1; then
    have_mkcert=1
elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "mkcert is missing: apt-get install mkcert ..."
    if { apt-get install -y -qq mkcert || { apt-get update -qq && apt-get install -y -qq mkcert; }; } \
        >"$bench_tmp/apt.log" 2>&1 && command -v mkcert >/dev/null 2>&1; then
        have_mkcert=1
    else
        say "mkcert could not be installed (see below); skipping mkcert"
        tail -n 5 "$bench_tmp/apt.log" >&2 || true
    fi
else
    say "mkcert is not installed and cannot be installed here (needs root and apt-get); skipping mkcert"
fi

# ---------------------------------------------------------------------------------------------
# The ways. Each takes an empty folder $1. Every command is a simple command forked by this
# shell (no subshell around it), as pinset's is.

ec_pinset() { "$pinset" init "$1/site" --ip 192.168.1.10 >/dev/null; }
rsa_pinset() {
    ec_pinset "$1"
    "$pinset" issue server rsa --site "$1/site" --ip 192.168.1.11 --key-type rsa2048 >/dev/null
}

# Extension files of the openssl leaves (static text, written once, outside the timing).
conf=$bench_tmp/openssl-conf
mkdir -p "$conf"
for which in p256:192.168.1.10:digitalSignature rsa:192.168.1.11:digitalSignature,keyEncipherment; do
    IFS=: read -r name ip ku <<<"$which"
    cat >"$conf/$name.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, $ku
extendedKeyUsage = serverAuth
subjectAltName = IP:$ip
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
done

# What a careful admin types: two CA key pairs + self-signed CA certificates (`req -x509`
# generates the key and signs in one process), then per leaf a key + CSR (`req -new -newkey`)
# and a certificate signed by the CA (`x509 -req`). Four openssl processes for the EC row,
# six for the RSA row.
ec_openssl() {
    local d=$1 ca
    for ca in ca ca-standby; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes \
            -keyout "$d/$ca.key" -out "$d/$ca.pem" -days 3650 \
            -subj "/CN=bench $ca/O=bench" \
            -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
            -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    done
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes \
        -keyout "$d/p256.key" -out "$d/p256.csr" -subj "/CN=192.168.1.10/O=bench" 2>/dev/null
    openssl x509 -req -in "$d/p256.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -CAserial "$d/ca.srl" -days 397 -sha256 \
        -extfile "$conf/p256.ext" -out "$d/p256.pem" 2>/dev/null
}
rsa_openssl() {
    local d=$1
    ec_openssl "$d"
    openssl req -new -newkey rsa:2048 -sha256 -nodes \
        -keyout "$d/rsa.key" -out "$d/rsa.csr" -subj "/CN=192.168.1.11/O=bench" 2>/dev/null
    openssl x509 -req -in "$d/rsa.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -CAserial "$d/ca.srl" -days 397 -sha256 \
        -extfile "$conf/rsa.ext" -out "$d/rsa.pem" 2>/dev/null
}

# mkcert without -install never writes a trust store (only `mkcert -install` does). Without
# -install it would still *check* the system/NSS/Java stores (read-only) to print a warning;
# TRUST_STORES=none skips those checks, so only certificate work is timed. CAROOT is a fresh
# folder per run: the first call creates the CA there. The -ecdsa call comes first, so the CA
# is P-256 like pinset's (mkcert makes an RSA-3072 CA when its first call is an RSA one).
ec_mkcert() {
    CAROOT=$1/caroot TRUST_STORES=none mkcert -ecdsa -cert-file "$1/ec.pem" -key-file "$1/ec-key.pem" \
        192.168.1.10 >/dev/null 2>&1
}
rsa_mkcert() {
    ec_mkcert "$1"
    CAROOT=$1/caroot TRUST_STORES=none mkcert -cert-file "$1/rsa.pem" -key-file "$1/rsa-key.pem" \
        192.168.1.11 >/dev/null 2>&1
}

tools=(pinset openssl)
((have_mkcert)) && tools+=(mkcert)

# ---------------------------------------------------------------------------------------------
# Check once that every way really yields valid certificates (untimed).
check_chain() { # check_chain TOOL CA LEAF IP
    local out
    out=$(openssl verify -purpose sslserver -CAfile "$2" "$3" 2>&1) || die "$1: $3 does not verify: $out"
    openssl x509 -in "$3" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$4" \
        || die "$1: $3 does not name IP:$4"
}
check_key() { # check_key TOOL LEAF KIND(EC|RSA)
    local text
    text=$(openssl x509 -in "$2" -noout -text)
    case $3 in
        EC) grep -q 'NIST CURVE: P-256' <<<"$text" || die "$1: $2 is not a P-256 key" ;;
        RSA) grep -q 'Public-Key: (2048 bit)' <<<"$text" || die "$1: $2 is not an RSA-2048 key" ;;
    esac
}
echo "checking the output of each tool once ..."
for tool in "${tools[@]}"; do
    d=$bench_tmp/check-$tool
    mkdir -p "$d"
    "rsa_$tool" "$d" # also the warm-up run
    case $tool in
        pinset) ca=$d/site/pki/authority/ca.pem ec=$d/site/pki/servers/server/cert.pem rsa=$d/site/pki/servers/rsa/cert.pem ;;
        openssl) ca=$d/ca.pem ec=$d/p256.pem rsa=$d/rsa.pem ;;
        mkcert) ca=$d/caroot/rootCA.pem ec=$d/ec.pem rsa=$d/rsa.pem ;;
    esac
    check_chain "$tool" "$ca" "$ec" 192.168.1.10
    check_chain "$tool" "$ca" "$rsa" 192.168.1.11
    check_key "$tool" "$ec" EC
    check_key "$tool" "$rsa" RSA
    echo "  $tool: CA + P-256 leaf + RSA-2048 leaf verify (openssl verify -purpose sslserver)"
done
openssl verify -purpose sslserver -CAfile "$bench_tmp/check-openssl/ca-standby.pem" \
    "$bench_tmp/check-openssl/p256.pem" >/dev/null 2>&1 \
    && die "openssl: the leaf verifies under the standby CA too (they should be distinct)"
[[ -e $bench_tmp/check-pinset/site/pki/authority/ca-standby.pem ]] || die "pinset: no standby CA"

# fsyncs of one EC run of each tool (untimed; needs strace): pinset's writes are durable,
# the others' are not.
if command -v strace >/dev/null 2>&1; then
    line="fsyncs:  one EC run:"
    for tool in "${tools[@]}"; do
        d=$bench_tmp/strace-$tool
        mkdir -p "$d"
        # strace runs programs, not shell functions: hand the function to a new bash.
        strace -f -qq -c -e trace=fsync,fdatasync,sync_file_range,syncfs -o "$d.strace" \
            bash -c "$(declare -f "ec_$tool"); pinset=${pinset@Q} conf=${conf@Q}; ec_$tool ${d@Q}" \
            >/dev/null 2>&1 || die "strace could not run ec_$tool"
        line+=" $tool $(awk '$NF ~ /^(fsync|fdatasync|sync_file_range|syncfs)$/ { n += $4 } END { print n + 0 }' "$d.strace"),"
    done
    echo "${line%,}"
fi

# ---------------------------------------------------------------------------------------------
describe_machine "$( ((have_mkcert)) && echo "mkcert $(mkcert -version 2>/dev/null)")"
echo "runs:    $ec_runs (EC) and $runs (RSA) of each tool, interleaved"

# measure ROW RUNS: times "ROW_TOOL DIR" for every tool, interleaved, into ROW-TOOL.{wall,cpu}.
measure() {
    local row=$1 n=$2 i tool d c0 c1 t0 t1
    for tool in "${tools[@]}"; do : >"$bench_tmp/$row-$tool.wall" && : >"$bench_tmp/$row-$tool.cpu"; done
    for ((i = 1; i <= n; i++)); do
        for tool in "${tools[@]}"; do
            d=$bench_tmp/run-$row-$tool-$i
            mkdir -p "$d"
            children_cpu_ms && c0=$cpu
            now_us && t0=$now
            "${row}_$tool" "$d"
            now_us && t1=$now
            children_cpu_ms && c1=$cpu
            echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$bench_tmp/$row-$tool.wall"
            echo "$((c1 - c0))" >>"$bench_tmp/$row-$tool.cpu"
            rm -rf "$d"
        done
        ((i % 10)) || printf '.' >&2
    done
    printf '\n' >&2
}

# report ROW TITLE: the table and the ratios of the mean wall times.
report() {
    local row=$1 tool m med lo hi p
    echo
    echo "$2"
    printf '%-8s %10s %10s %10s %10s %12s\n' tool "mean ms" "median ms" "min ms" "max ms" "cpu ms/run"
    for tool in "${tools[@]}"; do
        read -r m med lo hi <<<"$(stats "$bench_tmp/$row-$tool.wall")"
        printf '%-8s %10.1f %10.1f %10.1f %10.1f %12.1f\n' "$tool" "$m" "$med" "$lo" "$hi" "$(mean "$bench_tmp/$row-$tool.cpu")"
    done
    p=$(mean "$bench_tmp/$row-pinset.wall")
    echo "ratio openssl/pinset = $(ratio "$(mean "$bench_tmp/$row-openssl.wall")" "$p")x   (mean wall time; > 1 means pinset is faster)"
    if ((have_mkcert)); then
        echo "ratio mkcert/pinset = $(ratio "$(mean "$bench_tmp/$row-mkcert.wall")" "$p")x"
    else
        echo "ratio mkcert/pinset = skipped (mkcert not available)"
    fi
}

measure ec "$ec_runs"
measure rsa "$runs"
report ec "EC: CA (+ standby CA for pinset and openssl) + P-256 leaf, $ec_runs runs each"
report rsa "RSA: CA (+ standby CA for pinset and openssl) + P-256 leaf + RSA-2048 leaf, $runs runs each"
