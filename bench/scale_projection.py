"""Projects data-parallel throughput on 1 to 64 machines from a measured compute time per step and
fitted links (ring all-reduce), per model and optimizer; prints one Markdown table per link and
writes an SVG plot of the scaling efficiency.

    python3 bench/scale_projection.py --compute ITERATIONS.jsonl --links links.json \\
        [--machines 2,4,8,16,32,64] [--threads 1] [--optimizers adam,adahessian,adahessian-e2] \\
        [--svg FILE]

--compute: IterationBenchmark's JSON lines (bench/compare.sh writes them; only the Java runs
count): model, optimizer, threads, median_ms, batch and parameters; the median over rounds of each
configuration's median_ms is its compute time per step. Any model IterationBenchmark runs is
projected: a model is added by its runs, not here. --links: bench/link_fit.py's fits (latency per
ring step and bandwidth per link).

Weak scaling: each machine computes a step on its own batch (the runs' batch) in the measured time,
then the optimizer's replica mean all-reduces (ProcessGroup, no overlap with the computation):
one allReduceMean call per step whatever the optimizer (FusedOptimizer.averageAcrossReplicas hands
the gradients and, on refresh steps, AdaHessian's fresh Hessian estimates over in one list), which
is one header all-reduce of 12 int64 per rank (the collective check) and one all-reduce per bucket
of at most 25 MiB. Per step and rank, float32: Adam sends the gradients, 4 bytes per parameter;
AdaHessian the gradients and the estimates, 8; AdaHessian updateEach(2) 8 on refresh steps and 4
between, 6 on average. Each all-reduce of n bytes over p machines takes, with a ring,

    2 (p - 1) latency + 2 (p - 1) / p * n / bandwidth,

and throughput = p * batch / (compute + all-reduces); efficiency = throughput / (p x one machine's).
"""
import argparse
import json
import math
import statistics
from collections import defaultdict

BUCKET_BYTES = 25 << 20
HEADER_BYTES_PER_RANK = 12 * 8
# Bytes per parameter each step sends, over the optimizer's cycle of steps (read from the code).
SENT_PER_PARAMETER = {
    "adam": [4],
    "adahessian": [8],
    "adahessian-e2": [8, 4],
}
LABELS = {"adam": "Adam", "adahessian": "AdaHessian", "adahessian-e2": "AdaHessian updateEach(2)"}


def allreduce_s(n, p, link):
    return 2 * (p - 1) * link["latency_s"] + 2 * (p - 1) / p * n / link["bandwidth_bytes_per_s"]


def comm_s(parameters, optimizer, p, link):
    """All-reduce seconds per step, averaged over the optimizer's cycle."""
    if p == 1:
        return 0.0
    per_step = []
    for per_parameter in SENT_PER_PARAMETER[optimizer]:
        payload = parameters * per_parameter
        buckets = max(1, math.ceil(payload / BUCKET_BYTES))
        per_step.append(allreduce_s(HEADER_BYTES_PER_RANK * p, p, link)
                        + sum(allreduce_s(payload / buckets, p, link) for _ in range(buckets)))
    return statistics.mean(per_step)


def load_compute(path, threads, optimizers):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("language") == "java" and r["threads"] == threads and r["optimizer"] in optimizers:
                if "parameters" not in r:
                    raise SystemExit(f"{path}: a run without 'parameters' (an older IterationBenchmark): {line}")
                runs[(r["model"], r["optimizer"])].append(r)
    if not runs:
        raise SystemExit(f"{path}: no Java run with {threads} thread(s) of {sorted(optimizers)}")
    configs = []
    for (model, optimizer), rs in sorted(runs.items(), key=lambda kv: (kv[0][0], optimizers.index(kv[0][1]))):
        configs.append({"model": model, "optimizer": optimizer,
                        "compute_s": statistics.median(r["median_ms"] for r in rs) / 1e3,
                        "batch": rs[0]["batch"], "parameters": rs[0]["parameters"], "rounds": len(rs)})
    return configs


def project(configs, links, machines):
    """Per link and configuration: {p: (images/s, efficiency)}."""
    table = {}
    for link in links:
        for c in configs:
            one = c["batch"] / c["compute_s"]
            row = {}
            for p in [1] + machines:
                rate = p * c["batch"] / (c["compute_s"] + comm_s(c["parameters"], c["optimizer"], p, link))
                row[p] = (rate, rate / (p * one))
            table[(link["link"], c["model"], c["optimizer"])] = row
    return table


def print_tables(configs, links, machines, table):
    for link in links:
        print(f"link {link['link']}: latency per ring step {link['latency_s'] * 1e6:.0f} us, "
              f"bandwidth {link['bandwidth_bytes_per_s'] * 8 / 1e9:.3g} Gbit/s; images/s (efficiency)")
        print()
        print("| model | optimizer | compute per step | sent per step and rank | 1 machine | "
              + " | ".join(f"{p} machines" for p in machines) + " |")
        print("|---|---|---|---|---|" + "---|" * len(machines))
        for c in configs:
            row = table[(link["link"], c["model"], c["optimizer"])]
            sent = c["parameters"] * statistics.mean(SENT_PER_PARAMETER[c["optimizer"]])
            print(f"| {c['model']} | {LABELS[c['optimizer']]} | {c['compute_s'] * 1e3:.1f} ms (batch {c['batch']}) "
                  f"| {sent:,.0f} bytes | {row[1][0]:,.0f} | "
                  + " | ".join(f"{row[p][0]:,.0f} ({row[p][1]:.0%})" for p in machines) + " |")
        print()


COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
DASHES = {"adam": "", "adahessian": "6,3", "adahessian-e2": "2,2"}


def svg(configs, links, machines, table):
    """Scaling efficiency against machines, one panel per link."""
    pw, ph, left, top, gap = 260, 200, 50, 30, 30
    legend_h = 18 * len(configs) + 10
    width = left + len(links) * (pw + gap)
    height = top + ph + 45 + legend_h
    xs = [1] + machines
    lo, hi = math.log2(xs[0]), math.log2(xs[-1])
    models = sorted({c["model"] for c in configs})
    colour = {m: COLOURS[i % len(COLOURS)] for i, m in enumerate(models)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for i, link in enumerate(links):
        x0 = left + i * (pw + gap)

        def px(p):
            return x0 + (math.log2(p) - lo) / (hi - lo) * pw

        def py(e):
            return top + (1 - e) * ph

        out.append(f'<text x="{x0 + pw / 2}" y="{top - 10}" text-anchor="middle">link {link["link"]}</text>')
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
        for e in (0, 0.25, 0.5, 0.75, 1):
            out.append(f'<line x1="{x0}" y1="{py(e)}" x2="{x0 + pw}" y2="{py(e)}" stroke="#ddd"/>')
            if i == 0:
                out.append(f'<text x="{x0 - 5}" y="{py(e) + 4}" text-anchor="end">{e:.0%}</text>')
        for p in xs:
            out.append(f'<text x="{px(p)}" y="{top + ph + 14}" text-anchor="middle">{p}</text>')
        out.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 28}" text-anchor="middle">machines</text>')
        for c in configs:
            row = table[(link["link"], c["model"], c["optimizer"])]
            points = " ".join(f"{px(p):.1f},{py(row[p][1]):.1f}" for p in xs)
            dash = DASHES.get(c["optimizer"], "")
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour[c["model"]]}" stroke-width="1.5"'
                       + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    out.append(f'<text x="12" y="{top + ph / 2}" transform="rotate(-90 12 {top + ph / 2})" '
               'text-anchor="middle">scaling efficiency</text>')
    for j, c in enumerate(configs):
        y = top + ph + 48 + 18 * j
        dash = DASHES.get(c["optimizer"], "")
        out.append(f'<line x1="{left}" y1="{y}" x2="{left + 30}" y2="{y}" stroke="{colour[c["model"]]}" '
                   'stroke-width="1.5"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        out.append(f'<text x="{left + 36}" y="{y + 4}">{c["model"]}, {LABELS[c["optimizer"]]}: '
                   f'{c["compute_s"] * 1e3:.1f} ms per step of {c["batch"]}, {c["parameters"]:,} parameters</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compute", required=True, help="IterationBenchmark's JSON lines")
    parser.add_argument("--links", required=True, help="bench/link_fit.py --json's file")
    parser.add_argument("--machines", default="2,4,8,16,32,64")
    parser.add_argument("--threads", type=int, default=1, help="the compute runs' threads (default 1)")
    parser.add_argument("--optimizers", default="adam,adahessian,adahessian-e2")
    parser.add_argument("--svg", help="write the plot here")
    args = parser.parse_args()
    machines = sorted({int(m) for m in args.machines.split(",")})
    if machines[0] < 2:
        raise SystemExit(f"--machines {args.machines}: each must be at least 2 (1 is always shown)")
    optimizers = args.optimizers.split(",")
    unknown = [o for o in optimizers if o not in SENT_PER_PARAMETER]
    if unknown:
        raise SystemExit(f"--optimizers: unknown {unknown} (known: {sorted(SENT_PER_PARAMETER)})")
    configs = load_compute(args.compute, args.threads, optimizers)
    with open(args.links) as f:
        links = json.load(f)["fits"]
    table = project(configs, links, machines)
    print_tables(configs, links, machines, table)
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(configs, links, machines, table))


if __name__ == "__main__":
    main()
