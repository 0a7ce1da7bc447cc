"""The Python reference AdaHessian that AdaHessian4J is checked against (see parity.py).

A ``torch.optim.Optimizer`` written for this project from the published descriptions and code of
AdaHessian (Yao, Gholami, Shen, Mustafa, Keutzer, Mahoney: "ADAHESSIAN: An Adaptive Second Order
Optimizer for Machine Learning", AAAI 2021, arXiv:2006.00719). It runs on torch 1.13 (Debian
bookworm's ``python3-torch``) and later.

The update (the authors' ``image_classification/optim_adahessian.py``), per parameter p with
gradient g and Hessian-diagonal estimate D, at the parameter's step t::

    m     = b1 m + (1 - b1) g
    v     = b2 v + (1 - b2) Dbar^2              Dbar = block mean of |D|
    denom = sqrt(v)^k / sqrt(1 - b2^t)^k + eps
    p     = p - lr (m / (1 - b1^t) / denom + weight_decay p)

Where the published variants differ, and which option here reproduces each:

* authors, ``image_classification/optim_adahessian.py`` (``block_averaging="official"``, the
  default): D is ``|Hz|`` of one Rademacher probe z; 0-, 1- and 2-D tensors are not averaged,
  4-D (Conv2d) kernels are averaged over their spatial dims 2 and 3. That code has no branch for
  3-D and 5-D tensors (it fails on them); here they are averaged over the kernel's spatial dims
  (the last 1 or 3), as the authors' ``instruction/adahessian.py`` does for 3-D.
  Defaults lr 0.15, eps 1e-4, hessian_power 1. Its weight decay is decoupled
  (``p - lr * (... + wd * p)``), whatever its docstring says.
* authors, ``instruction/adahessian.py`` with its default block sizes (-1, -1, -1, -1)
  (``block_averaging="instruction"``): 0- and 1-D none, 2-D the mean of each row (dim 1), 3-D the
  last dim, 4-D the last two dims; 5-D (which that code rejects) the last three here.
* authors, ``transformer/fairseq/optim/adahessian.py`` with the paper's ``--block-length 32``
  (``block_averaging="fairseq"``): 0- and 1-D tensors (biases, LayerNorm) not averaged; a 2-D
  tensor is flattened in row-major order and each run of 32 consecutive elements gets its mean
  (``view(-1, 32)``): blocks of 32 along the last dimension when it is a multiple of 32, blocks
  that run on into the next row when it is not, and an error when the numel is not a multiple of
  32 (as in that code). It has no branch for 3-D to 5-D tensors (it drops them from its list,
  misaligning the rest); here they get the official rule.
* davda54/ada-hessian (``update_each``, ``n_samples``, ``block_averaging="none"``, eps 1e-8,
  lr 0.1): the estimate is refreshed only every ``update_each`` steps of a parameter and reused in
  between (the moments still move every step); with ``n_samples`` probes it is the mean of the
  *signed* z * Hz over the samples (the unbiased Hutchinson estimate), and |.| is taken afterwards,
  when the second moment squares it. With one sample that is the authors' |Hz|.
  ``hessian_warmup`` (AdaHessian4J's ``hessianWarmup``, in no published variant): the estimate is
  also refreshed at each of a parameter's first ``hessian_warmup`` steps; with 0 (the default)
  this is davda54's schedule. Its decay
  ``p *= 1 - lr wd`` followed by ``p -= lr m / bc1 / denom`` is the same arithmetic as the
  authors', and its ``(v / bc2)^(k/2)`` equals ``sqrt(v)^k / sqrt(bc2)^k``.
* jettify/pytorch-optimizer (torch_optimizer): the authors' official code with
  ``hessian_power=0.5`` as its default.

What is specific to this reference (and to AdaHessian4J, which it mirrors):

* Probes are not drawn from torch's RNG but from the counter-based generator specified in
  ``cpp/include/adahessian4j.h`` (``rademacher`` below), keyed by (seed, draw counter, parameter
  index, element index). The parameter index is the parameter's flat position over all groups, in
  order (unused parameters count). The draw counter starts at 0 and advances by ``n_samples`` at
  every step in which at least one parameter's estimate is refreshed with a Hessian-vector product;
  sample s of that step uses counter ``probe_counter + s``.
* The closure returns the loss and must not call backward: the gradients come from
  ``torch.autograd.grad(loss, params, create_graph=True)`` and Hz from a second
  ``torch.autograd.grad`` (never ``backward(create_graph=True)``, which leaks through a
  parameter <-> gradient reference cycle).
* A parameter that the loss does not use (no gradient) is skipped: its state and step counts do
  not change. A parameter whose gradient is constant (does not require grad: the loss is linear in
  it) has a zero Hessian row, so its estimate is 0 without a Hessian-vector product; one whose Hz
  comes back undefined gets 0 too.
"""

import math

import numpy as np
import torch

__all__ = ["AdaHessian", "rademacher", "BLOCK_AVERAGING", "DEFAULT_SEED"]

DEFAULT_SEED = 0x5EEDAD4E551A  # AdaHessian4J's default seed

_MASK = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)


def _mix64(x):
    """SplitMix64's step on a numpy uint64 array (wrapping arithmetic): add the golden gamma, then
    the finaliser."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MUL1
    x = (x ^ (x >> np.uint64(27))) * _MUL2
    return x ^ (x >> np.uint64(31))


def _u64(value):
    """A Python int (possibly negative, like a Java long) as a 1-element uint64 array."""
    return np.array([value & _MASK], dtype=np.uint64)


def rademacher(seed, counter, param_id, numel):
    """Rademacher signs (float64 numpy array of +-1) of probe draw ``counter`` for parameter
    ``param_id``, as in ``cpp/include/adahessian4j.h``::

        stream = mix64(mix64(mix64(seed) ^ counter) ^ param_id)
        bit(e) = (mix64(stream ^ (e >> 6)) >> (e & 63)) & 1,   z[e] = +1 if bit(e) else -1
    """
    with np.errstate(over="ignore"):
        stream = _mix64(_mix64(_mix64(_u64(seed)) ^ _u64(counter)) ^ _u64(param_id))
        words = _mix64(stream ^ np.arange((numel + 63) // 64, dtype=np.uint64))
        e = np.arange(numel, dtype=np.uint64)
        bits = (words[e >> np.uint64(6)] >> (e & np.uint64(63))) & np.uint64(1)
    return np.where(bits == 1, 1.0, -1.0)


# Per preset and rank, the block mean of |D|: a tuple names the dimensions averaged, an int is the
# length of the runs of consecutive elements (of the flattened tensor) averaged.
BLOCK_AVERAGING = {
    "official": {0: (), 1: (), 2: (), 3: (2,), 4: (2, 3), 5: (2, 3, 4)},
    "instruction": {0: (), 1: (), 2: (1,), 3: (2,), 4: (2, 3), 5: (2, 3, 4)},
    "fairseq": {0: (), 1: (), 2: 32, 3: (2,), 4: (2, 3), 5: (2, 3, 4)},
    "none": {0: (), 1: (), 2: (), 3: (), 4: (), 5: ()},
}


class AdaHessian(torch.optim.Optimizer):
    """AdaHessian; see the module docstring for the update and the variants.

    Args:
        params: parameters or parameter groups (dicts).
        lr, betas, eps, weight_decay, hessian_power: per group; the authors' defaults.
        block_averaging: "official" (default), "instruction", "fairseq" or "none".
        update_each: refresh the Hessian estimate every this many steps of a parameter.
        hessian_warmup: also refresh it at each of a parameter's first this many steps (0: no
            warm-up; only with update_each > 1).
        n_samples: Hutchinson samples per refresh.
        seed: the probe generator's seed.
        max_grad_norm, grad_norm_type: clip the gradients the update uses (not Hz) with
            ``torch.nn.utils.clip_grad_norm_`` (on copies set as each ``p.grad``), as AdaHessian4J's
            ``clipGradNorm`` does; None: no clipping.
        probes: "counter" (default): the counter-based generator, identical to AdaHessian4J's;
            "torch": ``2 * torch.randint_like(p, high=2) - 1`` on torch's global RNG, as the
            authors' code draws them (used to time the authors' algorithm as they run it).
    """

    def __init__(self, params, lr=0.15, betas=(0.9, 0.999), eps=1e-4, weight_decay=0.0,
                 hessian_power=1.0, block_averaging="official", update_each=1, n_samples=1,
                 hessian_warmup=0, seed=DEFAULT_SEED, probes="counter", max_grad_norm=None, grad_norm_type=2.0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        if not 0.0 <= hessian_power <= 1.0:
            raise ValueError(f"Invalid Hessian power value: {hessian_power}")
        if block_averaging not in BLOCK_AVERAGING:
            raise ValueError(f"Invalid block averaging: {block_averaging}")
        if probes not in ("counter", "torch"):
            raise ValueError(f"Invalid probes: {probes}")
        if update_each < 1 or n_samples < 1:
            raise ValueError("update_each and n_samples must be >= 1")
        if hessian_warmup < 0:
            raise ValueError(f"Invalid hessian_warmup value: {hessian_warmup} (must be >= 0)")
        if hessian_warmup > 0 and update_each == 1:
            raise ValueError(f"Invalid hessian_warmup value: {hessian_warmup} (needs update_each > 1)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        hessian_power=hessian_power)
        super().__init__(params, defaults)
        self.block_averaging = block_averaging
        self.update_each = update_each
        self.hessian_warmup = hessian_warmup
        self.max_grad_norm = max_grad_norm
        self.grad_norm_type = grad_norm_type
        self.n_samples = n_samples
        self.seed = seed
        self.probes = probes
        self.probe_counter = 0  # probe draws made so far

    def _refreshes(self, hessian_step):
        """Whether a parameter at its step ``hessian_step`` (from 0) refreshes its estimate."""
        return hessian_step < self.hessian_warmup or hessian_step % self.update_each == 0

    def _flat(self):
        return [(p, group) for group in self.param_groups for p in group["params"]]

    def _average(self, d):
        """Block mean of |D| by the preset's rule for this rank (broadcastable to D)."""
        rule = BLOCK_AVERAGING[self.block_averaging][min(d.dim(), 5)]
        a = d.abs()
        if isinstance(rule, int):
            runs = a.reshape(-1, rule)  # fails, as the authors' view does, unless rule divides numel
            return runs.mean(dim=1, keepdim=True).expand_as(runs).reshape(d.shape)
        return torch.mean(a, dim=list(rule), keepdim=True) if rule else a

    def _estimate(self, flat, grads, due):
        """Hutchinson estimates D (signed mean of z * Hz) for the parameters in ``due``."""
        fresh = {}
        hvp = []
        for i in due:
            if grads[i].requires_grad:
                hvp.append(i)
            else:  # constant gradient: this parameter's Hessian rows are zero
                fresh[i] = torch.zeros_like(flat[i][0], memory_format=torch.contiguous_format)
        if not hvp:
            return fresh
        outputs = [grads[i] for i in hvp]
        inputs = [flat[i][0] for i in hvp]
        for s in range(self.n_samples):
            if self.probes == "torch":
                zs = [2 * torch.randint_like(p, high=2) - 1 for p in inputs]
            else:
                zs = [torch.from_numpy(rademacher(self.seed, self.probe_counter + s, i, p.numel()))
                      .to(device=p.device, dtype=p.dtype).reshape(p.shape) for i, p in zip(hvp, inputs)]
            hzs = torch.autograd.grad(outputs, inputs, grad_outputs=zs,
                                      retain_graph=s < self.n_samples - 1, allow_unused=True)
            for i, z, hz in zip(hvp, zs, hzs):
                term = torch.zeros_like(z) if hz is None else (z * hz.detach()) * (1.0 / self.n_samples)
                fresh[i] = term if s == 0 else fresh[i] + term
        self.probe_counter += self.n_samples
        return fresh

    def step(self, closure):
        """One step. ``closure`` returns the loss without calling backward. Returns the loss."""
        with torch.enable_grad():
            loss = closure()
        flat = self._flat()
        params = [p for p, _ in flat]
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        active = [i for i, g in enumerate(grads) if g is not None]
        if not active:
            return loss
        for i in active:
            state = self.state[params[i]]
            if len(state) == 0:
                state["step"] = 0
                state["hessian_step"] = 0
                state["exp_avg"] = torch.zeros_like(params[i], memory_format=torch.contiguous_format)
                state["exp_hessian_diag_sq"] = torch.zeros_like(params[i], memory_format=torch.contiguous_format)
        due = [i for i in active if self._refreshes(self.state[params[i]]["hessian_step"])]
        fresh = self._estimate(flat, grads, due)
        step_grads = {i: grads[i].detach() for i in active}
        if self.max_grad_norm is not None:
            holders = [params[i] for i in active]
            saved = [p.grad for p in holders]
            for i in active:
                params[i].grad = grads[i].detach().clone()
            norm = torch.nn.utils.clip_grad_norm_(holders, self.max_grad_norm, norm_type=self.grad_norm_type)
            self.last_grad_norm = float(norm)
            for i, p, g in zip(active, holders, saved):
                step_grads[i] = p.grad
                p.grad = g

        with torch.no_grad():
            for i in active:
                p, group = flat[i]
                state = self.state[p]
                if i in fresh:
                    state["hessian"] = fresh[i]
                state["step"] += 1
                state["hessian_step"] += 1
                d = self._average(state["hessian"])
                exp_avg, exp_hessian_diag_sq = state["exp_avg"], state["exp_hessian_diag_sq"]
                beta1, beta2 = group["betas"]
                exp_avg.mul_(beta1).add_(step_grads[i], alpha=1 - beta1)
                exp_hessian_diag_sq.mul_(beta2).addcmul_(d, d, value=1 - beta2)
                t = state["step"]
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                k = group["hessian_power"]
                denom = ((exp_hessian_diag_sq.sqrt() ** k) / math.sqrt(bias_correction2) ** k).add_(group["eps"])
                p.copy_(p - group["lr"] * (exp_avg / bias_correction1 / denom + group["weight_decay"] * p))
        return loss
