#!/usr/bin/env python3
"""Checks and benchmarks the AdaHessian4J core's CUDA kernels from Python torch (>= 2.6), with no
JDK: the core (libah4j.so, built with -DAH4J_CUDA=ON) is loaded with ctypes into the torch
process, and tensors become the core's handles (AtenTensorHandle = at::Tensor*) through
torch._C._aoti.unsafe_alloc_void_ptrs_from_tensors. bench/gpu/README.md lists every check.

Checks (each kernel on cuda tensors against the same library's CPU path on copies of the same
inputs; bit for bit where the core promises it, see cpp/include/adahessian4j.h):
  probes (and an independent numpy implementation of the generator), Hutchinson accumulation,
  the AdaHessian step (every dtype, block sizes 1 to > 65,536, Hessian powers 1, 0.5, 0.3, the
  diagonal in the param's or the state dtype), 122 tensors in one call at three chunk lengths
  (ah4j_cuda_chunk_elements), an op-by-op AdaHessian in torch on the GPU, Adam/AdamW (amsgrad,
  maximize, decoupled) against the CPU path and against torch.optim.Adam/AdamW(fused=True),
  training steps against the Python reference AdaHessian (bench/python), launches on the current
  stream, error handling.
Benchmarks (CUDA events, medians of interleaved repeats):
  our fused Adam vs torch's fused and foreach Adam on 100M float32 params in 200 tensors; our
  AdaHessian step's and probe generator's bandwidth vs a device copy, also at several chunk
  lengths; training iterations on a ResNet-20-like net: fused Adam, AdaHessian with our kernels,
  the official AdaHessian, the HVP alone, updateEach 2 and 4, a forward-over-reverse HVP, CUDA
  graph replays (timing only), cudnn.benchmark.

  verify.py --lib LIBAH4J [--out DIR] [--cpu-only] [--fake-shim LIB] [--pretend-gpu]
            [--skip-bench] [--smoke-bench] [--only SECTION,...]
--cpu-only runs the CPU half (the checks of the library's CPU path against the numpy probes and
the op-by-op reference). --fake-shim (with an old torch that has no shim) makes handles that
bench/gpu/fake_shim.c understands: a dry run of this script's plumbing on machines without a GPU.
--only runs the named check sections and no benchmarks (run.sh's compute-sanitizer pass).
"""
import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback

import numpy as np
import torch

OK, INVALID_ARGUMENT, TORCH_ERROR, CUDA_ERROR = 0, 1, 2, 3
HP = 6
AMSGRAD, MAXIMIZE, DECOUPLED = 1, 2, 4
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INT_VIEW = {torch.float32: torch.int32, torch.float64: torch.int64, torch.float16: torch.int16,
            torch.bfloat16: torch.int16}


def state_dtype(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


# ------------------------------------------------------------------------------------------------
# The core through ctypes.

class FakeTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("numel", ctypes.c_int64), ("dim", ctypes.c_int64),
                ("sizes", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("dtype", ctypes.c_int32),
                ("device_type", ctypes.c_int32), ("device_index", ctypes.c_int32)]


FAKE_DTYPES = {torch.float16: 5, torch.float32: 6, torch.float64: 7, torch.bfloat16: 15}


class Core:
    def __init__(self, path, fake_shim=None):
        if fake_shim:
            ctypes.CDLL(fake_shim, mode=ctypes.RTLD_GLOBAL)
        self.lib = ctypes.CDLL(path)
        self.fake = fake_shim is not None
        self._keep = {}  # fake handles: address -> (struct, arrays, tensor)
        L, vp, i64, i32, dbl = (self.lib, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32,
                                ctypes.c_double)
        pp = ctypes.POINTER(vp)
        L.ah4j_last_error.restype = ctypes.c_char_p
        L.ah4j_last_error_index.restype = i64
        L.ah4j_has_cuda_kernels.restype = ctypes.c_int
        L.ah4j_cuda_chunk_elements.restype = i64
        L.ah4j_cuda_chunk_elements.argtypes = [i64]
        L.ah4j_rademacher_.argtypes = [pp, ctypes.POINTER(i64), i64, ctypes.c_uint64,
                                       ctypes.c_uint64]
        L.ah4j_hutchinson_accumulate_.argtypes = [pp, pp, pp, i64, dbl, i32]
        L.ah4j_adahessian_step_.argtypes = [pp, pp, pp, pp, pp, i64, ctypes.POINTER(i64),
                                            ctypes.POINTER(i64), ctypes.POINTER(dbl)]
        L.ah4j_adam_step_.argtypes = [pp, pp, pp, pp, pp, i64, ctypes.POINTER(i64),
                                      ctypes.POINTER(dbl), ctypes.POINTER(i32)]
        for f in ("ah4j_rademacher_", "ah4j_hutchinson_accumulate_", "ah4j_adahessian_step_",
                  "ah4j_adam_step_"):
            getattr(L, f).restype = ctypes.c_int
        if not self.fake:
            ctypes.pythonapi.PyCapsule_GetPointer.restype = vp
            ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
            L.aoti_torch_delete_tensor_object.argtypes = [vp]
        self.has_cuda = bool(L.ah4j_has_cuda_kernels())

    # Handles: new at::Tensor* sharing each tensor's storage (freed by free()), or fake ones.
    def handles(self, tensors):
        present = [t for t in tensors if t is not None]
        if self.fake:
            made = [self._fake(t) for t in present]
        else:
            caps = torch._C._aoti.unsafe_alloc_void_ptrs_from_tensors(present)
            made = [ctypes.pythonapi.PyCapsule_GetPointer(c, None) for c in caps]
        it = iter(made)
        return [next(it) if t is not None else None for t in tensors]

    def _fake(self, t):
        sizes = (ctypes.c_int64 * max(1, t.dim()))(*t.shape)
        strides = (ctypes.c_int64 * max(1, t.dim()))(*t.stride())
        f = FakeTensor(t.data_ptr(), t.numel(), t.dim(), sizes, strides,
                       FAKE_DTYPES.get(t.dtype, 99), 0 if t.device.type == "cpu" else 1,
                       t.device.index or 0)
        self._keep[ctypes.addressof(f)] = (f, sizes, strides, t)
        return ctypes.addressof(f)

    def free(self, handles):
        for h in handles:
            if h is None:
                continue
            if self.fake:
                del self._keep[h]
            else:
                self.lib.aoti_torch_delete_tensor_object(h)

    def chunk(self, elements=0):
        """Sets (elements > 0) and returns the CUDA chunk length (ah4j_cuda_chunk_elements)."""
        value = self.lib.ah4j_cuda_chunk_elements(elements)
        if value < 0:
            raise ValueError("invalid chunk length %d" % elements)
        return value

    def error(self):
        return self.lib.ah4j_last_error().decode(), self.lib.ah4j_last_error_index()


def _array(ctype, values):
    values = list(values)
    return (ctype * max(1, len(values)))(*values)


class Prepared:
    """One call of an entry point with its arguments converted once: run() calls it again."""

    def __init__(self, core, function, lists, tail):
        self.core = core
        self.handles = [core.handles(lst) for lst in lists]
        self.arrays = [_array(ctypes.c_void_p, h) for h in self.handles]
        self.function = function
        self.args = self.arrays + tail

    def run(self):
        return self.function(*self.args)

    def close(self):
        for h in self.handles:
            self.core.free(h)
        self.handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def prepare_rademacher(core, zs, ids, seed, counter):
    return Prepared(core, core.lib.ah4j_rademacher_, [zs],
                    [_array(ctypes.c_int64, ids), len(zs), seed, counter])


def prepare_hutchinson(core, diags, zs, hzs, scale, overwrite):
    return Prepared(core, core.lib.ah4j_hutchinson_accumulate_, [diags, zs, hzs],
                    [len(zs), scale, int(overwrite)])


def hyper_rows(rows):
    return _array(ctypes.c_double, [x for row in rows for x in row])


def prepare_adahessian(core, p, g, d, m, v, blocks, steps, hyper):
    return Prepared(core, core.lib.ah4j_adahessian_step_, [p, g, d, m, v],
                    [len(p), _array(ctypes.c_int64, blocks), _array(ctypes.c_int64, steps),
                     hyper_rows(hyper)])


def prepare_adam(core, p, g, m, v, vmax, steps, hyper, flags):
    return Prepared(core, core.lib.ah4j_adam_step_, [p, g, m, v, vmax],
                    [len(p), _array(ctypes.c_int64, steps), hyper_rows(hyper),
                     _array(ctypes.c_int32, flags)])


def run_once(core, prepared):
    with prepared as call:
        code = call.run()
    if code != OK:
        message, index = core.error()
        raise RuntimeError("core error %d (index %d): %s" % (code, index, message))


# ------------------------------------------------------------------------------------------------
# References.

MASK = (1 << 64) - 1


def mix64(x):
    """SplitMix64's step on numpy uint64 arrays (wrapping) or Python ints."""
    if isinstance(x, int):
        x = (x + 0x9E3779B97F4A7C15) & MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
        return x ^ (x >> 31)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def reference_probes(seed, counter, param_id, numel):
    """The generator as adahessian4j.h specifies it, written independently with numpy."""
    stream = mix64(mix64(mix64(seed) ^ counter) ^ (param_id & MASK))
    words = mix64(np.uint64(stream) ^ np.arange((numel + 63) // 64, dtype=np.uint64))
    e = np.arange(numel, dtype=np.uint64)
    bits = (words[e >> np.uint64(6)] >> (e & np.uint64(63))) & np.uint64(1)
    return np.where(bits == 1, 1.0, -1.0)


def reference_adahessian(p, g, d, m, v, block, step, lr, beta1, beta2, eps, wd, k):
    """The authors' update op by op in torch (in place on p, m, v)."""
    dabs = d.abs().to(m.dtype)
    if block > 1:
        dabs = dabs.reshape(-1, block).mean(1, keepdim=True).expand(-1, block).reshape(p.shape)
    m.mul_(beta1).add_(g.to(m.dtype), alpha=1 - beta1)
    v.mul_(beta2).addcmul_(dabs, dabs, value=1 - beta2)
    bc1 = 1 - beta1 ** step
    bc2 = 1 - beta2 ** step
    denom = (v.sqrt() ** k) / math.sqrt(bc2) ** k + eps
    pm = p.to(m.dtype)
    p.copy_(pm - lr * (m / bc1 / denom + wd * pm))


# ------------------------------------------------------------------------------------------------
# Checks.

class Report:
    def __init__(self):
        self.checks = []
        self.bench = {}

    def check(self, name, ok, detail=""):
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""),
              flush=True)

    def failed(self):
        return sum(1 for c in self.checks if not c["ok"])


def same_bits(a, b):
    a, b = a.detach().cpu().contiguous(), b.detach().cpu().contiguous()
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(a.view(INT_VIEW[a.dtype]), b.view(INT_VIEW[b.dtype]))


def max_rel(a, b):
    """max |a - b| / |b| (|b| at least 1e-3, so values near 0 do not dominate)."""
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    if a.numel() == 0:
        return 0.0
    return float(((a - b).abs() / b.abs().clamp_min(1e-3)).max())


def close(a, b, rtol, atol=0.0):
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def rand(shape, dtype, seed, scale=1.0, positive=False):
    gen = torch.Generator().manual_seed(seed)
    t = torch.rand(shape, generator=gen, dtype=torch.float64)
    t = t + 0.1 if positive else (t * 2 - 1)
    return (t * scale).to(dtype)


# Device labels of the checks -> torch devices. --pretend-gpu maps "cuda" to the cpu: a dry run of
# the two-device comparisons on machines without a GPU (they then compare the CPU with itself).
DEVICE = {"cuda": "cuda", "cpu": "cpu"}


def on(label):
    return DEVICE[label]


def copies(tensors, device):
    return [None if t is None else t.to(on(device)).clone() for t in tensors]


def check_probes(core, report, devices):
    shapes = [(0,), (1,), (63,), (64,), (65,), (2047,), (2049,), (3, 7, 11), (65536 + 5,),
              (300001,)] * 6  # 60 tensors: more than one launch holds
    ids = [3 * i + 1 for i in range(len(shapes))]
    seed, counter = 0x1234_5678_9ABC_DEF0, 7
    for dtype in DTYPES:
        out = {}
        for device in devices:
            zs = [torch.full(s, 5.0, dtype=dtype, device=on(device)) for s in shapes]
            run_once(core, prepare_rademacher(core, zs, ids, seed, counter))
            out[device] = zs
        ref_ok = all(np.array_equal(z.double().cpu().numpy().ravel(),
                                    reference_probes(seed, counter, i, z.numel()))
                     for z, i in zip(out[devices[0]][:10], ids[:10]))
        report.check("probes %s: %s equal the numpy generator" % (dtype_name(dtype), devices[0]),
                     ref_ok)
        if len(devices) > 1:
            report.check("probes %s: cuda == cpu, bit for bit (60 tensors)" % dtype_name(dtype),
                         all(same_bits(a, b) for a, b in zip(out["cuda"], out["cpu"])))


def check_hutchinson(core, report, devices):
    shapes = [(0,), (5,), (1000,), (65536 * 2 + 3,), (17, 31)] * 12
    for dtype in DTYPES:
        for overwrite in (0, 1):
            zs = [rand(s, dtype, 10 + i) for i, s in enumerate(shapes)]
            hzs = [rand(s, dtype, 100 + i) for i, s in enumerate(shapes)]
            ds = [rand(s, state_dtype(dtype), 200 + i) for i, s in enumerate(shapes)]
            out = {}
            for device in devices:
                d = copies(ds, device)
                run_once(core, prepare_hutchinson(core, d, copies(zs, device), copies(hzs, device),
                                                  1 / 3, overwrite))
                out[device] = d
            if len(devices) > 1:
                report.check("hutchinson %s overwrite=%d: cuda == cpu, bit for bit"
                             % (dtype_name(dtype), overwrite),
                             all(same_bits(a, b) for a, b in zip(out["cuda"], out["cpu"])))
            exp = [((0 if overwrite else d.double()) + z.double() * h.double() / 3)
                   for d, z, h in zip(ds, zs, hzs)]
            report.check("hutchinson %s overwrite=%d: cpu equals z*hz*scale"
                         % (dtype_name(dtype), overwrite),
                         all(close(a, b, 1e-2 if dtype in (torch.float16, torch.bfloat16) else 1e-6,
                                   1e-3) for a, b in zip(out["cpu"], exp)))


# (shape, block): every way the kernel forms block means.
ADAHESSIAN_CASES = [
    ((1000,), 1), ((0, 3), 1), ((5,), 5), ((64, 3, 3, 3), 9), ((16, 5, 5), 25), ((128, 64), 64),
    ((130, 65), 65), ((8, 4096), 4096), ((3, 70000), 70000), ((2, 100003), 200006),
    ((4096 * 20,), 2), ((7, 3, 3), 9),
]
POWERS = [1.0, 0.5, 0.3]


def adahessian_inputs(dtype, d_state, cases, seed):
    p = [rand(s, dtype, seed + i) for i, (s, _) in enumerate(cases)]
    m = [rand(s, state_dtype(dtype), seed + 50 + i, 0.1) for i, (s, _) in enumerate(cases)]
    v = [rand(s, state_dtype(dtype), seed + 90 + i, 0.01, positive=True)
         for i, (s, _) in enumerate(cases)]
    return p, m, v


def adahessian_hyper(n):
    return [[0.15 / (1 + i % 3), 0.9, 0.999, 1e-4, 1e-2 if i % 2 else 0.0, POWERS[i % 3]]
            for i in range(n)]


def check_adahessian(core, report, devices):
    for dtype in DTYPES:
        for d_state in ((False, True) if dtype in (torch.float16, torch.bfloat16) else (False,)):
            cases = ADAHESSIAN_CASES
            n = len(cases)
            blocks = [b for _, b in cases]
            hyper = adahessian_hyper(n)
            p0, m0, v0 = adahessian_inputs(dtype, d_state, cases, 1000)
            state = {dev: (copies(p0, dev), copies(m0, dev), copies(v0, dev)) for dev in devices}
            d_dtype = state_dtype(dtype) if d_state else dtype
            for step in range(1, 4):
                g = [rand(s, dtype, 5000 + 37 * step + i) for i, (s, _) in enumerate(cases)]
                d = [rand(s, d_dtype, 7000 + 37 * step + i, 3.0) for i, (s, _) in enumerate(cases)]
                steps = [step + i % 4 for i in range(n)]
                for dev in devices:
                    p, m, v = state[dev]
                    run_once(core, prepare_adahessian(core, p, copies(g, dev), copies(d, dev), m, v,
                                                      blocks, steps, hyper))
            label = "adahessian %s d=%s" % (dtype_name(dtype), dtype_name(d_dtype))
            if len(devices) > 1:
                exact, near, worst = True, True, 0.0
                for i in range(n):
                    bitwise = POWERS[i % 3] in (1.0, 0.5) and blocks[i] <= 64
                    for a, b in zip((x[i] for x in state["cuda"]), (x[i] for x in state["cpu"])):
                        if bitwise:
                            exact &= same_bits(a, b)
                        else:
                            rtol = {torch.float64: 1e-12, torch.float32: 1e-5}.get(a.dtype, 1e-2)
                            near &= close(a, b, rtol, 1e-6)
                            worst = max(worst, max_rel(a, b))
                report.check(label + ": cuda == cpu bit for bit (k 1, 0.5; blocks <= 64)", exact)
                report.check(label + ": cuda ~ cpu (k 0.3; blocks > 64)", near,
                             "max rel diff %.2e" % worst)
            # Against the op-by-op reference, on the first device (float32/float64 only).
            if dtype in (torch.float32, torch.float64) and not d_state:
                dev = devices[0]
                p, m, v = copies(p0, dev), copies(m0, dev), copies(v0, dev)
                for step in range(1, 4):
                    g = copies([rand(s, dtype, 5000 + 37 * step + i)
                                for i, (s, _) in enumerate(cases)], dev)
                    d = copies([rand(s, dtype, 7000 + 37 * step + i, 3.0)
                                for i, (s, _) in enumerate(cases)], dev)
                    for i in range(n):
                        h = hyper[i]
                        reference_adahessian(p[i], g[i], d[i], m[i], v[i], blocks[i], step + i % 4,
                                             h[0], h[1], h[2], h[3], h[4], h[5])
                rtol, atol = (1e-5, 1e-7) if dtype == torch.float32 else (1e-10, 1e-13)
                ok = all(close(a, b, rtol, atol) for a, b in zip(state[dev][0], p))
                worst = max(max_rel(a, b) for a, b in zip(state[dev][0], p))
                report.check("adahessian %s on %s equals the op-by-op torch reference"
                             % (dtype_name(dtype), dev), ok, "max rel diff %.2e" % worst)


def check_adahessian_many(core, report, devices):
    """122 tensors in one call (two of over 20M elements, one in blocks of 9): several launches,
    split tensors, at three chunk lengths."""
    if len(devices) < 2:
        return
    # Every third small tensor and one large one in blocks of 9: block-averaged tensors split
    # over chunks and launches too.
    shapes = ([((999 + 18 * i) if i % 3 == 0 else (1000 + 17 * i),) for i in range(120)]
              + [(65536 * 330 + 64,), (9 * 65536 * 40,)])
    blocks = [9 if i % 3 == 0 else 1 for i in range(120)] + [1, 9]
    n = len(shapes)
    hyper = [[0.1, 0.9, 0.999, 1e-4, 0.0, 1.0]] * n
    p0 = [rand(s, torch.float32, 300 + i) for i, s in enumerate(shapes)]
    g = [rand(s, torch.float32, 600 + i) for i, s in enumerate(shapes)]
    d = [rand(s, torch.float32, 900 + i) for i, s in enumerate(shapes)]
    default = core.chunk()
    try:
        for chunk in (1024, default, 65536):
            core.chunk(chunk)
            out = {}
            for dev in devices:
                p = copies(p0, dev)
                m = [torch.zeros(s, device=on(dev)) for s in shapes]
                v = [torch.zeros(s, device=on(dev)) for s in shapes]
                run_once(core, prepare_adahessian(core, p, copies(g, dev), copies(d, dev), m, v,
                                                  blocks, [1] * n, hyper))
                out[dev] = p
            report.check("adahessian float32, 122 tensors (21.6M elements in one, 23.6M in blocks "
                         "of 9 in another), chunks of %d: cuda == cpu bit for bit" % chunk,
                         all(same_bits(a, b) for a, b in zip(out["cuda"], out["cpu"])))
            zs = {dev: [torch.empty(s, device=on(dev)) for s in shapes] for dev in devices}
            for dev in devices:
                run_once(core, prepare_rademacher(core, zs[dev], list(range(n)), 5, 9))
            report.check("probes, the same 122 tensors, chunks of %d: cuda == cpu bit for bit"
                         % chunk,
                         all(same_bits(a, b) for a, b in zip(zs["cuda"], zs["cpu"])))
    finally:
        core.chunk(default)


ADAM_SHAPES = [(0,), (1,), (1000,), (65536 + 3,), (33, 65), (4, 3, 3, 3)]


def adam_run(core, dtype, device, flags, steps_count, wd=1e-2, lr=1e-2):
    n = len(ADAM_SHAPES)
    p = copies([rand(s, dtype, 40 + i) for i, s in enumerate(ADAM_SHAPES)], device)
    m = [torch.zeros(s, dtype=state_dtype(dtype), device=on(device)) for s in ADAM_SHAPES]
    v = [torch.zeros(s, dtype=state_dtype(dtype), device=on(device)) for s in ADAM_SHAPES]
    x = [torch.zeros(s, dtype=state_dtype(dtype), device=on(device)) if f & AMSGRAD else None
         for s, f in zip(ADAM_SHAPES, flags)]
    hyper = [[lr, 0.9, 0.999, 1e-8, wd, 0.0]] * n
    for step in range(1, steps_count + 1):
        g = copies([rand(s, dtype, 70 + 13 * step + i) for i, s in enumerate(ADAM_SHAPES)], device)
        run_once(core, prepare_adam(core, p, g, m, v, x, [step] * n, hyper, flags))
    return p, m, v, x


def check_adam(core, report, devices):
    n = len(ADAM_SHAPES)
    for dtype in DTYPES:
        for flag in range(8):
            flags = [flag] * n
            if len(devices) > 1:
                a = adam_run(core, dtype, "cuda", flags, 5)
                b = adam_run(core, dtype, "cpu", flags, 5)
                ok = all(same_bits(x, y) for xs, ys in zip(a, b) for x, y in zip(xs, ys)
                         if x is not None)
                report.check("adam %s flags=%d: cuda == cpu bit for bit"
                             % (dtype_name(dtype), flag), ok)
        if len(devices) > 1:
            flags = [i % 8 for i in range(n)]
            a = adam_run(core, dtype, "cuda", flags, 3)
            b = adam_run(core, dtype, "cpu", flags, 3)
            report.check("adam %s, mixed flags in one call: cuda == cpu bit for bit"
                         % dtype_name(dtype),
                         all(same_bits(x, y) for xs, ys in zip(a, b) for x, y in zip(xs, ys)
                             if x is not None))


def check_adam_vs_torch(core, report, device):
    """Our Adam/AdamW against torch.optim's (fused=True on cuda; the default on cpu)."""
    fused = on(device) == "cuda"
    for dtype in (torch.float32, torch.float64):
        for name, cls, flags, wd in (("Adam", torch.optim.Adam, 0, 0.0),
                                     ("Adam wd amsgrad", torch.optim.Adam, AMSGRAD, 1e-2),
                                     ("AdamW", torch.optim.AdamW, DECOUPLED, 1e-2),
                                     ("AdamW amsgrad maximize", torch.optim.AdamW,
                                      DECOUPLED | AMSGRAD | MAXIMIZE, 1e-2)):
            steps = 20
            ours = adam_run(core, dtype, device, [flags] * len(ADAM_SHAPES), steps, wd=wd)[0]
            params = [torch.nn.Parameter(rand(s, dtype, 40 + i).to(on(device)))
                      for i, s in enumerate(ADAM_SHAPES)]
            kwargs = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd,
                          amsgrad=bool(flags & AMSGRAD), maximize=bool(flags & MAXIMIZE))
            if fused:
                kwargs["fused"] = True
            opt = cls(params, **kwargs)
            for step in range(1, steps + 1):
                for i, (prm, s) in enumerate(zip(params, ADAM_SHAPES)):
                    prm.grad = rand(s, dtype, 70 + 13 * step + i).to(on(device))
                opt.step()
            rtol, atol = (1e-5, 1e-6) if dtype == torch.float32 else (1e-10, 1e-12)
            worst = max(max_rel(a, b) for a, b in zip(ours, params))
            report.check("adam %s %s equals torch.optim.%s(%s) after %d steps"
                         % (dtype_name(dtype), name, cls.__name__, "fused=True" if fused else "",
                            steps),
                         all(close(a, b, rtol, atol) for a, b in zip(ours, params)),
                         "max rel diff %.2e" % worst)


def check_stream(core, report):
    """Our kernels run on torch's current stream: queued behind a sleep on a side stream."""
    side = torch.cuda.Stream()
    n = 1 << 20
    p = torch.zeros(n, device="cuda")
    g = torch.ones(n, device="cuda")
    m = torch.zeros(n, device="cuda")
    v = torch.zeros(n, device="cuda")
    torch.cuda.synchronize()
    call = prepare_adam(core, [p], [g], [m], [v], [None], [1], [[0.5, 0.9, 0.999, 1e-8, 0.0, 0]],
                        [0])
    with torch.cuda.stream(side):
        torch.cuda._sleep(200_000_000)  # a few hundred ms of GPU time on `side`
        code = call.run()
    early = p.clone()  # on the default stream, not ordered after `side`
    pending = not side.query()
    side.synchronize()
    torch.cuda.synchronize()
    call.close()
    report.check("kernels are launched on torch's current stream", code == OK and pending
                 and bool((early == 0).all()) and bool(((p + 0.5).abs() < 1e-5).all()),
                 "code %d, side stream busy after the call: %s, p before: %g, after: %g"
                 % (code, pending, early[0].item(), p[0].item()))


def check_errors(core, report):
    p = [torch.zeros(4, device="cuda"), torch.zeros(4)]
    g = [torch.zeros(4, device="cuda"), torch.zeros(4)]
    m = [torch.zeros(4, device="cuda"), torch.zeros(4)]
    with prepare_adam(core, p, g, m, m, [None, None], [1, 1], [[0.1, 0.9, 0.999, 1e-8, 0, 0]] * 2,
                      [0, 0]) as call:
        code = call.run()
    message, index = core.error()
    report.check("cpu and cuda tensors in one call are rejected", code == INVALID_ARGUMENT
                 and index == 1 and "one device" in message, message)
    with prepare_adam(core, p[:1], [g[1]], m[:1], m[:1], [None], [1],
                      [[0.1, 0.9, 0.999, 1e-8, 0, 0]], [0]) as call:
        code = call.run()
    message, index = core.error()
    report.check("a cpu grad for a cuda param is rejected", code == INVALID_ARGUMENT
                 and "grads" in message and "cuda:0" in message, message)


def reference_module():
    """bench/python/adahessian_reference.py: the Python reference the Java suite is checked
    against."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import adahessian_reference
    return adahessian_reference


def parity_model(dtype, dev):
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 6, 3)).to(device=dev, dtype=dtype)


def check_reference_training(core, report, device, steps=10):
    """Training on `device` with our kernels (probes, Hutchinson accumulation, fused step), as the
    Java AdaHessian does it, against the Python reference's AdaHessian (counter probes, official
    block averaging) from the same initial weights: loss and params after every step."""
    ref = reference_module()
    dev = on(device)
    deterministic = torch.backends.cudnn.deterministic
    torch.backends.cudnn.deterministic = True
    try:
        for dtype in (torch.float32, torch.float64):
            gen = torch.Generator().manual_seed(11)
            x = torch.randn(16, 2, 8, 8, generator=gen,
                            dtype=torch.float64).to(device=dev, dtype=dtype)
            y = torch.randint(0, 3, (16,), generator=gen).to(dev)
            loss_fn = torch.nn.CrossEntropyLoss()
            lr, wd = 0.05, 1e-3
            model_ref = parity_model(dtype, dev)
            opt = ref.AdaHessian(model_ref.parameters(), lr=lr, weight_decay=wd)
            model = parity_model(dtype, dev)
            params = list(model.parameters())
            n = len(params)
            data = [p.detach() for p in params]
            m = [torch.zeros_like(p) for p in data]
            v = [torch.zeros_like(p) for p in data]
            diags = [torch.zeros_like(p) for p in data]
            zs = [torch.empty_like(p) for p in data]
            blocks = [official_blocks(p) for p in data]
            hyper = [[lr, 0.9, 0.999, 1e-4, wd, 1.0]] * n
            rtol, atol = (5e-5, 1e-7) if dtype == torch.float32 else (1e-10, 1e-14)
            ok, worst, worst_loss = True, 0.0, 0.0
            for step in range(1, steps + 1):
                loss_ref = opt.step(lambda: loss_fn(model_ref(x), y))
                loss = loss_fn(model(x), y)
                grads = torch.autograd.grad(loss, params, create_graph=True)
                run_once(core, prepare_rademacher(core, zs, list(range(n)), ref.DEFAULT_SEED,
                                                  step - 1))
                hzs = torch.autograd.grad(grads, params, grad_outputs=zs)
                run_once(core, prepare_hutchinson(core, diags, zs, [h.contiguous() for h in hzs],
                                                  1.0, True))
                run_once(core, prepare_adahessian(core, data,
                                                  [g.detach().contiguous() for g in grads],
                                                  diags, m, v, blocks, [step] * n, hyper))
                worst_loss = max(worst_loss,
                                 abs(loss.item() - loss_ref.item()) / abs(loss_ref.item()))
                ok &= close(loss.detach(), loss_ref.detach(), rtol, atol)
                for a, b in zip(data, model_ref.parameters()):
                    ok &= close(a, b, rtol, atol)
                    worst = max(worst, max_rel(a, b))
            report.check("training %s on %s (conv + linear, %d steps) equals the Python reference "
                         "AdaHessian, loss and params every step"
                         % (dtype_name(dtype), device, steps),
                         ok, "max rel diff params %.2e, loss %.2e" % (worst, worst_loss))
    finally:
        torch.backends.cudnn.deterministic = deterministic


# ------------------------------------------------------------------------------------------------
# Benchmarks.

def timed(fns, iters, repeats=7, warmup=3, device="cuda"):
    """Median ms per call of each function, interleaved: repeats x (each fn iters times); CUDA
    events on cuda (the GPU's time for the calls, back to back), the wall clock on cpu."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if cuda:
                start, end = (torch.cuda.Event(enable_timing=True),
                              torch.cuda.Event(enable_timing=True))
                start.record()
            else:
                began = time.perf_counter()
            for _ in range(iters):
                fn()
            if cuda:
                end.record()
                end.synchronize()
                times[name].append(start.elapsed_time(end) / iters)
            else:
                times[name].append((time.perf_counter() - began) * 1e3 / iters)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_steps(core, report, total=100_000_000, tensors=200, dev="cuda"):
    each = total // tensors
    total = each * tensors
    iters = 20 if dev == "cuda" else 2
    params = [torch.randn(each, device=dev) for _ in range(tensors)]
    grads = [torch.randn(each, device=dev) for _ in range(tensors)]
    m = [torch.zeros(each, device=dev) for _ in range(tensors)]
    v = [torch.zeros(each, device=dev) for _ in range(tensors)]
    hyper = [[1e-3, 0.9, 0.999, 1e-8, 0.0, 1.0]] * tensors
    adam = prepare_adam(core, params, grads, m, v, [None] * tensors, [10] * tensors, hyper,
                        [0] * tensors)

    torch_params = [torch.nn.Parameter(p.clone()) for p in params]
    for p, g in zip(torch_params, grads):
        p.grad = g.clone()
    fused = torch.optim.Adam(torch_params, lr=1e-3, **({"fused": True} if dev == "cuda" else {}))
    foreach_params = [torch.nn.Parameter(p.clone()) for p in params]
    for p, g in zip(foreach_params, grads):
        p.grad = g.clone()
    foreach = torch.optim.Adam(foreach_params, lr=1e-3, foreach=dev == "cuda")
    fused.step()
    foreach.step()  # state allocated

    src = torch.randn(total, device=dev)
    dst = torch.empty_like(src)
    res = timed({"ours": adam.run, "torch fused": fused.step, "torch foreach": foreach.step,
                 "copy": lambda: dst.copy_(src)}, iters=iters, device=dev)
    copy_gbs = 8 * total / res["copy"] / 1e6
    adam_bytes = 28 * total
    report.bench["copy_100M_fp32"] = {"ms": res["copy"], "GB/s": copy_gbs}
    report.bench["adam_100M_in_200"] = {
        "ours_ms": res["ours"], "torch_fused_ms": res["torch fused"],
        "torch_foreach_ms": res["torch foreach"],
        "ours_vs_fused": res["ours"] / res["torch fused"],
        "ours_GB/s": adam_bytes / res["ours"] / 1e6,
        "torch_fused_GB/s": adam_bytes / res["torch fused"] / 1e6}
    print("copy %d fp32: %.3f ms, %.0f GB/s" % (total, res["copy"], copy_gbs))
    print("Adam %d fp32 in %d tensors: ours %.3f ms, torch fused %.3f ms (ours/fused %.2fx), "
          "foreach %.3f ms" % (total, tensors, res["ours"], res["torch fused"],
                               res["ours"] / res["torch fused"], res["torch foreach"]))
    del torch_params, foreach_params, fused, foreach

    # AdaHessian: block 1 (k 1 and 0.5) and block 9 (conv kernels), 32 bytes per parameter.
    d = [torch.randn(each // 9 * 9, device=dev) for _ in range(tensors)]
    n9 = each // 9 * 9
    calls = {}
    for label, blocks, k, shape in (("block 1, k 1", 1, 1.0, each),
                                    ("block 1, k 0.5", 1, 0.5, each),
                                    ("block 9, k 1", 9, 1.0, n9)):
        ps = [p[:shape] for p in params]
        calls[label] = prepare_adahessian(
            core, ps, [x[:shape] for x in grads], [x[:shape] for x in d] if shape == n9 else grads,
            [x[:shape] for x in m], [x[:shape] for x in v], [blocks] * tensors, [10] * tensors,
            [[0.15, 0.9, 0.999, 1e-4, 0.0, k]] * tensors)
    zs = [torch.empty(each, device=dev) for _ in range(tensors)]
    probes = prepare_rademacher(core, zs, list(range(tensors)), 42, 1)
    fns = {label: c.run for label, c in calls.items()}
    fns["probes"] = probes.run
    fns["copy"] = lambda: dst.copy_(src)
    res = timed(fns, iters=iters, device=dev)
    copy_gbs = 8 * total / res["copy"] / 1e6
    print("copy %d fp32 (this round): %.3f ms, %.0f GB/s" % (total, res["copy"], copy_gbs))
    for label in calls:
        gbs = 32 * total / res[label] / 1e6
        report.bench["adahessian_100M_in_200 " + label] = {
            "ms": res[label], "GB/s": gbs, "of_copy": gbs / copy_gbs}
        print("AdaHessian step %d fp32 in %d tensors, %s: %.3f ms, %.0f GB/s, %.0f%% of copy"
              % (total, tensors, label, res[label], gbs, 100 * gbs / copy_gbs))
    gbs = 4 * total / res["probes"] / 1e6
    report.bench["probes_100M_fp32"] = {"ms": res["probes"], "GB/s (writes)": gbs}
    print("probes %d fp32: %.3f ms, %.0f GB/s written" % (total, res["probes"], gbs))

    # Chunk lengths (elements per CUDA block; ah4j_cuda_chunk_elements), interleaved.
    default = core.chunk()
    if dev == "cuda":
        def at(chunk, fn):
            return lambda: (core.chunk(chunk), fn())

        kinds = {"adam": adam.run, "adahessian block 1": calls["block 1, k 1"].run,
                 "adahessian block 9": calls["block 9, k 1"].run, "probes": probes.run}
        chunks = (65536, 32768, 16384, 8192, 4096)
        fns = {"copy": lambda: dst.copy_(src)}
        for chunk in chunks:
            for kind, fn in kinds.items():
                fns["%s @%d" % (kind, chunk)] = at(chunk, fn)
        try:
            res = timed(fns, iters=iters, device=dev)
        finally:
            core.chunk(default)
        copy_gbs = 8 * total / res["copy"] / 1e6
        bytes_per = {"adam": 28, "adahessian block 1": 32, "adahessian block 9": 32, "probes": 4}
        sweep = {"copy_GB/s": copy_gbs, "default": default}
        print("chunk length sweep (copy %.0f GB/s this round): ms (%% of copy)" % copy_gbs)
        for kind in kinds:
            row = {}
            for chunk in chunks:
                ms = res["%s @%d" % (kind, chunk)]
                row[str(chunk)] = {"ms": ms,
                                   "of_copy": bytes_per[kind] * total / ms / 1e6 / copy_gbs}
            sweep[kind] = row
            print("  %-20s %s" % (kind, "  ".join(
                "%d: %.3f (%.0f%%)" % (c, row[str(c)]["ms"], 100 * row[str(c)]["of_copy"])
                for c in chunks)))
        report.bench["chunk_sweep_100M_in_200"] = sweep
    adam.close()
    for c in calls.values():
        c.close()
    probes.close()


class Block(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = torch.nn.BatchNorm2d(cout)
        self.c2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = torch.nn.BatchNorm2d(cout)
        self.skip = (torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                         torch.nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else torch.nn.Identity())

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        return torch.relu(self.b2(self.c2(y)) + self.skip(x))


def small_resnet():
    """A ResNet-20-like CIFAR net (16/32/64 channels, 3 blocks per stage; softplus-free ReLU)."""
    layers = [torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(16),
              torch.nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for b in range(3):
            layers.append(Block(cin, cout, stride if b == 0 else 1))
            cin = cout
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10)]
    return torch.nn.Sequential(*layers)


def official_blocks(p):
    """BlockAveraging.OFFICIAL: the spatial mean of 4-D conv kernels, no averaging otherwise."""
    return p.shape[2] * p.shape[3] if p.dim() == 4 else 1


def graphed(fn, warmup=3):
    """fn captured as a CUDA graph (after warm-up on a side stream): returns its replay."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def bench_resnet(core, report, iters=32, dev="cuda", batch=128, extras=True):
    """Training iterations on a ResNet-20-like net, interleaved: torch's fused Adam; AdaHessian
    with our kernels (double-backward HVP); the Python reference AdaHessian as the authors run it
    (torch RNG probes, op-by-op update); the HVP alone (forward, grad, grad of grad, no update);
    and our kernels with the HVP as forward-over-reverse (torch.func.jvp of grad), if it runs."""
    ref = reference_module()
    torch.manual_seed(0)
    cuda = dev == "cuda"
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    loss_fn = torch.nn.CrossEntropyLoss()

    adam_model = small_resnet().to(dev)
    adam = torch.optim.Adam(adam_model.parameters(), lr=1e-3, **({"fused": True} if cuda else {}))

    def adam_iteration():
        adam.zero_grad(set_to_none=True)
        loss_fn(adam_model(x), y).backward()
        adam.step()

    official_model = small_resnet().to(dev)
    official = ref.AdaHessian(official_model.parameters(), lr=0.15, weight_decay=5e-4,
                              probes="torch")

    def official_iteration():
        official.step(lambda: loss_fn(official_model(x), y))

    model = small_resnet().to(dev)
    params = [p for p in model.parameters()]
    n = len(params)
    zs = [torch.empty_like(p) for p in params]
    blocks = [official_blocks(p) for p in params]
    hyper = [[0.15, 0.9, 0.999, 1e-4, 5e-4, 1.0]] * n
    probes = prepare_rademacher(core, zs, list(range(n)), 42, 0)
    cleanup = []

    def fused_step(net):
        """Our fused AdaHessian step for `net`'s params: step(grads, hzs); step.done[0] counts
        the steps taken (each variant its own: its step count and its probe draw counter)."""
        data = [p.detach() for p in net.parameters()]
        m = [torch.zeros_like(p) for p in data]
        v = [torch.zeros_like(p) for p in data]
        p_handles, m_handles, v_handles = core.handles(data), core.handles(m), core.handles(v)
        cleanup.extend([p_handles, m_handles, v_handles])

        def step(grads, hzs):
            # One sample: D = z * Hz, whose |.| is |Hz| (Rademacher z); the core takes Hz itself.
            step.done[0] += 1
            gh = core.handles([t.detach().contiguous() for t in grads])
            dh = core.handles([t.contiguous() for t in hzs])
            code = core.lib.ah4j_adahessian_step_(
                _array(ctypes.c_void_p, p_handles), _array(ctypes.c_void_p, gh),
                _array(ctypes.c_void_p, dh), _array(ctypes.c_void_p, m_handles),
                _array(ctypes.c_void_p, v_handles), n, _array(ctypes.c_int64, blocks),
                _array(ctypes.c_int64, [step.done[0]] * n), hyper_rows(hyper))
            core.free(gh)
            core.free(dh)
            if code != OK:
                raise RuntimeError(core.error())
        step.done = [0]
        return step

    def hvp(net, ps, draws):
        loss = loss_fn(net(x), y)
        grads = torch.autograd.grad(loss, ps, create_graph=True)
        probes.args[-1] = draws  # the draw counter
        probes.run()
        return grads, torch.autograd.grad(grads, ps, grad_outputs=zs)

    def adahessian_iteration_for(net):
        ps, step = list(net.parameters()), fused_step(net)
        return lambda: step(*hvp(net, ps, step.done[0]))

    adahessian_iteration = adahessian_iteration_for(model)

    def adahessian_every(net, k):
        """updateEach k: the HVP every k-th iteration, its estimate reused in between."""
        ps, step = list(net.parameters()), fused_step(net)
        held = {"i": 0, "hzs": None}

        def iteration():
            if held["i"] % k == 0:
                grads, held["hzs"] = hvp(net, ps, held["i"] // k)
            else:
                grads = torch.autograd.grad(loss_fn(net(x), y), ps)
            held["i"] += 1
            step(grads, held["hzs"])
        return iteration

    hvp_model = small_resnet().to(dev)
    hvp_params = list(hvp_model.parameters())

    def hvp_only_iteration():
        hvp(hvp_model, hvp_params, 0)

    fns = {"adam": adam_iteration, "adahessian": adahessian_iteration,
           "official": official_iteration, "hvp only": hvp_only_iteration,
           "adahessian, HVP every 2": adahessian_every(small_resnet().to(dev), 2),
           "adahessian, HVP every 4": adahessian_every(small_resnet().to(dev), 4)}

    # Forward-over-reverse HVP: grad of the loss, pushed forward along z (torch.func). BatchNorm's
    # running statistics cannot be updated inside the transform, so that model's BatchNorms use
    # batch statistics without tracking (the same arithmetic in training mode).
    try:
        if not extras:
            raise NotImplementedError("not run at this batch size")
        from torch.func import functional_call, grad, jvp, replace_all_batch_norm_modules_
        fwd_model = small_resnet().to(dev)
        replace_all_batch_norm_modules_(fwd_model)
        fwd_model.load_state_dict(model.state_dict(), strict=False)
        names = [name for name, _ in fwd_model.named_parameters()]
        buffers = dict(fwd_model.named_buffers())
        fwd_data = [p.detach() for p in fwd_model.parameters()]
        fwd_step = fused_step(fwd_model)

        def loss_of(ps):
            return loss_fn(functional_call(fwd_model, ({**dict(zip(names, ps)), **buffers},),
                                           (x,)), y)

        def fwd_iteration():
            probes.args[-1] = fwd_step.done[0]
            probes.run()
            grads, hzs = jvp(grad(loss_of), (tuple(fwd_data),), (tuple(zs),))
            fwd_step(grads, hzs)

        fwd_iteration()
        fns["adahessian fwd-over-rev"] = fwd_iteration
    except NotImplementedError:
        pass
    except Exception as e:  # reported, not fatal: an experiment, not a check
        print("forward-over-reverse HVP did not run: %s: %s" % (type(e).__name__, e))
        report.bench["resnet20_batch%d_fwd_over_rev_error" % batch] = "%s: %s" % (
            type(e).__name__, e)

    # Whole iterations replayed as CUDA graphs (no launch overhead, no Python): Adam with
    # capturable fused Adam, AdaHessian with our kernels. Timing only: the replayed AdaHessian
    # reuses the probe counter and step count baked in at capture (a real graphed AdaHessian
    # would read them from device memory).
    if cuda and extras:
        try:
            graph_adam_model = small_resnet().to(dev)
            graph_adam = torch.optim.Adam(graph_adam_model.parameters(), lr=1e-3, fused=True,
                                          capturable=True)

            def graph_adam_iteration():
                graph_adam.zero_grad(set_to_none=True)
                loss_fn(graph_adam_model(x), y).backward()
                graph_adam.step()

            fns["adam (CUDA graph)"] = graphed(graph_adam_iteration)
            fns["adahessian (CUDA graph)"] = graphed(
                adahessian_iteration_for(small_resnet().to(dev)))
        except Exception as e:  # an experiment, not a check
            traceback.print_exc()
            print("CUDA graph capture did not run: %s: %s" % (type(e).__name__, e))
            report.bench["resnet20_batch%d_cuda_graph_error" % batch] = "%s: %s" % (
                type(e).__name__, e)

    peaks = {}
    for name, fn in fns.items():
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        timed({name: fn}, iters=iters, repeats=1, device=dev)
        # A graph's memory pool was allocated at capture, before the reset: no peak for those.
        graph = "CUDA graph" in name
        peaks[name] = (torch.cuda.max_memory_allocated() / 2 ** 20 if cuda and not graph
                       else float("nan"))
    res = timed(fns, iters=iters, repeats=5, device=dev)  # interleaved, for the ratios
    entry = {"batch": batch, "params": sum(p.numel() for p in params)}
    for name in fns:
        entry[name + "_ms"] = res[name]
        entry[name + "_vs_adam"] = res[name] / res["adam"]
        entry[name + "_peak_MiB"] = peaks[name]
    report.bench["resnet20_cifar_batch%d" % batch] = entry
    print("ResNet-20-like (%d params), batch %d, 32x32, ms/iteration (x Adam's), peak MiB:"
          % (entry["params"], batch))
    for name in fns:
        print("  %-24s %8.2f ms  %5.2fx  %6.0f MiB"
              % (name, res[name], res[name] / res["adam"], peaks[name]))
    # the same eager iterations with cuDNN's autotuner on (it may pick faster algorithms)
    if cuda and extras:
        torch.backends.cudnn.benchmark = True
        try:
            eager = {k: fns[k] for k in ("adam", "adahessian", "official", "hvp only")}
            res = timed(eager, iters=iters, repeats=5, device=dev)
        finally:
            torch.backends.cudnn.benchmark = False
        tuned = {}
        print("the same with torch.backends.cudnn.benchmark = True:")
        for name in eager:
            tuned[name + "_ms"] = res[name]
            tuned[name + "_vs_adam"] = res[name] / res["adam"]
            print("  %-24s %8.2f ms  %5.2fx" % (name, res[name], res[name] / res["adam"]))
        report.bench["resnet20_cifar_batch%d_cudnn_benchmark" % batch] = tuned
    probes.close()
    for handles in cleanup:
        core.free(handles)


# ------------------------------------------------------------------------------------------------

def run_section(report, name, fn, *fn_args):
    """Runs one section; an exception in it is a failed check, and the next section runs."""
    try:
        fn(*fn_args)
    except Exception as e:
        traceback.print_exc()
        report.check("%s: ran to the end" % name, False, "%s: %s" % (type(e).__name__, e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--out", default=os.environ.get(
        "OUT", os.path.join(os.path.dirname(__file__), "results")))
    ap.add_argument("--cpu-only", action="store_true")
    ap.add_argument("--fake-shim")
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--pretend-gpu", action="store_true",
                    help="run the cuda-vs-cpu comparisons with the cpu in place of the GPU "
                         "(a dry run)")
    ap.add_argument("--only", help="comma-separated check sections to run (e.g. probes,adam); "
                                   "no benchmarks")
    ap.add_argument("--smoke-bench", action="store_true",
                    help="run the benchmarks' code on the cpu at a tiny size (a dry run)")
    args = ap.parse_args()

    torch.set_num_threads(max(1, min(16, os.cpu_count() or 1)))
    core = Core(args.lib, args.fake_shim)
    cuda = torch.cuda.is_available() and not args.cpu_only
    devices = ["cuda", "cpu"] if cuda or args.pretend_gpu else ["cpu"]
    if args.pretend_gpu:
        DEVICE["cuda"] = "cpu"
    info = {"torch": torch.__version__, "python": platform.python_version(),
            "device": torch.cuda.get_device_name(0) if cuda else "cpu only",
            "core_has_cuda_kernels": core.has_cuda, "threads": torch.get_num_threads(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    print(json.dumps(info))
    report = Report()
    if cuda and not core.has_cuda:
        report.check("the core was built with its CUDA kernels", False)
    start = time.time()
    sections = [("probes", check_probes, (core, report, devices)),
                ("hutchinson", check_hutchinson, (core, report, devices)),
                ("adahessian", check_adahessian, (core, report, devices)),
                ("adahessian many", check_adahessian_many, (core, report, devices)),
                ("adam", check_adam, (core, report, devices)),
                ("adam vs torch", check_adam_vs_torch, (core, report, devices[0])),
                ("reference training", check_reference_training, (core, report, devices[0]))]
    if cuda:
        sections += [("stream", check_stream, (core, report)),
                     ("errors", check_errors, (core, report))]
    if args.only:
        wanted = args.only.split(",")
        sections = [sec for sec in sections if sec[0] in wanted]
        args.skip_bench, args.smoke_bench = True, False
    for name, fn, fn_args in sections:
        run_section(report, name, fn, *fn_args)
    print("checks: %.1f s" % (time.time() - start))
    if report.failed():
        print("%d checks failed; the benchmarks run all the same" % report.failed())
    if cuda and not args.skip_bench:
        run_section(report, "step benchmarks", bench_steps, core, report)
        run_section(report, "resnet benchmark", bench_resnet, core, report)
        run_section(report, "resnet benchmark, batch 512", bench_resnet, core, report, 16, "cuda",
                    512, False)
    elif args.smoke_bench:
        run_section(report, "step benchmarks", bench_steps, core, report, 2_000_000, 20, "cpu")
        run_section(report, "resnet benchmark", bench_resnet, core, report, 2, "cpu", 8)
    passed = len(report.checks) - report.failed()
    print("%d passed, %d failed" % (passed, report.failed()))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"info": info, "checks": report.checks, "bench": report.bench}, f, indent=1)
    return 1 if report.failed() else 0


if __name__ == "__main__":
    sys.exit(main())
