package io.github.adahessian4j.bench.compare;

import java.util.Arrays;
import java.util.Locale;

/**
 * The statistics of the full run ({@code compare --full}): mean and standard deviation over seeds,
 * and Welch's two-sided t-test at 5% between two optimizers' per-seed values (for measures taken
 * side by side, a paired test of the per-seed log ratio: {@link #pairedRatio}). A difference is
 * called only when the test rejects equal means; otherwise the verdict is "not distinguishable".
 * Welch's test rather than "twice the standard error": with 3 to 5 seeds the t distribution's 5%
 * point is 2.8 to 4.3 standard errors, and two standard errors would call a difference that is
 * noise about one time in six.
 */
final class Stats {
  /** The test's level: two-sided, 5%. */
  static final double ALPHA = 0.05;

  /**
   * The {@code q} quantile of ascending {@code sorted}, interpolated linearly between neighbours
   * (numpy's default).
   */
  static double quantile(double[] sorted, double q) {
    double at = q * (sorted.length - 1);
    int lo = (int) Math.floor(at);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
  }

  private Stats() {}

  /**
   * Mean, sample standard deviation (n - 1) and count of the finite values among {@code values}.
   */
  record Summary(int n, double mean, double sd) {
    static Summary of(double... values) {
      double[] finite = Arrays.stream(values).filter(Double::isFinite).toArray();
      int n = finite.length;
      if (n == 0) {
        return new Summary(0, Double.NaN, Double.NaN);
      }
      double mean = Arrays.stream(finite).sum() / n;
      double ss = 0;
      for (double v : finite) {
        ss += (v - mean) * (v - mean);
      }
      return new Summary(n, mean, n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN);
    }

    /** The standard error of the mean (NaN with fewer than 2 values). */
    double se() {
      return sd / Math.sqrt(n);
    }
  }

  /** The outcome of comparing AdaHessian's values {@code b} with Adam's {@code a}. */
  enum Outcome {
    /** b's mean is lower, and the test says so. */
    LOWER,
    /** b's mean is higher, and the test says so. */
    HIGHER,
    /** The difference is inside the noise. */
    NOT_DISTINGUISHABLE,
    /** Fewer than two values on a side: nothing can be said. */
    TOO_FEW
  }

  /**
   * A test of {@code b} against {@code a}: difference of means b - a, its t, degrees of freedom and
   * p; {@code ratio}: for the paired ratio test, the geometric mean of the per-seed ratios b / a
   * (NaN for Welch's test).
   */
  record Test(
      Summary a,
      Summary b,
      double difference,
      double t,
      double df,
      double p,
      Outcome outcome,
      double ratio) {
    Test(Summary a, Summary b, double difference, double t, double df, double p, Outcome outcome) {
      this(a, b, difference, t, df, p, outcome, Double.NaN);
    }

    boolean called() {
      return outcome == Outcome.LOWER || outcome == Outcome.HIGHER;
    }

    /** "p = 0.012", "p < 0.001", or "" when no test was possible. */
    String pText() {
      if (outcome == Outcome.TOO_FEW) {
        return "";
      }
      return p < 0.001 ? "p < 0.001" : String.format(Locale.ROOT, "p = %.3f", p);
    }
  }

  /** Welch's two-sided t-test at {@link #ALPHA} of {@code b}'s mean against {@code a}'s. */
  static Test welch(double[] a, double[] b) {
    return welch(Summary.of(a), Summary.of(b));
  }

  static Test welch(Summary a, Summary b) {
    double diff = b.mean() - a.mean();
    if (a.n() < 2 || b.n() < 2) {
      return new Test(a, b, diff, Double.NaN, Double.NaN, Double.NaN, Outcome.TOO_FEW);
    }
    double va = a.sd() * a.sd() / a.n();
    double vb = b.sd() * b.sd() / b.n();
    double se = Math.sqrt(va + vb);
    if (se == 0) {
      // Every seed gave the same value on both sides: equal means are not distinguishable,
      // different
      // ones differ at every seed (a deterministic difference, p = 0).
      Outcome o =
          diff == 0 ? Outcome.NOT_DISTINGUISHABLE : diff < 0 ? Outcome.LOWER : Outcome.HIGHER;
      return new Test(
          a,
          b,
          diff,
          diff == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, diff),
          Double.NaN,
          diff == 0 ? 1 : 0,
          o);
    }
    double t = diff / se;
    double df =
        (va + vb)
            * (va + vb)
            / ((va == 0 ? 0 : va * va / (a.n() - 1)) + (vb == 0 ? 0 : vb * vb / (b.n() - 1)));
    double p = twoSidedP(t, df);
    Outcome o =
        p >= ALPHA ? Outcome.NOT_DISTINGUISHABLE : diff < 0 ? Outcome.LOWER : Outcome.HIGHER;
    return new Test(a, b, diff, t, df, p, o);
  }

  /**
   * The paired test for measures taken side by side at each seed (the interleaved time per step): a
   * one-sample two-sided t-test at {@link #ALPHA} of the per-seed log ratios ln(b_i / a_i) against
   * 0, over the seeds both have (the first min(n_a, n_b)). The outcome says whether b is lower or
   * higher; {@link Test#ratio()} is the geometric mean ratio. The summaries are of all of {@code a}
   * and {@code b}.
   */
  static Test pairedRatio(double[] a, double[] b) {
    int n = Math.min(a.length, b.length);
    double[] logs = new double[n];
    for (int i = 0; i < n; i++) {
      logs[i] = Math.log(b[i] / a[i]);
    }
    Summary d = Summary.of(logs);
    Summary sa = Summary.of(a);
    Summary sb = Summary.of(b);
    double ratio = Math.exp(d.mean());
    if (d.n() < 2) {
      return new Test(
          sa,
          sb,
          sb.mean() - sa.mean(),
          Double.NaN,
          Double.NaN,
          Double.NaN,
          Outcome.TOO_FEW,
          ratio);
    }
    if (d.sd() == 0) {
      Outcome o =
          d.mean() == 0
              ? Outcome.NOT_DISTINGUISHABLE
              : d.mean() < 0 ? Outcome.LOWER : Outcome.HIGHER;
      return new Test(
          sa,
          sb,
          sb.mean() - sa.mean(),
          d.mean() == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, d.mean()),
          d.n() - 1,
          d.mean() == 0 ? 1 : 0,
          o,
          ratio);
    }
    double t = d.mean() / d.se();
    double p = twoSidedP(t, d.n() - 1);
    Outcome o = p >= ALPHA ? Outcome.NOT_DISTINGUISHABLE : t < 0 ? Outcome.LOWER : Outcome.HIGHER;
    return new Test(sa, sb, sb.mean() - sa.mean(), t, d.n() - 1, p, o, ratio);
  }

  /** P(|T| >= |t|) for Student's t with {@code df} degrees of freedom. */
  static double twoSidedP(double t, double df) {
    if (Double.isInfinite(t)) {
      return 0;
    }
    return regularizedBeta(df / (df + t * t), df / 2, 0.5);
  }

  /**
   * The regularized incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes 6.4).
   */
  static double regularizedBeta(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    double front =
        Math.exp(
            logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
    if (x < (a + 1) / (a + b + 2)) {
      return front * betaContinuedFraction(x, a, b) / a;
    }
    return 1 - front * betaContinuedFraction(1 - x, b, a) / b;
  }

  private static double betaContinuedFraction(double x, double a, double b) {
    final double tiny = 1e-300;
    double qab = a + b;
    double qap = a + 1;
    double qam = a - 1;
    double c = 1;
    double d = 1 - qab * x / qap;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
      int m2 = 2 * m;
      double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      h *= d * c;
      aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-15) {
        break;
      }
    }
    return h;
  }

  /** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 digits). */
  static double logGamma(double x) {
    final double[] c = {
      0.99999999999980993,
      676.5203681218851,
      -1259.1392167224028,
      771.32342877765313,
      -176.61502916214059,
      12.507343278686905,
      -0.13857109526572012,
      9.9843695780195716e-6,
      1.5056327351493116e-7
    };
    if (x < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    }
    x -= 1;
    double sum = c[0];
    for (int i = 1; i < c.length; i++) {
      sum += c[i] / (x + i);
    }
    double t = x + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
  }
}
