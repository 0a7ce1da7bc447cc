package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link HessianAnalysis} against exact answers computed in the test: the full Hessian of small
 * models built element by element with double autograd ({@link ExactHessian}), its spectrum from
 * {@code linalg_eigh}. Each test prints the accuracy it measured.
 */
class HessianAnalysisTest {
  private static final long SEED = 20240611L;

  private static HessianAnalysis analysis(HessianModels.Model model, int batch) {
    return HessianAnalysis.builder()
        .params(model.params())
        .loss(model.closure(batch))
        .seed(SEED)
        .build();
  }

  private static double maxRelativeError(double[] actual, double[] expected) {
    assertEquals(expected.length, actual.length, "count");
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]));
    }
    return worst;
  }

  private static double[] flat(List<Tensor> parts) {
    List<double[]> all = new ArrayList<>();
    int n = 0;
    for (Tensor t : parts) {
      double[] v = T.values(t);
      all.add(v);
      n += v.length;
    }
    double[] out = new double[n];
    int at = 0;
    for (double[] v : all) {
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  private static double norm(double[] v) {
    return Math.sqrt(ExactHessian.dot(v, v));
  }

  /** Top-5 Lanczos eigenvalues, eigenvectors and residuals on the MLP (285 parameters, float64). */
  @Test
  void lanczosTopFiveMatchesExactSpectrumMlp() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      ExactHessian exact = new ExactHessian(mlp.closure(0), mlp.params());
      checkTopFive("MLP", exact, analysis(mlp, 0));
    }
  }

  /** The same on the tiny CNN (204 parameters, float64). */
  @Test
  void lanczosTopFiveMatchesExactSpectrumCnn() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Cnn cnn = new HessianModels.Cnn(torch.ScalarType.Double, 3, 1);
      ExactHessian exact = new ExactHessian(cnn.closure(0), cnn.params());
      checkTopFive("CNN", exact, analysis(cnn, 0));
    }
  }

  private static void checkTopFive(String what, ExactHessian exact, HessianAnalysis h) {
    try (h) {
      HessianEigenvalues top =
          h.topEigenvalues(
              HessianEigenvalues.Options.DEFAULTS
                  .withK(5)
                  .withTolerance(1e-10)
                  .withMaxIterations(400)
                  .withEigenvectors(true));
      double[] expected = exact.largest(5);
      double err = maxRelativeError(top.eigenvalues(), expected);
      assertTrue(top.converged(), what + ": converged");
      assertTrue(err <= 1e-8, what + ": top-5 relative error " + err);
      assertEquals(top.iterations(), top.hvProducts(), "one product per Lanczos step");
      double worstResidual = 0;
      double worstAlignment = 0;
      for (int j = 0; j < 5; j++) {
        double[] y = flat(top.eigenvectors().get(j));
        assertEquals(1.0, norm(y), 1e-10, "unit eigenvector");
        double[] hy = exact.times(y);
        double[] r = new double[y.length];
        for (int i = 0; i < y.length; i++) {
          r[i] = hy[i] - top.eigenvalues()[j] * y[i];
        }
        worstResidual = Math.max(worstResidual, norm(r) / Math.abs(expected[0]));
        double cos = Math.abs(ExactHessian.dot(y, exact.eigenvector(exact.n - 1 - j)));
        worstAlignment = Math.max(worstAlignment, 1 - cos);
        assertTrue(
            top.residuals()[j] <= 1e-9 * Math.abs(expected[0]), what + ": reported residual " + j);
      }
      assertTrue(
          worstResidual <= 1e-8, what + ": ||H y - lambda y|| / lambda_max " + worstResidual);
      assertTrue(
          worstAlignment <= 1e-8, what + ": 1 - |cos(y, exact eigenvector)| " + worstAlignment);

      HessianEigenvalues bottom =
          h.topEigenvalues(
              HessianEigenvalues.Options.DEFAULTS
                  .withK(3)
                  .withTolerance(1e-10)
                  .withMaxIterations(400)
                  .withWhich(HessianEigenvalues.Which.SMALLEST));
      double[] smallest = {exact.eigenvalues[0], exact.eigenvalues[1], exact.eigenvalues[2]};
      double bottomErr = 0;
      for (int j = 0; j < 3; j++) {
        bottomErr =
            Math.max(
                bottomErr, Math.abs(bottom.eigenvalues()[j] - smallest[j]) / Math.abs(expected[0]));
      }
      assertTrue(bottomErr <= 1e-8, what + ": smallest-3 error / lambda_max " + bottomErr);
      HessianEigenvalues magnitude =
          h.topEigenvalues(
              HessianEigenvalues.Options.DEFAULTS
                  .withK(5)
                  .withTolerance(1e-10)
                  .withMaxIterations(400)
                  .withWhich(HessianEigenvalues.Which.LARGEST_MAGNITUDE));
      double magErr = maxRelativeError(magnitude.eigenvalues(), exact.largestMagnitude(5));
      assertTrue(magErr <= 1e-8, what + ": largest-magnitude-5 relative error " + magErr);
      System.out.printf(
          "HessianAnalysisTest %s (n %d): Lanczos top-5 max relative error %.2e after %d products "
              + "(exact %s); eigenvector residual %.1e, 1-|cos| %.1e; smallest-3 error %.1e; largest-|.| error %.1e%n",
          what,
          exact.n,
          err,
          top.hvProducts(),
          java.util.Arrays.toString(expected),
          worstResidual,
          worstAlignment,
          bottomErr,
          magErr);
    }
  }

  /**
   * Power iteration with deflation (PyHessian's method) finds the same eigenvalues, more slowly.
   */
  @Test
  void powerIterationAgreesWithExactSpectrum() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      ExactHessian exact = new ExactHessian(mlp.closure(0), mlp.params());
      try (HessianAnalysis h = analysis(mlp, 0)) {
        HessianEigenvalues power =
            h.powerIteration(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(3)
                    .withTolerance(1e-12)
                    .withMaxIterations(5000)
                    .withEigenvectors(true));
        double[] expected = exact.largestMagnitude(3);
        double err = maxRelativeError(power.eigenvalues(), expected);
        assertTrue(power.converged(), "converged");
        assertTrue(err <= 1e-6, "power iteration top-3 relative error " + err);
        assertEquals(power.iterations(), power.hvProducts());
        for (int j = 0; j < 3; j++) {
          assertTrue(
              power.residuals()[j] <= 1e-3 * Math.abs(expected[0]),
              "residual " + j + ": " + power.residuals()[j]);
        }
        HessianEigenvalues lanczos =
            h.topEigenvalues(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(3)
                    .withTolerance(1e-10)
                    .withWhich(HessianEigenvalues.Which.LARGEST_MAGNITUDE));
        System.out.printf(
            "HessianAnalysisTest power iteration: top-3 max relative error %.2e with %d products "
                + "(Lanczos to 1e-10: %d products)%n",
            err, power.hvProducts(), lanczos.hvProducts());
        assertTrue(lanczos.hvProducts() < power.hvProducts());
      }
    }
  }

  /**
   * Hutchinson's trace: within 4 standard errors of the exact trace, overall, per parameter, per
   * group.
   */
  @Test
  void traceWithinFourStandardErrors() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      ExactHessian exact = new ExactHessian(mlp.closure(0), mlp.params());
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .group("layer1", List.of(mlp.w1, mlp.b1), List.of("w1", "b1"))
              .group("layer2", List.of(mlp.w2, mlp.b2), List.of("w2", "b2"))
              .loss(mlp.closure(0))
              .seed(SEED)
              .build()) {
        HessianTrace t =
            h.trace(HessianTrace.Options.DEFAULTS.withRelativeError(0.02).withSamples(10, 2000));
        double truth = exact.trace(0, exact.n);
        double z = (t.trace() - truth) / t.standardError();
        assertTrue(t.converged(), "converged");
        assertTrue(t.standardError() <= 0.02 * Math.abs(t.trace()) + 1e-15, "stopping rule");
        assertTrue(
            Math.abs(z) <= 4,
            "trace " + t.trace() + " vs exact " + truth + ": " + z + " standard errors");
        assertEquals(t.samples(), t.hvProducts());
        assertEquals(t.samples(), t.sampleValues().length);
        assertEquals(List.of("w1", "b1", "w2", "b2"), t.parameterNames());
        assertEquals(List.of("layer1", "layer2"), t.groupNames());
        int[] bounds = {0, 160, 180, 280, 285};
        double worstZ = Math.abs(z);
        for (int k = 0; k < 4; k++) {
          double block = exact.trace(bounds[k], bounds[k + 1]);
          double zk = (t.perParameter()[k] - block) / t.perParameterStandardError()[k];
          worstZ = Math.max(worstZ, Math.abs(zk));
          assertTrue(
              Math.abs(zk) <= 4, "parameter " + k + ": " + t.perParameter()[k] + " vs " + block);
        }
        double[] groupTruth = {exact.trace(0, 180), exact.trace(180, 285)};
        for (int g = 0; g < 2; g++) {
          double zg = (t.perGroup()[g] - groupTruth[g]) / t.perGroupStandardError()[g];
          worstZ = Math.max(worstZ, Math.abs(zg));
          assertTrue(
              Math.abs(zg) <= 4, "group " + g + ": " + t.perGroup()[g] + " vs " + groupTruth[g]);
          assertEquals(
              t.perParameter()[2 * g] + t.perParameter()[2 * g + 1], t.perGroup()[g], 1e-12);
        }
        assertEquals(t.perGroup()[0] + t.perGroup()[1], t.trace(), 1e-12);
        System.out.printf(
            "HessianAnalysisTest trace: %.6f +- %.6f (exact %.6f, %.2f standard errors) from %d "
                + "samples; worst |z| over the whole, 4 parameters and 2 groups %.2f%n",
            t.trace(), t.standardError(), truth, z, t.samples(), worstZ);
      }
    }
  }

  /** For a diagonal Hessian every probe gives the exact trace: error 0, standard error 0. */
  @Test
  void traceIsExactForDiagonalHessian() {
    try (PointerScope scope = new PointerScope()) {
      double[] a = {3.0, -2.0, 0.5, 7.0, 0.0, 1.25};
      Tensor x = T.param(new double[] {1, 2, 3, 4, 5, 6}, torch.ScalarType.Double, 6);
      Tensor y = T.param(new double[] {0.5, -1.5, 2.0}, torch.ScalarType.Double, 3);
      Tensor av = T.tensor(a, torch.ScalarType.Double, 6);
      // 1/2 sum a_i x_i^2 + sum y_j^4: H = diag(a, 12 y^2)
      Supplier<Tensor> loss = () -> x.mul(x).mul(av).sum().mul(T.s(0.5)).add(y.pow(T.s(4)).sum());
      try (HessianAnalysis h =
          HessianAnalysis.builder().params(List.of(x, y)).loss(loss).seed(7).build()) {
        HessianTrace t = h.trace(HessianTrace.Options.DEFAULTS.withSamples(2, 100));
        double expectedY = 12 * (0.25 + 2.25 + 4.0);
        assertEquals(9.75 + expectedY, t.trace(), 1e-12);
        assertEquals(0.0, t.standardError(), 1e-12);
        assertEquals(2, t.samples());
        assertEquals(9.75, t.perParameter()[0], 1e-12);
        assertEquals(expectedY, t.perParameter()[1], 1e-12);
        assertTrue(t.converged());
      }
    }
  }

  /**
   * Stochastic Lanczos quadrature: every run's weights sum to 1, and its moments {@code sum_i w_i
   * lambda_i^k} equal {@code v^T H^k v} of its unit start vector (the seeded Rademacher draw,
   * regenerated here from the generator's specification) for k up to 2m - 1.
   */
  @Test
  void slqQuadratureIsExactUpToDegree2mMinus1() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      ExactHessian exact = new ExactHessian(mlp.closure(0), mlp.params());
      int m = 10;
      int runs = 3;
      try (HessianAnalysis h = analysis(mlp, 0)) {
        HessianDensity d = h.spectralDensity(new HessianDensity.Options(runs, m));
        assertEquals(runs, d.runs().size());
        assertEquals(runs * m, d.hvProducts());
        assertEquals(285, d.dimension());
        double scale =
            Math.max(Math.abs(exact.eigenvalues[0]), Math.abs(exact.eigenvalues[exact.n - 1]));
        double worst = 0;
        for (int r = 0; r < runs; r++) {
          HessianDensity.Run run = d.runs().get(r);
          assertEquals(m, run.steps());
          double sum = 0;
          for (double w : run.weights()) {
            assertTrue(w >= 0);
            sum += w;
          }
          assertEquals(1.0, sum, 1e-12, "run " + r + ": weights sum to 1");
          assertTrue(run.nodes()[0] >= exact.eigenvalues[0] - 1e-9 * scale);
          assertTrue(run.nodes()[m - 1] <= exact.eigenvalues[exact.n - 1] + 1e-9 * scale);
          double[] v = startVector(r, new int[] {160, 20, 100, 5});
          double[] hv = v.clone();
          for (int k = 0; k <= 2 * m - 1; k++) {
            double expected = ExactHessian.dot(v, hv); // v^T H^k v
            double err = Math.abs(run.moment(k) - expected) / Math.pow(scale, k);
            worst = Math.max(worst, err);
            assertTrue(
                err <= 1e-10, "run " + r + ", k " + k + ": " + run.moment(k) + " vs " + expected);
            hv = exact.times(hv);
          }
        }
        // The first moments are Hutchinson's samples over the same draws: the same trace estimate.
        HessianTrace t = h.trace(HessianTrace.Options.DEFAULTS.withSamples(runs, runs));
        assertEquals(t.trace(), d.traceEstimate(), 1e-10 * Math.abs(t.trace()));
        HessianDensity.Grid grid = d.smoothed(2000, 1e-5, 0.01);
        double riemann = 0;
        for (double p : grid.density()) {
          assertTrue(p >= 0);
          riemann += p;
        }
        riemann *= grid.x()[1] - grid.x()[0];
        assertEquals(1.0, riemann, 1e-12);
        System.out.printf(
            "HessianAnalysisTest SLQ (%d runs x %d steps): weights sum to 1, moments k <= %d within "
                + "%.1e * lambda_max^k of v^T H^k v%n",
            runs, m, 2 * m - 1, worst);
      }
    }
  }

  /** The unit start vector of SLQ run r: Rademacher draw r of the seed over parameter ids 0.. */
  private static double[] startVector(long draw, int[] numels) {
    int n = 0;
    for (int k : numels) {
      n += k;
    }
    double[] v = new double[n];
    int at = 0;
    for (int id = 0; id < numels.length; id++) {
      double[] z = ReferenceProbes.rademacher(SEED, draw, id, numels[id]);
      System.arraycopy(z, 0, v, at, z.length);
      at += z.length;
    }
    for (int i = 0; i < n; i++) {
      v[i] /= Math.sqrt(n);
    }
    return v;
  }

  /** The public product equals the exact Hessian times v; a group view's Hessian is the block. */
  @Test
  void hvpAndGroupBlocksMatchExactHessian() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Cnn cnn = new HessianModels.Cnn(torch.ScalarType.Double, 3, 1);
      ExactHessian exact = new ExactHessian(cnn.closure(0), cnn.params());
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .group("conv", List.of(cnn.k, cnn.kb))
              .group("linear", List.of(cnn.w, cnn.b))
              .loss(cnn.closure(0))
              .seed(SEED)
              .build()) {
        List<Tensor> v =
            List.of(
                T.randomParam(41, torch.ScalarType.Double, 3, 2, 3, 3),
                T.randomParam(42, torch.ScalarType.Double, 3),
                T.randomParam(43, torch.ScalarType.Double, 3, 48),
                T.randomParam(44, torch.ScalarType.Double, 3));
        double[] hv = flat(h.hvp(v));
        T.assertClose("H v", hv, exact.times(flat(v)), 1e-12, 1e-13);
        assertEquals(1, h.hvProducts());
        double worst = 0;
        int[][] blocks = {{0, 57}, {57, 204}};
        for (int g = 0; g < 2; g++) {
          HessianAnalysis view = h.group(g);
          int size = blocks[g][1] - blocks[g][0];
          double[] blockEig =
              ExactHessian.eigenvalues(exact.block(blocks[g][0], blocks[g][1]), size);
          double[] expected = {blockEig[size - 1], blockEig[size - 2], blockEig[size - 3]};
          HessianEigenvalues top =
              view.topEigenvalues(
                  HessianEigenvalues.Options.DEFAULTS.withK(3).withTolerance(1e-10));
          double err = maxRelativeError(top.eigenvalues(), expected);
          worst = Math.max(worst, err);
          assertTrue(err <= 1e-8, "group " + g + ": " + err);
          assertEquals(size, view.dimension());
        }
        assertEquals(List.of("conv"), h.group("conv").groupNames());
        System.out.printf(
            "HessianAnalysisTest CNN: H v exact; per-group top-3 (diagonal blocks) max relative error "
                + "%.2e%n",
            worst);
      }
    }
  }

  /**
   * Several batches: the mean product equals the product of the mean loss, with or without kept
   * graphs.
   */
  @Test
  void multiBatchMeanEqualsHessianOfMeanLoss() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 5, 3);
      AtomicInteger calls = new AtomicInteger();
      List<Supplier<Tensor>> closures = new ArrayList<>();
      for (int b = 0; b < 3; b++) {
        int batch = b;
        closures.add(
            () -> {
              calls.incrementAndGet();
              return mlp.loss(batch);
            });
      }
      Supplier<Tensor> mean = () -> mlp.loss(0).add(mlp.loss(1)).add(mlp.loss(2)).div(T.s(3));
      ExactHessian exact = new ExactHessian(mean, mlp.params());
      List<Tensor> v =
          List.of(
              T.randomParam(51, torch.ScalarType.Double, 20, 8),
              T.randomParam(52, torch.ScalarType.Double, 20),
              T.randomParam(53, torch.ScalarType.Double, 5, 20),
              T.randomParam(54, torch.ScalarType.Double, 5));
      double[] expected = exact.times(flat(v));
      try (HessianAnalysis kept =
              HessianAnalysis.builder().params(mlp.params()).losses(closures).seed(SEED).build();
          HessianAnalysis fresh =
              HessianAnalysis.builder()
                  .params(mlp.params())
                  .losses(closures)
                  .keepGraphs(false)
                  .seed(SEED)
                  .build()) {
        T.assertClose("mean H v (kept graphs)", flat(kept.hvp(v)), expected, 1e-12, 1e-13);
        kept.hvp(v);
        assertEquals(3, calls.get(), "kept graphs: each closure runs once");
        calls.set(0);
        T.assertClose("mean H v (fresh graphs)", flat(fresh.hvp(v)), expected, 1e-12, 1e-13);
        assertEquals(6, calls.get(), "fresh graphs: once to prepare, once per product");
        double[] a =
            kept.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(2).withTolerance(1e-10))
                .eigenvalues();
        double[] b =
            fresh
                .topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(2).withTolerance(1e-10))
                .eigenvalues();
        double err = maxRelativeError(a, exact.largest(2));
        assertTrue(err <= 1e-8, "mean Hessian top-2: " + err);
        assertArrayEquals(a, b, 1e-10 * Math.abs(a[0]));
        double[] loss = {
          mlp.loss(0).item_double(), mlp.loss(1).item_double(), mlp.loss(2).item_double()
        };
        assertEquals((loss[0] + loss[1] + loss[2]) / 3, kept.loss(), 1e-14);
      }
      Supplier<Tensor> weighted =
          () -> mlp.loss(0).mul(T.s(1)).add(mlp.loss(1).mul(T.s(3))).div(T.s(4));
      ExactHessian exactWeighted = new ExactHessian(weighted, mlp.params());
      try (HessianAnalysis w =
          HessianAnalysis.builder()
              .params(mlp.params())
              .losses(closures.subList(0, 2), new double[] {1, 3})
              .build()) {
        T.assertClose("weighted H v", flat(w.hvp(v)), exactWeighted.times(flat(v)), 1e-12, 1e-13);
      }
    }
  }

  /**
   * Unused and frozen parameters are skipped and named; a linear one stays (zero rows); grad()
   * untouched.
   */
  @Test
  void unusedAndFrozenParametersAreSkippedAndNamed() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      Tensor unused = HessianModels.scaled(90, torch.ScalarType.Double, 1, 7);
      Tensor frozen = HessianModels.scaled(91, torch.ScalarType.Double, 1, 4);
      frozen.requires_grad_(false);
      Tensor linear = HessianModels.scaled(92, torch.ScalarType.Double, 1, 3);
      Supplier<Tensor> loss = () -> mlp.loss(0).add(frozen.sum()).add(linear.sum().mul(T.s(0.1)));
      ExactHessian exact = new ExactHessian(mlp.closure(0), mlp.params());
      List<Tensor> params = new ArrayList<>(mlp.params());
      params.add(1, unused);
      params.add(frozen);
      params.add(linear);
      List<String> names = List.of("w1", "unused", "b1", "w2", "b2", "frozen", "linear");
      try (HessianAnalysis h =
          HessianAnalysis.builder().group("all", params, names).loss(loss).seed(SEED).build()) {
        assertEquals(
            List.of(
                "unused (no gradient: the loss does not use it)", "frozen (does not require grad)"),
            h.skipped());
        assertEquals(285 + 3, h.dimension());
        HessianEigenvalues top =
            h.topEigenvalues(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(5)
                    .withTolerance(1e-10)
                    .withMaxIterations(400)
                    .withEigenvectors(true));
        assertEquals(h.skipped(), top.skipped());
        double err = maxRelativeError(top.eigenvalues(), exact.largest(5));
        assertTrue(err <= 1e-8, "top-5 with skipped parameters: " + err);
        List<Tensor> y = top.eigenvectors().get(0);
        assertEquals(7, y.size());
        assertArrayEquals(
            new double[7], T.values(y.get(1)), 0.0, "skipped parameter: zero component");
        assertArrayEquals(new long[] {7}, FusedOptimizer.shapeOf(y.get(1)));
        HessianTrace t = h.trace(HessianTrace.Options.DEFAULTS.withSamples(10, 10));
        assertEquals(0.0, t.perParameter()[1]);
        assertEquals(0.0, t.perParameter()[5]);
        assertEquals(0.0, t.perParameter()[6], 0.0, "linear parameter: zero block");
        assertEquals(names, t.parameterNames());
        HessianDensity d = h.spectralDensity(new HessianDensity.Options(1, 5));
        assertEquals(h.skipped(), d.skipped());
        for (Tensor p : params) {
          assertFalse(p.grad().defined(), "the analysis never touches grad()");
        }
        List<Tensor> v = new ArrayList<>();
        for (Tensor p : params) {
          v.add(torch.ones_like(p).detach());
        }
        v.set(1, null);
        List<Tensor> hv = h.hvp(v);
        assertArrayEquals(new double[7], T.values(hv.get(1)), 0.0);
        assertArrayEquals(new double[3], T.values(hv.get(6)), 0.0);
      }
    }
  }

  /** The same seed gives the same numbers bit for bit; another seed other probes. */
  @Test
  void seededAndReproducible() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Cnn cnn = new HessianModels.Cnn(torch.ScalarType.Double, 3, 1);
      double[][] runs = new double[3][];
      long[] seeds = {SEED, SEED, SEED + 1};
      for (int r = 0; r < 3; r++) {
        try (HessianAnalysis h =
            HessianAnalysis.builder()
                .params(cnn.params())
                .loss(cnn.closure(0))
                .seed(seeds[r])
                .build()) {
          HessianTrace t = h.trace(HessianTrace.Options.DEFAULTS.withSamples(5, 5));
          HessianEigenvalues e =
              h.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(2).withTolerance(1e-3));
          HessianEigenvalues p =
              h.powerIteration(HessianEigenvalues.Options.DEFAULTS.withK(2).withTolerance(1e-3));
          HessianDensity d = h.spectralDensity(new HessianDensity.Options(2, 6));
          List<Double> all = new ArrayList<>();
          for (double x : t.sampleValues()) {
            all.add(x);
          }
          for (double x : e.eigenvalues()) {
            all.add(x);
          }
          all.add((double) e.hvProducts());
          for (double x : p.eigenvalues()) {
            all.add(x);
          }
          all.add((double) p.hvProducts());
          for (HessianDensity.Run run : d.runs()) {
            for (double x : run.nodes()) {
              all.add(x);
            }
            for (double x : run.weights()) {
              all.add(x);
            }
          }
          runs[r] = all.stream().mapToDouble(Double::doubleValue).toArray();
        }
      }
      assertArrayEquals(runs[0], runs[1], 0.0, "same seed, same numbers");
      assertNotEquals(runs[0][0], runs[2][0], "another seed, another first probe");
    }
  }

  /**
   * float32 parameters: products in float32, vectors in float64; eigenvalues and trace close to the
   * exact float64 ones.
   */
  @Test
  void float32Works() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp exactModel = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Float, 1, 1);
      ExactHessian exact = new ExactHessian(exactModel.closure(0), exactModel.params());
      try (HessianAnalysis h = analysis(mlp, 0)) {
        HessianEigenvalues top =
            h.topEigenvalues(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(5)
                    .withTolerance(1e-5)
                    .withEigenvectors(true));
        double err = maxRelativeError(top.eigenvalues(), exact.largest(5));
        assertTrue(err <= 1e-4, "float32 top-5: " + err);
        assertEquals(
            torch.ScalarType.Double.value, top.eigenvectors().get(0).get(0).scalar_type().value);
        HessianEigenvalues power =
            h.powerIteration(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(1)
                    .withTolerance(1e-7)
                    .withMaxIterations(2000));
        double powerErr =
            Math.abs(power.eigenvalues()[0] - exact.largestMagnitude(1)[0])
                / Math.abs(exact.largest(1)[0]);
        assertTrue(powerErr <= 1e-4, "float32 power iteration: " + powerErr);
        HessianTrace t = h.trace(HessianTrace.Options.DEFAULTS.withRelativeError(0.05));
        double truth = exact.trace(0, exact.n);
        assertTrue(
            Math.abs(t.trace() - truth) <= 4 * t.standardError() + 1e-4 * Math.abs(truth),
            "float32 trace " + t.trace() + " vs " + truth);
        List<Tensor> hv =
            h.hvp(
                List.of(
                    torch.ones_like(mlp.w1),
                    torch.ones_like(mlp.b1),
                    torch.ones_like(mlp.w2),
                    torch.ones_like(mlp.b2)));
        assertEquals(torch.ScalarType.Float.value, hv.get(0).scalar_type().value);
        double[] ones = new double[285];
        java.util.Arrays.fill(ones, 1);
        T.assertClose("float32 H 1", flat(hv), exact.times(ones), 1e-4, 1e-5);
        System.out.printf(
            "HessianAnalysisTest float32: top-5 max relative error %.2e (%d products), power "
                + "iteration %.2e, trace %.4f +- %.4f (exact %.4f)%n",
            err, top.hvProducts(), powerErr, t.trace(), t.standardError(), truth);
      }
    }
  }

  /**
   * Parameters from an optimizer's groups and from a module; invalid input refused with a message.
   */
  @Test
  void buildersAndValidation() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      try (AdaHessian opt =
              AdaHessian.builder()
                  .group(List.of(mlp.w1, mlp.b1))
                  .group(List.of(mlp.w2, mlp.b2))
                  .build();
          HessianAnalysis h =
              HessianAnalysis.builder().paramGroups(opt).loss(mlp.closure(0)).build()) {
        assertEquals(List.of("group 0", "group 1"), h.groupNames());
        assertEquals(180, h.group(0).dimension());
        assertEquals(105, h.group("group 1").dimension());
        assertEquals("parameter 2 (group 1, index 0, shape [5, 20])", h.parameterNames().get(2));
      }
      org.bytedeco.pytorch.LinearImpl linear = new org.bytedeco.pytorch.LinearImpl(3, 2);
      linear.to(torch.ScalarType.Double, false);
      Tensor input = T.tensor(new double[] {1, 2, 3, -1, 0.5, 2}, torch.ScalarType.Double, 2, 3);
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .module(linear)
              .loss(() -> torch.tanh(linear.forward(input)).square().sum())
              .build()) {
        assertEquals(List.of("weight", "bias"), h.parameterNames());
        assertEquals(8, h.dimension());
        assertEquals(1, h.topEigenvalues(1).eigenvalues().length);
      }
      IllegalArgumentException twice =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  HessianAnalysis.builder()
                      .params(List.of(mlp.w1, mlp.w1))
                      .loss(mlp.closure(0))
                      .build());
      assertEquals(
          "parameter 1 (group 0, index 1, shape [20, 8]) appears twice: it is also parameter 0 "
              + "(group 0, index 0, shape [20, 8])",
          twice.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> HessianAnalysis.builder().params(mlp.params()).build());
      assertThrows(
          IllegalArgumentException.class,
          () ->
              new HessianEigenvalues.Options(
                  0, 1e-6, 10, HessianEigenvalues.Which.LARGEST, false, null));
      assertThrows(
          IllegalArgumentException.class, () -> HessianTrace.Options.DEFAULTS.withSamples(1, 10));
      HessianAnalysis noGraph =
          HessianAnalysis.builder().params(mlp.params()).loss(() -> mlp.loss(0).detach()).build();
      OptimizerException e = assertThrows(OptimizerException.class, noGraph::dimension);
      assertTrue(
          e.getMessage()
              .startsWith("Hessian analysis: loss closure 0: the loss does not require grad"),
          e.getMessage());
      noGraph.close();
      HessianAnalysis closed = analysis(mlp, 0);
      closed.close();
      assertThrows(IllegalStateException.class, () -> closed.topEigenvalues(1));
    }
  }

  /**
   * The monitor sees every product and can stop Lanczos and accept power-iteration eigenvalues
   * early.
   */
  @Test
  void monitorStopsEarly() {
    try (PointerScope scope = new PointerScope()) {
      HessianModels.Mlp mlp = new HessianModels.Mlp(torch.ScalarType.Double, 1, 1);
      try (HessianAnalysis h = analysis(mlp, 0)) {
        List<Long> seen = new ArrayList<>();
        HessianEigenvalues e =
            h.topEigenvalues(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(3)
                    .withTolerance(0)
                    .withMonitor(
                        (products, estimates) -> {
                          seen.add(products);
                          return products == 7;
                        }));
        assertEquals(7, e.hvProducts());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), seen);
        assertTrue(e.converged());
        HessianEigenvalues p =
            h.powerIteration(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(2)
                    .withTolerance(0)
                    .withMonitor((products, estimates) -> products % 4 == 0));
        assertEquals(8, p.hvProducts());
        assertEquals(2, p.eigenvalues().length);
        HessianEigenvalues capped =
            h.topEigenvalues(
                HessianEigenvalues.Options.DEFAULTS.withK(3).withTolerance(0).withMaxIterations(9));
        assertFalse(capped.converged());
        assertEquals(9, capped.hvProducts());
      }
    }
  }

  /**
   * Repeated eigenvalues and a low rank: Lanczos continues from a fresh probe whenever its Krylov
   * space becomes invariant (PyHessian's SLQ does the same), so it finds multiplicities; power
   * iteration with deflation finds them too. SLQ stops at the invariant subspace, exactly.
   */
  @Test
  void lanczosRestartsAfterAnInvariantSubspace() {
    try (PointerScope scope = new PointerScope()) {
      // 1/2 sum a_i x_i^2 with a = (5, 5, 5, 2, 2, 0, ...): from one start vector the Krylov space
      // has three dimensions (eigenvalues 5, 2 and 0).
      double[] a = new double[12];
      a[0] = a[1] = a[2] = 5;
      a[3] = a[4] = 2;
      Tensor x = T.randomParam(3, torch.ScalarType.Double, 12);
      Tensor av = T.tensor(a, torch.ScalarType.Double, 12);
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .params(List.of(x))
              .loss(() -> x.mul(x).mul(av).sum().mul(T.s(0.5)))
              .build()) {
        HessianEigenvalues top =
            h.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(5).withTolerance(1e-10));
        assertArrayEquals(new double[] {5, 5, 5, 2, 2}, top.eigenvalues(), 1e-10);
        assertTrue(top.converged());
        HessianEigenvalues power =
            h.powerIteration(
                HessianEigenvalues.Options.DEFAULTS
                    .withK(5)
                    .withTolerance(1e-12)
                    .withMaxIterations(500));
        assertArrayEquals(new double[] {5, 5, 5, 2, 2}, power.eigenvalues(), 1e-9);
        HessianDensity d = h.spectralDensity(new HessianDensity.Options(1, 8));
        assertEquals(3, d.runs().get(0).steps(), "SLQ stops at the invariant subspace");
        assertEquals(19.0, d.traceEstimate(), 1e-10, "and its quadrature is exact");
      }
      double[] b = new double[12];
      b[0] = 5;
      b[1] = 3;
      b[2] = 2;
      Tensor bv = T.tensor(b, torch.ScalarType.Double, 12);
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .params(List.of(x))
              .loss(() -> x.mul(x).mul(bv).sum().mul(T.s(0.5)))
              .build()) {
        HessianEigenvalues top =
            h.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(5).withTolerance(1e-10));
        assertArrayEquals(new double[] {5, 3, 2, 0, 0}, top.eigenvalues(), 1e-10, "rank 3");
        assertTrue(top.converged());
        assertTrue(top.hvProducts() <= 6, "a few products: " + top.hvProducts());
      }
    }
  }

  /**
   * A k the Lanczos step cap cannot reach: {@code topEigenvalues(k)} raises its cap to fit, and
   * explicit options whose {@code maxIterations} is below {@code min(k, dimension)} are refused
   * before any product, naming k and the cap (they used to return {@code maxIterations} values with
   * {@code converged() == false} and no word).
   */
  @Test
  void aKTheStepCapCannotReachIsRefusedOrTheCapGrows() {
    int n = 260;
    try (PointerScope scope = new PointerScope()) {
      double[] a = new double[n]; // 1/2 sum a_i x_i^2: eigenvalues 1, 2, ..., 260
      for (int i = 0; i < n; i++) {
        a[i] = i + 1;
      }
      Tensor x = T.randomParam(4, torch.ScalarType.Double, n);
      Tensor av = T.tensor(a, torch.ScalarType.Double, n);
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .params(List.of(x))
              .loss(() -> x.mul(x).mul(av).sum().mul(T.s(0.5)))
              .build()) {
        IllegalArgumentException refused =
            assertThrows(
                IllegalArgumentException.class,
                () -> h.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(250)));
        assertTrue(
            refused.getMessage().startsWith("k = 250 eigenvalues need at least 250 Lanczos steps"),
            refused.getMessage());
        assertTrue(refused.getMessage().contains("maxIterations, is 200"), refused.getMessage());
        assertEquals(0, h.hvProducts(), "refused before any product");

        HessianEigenvalues top = h.topEigenvalues(250);
        assertEquals(250, top.eigenvalues().length);
        assertTrue(top.converged());
        double[] expected = new double[250];
        for (int j = 0; j < 250; j++) {
          expected[j] = n - j;
        }
        assertArrayEquals(expected, top.eigenvalues(), 1e-8 * n);

        HessianEigenvalues all =
            h.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(300).withMaxIterations(n));
        assertEquals(n, all.eigenvalues().length, "k above the dimension: every eigenvalue");
        String beyond =
            assertThrows(
                    IllegalArgumentException.class,
                    () -> h.topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(300)))
                .getMessage();
        assertTrue(
            beyond.startsWith("k = 300 eigenvalues need at least 260 Lanczos steps"), beyond);
      }
    }
  }
}
