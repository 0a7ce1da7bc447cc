#!/usr/bin/python3
"""Writes the TorchScript parity fixtures that java/src/test/.../TorchScriptParityTest.java reads.

    /usr/bin/python3 bench/python/torchscript_parity.py --out DIR

Three float64 models (four under torch >= 2.3), each exported with torch.jit.script and
torch.jit.trace from the same initial weights: "cnn" (Conv2d + BatchNorm2d + Tanh + average
pooling + Linear, an image classifier), "lstm" (Embedding + LSTM + GELU + Linear, a token language
model whose forward returns the tuple (logits, (h, c))) and "transformer" (a pre-norm attention
block written from Linear, matmul, softmax, LayerNorm and GELU, which every torch >= 1.13 scripts,
mean-pooled into a classifier); under torch >= 2.3 also "transformer_sdpa", the same with its
attention in torch.nn.functional.scaled_dot_product_attention. Each is then trained eagerly (the
nn.Module itself) for 20 steps with torch.optim.Adam, torch.optim.AdamW and this project's
reference AdaHessian (adahessian_reference.py, the counter-based probes AdaHessian4J draws;
attention in SDPA's math kernel, as in AdaHessian4J), cross-entropy on the first element of the output.

  DIR/index.json               models (name, exports, module files, inputs, loss), trainings, the
                               reference's versions, a fingerprint of the sources
  DIR/<model>_<export>.pt      the exported module, in training mode, float64
  DIR/<model>/inputs/<x>.bin   input x of every step: a leading dim of size steps
  DIR/<model>/init/<p>.bin     parameter p before training (what the module files hold), and
                               init/buffer.<b>.bin: buffer b
  DIR/<model>_<opt>/manifest.json            optimizer and options, probe seed, parameters (name,
                                             shape, state), buffers, the loss before every step
  DIR/<model>_<opt>/expected/<p>.bin         parameter p after every step: [steps, *shape]
  DIR/<model>_<opt>/expected/<state>.<p>.bin optimizer state of p after every step
  DIR/<model>_<opt>/expected/buffer.<b>.bin  buffer b (BatchNorm's running statistics) at the end
  DIR/bad/*.pt                 what TorchScriptModelTest expects to be refused or handled: tied.pt
                               (a weight shared by two Linear layers), dict.pt and tuple.pt (forwards
                               that return a dict and a tuple), frozen.pt (torch.jit.freeze),
                               optimized.pt (torch.jit.optimize_for_inference), no_grad.pt (no
                               parameter requires grad), state_dict.pt (torch.save: not TorchScript)

.bin files are raw little-endian, C order (float64, or int64 for tokens and labels). The set is
written into a temporary folder and swapped in whole (index last); a run whose fingerprint matches
leaves DIR as it is (--force regenerates). The script runs under any torch >= 1.13 (the index
records which), so the same fixtures can come from another torch into another folder.
"""

import argparse
import contextlib
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
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(f"torchscript_parity.py: {e}. Install the Python reference first: bench/python/install-reference.sh")

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adahessian_reference import AdaHessian  # noqa: E402
from parity import source_fingerprint, up_to_date, write, write_folder  # noqa: E402

STEPS = 20
VOCAB = 11
CLASSES = 3


class Cnn(nn.Module):
    """Conv2d (no bias) + BatchNorm2d + Tanh, 2x2 average pooling, Linear: [B, 1, 6, 6] -> [B, 3] logits."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)  # BatchNorm's shift makes a bias moot
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 3 * 3, CLASSES)

    def forward(self, x):
        h = F.avg_pool2d(torch.tanh(self.bn(self.conv(x))), 2)
        return self.fc(h.flatten(1))


class LstmLm(nn.Module):
    """Embedding + LSTM + GELU + Linear: tokens [B, T] -> (logits [B, T, VOCAB], (h, c))."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 6)
        self.lstm = nn.LSTM(6, 8, batch_first=True)
        self.out = nn.Linear(8, VOCAB)

    def forward(self, tokens):
        h, state = self.lstm(self.embed(tokens))
        return self.out(F.gelu(h)), state


class Block(nn.Module):
    """Pre-norm self-attention (2 heads, no mask) and a GELU MLP, each with a residual."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x):
        b, t, d = x.size(0), x.size(1), x.size(2)
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(torch.matmul(qkv[0], qkv[1].transpose(-2, -1)) * self.scale, dim=-1)
        y = torch.matmul(att, qkv[2]).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class SdpaBlock(Block):
    """Block with its attention in torch.nn.functional.scaled_dot_product_attention (torch >= 2.0;
    its default scale is Block's)."""

    def forward(self, x):
        b, t, d = x.size(0), x.size(1), x.size(2)
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Transformer(nn.Module):
    """Token and position embeddings, one Block, LayerNorm, mean over positions, Linear:
    tokens [B, 6] -> [B, 3] logits."""

    def __init__(self, dim=8, length=6, block=Block):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim)
        self.pos = nn.Parameter(torch.randn(length, dim) * 0.1)
        self.block = block(dim, 2)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, tokens):
        x = self.block(self.embed(tokens) + self.pos[: tokens.size(1)])
        return self.head(self.norm(x).mean(1))


class SdpaTransformer(Transformer):
    """Transformer with an SdpaBlock."""

    def __init__(self):
        super().__init__(block=SdpaBlock)


def data_cnn(g):
    return {"x": torch.rand((STEPS, 6, 1, 6, 6), generator=g, dtype=torch.float64) * 2 - 1,
            "y": torch.randint(0, CLASSES, (STEPS, 6), generator=g)}


def data_lstm(g):
    tokens = torch.randint(0, VOCAB, (STEPS, 4, 8), generator=g)
    return {"x": tokens[:, :, :-1].contiguous(), "y": tokens[:, :, 1:].contiguous()}


def data_transformer(g):
    return {"x": torch.randint(0, VOCAB, (STEPS, 4, 6), generator=g),
            "y": torch.randint(0, CLASSES, (STEPS, 4), generator=g)}


# name: (module class, data, forward's output element the loss takes (null: a tensor), description)
MODELS = {
    "cnn": (Cnn, data_cnn, None, "Conv2d (no bias) + BatchNorm2d (training mode) + Tanh + avg_pool2d + Linear"),
    "lstm": (LstmLm, data_lstm, 0, "Embedding + LSTM + GELU + Linear; forward returns (logits, (h, c))"),
    "transformer": (Transformer, data_transformer, None,
                    "token + position embeddings, pre-norm 2-head self-attention and GELU MLP, LayerNorm, "
                    "mean pooling, Linear"),
}
try:  # torch >= 2.3: SDPA and the switch to its math kernel, which AdaHessian's reference needs
    from torch.nn.attention import SDPBackend, sdpa_kernel
except ImportError:
    SDPBackend = None
if SDPBackend is not None:
    MODELS["transformer_sdpa"] = (SdpaTransformer, data_transformer, None,
                                  "transformer with its attention in F.scaled_dot_product_attention")

# optimizer: options (the same names as parity.py's)
OPTIMIZERS = {
    "adam": {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.01, "amsgrad": False},
    "adamw": {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weightDecay": 0.05, "amsgrad": True},
    "adahessian": {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-4, "weightDecay": 1e-3,
                   "hessianPower": 1.0, "blockAveraging": "official"},
}


def loss_of(output, element, y):
    """Cross-entropy of the logits (the output, or its element `element`) against labels y; a
    language model's [B, T, V] logits are flattened to [B * T, V]."""
    logits = output if element is None else output[element]
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))


def state_names(kind, amsgrad):
    if kind == "adahessian":
        return ["exp_avg", "exp_hessian_diag_sq"]
    return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])


def train(out, model_name, init, data, kind, seed):
    """Trains a copy of the eager model from `init` and writes the trajectory."""
    cls, _, element, _ = MODELS[model_name]
    model = cls().double()
    model.load_state_dict(init)
    model.train()
    o = OPTIMIZERS[kind]
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    probe_seed = 7000 + seed
    if kind == "adahessian":
        opt = AdaHessian(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                         weight_decay=o["weightDecay"], hessian_power=o["hessianPower"],
                         block_averaging=o["blockAveraging"], seed=probe_seed)
    else:
        cls_opt = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        opt = cls_opt(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                      weight_decay=o["weightDecay"], amsgrad=o["amsgrad"], foreach=False)
    history = {n: [] for n in names}
    states = {}
    losses = []
    # AdaHessian differentiates twice: SDPA's flash kernel (torch's CPU default) has no double
    # backward, its math kernel has, and AdaHessian4J runs AdaHessian's closures under it
    # (DoubleBackward.java). Adam and AdamW keep torch's choice, as in Java.
    attention = sdpa_kernel([SDPBackend.MATH]) if kind == "adahessian" and SDPBackend else contextlib.nullcontext()
    with attention:
        for t in range(STEPS):
            x, y = data["x"][t], data["y"][t]
            if kind == "adahessian":
                loss = opt.step(lambda: loss_of(model(x), element, y))
            else:
                opt.zero_grad(set_to_none=True)
                loss = loss_of(model(x), element, y)
                loss.backward()
                opt.step()
            losses.append(float(loss.detach()))
            for n, p in zip(names, params):
                history[n].append(p.detach().clone())
                for s in state_names(kind, o.get("amsgrad", False)):
                    states.setdefault((s, n), []).append(opt.state[p][s].detach().clone())
    case = f"{model_name}_{kind}"
    root = os.path.join(out, case)
    for n in names:
        write(os.path.join(root, "expected", n + ".bin"), torch.stack(history[n]))
    for (s, n), values in states.items():
        write(os.path.join(root, "expected", f"{s}.{n}.bin"), torch.stack(values))
    buffers = []
    for n, b in model.named_buffers():
        write(os.path.join(root, "expected", f"buffer.{n}.bin"), b)
        buffers.append({"name": n, "dtype": str(b.dtype).replace("torch.", ""), "shape": list(b.shape)})
    manifest = {
        "format": 1, "name": case, "model": model_name, "optimizer": kind, "options": o, "seed": probe_seed,
        "steps": STEPS,
        "params": [{"name": n, "shape": list(p.shape), "state": state_names(kind, o.get("amsgrad", False))}
                   for n, p in zip(names, params)],
        "buffers": buffers, "losses": losses,
    }
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return case


def export(out, model_name, seed):
    """Builds the model from a seeded generator, writes its weights, inputs and both exports."""
    cls, make_data, element, description = MODELS[model_name]
    torch.manual_seed(seed)
    model = cls().double()
    with torch.no_grad():  # BatchNorm's affine starts away from (1, 0) so its gradients matter
        for n, p in model.named_parameters():
            if n.startswith("bn."):
                p.add_(torch.rand(p.shape, dtype=p.dtype) * 0.4 - 0.2)
    model.train()
    data = make_data(torch.Generator().manual_seed(seed))
    root = os.path.join(out, model_name)
    for n, p in model.named_parameters():
        write(os.path.join(root, "init", n + ".bin"), p)
    for n, b in model.named_buffers():
        write(os.path.join(root, "init", "buffer." + n + ".bin"), b)
    for n, v in data.items():
        write(os.path.join(root, "inputs", n + ".bin"), v)
    modules = {}
    for kind in ("script", "trace"):
        fresh = cls().double()
        fresh.load_state_dict(model.state_dict())
        fresh.train()
        exported = torch.jit.script(fresh) if kind == "script" else torch.jit.trace(fresh, data["x"][0])
        with torch.no_grad():  # tracing ran forward (twice, with its check) and moved the running statistics
            for n, b in exported.named_buffers():
                b.copy_(model.state_dict()[n])
        file = f"{model_name}_{kind}.pt"
        exported.save(os.path.join(out, file))
        modules[kind] = file
    entry = {"name": model_name, "description": description, "modules": modules, "element": element,
             "params": [n for n, _ in model.named_parameters()],
             "inputs": [{"name": n, "dtype": "int64" if v.dtype == torch.int64 else "float64",
                         "shape": list(v.shape)} for n, v in data.items()]}
    return entry, {k: v.clone() for k, v in model.state_dict().items()}, data


class Tied(nn.Module):
    """Two Linear layers that share one weight (tied), the second's output tupled with the first's."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(torch.tanh(self.a(x)))


class DictOut(nn.Module):
    """A forward that returns a dict."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return {"logits": self.fc(x)}


class TupleOut(nn.Module):
    """BatchNorm1d whose forward returns (logits, features): a tuple."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(3)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        h = self.bn(x)
        return self.fc(h), h


def export_bad(out):
    """Modules TorchScriptModel must refuse or handle, with what the Java test expects of each."""
    root = os.path.join(out, "bad")
    os.makedirs(root)
    torch.manual_seed(99)
    torch.jit.script(Tied().double()).save(os.path.join(root, "tied.pt"))
    torch.jit.script(DictOut().double()).save(os.path.join(root, "dict.pt"))
    torch.jit.script(TupleOut().double()).save(os.path.join(root, "tuple.pt"))
    frozen = torch.jit.freeze(torch.jit.script(Cnn().double()).eval())
    frozen.save(os.path.join(root, "frozen.pt"))
    torch.jit.optimize_for_inference(torch.jit.script(Cnn().double()).eval()).save(
        os.path.join(root, "optimized.pt"))
    no_grad = torch.jit.script(Cnn().double())
    for p in no_grad.parameters():
        p.requires_grad_(False)
    no_grad.save(os.path.join(root, "no_grad.pt"))
    torch.save(Cnn().double().state_dict(), os.path.join(root, "state_dict.pt"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (replaced as a whole)")
    ap.add_argument("--force", action="store_true", help="regenerate even if the fixtures are up to date")
    args = ap.parse_args()
    torch.set_num_threads(1)
    start = time.time()
    out = os.path.abspath(args.out)
    fingerprint = source_fingerprint(("torchscript_parity.py", "adahessian_reference.py"), None)
    if not args.force and up_to_date(out, fingerprint, "torchscript_parity.py"):
        return

    def fill(work):
        models, trainings = [], []
        for seed, name in enumerate(MODELS):
            entry, init, data = export(work, name, seed)
            models.append(entry)
            for k, kind in enumerate(OPTIMIZERS):
                trainings.append(train(work, name, init, data, kind, 10 * seed + k))
        export_bad(work)
        index = {"format": 1, "models": models, "trainings": trainings, "fingerprint": fingerprint,
                 "reference": {"torch": torch.__version__, "numpy": np.__version__,
                               "python": platform.python_version(), "threads": torch.get_num_threads()}}
        with open(os.path.join(work, "index.json"), "w") as f:
            json.dump(index, f, indent=1)
        return trainings

    trainings = write_folder(out, ".torchscript-", fill)
    print(f"torchscript_parity.py: {len(MODELS)} models, {len(trainings)} trainings in {out} "
          f"({time.time() - start:.1f} s, torch {torch.__version__})")


if __name__ == "__main__":
    main()
