package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused AdaHessian against {@link OpByOpAdaHessian}, step by step for 50 steps on {@link
 * TestModel} (ranks 0-5 and an unused parameter), with identical probes.
 */
class AdaHessianParityTest {
  private static final int STEPS = 50;
  private static final long SEED = 2024;

  record Case(
      String description,
      AdaHessianOptions first,
      AdaHessianOptions second,
      int updateEach,
      int warmup,
      int nSamples) {
    @Override
    public String toString() {
      return description;
    }
  }

  static Stream<Arguments> cases() {
    AdaHessianOptions base = AdaHessianOptions.DEFAULTS.withLr(0.05);
    List<Case> cases =
        List.of(
            new Case("defaults", base, base, 1, 0, 1),
            new Case(
                "weight decay", base.withWeightDecay(0.01), base.withWeightDecay(0.01), 1, 0, 1),
            new Case(
                "hessianPower 0.5",
                base.withHessianPower(0.5),
                base.withHessianPower(0.5),
                1,
                0,
                1),
            new Case("updateEach 3", base, base, 3, 0, 1),
            new Case("updateEach 4, hessianWarmup 6", base, base, 4, 6, 1),
            new Case("nSamples 2", base, base, 1, 0, 2),
            new Case(
                "two groups",
                base.withLr(0.03),
                base.withLr(0.02)
                    .withWeightDecay(1e-3)
                    .withHessianPower(0.5)
                    .withBetas(0.8, 0.99)
                    .withEps(1e-3),
                2,
                3,
                2));
    List<Arguments> args = new ArrayList<>();
    for (torch.ScalarType dtype : List.of(torch.ScalarType.Float, torch.ScalarType.Double)) {
      for (Case c : cases) {
        args.add(Arguments.of(dtype, c));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void matchesOpByOpReference(torch.ScalarType dtype, Case c) {
    boolean fp64 = dtype.value == torch.ScalarType.Double.value;
    double rtol = fp64 ? 1e-12 : 1e-6;
    double atol = rtol;
    try (PointerScope scope = new PointerScope()) {
      TestModel ours = new TestModel(dtype, 11);
      TestModel ref = new TestModel(dtype, 11);
      int split = 3; // scale, bias, weight | convolutions, unused
      List<AdaHessianOptions> refOptions = new ArrayList<>();
      refOptions.addAll(Collections.nCopies(split, c.first()));
      refOptions.addAll(Collections.nCopies(ref.params.size() - split, c.second()));
      OpByOpAdaHessian reference =
          new OpByOpAdaHessian(
              ref.params, refOptions, SEED, c.updateEach(), c.warmup(), c.nSamples());
      double[] unusedBefore = T.values(ours.unused);
      try (AdaHessian opt =
          AdaHessian.builder()
              .seed(SEED)
              .updateEach(c.updateEach())
              .hessianWarmup(c.warmup())
              .nSamples(c.nSamples())
              .group(ours.params.subList(0, split), c.first())
              .group(ours.params.subList(split, ours.params.size()), c.second())
              .build()) {
        for (int step = 1; step <= STEPS; step++) {
          opt.step(ours::loss);
          reference.step(ref::loss);
          for (int i = 0; i < ours.params.size(); i++) {
            T.assertClose(
                "step " + step + ", parameter " + i,
                T.values(ours.params.get(i)),
                T.values(ref.params.get(i)),
                rtol,
                atol);
          }
        }
        assertArrayEquals(
            unusedBefore, T.values(ours.unused), 0.0, "an unused parameter must not move");
        assertEquals(0, opt.stepCount(ours.params.size() - 1));
        assertEquals(STEPS, opt.stepCount(0));
      }
    }
  }
}
