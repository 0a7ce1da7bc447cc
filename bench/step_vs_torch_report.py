"""Summarises bench/step-vs-torch26.sh: per parameter set and thread count, every step's median
over rounds (ms, with the range over rounds), our steps over torch 2.6's fused ones as ratios
paired within a round (median over rounds, range), and every step as a % of the memory limit
measured in the same round (StepBenchmark.stepBytesOnly: the Adam step's 28 bytes per parameter,
no step math), counting the bytes each step must move. A Java figure is the median of a round's
JMH iterations (each the mean step time over about a second); a torch figure is the median of a
round's timed steps.

    step_vs_torch_report.py DIR     (DIR: java-ROUND-THREADS.json and torch.jsonl)
"""
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict

out = sys.argv[1]
times = defaultdict(dict)  # (shapes, threads, step) -> {round: ms}
for path in glob.glob(os.path.join(out, "java-*.json")):
    round_ = int(re.match(r"java-(\d+)-\d+\.json", os.path.basename(path)).group(1))
    for run in json.load(open(path)):
        name = run["benchmark"].rsplit(".", 1)[1]
        iterations = [x for fork in run["primaryMetric"]["rawData"] for x in fork]
        key = (run["params"]["shapes"], int(run["params"]["threads"]), "ours " + name)
        times[key][round_] = statistics.median(iterations)
for line in open(os.path.join(out, "torch.jsonl")):
    r = json.loads(line)
    key = (r["shapes"], r["threads"], f"torch {r['optimizer']} {r['implementation']}")
    times[key][r["round"]] = r["median_ms"]
torch_version = json.loads(open(os.path.join(out, "torch.jsonl")).readline())["torch"]

STEPS = ["ours stepBytesOnly", "ours fusedAdam", "ours uncheckedAdam", "ours nativeAdam", "ours fusedAdaHessian",
         "torch Adam fused", "torch Adam foreach", "torch Adam for-loop",
         "ours fusedAdamW", "torch AdamW fused", "torch AdamW foreach", "torch AdamW for-loop"]
RATIOS = [("ours fusedAdam", "torch Adam fused"), ("ours uncheckedAdam", "torch Adam fused"),
          ("ours fusedAdamW", "torch AdamW fused")]
# Ours against ours: what the gradient check costs (its bytes alone: 32 / 28 = 1.14), and the
# AdaHessian step given its Hessian diagonal against the Adam step, both the core's call alone
# (their bytes: 32 / 28 = 1.14).
OWN_RATIOS = [("ours fusedAdam", "ours uncheckedAdam"), ("ours fusedAdaHessian", "ours nativeAdam")]
LIMIT = "ours stepBytesOnly"
# Bytes per float32 parameter that each step must move: p, g, m, v read, p, m, v written (28);
# the checked steps read g once more first (32); AdaHessian also reads D (32).
BYTES = {"ours fusedAdam": 32, "ours fusedAdamW": 32, "ours fusedAdaHessian": 32}
LIMITED = ["ours fusedAdam", "ours uncheckedAdam", "ours nativeAdam", "ours fusedAdaHessian",
           "torch Adam fused", "torch Adam foreach", "torch Adam for-loop", "ours fusedAdamW",
           "torch AdamW fused", "torch AdamW foreach", "torch AdamW for-loop"]


def span(values):
    text = f"{statistics.median(values):.3f}"
    return text + (f" ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else "")


print(f"ms per step, median over rounds (range); torch {torch_version}; ours: fusedAdam = Adam.step(), "
      "uncheckedAdam = the same with NonFinitePolicy.IGNORE (no gradient check, torch's fused work)")
print("| set | threads | " + " | ".join(STEPS) + " |")
print("|---|---:|" + "---:|" * len(STEPS))
sets = sorted({(s, t) for s, t, _ in times}, key=lambda k: (k[0] != "10M", k[1]))
for shapes, threads in sets:
    cells = [span(list(times[(shapes, threads, step)].values())) if (shapes, threads, step) in times else "n/a"
             for step in STEPS]
    print(f"| {shapes} | {threads} | " + " | ".join(cells) + " |")
print()


def ratio_table(ratios):
    print("| set | threads | " + " | ".join(f"{a} / {b}" for a, b in ratios) + " |")
    print("|---|---:|" + "---:|" * len(ratios))
    for shapes, threads in sets:
        cells = []
        for a, b in ratios:
            x, y = times.get((shapes, threads, a), {}), times.get((shapes, threads, b), {})
            pairs = [x[r] / y[r] for r in sorted(x) if r in y]
            cells.append(span(pairs) if pairs else "n/a")
        print(f"| {shapes} | {threads} | " + " | ".join(cells) + " |")


print("ours / torch's fused step, paired within a round: median over rounds (range); below 1: ours is faster")
ratio_table(RATIOS)
print()
print("ours / ours, paired within a round: the gradient check's cost (bytes alone: 1.14) and the AdaHessian "
      "step over the Adam step, the core's calls alone (bytes alone: 1.14; target: at most 1.15)")
ratio_table(OWN_RATIOS)
print()
print("% of the memory limit, paired within a round: the limit's time for the step's bytes (28 per parameter; "
      "32: " + ", ".join(sorted(BYTES)) + ") over the step's time; median over rounds (range)")
print("| set | threads | limit ms | " + " | ".join(LIMITED) + " |")
print("|---|---:|---:|" + "---:|" * len(LIMITED))
for shapes, threads in sets:
    limit = times.get((shapes, threads, LIMIT), {})
    cells = []
    for step in LIMITED:
        x = times.get((shapes, threads, step), {})
        shares = [100 * limit[r] * BYTES.get(step, 28) / 28 / x[r] for r in sorted(x) if r in limit]
        cells.append(span(shares) + "%" if shares else "n/a")
    limit_cell = span(list(limit.values())) if limit else "n/a"
    print(f"| {shapes} | {threads} | {limit_cell} | " + " | ".join(cells) + " |")
