package io.github.adahessian4j.bench.compare;

import java.math.BigDecimal;
import java.util.Locale;

/** How the comparison writes numbers: learning rates as users type them, accuracies in percent. */
final class Format {
  private Format() {}

  /** {@code 0.001 -> "1e-3"}, {@code 0.15 -> "0.15"}, {@code 128 -> "128"}. */
  static String number(double value) {
    if (value != 0 && Math.abs(value) < 0.01) {
      String[] parts = String.format(Locale.ROOT, "%.6e", value).split("e");
      String mantissa = new BigDecimal(parts[0]).stripTrailingZeros().toPlainString();
      return mantissa + "e" + Integer.parseInt(parts[1]);
    }
    return new BigDecimal(String.format(Locale.ROOT, "%.6f", value))
        .stripTrailingZeros()
        .toPlainString();
  }

  /** A fraction as a percentage with one decimal: {@code 0.9612 -> "96.1%"}. */
  static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
  }

  /** A difference of fractions in percentage points: {@code 0.012 -> "1.2 pp"}. */
  static String points(double fraction) {
    return String.format(Locale.ROOT, "%.1f pp", 100 * fraction);
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
  }
}
