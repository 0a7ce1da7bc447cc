package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The {@link Optimizer} contract: one closure form for every optimizer, clear refusals of closures
 * that break it, statistics, clipping, stream checkpoints, groups added later, and the small
 * defects a new user found (zero-element and non-leaf parameters).
 */
class OptimizerContractTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;

  private static List<Tensor> params(long seed) {
    return List.of(
        T.randomParam(seed, F64, 5, 3),
        T.randomParam(seed + 1, F64, 3),
        T.randomParam(seed + 2, F64, 2, 3, 3));
  }

  private static Tensor loss(List<Tensor> p) {
    Tensor x = T.randomParam(99, F64, 4, 5);
    x.requires_grad_(false);
    Tensor h = torch.tanh(torch.matmul(x, p.get(0)).add(p.get(1)));
    return h.square().sum().add(torch.tanh(p.get(2)).square().sum().mul(T.s(0.3)));
  }

  private static double[][] snapshot(List<Tensor> p) {
    double[][] v = new double[p.size()][];
    for (int i = 0; i < p.size(); i++) {
      v[i] = T.values(p.get(i));
    }
    return v;
  }

  private static void assertUnchanged(double[][] before, List<Tensor> p, String what) {
    for (int i = 0; i < p.size(); i++) {
      assertArrayEquals(before[i], T.values(p.get(i)), 0.0, what + ": parameter " + i + " moved");
    }
  }

  @Test
  void adamClosureThatOnlyReturnsTheLossSteps() {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> a = params(1);
      List<Tensor> b = params(1);
      try (Adam closureForm = Adam.builder().lr(0.01).build(a);
          Adam backwardForm = Adam.builder().lr(0.01).build(b)) {
        double[][] start = snapshot(a);
        for (int t = 0; t < 5; t++) {
          closureForm.step(() -> loss(a));
          backwardForm.zeroGrad();
          loss(b).backward();
          backwardForm.step();
        }
        assertNotEquals(
            start[0][0],
            T.values(a.get(0))[0],
            "the closure form must step (it was a silent no-op)");
        for (int i = 0; i < a.size(); i++) {
          assertArrayEquals(
              T.values(b.get(i)), T.values(a.get(i)), 0.0, "closure form == backward() + step()");
        }
      }
    }
  }

  @Test
  void adamRefusesAClosureThatCallsBackward() {
    for (boolean decoupled : new boolean[] {false, true}) {
      try (PointerScope scope = new PointerScope()) {
        List<Tensor> p = params(2);
        Optimizer opt = decoupled ? AdamW.builder().build(p) : Adam.builder().build(p);
        try (opt) {
          double[][] before = snapshot(p);
          OptimizerException e =
              assertThrows(
                  OptimizerException.class,
                  () ->
                      opt.step(
                          () -> {
                            Tensor l = loss(p);
                            l.backward();
                            return l;
                          }));
          assertEquals(
              (decoupled ? "AdamW" : "Adam")
                  + " step refused: the closure called backward() (parameter 0 "
                  + "(group 0, index 0, shape [5, 3]) has a gradient after it): with step(closure) the optimizer calls "
                  + "backward() itself. Return the loss without calling backward(), or call loss.backward() yourself "
                  + "and then step()",
              e.getMessage());
          assertUnchanged(before, p, "refused closure");
          assertEquals(0, opt.lastStepStats().step());
        }
      }
    }
  }

  @Test
  void adaHessianRefusesAClosureThatCallsBackward() {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> p = params(3);
      try (AdaHessian opt = AdaHessian.builder().build(p)) {
        double[][] before = snapshot(p);
        OptimizerException e =
            assertThrows(
                OptimizerException.class,
                () ->
                    opt.step(
                        () -> {
                          Tensor l = loss(p);
                          l.backward();
                          return l;
                        }));
        assertEquals(
            "AdaHessian step refused: the closure called backward() on the loss (parameter 0 (group 0, "
                + "index 0, shape [5, 3]) got a gradient during the closure). AdaHessian differentiates the loss itself, "
                + "twice (the gradient, then the Hessian-vector product): return the loss without calling backward(); "
                + "nothing was changed",
            e.getMessage());
        assertUnchanged(before, p, "refused closure");
        // With gradients already there (say, from an earlier Adam run) the consumed graph gives it
        // away.
        OptimizerException again =
            assertThrows(
                OptimizerException.class,
                () ->
                    opt.step(
                        () -> {
                          Tensor l = loss(p);
                          l.backward();
                          return l;
                        }));
        assertEquals(
            "AdaHessian step refused: the closure called backward() on the loss (its graph was already "
                + "consumed). AdaHessian differentiates the loss itself, twice (the gradient, then the Hessian-vector "
                + "product): return the loss without calling backward(); nothing was changed",
            again.getMessage());
        assertUnchanged(before, p, "refused closure, stale gradients");
        assertEquals(0, opt.stepCount(0));
      }
    }
  }

  @Test
  void statisticsReportTheGradientNormClippingAndLearningRates() {
    for (double normType : new double[] {2.0, Double.POSITIVE_INFINITY}) {
      try (PointerScope scope = new PointerScope()) {
        List<Tensor> p = params(4);
        List<Tensor> twin = params(4);
        try (Adam opt =
                Adam.builder()
                    .lr(0.01)
                    .clipGradNorm(0.5, normType)
                    .group(p.subList(0, 2))
                    .group(p.subList(2, 3), AdamOptions.adamDefaults().withLr(0.03))
                    .build();
            Adam plain =
                Adam.builder()
                    .lr(0.01)
                    .group(twin.subList(0, 2))
                    .group(twin.subList(2, 3), AdamOptions.adamDefaults().withLr(0.03))
                    .build()) {
          Tensor l = opt.step(() -> loss(p));
          // The norm, computed independently from the gradients the twin gets without clipping.
          plain.zeroGrad();
          Tensor lt = loss(twin);
          lt.backward();
          double norm = 0;
          for (Tensor t : twin) {
            double[] g = T.values(t.grad());
            for (double x : g) {
              norm = normType == 2.0 ? norm + x * x : Math.max(norm, Math.abs(x));
            }
          }
          norm = normType == 2.0 ? Math.sqrt(norm) : norm;
          StepStats s = opt.lastStepStats();
          assertEquals(1, s.step());
          assertEquals(l.item_double(), s.loss(), 0.0);
          assertEquals(norm, s.gradNorm(), 1e-12 * norm, "gradient norm, type " + normType);
          assertTrue(
              norm > 0.5 && s.clipped(), "this loss's norm " + norm + " is above 0.5: clipped");
          assertFalse(s.skipped());
          assertArrayEquals(new double[] {0.01, 0.03}, s.lrs());
          assertFalse(s.hessianRefreshed());
          // p.grad() was clipped in place, as clip_grad_norm_ does: its norm is now maxNorm / (norm
          // + 1e-6) * norm.
          double clippedNorm = 0;
          for (Tensor t : p) {
            for (double x : T.values(t.grad())) {
              clippedNorm =
                  normType == 2.0 ? clippedNorm + x * x : Math.max(clippedNorm, Math.abs(x));
            }
          }
          clippedNorm = normType == 2.0 ? Math.sqrt(clippedNorm) : clippedNorm;
          assertEquals(0.5 * norm / (norm + 1e-6), clippedNorm, 1e-12);
          plain.step();
          assertFalse(plain.lastStepStats().clipped());
          if (normType == 2.0) { // without clipping the statistics report the 2-norm
            assertEquals(norm, plain.lastStepStats().gradNorm(), 1e-12 * norm);
          }
          assertTrue(
              Double.isNaN(plain.lastStepStats().loss()),
              "step() after the user's backward has no loss");
        }
      }
    }
  }

  @Test
  void libtorchPassEqualsTheNativePass() {
    // The CUDA path computes the same sums with libtorch ops; run it on CPU tensors against the
    // core.
    double[] nativeStats;
    double[] torchStats;
    nativeStats = statsAfterOneStep();
    FusedOptimizer.torchStatsForTests = true;
    try {
      torchStats = statsAfterOneStep();
    } finally {
      FusedOptimizer.torchStatsForTests = false;
    }
    T.assertClose("libtorch-ops statistics vs the core's", torchStats, nativeStats, 1e-12, 0);
  }

  private static double[] statsAfterOneStep() {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> p = params(5);
      try (AdaHessian opt = AdaHessian.builder().clipGradNorm(0.1).build(p)) {
        opt.step(() -> loss(p));
        StepStats s = opt.lastStepStats();
        return new double[] {s.gradNorm(), s.hessianMean(), s.hessianMax(), s.clipped() ? 1 : 0};
      }
    }
  }

  @Test
  void adaHessianStatisticsDescribeTheEstimateInUse() {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> p = params(6);
      Tensor linear = T.randomParam(7, F64, 4);
      Tensor c = T.randomParam(8, F64, 4);
      c.requires_grad_(false);
      List<Tensor> all = List.of(p.get(0), p.get(1), p.get(2), linear);
      try (AdaHessian opt = AdaHessian.builder().updateEach(2).build(all)) {
        for (int t = 0; t < 4; t++) {
          opt.step(() -> loss(p).add(linear.mul(c).sum())); // linear in `linear`: H's rows are 0
          StepStats s = opt.lastStepStats();
          assertEquals(
              t % 2 == 0,
              s.hessianRefreshed(),
              "updateEach 2 refreshes every other step, step " + t);
          double sum = 0;
          double max = 0;
          long n = 0;
          for (int i = 0; i < all.size(); i++) {
            double[] d = T.values(opt.stateTensor("hessian_diag", i));
            for (double x : d) {
              sum += Math.abs(x);
              max = Math.max(max, Math.abs(x));
            }
            n += d.length;
          }
          assertEquals(sum / n, s.hessianMean(), 1e-12 * (sum / n));
          assertEquals(max, s.hessianMax(), 0.0);
          assertEquals(
              1, s.zeroHessianParams(), "the linear parameter's estimate is zero everywhere");
        }
      }
    }
  }

  @Test
  void checkpointsTravelThroughStreamsAndLeaveWhatFollowsUnread() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> a = params(9);
      List<Tensor> b = params(9);
      byte[] trailer = {42, 43, 44};
      ByteArrayOutputStream archive = new ByteArrayOutputStream();
      try (AdaHessian straight = AdaHessian.builder().updateEach(2).build(a);
          AdaHessian first = AdaHessian.builder().updateEach(2).build(b)) {
        for (int t = 0; t < 3; t++) {
          straight.step(() -> loss(a));
          first.step(() -> loss(b));
        }
        first.save(archive);
        archive.write(trailer);
      }
      byte[] bytes = archive.toByteArray();
      // `a` went on to step 3 with `straight`; a fresh run over `c` replays all six steps.
      List<Tensor> c = params(9);
      try (AdaHessian reference = AdaHessian.builder().updateEach(2).build(c);
          AdaHessian resumed = AdaHessian.builder().updateEach(2).build(b)) {
        for (int t = 0; t < 3; t++) {
          reference.step(() -> loss(c));
        }
        InputStream in = new ByteArrayInputStream(bytes);
        resumed.load(in);
        assertArrayEquals(trailer, in.readAllBytes(), "load must read exactly up to its checksum");
        for (int t = 0; t < 3; t++) {
          reference.step(() -> loss(c));
          resumed.step(() -> loss(b));
        }
        for (int i = 0; i < c.size(); i++) {
          assertArrayEquals(
              T.values(c.get(i)), T.values(b.get(i)), 0.0, "resumed from a stream, parameter " + i);
        }
        assertEquals(reference.probeCounter(), resumed.probeCounter());
        // A corrupted stream is refused and changes nothing.
        byte[] bad = bytes.clone();
        bad[bad.length / 2] ^= 1;
        double[][] before = snapshot(b);
        Tensor m = resumed.stateTensor("exp_avg", 0);
        double[] moment = T.values(m);
        CheckpointException e =
            assertThrows(
                CheckpointException.class, () -> resumed.load(new ByteArrayInputStream(bad)));
        assertTrue(
            e.getMessage().startsWith("cannot load checkpoint from a stream: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("; nothing was loaded"), e.getMessage());
        assertUnchanged(before, b, "refused stream");
        assertArrayEquals(moment, T.values(resumed.stateTensor("exp_avg", 0)), 0.0);
      }
    }
  }

  @Test
  void groupsAddedLaterStepFromThenOn() throws IOException {
    for (Function<List<Tensor>, Optimizer> make :
        List.<Function<List<Tensor>, Optimizer>>of(
            p -> AdaHessian.builder().lr(0.1).build(p), p -> AdamW.builder().lr(0.01).build(p))) {
      try (PointerScope scope = new PointerScope()) {
        List<Tensor> p = params(10);
        try (Optimizer opt = make.apply(p.subList(0, 2))) {
          double[] frozen = T.values(p.get(2));
          opt.step(() -> loss(p));
          assertArrayEquals(frozen, T.values(p.get(2)), 0.0, "a parameter not yet added moved");
          IllegalArgumentException dup =
              assertThrows(
                  IllegalArgumentException.class,
                  () -> opt.addParamGroup(List.of(p.get(2), p.get(0))));
          assertEquals(
              "parameter (group 1, index 1) appears twice: it is also parameter (group 0, index 0)",
              dup.getMessage());
          assertEquals(1, opt.paramGroups().size(), "a refused group changes nothing");
          opt.addParamGroup(List.of(p.get(2)));
          assertEquals(2, opt.paramGroups().size());
          assertEquals(
              opt.paramGroups().get(0).lr(),
              opt.paramGroups().get(1).lr(),
              "the builder's defaults");
          opt.step(() -> loss(p));
          assertNotEquals(frozen[0], T.values(p.get(2))[0], "the added group steps");
          assertEquals(2, opt.lastStepStats().lrs().length);
          assertResumesBitForBit(
              opt,
              p,
              copies -> {
                Optimizer fresh = make.apply(copies.subList(0, 2));
                fresh.addParamGroup(List.of(copies.get(2)));
                return fresh;
              },
              OptimizerContractTest::loss);
        }
      }
    }
  }

  /**
   * Saves {@code opt}, loads the checkpoint into a fresh optimizer over copies of {@code params}
   * ({@code rebuild} makes it, with the same groups), takes one more step with both and expects the
   * same parameters, bit for bit.
   */
  private static void assertResumesBitForBit(
      Optimizer opt,
      List<Tensor> params,
      Function<List<Tensor>, Optimizer> rebuild,
      Function<List<Tensor>, Tensor> lossOf)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    opt.save(out);
    List<Tensor> copies = new ArrayList<>();
    for (Tensor t : params) {
      Tensor copy = t.detach().clone();
      copy.requires_grad_(true); // returns a non-owning reference: keep the owner
      copies.add(copy);
    }
    try (Optimizer fresh = rebuild.apply(copies)) {
      fresh.load(new ByteArrayInputStream(out.toByteArray()));
      opt.step(() -> lossOf.apply(params));
      fresh.step(() -> lossOf.apply(copies));
      for (int i = 0; i < params.size(); i++) {
        assertArrayEquals(
            T.values(params.get(i)),
            T.values(copies.get(i)),
            0.0,
            "the step after loading, parameter " + i);
      }
    }
  }

  @Test
  void zeroElementParametersAreAcceptedAndSkipped() throws IOException {
    for (boolean adaHessian : new boolean[] {false, true}) {
      try (PointerScope scope = new PointerScope()) {
        List<Tensor> p = params(11);
        Tensor none = T.randomParam(12, F64, 0, 3);
        List<Tensor> all = List.of(p.get(0), none, p.get(1), p.get(2));
        try (Optimizer opt =
            adaHessian ? AdaHessian.builder().build(all) : Adam.builder().build(all)) {
          for (int t = 0; t < 2; t++) {
            opt.step(() -> loss(p).add(none.sum()));
          }
          FusedOptimizer<?> f = (FusedOptimizer<?>) opt;
          assertEquals(0, f.stepCount(1), "the empty parameter is skipped");
          assertEquals(2, f.stepCount(0));
          boolean kind = adaHessian;
          assertResumesBitForBit(
              opt,
              all,
              copies -> kind ? AdaHessian.builder().build(copies) : Adam.builder().build(copies),
              q -> loss(List.of(q.get(0), q.get(2), q.get(3))).add(q.get(1).sum()));
        }
      }
    }
  }

  @Test
  void nonLeafTensorsAndBadClippingAreRefused() {
    try (PointerScope scope = new PointerScope()) {
      Tensor leaf = T.randomParam(13, F64, 3);
      Tensor derived = leaf.mul(T.s(2));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> Adam.builder().build(List.of(leaf, derived)));
      assertEquals(
          "parameter (group 0, index 1) is not a leaf tensor (it was computed from other tensors, so "
              + "stepping it in place would not change what it came from): can't optimize a non-leaf Tensor; pass the "
              + "leaf it came from, or detach().requires_grad_(true) a copy",
          e.getMessage());
      assertEquals(
          "Invalid max_norm value: 0.0 (must be positive and finite)",
          assertThrows(IllegalArgumentException.class, () -> AdaHessian.builder().clipGradNorm(0))
              .getMessage());
      assertEquals(
          "Invalid norm_type value: 1.0 (supported: 2 and Double.POSITIVE_INFINITY)",
          assertThrows(IllegalArgumentException.class, () -> Adam.builder().clipGradNorm(1, 1))
              .getMessage());
    }
  }
}
