package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Thousands of random AdaHessian runs of {@value #STEPS} steps over one to three parameters in one
 * group (one native call per step): shapes of rank 0-5 with zero-size dimensions among them,
 * float32/float64, hyperparameters (some invalid), block-averaging rules (some not dividing) and
 * NaN/infinity placed in the loss. Every outcome must be either a clean exception or steps equal to
 * a direct double-precision evaluation of the authors' formulas; never a crash. The loss is {@code
 * sum(a * p^2 / 2 + b * p)}, so g = a p + b and z * Hz = a exactly for any probe.
 *
 * <p>Each step is checked from the parameters the library left after the previous one (so float32
 * rounding is not compounded), with the moments carried in double precision. Tolerance: rtol
 * {@value #RTOL_64} (float64) and {@value #RTOL_32} (float32), the README's tolerances against the
 * op-by-op reference, relative to the size of the terms of the update, {@code |p| + lr (|m| / bc1 /
 * denom + wd |p|)} with |m| the moving average of {@code |a p| + |b|} (the float32 kernel rounds
 * each term, and g = a p + b can cancel). Measured here: float32 errors reach about 2e-7 of that
 * size (a few float32 ulps); float64 passed at 1e-14.
 */
class RandomInputTest {
  private static final int STEPS = 3;
  private static final double RTOL_64 = 1e-12;
  private static final double RTOL_32 = 1e-6;
  private static final String CHECKED = "steps checked against the formulas";
  private static final String ZERO_SIZE = "checked cases with a zero-size parameter";
  private static final String PER_STEP = "parameters per checked step";

  /** One parameter: its shape, loss coefficients a and b, and start values. */
  record Param(long[] shape, double[] a, double[] b, double[] p) {}

  record Case(
      List<Param> params,
      boolean fp64,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay,
      double power,
      int ruleKind,
      long ruleArg) {}

  private static Arbitrary<Param> param() {
    // Dimensions of 0 to 4: about one shape in six of rank >= 1 has a zero-size dimension.
    Arbitrary<long[]> shapes =
        Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(0L)), Tuple.of(12, Arbitraries.longs().between(1, 4)))
            .array(long[].class)
            .ofMinSize(0)
            .ofMaxSize(5);
    Arbitrary<Double> value =
        Arbitraries.frequencyOf(
            Tuple.of(400, Arbitraries.doubles().between(-3, 3).ofScale(6)),
            Tuple.of(
                1, Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)));
    return shapes.flatMap(
        shape -> {
          int numel = (int) Arrays.stream(shape).reduce(1, (x, y) -> x * y);
          Arbitrary<double[]> values = value.array(double[].class).ofSize(numel);
          Arbitrary<double[]> start =
              Arbitraries.doubles().between(-2, 2).ofScale(6).array(double[].class).ofSize(numel);
          return Combinators.combine(values, values, start)
              .as((a, b, p) -> new Param(shape, a, b, p));
        });
  }

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<Double> any =
        Arbitraries.frequencyOf(
            Tuple.of(12, Arbitraries.doubles().between(0, 1).ofScale(6)),
            Tuple.of(
                1, Arbitraries.of(-1.0, 1.0, Double.NaN, Double.POSITIVE_INFINITY, 0.0, 1e-8)));
    return Combinators.combine(
            param().list().ofMinSize(1).ofMaxSize(3),
            Arbitraries.of(false, true),
            any,
            any,
            any,
            Arbitraries.doubles().between(-8, -2).ofScale(3).map(e -> Math.pow(10, e)),
            Arbitraries.doubles().between(0, 0.1).ofScale(6),
            Arbitraries.doubles().between(0, 1).ofScale(3))
        .flatAs(
            (params, fp64, lr, b1, b2, eps, wd, k) ->
                Combinators.combine(
                        Arbitraries.integers().between(0, 2), Arbitraries.longs().between(1, 8))
                    .as((kind, arg) -> new Case(params, fp64, lr, b1, b2, eps, wd, k, kind, arg)));
  }

  private static BlockAveraging.Rule rule(Case c) {
    return switch (c.ruleKind()) {
      case 0 -> BlockAveraging.Rule.none();
      case 1 -> BlockAveraging.Rule.trailingDims((int) c.ruleArg() % 6);
      default -> BlockAveraging.Rule.blocks(c.ruleArg());
    };
  }

  /**
   * The block size the case's rule means for {@code shape}, from the rule's definition: none 1,
   * trailingDims(d) the product of the last d dimensions, blocks(s) s.
   */
  private static long expectedBlock(Case c, long[] shape) {
    return switch (c.ruleKind()) {
      case 0 -> 1;
      case 1 -> {
        long size = 1;
        int dims = (int) c.ruleArg() % 6;
        for (int d = Math.max(0, shape.length - dims); d < shape.length; d++) {
          size *= shape[d];
        }
        yield size;
      }
      default -> c.ruleArg();
    };
  }

  private static long numel(long[] shape) {
    return Arrays.stream(shape).reduce(1, (x, y) -> x * y);
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
  void stepsAreCorrectOrACleanException(@ForAll("cases") Case c) {
    // At least a third of the cases must reach the formulas (about 45% do), and zero-size and
    // multi-parameter steps must be among them: a generator drifting to invalid input fails here.
    Statistics.coverage(coverage -> coverage.check(CHECKED).percentage(p -> p >= 33));
    Statistics.label(ZERO_SIZE).coverage(coverage -> coverage.check(true).percentage(p -> p >= 5));
    Statistics.label(PER_STEP)
        .coverage(
            coverage -> coverage.checkQuery(n -> (int) n.get(0) > 1).percentage(p -> p >= 15));
    run(c);
  }

  private void run(Case c) {
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
    BlockAveraging averaging = BlockAveraging.NONE;
    for (int rank = 0; rank <= 5; rank++) {
      averaging = averaging.withRank(rank, rule(c));
    }
    int n = c.params().size();
    boolean divides = true;
    for (Param q : c.params()) {
      long numel = numel(q.shape());
      divides &= numel == 0 || numel % expectedBlock(c, q.shape()) == 0;
    }
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> p = new ArrayList<>();
      List<Tensor> a = new ArrayList<>();
      List<Tensor> b = new ArrayList<>();
      double[][] av = new double[n][];
      double[][] bv = new double[n][];
      boolean allFinite = true;
      for (Param q : c.params()) {
        p.add(T.param(q.p(), dtype, q.shape()));
        a.add(T.tensor(q.a(), dtype, q.shape()));
        b.add(T.tensor(q.b(), dtype, q.shape()));
        av[p.size() - 1] = T.values(a.get(p.size() - 1)); // rounded to the dtype
        bv[p.size() - 1] = T.values(b.get(p.size() - 1));
        allFinite &= finite(av[p.size() - 1]) && finite(bv[p.size() - 1]);
      }
      AdaHessian.Builder builder = AdaHessian.builder().blockAveraging(averaging).group(p, options);
      if (!divides) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, builder::build);
        assertTrue(e.getMessage().contains("does not divide"), e.getMessage());
        Statistics.collect("block size does not divide");
        return;
      }
      try (AdaHessian opt = builder.build()) {
        double[][] m = new double[n][];
        double[][] mAbs = new double[n][];
        double[][] v = new double[n][];
        for (int i = 0; i < n; i++) {
          m[i] = new double[av[i].length];
          mAbs[i] = new double[av[i].length];
          v[i] = new double[av[i].length];
        }
        double[][] start = new double[n][];
        for (int i = 0; i < n; i++) {
          start[i] = T.values(p.get(i)); // rounded to the dtype
        }
        for (int t = 1; t <= STEPS; t++) {
          double[][] before = new double[n][];
          for (int i = 0; i < n; i++) {
            before[i] = T.values(p.get(i));
          }
          opt.step(
              () -> {
                Tensor loss = null;
                for (int i = 0; i < n; i++) {
                  Tensor pi = p.get(i);
                  Tensor term = pi.square().mul(a.get(i)).mul(T.s(0.5)).add(pi.mul(b.get(i))).sum();
                  loss = loss == null ? term : loss.add(term);
                }
                return loss;
              });
          if (!allFinite) {
            assertTrue(
                opt.lastStepSkipped(), "a non-finite gradient or estimate must skip the step");
            for (int i = 0; i < n; i++) {
              assertArrayEquals(
                  start[i], T.values(p.get(i)), 0.0, "a skipped step moved param " + i);
            }
            continue;
          }
          assertTrue(!opt.lastStepSkipped(), "a finite step was skipped");
          for (int i = 0; i < n; i++) {
            checkStep(
                c,
                t,
                i,
                expectedBlock(c, c.params().get(i).shape()),
                av[i],
                bv[i],
                before[i],
                T.values(p.get(i)),
                m[i],
                mAbs[i],
                v[i]);
          }
        }
        if (!allFinite) {
          assertEquals(STEPS, opt.skippedSteps());
          Statistics.collect("NaN/inf: steps skipped");
          return;
        }
        boolean zeroSize = false;
        for (Param q : c.params()) {
          zeroSize |= numel(q.shape()) == 0;
        }
        Statistics.collect(CHECKED);
        Statistics.label(ZERO_SIZE).collect(zeroSize);
        Statistics.label(PER_STEP).collect(n);
      }
    }
  }

  /**
   * Checks step {@code t} of parameter {@code i}: {@code after} against the formulas applied to
   * {@code before}; advances the double-precision moments {@code m}, {@code mAbs}, {@code v}.
   */
  private static void checkStep(
      Case c,
      int t,
      int i,
      long block,
      double[] a,
      double[] b,
      double[] before,
      double[] after,
      double[] m,
      double[] mAbs,
      double[] v) {
    double bc1 = 1 - Math.pow(c.beta1(), t);
    double bc2 = 1 - Math.pow(c.beta2(), t);
    double rtol = c.fp64() ? RTOL_64 : RTOL_32;
    for (int e = 0; e < before.length; e++) {
      long first = e / block * block;
      double mean = 0;
      for (long j = first; j < first + block; j++) {
        mean += Math.abs(a[(int) j]) / block;
      }
      double g = a[e] * before[e] + b[e];
      m[e] = c.beta1() * m[e] + (1 - c.beta1()) * g;
      mAbs[e] =
          c.beta1() * mAbs[e] + (1 - c.beta1()) * (Math.abs(a[e] * before[e]) + Math.abs(b[e]));
      v[e] = c.beta2() * v[e] + (1 - c.beta2()) * mean * mean;
      double denom = Math.pow(Math.sqrt(v[e]) / Math.sqrt(bc2), c.power()) + c.eps();
      double expected = before[e] - c.lr() * (m[e] / bc1 / denom + c.weightDecay() * before[e]);
      double scale =
          Math.abs(before[e])
              + c.lr() * (mAbs[e] / bc1 / denom + c.weightDecay() * Math.abs(before[e]));
      assertTrue(
          Math.abs(after[e] - expected) <= rtol * scale,
          "step "
              + t
              + ", parameter "
              + i
              + ", element "
              + e
              + ": "
              + after[e]
              + " vs "
              + expected
              + " (error "
              + Math.abs(after[e] - expected) / scale
              + " of the scale) for "
              + describe(c));
    }
  }

  private static String describe(Case c) {
    StringBuilder shapes = new StringBuilder();
    for (Param q : c.params()) {
      shapes.append(Arrays.toString(q.shape()));
    }
    return "shapes "
        + shapes
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
        + rule(c);
  }
}
