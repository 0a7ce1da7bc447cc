package io.github.adahessian4j.schedule;

import io.github.adahessian4j.CheckpointException;
import io.github.adahessian4j.Optimizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Reduces every group's lr by {@code factor} when a metric has stopped improving: torch 1.13's
 * {@code ReduceLROnPlateau}. Call {@link #step(double)} with the metric (a validation loss, an
 * accuracy) once per epoch.
 *
 * <p>A metric is an improvement when it beats the best so far by the threshold: in mode {@link
 * Mode#MIN}, {@code metric < best * (1 - threshold)} ({@link ThresholdMode#REL}) or {@code metric <
 * best - threshold} ({@link ThresholdMode#ABS}); in mode {@link Mode#MAX}, {@code metric > best *
 * (1 + threshold)} or {@code metric > best + threshold}. After more than {@code patience} epochs in
 * a row without improvement, each group's lr becomes {@code max(lr * factor, minLr)}, unless that
 * lowers it by {@code eps} or less, and the next {@code cooldown} epochs count no bad epochs. A NaN
 * metric is never an improvement. As in torch, a relative threshold is taken of the best value with
 * its sign: for a negative best in mode MIN, {@code best * (1 - threshold)} is above the best, so a
 * slightly worse metric counts as an improvement (use {@link ThresholdMode#ABS} for metrics that
 * can be negative).
 *
 * <p>Like torch 1.13's, this is not an {@link LrScheduler}: it has no base lrs, it takes no initial
 * step (building it changes no lr), and it cannot be a child of a {@link SequentialLR}.
 *
 * <pre>{@code
 * ReduceLROnPlateau plateau = ReduceLROnPlateau.builder(opt).factor(0.5).patience(3).build();
 * for (int epoch = 0; epoch < epochs; epoch++) {
 *   train(opt);
 *   plateau.step(validationLoss());
 * }
 * }</pre>
 */
public final class ReduceLROnPlateau {
  /** Which direction of the metric is an improvement. */
  public enum Mode {
    /** Lower is better (a loss); torch's "min", the default. */
    MIN,
    /** Higher is better (an accuracy); torch's "max". */
    MAX
  }

  /** How the threshold is measured. */
  public enum ThresholdMode {
    /** Relative to the best value: {@code best * (1 -/+ threshold)}; torch's "rel", the default. */
    REL,
    /** Absolute: {@code best -/+ threshold}; torch's "abs". */
    ABS
  }

  private static final String KIND = "ReduceLROnPlateau";

  private final Optimizer optimizer;
  private final Mode mode;
  private final double factor;
  private final int patience;
  private final double threshold;
  private final ThresholdMode thresholdMode;
  private final int cooldown;
  private final double[] minLrs;
  private final double eps;

  private int lastEpoch;
  private double best;
  private int numBadEpochs;
  private int cooldownCounter;
  private double[] lastLr;

  private ReduceLROnPlateau(Builder b) {
    this.optimizer = b.optimizer;
    this.mode = b.mode;
    this.factor = b.factor;
    this.patience = b.patience;
    this.threshold = b.threshold;
    this.thresholdMode = b.thresholdMode;
    this.cooldown = b.cooldown;
    int groups = Groups.count(optimizer);
    if (b.minLrPerGroup) {
      if (b.minLr.length != groups) {
        throw new IllegalArgumentException(
            "expected " + groups + " min_lrs, got " + b.minLr.length);
      }
      this.minLrs = b.minLr.clone();
    } else {
      this.minLrs = new double[groups];
      Arrays.fill(minLrs, b.minLr[0]);
    }
    this.eps = b.eps;
    this.lastEpoch = 0;
    this.best = worst();
    this.numBadEpochs = 0;
    this.cooldownCounter = 0;
    this.lastLr = Groups.lrs(optimizer);
  }

  /**
   * A builder with torch's defaults: mode MIN, factor 0.1, patience 10, threshold 1e-4,
   * thresholdMode REL, cooldown 0, minLr 0, eps 1e-8.
   *
   * @param optimizer the optimizer whose lrs to reduce
   * @return the builder
   */
  public static Builder builder(Optimizer optimizer) {
    return new Builder(optimizer);
  }

  private double worst() {
    return mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
  }

  /**
   * Records the epoch's metric and reduces the lrs if it is the {@code patience + 1}-th epoch in a
   * row without improvement (outside the cooldown).
   *
   * @param metric the epoch's value of the monitored quantity
   * @throws IllegalStateException if the optimizer no longer has as many param groups as when this
   *     scheduler was built; nothing is changed then
   */
  public void step(double metric) {
    Groups.checkCount(KIND, minLrs.length, Groups.count(optimizer));
    int epoch = lastEpoch + 1;
    double newBest = best;
    int bad = numBadEpochs;
    int counter = cooldownCounter;
    if (isBetter(metric, best)) {
      newBest = metric;
      bad = 0;
    } else {
      bad += 1;
    }
    if (counter > 0) {
      counter -= 1;
      bad = 0; // bad epochs in the cooldown do not count
    }
    if (bad > patience) {
      double[] lrs = Groups.lrs(optimizer);
      for (int g = 0; g < lrs.length; g++) {
        double old = lrs[g];
        double reduced = old * factor;
        double updated = minLrs[g] > reduced ? minLrs[g] : reduced; // Python's max(reduced, min_lr)
        if (old - updated > eps) {
          optimizer.paramGroups().get(g).setLr(updated);
        }
      }
      counter = cooldown;
      bad = 0;
    }
    lastEpoch = epoch;
    best = newBest;
    numBadEpochs = bad;
    cooldownCounter = counter;
    lastLr = Groups.lrs(optimizer);
  }

  private boolean isBetter(double a, double best) {
    if (mode == Mode.MIN && thresholdMode == ThresholdMode.REL) {
      return a < best * (1. - threshold);
    } else if (mode == Mode.MIN) {
      return a < best - threshold;
    } else if (thresholdMode == ThresholdMode.REL) {
      return a > best * (threshold + 1.);
    }
    return a > best + threshold;
  }

  /**
   * The optimizer whose lrs this scheduler reduces.
   *
   * @return the optimizer
   */
  public Optimizer optimizer() {
    return optimizer;
  }

  /**
   * The number of {@link #step(double)} calls so far: 0 after construction; torch's {@code
   * last_epoch}.
   *
   * @return the last epoch
   */
  public int lastEpoch() {
    return lastEpoch;
  }

  /**
   * The lr of every param group after the last step (after construction: the groups' lrs then).
   *
   * @return a new array, one lr per group in the optimizer's order
   */
  public double[] lastLr() {
    return lastLr.clone();
  }

  /**
   * The best metric so far: {@code +Infinity} (mode MIN) or {@code -Infinity} (mode MAX) before the
   * first step.
   *
   * @return the best metric
   */
  public double best() {
    return best;
  }

  /**
   * The epochs in a row without improvement, counted since the last improvement, reduction or
   * cooldown epoch.
   *
   * @return torch's {@code num_bad_epochs}
   */
  public int numBadEpochs() {
    return numBadEpochs;
  }

  /**
   * The cooldown epochs left.
   *
   * @return torch's {@code cooldown_counter}
   */
  public int cooldownCounter() {
    return cooldownCounter;
  }

  /**
   * The lower bound of each group's lr.
   *
   * @return a new array, one bound per group in the optimizer's order
   */
  public double[] minLrs() {
    return minLrs.clone();
  }

  /**
   * Writes this scheduler's state to {@code out}: its hyperparameters (checked on load), last
   * epoch, best metric, bad-epoch and cooldown counters, last lrs and the groups' current lrs. The
   * stream is flushed, not closed; the bytes carry a checksum.
   *
   * @param out where to write; stays open
   * @throws IOException if writing fails
   */
  public void save(OutputStream out) throws IOException {
    new SchedulerState(
            KIND,
            minLrs.length,
            lastEpoch,
            0,
            config(),
            new double[0],
            lastLr,
            Groups.lrs(optimizer),
            new double[] {best, numBadEpochs, cooldownCounter},
            List.of())
        .save(out);
  }

  /**
   * Replaces this scheduler's state with one {@link #save(OutputStream)} wrote from a {@code
   * ReduceLROnPlateau} built with the same hyperparameters over the same number of param groups,
   * and sets every group's lr to the lr it had when the state was saved. Reads exactly the saved
   * bytes; the stream stays open.
   *
   * @param in where to read from
   * @throws CheckpointException if the state is truncated, corrupted, of another kind, for another
   *     number of groups, or saved with other hyperparameters; nothing is changed then
   * @throws IOException if reading fails
   * @throws IllegalStateException if the optimizer no longer has as many param groups as when this
   *     scheduler was built
   */
  public void load(InputStream in) throws IOException {
    Groups.checkCount(KIND, minLrs.length, Groups.count(optimizer));
    SchedulerState s = SchedulerState.read(in);
    s.checkMatches(KIND, minLrs.length, 0, config());
    s.checkExtraLength(3);
    double savedBest = s.extra[0];
    double bad = s.extra[1];
    double counter = s.extra[2];
    if (Double.isNaN(savedBest)
        || !isCount(bad)
        || !isCount(counter)
        || counter > cooldown
        || s.lastEpoch < 0
        || s.stepCount != 0
        || !s.children.isEmpty()) {
      throw new CheckpointException(
          "the "
              + KIND
              + " state is corrupted (best "
              + savedBest
              + ", num_bad_epochs "
              + bad
              + ", cooldown_counter "
              + counter
              + ", last epoch "
              + s.lastEpoch
              + "); nothing was loaded");
    }
    lastEpoch = s.lastEpoch;
    best = savedBest;
    numBadEpochs = (int) bad;
    cooldownCounter = (int) counter;
    lastLr = s.lastLr.clone();
    Groups.setLrs(optimizer, s.groupLrs);
  }

  private static boolean isCount(double v) {
    return v >= 0 && v <= Integer.MAX_VALUE && v == Math.rint(v);
  }

  private String config() {
    return "mode "
        + mode
        + ", factor "
        + factor
        + ", patience "
        + patience
        + ", threshold "
        + threshold
        + ", thresholdMode "
        + thresholdMode
        + ", cooldown "
        + cooldown
        + ", minLrs "
        + Arrays.toString(minLrs)
        + ", eps "
        + eps;
  }

  /**
   * The hyperparameters and the counters, e.g. {@code ReduceLROnPlateau(mode MIN, factor 0.1, ...;
   * lastEpoch 3, best 0.25, numBadEpochs 1, cooldownCounter 0)}.
   *
   * @return a description for logs
   */
  @Override
  public String toString() {
    return KIND
        + "("
        + config()
        + "; lastEpoch "
        + lastEpoch
        + ", best "
        + best
        + ", numBadEpochs "
        + numBadEpochs
        + ", cooldownCounter "
        + cooldownCounter
        + ", lastLr "
        + Arrays.toString(lastLr)
        + ")";
  }

  /**
   * Builds a {@link ReduceLROnPlateau}; see {@link ReduceLROnPlateau#builder(Optimizer)} for the
   * defaults.
   */
  public static final class Builder {
    private final Optimizer optimizer;
    private Mode mode = Mode.MIN;
    private double factor = 0.1;
    private int patience = 10;
    private double threshold = 1e-4;
    private ThresholdMode thresholdMode = ThresholdMode.REL;
    private int cooldown;
    private double[] minLr = {0.0};
    private boolean minLrPerGroup;
    private double eps = 1e-8;

    private Builder(Optimizer optimizer) {
      this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
    }

    /**
     * Whether lower or higher metrics are better.
     *
     * @param mode {@link Mode#MIN} (default) or {@link Mode#MAX}
     * @return this builder
     */
    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The factor of each reduction: {@code new_lr = lr * factor}.
     *
     * @param factor a number in [0, 1); default 0.1
     * @return this builder
     */
    public Builder factor(double factor) {
      this.factor = factor;
      return this;
    }

    /**
     * The number of epochs without improvement that are ignored; the next one reduces the lr.
     *
     * @param patience a number not negative; default 10
     * @return this builder
     */
    public Builder patience(int patience) {
      this.patience = patience;
      return this;
    }

    /**
     * How much better than the best a metric must be to count as an improvement.
     *
     * @param threshold a number not negative; default 1e-4
     * @return this builder
     */
    public Builder threshold(double threshold) {
      this.threshold = threshold;
      return this;
    }

    /**
     * Whether the threshold is relative to the best or absolute.
     *
     * @param thresholdMode {@link ThresholdMode#REL} (default) or {@link ThresholdMode#ABS}
     * @return this builder
     */
    public Builder thresholdMode(ThresholdMode thresholdMode) {
      this.thresholdMode = Objects.requireNonNull(thresholdMode, "thresholdMode");
      return this;
    }

    /**
     * The number of epochs after a reduction during which bad epochs are not counted.
     *
     * @param cooldown a number not negative; default 0
     * @return this builder
     */
    public Builder cooldown(int cooldown) {
      this.cooldown = cooldown;
      return this;
    }

    /**
     * The lower bound of every group's lr.
     *
     * @param minLr a learning rate; default 0
     * @return this builder
     */
    public Builder minLr(double minLr) {
      this.minLr = new double[] {minLr};
      this.minLrPerGroup = false;
      return this;
    }

    /**
     * The lower bound of each group's lr.
     *
     * @param minLr one learning rate per group, in the optimizer's order
     * @return this builder
     */
    public Builder minLr(double[] minLr) {
      this.minLr = Objects.requireNonNull(minLr, "minLr").clone();
      this.minLrPerGroup = true;
      return this;
    }

    /**
     * The smallest reduction applied: a reduction by {@code eps} or less is skipped.
     *
     * @param eps a number not negative; default 1e-8
     * @return this builder
     */
    public Builder eps(double eps) {
      this.eps = eps;
      return this;
    }

    /**
     * Checks the arguments and builds the scheduler; no lr changes.
     *
     * @return the scheduler
     * @throws IllegalArgumentException if an argument is out of range or there are not as many
     *     per-group min lrs as groups
     */
    public ReduceLROnPlateau build() {
      if (!(factor < 1.0)) {
        throw new IllegalArgumentException("Factor should be < 1.0, but got " + factor + ".");
      }
      if (!(factor >= 0.0)) {
        throw new IllegalArgumentException("Factor should be >= 0.0, but got " + factor + ".");
      }
      LrScheduler.nonNegative("patience", patience);
      LrScheduler.nonNegative("threshold", threshold);
      LrScheduler.nonNegative("cooldown", cooldown);
      for (double v : minLr) {
        LrScheduler.nonNegative("min_lr", v);
      }
      LrScheduler.nonNegative("eps", eps);
      return new ReduceLROnPlateau(this);
    }
  }
}
