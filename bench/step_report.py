"""Turns StepBenchmark's JMH JSON into a table: ms per step, GB/s, % of copy bandwidth."""
import json
import sys

# Parameters per set (see StepBenchmark).
ELEMENTS = {"10M": 31 * 512 * 630 + 31 * 20, "resnet20": 269722}
# Minimum bytes each benchmark must move per element (float32): reads + writes.
BYTES = {"copy": 8, "stepBytesOnly": 28, "fusedAdaHessian": 32, "opByOpAdaHessian": 32,
         "nativeAdam": 28, "fusedAdam": 28, "fusedAdamW": 28, "uncheckedAdam": 28, "libtorchAdam": 28}

runs = json.load(open(sys.argv[1]))
rows = {}
for run in runs:
    name = run["benchmark"].rsplit(".", 1)[1]
    params = run["params"]
    key = (params["shapes"], int(params["threads"]), params.get("isa", "best"), name)
    rows[key] = run["primaryMetric"]["score"]
isas = sorted({i for (_, _, i, _) in rows})
isa_column = len(isas) > 1  # -p isa=baseline,best: one block of rows per instruction set

print("mean of JMH iterations; % bw: of the STREAM copy's GB/s at the same thread count"
      + (" and instruction set" if isa_column else ""))
print(f"{'set':<9}{'step':<18}{'threads':>8}" + (f"{'isa':>10}" if isa_column else "")
      + f"{'ms':>10}{'GB/s':>8}{'% bw':>7}{'vs libtorch Adam':>18}")
for shapes in ("10M", "resnet20"):
    elements = ELEMENTS[shapes]
    for threads in sorted({t for (s, t, _, _) in rows if s == shapes}):
        for isa in isas:
            copy = rows.get((shapes, threads, isa, "copy"))
            copy_gbs = BYTES["copy"] * elements / (copy * 1e-3) / 1e9 if copy else float("nan")
            for name in BYTES:
                ms = rows.get((shapes, threads, isa, name))
                if ms is None:
                    continue
                gbs = BYTES[name] * elements / (ms * 1e-3) / 1e9
                speedup = rows.get((shapes, threads, isa, "libtorchAdam"), float("nan")) / ms
                print(f"{shapes:<9}{name:<18}{threads:>8}" + (f"{isa:>10}" if isa_column else "")
                      + f"{ms:>10.3f}{gbs:>8.1f}{100 * gbs / copy_gbs:>6.0f}%{speedup:>17.2f}x")

# What the step statistics cost: the read pass with the statistics over the non-finite check
# alone, as a share of the fused steps (both passes read the gradients once, 4 bytes per element).
print()
print("statistics' cost per step: statsPass - checkPass, as % of the fused steps")
print(f"{'set':<9}{'threads':>8}{'check ms':>10}{'stats ms':>10}{'extra ms':>10}{'% Adam':>8}{'% AdaH':>8}")
for shapes in ("10M", "resnet20"):
    for threads in sorted({t for (s, t, _, _) in rows if s == shapes}):
        for isa in isas:
            check = rows.get((shapes, threads, isa, "checkPass"))
            stats = rows.get((shapes, threads, isa, "statsPass"))
            if check is None or stats is None:
                continue
            adam = rows.get((shapes, threads, isa, "fusedAdam"), float("nan"))
            adah = rows.get((shapes, threads, isa, "fusedAdaHessian"), float("nan"))
            extra = stats - check
            print(f"{shapes:<9}{threads:>8}{check:>10.3f}{stats:>10.3f}{extra:>10.3f}"
                  f"{100 * extra / adam:>7.1f}%{100 * extra / adah:>7.1f}%")
