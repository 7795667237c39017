#!/bin/bash
# worker_scaling.sh — how scoring throughput scales with workers, and how many worker
# cores one monasd can feed. Prints a Markdown section for BENCHMARKS.md.
#
# Part 1 (real scoring): the default job of `make run` (deploy/default-job.json, its
#   candidate budget set to SCALE_CANDIDATES, no time limit) with 1 worker × 1 thread,
#   1 worker × 2 threads and 2 workers × 1 thread; candidates/s = scored / (finished_at
#   − created_at) as monasd records them, and per CPU-second the workers used (the
#   machine is shared: wall-clock rates depend on its load). The 1 × 1 CPU time per
#   candidate is D, one core's cost per candidate.
# Part 2 (simulated workers): real monas-worker processes whose scoring threads sleep D
#   per candidate (--score-delay-ms, the test knob) and then score only the cheap
#   counting proxies and cost model, so each thread stands for one worker core at the
#   default job's rate while using almost no CPU. SIM_CORES lists the simulated core
#   counts (SIM_THREADS threads per process); each point runs on a fresh monasd with
#   SIM_JOBS random jobs (tiny μNAS networks: see SIM_SPACE), warms up, then counts results stored over SIM_SECONDS.
#   Offered load = cores / D; the coordinator saturates where achieved falls below it.
#   monasd's CPU time over the window gives its cost per candidate.
#
#   usage: bench/worker_scaling.sh [BUILD_DIR [BENCHMARKS_MD]]  — with BENCHMARKS_MD, also
#          replaces (or appends) its "## Worker scaling" section there
#   env:   SCALE_CANDIDATES (120) SIM_CORES ("256 1024 4096 8192") SIM_THREADS (128)
#          SIM_SECONDS (15) SIM_JOBS (4) SIM_DELAY_MS (measured D)
set -u
BIN=${1:-build}
MD=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../deploy/local-lib.sh"
N=${SCALE_CANDIDATES:-120}
SIM_CORES=${SIM_CORES:-"256 1024 4096 8192"}
SIM_THREADS=${SIM_THREADS:-128}
SIM_SECONDS=${SIM_SECONDS:-15}
SIM_JOBS=${SIM_JOBS:-4}
TICK=$(getconf CLK_TCK)
# A μNAS space of tiny networks: its cost model takes ~0.1 ms, so the simulated workers'
# own CPU stays small next to the coordinator's (nb201's takes ~0.5 ms), and it is large
# enough (177k distinct in 200k draws) that random jobs do not run out.
SIM_SPACE='{"name":"unas","settings":{"input":{"c":1,"h":8,"w":8},"max_conv_blocks":2,
    "max_layers_per_block":2,"max_dense_blocks":1,"max_dense_units":32,"max_filters":16}}'
TMP=$(mktemp -d /tmp/monas-scaling-XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
}
trap 'cleanup; rm -rf "$TMP"; exit 1' INT TERM

epoch() { date -d "$1" +%s.%N; }
cpu_ticks() { # utime+stime of the given pids
    local t=0 p
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}
post_job() { curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$2" "$1/v1/jobs"; }

# One real-scoring run: $1 workers × $2 threads; prints candidates/s.
real_run() {
    local dir="$TMP/real-$1x$2" spec view id w
    mkdir -p "$dir"
    monas_start_monasd "$BIN" "$dir" 127.0.0.1:0 || { echo "monasd failed" >&2; exit 1; }
    PIDS=("$MONASD_PID")
    local api="http://127.0.0.1:$MONASD_PORT"
    for w in $(seq "$1"); do
        "$BIN/monas-worker" run --coordinator "$api" --threads "$2" --backoff-max-ms 250 \
            2>>"$dir/worker-$w.log" &
        PIDS+=("$!")
    done
    spec=$(sed -e "s/\"max_candidates\": *[0-9]*/\"max_candidates\": $N/" \
               -e 's/"max_seconds": *[0-9]*/"max_seconds": 86400/' "$HERE/../deploy/default-job.json")
    id=$(monas_field "$(post_job "$api" "$spec")" id)
    while view=$(curl -sf "$api/v1/jobs/$id?wait=30") && [ "$(monas_field "$view" status)" = running ]; do :; done
    local scored created finished cpu
    scored=$(monas_field "$view" scored)
    created=$(epoch "$(monas_field "$view" created_at)")
    finished=$(epoch "$(monas_field "$view" finished_at)")
    cpu=$(cpu_ticks "${PIDS[@]:1}")
    cleanup
    awk -v n="$scored" -v a="$created" -v b="$finished" -v c="$cpu" -v tk="$TICK" 'BEGIN {
        printf "%.2f %d %.1f %.1f %.2f\n", n / (b - a), n, b - a, c / tk, n / (c / tk) }'
}

# One simulated point: $1 cores; prints offered, achieved, monasd cores, worker cores.
sim_run() {
    local cores=$1 procs=$(( ($1 + SIM_THREADS - 1) / SIM_THREADS )) dir="$TMP/sim-$1" j p
    mkdir -p "$dir"
    monas_start_monasd "$BIN" "$dir" 127.0.0.1:0 || { echo "monasd failed" >&2; exit 1; }
    PIDS=("$MONASD_PID")
    local api="http://127.0.0.1:$MONASD_PORT" ids=()
    for j in $(seq "$SIM_JOBS"); do
        ids+=("$(monas_field "$(post_job "$api" "{\"name\":\"sim$j\",\"space\":$SIM_SPACE,
            \"proxies\":{\"params\":{}},\"objectives\":[\"params\",\"latency_ms\"],
            \"budget\":{\"max_candidates\":1000000,\"max_seconds\":86400},\"batch_size\":256,
            \"convergence\":{\"epsilon\":0},
            \"seed\":$j}")" id)")
    done
    local threads=$(( cores < SIM_THREADS ? cores : SIM_THREADS ))
    for p in $(seq "$procs"); do
        "$BIN/monas-worker" run --coordinator "$api" --threads "$threads" \
            --batch $((2 * threads)) --score-delay-ms "$DELAY_MS" --backoff-max-ms 250 \
            --log-level warn 2>>"$dir/workers.log" &
        PIDS+=("$!")
    done
    total() { local s=0 i v; for i in "${ids[@]}"; do v=$(curl -sf "$api/v1/jobs/$i")
        [ "$(monas_field "$v" status)" = running ] || echo "job $i ended early" >&2
        s=$((s + $(monas_field "$v" scored))); done; echo $s; }
    sleep 5
    local s0 c0 w0 t0 s1 c1 w1 t1
    local from to busy
    from=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    s0=$(total); c0=$(cpu_ticks "$MONASD_PID"); w0=$(cpu_ticks "${PIDS[@]:1}"); t0=$(date +%s.%N)
    sleep "$SIM_SECONDS"
    s1=$(total); c1=$(cpu_ticks "$MONASD_PID"); w1=$(cpu_ticks "${PIDS[@]:1}"); t1=$(date +%s.%N)
    to=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    cleanup
    # Time monasd spent in worker requests (lease, heartbeat, results, release) during
    # the window, from its request log lines ("... route=/v1/leases... ms=0.35 ...").
    busy=$(awk -v a="$from" -v b="$to" '$1 >= a && $1 <= b && / route=\/v1\/leases/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^ms=/) s += substr($i, 4) } END { print s / 1000 }' \
        "$dir/monasd.log")
    local row
    row=$(awk -v c="$cores" -v d="$DELAY_MS" -v ds=$((s1 - s0)) -v t0="$t0" -v t1="$t1" \
        -v mc=$((c1 - c0)) -v wc=$((w1 - w0)) -v tk="$TICK" -v p="$procs" -v busy="$busy" 'BEGIN {
        dt = t1 - t0
        printf "| %d (%d × %d) | %.0f | %.0f | %.2f | %.2f | %.3f | %.2f |\n", c, p, c / p,
            c * 1000 / d, ds / dt, mc / tk / dt, wc / tk / dt, ds ? mc / tk / ds * 1000 : 0,
            busy / dt }')
    echo "$row"
    local got
    got=$(echo "$row" | cut -d'|' -f4 | tr -d ' ')
    RISING=$([ "$got" -gt "${BEST:-0}" ] && echo 1 || echo 0)
    if [ "$got" -gt "${BEST:-0}" ]; then
        BEST=$got BEST_CORES=$cores
        BEST_CPU=$(echo "$row" | cut -d'|' -f5 | tr -d ' ')
        BEST_MS=$(echo "$row" | cut -d'|' -f7 | tr -d ' ')
    fi
}

report() {
    echo "## Worker scaling (bench/worker_scaling.sh)"
    echo
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), shared;"
    echo "command: \`bench/worker_scaling.sh $(realpath --relative-to="$(dirname "$0")/.." "$BIN")\` (SCALE_CANDIDATES=$N, SIM_CORES=\"$SIM_CORES\","
    echo "SIM_THREADS=$SIM_THREADS, SIM_SECONDS=$SIM_SECONDS, SIM_JOBS=$SIM_JOBS); $(date -u +%Y-%m-%d);"
    echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine competes)."
    echo
    echo "Real scoring, default job of \`make run\` ($N candidates, ntk fast + linear_regions +"
    echo "synflow + cost model on stm32f746, nb201 random):"
    echo
    echo "| workers × threads | candidates/s | candidates | seconds | workers' CPU s | candidates per CPU-s |"
    echo "|---|---|---|---|---|---|"
    for cfg in "1 1" "1 2" "2 1"; do
        set -- $cfg
        r=$(real_run "$1" "$2")
        echo "| $1 × $2 | ${r// / | } |"
        [ "$cfg" = "1 1" ] && R11=${r##* }
    done
    DELAY_MS=${SIM_DELAY_MS:-$(awk -v r="$R11" 'BEGIN { printf "%d", 1000 / r }')}
    echo
    echo "Candidates per CPU-second is what a dedicated core delivers (the machine is shared, so"
    echo "wall-clock rates depend on what else runs); n dedicated cores give about n times it."
    echo
    echo "Simulated workers (each scoring thread sleeps D = $DELAY_MS ms per candidate, the CPU time per"
    echo "candidate of 1 × 1 above, then scores params + cost model of a tiny unas network, so the"
    echo "workers' own CPU stays small): offered load = cores / D;"
    echo "achieved = results stored per second over ${SIM_SECONDS} s after a 5 s warm-up; CPU in"
    echo "cores (monasd; all simulated workers together); monasd CPU ms per candidate; request"
    echo "time: seconds monasd spent in worker requests per second of wall time (its request log)."
    echo
    echo "| simulated cores (procs × threads) | offered cand/s | achieved cand/s | monasd CPU | workers CPU | monasd CPU ms/cand | request time |"
    echo "|---|---|---|---|---|---|---|"
    for c in $SIM_CORES; do
        sim_run "$c"
    done
    echo
    awk -v b="$BEST" -v c="$BEST_CORES" -v d="$DELAY_MS" -v r="$RISING" -v cpu="$BEST_CPU" \
        -v ms="$BEST_MS" 'BEGIN {
        printf "Peak: %d results/s at %d simulated cores%s:\n", b, c, r ? " (still rising at the largest fleet)" : ""
        printf "one monasd kept %.0f worker cores of the default job busy here (achieved × D).\n", b * d / 1000
        printf "monasd used %.2f cores for it,\n", cpu
        printf "%.3f ms CPU per result: one coordinator core (all database work is serialised)\n", ms
        printf "serves about %.0f results/s, i.e. about %.0f worker cores of the default job.\n", 1 / ms * 1000, d / ms
        printf "Where achieved stays below offered while monasd is far from a core, the limit is this\n"
        printf "2-core machine running the whole simulated fleet (request time: requests waiting for\n"
        printf "CPU and the lock).\n" }'
}

if [ -z "$MD" ]; then
    report
else
    section=$(report)
    printf '%s\n' "$section"
    # Replace the section (up to the next "## " heading) or append it.
    awk -v sec="$section" '
        /^## Worker scaling/ { print sec; print ""; skip = 1; done = 1; next }
        skip && /^## / { skip = 0 }
        !skip { print }
        END { if (!done) { print ""; print sec } }' "$MD" > "$MD.tmp" && mv "$MD.tmp" "$MD"
fi
rm -rf "$TMP"
