package io.github.adahessian4j.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdaHessianOptions;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamOptions;
import io.github.adahessian4j.Optimizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;

/** Test helpers: tiny optimizers, and schedulers built from the fixture's torch-named arguments. */
final class Schedules {
  private Schedules() {}

  /** A parameter of one float64 zero that requires grad. */
  static Tensor param() {
    Tensor t = AbstractTensor.create(new double[] {0.0}, 1);
    t.requires_grad_(true); // returns a non-owning reference: keep t
    return t;
  }

  /** Adam over one tiny parameter per group, with the given lrs and betas (b1, 0.999). */
  static Adam adamWithBeta1(double beta1, double... lrs) {
    Adam.Builder b = Adam.builder();
    for (double lr : lrs) {
      b.group(List.of(param()), AdamOptions.adamDefaults().withLr(lr).withBetas(beta1, 0.999));
    }
    return b.build();
  }

  /** Adam with the default betas. */
  static Adam adam(double... lrs) {
    return adamWithBeta1(0.9, lrs);
  }

  /** AdaHessian over one tiny parameter per group, with the given lrs. */
  static AdaHessian adaHessian(double... lrs) {
    AdaHessian.Builder b = AdaHessian.builder();
    for (double lr : lrs) {
      b.group(List.of(param()), AdaHessianOptions.DEFAULTS.withLr(lr));
    }
    return b.build();
  }

  /**
   * The optimizer a fixture case describes: "sgd" (any optimizer: only the lrs matter) or "adam"
   * with betas.
   */
  static Adam optimizer(JsonNode o) {
    double[] lrs = doubles(o.get("lrs"));
    return o.has("betas") ? adamWithBeta1(o.get("betas").get(0).asDouble(), lrs) : adam(lrs);
  }

  /**
   * Builds the schedule a fixture case describes (torch's class and argument names) over {@code
   * opt}; an argument this method does not know fails the test, so the Python side cannot add one
   * the Java side silently ignores. Arguments left out get the Java defaults, through the shortest
   * constructor that has them, so those defaults are checked against torch's too.
   *
   * @return an {@link LrScheduler} or a {@link ReduceLROnPlateau}
   */
  static Object build(JsonNode spec, Optimizer opt) {
    String kind = spec.get("kind").asText();
    Args a = new Args(spec);
    Object s =
        switch (kind) {
          case "ConstantLR" ->
              a.none("factor", "total_iters")
                  ? new ConstantLR(opt)
                  : new ConstantLR(opt, a.dbl("factor", 1.0 / 3), a.integer("total_iters", 5));
          case "StepLR" ->
              a.none("gamma")
                  ? new StepLR(opt, a.integer("step_size"))
                  : new StepLR(opt, a.integer("step_size"), a.dbl("gamma"));
          case "MultiStepLR" ->
              a.none("gamma")
                  ? new MultiStepLR(opt, a.ints("milestones"))
                  : new MultiStepLR(opt, a.ints("milestones"), a.dbl("gamma"));
          case "ExponentialLR" -> new ExponentialLR(opt, a.dbl("gamma"));
          case "CosineAnnealingLR" ->
              a.none("eta_min")
                  ? new CosineAnnealingLR(opt, a.integer("T_max"))
                  : new CosineAnnealingLR(opt, a.integer("T_max"), a.dbl("eta_min"));
          case "LinearLR" ->
              a.none("start_factor", "end_factor", "total_iters")
                  ? new LinearLR(opt)
                  : new LinearLR(
                      opt,
                      a.dbl("start_factor", 1.0 / 3),
                      a.dbl("end_factor", 1.0),
                      a.integer("total_iters", 5));
          case "SequentialLR" -> {
            List<LrScheduler> children = new ArrayList<>();
            for (JsonNode c : a.node("schedulers")) {
              children.add((LrScheduler) build(c, opt));
            }
            yield new SequentialLR(opt, children, a.ints("milestones"));
          }
          case "OneCycleLR" -> {
            OneCycleLR.Builder b =
                a.isList("max_lr")
                    ? OneCycleLR.builder(opt, a.doubles("max_lr"))
                    : OneCycleLR.builder(opt, a.dbl("max_lr"));
            if (a.has("total_steps")) {
              b.totalSteps(a.integer("total_steps"));
            }
            if (a.has("epochs")) {
              b.epochs(a.integer("epochs"));
            }
            if (a.has("steps_per_epoch")) {
              b.stepsPerEpoch(a.integer("steps_per_epoch"));
            }
            if (a.has("pct_start")) {
              b.pctStart(a.dbl("pct_start"));
            }
            if (a.has("anneal_strategy")) {
              b.annealStrategy(
                  switch (a.text("anneal_strategy")) {
                    case "cos" -> OneCycleLR.AnnealStrategy.COS;
                    case "linear" -> OneCycleLR.AnnealStrategy.LINEAR;
                    default ->
                        throw new AssertionError("anneal_strategy " + a.text("anneal_strategy"));
                  });
            }
            if (a.has("cycle_momentum")) {
              b.cycleMomentum(a.bool("cycle_momentum"));
            }
            if (a.has("base_momentum")) {
              if (a.isList("base_momentum")) {
                b.baseMomentum(a.doubles("base_momentum"));
              } else {
                b.baseMomentum(a.dbl("base_momentum"));
              }
            }
            if (a.has("max_momentum")) {
              if (a.isList("max_momentum")) {
                b.maxMomentum(a.doubles("max_momentum"));
              } else {
                b.maxMomentum(a.dbl("max_momentum"));
              }
            }
            if (a.has("div_factor")) {
              b.divFactor(a.dbl("div_factor"));
            }
            if (a.has("final_div_factor")) {
              b.finalDivFactor(a.dbl("final_div_factor"));
            }
            if (a.has("three_phase")) {
              b.threePhase(a.bool("three_phase"));
            }
            yield b.build();
          }
          case "ReduceLROnPlateau" -> {
            ReduceLROnPlateau.Builder b = ReduceLROnPlateau.builder(opt);
            if (a.has("mode")) {
              b.mode(
                  switch (a.text("mode")) {
                    case "min" -> ReduceLROnPlateau.Mode.MIN;
                    case "max" -> ReduceLROnPlateau.Mode.MAX;
                    default -> throw new AssertionError("mode " + a.text("mode"));
                  });
            }
            if (a.has("factor")) {
              b.factor(a.dbl("factor"));
            }
            if (a.has("patience")) {
              b.patience(a.integer("patience"));
            }
            if (a.has("threshold")) {
              b.threshold(a.dbl("threshold"));
            }
            if (a.has("threshold_mode")) {
              b.thresholdMode(
                  switch (a.text("threshold_mode")) {
                    case "rel" -> ReduceLROnPlateau.ThresholdMode.REL;
                    case "abs" -> ReduceLROnPlateau.ThresholdMode.ABS;
                    default ->
                        throw new AssertionError("threshold_mode " + a.text("threshold_mode"));
                  });
            }
            if (a.has("cooldown")) {
              b.cooldown(a.integer("cooldown"));
            }
            if (a.has("min_lr")) {
              if (a.isList("min_lr")) {
                b.minLr(a.doubles("min_lr"));
              } else {
                b.minLr(a.dbl("min_lr"));
              }
            }
            if (a.has("eps")) {
              b.eps(a.dbl("eps"));
            }
            yield b.build();
          }
          default ->
              throw new AssertionError(
                  "the fixture has a schedule this test does not know: " + kind);
        };
    a.checkAllRead();
    return s;
  }

  static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asDouble();
    }
    return out;
  }

  /** The arguments of one schedule, with a record of which were read. */
  private static final class Args {
    private final JsonNode spec;
    private final Set<String> read = new HashSet<>(Set.of("kind"));

    Args(JsonNode spec) {
      this.spec = spec;
    }

    boolean has(String name) {
      return spec.has(name);
    }

    boolean none(String... names) {
      for (String n : names) {
        if (spec.has(n)) {
          return false;
        }
      }
      return true;
    }

    JsonNode node(String name) {
      JsonNode n = spec.get(name);
      if (n == null) {
        throw new AssertionError(spec.get("kind") + " needs " + name + ": " + spec);
      }
      read.add(name);
      return n;
    }

    boolean isList(String name) {
      return node(name).isArray();
    }

    double dbl(String name) {
      return node(name).asDouble();
    }

    double dbl(String name, double otherwise) {
      return has(name) ? dbl(name) : otherwise;
    }

    int integer(String name) {
      JsonNode n = node(name);
      if (!n.isInt()) {
        throw new AssertionError(name + " is not an int: " + n);
      }
      return n.asInt();
    }

    int integer(String name, int otherwise) {
      return has(name) ? integer(name) : otherwise;
    }

    boolean bool(String name) {
      return node(name).asBoolean();
    }

    String text(String name) {
      return node(name).asText();
    }

    double[] doubles(String name) {
      return Schedules.doubles(node(name));
    }

    List<Integer> ints(String name) {
      List<Integer> out = new ArrayList<>();
      node(name).forEach(v -> out.add(v.asInt()));
      return out;
    }

    void checkAllRead() {
      spec.fieldNames()
          .forEachRemaining(
              f -> {
                if (!read.contains(f)) {
                  throw new AssertionError(
                      spec.get("kind").asText()
                          + ": the fixture gives "
                          + f
                          + ", which this test does not pass on");
                }
              });
    }
  }
}
