package io.github.adahessian4j.bench.compare;

import java.util.Locale;

/**
 * How the claims table reads its values and calls its verdicts: what the article expects, where a
 * row leaves the claim, each measure's unit (its cells and effects), and the verdict on AdaHessian
 * against Adam from a {@link Stats.Test} alone.
 */
final class ClaimsVerdicts {
  private ClaimsVerdicts() {}

  /** What the article predicts for AdaHessian against Adam. */
  enum Expect {
    LOWER,
    HIGHER,
    NONE
  }

  /** Where a row leaves the claim. */
  enum Standing {
    SUPPORTED,
    AGAINST,
    NOT_DISTINGUISHABLE,
    NO_CLAIM,
    TOO_FEW,
    NOT_MEASURED
  }

  /** How a measure's values read. */
  enum Unit {
    STEPS(1, "%.0f", "", true),
    SECONDS(1, "%.1f", " s", true),
    MS(1, "%.1f", " ms", true),
    MIB(1.0 / 1048576, "%.0f", " MiB", true),
    ACCURACY(100, "%.1f", "%", false),
    POINTS(100, "%.1f", " pp", false),
    COUNT(1, "%.0f", "", false),
    PLAIN(1, "%.4g", "", true);

    final double scale;
    final String format;
    final String suffix;

    /** Whether the effect reads as a ratio (AdaHessian / Adam) rather than a difference. */
    final boolean ratio;

    Unit(double scale, String format, String suffix, boolean ratio) {
      this.scale = scale;
      this.format = format;
      this.suffix = suffix;
      this.ratio = ratio;
    }

    private String number(double v) {
      return String.format(Locale.ROOT, format, v * scale);
    }

    /** "mean ± sd" in this unit; the mean alone for one value. */
    String cell(Stats.Summary s) {
      if (s.n() == 0) {
        return "-";
      }
      return s.n() < 2
          ? number(s.mean()) + suffix
          : number(s.mean()) + " ± " + number(s.sd()) + suffix;
    }

    /**
     * The effect of b against a: "0.55x" for ratios, "+1.2 pp" for accuracies and points, "+2.0"
     * for counts.
     */
    String effect(double a, double b) {
      if (ratio) {
        return a != 0 ? String.format(Locale.ROOT, "%.2fx", b / a) : "n/a";
      }
      if (this == COUNT) {
        return String.format(Locale.ROOT, "%+.1f per seed", b - a);
      }
      return String.format(Locale.ROOT, "%+.1f pp", 100 * (b - a));
    }
  }

  record Verdict(String text, Standing standing) {}

  /**
   * The effect a test found: the geometric mean ratio of a paired ratio test, else the unit's
   * effect of the means.
   */
  static String effect(Stats.Test t, Unit unit) {
    return Double.isFinite(t.ratio())
        ? String.format(Locale.ROOT, "%.2fx", t.ratio())
        : unit.effect(t.a().mean(), t.b().mean());
  }

  /** The verdict on AdaHessian against Adam, from the test alone. */
  static Verdict verdict(
      Stats.Test t, Expect expect, Unit unit, String lowerWord, String higherWord, String note) {
    return switch (t.outcome()) {
      case TOO_FEW -> new Verdict("too few seeds to test" + note, Standing.TOO_FEW);
      case NOT_DISTINGUISHABLE ->
          new Verdict(
              "not distinguishable (" + t.pText() + ")" + note, Standing.NOT_DISTINGUISHABLE);
      case LOWER, HIGHER -> {
        boolean lower = t.outcome() == Stats.Outcome.LOWER;
        String what =
            "AdaHessian "
                + (lower ? lowerWord : higherWord)
                + " ("
                + effect(t, unit)
                + ", "
                + t.pText()
                + ")";
        if (expect == Expect.NONE) {
          yield new Verdict(what + note, Standing.NO_CLAIM);
        }
        boolean agrees = lower == (expect == Expect.LOWER);
        yield new Verdict(
            (agrees ? "supports: " : "against: ") + what + note,
            agrees ? Standing.SUPPORTED : Standing.AGAINST);
      }
    };
  }
}
