"""Summarises bench/compare.sh's JSON lines: per configuration, the median over rounds of each
round's median iteration time, the peak RSS, and the ratios the README quotes."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
rss = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["language"], r["model"], r["optimizer"], r["threads"])
    runs[key].append(r["median_ms"])
    rss[key].append(r["peak_rss_mib"])


def ms(language, model, optimizer, threads):
    values = runs.get((language, model, optimizer, threads))
    return statistics.median(values) if values else float("nan")


def mib(language, model, optimizer, threads):
    values = rss.get((language, model, optimizer, threads))
    return max(values) if values else float("nan")


rounds = max(len(v) for v in runs.values())
print(f"ms per iteration (batch 128; median of {rounds} interleaved rounds, each the median of 30 "
      "iterations) and peak RSS in MiB")
print("| model | threads | Python Adam | Python AdaHessian | Java Adam | Java AdaHessian "
      "| Java op-by-op AdaHessian | Java/Python AdaHessian | Java fused/op-by-op "
      "| AdaHessian/Adam Java | AdaHessian/Adam Python |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for model in ("mlp", "cnn"):
    for threads in (1, 2):
        pa, ph = ms("python", model, "adam", threads), ms("python", model, "adahessian", threads)
        ja, jh = ms("java", model, "adam", threads), ms("java", model, "adahessian", threads)
        jo = ms("java", model, "opbyop", threads)

        def cell(v, language, optimizer):
            return f"{v:.2f} ({mib(language, model, optimizer, threads):.0f} MiB)"
        print(f"| {model.upper()} | {threads} | {cell(pa, 'python', 'adam')} "
              f"| {cell(ph, 'python', 'adahessian')} | {cell(ja, 'java', 'adam')} "
              f"| {cell(jh, 'java', 'adahessian')} | {cell(jo, 'java', 'opbyop')} "
              f"| {jh / ph:.2f} | {jh / jo:.2f} | {jh / ja:.2f} | {ph / pa:.2f} |")
