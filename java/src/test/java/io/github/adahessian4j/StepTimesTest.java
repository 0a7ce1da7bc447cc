package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link Optimizer#lastStepTimes()}: each phase is charged where it happens (a closure or a replica
 * mean that sleeps shows in its own phase, at least for the time it slept), AdaHessian's
 * Hessian-vector products only on refresh steps, and the phases sum to the step exactly. No time is
 * compared with another: only the sleeps' lower bounds and which phases are zero.
 */
class StepTimesTest {
  private static final long SLEEP_NANOS = 20_000_000;

  private static void sleep() {
    try {
      Thread.sleep(SLEEP_NANOS / 1_000_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void assertSums(StepTimes t) {
    assertEquals(
        t.total(),
        t.closure() + t.gradient() + t.hessian() + t.replicaMean() + t.update(),
        "the phases sum to the step: " + t);
  }

  @Test
  void adaHessianChargesTheClosureTheProductsAndTheReplicaMean() {
    try (PointerScope scope = new PointerScope()) {
      TestModel m = new TestModel(torch.ScalarType.Double, 3);
      try (AdaHessian opt =
          AdaHessian.builder().updateEach(2).replicaMean(tensors -> sleep()).build(m.params)) {
        assertEquals(new StepTimes(0, 0, 0, 0, 0, 0), opt.lastStepTimes(), "before any step");
        Supplier<Tensor> sleepy =
            () -> {
              sleep();
              return m.loss();
            };
        int refreshed = 0;
        for (int s = 0; s < 4; s++) {
          opt.step(sleepy).close();
          StepTimes t = opt.lastStepTimes();
          assertSums(t);
          assertTrue(t.closure() >= SLEEP_NANOS, "the closure's sleep is the closure's: " + t);
          assertTrue(t.replicaMean() >= SLEEP_NANOS, "the mean's sleep is the mean's: " + t);
          assertTrue(t.gradient() > 0 && t.update() > 0, t.toString());
          boolean fresh = opt.lastStepStats().hessianRefreshed();
          refreshed += fresh ? 1 : 0;
          assertEquals(fresh, t.hessian() > 0, "products only on refresh steps: " + t);
        }
        assertEquals(2, refreshed, "updateEach 2 refreshes every other step");
        opt.step(2, b -> m.loss());
        StepTimes parts = opt.lastStepTimes();
        assertSums(parts);
        assertTrue(parts.closure() > 0 && parts.hessian() > 0, parts.toString());
      }
    }
  }

  @Test
  void adamHasNoProductsAndNoClosureAfterTheUsersBackward() {
    try (PointerScope scope = new PointerScope()) {
      TestModel m = new TestModel(torch.ScalarType.Double, 5);
      try (Adam opt = Adam.builder().lr(0.01).build(m.params)) {
        opt.step(
                () -> {
                  sleep();
                  return m.loss();
                })
            .close();
        StepTimes t = opt.lastStepTimes();
        assertSums(t);
        assertTrue(t.closure() >= SLEEP_NANOS, t.toString());
        assertTrue(t.gradient() > 0, t.toString());
        assertEquals(0, t.hessian(), t.toString());
        assertEquals(0, t.replicaMean(), "no replica mean: " + t);
        opt.zeroGrad();
        m.loss().backward();
        opt.step();
        StepTimes own = opt.lastStepTimes();
        assertSums(own);
        assertEquals(0, own.closure() + own.gradient(), "the user's own backward: " + own);
        assertTrue(own.update() > 0, own.toString());
      }
    }
  }
}
