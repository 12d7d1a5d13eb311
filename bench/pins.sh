#!/usr/bin/env bash
# Benchmark: SPKI SHA-256 pins with `pinset pin` versus the openssl pipeline pinning guides
# teach (`openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst
# -sha256 -binary | base64`), as whole processes. See bench/README.md. Two rows:
#
#   one:    the pin of one certificate: one pinset process against one pipeline.
#   bundle: the pins of 1,000 certificates: one pinset process against the pipeline run
#           once per certificate.
#
#   bench/pins.sh                   200 runs of each for one; 3 of openssl, 30 of pinset for the bundle
#   BENCH_RUNS=1 bench/pins.sh      bundle: 1 run of openssl, 10 of pinset
#   BENCH_ONE_RUNS=50 bench/pins.sh one certificate: 50 runs of each
#   BENCH_CERTS=200 bench/pins.sh   a smaller bundle
#   PINSET_BIN=/path/pinset bench/pins.sh   measure that binary, skip the build
#
# For the bundle pinset takes milliseconds where openssl takes a minute, so pinset is run 10
# times as often to get a stable mean. Both must print the same pins (compared as sorted
# lists).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$runs'"
pinset_runs=$((runs * 10))
one_runs=${BENCH_ONE_RUNS:-200}
[[ $one_runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_ONE_RUNS must be a positive integer, not '$one_runs'"
count=${BENCH_CERTS:-1000}
[[ $count =~ ^[1-9][0-9]*$ ]] || die "BENCH_CERTS must be a positive integer, not '$count'"

need openssl "apt-get install openssl"
need base64 "coreutils"
build_pinset

# ---------------------------------------------------------------------------------------------
# One certificate (P-256, untimed), pinned by one pinset process and by one pipeline (4
# processes), interleaved.
one=$bench_tmp/one.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=bench-one/O=pinset bench" -days 30 -out "$one" 2>/dev/null
one_pinset() { "$pinset" pin "$one" >"$1"; }
one_openssl() {
    openssl x509 -in "$one" -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | base64 >"$1"
}
for tool in pinset openssl; do : >"$bench_tmp/one-$tool.wall" && : >"$bench_tmp/one-$tool.cpu"; done
for tool in pinset openssl; do "one_$tool" "$bench_tmp/one-$tool.out"; done # untimed warm-up
for ((i = 1; i <= one_runs; i++)); do
    for tool in pinset openssl; do
        children_cpu_ms && c0=$cpu
        now_us && t0=$now
        "one_$tool" "$bench_tmp/one-$tool.out"
        now_us && t1=$now
        children_cpu_ms && c1=$cpu
        echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$bench_tmp/one-$tool.wall"
        echo "$((c1 - c0))" >>"$bench_tmp/one-$tool.cpu"
    done
    ((i % 20)) || printf '.' >&2
done
printf '\n' >&2
one_pin=$(awk '{ print $1 }' "$bench_tmp/one-pinset.out")
[[ -n $one_pin && $one_pin == "$(cat "$bench_tmp/one-openssl.out")" ]] \
    || die "one certificate: pinset says '$one_pin', openssl '$(cat "$bench_tmp/one-openssl.out")'"

# ---------------------------------------------------------------------------------------------
# The bundle: $count self-signed certificates, each with its own key, so every pin is
# distinct. Mostly P-256, with some P-384, Ed25519 and RSA-2048 so that pins of every
# common key type are compared: certificate i is RSA-2048 when i % 20 == 0, P-384 when
# i % 10 == 5, Ed25519 when i % 10 == 7, else P-256. Made with openssl in parallel (one
# process per certificate, on every core); the keys are thrown away.
gen=$bench_tmp/gen
mkdir -p "$gen"
say "generating a bundle of $count certificates on $(nproc) cores ..."
now_us && g0=$now
# shellcheck disable=SC2016 # the inner script is single-quoted on purpose
seq 1 "$count" | xargs -P "$(nproc)" -n 25 bash -c '
    dir=$1; shift
    for i in "$@"; do
        if ((i % 20 == 0)); then key=(-newkey rsa:2048)
        elif ((i % 10 == 5)); then key=(-newkey ec -pkeyopt ec_paramgen_curve:P-384)
        elif ((i % 10 == 7)); then key=(-newkey ed25519)
        else key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
        openssl req -x509 "${key[@]}" -nodes -keyout /dev/null -subj "/CN=bench-$i/O=pinset bench" \
            -days 30 -out "$dir/$(printf %05d "$i").pem" 2>/dev/null || { echo "openssl failed for $i" >&2; exit 255; }
    done' gen "$gen"
bundle=$bench_tmp/bundle.pem
cat "$gen"/*.pem >"$bundle"
rm -rf "$gen"
now_us && g1=$now
in_bundle=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$bundle")
((in_bundle == count)) || die "the bundle holds $in_bundle certificates, not $count"
echo "bundle:  $count certificates, $(($(wc -c <"$bundle") / 1024)) KiB, made in $(((g1 - g0) / 1000000)) s (untimed)"

# ---------------------------------------------------------------------------------------------
# (a) one pinset process for the whole bundle; its first column is the pin.
run_pinset() { "$pinset" pin "$bundle" >"$1"; }

# (b) split the bundle (awk, part of the timing), then per certificate the usual pipeline.
run_openssl() {
    local split=$bench_tmp/split c
    rm -rf "$split" && mkdir -p "$split"
    awk -v dir="$split" '/-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/c%05d.pem", dir, n) }
        f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }' "$bundle"
    for c in "$split"/c*.pem; do
        openssl x509 -in "$c" -pubkey -noout | openssl pkey -pubin -outform der \
            | openssl dgst -sha256 -binary | base64
    done >"$1"
}

describe_machine ""
echo "runs:    one certificate: $one_runs of each, interleaved; bundle: $pinset_runs of pinset, $runs of the openssl pipeline ($((count * 4)) processes each)"

: >"$bench_tmp/pinset.wall"
: >"$bench_tmp/openssl.wall"
: >"$bench_tmp/pinset.cpu"
: >"$bench_tmp/openssl.cpu"
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

run_pinset "$bench_tmp/warm.out" # untimed warm-up (page cache)
for ((i = 1; i <= runs; i++)); do
    timed openssl "$bench_tmp/openssl.out"
    for ((j = 1; j <= 10; j++)); do timed pinset "$bench_tmp/pinset.out"; done
    printf '.' >&2
done
printf '\n' >&2

# ---------------------------------------------------------------------------------------------
# Same pins? (from the last run of each)
awk '{ print $1 }' "$bench_tmp/pinset.out" | sort >"$bench_tmp/pinset.sorted"
sort "$bench_tmp/openssl.out" >"$bench_tmp/openssl.sorted"
n_pinset=$(wc -l <"$bench_tmp/pinset.sorted")
n_openssl=$(wc -l <"$bench_tmp/openssl.sorted")
n_distinct=$(sort -u "$bench_tmp/pinset.sorted" | wc -l)
if ! cmp -s "$bench_tmp/pinset.sorted" "$bench_tmp/openssl.sorted"; then
    say "FAIL: pinset and openssl disagree ($n_pinset pins from pinset, $n_openssl from openssl):"
    diff "$bench_tmp/pinset.sorted" "$bench_tmp/openssl.sorted" | head -n 20 >&2 || true
    exit 1
fi
((n_pinset == count && n_distinct == count)) \
    || die "expected $count distinct pins, got $n_pinset lines ($n_distinct distinct)"
echo "check:   pinset and openssl print the same pin of one certificate, and the same $count distinct pins of the bundle"

echo
echo "SPKI SHA-256 pin of one certificate"
printf '%-22s %10s %10s %10s %10s %12s\n' way "mean ms" "median ms" "min ms" "max ms" "cpu ms/run"
for tool in pinset openssl; do
    read -r m med lo hi <<<"$(stats "$bench_tmp/one-$tool.wall")"
    label="pinset pin (1 proc)"
    [[ $tool == openssl ]] && label="openssl (4 procs)"
    printf '%-22s %10.1f %10.1f %10.1f %10.1f %12.1f\n' "$label" "$m" "$med" "$lo" "$hi" "$(mean "$bench_tmp/one-$tool.cpu")"
done
echo
echo "ratio openssl/pinset (one certificate) = $(ratio "$(mean "$bench_tmp/one-openssl.wall")" "$(mean "$bench_tmp/one-pinset.wall")")x   (mean wall time; > 1 means pinset is faster)"

echo
echo "SPKI SHA-256 pins of $count certificates"
printf '%-22s %10s %10s %10s %10s %12s\n' way "mean ms" "median ms" "min ms" "max ms" "cpu ms/run"
for tool in pinset openssl; do
    read -r m med lo hi <<<"$(stats "$bench_tmp/$tool.wall")"
    label=$tool
    [[ $tool == pinset ]] && label="pinset pin (1 proc)"
    [[ $tool == openssl ]] && label="openssl ($((count * 4)) procs)"
    printf '%-22s %10.1f %10.1f %10.1f %10.1f %12.1f\n' "$label" "$m" "$med" "$lo" "$hi" "$(mean "$bench_tmp/$tool.cpu")"
done
echo
echo "ratio openssl/pinset = $(ratio "$(mean "$bench_tmp/openssl.wall")" "$(mean "$bench_tmp/pinset.wall")")x   (mean wall time; > 1 means pinset is faster)"
