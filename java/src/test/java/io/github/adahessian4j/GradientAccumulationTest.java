package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.DataParallelTest.Net;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Gradient accumulation ({@link AdaHessian#step(int, java.util.function.IntFunction)}): a batch in
 * 2, 4 or 8 equal parts takes exactly the steps of the whole batch (the mean of the parts'
 * gradients and Hessian-vector products, with the same probes, is the whole batch's), with the
 * Hessian refreshed every step or every other one, and with one or two probe samples.
 */
class GradientAccumulationTest {
  private static final int STEPS = 5;

  private static double[][] values(Net net) {
    double[][] out = new double[net.params.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = T.values(net.params.get(i));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} parts, updateEach {1}, nSamples {2}")
  @CsvSource({"2, 1, 1", "4, 2, 1", "8, 1, 2", "2, 2, 2"})
  void partsTakeTheWholeBatchSteps(int parts, int updateEach, int nSamples) {
    try (PointerScope scope = new PointerScope()) {
      UnaryOperator<AdaHessian.Builder> options =
          b -> b.lr(0.05).weightDecay(1e-3).updateEach(updateEach).nSamples(nSamples);
      Tensor[] xy = DataParallelTest.batch();
      Tensor x = xy[0];
      Tensor y = xy[1];
      Net whole = new Net();
      Net split = new Net();
      long share = x.size(0) / parts;
      try (AdaHessian a = options.apply(AdaHessian.builder()).build(whole.params);
          AdaHessian b = options.apply(AdaHessian.builder()).build(split.params)) {
        for (int s = 0; s < STEPS; s++) {
          double wholeLoss = a.step(() -> whole.loss(x, y)).item_double();
          double meanLoss =
              b.step(
                  parts,
                  k -> split.loss(x.narrow(0, k * share, share), y.narrow(0, k * share, share)));
          assertEquals(wholeLoss, meanLoss, 1e-12 * Math.abs(wholeLoss), "loss of step " + s);
        }
        assertEquals(a.probeCounter(), b.probeCounter(), "probe draws");
        assertEquals(a.stepCount(0), b.stepCount(0));
        assertEquals(a.stepCount(3), b.stepCount(3), "the unused parameter is skipped by both");
      }
      double[][] expected = values(whole);
      double[][] actual = values(split);
      for (int i = 0; i < expected.length; i++) {
        T.assertClose("parameter " + i, actual[i], expected[i], 1e-10, 1e-12);
      }
    }
  }

  /**
   * The Hessian from the first {@code hessianParts} parts only: with all parts it is bit for bit
   * the accumulation step; with fewer it equals an op-by-op computation (the whole batch's
   * gradient, the subset's Hutchinson estimate, same probes).
   */
  @ParameterizedTest(
      name = "{0} parts, Hessian from {1}, updateEach {2}, hessianWarmup {3}, nSamples {4}")
  @CsvSource({
    "4, 4, 1, 0, 1",
    "4, 1, 1, 0, 1",
    "4, 2, 2, 0, 1",
    "2, 1, 1, 0, 2",
    "8, 2, 3, 0, 2",
    "4, 2, 3, 2, 1"
  })
  void hessianFromPartOfTheBatch(
      int parts, int hessianParts, int updateEach, int warmup, int nSamples) {
    try (PointerScope scope = new PointerScope()) {
      UnaryOperator<AdaHessian.Builder> options =
          b ->
              b.lr(0.05)
                  .weightDecay(1e-3)
                  .updateEach(updateEach)
                  .hessianWarmup(warmup)
                  .nSamples(nSamples);
      Tensor[] xy = DataParallelTest.batch();
      Tensor x = xy[0];
      Tensor y = xy[1];
      long share = x.size(0) / parts;
      Net subset = new Net();
      Net reference = new Net();
      Net everything = new Net();
      Net twoClosures = new Net();
      List<AdaHessianOptions> groupOptions =
          java.util.Collections.nCopies(
              reference.params.size(),
              AdaHessianOptions.DEFAULTS.withLr(0.05).withWeightDecay(1e-3));
      OpByOpAdaHessian opByOp =
          new OpByOpAdaHessian(
              reference.params, groupOptions, 0x5EED_AD4E_551AL, updateEach, warmup, nSamples);
      try (AdaHessian a = options.apply(AdaHessian.builder()).build(subset.params);
          AdaHessian all = options.apply(AdaHessian.builder()).build(everything.params);
          AdaHessian two = options.apply(AdaHessian.builder()).build(twoClosures.params)) {
        for (int s = 0; s < STEPS; s++) {
          a.step(
              parts,
              hessianParts,
              k -> subset.loss(x.narrow(0, k * share, share), y.narrow(0, k * share, share)));
          all.step(
              parts,
              k -> everything.loss(x.narrow(0, k * share, share), y.narrow(0, k * share, share)));
          opByOp.step(
              () -> reference.loss(x, y),
              () ->
                  reference.loss(
                      x.narrow(0, 0, hessianParts * share), y.narrow(0, 0, hessianParts * share)));
          two.step(
              () -> twoClosures.loss(x, y),
              () ->
                  twoClosures.loss(
                      x.narrow(0, 0, hessianParts * share), y.narrow(0, 0, hessianParts * share)));
        }
        double[][] expected = values(reference);
        double[][] actual = values(subset);
        double[][] viaTwo = values(twoClosures);
        for (int i = 0; i < expected.length; i++) {
          T.assertClose("parameter " + i + " (parts)", actual[i], expected[i], 1e-10, 1e-12);
          T.assertClose("parameter " + i + " (two closures)", viaTwo[i], expected[i], 1e-10, 1e-12);
        }
        double[][] whole = values(everything);
        if (hessianParts == parts) {
          for (int i = 0; i < whole.length; i++) {
            assertArrayEquals(
                whole[i],
                actual[i],
                0.0,
                "all parts: bit for bit the accumulation step, parameter " + i);
          }
        } else {
          assertTrue(
              T.closeness(actual[0], whole[0], 1e-6, 0) > 1,
              "a subset's Hessian must give another step than the whole batch's (else this test proves nothing)");
        }
        assertEquals(all.probeCounter(), a.probeCounter(), "the same probe draws");
      }
    }
  }

  /** A part that throws ends the step: parameters, state and probe counter are untouched. */
  @Test
  void aFailingPartChangesNothing() {
    try (PointerScope scope = new PointerScope()) {
      Tensor[] xy = DataParallelTest.batch();
      Net net = new Net();
      double[][] before = values(net);
      IllegalStateException broken = new IllegalStateException("out of data");
      try (AdaHessian opt = AdaHessian.builder().build(net.params)) {
        IllegalStateException thrown =
            assertThrows(
                IllegalStateException.class,
                () ->
                    opt.step(
                        3,
                        k -> {
                          if (k == 2) {
                            throw broken;
                          }
                          return net.loss(xy[0], xy[1]);
                        }));
        assertSame(broken, thrown);
        assertEquals(0, opt.stepCount(0));
        assertEquals(0, opt.probeCounter());
      }
      double[][] after = values(net);
      for (int i = 0; i < before.length; i++) {
        assertArrayEquals(before[i], after[i]);
      }
    }
  }

  @Test
  void partsMustBePositive() {
    try (PointerScope scope = new PointerScope()) {
      Tensor[] xy = DataParallelTest.batch();
      Net net = new Net();
      try (AdaHessian opt = AdaHessian.builder().build(net.params)) {
        IllegalArgumentException e =
            assertThrows(
                IllegalArgumentException.class, () -> opt.step(0, k -> net.loss(xy[0], xy[1])));
        assertEquals("Invalid microBatches value: 0 (must be >= 1)", e.getMessage());
      }
    }
  }
}
