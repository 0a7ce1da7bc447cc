package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Rademacher probe vectors from the core's counter-based generator: the probe of parameter
 * {@code id} for draw {@code counter} depends only on (seed, counter, id, element index), so it is
 * the same for any thread count, on any device and in every data-parallel replica.
 */
final class Probes {
  private Probes() {}

  /**
   * Returns new tensors shaped like {@code params[ids[k]]}, filled with +-1, using the caller's
   * argument arrays (at least ids.length long).
   */
  static Tensor[] draw(Tensor[] params, int[] ids, long seed, long counter,
      PointerPointer<Tensor> argZs, LongPointer argIds, String operation) {
    Tensor[] zs = new Tensor[ids.length];
    for (int k = 0; k < ids.length; k++) {
      zs[k] = torch.empty_like(params[ids[k]]);
      argZs.put(k, zs[k]);
      argIds.put(k, ids[k]);
    }
    int status = ah4j.ah4j_rademacher_(argZs, argIds, ids.length, seed, counter);
    NativeCore.check(status, operation, k -> "probe " + ids[(int) k]);
    return zs;
  }
}
