#!/usr/bin/python3
"""proxy_quality.py — analysis half of bench/proxy_quality.sh (proxy ranking quality on
NAS-Bench-201): rank correlation of every zero-cost proxy, and of TE-NAS's rank
combination, with the published CIFAR-10 test accuracy.

  proxy_quality.py todo ARCHS OUT.jsonl
      Resume helper: drops an unfinished last line of OUT.jsonl (an interrupted run),
      then prints the architectures of ARCHS (one per line) that OUT.jsonl does not
      hold yet, in ARCHS order.
  proxy_quality.py report ARCHS ACCURACY.csv OUT.jsonl...
      Joins the `monas-worker score` JSON lines of every OUT file by architecture
      (proxies may come from different files) and prints a Markdown table: per proxy,
      the number of architectures, Spearman rho (with a 95 % bootstrap interval over
      1000 seeded resamples of the architectures) and Kendall tau-b against CIFAR-10
      accuracy (every proxy oriented so that higher = predicted better: ntk is negated),
      rho without the chance-level (10 %) architectures, rho without the proxy's
      degenerate ones, the published rho, degenerate counts, distinct values and mean
      seconds per architecture (wall clock of that proxy, from "proxy_seconds").
  proxy_quality.py selftest
      Checks the rank statistics on small cases with known values.

Ties get average ranks (Spearman) and the tau-b correction (Kendall); degenerate values
(the proxy's sentinel, the worst of its direction) stay in, ranked last. Needs numpy only.
"""
import json
import math
import os
import sys

import numpy as np

# Direction of each proxy ("lower" = smaller predicts better), from `--proxies list`.
LOWER_BETTER = {"ntk"}
SENTINEL = 1e30
# Published NB201 CIFAR-10 Spearman rho: NAS-Bench-Suite-Zero (Krishnakumar et al., 2022)
# and Abdelfattah et al. (ICLR 2021), as quoted in the project's issue.
PUBLISHED = {
    "naswot": (".77", ""), "jacob_cov": (".75", ".73"), "synflow": (".73", ".74"),
    "params": (".72", ""), "flops": (".69", ""), "snip": (".58", ""),
    "grad_norm": (".58", ""), "zen": (".35", ""),
}
ORDER = ["ntk", "linear_regions", "tenas", "synflow", "snip", "grad_norm", "jacob_cov",
         "naswot", "zen", "params", "flops"]
CHANCE = 10.0


def rankdata(v):
    """Ranks 1..n of v, ties sharing their average rank."""
    v = np.asarray(v, dtype=float)
    order = np.argsort(v, kind="mergesort")
    sv = v[order]
    ranks = np.empty(len(v))
    i = 0
    while i < len(v):
        k = i
        while k + 1 < len(v) and sv[k + 1] == sv[i]:
            k += 1
        ranks[order[i:k + 1]] = (i + k) / 2.0 + 1
        i = k + 1
    return ranks


def spearman(x, y):
    rx, ry = rankdata(x), rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    den = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum()) / den if den > 0 else float("nan")


def kendall_b(x, y):
    """Kendall tau-b: (C - D) / sqrt((n0 - n1)(n0 - n2)), pairs tied in x (n1) or y (n2)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    s = 0.0
    untied_x = untied_y = 0
    for i in range(len(x) - 1):  # one row of the pair matrix at a time: O(n) memory
        dx = np.sign(x[i + 1:] - x[i])
        dy = np.sign(y[i + 1:] - y[i])
        s += float((dx * dy).sum())
        untied_x += int(np.count_nonzero(dx))
        untied_y += int(np.count_nonzero(dy))
    den = math.sqrt(float(untied_x) * float(untied_y))
    return s / den if den > 0 else float("nan")


def spearman_interval(x, y, resamples=1000, seed=0):
    """95 % percentile bootstrap interval of Spearman rho (architectures resampled
    with replacement, seeded)."""
    rng = np.random.default_rng(seed)
    rx, ry = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rhos = [spearman(rx[i], ry[i]) for i in
            (rng.integers(0, len(rx), len(rx)) for _ in range(resamples))]
    lo, hi = np.nanpercentile(rhos, [2.5, 97.5])
    return float(lo), float(hi)


def read_jsonl(path, repair=False):
    """Records of a JSON-lines file by architecture. With repair, an unfinished last
    line (no newline: the run was interrupted mid-write) is cut off the file."""
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        if not repair:
            raise SystemExit(f"{path}: unfinished last line (resume the run first)")
        with open(path, "r+b") as f:
            f.truncate(cut)
        data = data[:cut]
    out = {}
    for no, line in enumerate(data.decode().splitlines(), 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}:{no}: not a JSON line: {e}")
        out[rec["arch"]] = rec
    return out


def read_archs(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


def read_accuracy(path):
    acc = {}
    with open(path) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split(",")
            acc[cols[3]] = float(cols[0])
    return acc


def oriented(name, values):
    v = np.asarray(values, dtype=float)
    return -v if name in LOWER_BETTER else v


def fmt(x, digits=3):
    return "n/a" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def table(archs, recs, acc, names):
    """Markdown rows for `names` over the given architectures (those with every needed
    score). Returns (rows, n_per_proxy)."""
    rows = []
    for name in names:
        need = ["ntk", "linear_regions"] if name == "tenas" else [name]
        use = [a for a in archs if all(p in recs[a]["scores"] for p in need)]
        if len(use) < 3:
            continue
        y = np.array([acc[a] for a in use])
        if name == "tenas":
            # TE-NAS: rank(ntk, ascending) + rank(linear_regions, descending), the lower
            # sum the better; oriented as higher = better.
            ntk = np.array([recs[a]["scores"]["ntk"] for a in use])
            lr = np.array([recs[a]["scores"]["linear_regions"] for a in use])
            x = -(rankdata(ntk) + rankdata(-lr))
            bad = np.array([any(f in recs[a]["flags"] for f in ("ntk:degenerate",
                            "linear_regions:degenerate")) for a in use])
            secs = [recs[a]["proxy_seconds"]["ntk"] + recs[a]["proxy_seconds"]["linear_regions"]
                    for a in use]
            label = "TE-NAS rank(ntk)+rank(linear_regions)"
        else:
            raw = np.array([recs[a]["scores"][name] for a in use])
            if not np.all(np.isfinite(raw)):
                raise SystemExit(f"{name}: non-finite value escaped")
            x = oriented(name, raw)
            bad = np.array([f"{name}:degenerate" in recs[a]["flags"] for a in use])
            flagged = int(bad.sum())
            # the sentinel is the worst value of the proxy's direction, exactly ±1e30
            # (synflow's real values can exceed 1e30)
            sentinel = int(np.count_nonzero(raw == (SENTINEL if name in LOWER_BETTER
                                                    else -SENTINEL)))
            if flagged != sentinel:
                raise SystemExit(f"{name}: {flagged} flagged but {sentinel} sentinel values")
            secs = [recs[a]["proxy_seconds"][name] for a in use]
            label = name + (" (negated)" if name in LOWER_BETTER else "")
        live, ok = y > CHANCE, ~bad
        pub = PUBLISHED.get(name, ("", ""))
        distinct = len(np.unique(x))
        lo, hi = spearman_interval(x, y)
        rows.append(f"| {label} | {len(use)} | {fmt(spearman(x, y))} | {fmt(lo, 2)}–{fmt(hi, 2)} | "
                    f"{fmt(kendall_b(x, y))} | "
                    f"{fmt(spearman(x[live], y[live]))} | {fmt(spearman(x[ok], y[ok]))} | "
                    f"{pub[0] or '—'} | {pub[1] or '—'} | {int(bad.sum())} | {distinct} | {float(np.mean(secs)):.3g} |")
    return rows


HEADER = ("| proxy | archs | Spearman ρ | ρ 95 % bootstrap | Kendall τ-b | "
          "ρ without chance-level archs | ρ without degenerate | published ρ (Suite-Zero) | "
          "published ρ (Abdelfattah) | degenerate (sentinel) | distinct values | "
          "mean s/arch |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def report(archs_path, acc_path, outs):
    archs = read_archs(archs_path)
    acc = read_accuracy(acc_path)
    recs, versions = {}, set()
    for path in outs:
        for arch, rec in read_jsonl(path).items():
            versions.add(rec["scoring_version"])
            r = recs.setdefault(arch, {"scores": {}, "flags": [], "proxy_seconds": {}})
            r["scores"].update(rec["scores"])
            r["flags"] += rec["flags"]
            r["proxy_seconds"].update(rec["proxy_seconds"])
    if len(versions) > 1:
        raise SystemExit(f"scores of several scoring versions {sorted(versions)}: "
                         "rescore into a fresh OUT")
    missing = [a for a in archs if a not in acc]
    if missing:
        raise SystemExit(f"{len(missing)} sampled architectures not in {acc_path}: {missing[0]}")
    scored = [a for a in archs if a in recs]
    names = [p for p in ORDER if p == "tenas" or any(p in recs[a]["scores"] for a in scored)]
    names += sorted({p for a in scored for p in recs[a]["scores"]} - set(names))
    chance = sum(acc[a] <= CHANCE for a in scored)
    print(f"{len(scored)} of {len(archs)} sampled architectures scored "
          f"({chance} of them at chance level, {CHANCE:g} % CIFAR-10 accuracy).\n")
    print(HEADER)
    print("\n".join(table(scored, recs, acc, names)))
    counts = {p: sum(p in recs[a]["scores"] for a in scored) for p in names if p != "tenas"}
    if len(set(counts.values())) > 1:
        common = [a for a in scored if all(p in recs[a]["scores"] for p in counts)]
        print(f"\nOn the {len(common)} architectures scored with every proxy:\n")
        print(HEADER)
        print("\n".join(table(common, recs, acc, names)))


def selftest():
    checks = [
        # hand-computed: ranks of y are 1,2,3.5,5,3.5 -> 8/sqrt(10*9.5)
        (spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / math.sqrt(95)),
        # C=2, D=6, one pair tied in x only, one tied in both -> -4/sqrt(9*8)
        (kendall_b([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -4 / math.sqrt(72)),
        (kendall_b([1, 2, 3, 4], [10, 20, 30, 40]), 1.0),
        (kendall_b([1, 2, 3, 4], [4, 3, 2, 1]), -1.0),
        (spearman([1, 2, 3, 4], [1, 4, 9, 16]), 1.0),
        (spearman([3, 1, 2], [30, 10, 20]), 1.0),
        # rank average of ties
        (float(rankdata([10, 20, 10, 30])[0]), 1.5),
        (float(rankdata([10, 20, 10, 30])[3]), 4.0),
    ]
    # tau-b against a plain pairwise loop on random data with many ties
    rng = np.random.default_rng(7)
    x, y = rng.integers(0, 5, 60).astype(float), rng.integers(0, 4, 60).astype(float)
    c = d = tx = ty = 0
    for i in range(60):
        for k in range(i + 1, 60):
            a, b = x[i] - x[k], y[i] - y[k]
            if a == 0 and b == 0:
                continue
            if a == 0:
                tx += 1
            elif b == 0:
                ty += 1
            elif (a > 0) == (b > 0):
                c += 1
            else:
                d += 1
    checks.append((kendall_b(x, y), (c - d) / math.sqrt((c + d + tx) * (c + d + ty))))
    # Spearman = Pearson of average ranks, against numpy's corrcoef on the ranks
    checks.append((spearman(x, y), float(np.corrcoef(rankdata(x), rankdata(y))[0, 1])))
    bad = [(i, got, want) for i, (got, want) in enumerate(checks) if abs(got - want) > 1e-12]
    for i, got, want in bad:
        print(f"selftest case {i}: got {got!r}, want {want!r}")
    print(f"selftest: {len(checks) - len(bad)}/{len(checks)} passed")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "selftest":
        return selftest()
    if len(argv) == 4 and argv[1] == "todo":
        done = read_jsonl(argv[3], repair=True)
        for a in read_archs(argv[2]):
            if a not in done:
                print(a)
        return 0
    if len(argv) >= 5 and argv[1] == "report":
        report(argv[2], argv[3], argv[4:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
