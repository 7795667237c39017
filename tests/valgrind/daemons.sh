#!/bin/bash
# daemons.sh — leak check of the two daemons under valgrind: monasd and one
# monas-worker run a small job to its end (real HTTP on loopback, real SQLite file),
# then both are stopped with SIGTERM. Fails when valgrind reports a definite or
# indirect leak or a memory error in either process, or when either exits non-zero.
#   usage: tests/valgrind/daemons.sh [BUILD_DIR]     (`make valgrind`)
set -euo pipefail
BIN=${1:-build}
command -v valgrind >/dev/null || { echo "SKIP valgrind check: valgrind is not installed"; exit 0; }
TMP=$(mktemp -d /tmp/monas-vg.XXXXXX)
VG=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --error-exitcode=42 --child-silent-after-fork=yes)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    [ "${KEEP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

"${VG[@]}" --log-file="$TMP/monasd.vg" "$BIN/monasd" --listen 127.0.0.1:0 \
    --db "$TMP/monas.db" --port-file "$TMP/port" --log-level warn 2>"$TMP/monasd.log" &
monasd=$!
pids+=("$monasd")
for _ in $(seq 300); do [ -s "$TMP/port" ] && break; sleep 0.1; done
[ -s "$TMP/port" ] || { echo "valgrind check: monasd did not start"; cat "$TMP/monasd.log"; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/port")"

job=$(curl -sf -X POST "$URL/v1/jobs" -H 'Content-Type: application/json' -d '{
  "name": "valgrind", "space": {"name": "nb201", "settings": {"C": 4, "N": 1}},
  "mcu": "stm32f446re", "proxies": {"params": {}, "flops": {}, "synflow": {}},
  "objectives": ["synflow", "latency_ms"], "strategy": {"name": "random"},
  "budget": {"max_candidates": 12}, "batch_size": 4, "seed": 3}')
id=$(printf '%s' "$job" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
[ -n "$id" ] || { echo "valgrind check: job not created: $job"; exit 1; }

"${VG[@]}" --log-file="$TMP/worker.vg" "$BIN/monas-worker" run --coordinator "$URL" \
    --threads 2 --backoff-max-ms 250 --log-level warn 2>"$TMP/worker.log" &
worker=$!
pids+=("$worker")

status=$(curl -sf "$URL/v1/jobs/$id?wait=${MONAS_VG_WAIT:-240}")
case "$status" in
*'"status":"exhausted"'*|*'"status":"converged"'*) ;;
*) echo "valgrind check: job did not finish: $status"; exit 1 ;;
esac

rc=0
kill -TERM "$worker"; wait "$worker" || rc=$?
[ "$rc" -eq 0 ] || { echo "valgrind check: worker exited $rc"; cat "$TMP/worker.vg" "$TMP/worker.log"; exit 1; }
kill -TERM "$monasd"; wait "$monasd" || rc=$?
[ "$rc" -eq 0 ] || { echo "valgrind check: monasd exited $rc"; cat "$TMP/monasd.vg" "$TMP/monasd.log"; exit 1; }
pids=()
echo "valgrind check: monasd and monas-worker clean (no definite or indirect leaks, no errors)"
