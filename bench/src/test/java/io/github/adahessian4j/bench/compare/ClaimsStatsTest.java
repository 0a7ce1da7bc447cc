package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The full run's statistics: Welch's test against scipy's numbers, and the verdicts it leads to.
 */
class ClaimsStatsTest {
  @Test
  void studentTailMatchesTables() {
    assertEquals(0.05, Stats.twoSidedP(2.776445, 4), 1e-6); // t(0.975, 4)
    assertEquals(0.05, Stats.twoSidedP(12.7062, 1), 1e-5);
    assertEquals(0.05, Stats.twoSidedP(1.959964, 1e7), 1e-6);
    assertEquals(
        0.24783645308629618, Stats.twoSidedP(1.5, 2.5), 1e-10); // scipy: 2 * t.sf(1.5, 2.5)
    assertEquals(1, Stats.twoSidedP(0, 3), 1e-12);
    assertEquals(Stats.twoSidedP(2, 5), Stats.twoSidedP(-2, 5), 1e-15);
  }

  @Test
  void welchMatchesScipy() {
    // scipy.stats.ttest_ind(b, a, equal_var=False): t 2.455356398286006, df 24.988529290231416, p
    // 0.021378001462866992
    double[] a = {
      27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4
    };
    double[] b = {
      27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4
    };
    Stats.Test t = Stats.welch(a, b);
    assertEquals(2.455356398286006, t.t(), 1e-12);
    assertEquals(24.988529290231416, t.df(), 1e-10);
    assertEquals(0.021378001462866992, t.p(), 1e-10);
    assertEquals(Stats.Outcome.HIGHER, t.outcome());
  }

  @Test
  void aDifferenceInsideTheNoiseIsNotDistinguishable() {
    // Final accuracies over five seeds, 0.1 pp apart on average with 0.5 pp of seed noise (scipy: p
    // 0.804).
    double[] adam = {0.951, 0.962, 0.945, 0.958, 0.949};
    double[] adaHessian = {0.955, 0.946, 0.960, 0.952, 0.957};
    Stats.Test t = Stats.welch(adam, adaHessian);
    assertEquals(0.8044372927771215, t.p(), 1e-10);
    assertEquals(Stats.Outcome.NOT_DISTINGUISHABLE, t.outcome());
    assertFalse(t.called());
    ClaimsVerdicts.Verdict v =
        ClaimsVerdicts.verdict(
            t, ClaimsVerdicts.Expect.HIGHER, ClaimsVerdicts.Unit.ACCURACY, "lower", "higher", "");
    assertEquals("not distinguishable (p = 0.804)", v.text());
    assertEquals(ClaimsVerdicts.Standing.NOT_DISTINGUISHABLE, v.standing());
  }

  @Test
  void moreThanTwoStandardErrorsWithThreeSeedsIsStillNotCalled() {
    // Means 2 apart, standard error 0.816: 2.45 standard errors, but Welch's p is 0.070 (scipy) at
    // 4 df.
    Stats.Test t = Stats.welch(new double[] {1, 2, 3}, new double[] {3, 4, 5});
    assertTrue(Math.abs(t.difference()) > 2 * Math.sqrt(1.0 / 3 + 1.0 / 3));
    assertEquals(0.07048399691021992, t.p(), 1e-10);
    assertEquals(Stats.Outcome.NOT_DISTINGUISHABLE, t.outcome());
  }

  @Test
  void aClearDifferenceIsCalledWithItsDirection() {
    double[] adam = {0.900, 0.910, 0.905};
    double[] adaHessian = {0.950, 0.960, 0.955};
    Stats.Test t = Stats.welch(adam, adaHessian);
    assertEquals(Stats.Outcome.HIGHER, t.outcome());
    assertTrue(t.p() < 0.001, "p " + t.p());
    ClaimsVerdicts.Verdict supports =
        ClaimsVerdicts.verdict(
            t, ClaimsVerdicts.Expect.HIGHER, ClaimsVerdicts.Unit.ACCURACY, "lower", "higher", "");
    assertEquals("supports: AdaHessian higher (+5.0 pp, p < 0.001)", supports.text());
    assertEquals(ClaimsVerdicts.Standing.SUPPORTED, supports.standing());
    ClaimsVerdicts.Verdict against =
        ClaimsVerdicts.verdict(
            t, ClaimsVerdicts.Expect.LOWER, ClaimsVerdicts.Unit.ACCURACY, "lower", "higher", "");
    assertTrue(against.text().startsWith("against: AdaHessian higher"), against.text());
    // Steps read as a ratio.
    Stats.Test steps = Stats.welch(new double[] {180, 190, 185}, new double[] {90, 95, 92});
    assertEquals(Stats.Outcome.LOWER, steps.outcome());
    assertTrue(
        ClaimsVerdicts.verdict(
                steps,
                ClaimsVerdicts.Expect.LOWER,
                ClaimsVerdicts.Unit.STEPS,
                "fewer steps",
                "more steps",
                "")
            .text()
            .startsWith("supports: AdaHessian fewer steps (0.50x, p "));
  }

  @Test
  void sideBySideTimesArePairedByTheirRatio() {
    // The machine's load moves both optimizers' times from seed to seed; their ratio stays near
    // 2.3.
    double[] adam = {20, 30, 25, 18, 40};
    double[] adaHessian = {46, 66, 60, 40, 95};
    Stats.Test paired = Stats.pairedRatio(adam, adaHessian);
    // scipy.stats.ttest_1samp(log(b / a), 0): t 48.052042834119376, p 1.1221500918007586e-06
    assertEquals(48.052042834119376, paired.t(), 1e-9);
    assertEquals(1.1221500918007586e-06, paired.p(), 1e-12);
    assertEquals(2.2980663934996297, paired.ratio(), 1e-12);
    assertEquals(Stats.Outcome.HIGHER, paired.outcome());
    assertEquals(
        "supports: AdaHessian slower (2.30x, p < 0.001)",
        ClaimsVerdicts.verdict(
                paired,
                ClaimsVerdicts.Expect.HIGHER,
                ClaimsVerdicts.Unit.MS,
                "faster",
                "slower",
                "")
            .text());
    // A ratio near 1 inside the noise (scipy: p 0.4546).
    Stats.Test close = Stats.pairedRatio(new double[] {20, 30, 25}, new double[] {21, 29, 27});
    assertEquals(0.4545728833223822, close.p(), 1e-10);
    assertEquals(Stats.Outcome.NOT_DISTINGUISHABLE, close.outcome());
    // Pairs are formed over the seeds both have.
    assertEquals(
        3, Stats.pairedRatio(new double[] {1, 2, 3, 4, 5}, new double[] {2, 4, 6}).df() + 1, 1e-15);
  }

  @Test
  void edgeCases() {
    assertEquals(
        Stats.Outcome.TOO_FEW, Stats.welch(new double[] {1}, new double[] {2, 3}).outcome());
    assertEquals(
        Stats.Outcome.NOT_DISTINGUISHABLE,
        Stats.welch(new double[] {0, 0, 0}, new double[] {0, 0, 0}).outcome());
    // The same count at every seed on each side: a difference at every seed.
    Stats.Test counts = Stats.welch(new double[] {0, 0, 0}, new double[] {1, 1, 1});
    assertEquals(Stats.Outcome.HIGHER, counts.outcome());
    assertEquals("p < 0.001", counts.pText());
    // Non-finite values (a run that measured nothing) are left out.
    Stats.Summary s = Stats.Summary.of(1, Double.NaN, 3);
    assertEquals(2, s.n());
    assertEquals(2, s.mean(), 1e-15);
    assertEquals(Math.sqrt(2), s.sd(), 1e-15);
  }

  @Test
  void cellsReadAsMeanAndSd() {
    assertEquals("95.1 ± 0.7%", ClaimsVerdicts.Unit.ACCURACY.cell(Stats.Summary.of(0.946, 0.956)));
    assertEquals("84 ± 7", ClaimsVerdicts.Unit.STEPS.cell(Stats.Summary.of(77, 84, 91)));
    assertEquals("42.0 ms", ClaimsVerdicts.Unit.MS.cell(Stats.Summary.of(42)));
    assertEquals("-", ClaimsVerdicts.Unit.MS.cell(Stats.Summary.of()));
  }
}
