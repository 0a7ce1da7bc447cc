package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Thousands of random AdaHessian steps: shapes of rank 0-5, float32/float64, hyperparameters (some
 * invalid), block-averaging rules (some not dividing) and NaN/infinity placed in the loss. Every
 * outcome must be either a clean exception or a step equal to a direct double-precision evaluation
 * of the authors' formulas; never a crash. The loss is {@code sum(a * p^2 / 2 + b * p)}, so g = a p
 * + b and z * Hz = a exactly for any probe.
 */
class RandomInputTest {

  record Case(
      long[] shape,
      boolean fp64,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      double power,
      int ruleKind,
      long ruleArg,
      double[] a,
      double[] b,
      double[] p) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<long[]> shapes =
        Arbitraries.longs().between(1, 4).array(long[].class).ofMinSize(0).ofMaxSize(5);
    Arbitrary<Double> any =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(12, Arbitraries.doubles().between(0, 1).ofScale(6)),
            net.jqwik.api.Tuple.of(
                1, Arbitraries.of(-1.0, 1.0, Double.NaN, Double.POSITIVE_INFINITY, 0.0, 1e-8)));
    return Combinators.combine(
            shapes,
            Arbitraries.of(false, true),
            any,
            any,
            any,
            Arbitraries.doubles().between(-8, -2).ofScale(3).map(e -> Math.pow(10, e)),
            Arbitraries.doubles().between(0, 0.1).ofScale(6),
            Arbitraries.doubles().between(0, 1).ofScale(3))
        .flatAs(
            (shape, fp64, lr, b1, b2, eps, wd, k) -> {
              int numel = (int) java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y);
              Arbitrary<Double> value =
                  Arbitraries.frequencyOf(
                      net.jqwik.api.Tuple.of(40, Arbitraries.doubles().between(-3, 3).ofScale(6)),
                      net.jqwik.api.Tuple.of(
                          1,
                          Arbitraries.of(
                              Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)));
              Arbitrary<double[]> values = value.array(double[].class).ofSize(numel);
              Arbitrary<double[]> params =
                  Arbitraries.doubles()
                      .between(-2, 2)
                      .ofScale(6)
                      .array(double[].class)
                      .ofSize(numel);
              return Combinators.combine(
                      Arbitraries.integers().between(0, 2),
                      Arbitraries.longs().between(1, 8),
                      values,
                      values,
                      params)
                  .as(
                      (kind, arg, a, b, p) ->
                          new Case(shape, fp64, lr, b1, b2, eps, wd, k, kind, arg, a, b, p));
            });
  }

  private static BlockAveraging.Rule rule(Case c) {
    return switch (c.ruleKind()) {
      case 0 -> BlockAveraging.Rule.none();
      case 1 -> BlockAveraging.Rule.trailingDims((int) Math.min(c.ruleArg(), 5));
      default -> BlockAveraging.Rule.blocks(c.ruleArg());
    };
  }

  private static boolean finite(double[] xs) {
    for (double x : xs) {
      if (!Double.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  @Property(tries = 3000, edgeCases = EdgeCasesMode.MIXIN)
  void aStepIsCorrectOrACleanException(@ForAll("cases") Case c) {
    torch.ScalarType dtype = c.fp64() ? torch.ScalarType.Double : torch.ScalarType.Float;
    AdaHessianOptions options;
    try {
      options =
          new AdaHessianOptions(c.lr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay(), c.power());
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().startsWith("Invalid "), e.getMessage());
      Statistics.collect("invalid hyperparameter");
      return;
    }
    int rank = c.shape().length;
    BlockAveraging averaging = BlockAveraging.NONE.withRank(rank, rule(c));
    try (PointerScope scope = new PointerScope()) {
      Tensor p = T.param(c.p(), dtype, c.shape());
      double[] start = T.values(p); // rounded to the dtype
      Tensor a = T.tensor(c.a(), dtype, c.shape());
      Tensor b = T.tensor(c.b(), dtype, c.shape());
      AdaHessian opt;
      try {
        opt = AdaHessian.builder().blockAveraging(averaging).group(List.of(p), options).build();
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage().contains("does not divide"), e.getMessage());
        Statistics.collect("block size does not divide");
        return;
      }
      try (opt) {
        opt.step(() -> p.square().mul(a).mul(T.s(0.5)).add(p.mul(b)).sum());
        double[] after = T.values(p);
        double[] av = T.values(a);
        double[] bv = T.values(b);
        if (!finite(av) || !finite(bv)) {
          assertTrue(opt.lastStepSkipped(), "a non-finite gradient or estimate must skip the step");
          assertArrayEquals(start, after, 0.0);
          Statistics.collect("NaN/inf: step skipped");
          return;
        }
        Statistics.collect("step checked against the formulas");
        long block = averaging.blockSize(c.shape());
        double bc1 = 1 - c.beta1();
        double bc2 = 1 - c.beta2();
        double rtol = c.fp64() ? 1e-9 : 2e-4;
        for (int i = 0; i < start.length; i++) {
          double g = av[i] * start[i] + bv[i];
          if (!c.fp64()) {
            g = (float) (av[i] * start[i]) + (float) bv[i];
          }
          long first = i / block * block;
          double mean = 0;
          for (long j = first; j < first + block; j++) {
            mean += Math.abs(av[(int) j]) / block;
          }
          double m = (1 - c.beta1()) * g;
          double v = (1 - c.beta2()) * mean * mean;
          double denom = Math.pow(Math.sqrt(v) / Math.sqrt(bc2), c.power()) + c.eps();
          double expected = start[i] - c.lr() * (m / bc1 / denom + c.weightDecay() * start[i]);
          double tolerance =
              rtol * (Math.abs(expected) + Math.abs(start[i]) + c.lr() * Math.abs(m / bc1 / denom));
          assertTrue(
              Math.abs(after[i] - expected) <= tolerance + 1e-30,
              "element " + i + ": " + after[i] + " vs " + expected + " for " + describe(c));
        }
      }
    }
  }

  private static String describe(Case c) {
    return "shape "
        + java.util.Arrays.toString(c.shape())
        + (c.fp64() ? " float64" : " float32")
        + " lr "
        + c.lr()
        + " betas "
        + c.beta1()
        + "/"
        + c.beta2()
        + " eps "
        + c.eps()
        + " wd "
        + c.weightDecay()
        + " k "
        + c.power()
        + " rule "
        + c.ruleKind()
        + "/"
        + c.ruleArg();
  }
}
