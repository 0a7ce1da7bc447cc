#!/usr/bin/python3
"""Writes the cross-language parity fixtures that java/src/test/.../PythonParityTest.java reads.

    /usr/bin/python3 bench/python/parity.py --out DIR
    bench/python/torch26.sh run parity.py --fused --out DIR     (torch 2.6, see torch26.sh)

For each case, DIR/<case>/ holds a self-describing fixture:

  manifest.json    fixture and case name, dtype, model, optimizer ("adahessian", "adam", "adamw") and its
                   options, param groups (with the flat indices of their parameters), the
                   parameters (name, shape, which state tensors they have), the inputs, the probe
                   seed, the step count, the loss before every step, the probe counter after every
                   step, every parameter's final step count, and the reference's versions.
  init/<p>.bin     initial value of parameter p
  inputs/<x>.bin   input x; "perStep" inputs have a leading dim of size steps (step t uses [t])
  expected/<p>.bin           parameter p after every step: shape [steps, *shape]
  expected/<state>.<p>.bin   optimizer state of p after every step: shape [steps, *shape]

Every .bin file is raw little-endian, C order, in the dtype the manifest gives (float32, float64
or int64). DIR/index.json lists the cases. The set is written into a temporary folder and swapped
in whole. The index records a fingerprint of these scripts and the torch/numpy versions; a run
whose fingerprint matches leaves DIR as it is (--force regenerates). DIR/probes/ holds probe
vectors of the counter-based generator (adahessian_reference.rademacher) for the Java side to
compare with the native one.

The models are written with explicit parameter tensors and explicit formulas (matmul + add,
tanh, conv without bias plus a broadcast add, mean of squares, cross-entropy) so the Java test can
compute the same loss with the same ops. AdaHessian is this project's reference
(adahessian_reference.py); Adam and AdamW are torch.optim's own (single-tensor implementation).
--fused also writes every Adam and AdamW case with torch.optim's fused=True (torch's fused CPU
kernel, torch 2.4 and later) as <case>_fused: the same inputs and options as <case>.
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(f"parity.py: {e}. Install the Python reference first: bench/python/install-reference.sh")

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adahessian_reference import AdaHessian, rademacher  # noqa: E402

STEPS = 20
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# --- models: explicit parameters and formulas, mirrored op for op in PythonParityTest.java ---

def loss_quadratic(p, x):
    """0.5 x'Ax - b'x with a dense SPD A, plus c'u (u: a constant gradient, zero Hessian)."""
    w = p["x"]
    return 0.5 * torch.dot(w, torch.mv(x["A"], w)) - torch.dot(x["b"], w) + (x["c"] * p["u"]).sum()


def loss_mlp(p, x):
    """Linear(8, 16) + Tanh + Linear(16, 4), cross-entropy; "unused" is never read."""
    h = torch.tanh(torch.matmul(x["x"], p["w1"].t()) + p["b1"])
    logits = torch.matmul(h, p["w2"].t()) + p["b2"]
    return F.cross_entropy(logits, x["y"])


def loss_cnn(p, x):
    """Conv2d(2, 4, 3) + bias + Tanh, flatten, Linear(64, 3), cross-entropy."""
    h = torch.tanh(F.conv2d(x["x"], p["k"]) + p["kb"].reshape(1, 4, 1, 1))
    logits = torch.matmul(h.reshape(h.shape[0], 64), p["w"].t()) + p["b"]
    return F.cross_entropy(logits, x["y"])


def loss_conv13(p, x):
    """Mean squared errors of tanh(Conv1d) and tanh(Conv3d) (3-D and 5-D weights, no bias)."""
    a = torch.tanh(F.conv1d(x["x1"], p["w1"])) - x["t1"]
    b = torch.tanh(F.conv3d(x["x3"], p["w3"])) - x["t3"]
    return a.square().mean() + b.square().mean()


def loss_layernorm(p, x):
    """LayerNorm-style affine of normalised inputs (1-D scale and bias), Tanh, Linear(6, 5),
    times a scalar temperature (rank 0), cross-entropy."""
    y = torch.tanh(x["xn"] * p["gamma"] + p["beta"])
    logits = (torch.matmul(y, p["w"].t()) + p["b"]) * p["s"]
    return F.cross_entropy(logits, x["y"])


def loss_fairseq(p, x):
    """A transformer's parameter shapes: token embedding (7, 32) averaged over 3 positions,
    LayerNorm (1-D scale and bias), Linear(32, 24) + Tanh, Linear(24, 4) (24 is not a multiple of
    32: its blocks run on into the next row), a rank-0 temperature, cross-entropy."""
    e = F.layer_norm(F.embedding(x["tokens"], p["emb"]).mean(1), (32,), p["gamma"], p["beta"], 1e-5)
    h = torch.tanh(torch.matmul(e, p["w1"].t()) + p["b1"])
    logits = (torch.matmul(h, p["w2"].t()) + p["b2"]) * p["s"]
    return F.cross_entropy(logits, x["y"])


def _uniform(g, shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo


def _labels(g, steps, batch, classes):
    return torch.randint(0, classes, (steps, batch), generator=g, dtype=torch.int64)


def model_quadratic(g, steps):
    n = 12
    q = _uniform(g, (n, n))
    a = q @ q.t() / n + 0.5 * torch.eye(n, dtype=torch.float64)
    params = {"x": _uniform(g, (n,)), "u": _uniform(g, (3,))}
    inputs = {"A": (a, False), "b": (_uniform(g, (n,)), False), "c": (_uniform(g, (3,), 0.1, 0.5), False)}
    return params, inputs


def model_mlp(g, steps):
    params = {"w1": _uniform(g, (16, 8), -0.5, 0.5), "b1": _uniform(g, (16,), -0.5, 0.5),
              "w2": _uniform(g, (4, 16), -0.5, 0.5), "b2": _uniform(g, (4,), -0.5, 0.5),
              "unused": _uniform(g, (5,))}
    inputs = {"x": (_uniform(g, (steps, 12, 8), -2, 2), True), "y": (_labels(g, steps, 12, 4), True)}
    return params, inputs


def model_cnn(g, steps):
    params = {"k": _uniform(g, (4, 2, 3, 3), -0.5, 0.5), "kb": _uniform(g, (4,), -0.2, 0.2),
              "w": _uniform(g, (3, 64), -0.3, 0.3), "b": _uniform(g, (3,), -0.2, 0.2)}
    inputs = {"x": (_uniform(g, (steps, 4, 2, 6, 6)), True), "y": (_labels(g, steps, 4, 3), True)}
    return params, inputs


def model_conv13(g, steps):
    params = {"w1": _uniform(g, (3, 2, 5), -0.5, 0.5), "w3": _uniform(g, (2, 2, 2, 3, 3), -0.5, 0.5)}
    inputs = {"x1": (_uniform(g, (steps, 3, 2, 10)), True), "t1": (_uniform(g, (steps, 3, 3, 6), -0.8, 0.8), True),
              "x3": (_uniform(g, (steps, 2, 2, 4, 5, 5)), True),
              "t3": (_uniform(g, (steps, 2, 2, 3, 3, 3), -0.8, 0.8), True)}
    return params, inputs


def model_layernorm(g, steps):
    raw = _uniform(g, (steps, 10, 6), -3, 3)
    xn = (raw - raw.mean(-1, keepdim=True)) / torch.sqrt(raw.var(-1, unbiased=False, keepdim=True) + 1e-5)
    params = {"gamma": 1 + _uniform(g, (6,), -0.2, 0.2), "beta": _uniform(g, (6,), -0.2, 0.2),
              "w": _uniform(g, (5, 6), -0.5, 0.5), "b": _uniform(g, (5,), -0.2, 0.2),
              "s": torch.tensor(1.2, dtype=torch.float64)}
    inputs = {"xn": (xn, True), "y": (_labels(g, steps, 10, 5), True)}
    return params, inputs


def model_fairseq(g, steps):
    params = {"emb": _uniform(g, (7, 32)), "gamma": 1 + _uniform(g, (32,), -0.2, 0.2),
              "beta": _uniform(g, (32,), -0.2, 0.2), "w1": _uniform(g, (24, 32), -0.3, 0.3),
              "b1": _uniform(g, (24,), -0.2, 0.2), "w2": _uniform(g, (4, 24), -0.4, 0.4),
              "b2": _uniform(g, (4,), -0.2, 0.2), "s": torch.tensor(1.1, dtype=torch.float64)}
    inputs = {"tokens": (torch.randint(0, 7, (steps, 6, 3), generator=g, dtype=torch.int64), True),
              "y": (_labels(g, steps, 6, 4), True)}
    return params, inputs


MODELS = {
    "quadratic": (model_quadratic, loss_quadratic),
    "mlp": (model_mlp, loss_mlp),
    "cnn": (model_cnn, loss_cnn),
    "conv13": (model_conv13, loss_conv13),
    "layernorm": (model_layernorm, loss_layernorm),
    "fairseq": (model_fairseq, loss_fairseq),
}


# --- cases ---

def ah(lr, wd=0.0, k=1.0, betas=(0.9, 0.999), eps=1e-4):
    return {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weightDecay": wd, "hessianPower": k}


def adam(lr, wd=0.0, amsgrad=False, betas=(0.9, 0.999), eps=1e-8):
    return {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weightDecay": wd, "amsgrad": amsgrad}


# (name, model, optimizer, optimizer-wide options, [(param names, group options)], description).
# A case's data seed is its index here: append new cases, so that the others keep their data.
CASES = [
    ("quadratic", "quadratic", "adahessian", {"blockAveraging": "official", "updateEach": 1, "nSamples": 1},
     [(["x"], ah(0.1)), (["u"], ah(0.1, eps=1.0))],
     "dense-Hessian quadratic, plus a parameter with a constant gradient (zero Hessian rows, so its "
     "update is lr m / eps: its own group with eps 1)"),
    ("mlp", "mlp", "adahessian", {"blockAveraging": "official", "updateEach": 1, "nSamples": 1},
     [(["w1", "b1", "w2", "b2", "unused"], ah(0.05, wd=0.01))],
     "MLP, cross-entropy, weight decay, an unused parameter"),
    ("mlp_k05_each3_samples2", "mlp", "adahessian", {"blockAveraging": "official", "updateEach": 3, "nSamples": 2},
     [(["w1", "b1", "w2", "b2", "unused"], ah(0.05, k=0.5))],
     "MLP, hessianPower 0.5 (torch_optimizer), updateEach 3 and nSamples 2 (davda54)"),
    ("cnn", "cnn", "adahessian", {"blockAveraging": "official", "updateEach": 1, "nSamples": 1},
     [(["k", "kb", "w", "b"], ah(0.05, wd=1e-3))],
     "Conv2d (4-D spatial averaging, the authors' official rule)"),
    ("conv1d_conv3d", "conv13", "adahessian", {"blockAveraging": "official", "updateEach": 1, "nSamples": 1},
     [(["w1", "w3"], ah(0.05))],
     "Conv1d (3-D: last dim) and Conv3d (5-D: last three dims) weights, official rule"),
    ("conv1d_conv3d_none", "conv13", "adahessian", {"blockAveraging": "none", "updateEach": 2, "nSamples": 3},
     [(["w1", "w3"], ah(0.02, wd=0.01, eps=1e-8))],
     "no averaging (davda54), eps 1e-8, updateEach 2, nSamples 3"),
    ("layernorm_instruction", "layernorm", "adahessian",
     {"blockAveraging": "instruction", "updateEach": 1, "nSamples": 1},
     [(["gamma", "beta", "w", "b", "s"], ah(0.05))],
     "1-D scale/bias, 2-D row means, a rank-0 scalar: instruction/adahessian.py's default blocks"),
    ("groups", "mlp", "adahessian", {"blockAveraging": "official", "updateEach": 3, "nSamples": 2},
     [(["w1", "b1"], ah(0.05, wd=0.01)),
      (["w2"], ah(0.02, k=0.5, betas=(0.8, 0.99), eps=1e-3)),
      (["b2", "unused"], ah(0.1, wd=1e-3))],
     "three param groups with their own lr, weight decay, hessianPower, betas and eps"),
    ("mlp_clip", "mlp", "adahessian", {"blockAveraging": "official", "updateEach": 1, "nSamples": 1,
                                       "clipMaxNorm": 0.9, "clipNormType": 2.0},
     [(["w1", "b1", "w2", "b2", "unused"], ah(0.05, wd=0.01))],
     "MLP with gradient clipping (2-norm 0.9: about half the steps clip): torch.nn.utils.clip_grad_norm_ of the "
     "gradients, then the step"),
    ("cnn_clip_inf_each2", "cnn", "adahessian", {"blockAveraging": "official", "updateEach": 2, "nSamples": 1,
                                                 "clipMaxNorm": 0.4, "clipNormType": "inf"},
     [(["k", "kb", "w", "b"], ah(0.05))],
     "Conv2d with max-norm clipping (0.4: some steps clip) and updateEach 2"),
    ("adam_clip", "mlp", "adam", {"clipMaxNorm": 0.85, "clipNormType": 2.0},
     [(["w1", "b1"], adam(0.01, wd=0.05, amsgrad=True)), (["w2", "b2", "unused"], adam(0.02))],
     "torch.optim.Adam after torch.nn.utils.clip_grad_norm_ (2-norm 0.85: some steps clip)"),
    ("adamw_clip_inf", "cnn", "adamw", {"clipMaxNorm": 0.4, "clipNormType": "inf"},
     [(["k", "kb", "w", "b"], adam(0.01, wd=0.05))],
     "torch.optim.AdamW after torch.nn.utils.clip_grad_norm_ (max norm 0.4: some steps clip)"),
    ("adam_amsgrad", "mlp", "adam", {},
     [(["w1", "b1"], adam(0.01, wd=0.05, amsgrad=True)),
      (["w2", "b2", "unused"], adam(0.02, betas=(0.8, 0.99), eps=1e-6))],
     "torch.optim.Adam: L2 weight decay and amsgrad in one group, plain in the other"),
    ("adamw", "cnn", "adamw", {},
     [(["k", "kb"], adam(0.01, wd=0.05)), (["w", "b"], adam(0.02, wd=0.01, amsgrad=True))],
     "torch.optim.AdamW: decoupled weight decay, amsgrad in one group"),
    ("fairseq_transformer", "fairseq", "adahessian",
     {"blockAveraging": "fairseq", "updateEach": 1, "nSamples": 1},
     [(["emb", "gamma", "beta", "w1", "b1", "w2", "b2", "s"], ah(0.047, wd=1e-4, betas=(0.9, 0.98)))],
     "the authors' transformer recipe (fairseq optimizer, --block-length 32): 2-D weights in runs of "
     "32 elements (one crossing rows), 1-D and rank 0 not averaged; lr 0.047, betas (0.9, 0.98), "
     "eps 1e-4, weight decay 1e-4"),
    ("mlp_each4_warmup5", "mlp", "adahessian",
     {"blockAveraging": "official", "updateEach": 4, "nSamples": 1, "hessianWarmup": 5},
     [(["w1", "b1", "w2", "b2", "unused"], ah(0.05, wd=0.01))],
     "MLP, updateEach 4 with a Hessian warm-up of 5 steps: refreshes at steps 1-5, 9, 13, 17"),
]


def write(path, tensor):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = tensor.detach().contiguous().numpy()
    a.astype(a.dtype.newbyteorder("<"), copy=False).tofile(path)


def state_names(kind, amsgrad):
    if kind == "adahessian":
        return ["exp_avg", "exp_hessian_diag_sq"]
    return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])


def run_case(out, name, model, kind, wide, groups, description, dtype_name, seed, fused=False):
    dtype = DTYPES[dtype_name]
    make, loss_fn = MODELS[model]
    g = torch.Generator().manual_seed(seed)
    init, raw_inputs = make(g, STEPS)
    if fused:
        name, description = name + "_fused", description + "; fused=True"
    case = f"{name}_{dtype_name}"
    root = os.path.join(out, case)

    params = {n: init[n].to(dtype).clone().requires_grad_(True) for n in init}
    flat = [n for names, _ in groups for n in names]
    assert sorted(flat) == sorted(params), (case, flat)
    inputs = {n: (t if t.dtype == torch.int64 else t.to(dtype), per_step) for n, (t, per_step) in raw_inputs.items()}

    for n in flat:
        write(os.path.join(root, "init", n + ".bin"), params[n])
    for n, (t, _) in inputs.items():
        write(os.path.join(root, "inputs", n + ".bin"), t)

    torch_groups = []
    for names, o in groups:
        group = {"params": [params[n] for n in names], "lr": o["lr"], "betas": (o["beta1"], o["beta2"]),
                 "eps": o["eps"], "weight_decay": o["weightDecay"]}
        if kind == "adahessian":
            group["hessian_power"] = o["hessianPower"]
        else:
            group["amsgrad"] = o["amsgrad"]
        torch_groups.append(group)
    probe_seed = 1000 + seed
    clip = wide.get("clipMaxNorm")
    norm_type = float(wide.get("clipNormType", 2.0))  # "inf" -> inf
    if kind == "adahessian":
        opt = AdaHessian(torch_groups, block_averaging=wide["blockAveraging"], update_each=wide["updateEach"],
                         n_samples=wide["nSamples"], hessian_warmup=wide.get("hessianWarmup", 0), seed=probe_seed,
                         max_grad_norm=clip, grad_norm_type=norm_type)
    else:
        implementation = {"fused": True} if fused else {"foreach": False}
        opt = (torch.optim.Adam if kind == "adam" else torch.optim.AdamW)(torch_groups, **implementation)

    def batch(t):
        return {n: (v[t] if per_step else v) for n, (v, per_step) in inputs.items()}

    amsgrad_of = {n: o.get("amsgrad", False) for names, o in groups for n in names}
    history = {n: [] for n in flat}
    state_history = {}
    losses, counters, grad_norms = [], [], []
    for t in range(STEPS):
        x = batch(t)
        if kind == "adahessian":
            loss = opt.step(lambda: loss_fn(params, x))
            counters.append(opt.probe_counter)
            if clip is not None:
                grad_norms.append(opt.last_grad_norm)
        else:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(params, x)
            loss.backward()
            if clip is not None:
                grad_norms.append(float(torch.nn.utils.clip_grad_norm_(
                    [params[n] for n in flat if params[n].grad is not None], clip, norm_type=norm_type)))
            opt.step()
        losses.append(float(loss.detach()))
        for n in flat:
            history[n].append(params[n].detach().clone())
            st = opt.state.get(params[n], {})
            for s in state_names(kind, amsgrad_of[n]) if st else []:
                state_history.setdefault((s, n), []).append(st[s].detach().clone())

    params_meta = []
    for n in flat:
        write(os.path.join(root, "expected", n + ".bin"), torch.stack(history[n]))
        names = [s for s in state_names(kind, amsgrad_of[n]) if (s, n) in state_history]
        for s in names:
            assert len(state_history[(s, n)]) == STEPS, (case, s, n)  # present from step 1 on, or never
            write(os.path.join(root, "expected", f"{s}.{n}.bin"), torch.stack(state_history[(s, n)]))
        st = opt.state.get(params[n], {})
        step = st.get("step", 0)
        params_meta.append({"name": n, "shape": list(params[n].shape), "state": names,
                            "steps": int(step.item() if torch.is_tensor(step) else step)})
    offsets = [0]
    for names, _ in groups:
        offsets.append(offsets[-1] + len(names))
    manifest = {
        "format": 1,
        "name": case,
        "case": name,
        "description": description,
        "dtype": dtype_name,
        "model": model,
        "optimizer": kind,
        "implementation": "fused" if fused else "for-loop",  # torch's, for Adam and AdamW
        "options": wide,
        "seed": probe_seed,
        "steps": STEPS,
        "groups": [dict(o, params=list(range(offsets[i], offsets[i + 1]))) for i, (_, o) in enumerate(groups)],
        "params": params_meta,
        "inputs": [{"name": n, "dtype": "int64" if v.dtype == torch.int64 else dtype_name, "shape": list(v.shape),
                    "perStep": per_step} for n, (v, per_step) in inputs.items()],
        "losses": losses,
        "probeCounters": counters,
        "gradNorms": grad_norms,  # clip_grad_norm_'s total norm before clipping, per step (clipping cases)
        "reference": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
                      "threads": torch.get_num_threads()},
    }
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return case


def write_probes(out):
    """Probe vectors for the Java side to compare its native generator with."""
    specs = [(0, 0, 0, 1), (2024, 0, 1, 200), (2024, 7, 3, 130), (0x5EEDAD4E551A, 12345, 2, 64),
             (-1, 2**40 + 3, 9, 1000), (-0x7FFFFFFFFFFFFFFF - 1, 2**63 + 5, 2**31 + 7, 77), (17, 2**64 - 1, 0, 65)]
    entries = []
    root = os.path.join(out, "probes")
    for k, (seed, counter, pid, numel) in enumerate(specs):
        z = torch.from_numpy(rademacher(seed, counter, pid, numel))
        write(os.path.join(root, f"z{k}.bin"), z)
        # As signed 64-bit values (Java longs): the generator only sees their bits.
        entries.append({"seed": (seed + 2**63) % 2**64 - 2**63, "counter": (counter + 2**63) % 2**64 - 2**63,
                        "paramId": pid, "numel": numel, "file": f"z{k}.bin"})
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump({"format": 1, "dtype": "float64", "probes": entries}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (replaced as a whole)")
    ap.add_argument("--force", action="store_true", help="regenerate even if the fixtures are up to date")
    ap.add_argument("--only", help="comma-separated case names (without the dtype suffix)")
    ap.add_argument("--fused", action="store_true",
                    help="also every Adam and AdamW case with fused=True (torch 2.4 or later)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.fused:
        check_fused()
    start = time.time()
    out = os.path.abspath(args.out)
    fingerprint = source_fingerprint(("parity.py", "adahessian_reference.py"),
                                     f"{args.only} fused={args.fused}")
    if not args.force and up_to_date(out, fingerprint, "parity.py"):
        return
    only = set(args.only.split(",")) if args.only else None

    def fill(work):
        cases = []
        for seed, (name, model, kind, wide, groups, description) in enumerate(CASES):
            if only and name not in only:
                continue
            for dtype_name in DTYPES:
                cases.append(run_case(work, name, model, kind, wide, groups, description, dtype_name, seed))
                if args.fused and kind != "adahessian":
                    cases.append(run_case(work, name, model, kind, wide, groups, description, dtype_name, seed,
                                          fused=True))
        write_probes(work)
        with open(os.path.join(work, "index.json"), "w") as f:
            json.dump({"format": 1, "cases": cases, "probes": "probes", "fingerprint": fingerprint}, f, indent=1)
        return cases

    cases = write_folder(out, ".parity-", fill)
    print(f"parity.py: {len(cases)} fixtures in {out} ({time.time() - start:.1f} s, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread)")


def check_fused():
    """Stops unless this torch steps Adam with fused=True on CPU tensors (torch 2.4 and later)."""
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    try:
        torch.optim.Adam([p], fused=True).step()
    except RuntimeError as e:
        sys.exit(f"parity.py --fused: torch {torch.__version__} has no fused Adam for CPU tensors ({e}); "
                 "run it on torch 2.6: bench/python/torch26.sh run parity.py --fused --out DIR")


def write_folder(out, prefix, fill):
    """Writes a fixture set with fill(folder) into a fresh folder beside `out`, then swaps it in
    whole, so a reader never sees a half-written set (fill writes the index last); returns what
    fill returns. Also used by hessian_parity.py."""
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        result = fill(work)
        old = None
        if os.path.exists(out):
            old = work + ".old"
            os.rename(out, old)
        os.rename(work, out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def source_fingerprint(scripts, selection):
    """What the fixtures depend on: the scripts (file names in this folder), the torch and numpy
    versions, the selection of cases. Also used by torchscript_parity.py."""
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in scripts:
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    h.update(f"{torch.__version__} {np.__version__} {selection}".encode())
    return h.hexdigest()


def up_to_date(out, fingerprint, script):
    """Whether out/index.json records `fingerprint` (then `script` says so)."""
    try:
        with open(os.path.join(out, "index.json")) as f:
            if json.load(f).get("fingerprint") == fingerprint:
                print(f"{script}: fixtures in {out} are up to date")
                return True
    except (OSError, ValueError):
        pass
    return False


if __name__ == "__main__":
    main()
