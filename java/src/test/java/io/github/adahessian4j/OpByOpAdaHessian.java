package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The authors' AdaHessian written op by op with libtorch tensor ops, as in their PyTorch code
 * (image_classification/optim_adahessian.py; n_samples and update_each as in davda54/ada-hessian; a
 * Hessian warm-up: every step refreshes for a parameter's first warm-up steps), fed the same probes
 * through {@link ReferenceProbes}. Spatial averaging is the authors' explicit per-rank mean over
 * dims, not the core's block formulation. Test code only.
 */
final class OpByOpAdaHessian {
  private final Tensor[] params;
  private final AdaHessianOptions[] options;
  private final long seed;
  private final int updateEach;
  private final int warmup;
  private final int nSamples;
  private final Tensor[] m;
  private final Tensor[] v;
  private final Tensor[] d;
  private final long[] step;
  private final long[] hessianStep;
  private long counter;

  OpByOpAdaHessian(
      List<Tensor> params,
      List<AdaHessianOptions> options,
      long seed,
      int updateEach,
      int warmup,
      int nSamples) {
    this.params = params.toArray(new Tensor[0]);
    this.options = options.toArray(new AdaHessianOptions[0]);
    this.seed = seed;
    this.updateEach = updateEach;
    this.warmup = warmup;
    this.nSamples = nSamples;
    int n = this.params.length;
    m = new Tensor[n];
    v = new Tensor[n];
    d = new Tensor[n];
    step = new long[n];
    hessianStep = new long[n];
  }

  /** The official rule: no averaging up to 2-D, mean over the kernel's spatial dims above. */
  private static Tensor average(Tensor absHz) {
    int rank = (int) absHz.dim();
    if (rank <= 2) {
      return absHz;
    }
    long[] dims = new long[rank - 2];
    for (int k = 0; k < dims.length; k++) {
      dims[k] = k + 2;
    }
    return absHz.mean(dims, true, new org.bytedeco.pytorch.ScalarTypeOptional()).expand_as(absHz);
  }

  /**
   * The step with the gradient of {@code gradientLoss} and the Hessian estimate of {@code
   * hessianLoss} (AdaHessian's Hessian from part of the batch): the same update, each derivative
   * written out from its own loss.
   */
  void step(Supplier<Tensor> gradientLoss, Supplier<Tensor> hessianLoss) {
    int n = params.length;
    TensorVector gv =
        torch.grad(
            new TensorVector(gradientLoss.get()),
            new TensorVector(params),
            new TensorVector(),
            new BoolOptional(false),
            false,
            true);
    Tensor[] g = new Tensor[n];
    List<Integer> due = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (gv.get(i).defined()) {
        g[i] = gv.get(i);
        if (hessianStep[i] < warmup || hessianStep[i] % updateEach == 0) {
          due.add(i);
        }
        hessianStep[i]++;
      }
    }
    if (!due.isEmpty()) {
      TensorVector hg =
          torch.grad(
              new TensorVector(hessianLoss.get()),
              new TensorVector(params),
              new TensorVector(),
              new BoolOptional(true),
              true,
              true);
      TensorVector outs = new TensorVector();
      TensorVector ins = new TensorVector();
      List<Integer> withGraph = new ArrayList<>();
      for (int i : due) {
        if (hg.get(i).defined() && hg.get(i).requires_grad()) {
          withGraph.add(i);
          outs.push_back(hg.get(i));
          ins.push_back(params[i]);
        }
      }
      Tensor[] sum = new Tensor[n];
      for (int s = 0; s < nSamples && !withGraph.isEmpty(); s++) {
        Tensor[] zs = new Tensor[withGraph.size()];
        for (int k = 0; k < zs.length; k++) {
          Tensor p = params[withGraph.get(k)];
          zs[k] =
              T.tensor(
                  ReferenceProbes.rademacher(seed, counter + s, withGraph.get(k), (int) p.numel()),
                  p.scalar_type(),
                  FusedOptimizer.shapeOf(p));
        }
        TensorVector hz =
            torch.grad(outs, ins, new TensorVector(zs), new BoolOptional(true), false, true);
        for (int k = 0; k < zs.length; k++) {
          int i = withGraph.get(k);
          Tensor zhz = hz.get(k).defined() ? zs[k].mul(hz.get(k)) : torch.zeros_like(zs[k]);
          sum[i] = sum[i] == null ? zhz : sum[i].add(zhz);
        }
      }
      counter += nSamples;
      for (int i : due) {
        Tensor estimate = sum[i] == null ? torch.zeros_like(params[i]) : sum[i].div(T.s(nSamples));
        d[i] = average(estimate.abs());
      }
    }
    update(g);
  }

  void step(Supplier<Tensor> closure) {
    Tensor loss = closure.get();
    int n = params.length;
    TensorVector gv =
        torch.grad(
            new TensorVector(loss),
            new TensorVector(params),
            new TensorVector(),
            new BoolOptional(true),
            true,
            true);
    List<Integer> due = new ArrayList<>();
    Tensor[] g = new Tensor[n];
    for (int i = 0; i < n; i++) {
      Tensor gi = gv.get(i);
      if (gi.defined()) {
        g[i] = gi;
        if (hessianStep[i] < warmup || hessianStep[i] % updateEach == 0) {
          due.add(i);
        }
        hessianStep[i]++;
      }
    }
    if (!due.isEmpty()) {
      TensorVector outs = new TensorVector();
      TensorVector ins = new TensorVector();
      for (int i : due) {
        outs.push_back(g[i]);
        ins.push_back(params[i]);
      }
      Tensor[] sum = new Tensor[n];
      for (int s = 0; s < nSamples; s++) {
        Tensor[] zs = new Tensor[due.size()];
        for (int k = 0; k < zs.length; k++) {
          Tensor p = params[due.get(k)];
          zs[k] =
              T.tensor(
                  ReferenceProbes.rademacher(seed, counter + s, due.get(k), (int) p.numel()),
                  p.scalar_type(),
                  FusedOptimizer.shapeOf(p));
        }
        TensorVector hz =
            torch.grad(
                outs, ins, new TensorVector(zs), new BoolOptional(s < nSamples - 1), false, true);
        for (int k = 0; k < zs.length; k++) {
          int i = due.get(k);
          Tensor zhz = zs[k].mul(hz.get(k));
          sum[i] = sum[i] == null ? zhz : sum[i].add(zhz);
        }
      }
      counter += nSamples;
      for (int i : due) {
        Tensor estimate = nSamples == 1 ? sum[i] : sum[i].div(T.s(nSamples));
        d[i] = average(estimate.abs());
      }
    }
    update(g);
  }

  private void update(Tensor[] g) {
    int n = params.length;
    try (NoGradGuard guard = new NoGradGuard()) {
      for (int i = 0; i < n; i++) {
        if (g[i] == null) {
          continue;
        }
        AdaHessianOptions o = options[i];
        if (m[i] == null) {
          m[i] = torch.zeros_like(params[i]);
          v[i] = torch.zeros_like(params[i]);
        }
        step[i]++;
        m[i] = m[i].mul(T.s(o.beta1())).add(g[i].mul(T.s(1 - o.beta1())));
        v[i] = v[i].mul(T.s(o.beta2())).add(d[i].mul(d[i]).mul(T.s(1 - o.beta2())));
        double bc1 = 1 - Math.pow(o.beta1(), step[i]);
        double bc2 = 1 - Math.pow(o.beta2(), step[i]);
        double k = o.hessianPower();
        Tensor denom =
            v[i].sqrt().pow(T.s(k)).div(T.s(Math.pow(Math.sqrt(bc2), k))).add(T.s(o.eps()));
        Tensor update = m[i].div(T.s(bc1)).div(denom).add(params[i].mul(T.s(o.weightDecay())));
        params[i].copy_(params[i].sub(update.mul(T.s(o.lr()))));
      }
    }
  }
}
