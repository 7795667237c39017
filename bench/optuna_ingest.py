#!/usr/bin/python3
"""optuna_ingest.py — the Optuna side of the ingest benchmark: N processes share one
study in SQLite storage (Optuna's RDB storage, the usual way to run it distributed on
one host) and each runs ask -> trivial objective -> tell for a fixed time. Prints one
JSON line: trials completed per second, and how many ask/tell calls failed (SQLite
"database is locked" errors under concurrent writers).

usage: /usr/bin/python3 bench/optuna_ingest.py [--workers N] [--seconds S]
(needs the Debian python3-optuna package)"""
import argparse
import json
import multiprocessing as mp
import os
import shutil
import tempfile
import time

import optuna


def worker(url, name, start, deadline, out):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=name, storage=url)
    done = failed = 0
    while time.time() < start:
        time.sleep(0.001)
    while time.time() < deadline:
        try:
            trial = study.ask()
            x = trial.suggest_float("x", 0.0, 1.0)
            study.tell(trial, x * x)
            done += 1
        except Exception:  # noqa: BLE001 - counted, the benchmark keeps going
            failed += 1
    out.put((done, failed, time.time() - start))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="monas-optuna-")
    url = "sqlite:///" + os.path.join(tmp, "optuna.db")
    try:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        optuna.create_study(study_name="bench", storage=url, direction="minimize")
        start = time.time() + 1.0
        deadline = start + args.seconds
        out = mp.Queue()
        procs = [mp.Process(target=worker, args=(url, "bench", start, deadline, out))
                 for _ in range(args.workers)]
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        done = sum(r[0] for r in results)
        failed = sum(r[1] for r in results)
        elapsed = max(r[2] for r in results)
        print(json.dumps({"workers": args.workers, "seconds": round(elapsed, 2),
                          "trials": done, "failed_calls": failed,
                          "trials_per_s": round(done / elapsed, 1),
                          "optuna": optuna.__version__}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
