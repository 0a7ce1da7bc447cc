#!/usr/bin/python3
"""Writes the TorchScript image classifiers and token language models that
bench/src/test/.../CompareTorchScriptTest.java and CompareTorchScriptLmTest.java train with
`compare --model torchscript:FILE`:

    /usr/bin/python3 bench/python/torchscript_classifier.py --out DIR

  DIR/classifier.pt   torch.jit.script of a small CNN (conv3x3 1->8 + BatchNorm2d + ReLU,
                      2x2 max pooling, linear 1568->10), float32: images [n, 1, 28, 28] -> logits
                      [n, 10], in training mode (the convention docs/torchscript.md describes)
  DIR/tuple.pt        the same weights, its forward returning the tuple (logits, features)
  DIR/five.pt         a classifier whose forward returns [n, 5]: refused
  DIR/state_dict.pt   torch.save of the classifier's state_dict: not TorchScript, refused
  DIR/probe.bin       images [2, 1, 28, 28], float32 little-endian
  DIR/expected.bin    the classifier's logits on them in evaluation mode, [2, 10], float64
                      little-endian
  DIR/lm.pt           torch.jit.script of a token language model (embedding 96x32, dropout, LSTM
                      32, dropout, linear 32->96) with the int attribute context = 32: tokens
                      [n, 32] int64 -> logits [n, 32, 96]; saved in evaluation mode
  DIR/lm_vocab.pt     the same with a vocabulary of 50: refused
  DIR/lm_unmarked.pt  the language model without its context attribute: taken for a classifier,
                      refused
  DIR/lm_odd.pt       the same with width 10: its LSTM weights [40, 10] do not split into the
                      transformer recipe's blocks of 32, refused
  DIR/lm_probe.bin    tokens [2, 32], int64 little-endian
  DIR/lm_expected.bin lm.pt's logits on them in evaluation mode, [2, 32, 96], float64
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


LAST = "lm_expected.bin"  # written last: a DIR that holds it is complete


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


class TokenLm(nn.Module):
    """Tokens [n, context] int64 -> next-token logits [n, context, vocab]."""

    def __init__(self, vocab: int = 96, width: int = 32, context: int = 32):
        super().__init__()
        self.context = context
        self.embedding = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, width, batch_first=True)
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens):
        h, _ = self.lstm(self.dropout(self.embedding(tokens)))
        return self.head(self.dropout(h))


class UnmarkedLm(TokenLm):
    def __init__(self):
        super().__init__()
        del self.context


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
    write_lms(out)


def write_lms(out):
    torch.manual_seed(9)
    lm = TokenLm().eval()
    torch.jit.script(lm).save(os.path.join(out, "lm.pt"))
    torch.jit.script(TokenLm(vocab=50)).save(os.path.join(out, "lm_vocab.pt"))
    torch.jit.script(UnmarkedLm()).save(os.path.join(out, "lm_unmarked.pt"))
    torch.jit.script(TokenLm(width=10)).save(os.path.join(out, "lm_odd.pt"))
    tokens = torch.randint(96, (2, lm.context), generator=torch.Generator().manual_seed(10))
    with open(os.path.join(out, "lm_probe.bin"), "wb") as f:
        f.write(tokens.numpy().astype("<i8").tobytes())
    with torch.no_grad():
        logits = lm(tokens)
    with open(os.path.join(out, LAST), "wb") as f:
        f.write(logits.double().numpy().astype("<f8").tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    if os.path.isfile(os.path.join(out, LAST)):
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
