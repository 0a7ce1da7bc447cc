#!/usr/bin/python3
"""Writes the Hessian-analysis fixtures that java/src/test/.../HessianParityTest.java reads.

    /usr/bin/python3 bench/python/hessian_parity.py --out DIR

For each case, DIR/<case>/ holds:

  manifest.json   model (parity.py's "mlp" or "cnn" formulas), dtype, seed, the parameters (name,
                  shape) and inputs (name, dtype, shape), the options of every computation and
                  hessian_reference.py's results: Lanczos top eigenvalues (two tolerances), power
                  iteration with deflation, Hutchinson's trace (every sample, per parameter), SLQ
                  runs (nodes, weights) and PyHessian's smoothed density on a coarse grid.
  init/<p>.bin    parameter p; inputs/<x>.bin: input x (one batch)

.bin files are raw little-endian, C order. DIR/index.json lists the cases. The set is written
into a temporary folder and swapped in whole (index last).
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(f"hessian_parity.py: {e}. Install the Python reference first: bench/python/install-reference.sh")

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hessian_reference import HessianAnalysis, smoothed  # noqa: E402
from parity import DTYPES, MODELS, write, write_folder  # noqa: E402

# (case, model, dtype, generator seed, probe seed)
CASES = [
    ("mlp_float64", "mlp", "float64", 3, 1234),
    ("cnn_float64", "cnn", "float64", 5, 99),
    ("mlp_float32", "mlp", "float32", 3, 1234),
]

OPTIONS = {
    "lanczos": {"k": 5, "tolerance": 1e-10, "maxIterations": 300, "which": "largest"},
    "lanczosLoose": {"k": 3, "tolerance": 1e-4, "maxIterations": 300, "which": "largest"},
    "lanczosSmallest": {"k": 2, "tolerance": 1e-8, "maxIterations": 300, "which": "smallest"},
    "power": {"k": 3, "tolerance": 1e-6, "maxIterations": 1000},
    "trace": {"relativeError": 0.05, "absoluteError": 0.0, "minSamples": 10, "maxSamples": 300},
    "density": {"runs": 2, "steps": 12, "points": 400, "sigmaSquared": 1e-5, "overhead": 0.01},
}


def run_case(out, name, model, dtype_name, gen_seed, seed):
    dtype = DTYPES[dtype_name]
    make, loss_fn = MODELS[model]
    g = torch.Generator().manual_seed(gen_seed)
    init, raw_inputs = make(g, 1)
    params = {n: t.to(dtype).clone().requires_grad_(True) for n, t in init.items()}
    inputs = {}
    for n, (t, per_step) in raw_inputs.items():
        t = t[0] if per_step else t
        inputs[n] = t if t.dtype == torch.int64 else t.to(dtype)
    root = os.path.join(out, name)
    for n, p in params.items():
        write(os.path.join(root, "init", n + ".bin"), p)
    for n, x in inputs.items():
        write(os.path.join(root, "inputs", n + ".bin"), x)

    names = list(params)
    h = HessianAnalysis([params[n] for n in names], [lambda: loss_fn(params, inputs)], seed=seed)
    o = OPTIONS
    results = {
        "loss": h.loss,
        "dimension": h.dim,
        "skipped": [names[i] for i, _ in h.skipped],
        "lanczos": h.top_eigenvalues(o["lanczos"]["k"], o["lanczos"]["tolerance"], o["lanczos"]["maxIterations"]),
        "lanczosLoose": h.top_eigenvalues(o["lanczosLoose"]["k"], o["lanczosLoose"]["tolerance"],
                                          o["lanczosLoose"]["maxIterations"]),
        "lanczosSmallest": h.top_eigenvalues(o["lanczosSmallest"]["k"], o["lanczosSmallest"]["tolerance"],
                                             o["lanczosSmallest"]["maxIterations"], which="smallest"),
        "power": h.power_iteration(o["power"]["k"], o["power"]["tolerance"], o["power"]["maxIterations"]),
        "trace": h.trace(o["trace"]["relativeError"], o["trace"]["absoluteError"], o["trace"]["minSamples"],
                         o["trace"]["maxSamples"]),
    }
    d = o["density"]
    density = h.spectral_density(d["runs"], d["steps"])
    grid, values, variance = smoothed(density["runs"], d["points"], d["sigmaSquared"], d["overhead"])
    density.update(grid=grid, density=values, variance=variance)
    results["density"] = density
    manifest = {
        "format": 1,
        "name": name,
        "model": model,
        "dtype": dtype_name,
        "seed": seed,
        "params": [{"name": n, "shape": list(params[n].shape)} for n in names],
        "inputs": [{"name": n, "dtype": "int64" if x.dtype == torch.int64 else dtype_name, "shape": list(x.shape)}
                   for n, x in inputs.items()],
        "options": OPTIONS,
        "results": results,
        "reference": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
                      "threads": torch.get_num_threads()},
    }
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (replaced as a whole)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    start = time.time()
    out = os.path.abspath(args.out)

    def fill(work):
        cases = [run_case(work, *case) for case in CASES]
        with open(os.path.join(work, "index.json"), "w") as f:
            json.dump({"format": 1, "cases": cases}, f, indent=1)
        return cases

    cases = write_folder(out, ".hessian-", fill)
    print(f"hessian_parity.py: {len(cases)} fixtures in {out} ({time.time() - start:.1f} s, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread)")


if __name__ == "__main__":
    main()
