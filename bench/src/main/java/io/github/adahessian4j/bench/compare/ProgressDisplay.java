package io.github.adahessian4j.bench.compare;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.UnaryOperator;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long task, on standard error. On a terminal: progressbar's bar, redrawn in place.
 * Anywhere else (a file, a pipe, a CI log) a bar would be hundreds of carriage-return updates on
 * one unreadable line, so the task prints plain lines instead: one per {@link #milestone} and one
 * when it closes, never a carriage return.
 */
final class ProgressDisplay implements AutoCloseable {
  /** {@code -Dadahessian4j.progress=bar|lines} overrides the terminal detection. */
  static final String PROPERTY = "adahessian4j.progress";

  private final ProgressBar bar;
  private final PrintStream lines;
  private final String task;
  private final long max;
  private final String unit;
  private final long unitSize;
  private final long began = System.nanoTime();
  private long current;
  private String message = "";

  private ProgressDisplay(
      ProgressBar bar, PrintStream lines, String task, long max, String unit, long unitSize) {
    this.bar = bar;
    this.lines = lines;
    this.task = task;
    this.max = max;
    this.unit = unit;
    this.unitSize = unitSize;
  }

  /**
   * A bar on a terminal, plain lines otherwise. {@code task}, {@code max} and {@code unit} (with
   * its size, as progressbar's {@code setUnit}) label both; {@code bar} adds the bar's own settings
   * (update interval, width, ETA) to an ASCII-style builder that already has them.
   */
  static ProgressDisplay of(
      String task, long max, String unit, long unitSize, UnaryOperator<ProgressBarBuilder> bar) {
    if (onTerminal()) {
      ProgressBarBuilder builder =
          new ProgressBarBuilder()
              .setTaskName(task)
              .setInitialMax(max)
              .setUnit(unit, unitSize)
              .setStyle(ProgressBarStyle.ASCII);
      return new ProgressDisplay(bar.apply(builder).build(), null, task, max, unit, unitSize);
    }
    return new ProgressDisplay(null, System.err, task, max, unit, unitSize);
  }

  static boolean onTerminal() {
    String forced = System.getProperty(PROPERTY, "");
    if (forced.equals("bar") || forced.equals("lines")) {
      return forced.equals("bar");
    }
    return System.console() != null;
  }

  void step() {
    stepTo(current + 1);
  }

  void stepTo(long n) {
    current = n;
    if (bar != null) {
      bar.stepTo(n);
    }
  }

  void message(String text) {
    message = text;
    if (bar != null) {
      bar.setExtraMessage(text);
    }
  }

  /** A line worth keeping in a log (one per sub-task of a long run); the bar just shows it. */
  void milestone(String text) {
    if (bar != null) {
      bar.setExtraMessage(text);
    } else {
      print(text);
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    } else {
      print(message);
    }
  }

  private void print(String text) {
    String progress =
        String.format(
            Locale.ROOT,
            "%s: %d/%d%s, %.1f s",
            task.strip(),
            current / unitSize,
            max / unitSize,
            unit,
            (System.nanoTime() - began) / 1e9);
    lines.println(text.isEmpty() ? progress : progress + ": " + text);
    lines.flush();
  }
}
