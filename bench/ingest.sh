#!/bin/sh
# ingest.sh — runs the coordinator ingest benchmark (bench/ingest.c: simulated workers
# as processes on loopback, batches of 64, trivial scores, full HTTP + SQLite path) and
# Optuna with SQLite storage (bench/optuna_ingest.py, same number of processes,
# ask/tell with a trivial objective) in the same run, and writes the "Coordinator
# ingest" section of BENCHMARKS.md. Usage: bench/ingest.sh BUILD_DIR
# Environment: WORKERS (default 4), SECONDS_PER_RUN (default 10), RUNS (default 3), JOBS
# (default 80: jobs of 15,625 candidates each, enough work that a run never uses it up).
set -eu
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../BENCHMARKS.md"
workers=${WORKERS:-4}
seconds=${SECONDS_PER_RUN:-10}
runs=${RUNS:-3}
jobs=${JOBS:-80}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
ours=""
i=0
while [ "$i" -lt "$runs" ]; do
    line=$("$build/bench-ingest" "$build/monasd" --workers "$workers" --seconds "$seconds" \
        --jobs "$jobs")
    echo "monasd: $line" >&2
    ours="$ours$line
"
    i=$((i + 1))
done
optuna=$(/usr/bin/python3 "$here/optuna_ingest.py" --workers "$workers" --seconds "$seconds")
echo "optuna: $optuna" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

section=$(OURS="$ours" OPTUNA="$optuna" WORKERS="$workers" SECONDS_PER_RUN="$seconds" JOBS="$jobs" \
    LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" \
    /usr/bin/python3 - <<'PY'
import json, os, platform, statistics, subprocess
ours = [json.loads(l) for l in os.environ["OURS"].splitlines() if l.strip()]
opt = json.loads(os.environ["OPTUNA"])
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
nproc = os.cpu_count()
load = os.environ["LOAD_BEFORE"].split()
load_after = os.environ["LOAD_AFTER"].split()
med = statistics.median(r["results_per_s"] for r in ours)
print("## Coordinator ingest (monasd vs Optuna on SQLite)\n")
print("Command: `make bench` (runs `bench/ingest.sh build`: `build/bench-ingest build/monasd "
      f"--workers {os.environ['WORKERS']} --seconds {os.environ['SECONDS_PER_RUN']} "
      f"--jobs {os.environ['JOBS']}` {len(ours)} times, then `/usr/bin/python3 bench/optuna_ingest.py --workers "
      f"{os.environ['WORKERS']} --seconds {os.environ['SECONDS_PER_RUN']}`).\n")
print(f"Machine: `nproc` = {nproc}, CPU model: {cpu}; load average (1/5/15 min) before the "
      f"run {' '.join(load)}, after it {' '.join(load_after)} (other work shares this "
      "machine, so throughput varies with it; CPU per result below varies less).\n")
print("Simulated workers are separate processes on loopback, each leasing batches of "
      f"{ours[0]['batch']} and posting trivial scores over HTTP keep-alive, against "
      f"{os.environ['JOBS']} nb201 random-search jobs of 15,625 candidates each (the whole "
      "space; more work than a run uses up): every result goes through the full HTTP + JSON "
      "validation + SQLite (WAL) path. `stored` is monasd's own count of results written.\n")
print("| run | results/s | results | stored | lease p50 ms | lease p99 ms | db writes / commits | monasd CPU s | workers CPU s |")
print("|---|---|---|---|---|---|---|---|---|")
for i, r in enumerate(ours, 1):
    print(f"| {i} | {r['results_per_s']:.0f} | {r['results']} | {r['stored']} | "
          f"{r['lease_p50_ms']:.2f} | {r['lease_p99_ms']:.2f} | {r['db_writes']} / "
          f"{r['db_commits']} | {r['monasd_cpu_s']:.2f} | {r['workers_cpu_s']:.2f} |")
print()
print(f"Optuna {opt['optuna']} (RDB storage on SQLite, {opt['workers']} processes, "
      f"ask → x² → tell): {opt['trials_per_s']} trials/s ({opt['trials']} trials in "
      f"{opt['seconds']} s, {opt['failed_calls']} failed calls).\n")
print(f"Ratio (median monasd results/s ÷ Optuna trials/s): {med / opt['trials_per_s']:.0f}x.\n")
us = statistics.median(r["monasd_cpu_s"] / r["results"] * 1e6 for r in ours)
print(f"monasd CPU per stored result (median): {us:.1f} µs, all threads (HTTP, JSON, the "
      "database work under the single writer lock, WAL checkpoints): one core free for "
      f"monasd gives about {1e6 / us:.0f} results/s at this cost.\n")
print(f"Floor: 50,000 results/s. Median here: {med:.0f}/s — "
      f"{'met' if med >= 50000 else 'NOT met'}.")
PY
)

tmp="$out.tmp"
if [ -f "$out" ]; then
    # Replace this section (up to the next "## " heading), keep the rest.
    /usr/bin/python3 - "$out" "$tmp" "$section" <<'PY'
import sys
path, tmp, section = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
head = "## Coordinator ingest"
start = text.find(head)
if start < 0:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
else:
    end = text.find("\n## ", start + len(head))
    text = text[:start] + section + "\n\n" + (text[end + 1:] if end >= 0 else "")
open(tmp, "w").write(text)
PY
    mv "$tmp" "$out"
else
    printf '# Benchmarks\n\n%s\n' "$section" > "$out"
fi
echo "wrote $out" >&2
