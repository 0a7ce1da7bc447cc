"""Turns StepBenchmark's JMH JSON into a table: ms per step, GB/s, % of copy bandwidth."""
import json
import sys

# Parameters per set (see StepBenchmark).
ELEMENTS = {"10M": 31 * 512 * 630 + 31 * 20, "resnet20": 269722}
# Minimum bytes each benchmark must move per element (float32): reads + writes.
BYTES = {"copy": 8, "fusedAdaHessian": 32, "opByOpAdaHessian": 32, "fusedAdam": 28, "libtorchAdam": 28}

runs = json.load(open(sys.argv[1]))
rows = {}
for run in runs:
    name = run["benchmark"].rsplit(".", 1)[1]
    key = (run["params"]["shapes"], int(run["params"]["threads"]), name)
    rows[key] = run["primaryMetric"]["score"]

print("mean of JMH iterations; % bw: of the STREAM copy's GB/s at the same thread count")
print(f"{'set':<9}{'step':<18}{'threads':>8}{'ms':>10}{'GB/s':>8}{'% bw':>7}{'vs libtorch Adam':>18}")
for shapes in ("10M", "resnet20"):
    elements = ELEMENTS[shapes]
    for threads in sorted({t for (s, t, _) in rows if s == shapes}):
        copy = rows.get((shapes, threads, "copy"))
        copy_gbs = BYTES["copy"] * elements / (copy * 1e-3) / 1e9 if copy else float("nan")
        for name in BYTES:
            ms = rows.get((shapes, threads, name))
            if ms is None:
                continue
            gbs = BYTES[name] * elements / (ms * 1e-3) / 1e9
            speedup = rows.get((shapes, threads, "libtorchAdam"), float("nan")) / ms
            print(f"{shapes:<9}{name:<18}{threads:>8}{ms:>10.3f}{gbs:>8.1f}{100 * gbs / copy_gbs:>6.0f}%{speedup:>17.2f}x")
