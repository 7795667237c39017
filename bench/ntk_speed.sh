#!/bin/sh
# ntk_speed.sh — monas's ntk proxy (exact and fast) against TE-NAS's PyTorch procedure
# (bench/tenas_ntk_torch.py) on the same network, parameters and inputs: the TE-NAS
# setting (NB201 supernet without 'none', C=3, N=1, 3×32×32, batch 72, one NTK), same
# machine, same run. Prints seconds and the speed ratios.
#   usage: bench/ntk_speed.sh [build-dir] [torch-threads]   (defaults build, 2)
set -eu
BUILD=${1:-build}
THREADS=${2:-2}
W="$BUILD/monas-worker"
OPS=skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3
SUPER="|$OPS~0|+|$OPS~0|$OPS~1|+|$OPS~0|$OPS~1|$OPS~2|"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
secs() { sed 's/.*"proxy_seconds":{"ntk":\([0-9.e+-]*\)}.*/\1/'; }
cond() { sed 's/.*"scores":{"ntk":\([0-9.e+-]*\)}.*/\1/'; }
EX=$("$W" score --proxies '{"ntk":{"mode":"exact","repeats":1}}' --dump "$TMP" "$SUPER")
FA=$("$W" score --proxies '{"ntk":{"mode":"fast","repeats":1}}' "$SUPER")
TO=$(/usr/bin/python3 "$(dirname "$0")/tenas_ntk_torch.py" "$TMP/0" "$THREADS")
T_TORCH=$(echo "$TO" | sed 's/torch_seconds \([0-9.]*\).*/\1/')
T_EX=$(echo "$EX" | secs)
T_FA=$(echo "$FA" | secs)
echo "TE-NAS setting (NB201 supernet C=3 N=1, batch 72), one NTK:"
echo "  PyTorch TE-NAS procedure ($THREADS threads): ${T_TORCH} s, cond $(echo "$TO" | sed 's/.*cond \([0-9.e+-]*\).*/\1/')"
echo "  monas exact (1 thread):  ${T_EX} s, cond $(echo "$EX" | cond)"
echo "  monas fast  (1 thread):  ${T_FA} s, cond $(echo "$FA" | cond)"
awk -v t="$T_TORCH" -v e="$T_EX" -v f="$T_FA" \
    'BEGIN { printf "  speed-up: exact %.1fx, fast %.1fx\n", t / e, t / f }'
