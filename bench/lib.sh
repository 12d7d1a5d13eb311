# shellcheck shell=bash
# Shared helpers of bench/issue.sh and bench/pins.sh. Sourced, not run.
# They set globals the scripts read: bench_tmp, pinset, now (now_us), cpu (children_cpu_ms).
# shellcheck disable=SC2034
#
# Nothing here touches the network: the benchmarks only write certificates that *name*
# 192.168.1.x addresses.

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(git -C "$bench_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$bench_dir/.." && pwd))

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A temporary folder, removed when the script exits (also on error or ^C).
bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinset-bench.XXXXXX")
trap 'rm -rf "$bench_tmp"' EXIT
trap 'exit 130' INT TERM
trap 'say "error: command failed at ${BASH_SOURCE[0]##*/} line $LINENO: $BASH_COMMAND"' ERR

# build_pinset: builds the release binary once and sets $pinset. PINSET_BIN=/path/to/pinset
# skips the build and measures that binary instead (e.g. one built with other flags).
build_pinset() {
    if [[ -n ${PINSET_BIN:-} ]]; then
        pinset=$PINSET_BIN
        [[ -x $pinset ]] || die "PINSET_BIN=$pinset is not an executable"
        say "using PINSET_BIN=$pinset (no build)"
        return
    fi
    say "building pinset (cargo build --release -p pinset-cli) ..."
    (cd "$repo_root" && cargo build --release -p pinset-cli --quiet) || die "cargo build failed"
    local target=${CARGO_TARGET_DIR:-target}
    [[ $target == /* ]] || target=$repo_root/$target
    pinset=$target/release/pinset
    [[ -x $pinset ]] || die "no binary at $pinset"
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required (${2:-install it})"; }

# Wall clock in microseconds, without forking (bash >= 5 has $EPOCHREALTIME).
if [[ -n ${EPOCHREALTIME:-} ]]; then
    now_us() { now=${EPOCHREALTIME/[.,]/}; }
else
    now_us() { now=$(($(date +%s%N) / 1000)); }
fi

# Children's CPU time (user + system) used so far by this shell, in milliseconds, into $cpu.
# `times` and the parsing run in this shell, without forking: a fork would be counted too,
# and `times` in a $(...) subshell would start from zero.
children_cpu_ms() {
    local user sys m s total=0 t
    times >"$bench_tmp/.times"
    { read -r _; read -r user sys; } <"$bench_tmp/.times"
    for t in "$user" "$sys"; do # 1m2.345s -> 62345 ms (bash prints 3 decimals)
        m=${t%%m*} s=${t#*m}
        s=${s%s}
        total=$((total + m * 60000 + 10#${s/[.,]/}))
    done
    cpu=$total
}

# stats FILE: one number per line -> "mean median min max" (3 decimals).
stats() {
    sort -g "$1" | awk '{ v[NR] = $1; s += $1 }
        END {
            if (NR == 0) { print "nan nan nan nan"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.3f %.3f %.3f %.3f\n", s / NR, m, v[1], v[NR]
        }'
}

mean() { stats "$1" | cut -d' ' -f1; }

# ratio A B -> A/B with 2 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "nan" }'; }

describe_machine() {
    local cpu
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    echo "machine: $(nproc) cores${cpu:+, $cpu}; $(uname -sr)"
    echo "tools:   pinset $("$pinset" --version | awk '{ print $2 }'), $(openssl version)${1:+, $1}"
    echo "temp:    $bench_tmp ($(df -PT "$bench_tmp" | awk 'NR == 2 { print $2 }'))"
}
