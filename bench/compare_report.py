"""Summarises bench/compare.sh's JSON lines: per configuration and allocator setting, the median
over rounds of each round's median iteration time (with the quartiles of the round closest to
it), the peak RSS, and the ratios the README quotes; then AdaHessian's cheaper variants (CNN, ResNet and transformer,
Java) as ratios to Java Adam's iteration. Every ratio pairs the two configurations' runs of the
same round (minutes apart at most) and is the median over rounds of those per-round ratios,
with their range when there are several rounds: the machine's speed drifts between rounds, for
both languages alike, and a ratio of medians taken from different rounds would mix the drift
into it. Python runs are told apart by their torch (torch 1.13 on the host, torch 2.6 from
bench/python/torch26.sh, whose Adam is fused=True)."""
import json
import statistics
import sys
from collections import defaultdict

# The models' names as Model.java and the docs write them (ResNet-20: IterationBenchmark's and
# iteration_bench.py's resnet is ResNet-20; the transformer has 2 blocks).
NAMES = {"mlp": "MLP", "cnn": "CNN", "resnet": "ResNet-20", "transformer": "Transformer"}

runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    language = r["language"] if r["language"] == "java" else "torch " + ".".join(r["torch"].split(".")[:2])
    key = (r.get("allocator", "default"), language, r["model"], r["optimizer"], r["threads"])
    runs[key].append(r)


def pick(key):
    """The round whose median is the median of the rounds' medians (or nothing)."""
    values = runs.get(key)
    if not values:
        return None
    med = statistics.median_low([v["median_ms"] for v in values])
    return next(v for v in values if v["median_ms"] == med), max(v["peak_rss_mib"] for v in values)


def ratio(num, den):
    """Median over rounds of num's / den's median in the same round, with the range."""
    a, b = runs.get(num, []), runs.get(den, [])
    pairs = [x["median_ms"] / y["median_ms"] for x, y in zip(a, b)]
    if not pairs:
        return "n/a"
    text = f"{statistics.median(pairs):.2f}"
    return text + (f" ({min(pairs):.2f}-{max(pairs):.2f})" if len(pairs) > 1 else "")


def cell(key, quartiles=False):
    p = pick(key)
    if not p:
        return "n/a"
    r, peak = p
    q = f" [{r['q1_ms']:.1f}-{r['q3_ms']:.1f}]" if quartiles else ""
    return f"{r['median_ms']:.2f}{q} ({peak:.0f} MiB)"


rounds = max(len(v) for v in runs.values())
allocators = sorted({k[0] for k in runs})
print(f"ms per iteration (batch 128; median of {rounds} interleaved rounds, each the median of 30 "
      "iterations; Java: [quartiles] of that round) and peak RSS in MiB; ratios: median over "
      "rounds of the ratio within a round (range)")
for alloc in allocators:
    print()
    print(f"allocator: {alloc}")
    print("| model | threads | torch 1.13 Adam | torch 1.13 AdaHessian | torch 2.6 fused Adam "
          "| torch 2.6 AdaHessian | Java Adam | Java AdaHessian | Java op-by-op AdaHessian "
          "| Java/torch 1.13 AdaHessian | Java/torch 2.6 AdaHessian | Java Adam/torch 2.6 fused Adam "
          "| Java fused/op-by-op | AdaHessian/Adam Java | AdaHessian/Adam torch 1.13 "
          "| AdaHessian/Adam torch 2.6 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in [m for m in NAMES if any(k[0] == alloc and k[2] == m for k in runs)]:
        for threads in (1, 2):
            def k(lang, opt, model=model, threads=threads):
                return (alloc, lang, model, opt, threads)
            old, new = "torch 1.13", "torch 2.6"
            print(f"| {NAMES[model]} | {threads} | {cell(k(old, 'adam'))} | {cell(k(old, 'adahessian'))} "
                  f"| {cell(k(new, 'adam'))} | {cell(k(new, 'adahessian'))} "
                  f"| {cell(k('java', 'adam'), True)} "
                  f"| {cell(k('java', 'adahessian'), True)} | {cell(k('java', 'opbyop'))} "
                  f"| {ratio(k('java', 'adahessian'), k(old, 'adahessian'))} "
                  f"| {ratio(k('java', 'adahessian'), k(new, 'adahessian'))} "
                  f"| {ratio(k('java', 'adam'), k(new, 'adam'))} "
                  f"| {ratio(k('java', 'adahessian'), k('java', 'opbyop'))} "
                  f"| {ratio(k('java', 'adahessian'), k('java', 'adam'))} "
                  f"| {ratio(k(old, 'adahessian'), k(old, 'adam'))} "
                  f"| {ratio(k(new, 'adahessian'), k(new, 'adam'))} |")
    variants = [("adahessian", "Hessian from the whole batch"),
                ("adahessian-h2", "Hessian from 1/2 of the batch"),
                ("adahessian-h4", "Hessian from 1/4 of the batch"),
                ("adahessian-e2", "whole batch, updateEach(2)"),
                ("adahessian-h4e2", "1/4 of the batch, updateEach(2)")]
    variants.append(("adam-math", "Adam, math attention (flash off)"))
    for model, name in NAMES.items():
        if not any((alloc, "java", model, v, t) in runs for v, _ in variants[1:] for t in (1, 2)):
            continue
        print()
        print(f"{name}, Java AdaHessian variants / Java Adam (allocator: {alloc})")
        print("| variant | threads | ms [quartiles] (peak RSS) | / Java Adam |")
        print("|---|---:|---:|---:|")
        for threads in (1, 2):
            adam = (alloc, "java", model, "adam", threads)
            for v, label in variants:
                key = (alloc, "java", model, v, threads)
                if key in runs:
                    print(f"| {label} | {threads} | {cell(key, True)} | {ratio(key, adam)} |")
