package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Adam's default step checks its gradients inside its native call (the core's checked step): the
 * check's read, then the step, which sums the gradients' squares as it reads them. Against the read
 * pass before the step that it replaces (what a step with clipping still runs): the same
 * parameters, states and gradient norm, to the bit; and on a non-finite gradient anywhere, nothing
 * changed.
 */
class CheckedStepTest {
  /** Several chunks of the core (2^15 elements) with a tail, a short tensor, a 3x3 kernel. */
  private static final long[][] SHAPES = {{3, 33001}, {37}, {16, 8, 3, 3}};

  private static List<Tensor> params(torch.ScalarType dtype) {
    List<Tensor> p = new ArrayList<>();
    for (int i = 0; i < SHAPES.length; i++) {
      p.add(T.randomParam(100 + i, dtype, SHAPES[i]));
    }
    return p;
  }

  /** Sets every gradient to fresh random values (the same for the same seed): d/dp sum(p c) = c. */
  private static void backward(List<Tensor> params, long seed) {
    Tensor loss = null;
    for (int i = 0; i < params.size(); i++) {
      Tensor p = params.get(i);
      Tensor c = T.randomParam(seed * 10 + i, p.scalar_type(), SHAPES[i]).detach();
      Tensor term = p.mul(c).sum();
      loss = loss == null ? term : loss.add(term);
    }
    loss.backward();
  }

  private static void setGrad(Tensor p, long element, double value) {
    p.grad().view(-1).narrow(0, element, 1).fill_(T.s(value));
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(torch.ScalarType.Float, false),
        Arguments.of(torch.ScalarType.Double, false),
        Arguments.of(torch.ScalarType.Float, true));
  }

  @ParameterizedTest(name = "{0}, AdamW amsgrad {1}")
  @MethodSource("cases")
  void theCheckedStepGivesTheReadPassBits(torch.ScalarType dtype, boolean adamW) {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> a = params(dtype);
      List<Tensor> b = params(dtype);
      // A max norm no gradient reaches: the read pass runs (clipping needs the norm before the
      // step) and never clips.
      try (FusedAdam checked = build(adamW, a, false);
          FusedAdam readPass = build(adamW, b, true)) {
        for (int t = 0; t < 3; t++) {
          checked.zeroGrad();
          readPass.zeroGrad();
          backward(a, t);
          backward(b, t);
          List<Integer> all = List.of(0, 1, 2);
          Tensor[] grads = {a.get(0).grad(), a.get(1).grad(), a.get(2).grad()};
          assertTrue(checked.checksInStep(all, grads), "the default step checks in its call");
          checked.step();
          readPass.step();
          assertFalse(readPass.lastStepStats().clipped());
          assertEquals(
              readPass.lastStepStats().gradNorm(),
              checked.lastStepStats().gradNorm(),
              0.0,
              "gradient norm, step " + t);
          for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(T.values(b.get(i)), T.values(a.get(i)), 0.0, "parameter " + i);
            for (String state : new String[] {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}) {
              if (state.startsWith("max") && !adamW) {
                continue; // amsgrad only
              }
              assertArrayEquals(
                  T.values(readPass.stateTensor(state, i)),
                  T.values(checked.stateTensor(state, i)),
                  0.0,
                  state + " " + i);
            }
          }
        }
      }
    }
  }

  private static FusedAdam build(boolean adamW, List<Tensor> p, boolean clipAtHugeNorm) {
    if (adamW) {
      AdamW.Builder w = AdamW.builder().lr(0.01).amsgrad(true);
      return (clipAtHugeNorm ? w.clipGradNorm(1e30) : w).build(p);
    }
    Adam.Builder d = Adam.builder().lr(0.01).weightDecay(0.1);
    return (clipAtHugeNorm ? d.clipGradNorm(1e30) : d).build(p);
  }

  @Test
  void onlyACheckingPolicyWithoutClippingOnTheCpuChecksInTheCall() {
    try (PointerScope scope = new PointerScope()) {
      List<Tensor> p = params(torch.ScalarType.Float);
      backward(p, 1);
      List<Integer> all = List.of(0, 1, 2);
      Tensor[] grads = {p.get(0).grad(), p.get(1).grad(), p.get(2).grad()};
      try (Adam plain = Adam.builder().build(p);
          Adam ignore = Adam.builder().nonFinitePolicy(NonFinitePolicy.IGNORE).build(p);
          Adam clip = Adam.builder().clipGradNorm(1.0).build(p)) {
        assertTrue(plain.checksInStep(all, grads), "SKIP, no clipping");
        plain.setNonFinitePolicy(NonFinitePolicy.THROW);
        assertTrue(plain.checksInStep(all, grads), "THROW, no clipping");
        assertFalse(ignore.checksInStep(all, grads), "IGNORE reads nothing");
        assertFalse(clip.checksInStep(all, grads), "clipping needs the norm before the step");
        FusedOptimizer.torchStatsForTests = true;
        try {
          assertFalse(plain.checksInStep(all, grads), "the libtorch-ops pass (the CUDA path)");
        } finally {
          FusedOptimizer.torchStatsForTests = false;
        }
      }
    }
  }

  /** A NaN or infinity at either end of the gradients: skipped or thrown, nothing changed. */
  @Test
  void aNonFiniteGradientAnywhereChangesNothing() {
    long[][] poisons = {{2, 16 * 8 * 9 - 1}, {0, 0}, {0, 3 * 33001 - 1}, {1, 18}};
    for (long[] poison : poisons) {
      for (NonFinitePolicy policy :
          new NonFinitePolicy[] {NonFinitePolicy.SKIP, NonFinitePolicy.THROW}) {
        try (PointerScope scope = new PointerScope()) {
          List<Tensor> p = params(torch.ScalarType.Float);
          try (Adam opt = Adam.builder().lr(0.01).nonFinitePolicy(policy).build(p)) {
            backward(p, 1);
            opt.step(); // the states exist
            opt.zeroGrad();
            backward(p, 2);
            int culprit = (int) poison[0];
            setGrad(
                p.get(culprit), poison[1], poison[0] == 1 ? Double.NEGATIVE_INFINITY : Double.NaN);
            List<double[]> before = snapshot(opt, p);
            String where = "poison " + poison[0] + "/" + poison[1] + ", " + policy;
            if (policy == NonFinitePolicy.THROW) {
              OptimizerException e = assertThrows(OptimizerException.class, opt::step, where);
              assertEquals(
                  "Adam step failed: "
                      + opt.describe(culprit)
                      + ": its gradient holds NaN or infinity; nothing was changed",
                  e.getMessage());
            } else {
              opt.step();
              assertTrue(opt.lastStepSkipped(), where);
              assertTrue(opt.lastStepStats().skipped(), where);
              assertTrue(Double.isNaN(opt.lastStepStats().gradNorm()), where);
              assertEquals(1, opt.skippedSteps(), where);
            }
            List<double[]> after = snapshot(opt, p);
            for (int k = 0; k < before.size(); k++) {
              assertArrayEquals(before.get(k), after.get(k), 0.0, where + ", tensor " + k);
            }
            for (int i = 0; i < p.size(); i++) {
              assertEquals(1, opt.stepCount(i), where);
            }
          }
        }
      }
    }
  }

  /** Every parameter and state value, in order. */
  private static List<double[]> snapshot(Adam opt, List<Tensor> p) {
    List<double[]> all = new ArrayList<>();
    for (int i = 0; i < p.size(); i++) {
      all.add(T.values(p.get(i)));
      all.add(T.values(opt.stateTensor("exp_avg", i)));
      all.add(T.values(opt.stateTensor("exp_avg_sq", i)));
    }
    return all;
  }
}
