"""Hessian analysis in Python (torch >= 1.13): the reference that AdaHessian4J's
``io.github.adahessian4j.HessianAnalysis`` is checked against (``hessian_parity.py`` writes the
fixtures, ``HessianParityTest`` reads them).

The same algorithms as the Java class, written again from their description, with the same
probes (``adahessian_reference.rademacher``: draw ``j`` of ``seed`` for parameter id = the
parameter's position in the list given), so that on the same model and batch both sides compute
the same numbers up to rounding:

* ``hvp``: ``torch.autograd.grad(g, params, v)`` of the gradients ``g`` computed once with
  ``create_graph=True`` (never ``backward(create_graph=True)``); several loss closures give the
  weighted mean of their products. Vectors are flat float64; products run in the parameters'
  dtype. Parameters that do not require grad, have no elements or get no gradient are skipped.
* ``top_eigenvalues``: Lanczos with full reorthogonalisation (classical Gram-Schmidt, twice),
  Ritz values from ``torch.linalg.eigh`` of the tridiagonal matrix, stop when every wanted Ritz
  pair's residual ``beta_m |s_mi|`` is at most ``tol * max |Ritz value|``; at an invariant
  subspace, continue from the next probe draw made orthogonal to the basis while fewer than k
  values are known or the last block found a wanted one. Starts from draw 0, normalised.
* ``power_iteration``: PyHessian's ``hessian.eigenvalues`` (power iteration with deflation:
  orthogonalise against the eigenvectors found, multiply, Rayleigh quotient, normalise; stop when
  ``|new - old| / (|old| + 1e-6) < tol``), eigenvalue j starting from draw j.
* ``trace``: Hutchinson, sample s = ``z^T H z`` of draw s; stop after ``min_samples`` when the
  standard error (n - 1 in the variance) is at most ``rel * |mean|`` or ``abs``; per-parameter
  ``z_p^T (H z)_p``.
* ``spectral_density``: stochastic Lanczos quadrature, run r from draw r normalised, ``steps``
  steps (fewer at an invariant subspace); nodes = eigenvalues of T, weights = squared first
  components. ``smoothed`` is PyHessian's ``density_plot.density_generate``.

PyHessian (amirgholami/PyHessian) differs in what its users asked to change: it calls
``model.eval()``, uses ``backward(create_graph=True)``, crashes on parameters without gradient,
draws unseeded probes from torch's RNG, and its Lanczos is only used for the density.
"""

import math

import torch

from adahessian_reference import DEFAULT_SEED, rademacher

__all__ = ["HessianAnalysis", "smoothed"]

BLOCK_BREAKDOWN = 1e-12


class HessianAnalysis:
    """The Hessian of ``sum_c w_c L_c / sum_c w_c`` (``losses``: closures returning scalar losses)
    with respect to ``params``."""

    def __init__(self, params, losses, weights=None, seed=DEFAULT_SEED):
        self.params = list(params)
        self.losses = list(losses)
        w = [1.0] * len(self.losses) if weights is None else [float(x) for x in weights]
        total = sum(w)
        self.weights = [x / total for x in w]
        self.seed = seed
        self.hv_products = 0
        self.skipped = []
        diff = []
        for i, p in enumerate(self.params):
            if not p.requires_grad:
                self.skipped.append((i, "does not require grad"))
            elif p.numel() == 0:
                self.skipped.append((i, "has no elements"))
            else:
                diff.append(i)
        self.grads = []
        has_grad = set()
        loss_sum = 0.0
        for c, closure in enumerate(self.losses):
            loss = closure()
            loss_sum += self.weights[c] * float(loss.detach())
            g = torch.autograd.grad(loss, [self.params[i] for i in diff], create_graph=True, allow_unused=True)
            kept = {}
            for i, gi in zip(diff, g):
                if gi is not None:
                    has_grad.add(i)
                    if gi.requires_grad:
                        kept[i] = gi
            self.grads.append(kept)
        for i in diff:
            if i not in has_grad:
                self.skipped.append((i, "no gradient: the loss does not use it"))
        self.skipped.sort()
        self.loss = loss_sum
        self.ids = [i for i in diff if i in has_grad]
        self.numel = [self.params[i].numel() for i in self.ids]
        self.dim = sum(self.numel)

    # --- the vector space ---

    def _device(self):
        return self.params[self.ids[0]].device

    def split(self, flat):
        parts, at = [], 0
        for i, n in zip(self.ids, self.numel):
            parts.append(flat[at:at + n].reshape(self.params[i].shape))
            at += n
        return parts

    def probe(self, counter):
        """Rademacher draw ``counter`` as a flat float64 vector."""
        z = [torch.from_numpy(rademacher(self.seed, counter, i, n)) for i, n in zip(self.ids, self.numel)]
        return torch.cat(z).to(self._device())

    def unit_probe(self, counter):
        return self.probe(counter) / math.sqrt(self.dim)

    def hvp(self, v):
        """H v for a flat float64 v."""
        out = torch.zeros_like(v)
        vs = [part.to(self.params[i].dtype) for i, part in zip(self.ids, self.split(v))]
        inputs = [self.params[i] for i in self.ids]
        for c, kept in enumerate(self.grads):
            outs = [(kept[i], vj) for i, vj in zip(self.ids, vs) if i in kept]
            if not outs:
                continue
            hv = torch.autograd.grad([g for g, _ in outs], inputs, grad_outputs=[vj for _, vj in outs],
                                     retain_graph=True, allow_unused=True)
            parts = []
            for h, i in zip(hv, self.ids):
                parts.append(torch.zeros(self.params[i].numel(), dtype=torch.float64, device=v.device)
                             if h is None else h.reshape(-1).to(torch.float64))
            out += self.weights[c] * torch.cat(parts)
        self.hv_products += 1
        return out

    # --- Lanczos ---

    def _lanczos(self, v0, cap, restart, on_step):
        """Lanczos from unit v0, at most ``cap`` steps. ``on_step(alpha, beta, basis, broke_down)``
        after every step returns "stop", "restart" or "continue"."""
        basis = [v0]
        alpha, beta = [], []
        norm_est = 0.0
        draw = 1
        while True:
            v = basis[-1]
            w = self.hvp(v)
            a = float(torch.dot(v, w))
            w = w - a * v
            if beta and beta[-1] != 0:
                w = w - beta[-1] * basis[-2]
            V = torch.stack(basis)
            for _ in range(2):
                w = w - V.t().mv(V.mv(w))
            b = float(torch.sqrt(torch.dot(w, w)))
            norm_est = max(norm_est, abs(a) + b + (beta[-1] if beta else 0.0))
            alpha.append(a)
            beta.append(b)
            broke = not (b > BLOCK_BREAKDOWN * norm_est)
            m = len(alpha)
            if m == self.dim:
                on_step(alpha, beta, basis, broke, True)
                return alpha, beta, basis
            action = on_step(alpha, beta, basis, broke, False)
            if action == "stop" or m >= cap:
                return alpha, beta, basis
            if not broke:
                basis.append(w / b)
                continue
            if not restart or action != "restart":
                return alpha, beta, basis
            beta[-1] = 0.0
            z = self.unit_probe(draw)
            draw += 1
            V = torch.stack(basis)
            for _ in range(2):
                z = z - V.t().mv(V.mv(z))
            nz = float(torch.sqrt(torch.dot(z, z)))
            if not nz > 1e-8:
                return alpha, beta, basis
            basis.append(z / nz)
            self._block_start = len(alpha)

    @staticmethod
    def _ritz(alpha, beta):
        m = len(alpha)
        t = torch.zeros(m, m, dtype=torch.float64)
        for i in range(m):
            t[i, i] = alpha[i]
            if i + 1 < m:
                t[i, i + 1] = t[i + 1, i] = beta[i]
        values, vectors = torch.linalg.eigh(t)
        return values.tolist(), vectors

    @staticmethod
    def _wanted(values, which, k):
        order = list(range(len(values)))
        if which == "largest":
            order.sort(key=lambda i: -values[i])
        elif which == "smallest":
            order.sort(key=lambda i: values[i])
        else:
            order.sort(key=lambda i: -abs(values[i]))
        return order[:min(k, len(values))]

    def top_eigenvalues(self, k, tol=1e-6, max_iter=200, which="largest"):
        start = self.hv_products
        cap = min(max_iter, self.dim)
        state = {"converged": False}
        self._block_start = 0

        def on_step(alpha, beta, basis, broke, exhausted):
            values, vectors = self._ritz(alpha, beta)
            wanted = self._wanted(values, which, k)
            norm = max(abs(x) for x in values)
            state.update(values=values, vectors=vectors, wanted=wanted)
            if exhausted:
                state["converged"] = True
                return "stop"
            if broke:
                kth = values[wanted[-1]]
                bs = self._block_start
                block, _ = self._ritz(alpha[bs:], beta[bs:])
                margin = 1e-9 * norm
                beyond = {"largest": lambda x: x > kth + margin, "smallest": lambda x: x < kth - margin,
                          "magnitude": lambda x: abs(x) > abs(kth) + margin}[which]
                if len(wanted) < k or any(beyond(x) for x in block):
                    return "restart"
                state["converged"] = True
                return "stop"
            m = len(alpha)
            rule = tol > 0 and len(wanted) == k and all(
                beta[-1] * abs(float(vectors[m - 1, i])) <= tol * norm for i in wanted)
            if rule:
                state["converged"] = True
                return "stop"
            return "continue"

        alpha, beta, _ = self._lanczos(self.unit_probe(0), cap, True, on_step)
        m = len(alpha)
        wanted, values, vectors = state["wanted"], state["values"], state["vectors"]
        return {
            "eigenvalues": [values[i] for i in wanted],
            "residuals": [beta[-1] * abs(float(vectors[m - 1, i])) for i in wanted],
            "iterations": m,
            "hvProducts": self.hv_products - start,
            "converged": state["converged"],
        }

    def power_iteration(self, k, tol=1e-3, max_iter=100):
        start = self.hv_products
        found, values, residuals = [], [], []
        iterations, all_converged = 0, True
        for j in range(min(k, self.dim)):
            current = self.unit_probe(j)
            previous, converged = None, False
            for it in range(max_iter):
                v = current.clone()
                if found:
                    V = torch.stack(found)
                    v = v - V.t().mv(V.mv(v))
                v = v / float(torch.sqrt(torch.dot(v, v)))
                hv = self.hvp(v)
                iterations += 1
                estimate = float(torch.dot(hv, v))
                hv_norm = float(torch.sqrt(torch.dot(hv, hv)))
                value, residual = estimate, math.sqrt(max(0.0, hv_norm * hv_norm - estimate * estimate))
                if hv_norm == 0:
                    current, converged = v, True
                    break
                current = hv / hv_norm
                if it > 0 and tol > 0 and abs(estimate - previous) / (abs(previous) + 1e-6) < tol:
                    converged = True
                    break
                previous = estimate
            all_converged &= converged
            found.append(current)
            values.append(value)
            residuals.append(residual)
        return {"eigenvalues": values, "residuals": residuals, "iterations": iterations,
                "hvProducts": self.hv_products - start, "converged": all_converged}

    def trace(self, rel=1e-2, abs_err=0.0, min_samples=10, max_samples=1000):
        start = self.hv_products
        samples, blocks = [], []
        converged = False
        for s in range(max_samples):
            z = self.probe(s)
            zhz = self.hvp(z) * z
            parts = [float(p.sum()) for p in self.split(zhz)]
            blocks.append(parts)
            samples.append(sum(parts))
            if len(samples) >= min_samples:
                mean, se = _mean_and_error(samples)
                if se <= rel * abs(mean) or se <= abs_err:
                    converged = True
                    break
        mean, se = _mean_and_error(samples)
        per_param = {}
        for j, i in enumerate(self.ids):
            per_param[i] = _mean_and_error([b[j] for b in blocks])
        return {"trace": mean, "standardError": se, "samples": len(samples), "sampleValues": samples,
                "perParameter": [list(per_param.get(i, (0.0, 0.0))) for i in range(len(self.params))],
                "hvProducts": self.hv_products - start, "converged": converged}

    def spectral_density(self, runs, steps):
        start = self.hv_products
        out = []
        for r in range(runs):
            alpha, beta, _ = self._lanczos(self.unit_probe(r), min(steps, self.dim), False,
                                           lambda *a: "continue")
            values, vectors = self._ritz(alpha, beta)
            weights = (vectors[0, :] ** 2).tolist()
            out.append({"nodes": values, "weights": weights, "steps": len(alpha)})
        return {"runs": out, "hvProducts": self.hv_products - start, "dimension": self.dim}


def _mean_and_error(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.inf
    ss = sum((x - mean) ** 2 for x in values)
    return mean, math.sqrt(ss / (n - 1) / n)


def smoothed(runs, points=10000, sigma_squared=1e-5, overhead=0.01):
    """PyHessian's density_plot.density_generate on SLQ runs [{"nodes", "weights"}]: the grid from
    the mean smallest node - overhead to the mean largest + overhead, Gaussians of variance
    sigma_squared * max(1, width), averaged over runs, normalised to a Riemann sum of 1."""
    lo = sum(min(r["nodes"]) for r in runs) / len(runs) - overhead
    hi = sum(max(r["nodes"]) for r in runs) / len(runs) + overhead
    grid = torch.linspace(lo, hi, points, dtype=torch.float64)
    variance = sigma_squared * max(1.0, hi - lo)
    density = torch.zeros(points, dtype=torch.float64)
    for r in runs:
        nodes = torch.tensor(r["nodes"], dtype=torch.float64)
        weights = torch.tensor(r["weights"], dtype=torch.float64)
        g = torch.exp(-(grid[:, None] - nodes[None, :]) ** 2 / (2 * variance)) / math.sqrt(2 * math.pi * variance)
        density += (g * weights[None, :]).sum(1) / len(runs)
    density /= density.sum() * (grid[1] - grid[0])
    return grid.tolist(), density.tolist(), variance
