package io.github.adahessian4j.schedule;

import io.github.adahessian4j.CheckpointException;
import io.github.adahessian4j.Optimizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A learning-rate schedule that advances by epoch or iteration: torch 1.13's {@code
 * torch.optim.lr_scheduler._LRScheduler}. It drives the lr of every param group of one {@link
 * Optimizer}.
 *
 * <p>Building a scheduler records each group's base lr and takes torch's initial step: the last
 * epoch becomes 0 and every group's lr is set to the schedule's value at epoch 0 (for example a
 * {@link LinearLR} warm-up multiplies it by its start factor at once). The base lr is torch's
 * {@code initial_lr}: the lr the group had when the first scheduler was built over it, so a second
 * scheduler over the same group (for example the children of a {@link SequentialLR}) has the same
 * base lrs as the first, even though the first has already changed the lr ({@link OneCycleLR}
 * replaces it with {@code maxLr / divFactor}, as torch's does).
 *
 * <p>Call {@link #step()} after the optimizer's step, once per epoch or iteration as the schedule
 * is meant. Where torch computes the next lr recursively from the group's current lr (its
 * "chainable" form) so does this class, with the same floating-point operations, so an lr changed
 * between steps from outside carries on as it does in torch.
 *
 * <p>The state (last epoch, base lrs, last lrs, the groups' lrs, children) can be written with
 * {@link #save(OutputStream)} and read back into a scheduler built the same way with {@link
 * #load(InputStream)}.
 *
 * <p>The schedules are the subclasses in this package; they cannot be extended outside it.
 */
public abstract class LrScheduler {
  private final Optimizer optimizer;
  double[] baseLrs = new double[0];
  int lastEpoch = -1;

  /** torch's {@code _step_count}: steps taken since construction, the initial step included. */
  int stepCount;

  double[] lastLr = new double[0];

  LrScheduler(Optimizer optimizer) {
    this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
  }

  /**
   * Records the groups' initial lrs as base lrs and takes the initial step; subclass constructors
   * end with it.
   */
  final void start() {
    baseLrs = InitialLrs.setDefault(optimizer);
    initialStep();
  }

  /**
   * As {@link #start()}, but first replaces the groups' initial lrs with {@code initialLrs}
   * (OneCycleLR).
   */
  final void start(double[] initialLrs) {
    InitialLrs.set(optimizer, initialLrs);
    baseLrs = initialLrs.clone();
    initialStep();
  }

  /** torch's {@code _initial_step}: the step count restarts and the schedule steps once. */
  final void initialStep() {
    stepCount = 0;
    advance(lastEpoch + 1, false);
  }

  /**
   * Advances the schedule by one epoch (or iteration) and sets every group's lr to the new value.
   *
   * @throws IllegalStateException if the optimizer no longer has as many param groups as when this
   *     scheduler was built, or if the schedule cannot take another step (a {@link OneCycleLR} past
   *     its total steps); nothing is changed then
   */
  public final void step() {
    checkGroupCount();
    stepOnce();
  }

  /** One step without the group check; {@link SequentialLR} replaces it. */
  void stepOnce() {
    advance(lastEpoch + 1, false);
  }

  /**
   * Moves to {@code epoch} and sets the lrs: with torch's closed form where it has one and {@code
   * closedForm} is true (torch's {@code step(epoch)}, which {@link SequentialLR} uses at a
   * milestone), else with the chainable form. Computes and checks everything before it changes
   * anything.
   */
  final void advance(int epoch, boolean closedForm) {
    int count = stepCount + 1;
    double[] lrs =
        closedForm ? closedFormLr(epoch, count) : chainableLr(epoch, count, Groups.lrs(optimizer));
    Groups.checkLrs(kind(), lrs);
    Groups.setLrs(optimizer, lrs);
    applyPending();
    lastEpoch = epoch;
    stepCount = count;
    lastLr = Groups.lrs(optimizer);
  }

  /**
   * torch's {@code get_lr()}: the lrs at {@code epoch} (the new last epoch) from the groups'
   * current lrs {@code lrs}, with {@code stepCount} the step count including this step. Must not
   * change anything (it may prepare values for {@link #applyPending()}).
   */
  abstract double[] chainableLr(int epoch, int stepCount, double[] lrs);

  /**
   * torch's {@code _get_closed_form_lr()}; schedules without one use {@link #chainableLr}, as torch
   * does.
   */
  double[] closedFormLr(int epoch, int stepCount) {
    return chainableLr(epoch, stepCount, Groups.lrs(optimizer));
  }

  /** Applies what the last {@link #chainableLr} prepared beside the lrs (OneCycleLR's momentum). */
  void applyPending() {}

  /** The hyperparameters as canonical text: saved with the state and compared on load. */
  abstract String config();

  /** torch's class name, which is also the kind recorded in the saved state. */
  final String kind() {
    return getClass().getSimpleName();
  }

  final void checkGroupCount() {
    Groups.checkCount(kind(), baseLrs.length, Groups.count(optimizer));
  }

  /**
   * The optimizer whose learning rates this scheduler sets.
   *
   * @return the optimizer
   */
  public final Optimizer optimizer() {
    return optimizer;
  }

  /**
   * The index of the last epoch (or iteration): 0 after construction, one more after every {@link
   * #step()}; torch's {@code last_epoch}.
   *
   * @return the last epoch
   */
  public final int lastEpoch() {
    return lastEpoch;
  }

  /**
   * The lr of every param group as the last step (or the construction) set it; torch's {@code
   * get_last_lr()}.
   *
   * @return a new array, one lr per group in the optimizer's order
   */
  public final double[] lastLr() {
    return lastLr.clone();
  }

  /**
   * The base lr of every param group: torch's {@code initial_lr} when this scheduler was built (see
   * the class comment), from which the closed forms compute.
   *
   * @return a new array, one lr per group in the optimizer's order
   */
  public final double[] baseLrs() {
    return baseLrs.clone();
  }

  /**
   * Writes this scheduler's state to {@code out}: its kind and hyperparameters (checked on load),
   * last epoch, step count, base lrs, last lrs, the groups' current lrs and (for {@link
   * SequentialLR}) its children's states. The stream is flushed, not closed; the bytes carry a
   * checksum.
   *
   * @param out where to write; stays open
   * @throws IOException if writing fails
   */
  public final void save(OutputStream out) throws IOException {
    state().save(out);
  }

  /**
   * Replaces this scheduler's state with one {@link #save(OutputStream)} wrote, from a scheduler of
   * the same kind built with the same hyperparameters over the same number of param groups, and
   * sets every group's lr to the lr it had when the state was saved, so the run continues where the
   * saved one was (whether or not the optimizer's own checkpoint restored the lrs). The saved base
   * lrs also become the groups' initial lrs for schedulers built later. Reads exactly the saved
   * bytes; the stream stays open.
   *
   * @param in where to read from
   * @throws CheckpointException if the state is truncated, corrupted, of another kind, for another
   *     number of groups, or saved with other hyperparameters; nothing is changed then
   * @throws IOException if reading fails
   * @throws IllegalStateException if the optimizer no longer has as many param groups as when this
   *     scheduler was built
   */
  public final void load(InputStream in) throws IOException {
    checkGroupCount();
    SchedulerState s = SchedulerState.read(in);
    check(s);
    apply(s);
    Groups.setLrs(optimizer, s.groupLrs);
    InitialLrs.set(optimizer, s.baseLrs);
  }

  SchedulerState state() {
    List<SchedulerState> children = new ArrayList<>();
    for (LrScheduler c : children()) {
      children.add(c.state());
    }
    return new SchedulerState(
        kind(),
        baseLrs.length,
        lastEpoch,
        stepCount,
        config(),
        baseLrs,
        lastLr,
        Groups.lrs(optimizer),
        extraState(),
        children);
  }

  void check(SchedulerState s) throws CheckpointException {
    s.checkMatches(kind(), baseLrs.length, baseLrs.length, config());
    if (s.stepCount < 0) {
      throw new CheckpointException(
          "the "
              + kind()
              + " state is corrupted (step count "
              + s.stepCount
              + "); nothing was loaded");
    }
    checkExtra(s);
    List<LrScheduler> mine = children();
    if (s.children.size() != mine.size()) {
      throw new CheckpointException(
          "the "
              + kind()
              + " state has "
              + s.children.size()
              + " child schedulers, this "
              + kind()
              + " has "
              + mine.size()
              + "; nothing was loaded");
    }
    for (int i = 0; i < mine.size(); i++) {
      mine.get(i).check(s.children.get(i));
    }
  }

  void apply(SchedulerState s) {
    baseLrs = s.baseLrs.clone();
    lastEpoch = s.lastEpoch;
    stepCount = s.stepCount;
    lastLr = s.lastLr.clone();
    applyExtra(s);
    List<LrScheduler> mine = children();
    for (int i = 0; i < mine.size(); i++) {
      mine.get(i).apply(s.children.get(i));
    }
  }

  /** The schedulers this one steps (SequentialLR's); none by default. */
  List<LrScheduler> children() {
    return List.of();
  }

  /** Kind-specific numbers to save; none by default. */
  double[] extraState() {
    return new double[0];
  }

  /** Throws unless {@code s}'s kind-specific numbers are plausible for this scheduler. */
  void checkExtra(SchedulerState s) throws CheckpointException {
    s.checkExtraLength(0);
  }

  /** Takes over {@code s}'s kind-specific numbers (already checked). */
  void applyExtra(SchedulerState s) {}

  /**
   * The kind, hyperparameters and last epoch, e.g. {@code CosineAnnealingLR(tMax 50, etaMin 0.0;
   * lastEpoch 3, lastLr [0.0996, 0.0199])}.
   *
   * @return a description for logs
   */
  @Override
  public String toString() {
    return kind()
        + "("
        + config()
        + "; lastEpoch "
        + lastEpoch
        + ", lastLr "
        + Arrays.toString(lastLr)
        + ")";
  }

  // --- argument checks shared by the schedules, worded as torch words its own ---

  static int positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(
          "Expected positive integer " + name + ", but got " + value);
    }
    return value;
  }

  static int nonNegative(String name, int value) {
    if (value < 0) {
      throw new IllegalArgumentException(
          "Expected non-negative integer " + name + ", but got " + value);
    }
    return value;
  }

  static double nonNegative(String name, double value) {
    if (!(value >= 0.0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(
          "Expected non-negative finite " + name + ", but got " + value);
    }
    return value;
  }

  static double positive(String name, double value) {
    if (!(value > 0.0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("Expected positive finite " + name + ", but got " + value);
    }
    return value;
  }
}
