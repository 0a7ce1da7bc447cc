"""Summarises bench/step-vs-torch26.sh: per parameter set and thread count, every step's median
over rounds (ms, with the range over rounds), and our steps over torch 2.6's fused ones as ratios
paired within a round (median over rounds, range). A Java figure is the median of a round's JMH
iterations (each the mean step time over about a second); a torch figure is the median of a
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

STEPS = ["ours fusedAdam", "ours uncheckedAdam", "torch Adam fused", "torch Adam foreach", "torch Adam for-loop",
         "ours fusedAdamW", "torch AdamW fused", "torch AdamW foreach", "torch AdamW for-loop"]
RATIOS = [("ours fusedAdam", "torch Adam fused"), ("ours uncheckedAdam", "torch Adam fused"),
          ("ours fusedAdamW", "torch AdamW fused")]


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
print("ours / torch's fused step, paired within a round: median over rounds (range); below 1: ours is faster")
print("| set | threads | " + " | ".join(f"{a} / {b}" for a, b in RATIOS) + " |")
print("|---|---:|" + "---:|" * len(RATIOS))
for shapes, threads in sets:
    cells = []
    for a, b in RATIOS:
        x, y = times.get((shapes, threads, a), {}), times.get((shapes, threads, b), {})
        pairs = [x[r] / y[r] for r in sorted(x) if r in y]
        cells.append(span(pairs) if pairs else "n/a")
    print(f"| {shapes} | {threads} | " + " | ".join(cells) + " |")
