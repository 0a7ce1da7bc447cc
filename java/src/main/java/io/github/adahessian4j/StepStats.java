package io.github.adahessian4j;

/**
 * What the most recent step did, from the passes the step makes anyway (the one read of the
 * gradients that checks them for NaN and infinity, and of the fresh Hessian estimates): no extra
 * pass over the parameters, no synchronisation on the CPU. {@link Optimizer#lastStepStats()} gives
 * it after every step.
 *
 * @param step how many steps the optimizer has taken or skipped since it was built, this one
 *     included (0: none yet)
 * @param loss the closure's loss, or NaN where the step had no closure ({@code step()} after the
 *     user's own {@code backward()}) or was a no-op
 * @param gradNorm the norm of all gradients together, before clipping: the 2-norm, or the max norm
 *     when clipping uses {@code normType} infinity; NaN when not computed (policy {@link
 *     NonFinitePolicy#IGNORE} without clipping skips the pass) or non-finite
 * @param clipped whether clipping scaled the gradients
 * @param skipped whether the step was skipped because of NaN or infinity
 * @param lrs the learning rate each group stepped with, in group order
 * @param hessianRefreshed AdaHessian: whether this step computed fresh Hessian-diagonal estimates
 *     (with {@code updateEach > 1} most steps reuse them); false for Adam and AdamW
 * @param hessianMean AdaHessian: mean of |D| over every element of the estimates in use, before
 *     block averaging (the last refresh's); NaN for Adam and AdamW and before the first refresh
 * @param hessianMax AdaHessian: max of |D| over those elements; NaN as above
 * @param zeroHessianParams AdaHessian: how many parameters have an estimate that is zero everywhere
 *     (a loss linear in them: H's rows are zero, the step is {@code lr * m_hat / eps}, 10^4 lr at
 *     the defaults); 0 for Adam and AdamW
 */
public record StepStats(
    long step,
    double loss,
    double gradNorm,
    boolean clipped,
    boolean skipped,
    double[] lrs,
    boolean hessianRefreshed,
    double hessianMean,
    double hessianMax,
    int zeroHessianParams) {

  /** Before the first step. */
  static final StepStats NONE =
      new StepStats(
          0, Double.NaN, Double.NaN, false, false, new double[0], false, Double.NaN, Double.NaN, 0);

  /**
   * The statistics, with a copy of {@code lrs}.
   *
   * @param step steps so far
   * @param loss the loss
   * @param gradNorm the gradient norm before clipping
   * @param clipped whether clipping scaled the gradients
   * @param skipped whether the step was skipped
   * @param lrs the groups' learning rates
   * @param hessianRefreshed whether the Hessian estimate was refreshed
   * @param hessianMean mean of |D|
   * @param hessianMax max of |D|
   * @param zeroHessianParams parameters with an all-zero estimate
   */
  public StepStats {
    lrs = lrs.clone();
  }

  /**
   * The learning rate each group stepped with (a copy).
   *
   * @return one learning rate per group
   */
  @Override
  public double[] lrs() {
    return lrs.clone();
  }

  @Override
  public String toString() {
    return "StepStats[step="
        + step
        + ", loss="
        + loss
        + ", gradNorm="
        + gradNorm
        + ", clipped="
        + clipped
        + ", skipped="
        + skipped
        + ", lrs="
        + java.util.Arrays.toString(lrs)
        + ", hessianRefreshed="
        + hessianRefreshed
        + ", hessianMean="
        + hessianMean
        + ", hessianMax="
        + hessianMax
        + ", zeroHessianParams="
        + zeroHessianParams
        + "]";
  }
}
