package io.github.adahessian4j;

import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.global.torch;

/**
 * What a graph that is differentiated twice needs from libtorch: closures run with libtorch's math
 * attention, and a clear refusal where an op has no double-backward formula.
 *
 * <p>libtorch picks a {@code scaled_dot_product_attention} kernel per call, when the forward runs;
 * its flash, memory-efficient and cuDNN kernels (and a third-party "overrideable" one) have no
 * double backward, the math kernel (matmul, softmax, matmul) has. {@link #forward} switches the
 * others off and math on for the closure's forward. libtorch's switches are process-wide, so the
 * guard is too: the first guard to enter saves the user's settings and sets them, the last to leave
 * restores them (a count under one lock), so an AdaHessian step on one thread never has attention
 * switched back on under it by a step ending on another. While any guard is in, every thread's
 * attention runs the math kernel (the same results up to rounding, slower on long sequences).
 */
final class DoubleBackward {
  private static final Object LOCK = new Object();
  private static int inside; // guarded by LOCK
  private static boolean[] saved; // the user's settings while inside > 0, guarded by LOCK

  /** libtorch's two phrasings: its NotImplemented node, and not_implemented() in a formula. */
  private static final Pattern NOT_IMPLEMENTED =
      Pattern.compile("derivative for '?([A-Za-z0-9_:.]+)'? is not implemented");

  private DoubleBackward() {}

  /**
   * {@code closure.get()} with libtorch's math attention; the user's settings are back afterwards
   * (when no other thread is inside a guard), also when the closure throws.
   */
  static <R> R forward(Supplier<R> closure) {
    enter();
    try {
      return closure.get();
    } finally {
      leave();
    }
  }

  private static void enter() {
    synchronized (LOCK) {
      if (inside == 0) {
        Context c = torch.globalContext();
        saved =
            new boolean[] {
              c.userEnabledFlashSDP(),
              c.userEnabledMemEfficientSDP(),
              c.userEnabledCuDNNSDP(),
              c.userEnabledOverrideableSDP(),
              c.userEnabledMathSDP()
            };
        set(c, false, false, false, false, true);
      }
      inside++;
    }
  }

  private static void leave() {
    synchronized (LOCK) {
      if (--inside == 0) {
        set(torch.globalContext(), saved);
        saved = null;
      }
    }
  }

  private static void set(Context c, boolean... s) {
    c.setSDPUseFlash(s[0]);
    c.setSDPUseMemEfficient(s[1]);
    c.setSDPUseCuDNN(s[2]);
    c.setSDPUseOverrideable(s[3]);
    c.setSDPUseMath(s[4]);
  }

  /**
   * The refusal for libtorch's "derivative for OP is not implemented" (null for another error):
   * names the op, says that it is libtorch's limit and what to do, and that nothing changed.
   */
  static OptimizerException notTwiceDifferentiable(RuntimeException e, String operation) {
    Matcher m = NOT_IMPLEMENTED.matcher(String.valueOf(e.getMessage()));
    if (!m.find()) {
      return null;
    }
    String op = m.group(1);
    return new OptimizerException(
        operation
            + "'s Hessian-vector product refused: libtorch cannot differentiate "
            + op
            + " (it has no derivative formula there), and the Hessian-vector product "
            + "differentiates the loss's graph twice. "
            + "This is a limit of libtorch, not of the model: "
            + (op.contains("attention")
                ? "let the library run the loss's forward (a closure: AdaHessian's steps,"
                    + " HutchinsonEstimator's closure methods and HessianAnalysis run it with"
                    + " libtorch's math attention), or switch that attention kernel off for the"
                    + " forward with torch.globalContext().setSDPUse...(false)"
                : "write that part of the loss with ops libtorch differentiates twice, or leave the"
                    + " parameters it reaches to a first-order optimizer such as Adam")
            + "; nothing was changed",
        e);
  }
}
