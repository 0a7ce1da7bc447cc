package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.util.function.IntFunction;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Hutchinson's estimate of a Hessian diagonal, shared by {@link AdaHessian} and {@link
 * HutchinsonEstimator}: probes z from the counter-based generator, H z by double backward ({@code
 * torch.grad} of the gradients, never {@code backward(create_graph)}), and the mean of z * Hz
 * accumulated natively. Its argument arrays live in the caller's {@link NativeArgs}.
 */
final class Hutchinson {
  private final NativeArgs.Tensors probeArg;
  private final NativeArgs.Longs probeIdArg;
  private final NativeArgs.Tensors diagArg;
  private final NativeArgs.Tensors zArg;
  private final NativeArgs.Tensors hzArg;

  Hutchinson(NativeArgs args) {
    probeArg = args.tensors();
    probeIdArg = args.longs();
    diagArg = args.tensors();
    zArg = args.tensors();
    hzArg = args.tensors();
  }

  /**
   * Writes the estimate for {@code params[ids[k]]} into {@code out[ids[k]]}, from the gradients
   * {@code grads} (computed with {@code create_graph}). With {@code signed} false and one sample it
   * is Hz itself (|z * Hz| = |Hz| for Rademacher z: the optimizer uses only |D|); otherwise the
   * mean over {@code nSamples} probe draws (draw counters {@code counter, counter + 1, ...}) of z *
   * Hz in the state dtype. An undefined Hz (that Hessian block is zero) gives zeros. {@code
   * retainGraph}: keep the graph after the last sample (the caller may still use it).
   */
  void estimate(
      Tensor[] params,
      Tensor[] grads,
      int[] ids,
      Tensor[] out,
      long seed,
      long counter,
      int nSamples,
      boolean signed,
      boolean retainGraph,
      String operation,
      IntFunction<String> culprit) {
    TensorVector outputs = new TensorVector();
    TensorVector inputs = new TensorVector();
    for (int i : ids) {
      outputs.push_back(grads[i]);
      inputs.push_back(params[i]);
    }
    boolean direct = nSamples == 1 && !signed;
    if (!direct) {
      for (int i : ids) {
        out[i] = Natives.zerosState(params[i]);
      }
    }
    for (int s = 0; s < nSamples; s++) {
      Tensor[] zs = draw(params, ids, seed, counter + s, operation + " probe");
      TensorVector hzs;
      try {
        hzs =
            torch.grad(
                outputs,
                inputs,
                new TensorVector(zs),
                new BoolOptional(retainGraph || s < nSamples - 1),
                false,
                true);
      } catch (RuntimeException e) {
        OptimizerException refusal = DoubleBackward.notTwiceDifferentiable(e, operation);
        throw refusal != null ? refusal : e;
      }
      if (direct) {
        for (int k = 0; k < ids.length; k++) {
          // get() is a reference into hzs; the estimate outlives it (updateEach), so own a copy.
          Tensor hz = hzs.get(k);
          out[ids[k]] =
              !hz.defined()
                  ? Natives.zerosState(params[ids[k]])
                  : hz.is_contiguous() ? new Tensor(hz) : hz.contiguous();
        }
      } else {
        accumulate(out, ids, zs, hzs, 1.0 / nSamples, operation + " Hessian estimate", culprit);
      }
    }
  }

  /**
   * New tensors shaped like {@code params[ids[k]]}, filled with the probes of draw {@code counter}.
   */
  Tensor[] draw(Tensor[] params, int[] ids, long seed, long counter, String operation) {
    Tensor[] zs = new Tensor[ids.length];
    for (int k = 0; k < ids.length; k++) {
      zs[k] = torch.empty_like(params[ids[k]]);
      probeArg.put(k, zs[k]);
      probeIdArg.put(k, ids[k]);
    }
    int status = ah4j.ah4j_rademacher_(probeArg.get(), probeIdArg.get(), ids.length, seed, counter);
    NativeCore.check(status, operation, k -> "the probe of parameter " + ids[(int) k]);
    return zs;
  }

  /**
   * One sample in one native call: {@code out[ids[k]] += scale * zs[k] * hzs[k]} where Hz is
   * defined.
   */
  private void accumulate(
      Tensor[] out,
      int[] ids,
      Tensor[] zs,
      TensorVector hzs,
      double scale,
      String operation,
      IntFunction<String> culprit) {
    int count = 0;
    int[] accumulated = new int[ids.length];
    for (int k = 0; k < ids.length; k++) {
      Tensor hz = hzs.get(k);
      if (hz.defined()) {
        diagArg.put(count, out[ids[k]]);
        zArg.put(count, zs[k]);
        hzArg.put(count, hz.is_contiguous() ? hz : hz.contiguous());
        accumulated[count++] = ids[k];
      }
    }
    int status =
        ah4j.ah4j_hutchinson_accumulate_(diagArg.get(), zArg.get(), hzArg.get(), count, scale, 0);
    NativeCore.check(status, operation, k -> culprit.apply(accumulated[(int) k]));
  }
}
