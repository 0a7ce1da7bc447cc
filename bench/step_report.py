"""Turns StepBenchmark's JMH JSON into a table: ms per step, GB/s, % of copy bandwidth."""
import json
import sys

ELEMENTS = 31 * 512 * 630 + 31 * 20
# Minimum bytes each benchmark must move per element (float32): reads + writes.
BYTES = {"copy": 8, "fusedAdaHessian": 32, "opByOpAdaHessian": 32, "fusedAdam": 28, "libtorchAdam": 28}

runs = json.load(open(sys.argv[1]))
rows = {}
for run in runs:
    name = run["benchmark"].rsplit(".", 1)[1]
    threads = run["params"]["threads"]
    ms = run["primaryMetric"]["score"]
    rows[(name, threads)] = ms

print(f"{ELEMENTS:,} float32 parameters in 62 tensors; mean of JMH iterations")
print("% bw: of the STREAM copy's GB/s at the same thread count")
print(f"{'step':<18}{'threads':>8}{'ms':>9}{'GB/s':>8}{'% bw':>8}{'vs libtorch Adam':>18}")
for threads in sorted({t for (_, t) in rows}):
    copy_gbs = BYTES["copy"] * ELEMENTS / (rows[("copy", threads)] * 1e-3) / 1e9
    for name in BYTES:
        if (name, threads) not in rows:
            continue
        ms = rows[(name, threads)]
        gbs = BYTES[name] * ELEMENTS / (ms * 1e-3) / 1e9
        speedup = rows.get(("libtorchAdam", threads), float("nan")) / ms
        print(f"{name:<18}{threads:>8}{ms:>9.2f}{gbs:>8.1f}{100 * gbs / copy_gbs:>7.0f}%{speedup:>17.2f}x")
