#!/usr/bin/python3
"""Runs a TorchScript module's forward in Python and writes its output: the Python side of
java/src/test/.../TorchScriptRoundTripTest.java (a module trained and saved in Java must give the
same outputs in Python).

    /usr/bin/python3 bench/python/torchscript_forward.py MODULE OUT [--element N] [--modes M,...] INPUT...

INPUT is FILE:DTYPE:SHAPE, a raw little-endian C-order file (DTYPE float64 or int64, SHAPE like
6,1,6,6). The module runs on one thread once in each mode of --modes (eval or train, in the order
given; default eval); OUT receives the outputs (their element N if the forward returns a tuple) as
raw little-endian float64, one after the other. One process for all modes: a Python started
through bench/python/torch26.sh costs a chroot's setup and torch's import each time.
"""

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(f"torchscript_forward.py: {e}. Install the Python reference first: bench/python/install-reference.sh")


def read(spec):
    file, dtype, shape = spec.split(":")
    a = np.fromfile(file, dtype=np.dtype(dtype).newbyteorder("<"))
    return torch.from_numpy(a.astype(np.dtype(dtype), copy=False).reshape([int(d) for d in shape.split(",")]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("module")
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--element", type=int)
    ap.add_argument("--modes", default="eval", type=lambda s: s.split(","),
                    help="eval, train or both, comma-separated (default eval)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    module = torch.jit.load(args.module)
    inputs = [read(s) for s in args.inputs]
    with open(args.out, "wb") as f:
        for mode in args.modes:
            if mode not in ("eval", "train"):
                sys.exit(f"torchscript_forward.py: --modes: {mode!r} is neither eval nor train")
            module.train(mode == "train")
            with torch.no_grad():
                out = module(*inputs)
            if args.element is not None:
                out = out[args.element]
            out.detach().to(torch.float64).contiguous().numpy().astype("<f8", copy=False).tofile(f)
    print(f"torchscript_forward.py: {args.module} -> {args.out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
