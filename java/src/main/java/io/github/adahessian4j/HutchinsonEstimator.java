package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Hutchinson's estimator of the Hessian of a loss with respect to parameters, on its own: {@code
 * diag(H) ~ mean_s z_s * (H z_s)} and {@code tr(H) ~ mean_s z_s^T H z_s}, with Rademacher probes
 * {@code z_s} from the same counter-based generator as {@link AdaHessian} (seeded, never the global
 * RNG). H z is libtorch's double backward ({@code torch.grad} twice). The loss's graph is kept, so
 * the caller may still call {@code backward()} on it. A loss whose forward ran an attention kernel
 * without double backward (libtorch's flash attention) is refused: pass the loss as a closure,
 * which runs with libtorch's math attention.
 *
 * <p>For a diagonal Hessian every sample is exact; otherwise the error of each diagonal entry
 * shrinks like {@code sqrt(sum_{j != i} H_ij^2 / nSamples)}.
 */
public final class HutchinsonEstimator {
  private final long seed;
  private long counter;

  /**
   * An estimator whose probes come from {@code seed}.
   *
   * @param seed the probe generator's seed
   */
  public HutchinsonEstimator(long seed) {
    NativeCore.load();
    this.seed = seed;
  }

  /**
   * Probe draws made so far; with the seed it fixes every future probe.
   *
   * @return the draw counter
   */
  public long counter() {
    return counter;
  }

  /**
   * {@link #hessianDiagonal(Tensor, List, int)} of the loss that {@code loss} computes, run with
   * libtorch's math attention (its other attention kernels have no double backward; see {@link
   * AdaHessian}).
   *
   * @param loss computes the loss from {@code params}
   * @param params the parameters
   * @param nSamples Hutchinson samples, at least 1
   * @return one estimate per parameter
   */
  public List<Tensor> hessianDiagonal(Supplier<Tensor> loss, List<Tensor> params, int nSamples) {
    Objects.requireNonNull(loss, "loss");
    Checks.positive("nSamples", nSamples);
    return hessianDiagonal(DoubleBackward.forward(loss), params, nSamples);
  }

  /**
   * Estimates of the Hessian diagonal of {@code loss} for each parameter, as new float32 tensors
   * (float64 for float64 parameters) that the caller owns; zero for parameters the loss does not
   * use.
   *
   * @param loss a scalar loss with a graph to {@code params}
   * @param params the parameters
   * @param nSamples Hutchinson samples, at least 1
   * @return one estimate per parameter
   */
  public List<Tensor> hessianDiagonal(Tensor loss, List<Tensor> params, int nSamples) {
    Checks.positive("nSamples", nSamples);
    FusedOptimizer.checkLoss(loss);
    int n = params.size();
    Tensor[] p = params.toArray(new Tensor[0]);
    Tensor[] diags = new Tensor[n];
    try (PointerScope scope = new PointerScope();
        NativeArgs args = new NativeArgs()) {
      Hutchinson hutchinson = new Hutchinson(args);
      args.capacity(n);
      for (int i = 0; i < n; i++) {
        if (p[i] == null || !p[i].defined() || !p[i].requires_grad()) {
          throw new OptimizerException(
              "parameter " + i + " must be a defined tensor that requires grad");
        }
      }
      TensorVector grads =
          torch.grad(
              new TensorVector(loss),
              new TensorVector(p),
              new TensorVector(),
              new BoolOptional(true),
              true,
              true);
      Tensor[] g = new Tensor[n];
      List<Integer> used = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        g[i] = grads.get(i);
        if (g[i].defined() && g[i].requires_grad()) {
          used.add(i);
        }
      }
      int[] ids = used.stream().mapToInt(Integer::intValue).toArray();
      if (ids.length > 0) {
        hutchinson.estimate(
            p,
            g,
            ids,
            diags,
            seed,
            counter,
            nSamples,
            true,
            true,
            "Hutchinson estimate",
            i -> "parameter " + i);
        counter += nSamples;
      }
      List<Tensor> result = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Tensor d = diags[i] != null ? diags[i] : Natives.zerosState(p[i]);
        result.add(Natives.keep(scope, d));
      }
      return result;
    }
  }

  /**
   * {@link #trace(Tensor, List, int)} of the loss that {@code loss} computes, run with libtorch's
   * math attention.
   *
   * @param loss computes the loss from {@code params}
   * @param params the parameters
   * @param nSamples Hutchinson samples, at least 1
   * @return the trace estimate
   */
  public double trace(Supplier<Tensor> loss, List<Tensor> params, int nSamples) {
    Objects.requireNonNull(loss, "loss");
    Checks.positive("nSamples", nSamples);
    return trace(DoubleBackward.forward(loss), params, nSamples);
  }

  /**
   * Estimate of the trace of the Hessian of {@code loss} with respect to all {@code params}.
   *
   * @param loss a scalar loss with a graph to {@code params}
   * @param params the parameters
   * @param nSamples Hutchinson samples, at least 1
   * @return the trace estimate
   */
  public double trace(Tensor loss, List<Tensor> params, int nSamples) {
    List<Tensor> diags = hessianDiagonal(loss, params, nSamples);
    double trace = 0;
    for (Tensor d : diags) {
      try (Tensor sum = d.sum()) {
        trace += sum.item_double();
      }
      d.close();
    }
    return trace;
  }
}
