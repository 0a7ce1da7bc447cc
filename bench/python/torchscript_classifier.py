#!/usr/bin/python3
"""Writes the TorchScript image classifiers that bench/src/test/.../CompareTorchScriptTest.java
trains with `compare --model torchscript:FILE`:

    /usr/bin/python3 bench/python/torchscript_classifier.py --out DIR

  DIR/classifier.pt   torch.jit.script of a small CNN (conv3x3 1->8 + BatchNorm2d + ReLU,
                      2x2 max pooling, linear 1568->10), float32: images [n, 1, 28, 28] -> logits
                      [n, 10], in training mode (the convention docs/torchscript.md describes)
  DIR/tuple.pt        the same weights, its forward returning the tuple (logits, features)
  DIR/five.pt         a classifier whose forward returns [n, 5]: refused
  DIR/state_dict.pt   torch.save of the classifier's state_dict: not TorchScript, refused
  DIR/probe.bin       images [2, 1, 28, 28], float32 little-endian
  DIR/expected.bin    the classifier's logits on them in evaluation mode, [2, 10], float64
                      little-endian (written last)

Written into a temporary folder and swapped in whole; a complete DIR is left as it is.
"""

import argparse
import os
import shutil
import sys
import tempfile
from typing import Tuple

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - environment check
    sys.exit(f"torchscript_classifier.py: {e}. Install the Python reference first: bench/python/install-reference.sh")


class Classifier(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 14 * 14, classes)

    def features(self, x):
        return torch.flatten(F.max_pool2d(F.relu(self.bn(self.conv(x))), 2), 1)

    def forward(self, x):
        return self.fc(self.features(x))


class TupleClassifier(Classifier):
    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        return self.fc(h), h


def write(out):
    torch.manual_seed(7)
    model = Classifier()
    torch.jit.script(model).save(os.path.join(out, "classifier.pt"))
    tuple_model = TupleClassifier()
    tuple_model.load_state_dict(model.state_dict())
    torch.jit.script(tuple_model).save(os.path.join(out, "tuple.pt"))
    torch.jit.script(Classifier(classes=5)).save(os.path.join(out, "five.pt"))
    torch.save(model.state_dict(), os.path.join(out, "state_dict.pt"))
    probe = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(8))
    with open(os.path.join(out, "probe.bin"), "wb") as f:
        f.write(probe.numpy().astype("<f4").tobytes())
    model.eval()
    with torch.no_grad():
        logits = model(probe)
    with open(os.path.join(out, "expected.bin"), "wb") as f:
        f.write(logits.double().numpy().astype("<f8").tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    if os.path.isfile(os.path.join(out, "expected.bin")):
        return
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(dir=parent, prefix=".torchscript-classifier-")
    try:
        torch.set_num_threads(1)
        write(work)
        shutil.rmtree(out, ignore_errors=True)
        os.rename(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
