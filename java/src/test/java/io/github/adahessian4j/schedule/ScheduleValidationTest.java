package io.github.adahessian4j.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.adahessian4j.Adam;
import io.github.adahessian4j.PointerScopeExtension;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/** The argument checks and their messages, worded as torch words its own. */
@ExtendWith(PointerScopeExtension.class)
class ScheduleValidationTest {
  private Adam opt;

  @BeforeEach
  void setUp() {
    opt = Schedules.adam(0.1, 0.02);
  }

  @AfterEach
  void tearDown() {
    opt.close();
  }

  private static void refused(String message, Executable build) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
    assertEquals(message, e.getMessage());
  }

  @Test
  void constantLR() {
    refused(
        "Constant multiplicative factor expected to be greater than 0 and less or equal to 1, but got 1.5",
        () -> new ConstantLR(opt, 1.5, 5));
    refused(
        "Constant multiplicative factor expected to be greater than 0 and less or equal to 1, but got 0.0",
        () -> new ConstantLR(opt, 0.0, 5));
    refused("Expected positive integer total_iters, but got 0", () -> new ConstantLR(opt, 0.5, 0));
  }

  @Test
  void stepLR() {
    refused("Expected positive integer step_size, but got 0", () -> new StepLR(opt, 0));
    refused("Expected non-negative finite gamma, but got -0.1", () -> new StepLR(opt, 3, -0.1));
    refused(
        "Expected non-negative finite gamma, but got NaN", () -> new StepLR(opt, 3, Double.NaN));
  }

  @Test
  void multiStepLR() {
    refused(
        "Expected non-negative integer milestones, but got [3, -1]",
        () -> new MultiStepLR(opt, List.of(3, -1)));
    refused(
        "Expected non-negative finite gamma, but got Infinity",
        () -> new MultiStepLR(opt, List.of(3), Double.POSITIVE_INFINITY));
  }

  @Test
  void exponentialLR() {
    refused("Expected non-negative finite gamma, but got -0.5", () -> new ExponentialLR(opt, -0.5));
  }

  @Test
  void cosineAnnealingLR() {
    refused("Expected positive integer T_max, but got 0", () -> new CosineAnnealingLR(opt, 0));
    refused(
        "Expected non-negative finite eta_min, but got -1.0",
        () -> new CosineAnnealingLR(opt, 10, -1.0));
  }

  @Test
  void linearLR() {
    refused(
        "Starting multiplicative factor expected to be greater than 0 and less or equal to 1, but got 0.0",
        () -> new LinearLR(opt, 0.0, 1.0, 5));
    refused(
        "Starting multiplicative factor expected to be greater than 0 and less or equal to 1, but got 1.5",
        () -> new LinearLR(opt, 1.5, 1.0, 5));
    refused(
        "Ending multiplicative factor expected to be between 0 and 1, but got -0.1",
        () -> new LinearLR(opt, 0.5, -0.1, 5));
    refused(
        "Expected positive integer total_iters, but got 0", () -> new LinearLR(opt, 0.5, 1.0, 0));
  }

  @Test
  void sequentialLR() {
    LinearLR warmup = new LinearLR(opt);
    CosineAnnealingLR cosine = new CosineAnnealingLR(opt, 10);
    try (Adam other = Schedules.adam(0.1, 0.02)) {
      StepLR foreign = new StepLR(other, 3);
      refused(
          "Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers "
              + "at index 1 to be different than the optimizer passed in.",
          () -> new SequentialLR(opt, List.of(warmup, foreign), List.of(5)));
    }
    refused(
        "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
            + "milestone points, but got number of schedulers 2 and the number of milestones to be equal to 2",
        () -> new SequentialLR(opt, List.of(warmup, cosine), List.of(5, 10)));
    refused(
        "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
            + "milestone points, but got number of schedulers 0 and the number of milestones to be equal to 0",
        () -> new SequentialLR(opt, List.of(), List.of()));
    StepLR third = new StepLR(opt, 3);
    refused(
        "Sequential Schedulers expects milestones to be positive and strictly increasing, but got [10, 10]",
        () -> new SequentialLR(opt, List.of(warmup, cosine, third), List.of(10, 10)));
    refused(
        "Sequential Schedulers expects milestones to be positive and strictly increasing, but got [0]",
        () -> new SequentialLR(opt, List.of(warmup, cosine), List.of(0)));
    refused(
        "Sequential Schedulers expects every scheduler once, but got the scheduler at index 1 again.",
        () -> new SequentialLR(opt, List.of(warmup, warmup), List.of(5)));
    SequentialLR inner = new SequentialLR(opt, List.of(warmup, cosine), List.of(5));
    refused(
        "Sequential Schedulers expects schedulers that are not SequentialLR, but got a SequentialLR at index 0 "
            + "(torch 1.13 cannot step one to a milestone either).",
        () -> new SequentialLR(opt, List.of(inner, third), List.of(5)));
  }

  @Test
  void oneCycleLR() {
    refused(
        "You must define either total_steps OR (epochs AND steps_per_epoch)",
        () -> OneCycleLR.builder(opt, 0.1).build());
    refused(
        "You must define either total_steps OR (epochs AND steps_per_epoch)",
        () -> OneCycleLR.builder(opt, 0.1).epochs(3).build());
    refused(
        "Expected positive integer total_steps, but got 0",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(0).build());
    refused(
        "Expected positive integer epochs, but got 0",
        () -> OneCycleLR.builder(opt, 0.1).epochs(0).stepsPerEpoch(3).build());
    refused(
        "Expected positive integer steps_per_epoch, but got -1",
        () -> OneCycleLR.builder(opt, 0.1).epochs(2).stepsPerEpoch(-1).build());
    refused(
        "Expected float between 0 and 1 pct_start, but got 1.5",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).pctStart(1.5).build());
    refused(
        "expected 2 values for max_lr, got 3",
        () -> OneCycleLR.builder(opt, new double[] {0.1, 0.2, 0.3}).totalSteps(10).build());
    refused(
        "Expected positive finite max_lr, but got 0.0",
        () -> OneCycleLR.builder(opt, 0.0).totalSteps(10).build());
    refused(
        "Expected positive finite div_factor, but got 0.0",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).divFactor(0).build());
    refused(
        "Expected positive finite final_div_factor, but got -1.0",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).finalDivFactor(-1).build());
    refused(
        "expected 2 values for base_momentum, got 1",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).baseMomentum(new double[] {0.8}).build());
    refused(
        "Expected momentum in [0, 1), but got max_momentum 1.0",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).maxMomentum(1.0).build());
    refused(
        "Expected pct_start * total_steps other than 1 (the warm-up phase would have no length), but got "
            + "pct_start 0.1 and total_steps 10",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).pctStart(0.1).build());
    // Step total_steps would fall in a last phase of zero length: refused when built, not there.
    refused(
        "Expected pct_start and total_steps that give the last phase a length, but got pct_start "
            + "1.0 and total_steps 10 (three_phase false): step 10 would fall in a phase of zero "
            + "length",
        () -> OneCycleLR.builder(opt, 0.1).totalSteps(10).pctStart(1.0).build());
    refused(
        "Expected pct_start and total_steps that give the last phase a length, but got pct_start "
            + (2.0 / 3)
            + " and total_steps 3 (three_phase true): step 3 would fall in a phase of zero length",
        () ->
            OneCycleLR.builder(opt, 0.1).totalSteps(3).pctStart(2.0 / 3).threePhase(true).build());
    // Every step of the cycle is allowed where a value close to those is accepted.
    OneCycleLR nearlyAllWarmUp = OneCycleLR.builder(opt, 0.1).totalSteps(10).pctStart(0.95).build();
    for (int i = 0; i < 10; i++) {
      nearlyAllWarmUp.step();
    }
    OneCycleLR threePhases =
        OneCycleLR.builder(opt, 0.1).totalSteps(10).pctStart(1.0).threePhase(true).build();
    for (int i = 0; i < 10; i++) {
      threePhases.step();
    }
    // Without momentum cycling the momenta are not read.
    OneCycleLR.builder(opt, 0.1).totalSteps(10).cycleMomentum(false).maxMomentum(1.0).build();
  }

  @Test
  void reduceLROnPlateau() {
    refused(
        "Factor should be < 1.0, but got 1.0.",
        () -> ReduceLROnPlateau.builder(opt).factor(1.0).build());
    refused(
        "Factor should be < 1.0, but got NaN.",
        () -> ReduceLROnPlateau.builder(opt).factor(Double.NaN).build());
    refused(
        "Factor should be >= 0.0, but got -0.1.",
        () -> ReduceLROnPlateau.builder(opt).factor(-0.1).build());
    refused(
        "Expected non-negative integer patience, but got -1",
        () -> ReduceLROnPlateau.builder(opt).patience(-1).build());
    refused(
        "Expected non-negative finite threshold, but got -1.0E-4",
        () -> ReduceLROnPlateau.builder(opt).threshold(-1e-4).build());
    refused(
        "Expected non-negative integer cooldown, but got -2",
        () -> ReduceLROnPlateau.builder(opt).cooldown(-2).build());
    refused(
        "expected 2 min_lrs, got 3",
        () -> ReduceLROnPlateau.builder(opt).minLr(new double[] {0, 0, 0}).build());
    refused(
        "Expected non-negative finite min_lr, but got -1.0",
        () -> ReduceLROnPlateau.builder(opt).minLr(-1).build());
    refused(
        "Expected non-negative finite eps, but got NaN",
        () -> ReduceLROnPlateau.builder(opt).eps(Double.NaN).build());
  }

  /** A closed optimizer refuses schedules built on it and schedules built before it was closed. */
  @Test
  void aClosedOptimizerRefusesSchedules() {
    Adam closed = Schedules.adam(0.1, 0.02);
    StepLR step = new StepLR(closed, 1, 0.5);
    OneCycleLR oneCycle = OneCycleLR.builder(closed, 0.1).totalSteps(10).build();
    ReduceLROnPlateau plateau = ReduceLROnPlateau.builder(closed).patience(0).build();
    closed.close();
    List<Executable> calls =
        List.of(
            step::step,
            oneCycle::step,
            () -> plateau.step(1.0),
            () -> new StepLR(closed, 1),
            () -> OneCycleLR.builder(closed, 0.1).totalSteps(10).build(),
            () -> ReduceLROnPlateau.builder(closed).build());
    for (Executable call : calls) {
      IllegalStateException e = assertThrows(IllegalStateException.class, call);
      assertEquals("optimizer is closed", e.getMessage());
    }
  }
}
