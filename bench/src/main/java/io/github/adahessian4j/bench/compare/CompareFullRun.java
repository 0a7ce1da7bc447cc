package io.github.adahessian4j.bench.compare;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongFunction;

/**
 * The full run of {@code compare --full}: runs {@link Claims} with the plan, prints and writes the
 * {@link ClaimsTable}, the runs and the {@link ClaimsPlots}.
 */
final class CompareFullRun {
  private CompareFullRun() {}

  /**
   * Every claim over seeds; writes the tables, the runs and the plots to {@code dir}. {@code
   * curvatureImages}: row 10's images (0: off); {@code probeArgs}: a memory probe's options at a
   * seed; {@code args}: the command line, for the footer.
   *
   * @return the exit status, 0
   */
  static int run(
      Claims.Plan plan,
      DataSet data,
      Path dir,
      PrintWriter out,
      String threadLine,
      long began,
      int curvatureImages,
      LongFunction<List<String>> probeArgs,
      List<String> args)
      throws IOException {
    Protocol protocol = plan.protocol();
    Files.writeString(dir.resolve("full-run.json"), plan.toJson());
    if (data.notice() != null) {
      out.println("NOTE: " + data.notice());
    }
    out.printf(
        Locale.ROOT,
        "Full run: the article's claims, Adam vs AdaHessian, %s%n",
        protocol.model().description());
    out.printf(
        Locale.ROOT,
        "data: %s: %d training, %d validation %s%n",
        data.source(),
        protocol.trainSize(),
        protocol.valSize(),
        data.samples());
    out.printf(
        Locale.ROOT,
        "seeds %d..%d (variants, grids, deep, noise, memory: the first %d); %d epochs, batch %d; "
            + "lr grid x%s; batch sizes %s; label noise %s; target %s val accuracy%n",
        plan.seed(0),
        plan.seed(plan.seeds() - 1),
        plan.variantSeeds(),
        protocol.epochs(),
        protocol.batch(),
        String.join("/", Arrays.stream(plan.lrFactors()).mapToObj(Format::number).toList()),
        Arrays.toString(plan.batchSizes()),
        Arrays.toString(plan.labelNoise()),
        Format.percent(protocol.target()));
    out.println(planLines(plan));
    out.println(threadLine);
    out.flush();
    HessianAnalysis curvature = curvature(plan, curvatureImages, data);
    Claims.Results results =
        Claims.run(
            plan,
            data,
            probeArgs,
            dir.resolve("runs.jsonl"),
            curvature,
            line -> {
              out.println(line);
              out.flush();
            });
    ClaimsTable table = new ClaimsTable(results);
    String report =
        ClaimsMarkdown.markdown(
            table, footer(plan, protocol, data, curvature, results.wallSeconds, args));
    if (data.text()) {
      report += bitsPerCharacter(results);
    }
    out.println();
    out.print(report);
    if (data.notice() != null) {
      out.println("NOTE: " + data.notice());
    }
    Files.writeString(dir.resolve("table.md"), report);
    Files.writeString(dir.resolve("table.csv"), ClaimsCsv.csv(table));
    List<Path> plots = ClaimsPlots.write(results, dir);
    out.println();
    out.println("Plots: " + plots.get(0).toAbsolutePath() + " (curves, mean and sd over seeds)");
    if (plots.size() > 1) {
      out.println(
          "       "
              + plots.get(1).toAbsolutePath()
              + " (final accuracy over "
              + String.join(", ", ClaimsPlots.sensitivityPanels(plan))
              + ")");
    }
    out.println(
        "Tables (table.md, table.csv), runs (runs.jsonl), protocol: " + dir.toAbsolutePath());
    out.printf(Locale.ROOT, "Total time %.0f s%n", (System.nanoTime() - began) / 1e9);
    out.flush();
    return 0;
  }

  /**
   * {@code compare --full --estimate}: calibrates, prints the plan's estimated time and exits;
   * nothing is trained or written.
   *
   * @return the exit status, 0
   */
  static int estimate(
      Claims.Plan plan, DataSet data, PrintWriter out, String threadLine, int curvatureImages) {
    out.println(planLines(plan));
    out.println(threadLine);
    out.println(
        "Calibrating the full run's plan (a few timed steps of every optimizer and net)...");
    out.flush();
    Claims.Estimate estimate =
        Claims.estimate(plan, data, curvature(plan, curvatureImages, data), out::println);
    out.printf(
        Locale.ROOT,
        "Estimated time of this plan: %.0f s (%.0f min, %.1f h): %.0f s of calibration, which a run "
            + "repeats, and %.0f s of work at the calibrated speed, on %d libtorch thread(s); "
            + "nothing was trained. On a busy machine the calibration is slow too and the estimate "
            + "high. Run it without --estimate.%n",
        estimate.totalSeconds(),
        estimate.totalSeconds() / 60,
        estimate.totalSeconds() / 3600,
        estimate.calibrationSeconds(),
        estimate.workSeconds(),
        plan.protocol().threads());
    out.flush();
    return 0;
  }

  /** Which plan, which claims it measures and which it leaves out (--plan, --claims). */
  static String planLines(Claims.Plan plan) {
    return "plan "
        + plan.name()
        + ": claims "
        + plan.claimList(true)
        + "\n"
        + "left out: "
        + plan.claimList(false)
        + (plan.name().equals(ClaimsPlans.FULL) ? "" : "\n" + ClaimsPlans.reduced(plan));
  }

  /** Row 10's analysis: off without claim 10 or with {@code images} 0. */
  private static HessianAnalysis curvature(Claims.Plan plan, int images, DataSet data) {
    return images == 0 || !plan.has(10)
        ? HessianAnalysis.OFF
        : HessianAnalysis.library(images, data.samples());
  }

  /** The language model's metric: each arm's final validation bits per character over seeds. */
  private static String bitsPerCharacter(Claims.Results results) {
    StringBuilder text =
        new StringBuilder(
            "\nValidation bits per character at the end of the main runs (mean ± sd over seeds; lower is "
                + "better):");
    results
        .plan
        .arms()
        .forEach(
            arm -> {
              List<TrainingRun.Result> runs = results.main.get(arm);
              Stats.Summary bits =
                  Stats.Summary.of(
                      runs.stream().mapToDouble(TrainingRun.Result::valBits).toArray());
              text.append(
                  String.format(
                      Locale.ROOT, " %s %.3f ± %.3f;", arm.label, bits.mean(), bits.sd()));
            });
    return text.append('\n').toString();
  }

  /** The claims table's footer: the statistics, the protocol and the command line. */
  static String footer(
      Claims.Plan plan,
      Protocol p,
      DataSet data,
      HessianAnalysis curvature,
      double wallSeconds,
      List<String> args) {
    return String.format(
        Locale.ROOT,
        "Mean ± sample standard deviation over seeds (column \"seeds\"; \""
            + plan.seeds()
            + " / "
            + plan.variantSeeds()
            + "\": "
            + "Adam and AdaHessian / the variants). Seed s sets the initial weights, the batch order, AdaHessian's probes "
            + "and which labels are noisy; Adam and AdaHessian at the same seed start from the same weights and see the "
            + "same batches. Verdicts are computed from the numbers: Welch's two-sided t-test at 5%% on the per-seed "
            + "values (unpaired, Welch-Satterthwaite degrees of freedom), except the time per step (rows 2 and 11 (2)), "
            + "measured side by side at each seed: a one-sample t-test at 5%% of the per-seed log ratio AdaHessian / "
            + "Adam (its ratio: the geometric mean); \"not distinguishable\" when p >= 0.05; "
            + "\"supports\" / \"against\" say whether a difference called points the article's way. \"leaving out any one "
            + "seed\": the test recomputed without each seed in turn; \"robust\" only if every such subset reaches the "
            + "same verdict (runs are bit-reproducible on one machine only: another CPU rounds differently).%n"
            + "Protocol: %s, %d training / %d validation %s; %s; %d epochs, batch %d; Adam lr %s, AdaHessian lr %s "
            + "(each one's default); validation checked every %d steps in the main runs; lr grid x%s; batch sizes %s; "
            + "label noise %s; depth: %s; time per step: every optimizer in turns in one process, %d rounds of %d steps "
            + "per seed; memory: peak RSS growth over %d steps in a fresh JVM per optimizer and seed (%d seeds); "
            + "%s; %d libtorch thread(s).%n"
            + "%s%n"
            + "Run: adahessian4j-bench %s (%.0f s wall-clock).%n",
        data.source(),
        p.trainSize(),
        p.valSize(),
        data.samples(),
        p.model().description(),
        p.epochs(),
        p.batch(),
        Format.number(p.adamLr()),
        Format.number(p.adaHessianLr()),
        Math.max(1, p.stepsPerEpoch() / p.evalsPerEpoch()),
        String.join("/", Arrays.stream(plan.lrFactors()).mapToObj(Format::number).toList()),
        Arrays.toString(plan.batchSizes()),
        Arrays.toString(plan.labelNoise()),
        String.join("; ", plan.deepModels().stream().map(Model::description).toList()),
        plan.timingRounds(),
        plan.timingSteps(),
        MemoryProbe.STEPS,
        plan.memorySeeds(),
        curvature.description(),
        p.threads(),
        planLines(plan).replace("\n", "; "),
        String.join(" ", args),
        wallSeconds);
  }
}
