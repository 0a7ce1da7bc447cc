package io.github.adahessian4j.schedule;

import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.ParamGroup;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * torch's {@code param_group['initial_lr']}: the lr a group had when the first scheduler was built
 * over it. Every later scheduler over the same group takes it as its base lr, which is what makes
 * {@code SequentialLR(LinearLR, CosineAnnealingLR)} anneal from the group's own lr and not from the
 * warm-up's first value that {@code LinearLR}'s construction has already set. {@code OneCycleLR}
 * overwrites it, as torch's does.
 *
 * <p>Kept beside the group (weakly, by identity: {@link ParamGroup} does not override {@code
 * equals}) because {@link ParamGroup} has no room for it.
 */
final class InitialLrs {
  private static final Map<ParamGroup<?>, Double> INITIAL = new WeakHashMap<>();

  private InitialLrs() {}

  /** torch's {@code group.setdefault('initial_lr', group['lr'])} for every group; returns them. */
  static synchronized double[] setDefault(Optimizer optimizer) {
    List<? extends ParamGroup<?>> groups = optimizer.paramGroups();
    double[] out = new double[groups.size()];
    for (int g = 0; g < out.length; g++) {
      ParamGroup<?> group = groups.get(g);
      out[g] = INITIAL.computeIfAbsent(group, k -> k.lr());
    }
    return out;
  }

  /** torch's {@code group['initial_lr'] = value} for every group. */
  static synchronized void set(Optimizer optimizer, double[] values) {
    List<? extends ParamGroup<?>> groups = optimizer.paramGroups();
    for (int g = 0; g < values.length; g++) {
      INITIAL.put(groups.get(g), values[g]);
    }
  }

  /** The initial lr of every group; a group that has none gets its current lr recorded. */
  static double[] get(Optimizer optimizer) {
    return setDefault(optimizer);
  }
}
