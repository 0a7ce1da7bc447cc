"""Times whole training iterations of the Python reference, for bench/compare.sh.

One configuration per process (so the peak RSS is that configuration's):

    iteration_bench.py MODEL OPTIMIZER THREADS [--warmup N] [--iterations N] [--fused]

MODEL: mlp (784-256-10, ReLU) or cnn (conv3x3 1->16, ReLU, maxpool 2, conv3x3 16->32, ReLU,
maxpool 2, linear 1568->10; padding 1) or resnet (ResNet-20 of He et al. 2016, 4.2: conv3x3 1->16,
BatchNorm, 3 stages of 3 basic blocks with 16/32/64 channels, stride 2 and a zero-padded identity
shortcut at stages 2-3, global average pooling, linear 64->10; in training mode), the models of
bench/.../compare/Model.java, on a fixed random batch of 128 28x28 images; or transformer,
bench/.../compare/TransformerLm.java (2 blocks), on 128 random windows of 64 characters. Its
attention is causal scaled dot-product attention: F.scaled_dot_product_attention where torch has
it (2.0 on: torch 2.6), written as matmul, softmax, matmul on torch 1.13; AdaHessian runs its
closure with the math kernel (torch 2.6's CPU flash kernel has no double backward), as the Java
library does. OPTIMIZER: adam (torch.optim.Adam, lr 1e-3; with --fused its
fused=True kernel, torch 2.4 and later: bench/compare.sh passes it to torch 2.6) or adahessian (the
authors' algorithm: adahessian_reference.AdaHessian with the authors' defaults and their
torch.randint_like probes; gradient and Hz with torch.autograd.grad). An iteration is: forward,
loss, gradient (create_graph for AdaHessian), Hz, step. Prints one JSON line: the median and the
quartiles of the iteration times in ms and the peak RSS in MiB.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adahessian_reference import AdaHessian  # noqa: E402


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(28 * 28, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        return self.out(F.relu(self.hidden(torch.flatten(x, 1))))


VOCAB, CONTEXT, WIDTH, HEADS = 96, 64, 64, 4


def causal_attention(q, k, v):
    """Causal attention over (batch, heads, length, dim): SDPA where torch has it."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    length = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    future = torch.ones(length, length, dtype=torch.bool).triu(1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.projection = nn.Linear(WIDTH, WIDTH)
        self.norm2 = nn.LayerNorm(WIDTH)
        self.up = nn.Linear(WIDTH, 4 * WIDTH)
        self.down = nn.Linear(4 * WIDTH, WIDTH)
        self.dropout = nn.Dropout(0.1)

    def forward(self, h):
        n, length, _ = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(n, length, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4)
        merged = causal_attention(q, k, v).transpose(1, 2).reshape(n, length, WIDTH)
        h = h + self.dropout(self.projection(merged))
        return h + self.dropout(self.down(F.gelu(self.up(self.norm2(h)))))


class TransformerLm(nn.Module):
    def __init__(self, blocks=2):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, WIDTH)
        self.positions = nn.Embedding(CONTEXT, WIDTH)
        self.dropout = nn.Dropout(0.1)
        self.blocks = nn.ModuleList(Block() for _ in range(blocks))
        self.norm = nn.LayerNorm(WIDTH)

    def forward(self, x):
        h = self.dropout(self.tokens(x) + self.positions(torch.arange(x.shape[1])))
        for block in self.blocks:
            h = block(h)
        return (self.norm(h) @ self.tokens.weight.t()).transpose(1, 2)


def math_attention():
    """A context in which SDPA runs its math kernel (torch 2.3 on), else nothing to do."""
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        return sdpa_kernel(SDPBackend.MATH)
    except ImportError:
        import contextlib
        return contextlib.nullcontext()


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.out = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2, 2)
        return self.out(torch.flatten(h, 1))


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the shortcut, then ReLU; the shortcut of a block that halves
    the map is the input subsampled by 2, zero-padded with the new channels on both sides."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride = stride
        self.pad = (cout - cin) // 2

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        shortcut = x[:, :, ::2, ::2] if self.stride > 1 else x
        if self.pad > 0:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(h + shortcut)


class ResNet(nn.Module):
    def __init__(self, depth=20):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks = []
        cin = 16
        for stage, width in enumerate((16, 32, 64)):
            for b in range(n):
                blocks.append(BasicBlock(cin, width, 2 if stage > 0 and b == 0 else 1))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


MODELS = {"mlp": Mlp, "cnn": SmallCnn, "resnet": ResNet, "transformer": TransformerLm}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("optimizer", choices=["adam", "adahessian"])
    parser.add_argument("threads", type=int)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--fused", action="store_true", help="Adam with fused=True")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MODELS[args.model]()
    if args.model == "transformer":
        x = torch.randint(0, VOCAB, (args.batch, CONTEXT))
        y = torch.randint(0, VOCAB, (args.batch, CONTEXT))
    else:
        x = torch.randn(args.batch, 1, 28, 28)
        y = torch.randint(0, 10, (args.batch,))

    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, **({"fused": True} if args.fused else {}))

        def iteration():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    else:
        opt = AdaHessian(model.parameters(), probes="torch")

        def iteration():
            with math_attention():
                opt.step(lambda: F.cross_entropy(model(x), y))

    times = []
    for i in range(args.warmup + args.iterations):
        start = time.perf_counter()
        iteration()
        elapsed = (time.perf_counter() - start) * 1e3
        if i >= args.warmup:
            times.append(elapsed)
    q = statistics.quantiles(times, n=4)
    print(json.dumps({
        "language": "python", "model": args.model, "optimizer": args.optimizer,
        "threads": args.threads, "median_ms": statistics.median(times),
        "q1_ms": q[0], "q3_ms": q[2],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "torch": torch.__version__, "fused": args.fused and args.optimizer == "adam",
        "allocator": "tuned" if "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", "") else "default",
    }))


if __name__ == "__main__":
    main()
