package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Hutchinson's estimator of the Hessian of a loss with respect to parameters, on its own:
 * {@code diag(H) ~ mean_s z_s * (H z_s)} and {@code tr(H) ~ mean_s z_s^T H z_s}, with Rademacher
 * probes {@code z_s} from the same counter-based generator as {@link AdaHessian} (seeded, never the
 * global RNG). H z is libtorch's double backward ({@code torch.grad} twice). The loss's graph is
 * kept, so the caller may still call {@code backward()} on it.
 *
 * <p>For a diagonal Hessian every sample is exact; otherwise the error of each diagonal entry
 * shrinks like {@code sqrt(sum_{j != i} H_ij^2 / nSamples)}.
 */
public final class HutchinsonEstimator {
  private final long seed;
  private long counter;

  public HutchinsonEstimator(long seed) {
    NativeCore.load();
    this.seed = seed;
  }

  /** Probe draws made so far; with the seed it fixes every future probe. */
  public long counter() {
    return counter;
  }

  /**
   * Estimates of the Hessian diagonal of {@code loss} for each parameter, as new float32 tensors
   * (float64 for float64 parameters) that the caller owns; zero for parameters the loss does not use.
   */
  public List<Tensor> hessianDiagonal(Tensor loss, List<Tensor> params, int nSamples) {
    Checks.positive("nSamples", nSamples);
    AdaHessian.checkLoss(loss);
    int n = params.size();
    Tensor[] p = params.toArray(new Tensor[0]);
    Tensor[] diags = new Tensor[n];
    try (PointerScope scope = new PointerScope();
        PointerPointer<Tensor> argA = new PointerPointer<>(Math.max(1, n));
        PointerPointer<Tensor> argB = new PointerPointer<>(Math.max(1, n));
        PointerPointer<Tensor> argC = new PointerPointer<>(Math.max(1, n));
        LongPointer argIds = new LongPointer(Math.max(1, n))) {
      for (int i = 0; i < n; i++) {
        if (p[i] == null || !p[i].defined() || !p[i].requires_grad()) {
          throw new OptimizerException("parameter " + i + " must be a defined tensor that requires grad");
        }
        diags[i] = Natives.zerosState(p[i]);
      }
      TensorVector grads = torch.grad(new TensorVector(loss), new TensorVector(p),
          new TensorVector(), new BoolOptional(true), true, true);
      List<Integer> used = new ArrayList<>();
      TensorVector outputs = new TensorVector();
      TensorVector inputs = new TensorVector();
      for (int i = 0; i < n; i++) {
        Tensor g = grads.get(i);
        if (g.defined() && g.requires_grad()) {
          used.add(i);
          outputs.push_back(g);
          inputs.push_back(p[i]);
        }
      }
      int[] ids = used.stream().mapToInt(Integer::intValue).toArray();
      if (ids.length > 0) {
        for (int s = 0; s < nSamples; s++) {
          Tensor[] zs = Probes.draw(p, ids, seed, counter + s, argA, argIds, "Hutchinson estimate");
          TensorVector hzs = torch.grad(outputs, inputs, new TensorVector(zs), new BoolOptional(true), false, true);
          accumulate(diags, ids, zs, hzs, 1.0 / nSamples, argA, argB, argC, "Hutchinson estimate",
              i -> "parameter " + i);
        }
        counter += nSamples;
      }
      List<Tensor> result = new ArrayList<>(n);
      for (Tensor d : diags) {
        result.add(Natives.keep(scope, d));
      }
      return result;
    }
  }

  /**
   * One Hutchinson sample in one native call: {@code diags[ids[k]] += scale * zs[k] * hzs[k]} for
   * every defined {@code hzs[k]} (an undefined one adds nothing: that Hessian block is zero).
   * {@code culprit} names a flat parameter index in error messages.
   */
  static void accumulate(Tensor[] diags, int[] ids, Tensor[] zs, TensorVector hzs, double scale,
      PointerPointer<Tensor> argA, PointerPointer<Tensor> argB, PointerPointer<Tensor> argC,
      String operation, IntFunction<String> culprit) {
    int count = 0;
    int[] accumulated = new int[ids.length];
    for (int k = 0; k < ids.length; k++) {
      Tensor hz = hzs.get(k);
      if (hz.defined()) {
        argA.put(count, diags[ids[k]]);
        argB.put(count, zs[k]);
        argC.put(count, hz.is_contiguous() ? hz : hz.contiguous());
        accumulated[count++] = ids[k];
      }
    }
    int status = ah4j.ah4j_hutchinson_accumulate_(argA, argB, argC, count, scale, 0);
    NativeCore.check(status, operation, k -> culprit.apply(accumulated[(int) k]));
  }

  /** Estimate of the trace of the Hessian of {@code loss} with respect to all {@code params}. */
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
