"""Times torch.optim's Adam and AdamW steps alone on StepBenchmark's parameter sets, for
bench/step-vs-torch26.sh (which runs it on torch 2.6 through torch26.sh):

    step_bench.py --threads N [--steps N] [--warmup N] [--shapes 10M,resnet20]

The sets are bench/.../StepBenchmark.java's, in its order: 10M (31 matrices 512x630, each
followed by a vector of 20: 62 tensors) and resnet20 (CIFAR ResNet-20's 59 tensors). float32,
gradients drawn once from a normal distribution and kept; lr 1e-3, the other options torch's
defaults (AdamW: weight_decay 1e-2, as this library's AdamW). Each optimizer runs each of torch's
implementations: fused=True (torch's fused CPU kernel, torch 2.4 and later), foreach=True, and the
for-loop (foreach=False). Prints one JSON line per set, optimizer and implementation: the median,
minimum and maximum of the timed steps in ms.
"""
import argparse
import json
import statistics
import time

import torch


def shapes_of(name):
    if name == "10M":
        return [s for _ in range(31) for s in ((512, 630), (20,))]
    shapes = []

    def conv(out, inp):
        shapes.extend([(out, inp, 3, 3), (out,), (out,)])  # kernel, batch-norm weight and bias
    conv(16, 3)
    inp = 16
    for width in (16, 32, 64):
        for _ in range(6):
            conv(width, inp)
            inp = width
    return shapes + [(10, 64), (10,)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--shapes", default="10M,resnet20")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name in args.shapes.split(","):
        params = []
        for shape in shapes_of(name):
            p = torch.randn(shape, requires_grad=True)
            p.grad = torch.randn(shape)
            params.append(p)
        for optimizer in (torch.optim.Adam, torch.optim.AdamW):
            for impl, options in (("fused", {"fused": True}), ("foreach", {"foreach": True}),
                                  ("for-loop", {"foreach": False})):
                opt = optimizer(params, lr=1e-3, **options)
                times = []
                for i in range(args.warmup + args.steps):
                    start = time.perf_counter()
                    opt.step()
                    if i >= args.warmup:
                        times.append((time.perf_counter() - start) * 1e3)
                del opt  # its state: two tensors per parameter
                print(json.dumps({
                    "shapes": name, "elements": sum(p.numel() for p in params),
                    "tensors": len(params), "optimizer": optimizer.__name__, "implementation": impl,
                    "threads": args.threads, "median_ms": statistics.median(times),
                    "min_ms": min(times), "max_ms": max(times), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
