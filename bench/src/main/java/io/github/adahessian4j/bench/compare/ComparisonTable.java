package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * The comparison as a Markdown table: one row per measurement, Adam's and AdaHessian's values, and
 * a verdict that says which did better on this run and by how much; then two lines naming where
 * AdaHessian came out ahead and where it fell behind.
 */
final class ComparisonTable {
  /** Accuracy differences below this many percentage points are called even. */
  static final double TIE_POINTS = 0.5;

  static final List<String> HEADER =
      List.of("measure", "Adam", "AdaHessian", "verdict (this run, one seed)");

  enum Winner {
    ADAM,
    ADAHESSIAN,
    EVEN,
    NONE
  }

  record Row(String measure, String adam, String adaHessian, String verdict, Winner winner) {
    List<String> cells() {
      return List.of(measure, adam, adaHessian, verdict);
    }
  }

  private final List<Row> rows = new ArrayList<>();

  ComparisonTable(Comparison c) {
    TrainingRun.Result adam = c.main().get(ADAM);
    TrainingRun.Result ah = c.main().get(ADAHESSIAN);
    Protocol p = c.protocol();
    int evalEvery = adam.curve().size() > 1 ? adam.curve().get(1).step() : 0;
    rows.add(stepsToTarget(p.target(), evalEvery, adam, ah));
    rows.add(accuracy("final train accuracy", adam, ah, TrainingRun.Result::trainAccuracy, false));
    rows.add(
        accuracy("final validation accuracy", adam, ah, TrainingRun.Result::valAccuracy, false));
    rows.add(gap(adam, ah));
    rows.add(timePerStep(adam, ah));
    rows.add(memory(c.memory().get(ADAM), c.memory().get(ADAHESSIAN)));
    List<TrainingRun.Result> adamLr = c.lrGrid().get(ADAM);
    List<TrainingRun.Result> ahLr = c.lrGrid().get(ADAHESSIAN);
    for (int i = 0; i < Comparison.LR_FACTORS.length; i++) {
      double f = Comparison.LR_FACTORS[i];
      String measure = "val accuracy, lr x" + Format.number(f) + (f == 1 ? " (default)" : "");
      rows.add(
          accuracy(measure, adamLr.get(i), ahLr.get(i), TrainingRun.Result::valAccuracy, true));
    }
    rows.add(spread("lr sensitivity: spread of those 3", adamLr, ahLr, "learning rate"));
    List<TrainingRun.Result> adamBatch = c.batchGrid().get(ADAM);
    List<TrainingRun.Result> ahBatch = c.batchGrid().get(ADAHESSIAN);
    for (int i = 0; i < p.batchSizes().length; i++) {
      rows.add(
          accuracy(
              "val accuracy, batch " + p.batchSizes()[i],
              adamBatch.get(i),
              ahBatch.get(i),
              TrainingRun.Result::valAccuracy,
              false));
    }
    rows.add(spread("batch-size stability: spread", adamBatch, ahBatch, "batch size"));
  }

  /** The table in Markdown, columns padded so that it also reads as plain text. */
  String markdown() {
    return MarkdownTable.render(HEADER, rows.stream().map(Row::cells).toList());
  }

  /** Where AdaHessian was ahead and where behind, by the rows' verdicts. */
  String summary() {
    return "AdaHessian ahead on: "
        + measures(Winner.ADAHESSIAN)
        + "\n"
        + "AdaHessian behind on: "
        + measures(Winner.ADAM)
        + "\n"
        + "even (within "
        + Format.number(TIE_POINTS)
        + " pp or 10%): "
        + measures(Winner.EVEN)
        + "\n";
  }

  private String measures(Winner winner) {
    String list =
        rows.stream()
            .filter(r -> r.winner() == winner)
            .map(Row::measure)
            .collect(Collectors.joining("; "));
    return list.isEmpty() ? "-" : list;
  }

  private static Row stepsToTarget(
      double target, int evalEvery, TrainingRun.Result adam, TrainingRun.Result ah) {
    String measure =
        "steps (s) to "
            + Format.percent(target)
            + " val accuracy"
            + (evalEvery > 0 ? ", checked every " + evalEvery : "");
    String a = reached(adam);
    String h = reached(ah);
    if (adam.reachedTarget() && ah.reachedTarget()) {
      double steps = (double) ah.stepsToTarget() / adam.stepsToTarget();
      double seconds = ah.secondsToTarget() / adam.secondsToTarget();
      String verdict =
          String.format(
              Locale.ROOT, "AdaHessian: %.2fx the steps, %.2fx the seconds", steps, seconds);
      Winner winner = seconds < 0.9 ? Winner.ADAHESSIAN : seconds > 1.1 ? Winner.ADAM : Winner.EVEN;
      if (steps < 1 && seconds > 1) {
        verdict += "; fewer steps, but Adam gets there first";
      }
      return new Row(measure, a, h, verdict, winner);
    }
    if (adam.reachedTarget() != ah.reachedTarget()) {
      Winner winner = adam.reachedTarget() ? Winner.ADAM : Winner.ADAHESSIAN;
      return new Row(
          measure,
          a,
          h,
          "only " + (winner == Winner.ADAM ? "Adam" : "AdaHessian") + " got there",
          winner);
    }
    return new Row(
        measure, a, h, "neither got there: lower --target or raise --epochs", Winner.NONE);
  }

  private static String reached(TrainingRun.Result r) {
    return r.reachedTarget()
        ? String.format(Locale.ROOT, "%d (%.1f s)", r.stepsToTarget(), r.secondsToTarget())
        : "not in " + r.steps();
  }

  private static Row accuracy(
      String measure,
      TrainingRun.Result adam,
      TrainingRun.Result ah,
      ToDoubleFunction<TrainingRun.Result> value,
      boolean showLr) {
    String a = Format.percent(value.applyAsDouble(adam)) + notes(adam, showLr);
    String h = Format.percent(value.applyAsDouble(ah)) + notes(ah, showLr);
    double diff = value.applyAsDouble(ah) - value.applyAsDouble(adam);
    if (Math.abs(diff) * 100 < TIE_POINTS) {
      return new Row(
          measure,
          a,
          h,
          String.format(Locale.ROOT, "even (AdaHessian %+.2f pp)", 100 * diff),
          Winner.EVEN);
    }
    Winner winner = diff > 0 ? Winner.ADAHESSIAN : Winner.ADAM;
    String verdict =
        (winner == Winner.ADAM ? "Adam " : "AdaHessian ") + "+" + Format.points(Math.abs(diff));
    TrainingRun.Result loser = winner == Winner.ADAM ? ah : adam;
    if (loser.failure() != null) {
      verdict += ": " + loser.spec().optimizer().label() + " " + loser.failure();
    }
    return new Row(measure, a, h, verdict, winner);
  }

  private static Row gap(TrainingRun.Result adam, TrainingRun.Result ah) {
    double a = adam.trainAccuracy() - adam.valAccuracy();
    double h = ah.trainAccuracy() - ah.valAccuracy();
    String measure = "generalization gap (train - val)";
    if (Math.abs(h - a) * 100 < TIE_POINTS) {
      return new Row(measure, Format.points(a), Format.points(h), "even", Winner.EVEN);
    }
    Winner winner = h < a ? Winner.ADAHESSIAN : Winner.ADAM;
    String verdict =
        (winner == Winner.ADAM ? "Adam's" : "AdaHessian's")
            + " gap is "
            + Format.points(Math.abs(h - a))
            + " smaller";
    return new Row(measure, Format.points(a), Format.points(h), verdict, winner);
  }

  private static Row timePerStep(TrainingRun.Result adam, TrainingRun.Result ah) {
    double ratio = ah.msPerStep() / adam.msPerStep();
    Winner winner = ratio > 1.1 ? Winner.ADAM : ratio < 0.9 ? Winner.ADAHESSIAN : Winner.EVEN;
    String verdict =
        String.format(Locale.ROOT, "AdaHessian %.2fx Adam's time per step", ratio)
            + (ratio > 1.1 ? " (a second backward pass, for H z)" : "");
    return new Row("time per step", ms(adam), ms(ah), verdict, winner);
  }

  private static String ms(TrainingRun.Result r) {
    return String.format(Locale.ROOT, "%.1f ms", r.msPerStep());
  }

  private static Row memory(MemoryProbe.Usage adam, MemoryProbe.Usage ah) {
    String measure = "training memory: peak RSS growth (peak)";
    if (!adam.measured() || !ah.measured()) {
      String why = adam.measured() ? ah.failure() : adam.failure();
      return new Row(measure, "n/a", "n/a", "not measured: " + why, Winner.NONE);
    }
    long diff = ah.growthBytes() - adam.growthBytes();
    double ratio = (double) ah.growthBytes() / Math.max(1, adam.growthBytes());
    Winner winner = ratio > 1.1 ? Winner.ADAM : ratio < 0.9 ? Winner.ADAHESSIAN : Winner.EVEN;
    String verdict =
        String.format(
                Locale.ROOT,
                "AdaHessian %s%s (%.1fx)",
                diff >= 0 ? "+" : "-",
                Format.mib(Math.abs(diff)),
                ratio)
            + (ratio > 1.1 ? ": the gradient's graph is kept for H z" : "");
    return new Row(measure, rss(adam), rss(ah), verdict, winner);
  }

  private static String rss(MemoryProbe.Usage usage) {
    return Format.mib(usage.growthBytes()) + " (" + Format.mib(usage.peakBytes()) + ")";
  }

  private static Row spread(
      String measure, List<TrainingRun.Result> adam, List<TrainingRun.Result> ah, String what) {
    double a = spread(adam);
    double h = spread(ah);
    String adamCell = Format.points(a);
    String ahCell = Format.points(h);
    if (Math.abs(h - a) * 100 < TIE_POINTS) {
      return new Row(measure, adamCell, ahCell, "even", Winner.EVEN);
    }
    Winner winner = h < a ? Winner.ADAHESSIAN : Winner.ADAM;
    String verdict =
        (winner == Winner.ADAM ? "Adam" : "AdaHessian") + " is less sensitive to the " + what;
    return new Row(measure, adamCell, ahCell, verdict, winner);
  }

  private static double spread(List<TrainingRun.Result> runs) {
    DoubleSummaryStatistics accuracy =
        runs.stream().mapToDouble(TrainingRun.Result::valAccuracy).summaryStatistics();
    return accuracy.getMax() - accuracy.getMin();
  }

  /** " (lr, failure, skipped steps)" with what applies, or "". */
  private static String notes(TrainingRun.Result r, boolean showLr) {
    List<String> notes = new ArrayList<>();
    if (showLr) {
      notes.add(Format.number(r.spec().lr()));
    }
    if (r.failure() != null) {
      notes.add(r.failure());
    }
    if (r.skippedSteps() > 0) {
      notes.add(r.skippedSteps() + " steps skipped");
    }
    return notes.isEmpty() ? "" : " (" + String.join(", ", notes) + ")";
  }
}
