package io.github.adahessian4j.schedule;

import io.github.adahessian4j.AdaHessianOptions;
import io.github.adahessian4j.AdamOptions;
import io.github.adahessian4j.GroupOptions;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.ParamGroup;
import java.util.List;

/** Reading and writing the groups' lr and beta1, and the checks around them. */
final class Groups {
  private Groups() {}

  /** Throws when the optimizer no longer has the number of groups the scheduler was built over. */
  static void checkCount(String kind, int expected, int actual) {
    if (expected != actual) {
      throw new IllegalStateException(
          kind
              + " was built over "
              + expected
              + " param group"
              + (expected == 1 ? "" : "s")
              + " but the optimizer now has "
              + actual
              + ": a group added "
              + "after the scheduler was built has no base lr; build a new scheduler");
    }
  }

  static int count(Optimizer optimizer) {
    return optimizer.paramGroups().size();
  }

  static double[] lrs(Optimizer optimizer) {
    List<? extends ParamGroup<?>> groups = optimizer.paramGroups();
    double[] out = new double[groups.size()];
    for (int g = 0; g < out.length; g++) {
      out[g] = groups.get(g).lr();
    }
    return out;
  }

  /** Throws, naming the group, unless every value is an lr the optimizers accept. */
  static void checkLrs(String kind, double[] lrs) {
    for (int g = 0; g < lrs.length; g++) {
      if (!(lrs[g] >= 0.0) || Double.isInfinite(lrs[g])) {
        throw new IllegalStateException(
            kind
                + " computed an invalid learning rate for param group "
                + g
                + ": "
                + lrs[g]
                + "; nothing was changed");
      }
    }
  }

  static void setLrs(Optimizer optimizer, double[] lrs) {
    List<? extends ParamGroup<?>> groups = optimizer.paramGroups();
    for (int g = 0; g < lrs.length; g++) {
      groups.get(g).setLr(lrs[g]);
    }
  }

  /** The group's beta1 (AdamOptions and AdaHessianOptions both have one). */
  static double beta1(ParamGroup<?> group) {
    GroupOptions<?> o = group.options();
    if (o instanceof AdamOptions a) {
      return a.beta1();
    }
    if (o instanceof AdaHessianOptions h) {
      return h.beta1();
    }
    throw new IllegalStateException("options " + o.getClass().getName() + " have no beta1");
  }

  static double[] beta1s(Optimizer optimizer) {
    List<? extends ParamGroup<?>> groups = optimizer.paramGroups();
    double[] out = new double[groups.size()];
    for (int g = 0; g < out.length; g++) {
      out[g] = beta1(groups.get(g));
    }
    return out;
  }

  /** Throws, naming the group, unless every value is a beta1 the optimizers accept: [0, 1). */
  static void checkBeta1s(String kind, double[] beta1s) {
    for (int g = 0; g < beta1s.length; g++) {
      if (!(beta1s[g] >= 0.0 && beta1s[g] < 1.0)) {
        throw new IllegalStateException(
            kind
                + " computed an invalid momentum (beta1) for param group "
                + g
                + ": "
                + beta1s[g]
                + "; nothing was changed");
      }
    }
  }

  static void setBeta1s(Optimizer optimizer, double[] beta1s) {
    List<? extends ParamGroup<?>> groups = optimizer.paramGroups();
    for (int g = 0; g < beta1s.length; g++) {
      setBeta1(groups.get(g), beta1s[g]);
    }
  }

  /** Replaces the group's beta1; beta2 and the other options stay. */
  @SuppressWarnings("unchecked")
  static <O extends GroupOptions<O>> void setBeta1(ParamGroup<O> group, double beta1) {
    O o = group.options();
    GroupOptions<?> updated;
    if (o instanceof AdamOptions a) {
      updated = a.withBetas(beta1, a.beta2());
    } else if (o instanceof AdaHessianOptions h) {
      updated = h.withBetas(beta1, h.beta2());
    } else {
      throw new IllegalStateException("options " + o.getClass().getName() + " have no beta1");
    }
    group.setOptions((O) updated);
  }
}
