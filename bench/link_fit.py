"""Fits latency + bytes / bandwidth to all-reduce times per link (bench/link-bench.sh's JSON lines,
from AllReduceBenchmark: one Gloo all-reduce per call) with the ring model of p ranks,

    t(n) = 2 (p - 1) latency + 2 (p - 1) / p * n / bandwidth,

by least squares weighted by 1 / time (as if a call's variance grew with its time: the noise of
a shared machine is partly a fixed scheduling delay, which makes the smallest calls the noisiest
relative to their time, and partly proportional; relative weights let those small calls set the
slope), and prints per link the intercept, the latency per ring step, the bandwidth and the
relative residuals, then each size's. With --json FILE it writes the fits for
bench/scale_projection.py.

    python3 bench/link_fit.py ALLREDUCE.jsonl [--json links.json]
"""
import argparse
import json
import math
import re
from collections import OrderedDict

UNITS = {"kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8}


def set_rate(link):
    """The rate tc was given for the link, in bytes per second; None for 'unlimited'."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(kbit|mbit|gbit)", link.lower())
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def fit(points):
    """Weighted least squares of t = a + b n with weights 1 / t: (a, b)."""
    sw = sn = snn = st = snt = 0.0
    for n, t in points:
        w = 1.0 / t
        sw += w
        sn += w * n
        snn += w * n * n
        st += w * t
        snt += w * n * t
    det = sw * snn - sn * sn
    if det <= 0:
        raise SystemExit("need at least two different message sizes per link to fit")
    return (st * snn - sn * snt) / det, (sw * snt - sn * st) / det


def analyse(rows):
    """Per link, in the order met: the fit, its residuals and the points."""
    links = OrderedDict()
    for r in rows:
        links.setdefault(r["link"], []).append(r)
    fits = []
    for link, runs in links.items():
        worlds = {r["world"] for r in runs}
        if len(worlds) != 1:
            raise SystemExit(f"link {link}: runs of several world sizes {sorted(worlds)}")
        p = worlds.pop()
        points = [(r["bytes"], r["median_s"]) for r in sorted(runs, key=lambda r: r["bytes"])]
        a, b = fit(points)
        residuals = [(a + b * n - t) / t for n, t in points]
        fits.append({
            "link": link,
            "world": p,
            "set_rate_bytes_per_s": set_rate(link),
            "intercept_s": a,
            "latency_s": a / (2 * (p - 1)),
            "bandwidth_bytes_per_s": 2 * (p - 1) / p / b if b > 0 else math.inf,
            "rms_relative_residual": math.sqrt(sum(x * x for x in residuals) / len(residuals)),
            "max_relative_residual": max(abs(x) for x in residuals),
            "points": [{"bytes": n, "median_s": t, "relative_residual": x}
                       for (n, t), x in zip(points, residuals)],
        })
    return fits


def size(n):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def report(fits):
    print("| link | sizes | intercept | latency per ring step | bandwidth | of the set rate "
          "| residuals: RMS, max |")
    print("|---|---|---|---|---|---|---|")
    for f in fits:
        sizes = f"{size(f['points'][0]['bytes'])} to {size(f['points'][-1]['bytes'])}"
        rate = f["set_rate_bytes_per_s"]
        share = f"{f['bandwidth_bytes_per_s'] / rate:.0%}" if rate else "-"
        print(f"| {f['link']} | {sizes} | {f['intercept_s'] * 1e6:.0f} us | {f['latency_s'] * 1e6:.0f} us "
              f"| {f['bandwidth_bytes_per_s'] * 8 / 1e9:.3g} Gbit/s | {share} "
              f"| {f['rms_relative_residual']:.1%}, {f['max_relative_residual']:.1%} |")
    print()
    sizes = sorted({p["bytes"] for f in fits for p in f["points"]})
    print("| bytes | " + " | ".join(f"{f['link']}: time (residual)" for f in fits) + " |")
    print("|---|" + "---|" * len(fits))
    for n in sizes:
        cells = []
        for f in fits:
            p = next((p for p in f["points"] if p["bytes"] == n), None)
            cells.append(f"{p['median_s'] * 1e3:.3f} ms ({p['relative_residual']:+.1%})" if p else "")
        print(f"| {size(n)} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", help="AllReduceBenchmark's JSON lines")
    parser.add_argument("--json", help="write the fits here")
    args = parser.parse_args()
    with open(args.runs) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        raise SystemExit(f"{args.runs} holds no runs")
    fits = analyse(rows)
    report(fits)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"fits": fits}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
