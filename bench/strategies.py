#!/usr/bin/python3
"""strategies.py — search-quality benchmarks of the server strategies (issue 6), on a real
monasd with real workers (python3 standard library only):

  A. nb201 `monas` with latency weight w in {0 (TE-NAS), 0.3, 0.5, 0.7} over seeds: CIFAR-10
     test accuracy of the found architecture (NAS-Bench-201 table), its latency, peak SRAM
     and flash on the MCU, search wall time; `random` with the same number of evaluated
     candidates, its pick = the best TE-NAS rank sum (ntk + linear regions) among them.
  B. nb201 `evolution` under a latency and SRAM budget vs `random` at equal candidates:
     accuracy of the front's best member (by the table) and of its best TE-NAS rank sum.
  C. unas `evolution`, 28x28x1, 10 classes, 64 KB SRAM and 64 KB flash: the front, and
     whether every member meets the limits.

Jobs run one after another (so wall times are per search) against one monasd and one
worker with --threads 2. Usage (from the checkout, after `make`):
  /usr/bin/python3 bench/strategies.py [--seeds 10] [--only A,B,C] [--out FILE.json]
Prints markdown tables; --out also writes every raw figure as JSON.
"""
import argparse, csv, json, os, platform, statistics, subprocess, sys, tempfile, time
import urllib.request, urllib.error

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ACC_CSV = os.path.join(ROOT, "..", "shared", "data", "nb201", "nb201-accuracy.csv")


def http(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=400) as r:
            t = r.read()
            return r.status, json.loads(t) if t else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Service:
    def __init__(self, build, threads):
        self.dir = tempfile.mkdtemp(prefix="monas-bench-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.srv = subprocess.Popen([os.path.join(build, "monasd"), "--listen", "127.0.0.1:0",
                                     "--db", os.path.join(self.dir, "db"), "--port-file",
                                     port_file], stdout=self.log, stderr=self.log)
        for _ in range(500):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.02)
        self.port = int(open(port_file).read())
        self.wrk = subprocess.Popen([os.path.join(build, "monas-worker"), "run", "--coordinator",
                                     f"http://127.0.0.1:{self.port}", "--threads", str(threads),
                                     "--backoff-max-ms", "250", "--log-level", "warn"],
                                    stdout=self.log, stderr=self.log)

    def run_job(self, spec):
        if self.wrk.poll() is not None:
            sys.exit(f"the worker exited ({self.wrk.returncode}); see {self.dir}/log")
        st, j = http(self.port, "POST", "/v1/jobs", spec)
        if st != 201:
            sys.exit(f"job refused: {st} {j}")
        jid = j["id"]
        while j["status"] == "running":
            st, j = http(self.port, "GET", f"/v1/jobs/{jid}?wait=300")
        return j

    def candidates(self, jid, extra=""):
        out, after = [], 0
        while True:
            st, r = http(self.port, "GET", f"/v1/jobs/{jid}/candidates?limit=1000&after={after}{extra}")
            out += r["candidates"]
            if r["next_after"] is None:
                return out
            after = r["next_after"]

    def close(self):
        self.wrk.terminate()
        self.wrk.wait()
        self.srv.terminate()
        self.srv.wait()


def load_accuracy():
    acc = {}
    with open(ACC_CSV) as f:
        for row in csv.DictReader(f):
            acc[row["ArchitectureString"]] = float(row["CIFAR10TestAccuracy200Epochs"])
    return acc


def tenas_pick(cands):
    """The candidate with the smallest sum of dense ranks of ntk (ascending) and linear
    regions (descending), ties by id: TE-NAS's combination, for picking among scored ones."""
    def ranks(vals, reverse):
        order = sorted(set(vals), reverse=reverse)
        pos = {v: i for i, v in enumerate(order)}
        return [pos[v] for v in vals]
    ok = [c for c in cands if c["status"] == "scored"]
    rn = ranks([c["scores"]["ntk"] for c in ok], False)
    rl = ranks([c["scores"]["linear_regions"] for c in ok], True)
    return min(zip(ok, rn, rl), key=lambda t: (t[1] + t[2], t[0]["id"]))[0]


def ms(xs):
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}" if len(xs) > 1 else f"{xs[0]:.2f}"


PROXIES = {"ntk": {}, "linear_regions": {}}


def bench_a(svc, acc, seeds, out):
    rows = []
    for w in (0.0, 0.3, 0.5, 0.7):
        for seed in seeds:
            j = svc.run_job({"name": f"monas-w{w}-s{seed}", "space": {"name": "nb201"},
                             "mcu": "stm32f746", "proxies": PROXIES, "seed": seed,
                             "strategy": {"name": "monas", "settings": {"latency_weight": w}}})
            fin = j["strategy_state"]["final"]
            rows.append({"strategy": "monas", "w": w, "seed": seed, "arch": fin["key"],
                         "acc": acc[fin["key"]], "latency_ms": fin["values"]["latency_ms"],
                         "sram": fin["values"]["peak_sram_bytes"],
                         "flash": fin["values"]["flash_bytes"],
                         "seconds": j["budget_used"]["seconds"], "evaluated": j["progress"]["scored"],
                         "status": j["status"]})
            print(json.dumps(rows[-1]), flush=True)
    n_eval = rows[0]["evaluated"]
    for seed in seeds:
        j = svc.run_job({"name": f"random-s{seed}", "space": {"name": "nb201"}, "mcu": "stm32f746",
                         "proxies": PROXIES, "seed": seed, "budget": {"max_candidates": n_eval},
                         "strategy": {"name": "random"}})
        cands = svc.candidates(j["id"])
        pick = tenas_pick(cands)
        rows.append({"strategy": "random", "w": None, "seed": seed, "arch": pick["key"],
                     "acc": acc[pick["key"]], "latency_ms": pick["cost"]["latency_ms"],
                     "sram": pick["cost"]["peak_sram_bytes"], "flash": pick["cost"]["flash_bytes"],
                     "seconds": j["budget_used"]["seconds"], "evaluated": j["progress"]["scored"],
                     "oracle_acc": max(acc[c["key"]] for c in cands if c["status"] == "scored"),
                     "status": j["status"]})
        print(json.dumps(rows[-1]), flush=True)
    out["A"] = rows
    print("\n| search | evaluated | CIFAR-10 test acc. (%) | latency (ms) | peak SRAM (KB) | "
          "flash (KB) | wall time (s) |\n|---|---|---|---|---|---|---|")
    groups = [("monas w=%.1f" % w + (" (TE-NAS)" if w == 0 else ""),
               [r for r in rows if r["strategy"] == "monas" and r["w"] == w])
              for w in (0.0, 0.3, 0.5, 0.7)]
    groups.append(("random, TE-NAS rank pick", [r for r in rows if r["strategy"] == "random"]))
    for name, g in groups:
        print(f"| {name} | {g[0]['evaluated']} | {ms([r['acc'] for r in g])} | "
              f"{ms([r['latency_ms'] for r in g])} | {ms([r['sram'] / 1024 for r in g])} | "
              f"{ms([r['flash'] / 1024 for r in g])} | {ms([r['seconds'] for r in g])} |")
    rnd = [r for r in rows if r["strategy"] == "random"]
    print(f"\nrandom, best of its {rnd[0]['evaluated']} by the table (oracle): "
          f"{ms([r['oracle_acc'] for r in rnd])}")


def front_summary(svc, acc, j):
    front = svc.candidates(j["id"], "&on_front=1")
    scored = svc.candidates(j["id"], "&status=scored")
    feas = [c for c in scored if c["fits"]]
    return {"front": len(front), "front_best_acc": max(acc[c["key"]] for c in front),
            "front_mean_acc": statistics.mean(acc[c["key"]] for c in front),
            "pick_acc": acc[tenas_pick(feas)["key"]],
            "scored": j["progress"]["scored"], "rejected": j["progress"]["rejected"],
            "feasible": len(feas), "hypervolume": j["hypervolume"], "status": j["status"],
            "seconds": j["budget_used"]["seconds"]}


def bench_b(svc, acc, seeds, out, n_cand):
    rows = []
    budgets = {"latency_ms": 600, "sram_bytes": 80000}
    for strat in ("evolution", "random"):
        for seed in seeds:
            spec = {"name": f"b-{strat}-s{seed}", "space": {"name": "nb201"}, "mcu": "stm32f746",
                    "budgets": budgets, "proxies": PROXIES, "seed": seed,
                    "objectives": ["ntk", "linear_regions", "latency_ms", "peak_sram_bytes"],
                    "budget": {"max_candidates": n_cand}, "batch_size": 16,
                    "convergence": {"patience": 1000},
                    "strategy": {"name": strat, "settings": {"population": 50, "sample": 10}
                                 if strat == "evolution" else {}}}
            r = {"strategy": strat, "seed": seed, **front_summary(svc, acc, svc.run_job(spec))}
            rows.append(r)
            print(json.dumps(r), flush=True)
    out["B"] = rows
    print(f"\nbudgets: {budgets} (and the MCU's flash), {n_cand} evaluated candidates per search\n")
    print("| strategy | front size | best on front (acc. %) | TE-NAS pick among feasible (acc. %) "
          "| feasible scored | rejected before scoring | wall time (s) |\n|---|---|---|---|---|---|---|")
    for strat in ("evolution", "random"):
        g = [r for r in rows if r["strategy"] == strat]
        print(f"| {strat} | {ms([r['front'] for r in g])} | {ms([r['front_best_acc'] for r in g])} | "
              f"{ms([r['pick_acc'] for r in g])} | {ms([r['feasible'] for r in g])} | "
              f"{ms([r['rejected'] for r in g])} | {ms([r['seconds'] for r in g])} |")


def bench_c(svc, out, n_cand, seed):
    spec = {"name": "c-unas", "space": {"name": "unas", "settings": {
                "input": {"c": 1, "h": 28, "w": 28}, "classes": 10}},
            "mcu": "stm32f746", "budgets": {"sram_bytes": 65536, "flash_bytes": 65536},
            "proxies": PROXIES, "seed": seed,
            "objectives": ["ntk", "linear_regions", "peak_sram_bytes", "flash_bytes", "macs"],
            "budget": {"max_candidates": n_cand}, "batch_size": 16,
            "convergence": {"patience": 1000},
            "strategy": {"name": "evolution", "settings": {"population": 50, "sample": 10}}}
    j = svc.run_job(spec)
    front = svc.candidates(j["id"], "&on_front=1")
    ok = all(c["cost"]["peak_sram_bytes"] <= 65536 and c["cost"]["flash_bytes"] <= 65536
             for c in front)
    out["C"] = {"job": {k: j[k] for k in ("status", "reason", "progress", "hypervolume")},
                "front": [{"id": c["id"], "scores": c["scores"], "cost": c["cost"],
                           "arch": c["arch"]} for c in front], "all_within_limits": ok}
    print(f"\nunas: {j['progress']['scored']} scored, {j['progress']['rejected']} rejected before "
          f"scoring, {len(front)} on the front, every member within 64 KB SRAM and flash: {ok}, "
          f"wall time {j['budget_used']['seconds']:.0f} s\n")
    print("| id | ntk | linear regions | peak SRAM (B) | flash (B) | MACs | latency (ms) | layers |\n"
          "|---|---|---|---|---|---|---|---|")
    for c in sorted(front, key=lambda c: c["cost"]["macs"]):
        a = c["arch"]
        layers = sum(len(b["layers"]) for b in a.get("conv_blocks", [])) + len(a.get("dense_blocks", []))
        print(f"| {c['id']} | {c['scores']['ntk']:.4g} | {c['scores']['linear_regions']:.4g} | "
              f"{c['cost']['peak_sram_bytes']:.0f} | {c['cost']['flash_bytes']:.0f} | "
              f"{c['cost']['macs']:.0f} | {c['cost']['latency_ms']:.3g} | {layers} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--b-seeds", type=int, default=3)
    ap.add_argument("--b-candidates", type=int, default=200)
    ap.add_argument("--c-candidates", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="A,B,C")
    ap.add_argument("--out")
    a = ap.parse_args()
    acc = load_accuracy()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    out = {"machine": {"cpu": cpu, "cpus": os.cpu_count(), "load_at_start": os.getloadavg(),
                       "system": platform.platform()}}
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    svc = Service(a.build, a.threads)
    try:
        seeds = list(range(1, a.seeds + 1))
        if "A" in a.only:
            bench_a(svc, acc, seeds, out)
        if "B" in a.only:
            bench_b(svc, acc, list(range(1, a.b_seeds + 1)), out, a.b_candidates)
        if "C" in a.only:
            bench_c(svc, out, a.c_candidates, 1)
    finally:
        svc.close()
        out["machine"]["load_at_end"] = os.getloadavg()
        print(f"load average at end {os.getloadavg()[0]:.2f}")
        if a.out:
            with open(a.out, "w") as f:
                json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
