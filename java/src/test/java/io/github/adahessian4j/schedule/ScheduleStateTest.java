package io.github.adahessian4j.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdaHessianOptions;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamOptions;
import io.github.adahessian4j.CheckpointException;
import io.github.adahessian4j.Optimizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Saving and loading schedulers: a run resumed from a state saved mid-run, in a fresh scheduler
 * over a fresh optimizer, continues with exactly the lrs (and beta1s) of the uninterrupted run; a
 * state of another kind, group count or hyperparameters, or a damaged one, is refused and changes
 * nothing. Also the semantics around construction: initial lrs, the group check.
 */
class ScheduleStateTest {
  private static final int STEPS = 120;
  private static final double[] LRS = {0.1, 0.02};

  /** A fixed metric sequence: falling, flat, noisy, rising. */
  private static double metric(int i) {
    if (i < 30) {
      return 1.0 / (1 + 0.1 * i);
    }
    if (i < 60) {
      return 0.25;
    }
    return 0.24 + 0.01 * Math.sin(1.3 * i) + (i > 90 ? 0.001 * (i - 90) : 0);
  }

  private static List<Case> cases() {
    return List.of(
        new Case("ConstantLR", o -> new ConstantLR(o, 0.25, 40)),
        new Case("StepLR", o -> new StepLR(o, 15, 0.5)),
        new Case("MultiStepLR", o -> new MultiStepLR(o, List.of(10, 30, 30, 90), 0.3)),
        new Case("ExponentialLR", o -> new ExponentialLR(o, 0.97)),
        new Case("CosineAnnealingLR", o -> new CosineAnnealingLR(o, 45, 0.001)),
        new Case("LinearLR", o -> new LinearLR(o, 0.1, 1.0, 50)),
        new Case(
            "SequentialLR warm-up + cosine",
            o ->
                new SequentialLR(
                    o,
                    List.of(new LinearLR(o, 0.1, 1.0, 40), new CosineAnnealingLR(o, 60)),
                    List.of(40))),
        new Case(
            "SequentialLR of three",
            o ->
                new SequentialLR(
                    o,
                    List.of(
                        new ConstantLR(o, 0.5, 5),
                        new ExponentialLR(o, 0.95),
                        new StepLR(o, 10, 0.5)),
                    List.of(20, 45))),
        new Case(
            "OneCycleLR",
            o -> OneCycleLR.builder(o, new double[] {0.5, 0.1}).totalSteps(STEPS).build()),
        new Case(
            "OneCycleLR three-phase linear, no momentum",
            o ->
                OneCycleLR.builder(o, 0.3)
                    .totalSteps(STEPS)
                    .threePhase(true)
                    .annealStrategy(OneCycleLR.AnnealStrategy.LINEAR)
                    .cycleMomentum(false)
                    .build()),
        new Case(
            "ReduceLROnPlateau",
            o ->
                ReduceLROnPlateau.builder(o)
                    .factor(0.5)
                    .patience(3)
                    .cooldown(2)
                    .threshold(0.01)
                    .minLr(new double[] {1e-3, 1e-4})
                    .build()),
        new Case(
            "ReduceLROnPlateau max abs",
            o ->
                ReduceLROnPlateau.builder(o)
                    .mode(ReduceLROnPlateau.Mode.MAX)
                    .thresholdMode(ReduceLROnPlateau.ThresholdMode.ABS)
                    .threshold(0.001)
                    .patience(2)
                    .build()));
  }

  private record Case(String name, Function<Optimizer, Object> build) {}

  /** The groups' lrs and beta1s, one row per step. */
  private static double[] snapshot(Optimizer opt) {
    double[] lrs = Groups.lrs(opt);
    double[] b1 = Groups.beta1s(opt);
    double[] out = Arrays.copyOf(lrs, lrs.length * 2);
    System.arraycopy(b1, 0, out, lrs.length, b1.length);
    return out;
  }

  private static void step(Object s, int i) {
    if (s instanceof ReduceLROnPlateau p) {
      p.step(metric(i));
    } else {
      ((LrScheduler) s).step();
    }
  }

  private static void save(Object s, ByteArrayOutputStream out) throws IOException {
    if (s instanceof ReduceLROnPlateau p) {
      p.save(out);
    } else {
      ((LrScheduler) s).save(out);
    }
  }

  private static void load(Object s, byte[] state) throws IOException {
    if (s instanceof ReduceLROnPlateau p) {
      p.load(new ByteArrayInputStream(state));
    } else {
      ((LrScheduler) s).load(new ByteArrayInputStream(state));
    }
  }

  private static int lastEpoch(Object s) {
    return s instanceof ReduceLROnPlateau p ? p.lastEpoch() : ((LrScheduler) s).lastEpoch();
  }

  @TestFactory
  Stream<DynamicTest> resumedRunContinuesIdentically() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Case c : cases()) {
      for (int at : new int[] {0, 7, 41, 77}) {
        tests.add(
            DynamicTest.dynamicTest(c.name() + ", saved after step " + at, () -> resume(c, at)));
      }
    }
    return tests.stream();
  }

  private static void resume(Case c, int at) throws IOException {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS);
        Adam b = Schedules.adam(LRS)) {
      Object original = c.build().apply(a);
      List<double[]> expected = new ArrayList<>();
      byte[] state = null;
      for (int i = 0; i <= STEPS; i++) {
        if (i > 0) {
          step(original, i);
        }
        expected.add(snapshot(a));
        if (i == at) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          save(original, out);
          state = out.toByteArray();
        }
      }
      Object resumed = c.build().apply(b);
      load(resumed, state);
      assertEquals(at, lastEpoch(resumed), "last epoch after load");
      assertArrayEquals(expected.get(at), snapshot(b), 0.0, "lrs and beta1s after load");
      for (int i = at + 1; i <= STEPS; i++) {
        step(resumed, i);
        assertArrayEquals(expected.get(i), snapshot(b), 0.0, "lrs and beta1s after step " + i);
      }
      assertEquals(STEPS, lastEpoch(resumed));
    }
  }

  @Test
  void statesFollowEachOtherInOneStream() throws IOException {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS);
        Adam b = Schedules.adam(LRS)) {
      StepLR step = new StepLR(a, 3);
      ReduceLROnPlateau plateau = ReduceLROnPlateau.builder(a).patience(0).build();
      for (int i = 1; i <= 7; i++) {
        step.step();
        plateau.step(1.0);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      step.save(out);
      plateau.save(out);
      out.write(42);
      StepLR step2 = new StepLR(b, 3);
      ReduceLROnPlateau plateau2 = ReduceLROnPlateau.builder(b).patience(0).build();
      ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
      step2.load(in);
      plateau2.load(in);
      assertEquals(42, in.read(), "load reads exactly its own bytes");
      assertEquals(7, step2.lastEpoch());
      assertEquals(7, plateau2.lastEpoch());
      assertEquals(plateau.best(), plateau2.best());
      assertEquals(plateau.numBadEpochs(), plateau2.numBadEpochs());
      assertArrayEquals(Groups.lrs(a), Groups.lrs(b), 0.0);
    }
  }

  private static byte[] stateOf(LrScheduler s) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.save(out);
    return out.toByteArray();
  }

  /**
   * Loading {@code state} into {@code target} throws a CheckpointException containing {@code
   * message}, and changes nothing.
   */
  private static void assertRefused(LrScheduler target, byte[] state, String message) {
    Optimizer opt = target.optimizer();
    double[] lrs = Groups.lrs(opt);
    double[] b1 = Groups.beta1s(opt);
    int epoch = target.lastEpoch();
    double[] lastLr = target.lastLr();
    double[] base = target.baseLrs();
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> target.load(new ByteArrayInputStream(state)));
    assertTrue(e.getMessage().contains(message), () -> "message: " + e.getMessage());
    assertTrue(e.getMessage().endsWith("nothing was loaded"), () -> "message: " + e.getMessage());
    assertArrayEquals(lrs, Groups.lrs(opt), 0.0, "group lrs unchanged");
    assertArrayEquals(b1, Groups.beta1s(opt), 0.0, "beta1s unchanged");
    assertEquals(epoch, target.lastEpoch(), "last epoch unchanged");
    assertArrayEquals(lastLr, target.lastLr(), 0.0, "last lrs unchanged");
    assertArrayEquals(base, target.baseLrs(), 0.0, "base lrs unchanged");
  }

  @Test
  void mismatchedStatesAreRefusedAndChangeNothing() throws IOException {
    try (PointerScope scope = new PointerScope();
        Adam two = Schedules.adam(LRS);
        Adam three = Schedules.adam(0.1, 0.02, 0.3);
        Adam target = Schedules.adam(LRS)) {
      StepLR saved = new StepLR(two, 30);
      for (int i = 0; i < 5; i++) {
        saved.step();
      }
      byte[] step30 = stateOf(saved);

      CosineAnnealingLR cosine = new CosineAnnealingLR(target, 10);
      cosine.step();
      assertRefused(
          cosine, step30, "the scheduler state holds a StepLR, this one is CosineAnnealingLR");

      StepLR threeGroups = new StepLR(three, 30);
      assertRefused(
          threeGroups, step30, "the StepLR state is for 2 param groups, this StepLR has 3");

      try (Adam other = Schedules.adam(LRS)) {
        StepLR step10 = new StepLR(other, 10);
        assertRefused(
            step10,
            step30,
            "the StepLR state was saved with stepSize 30, gamma 0.1, this StepLR was "
                + "built with stepSize 10, gamma 0.1");
      }

      try (Adam p = Schedules.adam(LRS);
          Adam q = Schedules.adam(LRS)) {
        SequentialLR a =
            new SequentialLR(p, List.of(new LinearLR(p), new CosineAnnealingLR(p, 10)), List.of(5));
        SequentialLR b =
            new SequentialLR(q, List.of(new LinearLR(q), new ExponentialLR(q, 0.9)), List.of(5));
        assertRefused(
            b,
            stateOf(a),
            "saved with milestones [5], schedulers [LinearLR, CosineAnnealingLR], this "
                + "SequentialLR was built with milestones [5], schedulers [LinearLR, ExponentialLR]");
        SequentialLR c =
            new SequentialLR(
                q, List.of(new LinearLR(q, 0.5, 1.0, 5), new CosineAnnealingLR(q, 10)), List.of(5));
        assertRefused(
            c, stateOf(a), "the LinearLR state was saved with startFactor 0.3333333333333333");
      }

      try (Adam p = Schedules.adam(LRS)) {
        ReduceLROnPlateau plateau = ReduceLROnPlateau.builder(p).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        plateau.save(out);
        assertRefused(
            cosine, out.toByteArray(), "holds a ReduceLROnPlateau, this one is CosineAnnealingLR");
        CheckpointException e =
            assertThrows(
                CheckpointException.class,
                () -> plateau.load(new ByteArrayInputStream(stateOf(cosine))));
        assertTrue(
            e.getMessage().contains("holds a CosineAnnealingLR, this one is ReduceLROnPlateau"),
            e.getMessage());
        ReduceLROnPlateau other = ReduceLROnPlateau.builder(p).patience(3).build();
        e =
            assertThrows(
                CheckpointException.class,
                () -> other.load(new ByteArrayInputStream(out.toByteArray())));
        assertTrue(e.getMessage().contains("patience 10"), e.getMessage());
      }
    }
  }

  @Test
  void damagedStatesAreRefusedAndChangeNothing() throws IOException {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS);
        Adam b = Schedules.adam(LRS)) {
      StepLR saved = new StepLR(a, 2);
      for (int i = 0; i < 5; i++) {
        saved.step();
      }
      byte[] state = stateOf(saved);
      StepLR target = new StepLR(b, 2);
      target.step();

      assertRefused(target, Arrays.copyOf(state, state.length - 1), "scheduler state is truncated");
      assertRefused(target, Arrays.copyOf(state, 10), "scheduler state is truncated");
      assertRefused(target, new byte[0], "scheduler state is truncated");
      byte[] flipped = state.clone();
      flipped[30] ^= 1;
      assertRefused(target, flipped, "scheduler state is corrupted (checksum mismatch)");
      byte[] magic = state.clone();
      magic[0] = 'X';
      assertRefused(target, magic, "not a learning-rate scheduler state (bad magic)");
      byte[] version = state.clone();
      version[11] = 9;
      assertRefused(target, version, "scheduler state format 9 is not supported");

      target.load(new ByteArrayInputStream(state)); // the original still loads
      assertEquals(5, target.lastEpoch());
    }
  }

  @Test
  void laterSchedulersShareTheGroupsInitialLr() {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS)) {
      LinearLR warmup = new LinearLR(a, 0.1, 1.0, 10);
      assertArrayEquals(
          new double[] {0.1 * 0.1, 0.02 * 0.1}, Groups.lrs(a), 1e-18, "the warm-up starts at once");
      CosineAnnealingLR cosine = new CosineAnnealingLR(a, 10);
      assertArrayEquals(LRS, cosine.baseLrs(), 0.0, "torch's initial_lr, not the warm-up's lr");
      assertArrayEquals(LRS, warmup.baseLrs(), 0.0);
      OneCycleLR oneCycle = OneCycleLR.builder(a, 1.0).totalSteps(10).cycleMomentum(false).build();
      assertArrayEquals(new double[] {1.0 / 25, 1.0 / 25}, oneCycle.baseLrs(), 0.0);
      assertArrayEquals(
          new double[] {1.0 / 25, 1.0 / 25},
          new ExponentialLR(a, 0.5).baseLrs(),
          0.0,
          "OneCycleLR replaces the initial lr, as torch's does");
    }
  }

  @Test
  void argumentsAreCheckedBeforeAnythingChanges() {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS)) {
      assertThrows(IllegalArgumentException.class, () -> new LinearLR(a, 0.0, 1.0, 5));
      assertThrows(IllegalArgumentException.class, () -> OneCycleLR.builder(a, 1.0).build());
      assertArrayEquals(LRS, Groups.lrs(a), 0.0, "lrs unchanged");
      a.setLr(0.5);
      assertArrayEquals(
          new double[] {0.5, 0.5},
          new StepLR(a, 3).baseLrs(),
          0.0,
          "no initial lr was recorded by the refused schedulers");
    }
  }

  @Test
  void oneCycleCyclesBeta1OfAdaHessianToo() {
    try (PointerScope scope = new PointerScope();
        AdaHessian h = Schedules.adaHessian(0.1, 0.2)) {
      OneCycleLR s = OneCycleLR.builder(h, 0.15).totalSteps(10).build();
      for (var g : h.paramGroups()) {
        AdaHessianOptions o = g.options();
        assertEquals(0.95, o.beta1(), 1e-15);
        assertEquals(0.999, o.beta2(), 0.0, "beta2 stays");
        assertEquals(
            0.15 / 25, o.lr(), 1e-16); // the cosine anneal at pct 0 is 1 ulp off, as torch's is
      }
      for (int i = 0; i < 3; i++) {
        s.step();
      }
      double b1 = h.paramGroups().get(0).options().beta1();
      assertTrue(b1 < 0.95 && b1 >= 0.85, "beta1 " + b1 + " moves down while the lr rises");
    }
  }

  @Test
  void oneCycleRefusesAStepPastTheCycleAndChangesNothing() {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS)) {
      OneCycleLR s =
          OneCycleLR.builder(a, 0.1)
              .totalSteps(5)
              .annealStrategy(OneCycleLR.AnnealStrategy.LINEAR)
              .build();
      for (int i = 0; i < 5; i++) {
        s.step(); // torch allows total_steps steps after construction
      }
      assertEquals(5, s.lastEpoch());
      assertArrayEquals(
          new double[] {0.0, 0.0},
          s.lastLr(),
          0.0,
          "the linear overshoot past the cycle is clamped at 0");
      double[] lrs = Groups.lrs(a);
      double[] b1 = Groups.beta1s(a);
      IllegalStateException e = assertThrows(IllegalStateException.class, s::step);
      assertEquals(
          "Tried to step 7 times. The specified number of total steps is 5", e.getMessage());
      assertEquals(5, s.lastEpoch());
      assertArrayEquals(lrs, Groups.lrs(a), 0.0);
      assertArrayEquals(b1, Groups.beta1s(a), 0.0);
    }
  }

  @Test
  void plateauBuildsWithoutChangingTheLrs() {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS)) {
      ReduceLROnPlateau p = ReduceLROnPlateau.builder(a).build();
      assertArrayEquals(LRS, Groups.lrs(a), 0.0);
      assertArrayEquals(LRS, p.lastLr(), 0.0);
      assertEquals(0, p.lastEpoch());
      assertEquals(Double.POSITIVE_INFINITY, p.best());
      p.step(Double.NaN);
      assertEquals(1, p.numBadEpochs(), "a NaN metric is not an improvement");
    }
  }

  @Test
  void aChangedGroupCountIsNamed() {
    // The optimizers have no addParamGroup yet; this is the check step() and load() run.
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> Groups.checkCount("StepLR", 2, 3));
    assertEquals(
        "StepLR was built over 2 param groups but the optimizer now has 3: a group added after the "
            + "scheduler was built has no base lr; build a new scheduler",
        e.getMessage());
    Groups.checkCount("StepLR", 2, 2);
  }

  @Test
  void describesItself() {
    try (PointerScope scope = new PointerScope();
        Adam a = Schedules.adam(LRS)) {
      assertEquals(
          "StepLR(stepSize 3, gamma 0.1; lastEpoch 0, lastLr [0.1, 0.02])",
          new StepLR(a, 3).toString());
      assertTrue(
          ReduceLROnPlateau.builder(a)
              .build()
              .toString()
              .startsWith("ReduceLROnPlateau(mode MIN, factor 0.1,"));
      AdamOptions o = a.paramGroups().get(0).options();
      assertEquals(0.1, o.lr(), 0.0);
    }
  }
}
