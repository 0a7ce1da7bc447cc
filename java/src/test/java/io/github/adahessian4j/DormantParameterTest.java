package io.github.adahessian4j;

import static io.github.adahessian4j.CheckpointTest.assertLoadRefused;
import static io.github.adahessian4j.CheckpointTest.saved;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Parameters the loss does not use (dormant ones) and parameters that join later, with {@code
 * updateEach > 1}: which steps build the double-backward graph, and that a parameter that joins
 * steps first with its own fresh estimate, as a fresh AdaHessian would (never with a missing or
 * zero one). Whether a step built the graph is seen from inside its closure: {@link DoubleBackward}
 * switches flash attention off for the closures it differentiates twice (libtorch's default is on).
 */
class DormantParameterTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;
  private static final int UPDATE_EACH = 4;
  private static final double LR = 0.05;
  private static final double EPS = 1e-4;
  private static final int STEPS = 10;
  private static final int JOIN = 2;

  /**
   * Graph builds with {@code a} at every step, {@code b} from step 2 on ({@code a} not due there),
   * {@code unused} never: {@code a}'s refreshes at its steps 0, 4 and 8 (global 0, 4, 8); {@code b}
   * is held back at step 2, where no graph is built, and refreshes at its steps 0 and 4 (global 3
   * and 7).
   */
  private static final List<Boolean> GRAPHS =
      List.of(true, false, false, true, true, false, false, true, true, false);

  /**
   * {@code a} in a tanh layer, used at every step; {@code b} at the steps {@code usesB} says (by
   * default from step {@link #JOIN} on), in a term with a diagonal Hessian (each z * Hz is the
   * exact diagonal, whatever the probe); {@code unused} never. {@code rows} picks the batch rows of
   * {@code a}'s term (a replica's share).
   */
  static final class LateJoin {
    final Tensor a = T.randomParam(1, F64, 3, 4);
    final Tensor b = T.randomParam(2, F64, 5);
    final Tensor unused = T.randomParam(3, F64, 2);
    final List<Tensor> params = List.of(a, b, unused);
    private final Tensor x = T.randomParam(4, F64, 8, 4).detach();
    private final IntPredicate usesB;

    LateJoin(IntPredicate usesB) {
      this.usesB = usesB;
    }

    LateJoin() {
      this(t -> t >= JOIN);
    }

    /** sum(b^4 / 4 + b^2): gradient b^3 + 2b, Hessian diagonal 3b^2 + 2, zero elsewhere. */
    static Tensor termB(Tensor b) {
      return b.pow(T.s(4)).mul(T.s(0.25)).add(b.square()).sum();
    }

    Tensor loss(int step, long from, long rows) {
      Tensor termA = torch.tanh(torch.matmul(x.narrow(0, from, rows), a.t())).square().mean();
      return usesB.test(step) ? termA.add(termB(b)) : termA;
    }

    Tensor loss(int step) {
      return loss(step, 0, 8);
    }
  }

  private static AdaHessian.Builder options() {
    return AdaHessian.builder().lr(LR).eps(EPS).updateEach(UPDATE_EACH);
  }

  private static boolean inDoubleBackward() {
    return !torch.globalContext().userEnabledFlashSDP();
  }

  /** The three step forms, each recording whether it built the graph. */
  private enum Form {
    CLOSURE,
    SPLIT,
    ACCUMULATED
  }

  private static void step(AdaHessian opt, LateJoin m, int t, Form form, List<Boolean> graphs) {
    switch (form) {
      case CLOSURE ->
          opt.step(
              () -> {
                graphs.add(inDoubleBackward());
                return m.loss(t);
              });
      case SPLIT -> {
        boolean[] called = {false};
        opt.step(
            () -> m.loss(t),
            () -> {
              called[0] = true;
              return m.loss(t);
            });
        graphs.add(called[0]);
      }
      case ACCUMULATED ->
          // two equal parts, the Hessian from the first only: the whole loss's step
          opt.step(
              2,
              1,
              part -> {
                if (part == 0) {
                  graphs.add(inDoubleBackward());
                }
                return m.loss(t);
              });
    }
  }

  /**
   * The graph is built where {@code updateEach} says, not at every step; {@code b} is held back at
   * the step it joins (no graph there), then steps with its own estimate: its first step is the
   * closed-form first AdaHessian step, and its trajectory the op-by-op reference's for a fresh
   * optimizer over {@code b} alone from that step on.
   */
  private static void lateJoin(Form form) {
    try (PointerScope scope = new PointerScope()) {
      LateJoin m = new LateJoin();
      Tensor reference = m.b.detach().clone().requires_grad_(true);
      OpByOpAdaHessian op =
          new OpByOpAdaHessian(
              List.of(reference),
              List.of(AdaHessianOptions.DEFAULTS.withLr(LR).withEps(EPS)),
              0,
              UPDATE_EACH,
              0,
              1);
      double[] b0 = T.values(m.b);
      List<Boolean> graphs = new ArrayList<>();
      try (AdaHessian opt = options().build(m.params)) {
        for (int t = 0; t < STEPS; t++) {
          step(opt, m, t, form, graphs);
          if (t == JOIN) {
            assertArrayEquals(b0, T.values(m.b), 0.0, form + ": b is held back where it joins");
            assertEquals(0, opt.stepCount(1), form + ": b's step count");
          }
          if (t == JOIN + 1) {
            T.assertClose(form + ": b's first step", T.values(m.b), firstStep(b0), 1e-12, 0);
          }
          if (t > JOIN) {
            op.step(() -> LateJoin.termB(reference));
          }
        }
        assertEquals(GRAPHS, graphs, form + ": the steps that built the graph");
        assertEquals(STEPS - JOIN - 1, opt.stepCount(1), form + ": b's step count");
        assertEquals(0, opt.stepCount(2), form + ": unused");
        T.assertClose(form + ": b", T.values(m.b), T.values(reference), 1e-12, 1e-15);
      }
    }
  }

  /** b after its first step from {@code b0}: m_hat = g, sqrt(v_hat) = |D| (k = 1, no decay). */
  private static double[] firstStep(double[] b0) {
    double[] expected = new double[b0.length];
    for (int k = 0; k < b0.length; k++) {
      double g = b0[k] * b0[k] * b0[k] + 2 * b0[k];
      double d = 3 * b0[k] * b0[k] + 2;
      expected[k] = b0[k] - LR * g / (d + EPS);
    }
    return expected;
  }

  @Test
  void aLateParameterWaitsForItsEstimateInAClosureStep() {
    lateJoin(Form.CLOSURE);
  }

  @Test
  void aLateParameterWaitsForItsEstimateInASplitStep() {
    lateJoin(Form.SPLIT);
  }

  @Test
  void aLateParameterWaitsForItsEstimateInAnAccumulatedStep() {
    lateJoin(Form.ACCUMULATED);
  }

  /**
   * {@code b} is held back at step 2 and gets no gradient again before step 6: steps 3 to 6 build
   * the graph for it (it keeps waiting, it is not taken for dormant), and step 6 steps it with its
   * estimate. Were it dormant again, step 6 would hold it back a second time: a parameter used at
   * every other step could be held back forever.
   */
  @Test
  void aWaitingParameterKeepsTheGraphUntilItGetsAGradient() {
    try (PointerScope scope = new PointerScope()) {
      LateJoin m = new LateJoin(t -> t == JOIN || t >= 6);
      double[] b0 = T.values(m.b);
      List<Boolean> graphs = new ArrayList<>();
      try (AdaHessian opt = options().build(m.params)) {
        for (int t = 0; t < STEPS; t++) {
          step(opt, m, t, Form.CLOSURE, graphs);
          if (t == 6) {
            assertEquals(1, opt.stepCount(1), "b's step count");
            T.assertClose("b's first step", T.values(m.b), firstStep(b0), 1e-12, 0);
          }
        }
      }
      assertEquals(List.of(true, false, false, true, true, true, true, false, true, false), graphs);
    }
  }

  /** A parameter never used costs no graph: with updateEach 4 one step in 4 builds it. */
  @Test
  void anUnusedParameterLeavesTheScheduleToUpdateEach() {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(F64, 21); // its last parameter is never used
      List<Boolean> graphs = new ArrayList<>();
      List<Boolean> refreshed = new ArrayList<>();
      try (AdaHessian opt = AdaHessian.builder().lr(0.01).updateEach(4).build(model.params)) {
        for (int t = 0; t < 8; t++) {
          opt.step(
              () -> {
                graphs.add(inDoubleBackward());
                return model.loss();
              });
          refreshed.add(opt.lastStepStats().hessianRefreshed());
        }
        List<Boolean> expected = List.of(true, false, false, false, true, false, false, false);
        assertEquals(expected, graphs, "the steps that built the graph");
        assertEquals(expected, refreshed, "the steps that refreshed the estimate");
        assertEquals(2, opt.probeCounter(), "two refreshes, one probe each");
      }
    }
  }

  /**
   * Saved while {@code b} is dormant (before it joins), loaded into a new optimizer: the same steps
   * follow, {@code b} held back where it joins. An optimizer that forgot b was dormant would build
   * the graph there and step b at once.
   */
  @Test
  void aCheckpointBeforeTheJoinResumesBitForBit() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      LateJoin straight = new LateJoin();
      LateJoin resumed = new LateJoin();
      List<Boolean> straightGraphs = new ArrayList<>();
      List<Boolean> resumedGraphs = new ArrayList<>();
      byte[] checkpoint;
      try (AdaHessian first = options().build(resumed.params)) {
        for (int t = 0; t < JOIN; t++) {
          step(first, resumed, t, Form.CLOSURE, resumedGraphs);
        }
        checkpoint = saved(first);
      }
      try (AdaHessian reference = options().build(straight.params);
          AdaHessian second = options().build(resumed.params)) {
        second.load(new ByteArrayInputStream(checkpoint));
        for (int t = 0; t < STEPS; t++) {
          step(reference, straight, t, Form.CLOSURE, straightGraphs);
          if (t >= JOIN) {
            step(second, resumed, t, Form.CLOSURE, resumedGraphs);
          }
        }
        assertEquals(GRAPHS, straightGraphs);
        assertEquals(GRAPHS, resumedGraphs, "the resumed run builds the graph where it did");
        for (int i = 0; i < straight.params.size(); i++) {
          assertArrayEquals(
              T.values(straight.params.get(i)),
              T.values(resumed.params.get(i)),
              0.0,
              "parameter " + i);
        }
      }
    }
  }

  /**
   * Every activity code survives a save and load: awake ({@code a}), waiting ({@code b}, held back)
   * and dormant ({@code unused}); an unknown code is refused by name and loads nothing.
   */
  @Test
  void theActivitySurvivesACheckpointAndABadCodeIsRefused() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      LateJoin m = new LateJoin();
      long seed = 77;
      try (AdaHessian opt = options().seed(seed).build(m.params);
          AdaHessian loaded = options().seed(seed).build(m.params)) {
        for (int t = 0; t <= JOIN; t++) {
          step(opt, m, t, Form.CLOSURE, new ArrayList<>());
        }
        byte[] checkpoint = saved(opt);
        int at = HessianWarmupTest.activityAt(checkpoint, seed, 3);
        assertArrayEquals(
            new byte[] {0, 2, 1},
            Arrays.copyOfRange(checkpoint, at, at + 3),
            "awake, waiting, dormant");
        loaded.load(new ByteArrayInputStream(checkpoint));
        assertArrayEquals(checkpoint, saved(loaded), "saved again after loading");

        byte[] bad = checkpoint.clone();
        bad[at + 1] = 7;
        CRC32 crc = new CRC32();
        crc.update(bad, 0, bad.length - Long.BYTES);
        ByteBuffer.wrap(bad).putLong(bad.length - Long.BYTES, crc.getValue());
        try (AdaHessian fresh = options().seed(seed).build(m.params)) {
          assertLoadRefused(
              fresh,
              bad,
              "the checkpoint has an unknown activity code 7 for parameter 1 (group 0, index 1, "
                  + "shape [5]); nothing was loaded");
        }
      }
    }
  }

  /**
   * At the step where {@code b} joins, a closure that throws and a step skipped for a NaN gradient
   * change nothing, the activity included: the steps that follow are those of a run without them.
   */
  @Test
  void aFailedOrSkippedStepWhereAParameterJoinsChangesNothing() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      LateJoin m = new LateJoin();
      List<Boolean> graphs = new ArrayList<>();
      try (AdaHessian opt = options().nonFinitePolicy(NonFinitePolicy.SKIP).build(m.params)) {
        for (int t = 0; t < JOIN; t++) {
          step(opt, m, t, Form.CLOSURE, graphs);
        }
        byte[] before = saved(opt);
        assertThrows(
            IllegalStateException.class,
            () ->
                opt.step(
                    () -> {
                      m.loss(JOIN);
                      throw new IllegalStateException("the closure failed");
                    }));
        assertArrayEquals(before, saved(opt), "after a closure that threw");
        opt.step(() -> m.loss(JOIN).add(m.a.sum().mul(T.s(Double.NaN))));
        assertTrue(opt.lastStepStats().skipped());
        assertArrayEquals(before, saved(opt), "after a skipped step");
        for (int t = JOIN; t < STEPS; t++) {
          step(opt, m, t, Form.CLOSURE, graphs);
        }
        assertEquals(GRAPHS, graphs);
      }
    }
  }

  /**
   * Two replicas, each on half of {@code a}'s batch, agree on every step that builds the graph and
   * on holding {@code b} back (the mean's lists match: {@link DataParallelTest.InProcessMean}
   * checks it), and take the whole batch's steps.
   */
  @Test
  void replicasAgreeOnHoldingALateParameterBack() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      LateJoin whole = new LateJoin();
      List<Boolean> wholeGraphs = new ArrayList<>();
      try (AdaHessian opt = options().build(whole.params)) {
        for (int t = 0; t < STEPS; t++) {
          step(opt, whole, t, Form.CLOSURE, wholeGraphs);
        }
      }
      DataParallelTest.InProcessMean mean = new DataParallelTest.InProcessMean(2);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Future<double[][]>> ranks = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
          int rank = r;
          ranks.add(pool.submit(() -> replica(rank, mean.rank(rank))));
        }
        double[][] r0 = ranks.get(0).get(120, TimeUnit.SECONDS);
        double[][] r1 = ranks.get(1).get(120, TimeUnit.SECONDS);
        for (int i = 0; i < whole.params.size(); i++) {
          assertArrayEquals(r0[i], r1[i], 0.0, "replicas agree on parameter " + i);
          T.assertClose("parameter " + i, r0[i], T.values(whole.params.get(i)), 1e-10, 1e-12);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static double[][] replica(int rank, ReplicaMean mean) {
    try (PointerScope scope = new PointerScope()) {
      LateJoin m = new LateJoin();
      try (AdaHessian opt = options().replicaMean(mean).build(m.params)) {
        for (int t = 0; t < STEPS; t++) {
          int step = t;
          opt.step(() -> m.loss(step, rank * 4L, 4));
        }
      }
      double[][] out = new double[m.params.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = T.values(m.params.get(i));
      }
      return out;
    }
  }
}
