package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Runs schedulers one after another, switching at milestone epochs: torch 1.13's {@code
 * SequentialLR}, for example a linear warm-up followed by cosine annealing:
 *
 * <pre>{@code
 * LinearLR warmup = new LinearLR(opt, 0.1, 1.0, 10);
 * CosineAnnealingLR cosine = new CosineAnnealingLR(opt, 190);
 * SequentialLR schedule = new SequentialLR(opt, List.of(warmup, cosine), List.of(10));
 * }</pre>
 *
 * <p>Build the children over the same optimizer first, then this; from then on step only this one.
 * Building it resets every group's lr to its initial lr, undoes the initial step of every child
 * (their last epoch goes back by one) and takes the initial step of the first child only. At epoch
 * {@code milestones[i]}, child {@code i + 1} takes over: it is stepped to its epoch 0 with torch's
 * closed form (so the cosine above restarts from the base lr, not from the warm-up's last lr; a
 * child without a closed form computes its epoch 0 as usual), and from then on it is stepped
 * normally. Every child's base lrs are the groups' initial lrs, as in torch.
 */
public final class SequentialLR extends LrScheduler {
  private final List<LrScheduler> schedulers;
  private final int[] milestones;

  /**
   * Chains {@code schedulers}, switching at {@code milestones}.
   *
   * @param optimizer the optimizer all the children were built over
   * @param schedulers the children, in order; at least one, each once, none a {@code SequentialLR}
   * @param milestones the epochs at which the next child takes over: one fewer than the children,
   *     positive and strictly increasing
   * @throws IllegalArgumentException if a child belongs to another optimizer, the counts do not
   *     fit, the milestones are not positive and increasing, or a child is given twice or is a
   *     {@code SequentialLR}
   */
  public SequentialLR(
      Optimizer optimizer, List<? extends LrScheduler> schedulers, List<Integer> milestones) {
    super(optimizer);
    Objects.requireNonNull(schedulers, "schedulers");
    Objects.requireNonNull(milestones, "milestones");
    List<LrScheduler> children = new ArrayList<>(schedulers.size());
    Set<LrScheduler> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int i = 0; i < schedulers.size(); i++) {
      LrScheduler s = Objects.requireNonNull(schedulers.get(i), "scheduler");
      if (s.optimizer() != optimizer) {
        throw new IllegalArgumentException(
            "Sequential Schedulers expects all schedulers to belong to the same "
                + "optimizer, but got schedulers at index "
                + i
                + " to be different than the optimizer passed in.");
      }
      if (s instanceof SequentialLR) {
        throw new IllegalArgumentException(
            "Sequential Schedulers expects schedulers that are not SequentialLR, "
                + "but got a SequentialLR at index "
                + i
                + " (torch 1.13 cannot step one to a milestone either).");
      }
      if (!seen.add(s)) {
        throw new IllegalArgumentException(
            "Sequential Schedulers expects every scheduler once, but got the "
                + "scheduler at index "
                + i
                + " again.");
      }
      children.add(s);
    }
    if (milestones.size() != schedulers.size() - 1) {
      throw new IllegalArgumentException(
          "Sequential Schedulers expects number of schedulers provided to be one more "
              + "than the number of milestone points, but got number of schedulers "
              + schedulers.size()
              + " and the number of milestones to be equal to "
              + milestones.size());
    }
    int[] m = new int[milestones.size()];
    for (int i = 0; i < m.length; i++) {
      m[i] = Objects.requireNonNull(milestones.get(i), "milestone");
      if (m[i] < 1 || (i > 0 && m[i] <= m[i - 1])) {
        throw new IllegalArgumentException(
            "Sequential Schedulers expects milestones to be positive and strictly "
                + "increasing, but got "
                + milestones);
      }
    }
    for (LrScheduler s : children) {
      s.checkGroupCount();
    }
    this.schedulers = List.copyOf(children);
    this.milestones = m;

    // torch's construction: its own last epoch is 0; the lrs go back to the initial lrs; every
    // child's last epoch goes back by one; the first child takes its initial step again.
    baseLrs = InitialLrs.get(optimizer);
    lastEpoch = 0;
    Groups.setLrs(optimizer, baseLrs);
    for (LrScheduler s : this.schedulers) {
      s.lastEpoch -= 1;
    }
    this.schedulers.get(0).initialStep();
    lastLr = this.schedulers.get(0).lastLr();
  }

  /**
   * The children, in order.
   *
   * @return an unmodifiable list
   */
  public List<LrScheduler> schedulers() {
    return schedulers;
  }

  /**
   * The epochs at which the next child takes over.
   *
   * @return a new list
   */
  public List<Integer> milestones() {
    List<Integer> out = new ArrayList<>(milestones.length);
    for (int v : milestones) {
      out.add(v);
    }
    return out;
  }

  /** torch's bisect_right over the milestones. */
  private int active(int epoch) {
    int i = 0;
    while (i < milestones.length && milestones[i] <= epoch) {
      i++;
    }
    return i;
  }

  @Override
  void stepOnce() {
    int epoch = lastEpoch + 1;
    int i = active(epoch);
    LrScheduler child = schedulers.get(i);
    if (i > 0 && milestones[i - 1] == epoch) {
      child.advance(0, true);
    } else {
      child.stepOnce();
    }
    lastEpoch = epoch;
    lastLr = child.lastLr();
  }

  @Override
  double[] chainableLr(int epoch, int stepCount, double[] lrs) {
    throw new AssertionError("SequentialLR steps its children");
  }

  @Override
  List<LrScheduler> children() {
    return schedulers;
  }

  @Override
  String config() {
    StringBuilder b = new StringBuilder("milestones [");
    for (int i = 0; i < milestones.length; i++) {
      b.append(i > 0 ? ", " : "").append(milestones[i]);
    }
    b.append("], schedulers [");
    for (int i = 0; i < schedulers.size(); i++) {
      b.append(i > 0 ? ", " : "").append(schedulers.get(i).kind());
    }
    return b.append(']').toString();
  }
}
