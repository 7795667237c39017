#!/bin/sh
# ntk_speed.sh — monas's ntk proxy (exact and fast) against TE-NAS's PyTorch procedure
# (bench/tenas_ntk_torch.py) on the same network, parameters and inputs: the TE-NAS
# setting (NB201 supernet without 'none', C=3, N=1, 3×32×32, batch 72, one NTK), same
# machine, same run, both on `threads` threads (PyTorch's intra-op threads; monas's
# network threads, mn_proxies_set_threads, which is what `score --threads N` gives one
# architecture). Two figures for monas, each the best and the median of `runs`:
#   end-to-end  `monas-worker score`'s proxy_seconds, a fresh process per run: building
#               the network, first-touching its memory, initialising parameters,
#               drawing inputs, then the NTK itself;
#   compute     bench/ntk_engine.c (built here into the build dir): the same setup
#               through the same code, then only forward, Jacobian, J·Jᵀ and
#               eigenvalues timed, `runs` times in one process on one setup — exactly
#               the region and the repeat scheme tenas_ntk_torch.py times;
#   search      ntk_engine again: the whole proxy through the driver (network built,
#               initialised, inputs, NTK, network freed) `runs` times one after another
#               in that process, as a worker thread scores candidates: a fresh process's
#               costs (thread start, first touch of fresh memory) are paid once per
#               worker, not per candidate.
# Prints both speed ratios against PyTorch, the share of the end-to-end time that is
# not compute (setup, first touch), and the load average before and after.
#   usage: bench/ntk_speed.sh [build-dir] [threads] [runs]   (defaults build, 2, 3)
set -eu
BUILD=${1:-build}
THREADS=${2:-2}
RUNS=${3:-3}
W="$BUILD/monas-worker"
OPS=skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3
SUPER="|$OPS~0|+|$OPS~0|$OPS~1|+|$OPS~0|$OPS~1|$OPS~2|"
E="$BUILD/ntk_engine"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
secs() { sed 's/.*"proxy_seconds":{"ntk":\([0-9.e+-]*\)}.*/\1/'; }
cond() { sed 's/.*"scores":{"ntk":\([0-9.e+-]*\)}.*/\1/'; }
# best and median of the numbers on stdin
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%s %s", v[1], v[int((NR + 1) / 2)] }'; }
cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp -I"$(dirname "$0")/../common" "$(dirname "$0")/ntk_engine.c" \
    "$BUILD/libmonas.a" $(pkg-config --cflags --libs libcjson openblas lapacke) -lm -o "$E"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$W" score --threads "$THREADS" --proxies '{"ntk":{"mode":"exact","repeats":1}}' \
    --dump "$TMP" "$SUPER" > "$TMP/ex"
i=1
while [ "$i" -lt "$RUNS" ]; do
    "$W" score --threads "$THREADS" --proxies '{"ntk":{"mode":"exact","repeats":1}}' "$SUPER" \
        >> "$TMP/ex"
    i=$((i + 1))
done
i=0
while [ "$i" -lt "$RUNS" ]; do
    "$W" score --threads "$THREADS" --proxies '{"ntk":{"mode":"fast","repeats":1}}' "$SUPER" \
        >> "$TMP/fa"
    i=$((i + 1))
done
CE=$("$E" '{"ntk":{"mode":"exact","repeats":1}}' "$SUPER" "$RUNS" 0 "$THREADS")
CF=$("$E" '{"ntk":{"mode":"fast","repeats":1}}' "$SUPER" "$RUNS" 0 "$THREADS")
TO=$(/usr/bin/python3 "$(dirname "$0")/tenas_ntk_torch.py" "$TMP/0" "$THREADS" "$RUNS")
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
S_TORCH=$(echo "$TO" | sed 's/torch_seconds \([0-9.]*\) median \([0-9.]*\).*/\1 \2/')
S_EX=$(secs < "$TMP/ex" | stats)
S_FA=$(secs < "$TMP/fa" | stats)
# best, median; then setup and first (cold) run of the same process
comp() { echo "$1" | sed 's/setup_seconds \([0-9.]*\) runs \([0-9.]*\).*compute_seconds \([0-9.]*\) median \([0-9.]*\).*/\3 \4 \1 \2/'; }
C_EX=$(comp "$CE")
C_FA=$(comp "$CF")
srch() { echo "$1" | sed 's/.*search_seconds \([0-9.]*\) median \([0-9.]*\).*/\1 \2/'; }
R_EX=$(srch "$CE")
R_FA=$(srch "$CF")
echo "TE-NAS setting (NB201 supernet C=3 N=1, batch 72), one NTK, best / median of $RUNS:"
echo "  PyTorch TE-NAS procedure ($THREADS threads): $S_TORCH s, cond $(echo "$TO" | sed 's/.*cond \([0-9.e+-]*\).*/\1/')"
echo "  monas exact ($THREADS threads), end-to-end: $S_EX s, cond $(head -n 1 "$TMP/ex" | cond)"
echo "  monas exact ($THREADS threads), compute:    $(echo $C_EX | cut -d' ' -f1-2) s, cond $(echo "$CE" | sed 's/.*cond \([0-9.e+-]*\).*/\1/')"
echo "  monas fast  ($THREADS threads), end-to-end: $S_FA s, cond $(head -n 1 "$TMP/fa" | cond)"
echo "  monas fast  ($THREADS threads), compute:    $(echo $C_FA | cut -d' ' -f1-2) s, cond $(echo "$CF" | sed 's/.*cond \([0-9.e+-]*\).*/\1/')"
echo "  monas exact ($THREADS threads), search:     $R_EX s"
echo "  monas fast  ($THREADS threads), search:     $R_FA s"
echo "$S_TORCH $S_EX $S_FA $C_EX $C_FA $R_EX $R_FA" | awk '{
    printf "  speed-up end-to-end (best, median): exact %.1fx, %.1fx; fast %.1fx, %.1fx\n", $1 / $3, $2 / $4, $1 / $5, $2 / $6
    printf "  speed-up compute, like for like (best, median): exact %.1fx, %.1fx; fast %.1fx, %.1fx\n", $1 / $7, $2 / $8, $1 / $11, $2 / $12
    printf "  speed-up in a search (best, median): exact %.1fx, %.1fx; fast %.1fx, %.1fx\n", $1 / $15, $2 / $16, $1 / $17, $2 / $18
    printf "  not compute (setup, first touch): 1 - compute / end-to-end, medians: exact %.0f%%, fast %.0f%%;\n", 100 * (1 - $8 / $4), 100 * (1 - $12 / $6)
    printf "    in one ntk_engine process, 1 - median run / (setup + first run): exact %.0f%%, fast %.0f%%\n", 100 * (1 - $8 / ($9 + $10)), 100 * (1 - $12 / ($13 + $14)) }'
