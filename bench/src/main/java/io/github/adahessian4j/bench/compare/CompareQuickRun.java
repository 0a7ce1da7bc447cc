package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The quick run of {@code compare} (one seed): the main runs, the memory probes and the two grids;
 * prints and writes the {@link ComparisonTable}, the curves and the {@link Plots}.
 */
final class CompareQuickRun {
  private CompareQuickRun() {}

  /**
   * Runs the comparison and writes table.md, curves.csv and the plots to {@code dir}; {@code
   * probeArgs}: the options of a memory probe's JVM.
   *
   * @return the exit status, 0
   */
  static int run(
      Protocol protocol,
      DataSet data,
      Path dir,
      PrintWriter out,
      String threadLine,
      long began,
      Supplier<List<String>> probeArgs)
      throws IOException {
    printHeader(out, protocol, data, threadLine);
    Comparison comparison = runAll(protocol, data, out, probeArgs);
    ComparisonTable table = new ComparisonTable(comparison);
    String report = table.markdown() + "\n" + table.summary();
    if (data.text()) {
      report += bitsPerCharacter(comparison.main());
    }
    out.println();
    out.print(report);
    if (data.notice() != null) {
      out.println("NOTE: " + data.notice());
    }
    Files.writeString(dir.resolve("table.md"), report);
    Files.writeString(dir.resolve("curves.csv"), curvesCsv(comparison.main()));
    List<Path> plots = Plots.write(comparison, dir);
    out.println();
    out.println("Plots: " + plots.get(0).toAbsolutePath() + " (loss and accuracy curves)");
    out.println(
        "       " + plots.get(1).toAbsolutePath() + " (learning-rate and batch-size sensitivity)");
    out.println("Table, curves and protocol: " + dir.toAbsolutePath());
    out.printf(Locale.ROOT, "Total time %.0f s%n", (System.nanoTime() - began) / 1e9);
    out.flush();
    return 0;
  }

  /** The main runs, the memory probes and the two grids, in that order. */
  private static Comparison runAll(
      Protocol protocol, DataSet data, PrintWriter out, Supplier<List<String>> probeArgs) {
    TrainingRun.Settings settings = protocol.settings();
    TrainingRun.warmUp(settings, data, 3, protocol.batch());
    Map<OptimizerKind, TrainingRun.Result> main = new EnumMap<>(OptimizerKind.class);
    for (OptimizerKind kind : OptimizerKind.values()) {
      main.put(
          kind,
          TrainingRun.run(
              new TrainingRun.Spec(kind, protocol.defaultLr(kind), protocol.batch()),
              settings,
              data,
              true));
    }
    out.printf(
        "Measuring each optimizer's training memory in a fresh JVM (%d steps)...%n",
        MemoryProbe.STEPS);
    out.flush();
    Map<OptimizerKind, MemoryProbe.Usage> memory = new EnumMap<>(OptimizerKind.class);
    for (OptimizerKind kind : OptimizerKind.values()) {
      memory.put(kind, MemoryProbe.measure(kind, probeArgs.get()));
    }
    Map<OptimizerKind, List<TrainingRun.Result>> lrGrid =
        grid(
            main,
            settings,
            data,
            kind ->
                Arrays.stream(protocol.lrGrid(kind))
                    .mapToObj(lr -> new TrainingRun.Spec(kind, lr, protocol.batch()))
                    .toList());
    Map<OptimizerKind, List<TrainingRun.Result>> batchGrid =
        grid(
            main,
            settings,
            data,
            kind ->
                Arrays.stream(protocol.batchSizes())
                    .mapToObj(b -> new TrainingRun.Spec(kind, protocol.defaultLr(kind), b))
                    .toList());
    return new Comparison(protocol, main, memory, lrGrid, batchGrid);
  }

  /**
   * Runs each optimizer's specs; a spec equal to the optimizer's main run takes that run's result.
   */
  private static Map<OptimizerKind, List<TrainingRun.Result>> grid(
      Map<OptimizerKind, TrainingRun.Result> main,
      TrainingRun.Settings settings,
      DataSet data,
      Function<OptimizerKind, List<TrainingRun.Spec>> specs) {
    Map<OptimizerKind, List<TrainingRun.Result>> grid = new EnumMap<>(OptimizerKind.class);
    for (OptimizerKind kind : OptimizerKind.values()) {
      TrainingRun.Result done = main.get(kind);
      grid.put(
          kind,
          specs.apply(kind).stream()
              .map(
                  spec ->
                      spec.equals(done.spec())
                          ? done
                          : TrainingRun.run(spec, settings, data, false))
              .toList());
    }
    return grid;
  }

  /**
   * The language model's metric: each main run's final validation loss in bits per character (the
   * cross-entropy in nats over ln 2).
   */
  private static String bitsPerCharacter(Map<OptimizerKind, TrainingRun.Result> main) {
    StringBuilder text = new StringBuilder("\nValidation bits per character (lower is better):");
    for (TrainingRun.Result r : main.values()) {
      text.append(
          String.format(Locale.ROOT, " %s %.3f;", r.spec().optimizer().label(), r.valBits()));
    }
    return text.append('\n').toString();
  }

  private static void printHeader(PrintWriter out, Protocol p, DataSet data, String threadLine) {
    if (data.notice() != null) {
      out.println("NOTE: " + data.notice());
    }
    out.printf(Locale.ROOT, "Adam vs AdaHessian: %s%n", p.model().description());
    out.printf(
        Locale.ROOT,
        "data: %s: %d training, %d validation %s%n",
        data.source(),
        p.trainSize(),
        p.valSize(),
        data.text() ? "windows of " + (p.model().context() + 1) + " characters" : "images");
    out.printf(
        Locale.ROOT,
        "protocol: seed %d, %d epochs, batch %d; lr grid Adam %s, AdaHessian %s; batch sizes %s; "
            + "target %s val accuracy%n",
        p.seed(),
        p.epochs(),
        p.batch(),
        lrs(p, ADAM),
        lrs(p, ADAHESSIAN),
        Arrays.toString(p.batchSizes()),
        Format.percent(p.target()));
    out.println(threadLine);
    out.println("(compare --protocol prints the full protocol as JSON for other implementations)");
    out.flush();
  }

  private static String lrs(Protocol p, OptimizerKind kind) {
    return String.join("/", Arrays.stream(p.lrGrid(kind)).mapToObj(Format::number).toList());
  }

  private static String curvesCsv(Map<OptimizerKind, TrainingRun.Result> main) {
    StringBuilder csv =
        new StringBuilder(
            "optimizer,lr,batch,step,epoch,train_seconds,train_loss,val_loss,val_accuracy\n");
    for (TrainingRun.Result r : main.values()) {
      for (TrainingRun.Point p : r.curve()) {
        csv.append(
            String.format(
                Locale.ROOT,
                "%s,%s,%d,%d,%.4f,%.3f,%.6f,%.6f,%.6f%n",
                r.spec().optimizer().label(),
                Format.number(r.spec().lr()),
                r.spec().batch(),
                p.step(),
                p.epoch(),
                p.seconds(),
                p.trainLoss(),
                p.valLoss(),
                p.valAccuracy()));
      }
    }
    return csv.toString();
  }
}
