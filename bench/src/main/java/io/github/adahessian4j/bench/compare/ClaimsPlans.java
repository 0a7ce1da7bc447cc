package io.github.adahessian4j.bench.compare;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The named plans of {@code compare --full} ({@code --plan}): {@link #FULL}, the options' own
 * defaults, and {@link #SHORT}, a reduced plan for the ResNet and the transformer sized to about 35
 * minutes on a 2-core machine at 1 libtorch thread (ResNet-20, 2 transformer blocks). A plan is a
 * list of options; an option given on the command line wins over the plan's.
 */
final class ClaimsPlans {
  private ClaimsPlans() {}

  static final String FULL = "full";
  static final String SHORT = "short";

  /** The plans' names, for --help and errors. */
  static final List<String> NAMES = List.of(FULL, SHORT);

  /**
   * The claims of {@link #SHORT}: the main runs (1, 4, 6), time per step and memory (2, 3), the
   * learning-rate grid (5) and depth (8). Left out: batch sizes (7), label noise (9), the curvature
   * (10) and the cheaper variants (11), each a set of runs as long as the main ones or longer.
   */
  static final int[] SHORT_CLAIMS = {1, 2, 3, 4, 5, 6, 8};

  /**
   * The ResNet depths of {@link #SHORT}'s depth claim, beside the plain deep MLP; the transformer's
   * are {@link Model#TRANSFORMER_BLOCKS}. The model's own depth is the main runs'.
   */
  static final int[] SHORT_RESNET_DEPTHS = {8, 20, 32};

  /**
   * The options of plan {@code name} for {@code model}; empty for {@link #FULL}.
   *
   * @throws IllegalArgumentException for an unknown plan, or {@link #SHORT} for a model it is not
   *     sized for (the message says which it is)
   */
  static List<String> options(String name, Model model) {
    if (name.equals(FULL)) {
      return List.of();
    }
    if (!name.equals(SHORT)) {
      throw new IllegalArgumentException(
          "unknown plan '" + name + "': expected one of " + String.join(", ", NAMES));
    }
    List<String> common =
        List.of(
            "--seeds",
            "3",
            "--variant-seeds",
            "3",
            "--memory-seeds",
            "3",
            "--claims",
            IntStream.of(SHORT_CLAIMS).mapToObj(Integer::toString).collect(Collectors.joining(",")),
            "--lr-factors",
            "0.1,1,10",
            "--epochs",
            "2",
            "--timing-rounds",
            "3",
            "--timing-steps",
            "4");
    List<String> options = new ArrayList<>();
    if (model.name().startsWith("ResNet")) {
      // Fashion-MNIST (the data set for the ResNet), half its 8,000-image subset; in 64
      // steps AdaHessian at its default lr got to 57% (Adam 71%) at seed 1, hence the target.
      options.addAll(
          List.of(
              "--dataset",
              "fashion",
              "--train-size",
              "4096",
              "--val-size",
              "1000",
              "--target",
              "50",
              "--deep-model",
              "deep,"
                  + Arrays.stream(SHORT_RESNET_DEPTHS)
                      .filter(d -> !Model.resnet(d).equals(model))
                      .mapToObj(d -> "resnet" + d)
                      .collect(Collectors.joining(","))));
    } else if (model.languageModel()) {
      // Batch 64: the full plan's number of steps (188) at half the cost per step; in 80 steps of
      // batch 128 neither optimizer left the plateau of predicting the space (18%).
      options.addAll(
          List.of(
              "--batch",
              "64",
              "--train-size",
              "6000",
              "--val-size",
              "500",
              "--deep-model",
              Arrays.stream(Model.TRANSFORMER_BLOCKS)
                  .mapToObj(Model::transformer)
                  .filter(m -> !m.equals(model))
                  .map(m -> m.name().toLowerCase(Locale.ROOT))
                  .collect(Collectors.joining(","))));
    } else {
      throw new IllegalArgumentException(
          "plan short is sized for --model resnet and --model transformer, not "
              + model.name()
              + "; the CNN's full plan (bench/claims.sh) is already short");
    }
    options.addAll(common);
    return List.copyOf(options);
  }

  /** "plan short sets --seeds 3 ...; options given on the command line override them". */
  static String reduced(Claims.Plan plan) {
    return "plan "
        + plan.name()
        + " sets "
        + String.join(" ", options(plan.name(), plan.protocol().model()))
        + " (options given on the command line win)";
  }
}
