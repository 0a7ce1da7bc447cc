package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;
import java.util.Arrays;
import java.util.Objects;

/**
 * The 1cycle policy (Smith and Topin, "Super-Convergence", 2017): torch's {@code OneCycleLR}. Step
 * it once per batch.
 *
 * <p>The lr rises from {@code maxLr / divFactor} (which becomes the groups' initial lr) to {@code
 * maxLr} over the first {@code pctStart} of {@code totalSteps}, then falls to {@code maxLr /
 * divFactor / finalDivFactor} by step {@code totalSteps - 1}. With {@code threePhase} it falls back
 * to the initial lr symmetrically first and reaches the minimum in a third phase, as the paper
 * does; without it (torch's default, fastai's way) the second phase goes all the way down. Each
 * phase anneals with a half cosine or linearly.
 *
 * <p>With {@code cycleMomentum} (torch's default) each group's {@code beta1}, this library's
 * momentum, moves the other way, between {@code maxMomentum} and {@code baseMomentum}: torch cycles
 * {@code betas[0]} for Adam the same way. {@code cycleMomentum(false)} cycles only the lr.
 *
 * <p>As in torch, the scheduler may be stepped {@code totalSteps} times after construction (the
 * last step computes an lr one step past the end of the cycle, which a training loop that steps the
 * scheduler after every batch never uses) and throws on the next. Where that one extrapolated value
 * is out of the optimizers' range, it is clamped: a negative lr (linear annealing overshoots below
 * zero) becomes 0 and a beta1 of 1 or more becomes the largest double below 1; torch would set the
 * negative value.
 *
 * <pre>{@code
 * OneCycleLR schedule = OneCycleLR.builder(opt, 0.01).epochs(10).stepsPerEpoch(500).build();
 * }</pre>
 */
public final class OneCycleLR extends LrScheduler {
  /** How each phase moves from its start value to its end value. */
  public enum AnnealStrategy {
    /**
     * A half cosine: {@code end + (start - end) / 2 * (cos(pi * pct) + 1)}; torch's "cos", the
     * default.
     */
    COS,
    /** A straight line: {@code (end - start) * pct + start}; torch's "linear". */
    LINEAR
  }

  private static final int INITIAL = 0;
  private static final int MAX = 1;
  private static final int MIN = 2;
  private static final int MAX_MOMENTUM = 0;
  private static final int BASE_MOMENTUM = 1;

  private final int totalSteps;
  private final double pctStart;
  private final AnnealStrategy annealStrategy;
  private final boolean cycleMomentum;
  private final boolean threePhase;
  private final double divFactor;
  private final double finalDivFactor;
  private final double[] maxLr;
  private final double[] initialLr;
  private final double[] minLr;
  private final double[] baseMomentum;
  private final double[] maxMomentum;

  /**
   * Per phase: its last step (a double, as torch computes it), and which values it starts and ends
   * at.
   */
  private final double[] endStep;

  private final int[] startLr;
  private final int[] endLr;
  private final int[] startMomentum;
  private final int[] endMomentum;

  /** The momenta the last computation prepared, set on the groups with the lrs. */
  private double[] pendingMomentum;

  private OneCycleLR(Builder b, int totalSteps) {
    super(b.optimizer);
    int groups = Groups.count(b.optimizer);
    this.totalSteps = totalSteps;
    this.pctStart = b.pctStart;
    this.annealStrategy = b.annealStrategy;
    this.cycleMomentum = b.cycleMomentum;
    this.threePhase = b.threePhase;
    this.divFactor = b.divFactor;
    this.finalDivFactor = b.finalDivFactor;
    this.maxLr = perGroup("max_lr", b.maxLr, groups);
    this.baseMomentum = perGroup("base_momentum", b.baseMomentum, groups);
    this.maxMomentum = perGroup("max_momentum", b.maxMomentum, groups);
    this.initialLr = new double[groups];
    this.minLr = new double[groups];
    for (int g = 0; g < groups; g++) {
      initialLr[g] = maxLr[g] / divFactor;
      minLr[g] = initialLr[g] / finalDivFactor;
    }
    if (threePhase) {
      endStep =
          new double[] {pctStart * totalSteps - 1, 2 * pctStart * totalSteps - 2, totalSteps - 1};
      startLr = new int[] {INITIAL, MAX, INITIAL};
      endLr = new int[] {MAX, INITIAL, MIN};
      startMomentum = new int[] {MAX_MOMENTUM, BASE_MOMENTUM, MAX_MOMENTUM};
      endMomentum = new int[] {BASE_MOMENTUM, MAX_MOMENTUM, MAX_MOMENTUM};
    } else {
      endStep = new double[] {pctStart * totalSteps - 1, totalSteps - 1};
      startLr = new int[] {INITIAL, MAX};
      endLr = new int[] {MAX, MIN};
      startMomentum = new int[] {MAX_MOMENTUM, BASE_MOMENTUM};
      endMomentum = new int[] {BASE_MOMENTUM, MAX_MOMENTUM};
    }
    if (endStep[0] == 0) {
      // torch 1.13 divides by zero here, in its initial step.
      throw new IllegalArgumentException(
          "Expected pct_start * total_steps other than 1 (the warm-up phase would "
              + "have no length), but got pct_start "
              + pctStart
              + " and total_steps "
              + totalSteps);
    }
    int last = endStep.length - 1;
    if (endStep[last] == endStep[last - 1]) {
      // Step total_steps falls in the last phase; torch 1.13 divides by zero there.
      throw new IllegalArgumentException(
          "Expected pct_start and total_steps that give the last phase a length, but got "
              + "pct_start "
              + pctStart
              + " and total_steps "
              + totalSteps
              + " (three_phase "
              + threePhase
              + "): step "
              + totalSteps
              + " would fall in a phase of zero length");
    }
    if (cycleMomentum) {
      for (int g = 0; g < groups; g++) {
        Groups.beta1(b.optimizer.paramGroups().get(g)); // every group must have one
      }
    }
    start(initialLr);
  }

  private static double[] perGroup(String name, double[] values, int groups) {
    if (values.length == 1) {
      double[] out = new double[groups];
      Arrays.fill(out, values[0]);
      return out;
    }
    return values.clone();
  }

  /**
   * Starts a builder for a 1cycle schedule that peaks at {@code maxLr} in every group.
   *
   * @param optimizer the optimizer whose lrs (and beta1s) to set
   * @param maxLr the peak lr, positive
   * @return a builder with torch's defaults
   */
  public static Builder builder(Optimizer optimizer, double maxLr) {
    return new Builder(optimizer, new double[] {maxLr}, false);
  }

  /**
   * Starts a builder for a 1cycle schedule with a peak lr per group.
   *
   * @param optimizer the optimizer whose lrs (and beta1s) to set
   * @param maxLr the peak lr of each group, in the optimizer's order, positive
   * @return a builder with torch's defaults
   */
  public static Builder builder(Optimizer optimizer, double[] maxLr) {
    return new Builder(optimizer, Objects.requireNonNull(maxLr, "maxLr").clone(), true);
  }

  /**
   * The number of steps of the cycle.
   *
   * @return total_steps, given or {@code epochs * stepsPerEpoch}
   */
  public int totalSteps() {
    return totalSteps;
  }

  /**
   * Whether beta1 is cycled with the lr.
   *
   * @return cycle_momentum
   */
  public boolean cycleMomentum() {
    return cycleMomentum;
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    int step = epoch;
    if (step > totalSteps) {
      throw new IllegalStateException(
          "Tried to step "
              + (step + 1)
              + " times. The specified number of total "
              + "steps is "
              + totalSteps);
    }
    int groups = lrs.length;
    double[] out = new double[groups];
    double[] momentum = cycleMomentum ? new double[groups] : null;
    for (int g = 0; g < groups; g++) {
      double startStep = 0;
      for (int i = 0; i < endStep.length; i++) {
        double end = endStep[i];
        if (step <= end || i == endStep.length - 1) {
          double pct = (step - startStep) / (end - startStep);
          out[g] = Math.max(0.0, anneal(lr(startLr[i], g), lr(endLr[i], g), pct));
          if (cycleMomentum) {
            double m = anneal(momentum(startMomentum[i], g), momentum(endMomentum[i], g), pct);
            momentum[g] = m >= 1.0 ? Math.nextDown(1.0) : Math.max(0.0, m);
          }
          break;
        }
        startStep = end;
      }
    }
    if (cycleMomentum) {
      Groups.checkBeta1s(kind(), momentum);
    }
    pendingMomentum = momentum;
    return out;
  }

  @Override
  void applyPending() {
    if (pendingMomentum != null) {
      Groups.setBeta1s(optimizer(), pendingMomentum);
      pendingMomentum = null;
    }
  }

  private double anneal(double start, double end, double pct) {
    if (annealStrategy == AnnealStrategy.COS) {
      double cosOut = Math.cos(Math.PI * pct) + 1;
      return end + (start - end) / 2.0 * cosOut;
    }
    return (end - start) * pct + start;
  }

  private double lr(int which, int g) {
    return which == INITIAL ? initialLr[g] : which == MAX ? maxLr[g] : minLr[g];
  }

  private double momentum(int which, int g) {
    return which == MAX_MOMENTUM ? maxMomentum[g] : baseMomentum[g];
  }

  @Override
  double[] extraState() {
    return cycleMomentum ? Groups.beta1s(optimizer()) : new double[0];
  }

  @Override
  void checkExtra(SchedulerState s) throws io.github.adahessian4j.CheckpointException {
    s.checkExtraLength(cycleMomentum ? baseLrs.length : 0);
    for (double m : s.extra) {
      if (!(m >= 0.0 && m < 1.0)) {
        throw new io.github.adahessian4j.CheckpointException(
            "the OneCycleLR state is corrupted (beta1 " + m + "); nothing was loaded");
      }
    }
  }

  @Override
  void applyExtra(SchedulerState s) {
    if (cycleMomentum) {
      Groups.setBeta1s(optimizer(), s.extra);
    }
  }

  @Override
  String config() {
    return "maxLr "
        + Arrays.toString(maxLr)
        + ", totalSteps "
        + totalSteps
        + ", pctStart "
        + pctStart
        + ", annealStrategy "
        + annealStrategy
        + ", cycleMomentum "
        + cycleMomentum
        + (cycleMomentum
            ? ", baseMomentum "
                + Arrays.toString(baseMomentum)
                + ", maxMomentum "
                + Arrays.toString(maxMomentum)
            : "")
        + ", divFactor "
        + divFactor
        + ", finalDivFactor "
        + finalDivFactor
        + ", threePhase "
        + threePhase;
  }

  /**
   * Builds a {@link OneCycleLR}. The defaults are torch's: pctStart 0.3, annealStrategy COS,
   * cycleMomentum true, baseMomentum 0.85, maxMomentum 0.95, divFactor 25, finalDivFactor 1e4,
   * threePhase false. The length is required: {@link #totalSteps(int)}, or {@link #epochs(int)} and
   * {@link #stepsPerEpoch(int)} (total steps win when both are given).
   */
  public static final class Builder {
    private final Optimizer optimizer;
    private final double[] maxLr;
    private final boolean maxLrPerGroup;
    private Integer totalSteps;
    private Integer epochs;
    private Integer stepsPerEpoch;
    private double pctStart = 0.3;
    private AnnealStrategy annealStrategy = AnnealStrategy.COS;
    private boolean cycleMomentum = true;
    private double[] baseMomentum = {0.85};
    private boolean baseMomentumPerGroup;
    private double[] maxMomentum = {0.95};
    private boolean maxMomentumPerGroup;
    private double divFactor = 25.0;
    private double finalDivFactor = 1e4;
    private boolean threePhase;

    private Builder(Optimizer optimizer, double[] maxLr, boolean perGroup) {
      this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
      this.maxLr = maxLr;
      this.maxLrPerGroup = perGroup;
    }

    /**
     * The number of steps of the cycle (torch's total_steps); takes precedence over {@link
     * #epochs(int)} and {@link #stepsPerEpoch(int)}.
     *
     * @param totalSteps the number of steps, positive
     * @return this builder
     */
    public Builder totalSteps(int totalSteps) {
      this.totalSteps = totalSteps;
      return this;
    }

    /**
     * The number of epochs; with {@link #stepsPerEpoch(int)}, the cycle has {@code epochs *
     * stepsPerEpoch} steps.
     *
     * @param epochs the number of epochs, positive
     * @return this builder
     */
    public Builder epochs(int epochs) {
      this.epochs = epochs;
      return this;
    }

    /**
     * The number of steps (batches) per epoch; see {@link #epochs(int)}.
     *
     * @param stepsPerEpoch the number of steps per epoch, positive
     * @return this builder
     */
    public Builder stepsPerEpoch(int stepsPerEpoch) {
      this.stepsPerEpoch = stepsPerEpoch;
      return this;
    }

    /**
     * The fraction of the cycle spent raising the lr (torch's pct_start).
     *
     * @param pctStart a fraction in [0, 1] that leaves the first and the last phase a length
     *     ({@link #build()} refuses the others, such as 1.0 without three phases); default 0.3
     * @return this builder
     */
    public Builder pctStart(double pctStart) {
      this.pctStart = pctStart;
      return this;
    }

    /**
     * How each phase anneals.
     *
     * @param annealStrategy {@link AnnealStrategy#COS} (default) or {@link AnnealStrategy#LINEAR}
     * @return this builder
     */
    public Builder annealStrategy(AnnealStrategy annealStrategy) {
      this.annealStrategy = Objects.requireNonNull(annealStrategy, "annealStrategy");
      return this;
    }

    /**
     * Whether each group's beta1 is cycled inversely to the lr (torch's cycle_momentum).
     *
     * @param cycleMomentum true (default) to cycle beta1, false to leave it
     * @return this builder
     */
    public Builder cycleMomentum(boolean cycleMomentum) {
      this.cycleMomentum = cycleMomentum;
      return this;
    }

    /**
     * The beta1 at the lr's peak, for every group.
     *
     * @param baseMomentum a value in [0, 1); default 0.85
     * @return this builder
     */
    public Builder baseMomentum(double baseMomentum) {
      this.baseMomentum = new double[] {baseMomentum};
      this.baseMomentumPerGroup = false;
      return this;
    }

    /**
     * The beta1 at the lr's peak, per group.
     *
     * @param baseMomentum one value in [0, 1) per group, in the optimizer's order
     * @return this builder
     */
    public Builder baseMomentum(double[] baseMomentum) {
      this.baseMomentum = Objects.requireNonNull(baseMomentum, "baseMomentum").clone();
      this.baseMomentumPerGroup = true;
      return this;
    }

    /**
     * The beta1 at the start and the end of the cycle, for every group.
     *
     * @param maxMomentum a value in [0, 1); default 0.95
     * @return this builder
     */
    public Builder maxMomentum(double maxMomentum) {
      this.maxMomentum = new double[] {maxMomentum};
      this.maxMomentumPerGroup = false;
      return this;
    }

    /**
     * The beta1 at the start and the end of the cycle, per group.
     *
     * @param maxMomentum one value in [0, 1) per group, in the optimizer's order
     * @return this builder
     */
    public Builder maxMomentum(double[] maxMomentum) {
      this.maxMomentum = Objects.requireNonNull(maxMomentum, "maxMomentum").clone();
      this.maxMomentumPerGroup = true;
      return this;
    }

    /**
     * The initial lr is {@code maxLr / divFactor}.
     *
     * @param divFactor a positive number; default 25
     * @return this builder
     */
    public Builder divFactor(double divFactor) {
      this.divFactor = divFactor;
      return this;
    }

    /**
     * The final lr is {@code maxLr / divFactor / finalDivFactor}.
     *
     * @param finalDivFactor a positive number; default 1e4
     * @return this builder
     */
    public Builder finalDivFactor(double finalDivFactor) {
      this.finalDivFactor = finalDivFactor;
      return this;
    }

    /**
     * Whether to use three phases (up, back down to the initial lr, down to the minimum) as the
     * paper does, instead of two (torch's three_phase).
     *
     * @param threePhase true for three phases; default false
     * @return this builder
     */
    public Builder threePhase(boolean threePhase) {
      this.threePhase = threePhase;
      return this;
    }

    /**
     * Checks the arguments, builds the schedule and takes its initial step: every group's lr
     * becomes {@code maxLr / divFactor} (also its initial lr from now on) and, with {@code
     * cycleMomentum}, its beta1 becomes {@code maxMomentum}.
     *
     * @return the schedule
     * @throws IllegalArgumentException if an argument is missing or out of range
     */
    public OneCycleLR build() {
      int total;
      if (totalSteps == null && (epochs == null || stepsPerEpoch == null)) {
        throw new IllegalArgumentException(
            "You must define either total_steps OR (epochs AND steps_per_epoch)");
      } else if (totalSteps != null) {
        total = LrScheduler.positive("total_steps", totalSteps);
      } else {
        LrScheduler.positive("epochs", epochs);
        LrScheduler.positive("steps_per_epoch", stepsPerEpoch);
        long t = (long) epochs * stepsPerEpoch;
        if (t > Integer.MAX_VALUE) {
          throw new IllegalArgumentException(
              "Expected epochs * steps_per_epoch to fit an int, but got " + t);
        }
        total = (int) t;
      }
      if (!(pctStart >= 0.0 && pctStart <= 1.0)) {
        throw new IllegalArgumentException(
            "Expected float between 0 and 1 pct_start, but got " + pctStart);
      }
      int groups = Groups.count(optimizer);
      checkPerGroup("max_lr", maxLr, maxLrPerGroup, groups);
      for (double v : maxLr) {
        LrScheduler.positive("max_lr", v);
      }
      LrScheduler.positive("div_factor", divFactor);
      LrScheduler.positive("final_div_factor", finalDivFactor);
      if (cycleMomentum) {
        checkPerGroup("max_momentum", maxMomentum, maxMomentumPerGroup, groups);
        checkPerGroup("base_momentum", baseMomentum, baseMomentumPerGroup, groups);
        for (double[] values : new double[][] {maxMomentum, baseMomentum}) {
          for (double v : values) {
            if (!(v >= 0.0 && v < 1.0)) {
              throw new IllegalArgumentException(
                  "Expected momentum in [0, 1), but got "
                      + (values == maxMomentum ? "max_momentum " : "base_momentum ")
                      + v);
            }
          }
        }
      }
      return new OneCycleLR(this, total);
    }

    private static void checkPerGroup(String name, double[] values, boolean perGroup, int groups) {
      if (perGroup && values.length != groups) {
        throw new IllegalArgumentException(
            "expected " + groups + " values for " + name + ", got " + values.length);
      }
    }
  }
}
