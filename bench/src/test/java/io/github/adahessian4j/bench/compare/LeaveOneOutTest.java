package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link LeaveOneOut} on data whose tests are worked out by hand: Student's t with 1 and 2 degrees
 * of freedom has closed-form tails, p = 1 - (2 / pi) atan|t| and p = 1 - |t| / sqrt(2 + t^2).
 */
class LeaveOneOutTest {
  private static final double[] ZEROS = {0, 0, 0};

  @Test
  void theClosedFormsTheCasesRelyOn() {
    assertEquals(1 - 1.75 / 2.25, Stats.welch(ZEROS, new double[] {1, 1, 5}).p(), 1e-9);
    assertEquals(
        1 - 2 / Math.PI * Math.atan(1.5), Stats.welch(ZEROS, new double[] {1, 5}).p(), 1e-9);
  }

  /**
   * Adam 0, 0, 0; AdaHessian 1, 1, 5 at seeds 1-3. All three: mean 7/3, sd^2 16/3, standard error
   * 4/3, t = 1.75 on 2 degrees of freedom, p = 0.222: not distinguishable. Without seed 3: 1, 1
   * against 0, 0, no spread on either side and a difference of 1, so higher at p = 0. Without seed
   * 1 or 2: 1, 5, mean 3, standard error 2, t = 1.5 on 1 degree of freedom, p = 0.374: not
   * distinguishable.
   */
  @Test
  void oneSeedThatDecidesAVerdictIsNamed() {
    LeaveOneOut.Check c = LeaveOneOut.check(ZEROS, new double[] {1, 1, 5}, Stats::welch);
    assertEquals(Stats.Outcome.NOT_DISTINGUISHABLE, c.full());
    assertEquals(Map.of(2, Stats.Outcome.HIGHER), c.flips());
    assertFalse(c.robust());
    assertEquals("not robust: without seed 3 higher", c.text(i -> Integer.toString(i + 1)));
  }

  /** A constant difference of 1 at every seed: higher at p = 0 on every subset. */
  @Test
  void aDifferenceEverySubsetSeesIsRobust() {
    LeaveOneOut.Check c = LeaveOneOut.check(ZEROS, new double[] {1, 1, 1}, Stats::welch);
    assertEquals(Stats.Outcome.HIGHER, c.full());
    assertTrue(c.flips().isEmpty());
    assertTrue(c.robust());
    assertEquals("robust", c.text(i -> "s" + i));
  }

  /**
   * The paired ratio test on log ratios ln 2, ln 2, -ln 4: mean 0, not distinguishable. Without the
   * third pair, ln 2 twice: no spread, higher. Without the first (or second): ln 2 and -2 ln 2,
   * mean -ln 2 / 2, standard error 3 ln 2 / 2, t = -1/3 on 1 degree of freedom: not
   * distinguishable.
   */
  @Test
  void thePairedTestDropsWholePairs() {
    double[] adam = {1, 1, 1};
    double[] adaHessian = {2, 2, 0.25};
    assertEquals(
        1 - 2 / Math.PI * Math.atan(1.0 / 3),
        Stats.pairedRatio(new double[] {1, 1}, new double[] {2, 0.25}).p(),
        1e-9);
    LeaveOneOut.Check c = LeaveOneOut.check(adam, adaHessian, Stats::pairedRatio);
    assertEquals(Stats.Outcome.NOT_DISTINGUISHABLE, c.full());
    assertEquals(Map.of(2, Stats.Outcome.HIGHER), c.flips());
  }

  /**
   * Two seeds: dropping one leaves one value a side, so no subset can be tested, and a verdict on
   * two seeds is never robust; with one seed there is no verdict to check ("-").
   */
  @Test
  void twoSeedsAreNeverRobustAndOneHasNothingToCheck() {
    LeaveOneOut.Check two =
        LeaveOneOut.check(new double[] {0, 0}, new double[] {1, 1}, Stats::welch);
    assertEquals(Stats.Outcome.HIGHER, two.full());
    assertEquals(Map.of(0, Stats.Outcome.TOO_FEW, 1, Stats.Outcome.TOO_FEW), two.flips());
    assertEquals(
        "not robust: without seed 1 too few seeds; without seed 2 too few seeds",
        two.text(i -> Integer.toString(i + 1)));
    LeaveOneOut.Check one = LeaveOneOut.check(new double[] {0}, new double[] {1}, Stats::welch);
    assertEquals("-", one.text(i -> "?"));
    assertFalse(one.robust());
  }

  /**
   * Sides of different lengths (10 seeds of Adam, 5 of a variant): seeds beyond the shorter side
   * drop only the longer side's value.
   */
  @Test
  void seedsOnlyOneSideHasDropOnlyThere() {
    assertArrayEquals(new double[] {1, 3}, LeaveOneOut.without(new double[] {1, 2, 3}, 1));
    assertArrayEquals(new double[] {1, 2}, LeaveOneOut.without(new double[] {1, 2}, 4));
    double[] adam = {0, 0, 0, 0, 0};
    LeaveOneOut.Check c = LeaveOneOut.check(adam, new double[] {1, 1, 1}, Stats::welch);
    assertTrue(c.robust(), "every subset: 1, 1, 1 or 1, 1 against zeros");
  }
}
