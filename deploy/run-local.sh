#!/bin/bash
# run-local.sh — `make run`: monasd on ./var/monas.db (loopback), two local workers and
# the default job (deploy/default-job.json, or MONAS_JOB=FILE), then the job's Pareto
# front as a table and the dashboard/API URLs. Stays up until Ctrl-C, which stops
# everything; MONAS_RUN_EXIT=1 stops right after printing. Running it again reuses the
# database: a default job still running from an interrupted run is resumed, otherwise a
# new one is submitted.
#   usage: deploy/run-local.sh [BUILD_DIR]      (MONAS_PORT: first port tried, 8080)
set -u
BIN=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/local-lib.sh"
VAR=${MONAS_VAR:-./var}
JOB_FILE=${MONAS_JOB:-$HERE/default-job.json}
PORT=${MONAS_PORT:-8080}
mkdir -p "$VAR"
PIDS="$VAR/run-local.pids"

say() { printf 'make run: %s\n' "$*" >&2; }

# Processes this script started last time and left behind (its own pid file only).
if [ -f "$PIDS" ]; then
    while read -r pid; do
        case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in
        *monasd*|*monas-worker*) say "stopping leftover process $pid"; kill "$pid" 2>/dev/null ;;
        esac
    done < "$PIDS"
    sleep 1
    rm -f "$PIDS"
fi

started=()
stop_all() {
    trap - INT TERM
    say "stopping"
    # Workers first (they finish or release their batch), then the coordinator.
    for pid in "${started[@]:1}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${started[@]:1}"; do wait "$pid" 2>/dev/null; done
    [ ${#started[@]} -gt 0 ] && kill -TERM "${started[0]}" 2>/dev/null && wait "${started[0]}" 2>/dev/null
    rm -f "$PIDS"
    exit "${1:-0}"
}
trap 'stop_all 0' INT TERM

start_monasd() { # $1: listen address
    monas_start_monasd "$BIN" "$VAR" "$1" || return 1
    started=("$MONASD_PID"); echo "$MONASD_PID" > "$PIDS"; PORT=$MONASD_PORT
}

if ! start_monasd "127.0.0.1:$PORT"; then
    say "port $PORT is taken; using a free one"
    start_monasd "127.0.0.1:0" || { say "monasd failed to start (see $VAR/monasd.log)"; exit 1; }
fi
API="http://127.0.0.1:$PORT"
say "monasd on $API (database $VAR/monas.db, log $VAR/monasd.log)"

for n in 1 2; do
    "$BIN/monas-worker" run --coordinator "$API" --threads 1 --backoff-max-ms 2000 \
        >>"$VAR/worker-$n.log" 2>&1 &
    started+=("$!"); echo "$!" >> "$PIDS"
done
say "2 workers (logs $VAR/worker-1.log, $VAR/worker-2.log)"

JOB=""
if [ -f "$VAR/run-local.job" ]; then
    old=$(cat "$VAR/run-local.job")
    view=$(curl -sf "$API/v1/jobs/$old") && [ "$(monas_field "$view" status)" = running ] &&
        JOB=$old && say "resuming job $JOB"
fi
if [ -z "$JOB" ]; then
    resp=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$JOB_FILE" \
        "$API/v1/jobs") || { say "job submission failed: $(curl -s -X POST --data-binary "@$JOB_FILE" "$API/v1/jobs")"; stop_all 1; }
    JOB=$(monas_field "$resp" id)
    echo "$JOB" > "$VAR/run-local.job"
    say "submitted job $JOB ($JOB_FILE)"
fi

t0=$(date +%s)
while :; do
    view=$(curl -sf "$API/v1/jobs/$JOB?wait=5") || { say "monasd is not answering"; stop_all 1; }
    status=$(monas_field "$view" status)
    say "job $JOB: $status, scored $(monas_field "$view" scored), front $(monas_field "$view" front_size), $(( $(date +%s) - t0 )) s"
    [ "$status" != running ] && break
done
say "job $JOB ended: $(monas_field "$view" reason)"

# The front as a table, from the CSV form: id,key,fits,<proxies...>,latency_ms,
# peak_sram_bytes,flash_bytes,macs,params (the key is quoted, quotes doubled).
curl -sf "$API/v1/jobs/$JOB/front?format=csv" | awk '
function split_csv(line, f,    n, i, c, q, cur) {
    n = 0; cur = ""; q = 0
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q && c == "\"" && substr(line, i + 1, 1) == "\"") { cur = cur c; i++ }
        else if (c == "\"") q = !q
        else if (c == "," && !q) { f[++n] = cur; cur = "" }
        else cur = cur c
    }
    f[++n] = cur
    return n
}
NR == 1 { n = split_csv($0, h); np = n - 8
    printf "%-4s %10s %12s %11s", "fits", "latency_ms", "peak_SRAM_kB", "flash_kB"
    for (i = 4; i < 4 + np; i++) printf " %14s", h[i]
    printf "  architecture\n"; next }
{ split_csv($0, f)
    printf "%-4s %10.1f %12.1f %11.1f", f[3] == "true" ? "yes" : "no", f[4 + np], f[5 + np] / 1024, f[6 + np] / 1024
    for (i = 4; i < 4 + np; i++) printf " %14.6g", f[i]
    printf "  %s\n", f[2] }' | { IFS= read -r head; echo "$head"; sort -k2,2n; }

cat <<EOT

  dashboard   $API/
  job         $API/v1/jobs/$JOB
  front       $API/v1/jobs/$JOB/front   (?format=csv)
  API         $API/v1/openapi.json

EOT
if [ "${MONAS_RUN_EXIT:-0}" = 1 ]; then
    stop_all 0
fi
say "running; Ctrl-C stops monasd and the workers"
while :; do sleep 1; done
