package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Temporary, for the split of HessianAnalysis into files: every number the analysis computes on a
 * fixed model and seed, hashed bit for bit, pinned to what the unsplit class computed.
 */
class HessianSplitGoldenTest {
  private long hash = 1125899906842597L;

  private void add(double v) {
    hash = 31 * hash + Double.doubleToRawLongBits(v);
  }

  private void add(double[] vs) {
    add(vs.length);
    for (double v : vs) {
      add(v);
    }
  }

  private void add(List<Tensor> ts) {
    for (Tensor t : ts) {
      add(T.values(t));
    }
  }

  @Test
  void everyResultBitForBit() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 11, 2);
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .group("first", mlp.params().subList(0, 2))
              .group("second", mlp.params().subList(2, 4))
              .losses(List.of(mlp.closure(0), mlp.closure(1)), new double[] {1, 3})
              .seed(99)
              .build()) {
        for (HessianEigenvalues.Which which : HessianEigenvalues.Which.values()) {
          HessianEigenvalues e =
              h.topEigenvalues(
                  HessianEigenvalues.Options.DEFAULTS
                      .withK(3)
                      .withWhich(which)
                      .withEigenvectors(true));
          add(e.eigenvalues());
          add(e.residuals());
          add(e.iterations());
          add(e.hvProducts());
          add(e.converged() ? 1 : 0);
          for (List<Tensor> v : e.eigenvectors()) {
            add(v);
          }
        }
        HessianEigenvalues p =
            h.powerIteration(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(2)
                    .withTolerance(1e-4)
                    .withMaxIterations(40)
                    .withEigenvectors(true));
        add(p.eigenvalues());
        add(p.residuals());
        add(p.iterations());
        for (List<Tensor> v : p.eigenvectors()) {
          add(v);
        }
        HessianTrace t = h.trace(HessianTrace.Options.DEFAULTS.withSamples(4, 12));
        add(t.trace());
        add(t.standardError());
        add(t.sampleValues());
        add(t.perParameter());
        add(t.perParameterStandardError());
        add(t.perGroup());
        add(t.perGroupStandardError());
        HessianDensity d = h.spectralDensity(new HessianDensity.Options(2, 15));
        for (HessianDensity.Run run : d.runs()) {
          add(run.nodes());
          add(run.weights());
        }
        HessianEigenvalues g = h.group("second").topEigenvalues(2);
        add(g.eigenvalues());
        HessianTrace gt = h.group(0).trace(HessianTrace.Options.DEFAULTS.withSamples(3, 3));
        add(gt.sampleValues());
        add(h.hvp(mlp.params()));
        add(h.loss());
        add(h.hvProducts());
      }
    }
    System.out.println("golden hash " + Long.toHexString(hash));
    assertEquals(0xf80c64b6a3db4459L, hash);
  }
}
