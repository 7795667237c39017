#!/bin/sh
# proxy_quality.sh — ranking quality of the zero-cost proxies on NAS-Bench-201: samples
# `archs` distinct NB201 architectures (bench-sample-archs, seed SEED), scores them with
# `monas-worker score` (every proxy at its default settings, job seed SEED) and prints
# Spearman ρ and Kendall τ-b of each proxy and of TE-NAS's rank combination against the
# published CIFAR-10 test accuracy (bench/proxy_quality.py report).
#
# Resumable: raw scores go to $OUT/quality-s$SEED-<group>.jsonl, one JSON line per
# architecture, flushed as each one finishes; a rerun scores only what is missing (an
# unfinished last line is dropped first). The sample of n archs is the prefix of the
# sample of any larger n, so a pilot's scores count towards the full run. Proxy groups
# run one after the other over the whole sample: the cheap group first, so an
# interrupted run still has every architecture for those.
#
#   usage: bench/proxy_quality.sh [archs [build-dir]]        (defaults 1000, build)
#   env:   SEED (1), THREADS (2, candidates in parallel), NICE (19), OUT (bench/out),
#          PROXY_GROUPS ("name=proxy,proxy ..."), REPORT_ONLY=1 (no scoring, just the table)
set -eu
N=${1:-1000}
BUILD=${2:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
SEED=${SEED:-1}
THREADS=${THREADS:-2}
NICE=${NICE:-19}
OUT=${OUT:-$HERE/out}
PROXY_GROUPS=${PROXY_GROUPS:-cheap=ntk,linear_regions,synflow,params,flops costly=snip,grad_norm,jacob_cov,naswot,zen}
CSV=${CSV:-$HERE/../../shared/data/nb201/nb201-accuracy.csv}
PY=/usr/bin/python3
W="$BUILD/monas-worker"
SAMPLER="$BUILD/bench-sample-archs"

if [ ! -r "$CSV" ]; then
    echo "proxy_quality: skipped, no NB201 accuracy table at $CSV"
    exit 0
fi
[ -x "$W" ] || { echo "proxy_quality: $W missing (run make first)" >&2; exit 2; }
if [ ! -x "$SAMPLER" ] || [ "$HERE/sample_archs.c" -nt "$SAMPLER" ] ||
   [ "$BUILD/libmonas.a" -nt "$SAMPLER" ]; then
    # shellcheck disable=SC2046
    cc -O2 -std=c11 -fopenmp -Wall -Wextra -Werror -I"$HERE/../common" "$HERE/sample_archs.c" \
        "$BUILD/libmonas.a" $(pkg-config --cflags --libs libcjson openblas lapacke) \
        -lpthread -lm -o "$SAMPLER"
fi
"$PY" "$HERE/proxy_quality.py" selftest >/dev/null

mkdir -p "$OUT"
ARCHS="$OUT/quality-s$SEED-n$N-archs.txt"
"$SAMPLER" "$N" "$SEED" nb201 > "$ARCHS.tmp"
mv "$ARCHS.tmp" "$ARCHS"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); nproc: $(nproc);" \
     "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "monas-worker score --space nb201 --seed $SEED --threads $THREADS, under nice -n $NICE;" \
     "$N archs (sample seed $SEED)"
OUTS=
for g in $PROXY_GROUPS; do
    name=${g%%=*}
    proxies=${g#*=}
    file="$OUT/quality-s$SEED-$name.jsonl"
    OUTS="$OUTS $file"
    [ "${REPORT_ONLY:-0}" = 1 ] && continue
    todo="$OUT/quality-s$SEED-$name.todo"
    "$PY" "$HERE/proxy_quality.py" todo "$ARCHS" "$file" > "$todo"
    left=$(wc -l < "$todo")
    echo "group $name ($proxies): $left of $N archs to score"
    if [ "$left" -gt 0 ]; then
        t0=$(date +%s)
        nice -n "$NICE" "$W" score --space nb201 --seed "$SEED" --threads "$THREADS" \
            --proxies "$proxies" --file "$todo" >> "$file"
        echo "group $name: $left archs in $(( $(date +%s) - t0 )) s wall"
    fi
    rm -f "$todo"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# shellcheck disable=SC2086
"$PY" "$HERE/proxy_quality.py" report "$ARCHS" "$CSV" $OUTS
