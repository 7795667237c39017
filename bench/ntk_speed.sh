#!/bin/sh
# ntk_speed.sh — monas's ntk proxy (exact and fast) against TE-NAS's PyTorch procedure
# (bench/tenas_ntk_torch.py) on the same network, parameters and inputs: the TE-NAS
# setting (NB201 supernet without 'none', C=3, N=1, 3×32×32, batch 72, one NTK), same
# machine, same run. Each side runs `runs` times (monas: a fresh process per run, network
# built each time; PyTorch: repeats in one process); prints the best and the median
# seconds, the speed ratios of both, and the load average before and after.
#   usage: bench/ntk_speed.sh [build-dir] [torch-threads] [runs]   (defaults build, 2, 3)
set -eu
BUILD=${1:-build}
THREADS=${2:-2}
RUNS=${3:-3}
W="$BUILD/monas-worker"
OPS=skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3
SUPER="|$OPS~0|+|$OPS~0|$OPS~1|+|$OPS~0|$OPS~1|$OPS~2|"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
secs() { sed 's/.*"proxy_seconds":{"ntk":\([0-9.e+-]*\)}.*/\1/'; }
cond() { sed 's/.*"scores":{"ntk":\([0-9.e+-]*\)}.*/\1/'; }
# best and median of the numbers on stdin
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%s %s", v[1], v[int((NR + 1) / 2)] }'; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$W" score --proxies '{"ntk":{"mode":"exact","repeats":1}}' --dump "$TMP" "$SUPER" > "$TMP/ex"
i=1
while [ "$i" -lt "$RUNS" ]; do
    "$W" score --proxies '{"ntk":{"mode":"exact","repeats":1}}' "$SUPER" >> "$TMP/ex"
    i=$((i + 1))
done
i=0
while [ "$i" -lt "$RUNS" ]; do
    "$W" score --proxies '{"ntk":{"mode":"fast","repeats":1}}' "$SUPER" >> "$TMP/fa"
    i=$((i + 1))
done
TO=$(/usr/bin/python3 "$(dirname "$0")/tenas_ntk_torch.py" "$TMP/0" "$THREADS" "$RUNS")
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
S_TORCH=$(echo "$TO" | sed 's/torch_seconds \([0-9.]*\) median \([0-9.]*\).*/\1 \2/')
S_EX=$(secs < "$TMP/ex" | stats)
S_FA=$(secs < "$TMP/fa" | stats)
echo "TE-NAS setting (NB201 supernet C=3 N=1, batch 72), one NTK, best / median of $RUNS:"
echo "  PyTorch TE-NAS procedure ($THREADS threads): $S_TORCH s, cond $(echo "$TO" | sed 's/.*cond \([0-9.e+-]*\).*/\1/')"
echo "  monas exact (1 thread):  $S_EX s, cond $(head -n 1 "$TMP/ex" | cond)"
echo "  monas fast  (1 thread):  $S_FA s, cond $(head -n 1 "$TMP/fa" | cond)"
echo "$S_TORCH $S_EX $S_FA" | awk '{ printf "  speed-up (best, median): exact %.1fx, %.1fx; fast %.1fx, %.1fx\n", $1 / $3, $2 / $4, $1 / $5, $2 / $6 }'
