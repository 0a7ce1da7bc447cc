#!/usr/bin/python3
"""Writes the learning-rate schedule fixture that java/src/test/.../ScheduleParityTest.java reads.

    /usr/bin/python3 bench/python/schedule_parity.py --out DIR

Every case runs one torch.optim.lr_scheduler schedule of torch 1.13 over an optimizer with two
param groups of one dummy parameter each (lrs 0.1 and 0.02 unless the case says otherwise) for
STEPS steps, and records after construction and after every step: each group's lr, the
scheduler's last_epoch and, where the case cycles momentum, each group's beta1.

DIR/schedules.json (written to a temporary file and renamed into place):

  format       1
  steps        STEPS
  torch        torch.__version__
  fingerprint  sha256 of this script and the torch version; a run whose fingerprint matches
               leaves the file as it is (--force rewrites it)
  cases        a list of
    name        the case's name
    optimizer   {"kind": "sgd" or "adam", "lrs": [lr of each group], "betas": [b1, b2] for adam}
    schedule    the schedule and its arguments, torch's names: {"kind": "StepLR", "step_size": 30,
                ...}; SequentialLR's "schedulers" is a list of such objects
    metrics     ReduceLROnPlateau only: the metric given to step number i (STEPS values)
    lr          STEPS + 1 rows of the groups' lrs: row 0 after construction, row i after step i
    last_epoch  STEPS + 1 values of scheduler.last_epoch
    beta1       (cycle_momentum cases) STEPS + 1 rows of the groups' betas[0]

Floats are written as Python's repr (json does that): the shortest text that reads back to the
same double. The scheduler is stepped the way torch wants it: optimizer.step() (a no-op: the
parameters have no gradients) then scheduler.step().
"""

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch
    from torch.optim import lr_scheduler as S
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(f"schedule_parity.py: {e}. Install the Python reference first: bench/python/install-reference.sh")

sys.dont_write_bytecode = True

STEPS = 200
LRS = [0.1, 0.02]
FILE = "schedules.json"


def metric_sequence():
    """STEPS fixed metric values: falling, flat, noisy, a slow rise, then falling again.

    Built from closed formulas (no random generator) so the sequence is the same everywhere;
    the fixture carries the values, so the Java side only reads them.
    """
    m = []
    for t in range(STEPS):
        if t < 40:            # steady improvement, by more than a 1e-2 relative threshold
            v = 1.0 / (1.0 + 0.1 * t)
        elif t < 70:          # flat: a plateau
            v = 0.2
        elif t < 110:         # noisy around a slowly falling level: small, irregular improvements
            v = 0.19 - 0.0004 * (t - 70) + 0.01 * math.sin(1.7 * t) * math.cos(0.3 * t)
        elif t < 140:         # getting worse
            v = 0.17 + 0.001 * (t - 110)
        else:                 # improving again, in steps of 0.004 every 4 epochs
            v = 0.2 - 0.004 * ((t - 140) // 4)
        m.append(v)
    return m


METRICS = metric_sequence()
NEGATIVE_METRICS = [v - 1.0 for v in METRICS]       # rel thresholds with a negative best
RISING_METRICS = [1.0 - v for v in METRICS]         # for mode 'max'


def cases():
    """(name, optimizer, schedule, metrics)."""
    sgd = {"kind": "sgd", "lrs": LRS}
    adam = {"kind": "adam", "lrs": LRS, "betas": [0.9, 0.999]}
    c = [
        ("constant", sgd, {"kind": "ConstantLR", "factor": 0.5, "total_iters": 30}, None),
        ("constant_defaults", sgd, {"kind": "ConstantLR"}, None),
        ("step", sgd, {"kind": "StepLR", "step_size": 30, "gamma": 0.5}, None),
        ("step_default_gamma", sgd, {"kind": "StepLR", "step_size": 7}, None),
        ("multistep", sgd, {"kind": "MultiStepLR", "milestones": [20, 50, 50, 120], "gamma": 0.3}, None),
        ("multistep_unsorted_zero", sgd, {"kind": "MultiStepLR", "milestones": [150, 0, 60]}, None),
        ("exponential", sgd, {"kind": "ExponentialLR", "gamma": 0.97}, None),
        ("cosine", sgd, {"kind": "CosineAnnealingLR", "T_max": 50}, None),
        ("cosine_eta_min", sgd, {"kind": "CosineAnnealingLR", "T_max": 75, "eta_min": 0.005}, None),
        ("cosine_eta_min_above_lr", sgd, {"kind": "CosineAnnealingLR", "T_max": 40, "eta_min": 0.05}, None),
        ("linear_warmup", sgd, {"kind": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 20}, None),
        ("linear_decay", sgd, {"kind": "LinearLR", "start_factor": 1.0, "end_factor": 0.05, "total_iters": 150}, None),
        ("linear_defaults", sgd, {"kind": "LinearLR"}, None),
        ("sequential_warmup_cosine", sgd, {"kind": "SequentialLR", "milestones": [10], "schedulers": [
            {"kind": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 10},
            {"kind": "CosineAnnealingLR", "T_max": 190}]}, None),
        ("sequential_warmup_cosine_eta_min", sgd, {"kind": "SequentialLR", "milestones": [25], "schedulers": [
            {"kind": "LinearLR", "start_factor": 0.01, "end_factor": 1.0, "total_iters": 20},
            {"kind": "CosineAnnealingLR", "T_max": 100, "eta_min": 0.001}]}, None),
        ("sequential_three", sgd, {"kind": "SequentialLR", "milestones": [30, 100], "schedulers": [
            {"kind": "ConstantLR", "factor": 0.5, "total_iters": 5},
            {"kind": "ExponentialLR", "gamma": 0.95},
            {"kind": "StepLR", "step_size": 20, "gamma": 0.5}]}, None),
        ("sequential_multistep_milestone_zero", sgd, {"kind": "SequentialLR", "milestones": [40], "schedulers": [
            {"kind": "LinearLR", "start_factor": 0.5, "total_iters": 40},
            {"kind": "MultiStepLR", "milestones": [0, 50], "gamma": 0.5}]}, None),
        ("onecycle_cos", sgd, {"kind": "OneCycleLR", "max_lr": [0.5, 0.1], "total_steps": STEPS,
                               "cycle_momentum": False}, None),
        ("onecycle_linear", sgd, {"kind": "OneCycleLR", "max_lr": 0.3, "epochs": 20, "steps_per_epoch": 10,
                                  "pct_start": 0.25, "anneal_strategy": "linear", "div_factor": 10.0,
                                  "final_div_factor": 100.0, "cycle_momentum": False}, None),
        ("onecycle_three_phase", sgd, {"kind": "OneCycleLR", "max_lr": 0.2, "total_steps": STEPS, "pct_start": 0.4,
                                       "three_phase": True, "cycle_momentum": False}, None),
        ("onecycle_three_phase_linear", sgd, {"kind": "OneCycleLR", "max_lr": [0.2, 0.05], "total_steps": STEPS,
                                              "anneal_strategy": "linear", "three_phase": True,
                                              "cycle_momentum": False}, None),
        ("onecycle_momentum", adam, {"kind": "OneCycleLR", "max_lr": 0.01, "total_steps": STEPS}, None),
        ("onecycle_momentum_three_phase", adam, {"kind": "OneCycleLR", "max_lr": [0.01, 0.004], "total_steps": STEPS,
                                                 "three_phase": True, "anneal_strategy": "linear",
                                                 "base_momentum": [0.8, 0.85], "max_momentum": 0.9}, None),
        ("plateau_defaults", sgd, {"kind": "ReduceLROnPlateau"}, METRICS),
        ("plateau_rel_cooldown", sgd, {"kind": "ReduceLROnPlateau", "factor": 0.5, "patience": 3,
                                       "threshold": 1e-2, "cooldown": 4}, METRICS),
        ("plateau_abs_min_lr_per_group", sgd, {"kind": "ReduceLROnPlateau", "factor": 0.3, "patience": 2,
                                               "threshold": 0.01, "threshold_mode": "abs", "cooldown": 1,
                                               "min_lr": [0.005, 0.001]}, METRICS),
        ("plateau_max", sgd, {"kind": "ReduceLROnPlateau", "mode": "max", "factor": 0.7, "patience": 4,
                              "threshold": 1e-3, "min_lr": 0.004}, RISING_METRICS),
        ("plateau_max_abs", sgd, {"kind": "ReduceLROnPlateau", "mode": "max", "factor": 0.5, "patience": 1,
                                  "threshold": 0.002, "threshold_mode": "abs", "cooldown": 3}, RISING_METRICS),
        ("plateau_eps", sgd, {"kind": "ReduceLROnPlateau", "factor": 0.5, "patience": 0, "threshold": 0.0,
                              "eps": 1e-3}, METRICS),
        ("plateau_negative_metric_rel", sgd, {"kind": "ReduceLROnPlateau", "factor": 0.5, "patience": 2,
                                              "threshold": 0.05}, NEGATIVE_METRICS),
    ]
    names = [x[0] for x in c]
    assert len(names) == len(set(names)), "case names must be unique"
    return c


# torch's names -> the constructor's keyword arguments (the same names, without "kind")
def build(spec, opt):
    kind = spec["kind"]
    args = {k: v for k, v in spec.items() if k not in ("kind", "schedulers")}
    if kind == "SequentialLR":
        children = [build(s, opt) for s in spec["schedulers"]]
        return S.SequentialLR(opt, children, **args)
    return getattr(S, kind)(opt, **args)


def run_case(name, optimizer, schedule, metrics):
    params = [torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in optimizer["lrs"]]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, optimizer["lrs"])]
    if optimizer["kind"] == "sgd":
        opt = torch.optim.SGD(groups, lr=optimizer["lrs"][0])
    else:
        opt = torch.optim.Adam(groups, lr=optimizer["lrs"][0], betas=tuple(optimizer["betas"]))
    sched = build(schedule, opt)
    momentum = schedule["kind"] == "OneCycleLR" and schedule.get("cycle_momentum", True)

    lrs, epochs, beta1 = [], [], []

    def record():
        lrs.append([g["lr"] for g in opt.param_groups])
        epochs.append(sched.last_epoch)
        if momentum:
            beta1.append([g["betas"][0] for g in opt.param_groups])

    record()
    for i in range(STEPS):
        opt.step()  # no gradients: changes nothing, but tells the scheduler the order is right
        if metrics is not None:
            sched.step(metrics[i])
        else:
            sched.step()
        record()
    case = {"name": name, "optimizer": optimizer, "schedule": schedule}
    if metrics is not None:
        case["metrics"] = metrics
    case["lr"] = lrs
    case["last_epoch"] = epochs
    if momentum:
        case["beta1"] = beta1
    return case


def fingerprint():
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    h.update(torch.__version__.encode())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--force", action="store_true", help="rewrite even if the fixture is up to date")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    target = os.path.join(out, FILE)
    fp = fingerprint()
    try:
        with open(target) as f:
            if not args.force and json.load(f).get("fingerprint") == fp:
                print(f"schedule_parity.py: {target} is up to date")
                return
    except (OSError, ValueError):
        pass
    # SequentialLR steps its children with an explicit epoch at a milestone, which torch 1.13
    # answers with a deprecation warning; the fixture records that behaviour, the warning is noise.
    warnings.filterwarnings("ignore", message="The epoch parameter in `scheduler.step\\(\\)`")
    result = {"format": 1, "steps": STEPS, "torch": torch.__version__, "fingerprint": fp,
              "cases": [run_case(*c) for c in cases()]}
    os.makedirs(out, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".schedules-", suffix=".json", dir=out)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(result, f, allow_nan=False)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"schedule_parity.py: {len(result['cases'])} cases x {STEPS} steps in {target} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
