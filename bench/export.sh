#!/usr/bin/env bash
# Benchmark: pinning configuration for every platform of a site with two servers, with one
# `pinset export all` versus the openssl commands a developer runs to hand-write it (the
# SPKI pins of the anchors and of each server, and the anchors as DER for the Cordova and
# Capacitor plugins). See bench/README.md.
#
#   bench/export.sh                   10 timed runs of openssl, 100 of pinset
#   BENCH_RUNS=3 bench/export.sh
#   PINSET_BIN=/path/pinset bench/export.sh   measure that binary, skip the build
#
# pinset writes 16 targets (about 40 files and an index) where openssl only computes the
# values a person would then paste by hand: the comparison is generous to openssl. Both
# must arrive at the same pins.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-10}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
pinset_runs=$((runs * 10))

need openssl "apt-get install openssl"
need base64 "coreutils"
build_pinset

# The site (untimed): a private CA with its standby, two servers, IPv4, IPv6 and DNS names.
site=$bench_tmp/shop
"$pinset" init "$site" --name shop --ip 192.168.1.10 --ip fd00::10 --dns backoffice.shop.example \
    --server-name backoffice >/dev/null 2>&1
"$pinset" issue server till-3 --site "$site" --ip 192.168.1.23 --dns till-3.local >/dev/null 2>&1
anchors=("$site/pki/authority/ca.pem" "$site/pki/authority/ca-standby.pem")
leaves=("$site/pki/servers/backoffice/cert.pem" "$site/pki/servers/till-3/cert.pem")

# (a) every target, and the index README.
run_pinset() { rm -rf "$1" && "$pinset" export all --site "$site" --out "$1" >/dev/null 2>&1; }

# (b) the values a hand-written configuration needs: 4 pins (4 processes each) and 2 DER files.
run_openssl() {
    local out=$1 c
    rm -rf "$out" && mkdir -p "$out"
    for c in "${anchors[@]}" "${leaves[@]}"; do
        openssl x509 -in "$c" -pubkey -noout | openssl pkey -pubin -outform der \
            | openssl dgst -sha256 -binary | base64
    done >"$out/pins"
    for c in "${anchors[@]}"; do
        openssl x509 -in "$c" -outform der -out "$out/$(basename "$c" .pem).cer"
    done
}

describe_machine ""
echo "site:    private CA + standby, 2 servers (192.168.1.10, fd00::10, 192.168.1.23 and 2 DNS names)"
echo "runs:    $pinset_runs of pinset export all, $runs of the openssl commands (18 processes each)"

for tool in pinset openssl; do : >"$bench_tmp/$tool.wall"; : >"$bench_tmp/$tool.cpu"; done
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

run_pinset "$bench_tmp/warm" # untimed warm-up (page cache)
for ((i = 1; i <= runs; i++)); do
    timed openssl "$bench_tmp/openssl.out"
    for ((j = 1; j <= 10; j++)); do timed pinset "$bench_tmp/pinset.out"; done
    printf '.' >&2
done
printf '\n' >&2

# Same pins? openssl's four must be exactly the Android pins (CA pins) plus curl's leaf pins,
# and the DER anchors the Cordova files.
out=$bench_tmp/pinset.out
files=$(find "$out" -type f | wc -l)
{
    grep -o '<pin digest="SHA-256">[^<]*' "$out/android/res/xml/network_security_config.xml" | sed 's/.*>//' | sort -u
    grep -o "sha256//[A-Za-z0-9+/=]*" "$out/curl/pinset-curl" | sed 's|sha256//||' | sort -u
} | sort -u >"$bench_tmp/pinset.pins"
sort -u "$bench_tmp/openssl.out/pins" >"$bench_tmp/openssl.pins"
if ! cmp -s "$bench_tmp/pinset.pins" "$bench_tmp/openssl.pins"; then
    say "FAIL: the exported pins are not openssl's:"
    diff "$bench_tmp/pinset.pins" "$bench_tmp/openssl.pins" >&2 || true
    exit 1
fi
cmp -s "$out/cordova/www/certificates/pinset-shop-ca.cer" "$bench_tmp/openssl.out/ca.cer" \
    || die "the exported ca.cer is not openssl's DER"
echo "check:   the export carries openssl's 4 pins and DER anchors; it wrote $files files"

echo
echo "pinning configuration of a 2-server site"
printf '%-26s %10s %10s %10s %10s %12s\n' way "mean ms" "median ms" "min ms" "max ms" "cpu ms/run"
for tool in pinset openssl; do
    read -r m med lo hi <<<"$(stats "$bench_tmp/$tool.wall")"
    label="pinset export all"
    [[ $tool == openssl ]] && label="openssl (18 procs)"
    printf '%-26s %10.1f %10.1f %10.1f %10.1f %12.1f\n' "$label" "$m" "$med" "$lo" "$hi" "$(mean "$bench_tmp/$tool.cpu")"
done
echo
echo "ratio openssl/pinset = $(ratio "$(mean "$bench_tmp/openssl.wall")" "$(mean "$bench_tmp/pinset.wall")")x   (mean wall time; > 1 means pinset is faster)"
