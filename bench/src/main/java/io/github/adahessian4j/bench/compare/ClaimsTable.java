package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.ClaimsVerdicts.effect;
import static io.github.adahessian4j.bench.compare.ClaimsVerdicts.verdict;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import io.github.adahessian4j.bench.compare.ClaimsVerdicts.Expect;
import io.github.adahessian4j.bench.compare.ClaimsVerdicts.Standing;
import io.github.adahessian4j.bench.compare.ClaimsVerdicts.Unit;
import io.github.adahessian4j.bench.compare.ClaimsVerdicts.Verdict;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * The claims table of the full run: one row per measure of one of the article's claims, with the
 * claim in the article's words, Adam's and AdaHessian's mean and standard deviation over seeds, and
 * a verdict printed from the numbers (Welch's test, {@link Stats}); then row 11, the cheaper
 * AdaHessian variants beside them for the measures of rows 1, 2 and 6. {@link ClaimsVerdicts} reads
 * the values and calls the verdicts; {@link ClaimsMarkdown} and {@link ClaimsCsv} write it out.
 */
final class ClaimsTable {
  static final List<String> HEADER =
      List.of(
          "#",
          "the article's claim",
          "measure",
          "seeds",
          "Adam",
          "AdaHessian",
          "verdict",
          "leaving out any one seed");
  static final List<String> VARIANT_HEADER = variantHeader();

  private static List<String> variantHeader() {
    List<String> header = new ArrayList<>(List.of("#", "measure", "seeds"));
    for (Claims.Arm arm : Claims.Arm.values()) {
      header.add(arm.primary() ? arm.label : "AH " + arm.shortLabel);
    }
    header.add("verdict (each against Adam)");
    header.add("leaving out any one seed");
    return List.copyOf(header);
  }

  /**
   * One row of the main table, with what the CSV needs; {@code robustness}: whether the verdict
   * survives leaving out any one seed ({@link LeaveOneOut}), "-" for a row without a test.
   */
  record Row(
      String id,
      String claim,
      String measure,
      String seeds,
      String adam,
      String adaHessian,
      String verdict,
      Standing standing,
      Map<String, double[]> values,
      Unit unit,
      Map<String, Stats.Test> tests,
      String robustness) {
    Row(
        String id,
        String claim,
        String measure,
        String seeds,
        String adam,
        String adaHessian,
        String verdict,
        Standing standing,
        Map<String, double[]> values,
        Unit unit,
        Map<String, Stats.Test> tests) {
      this(
          id, claim, measure, seeds, adam, adaHessian, verdict, standing, values, unit, tests, "-");
    }

    List<String> cells() {
      return List.of(id, claim, measure, seeds, adam, adaHessian, verdict, robustness);
    }
  }

  private final Claims.Results r;
  private final Claims.Plan plan;
  private final Protocol p;
  private final List<Row> rows = new ArrayList<>();
  private final List<Row> variantRows = new ArrayList<>();

  /** The variant rows' cells, one per arm. */
  private final Map<Row, List<String>> variantCells = new LinkedHashMap<>();

  ClaimsTable(Claims.Results results) {
    this.r = results;
    this.plan = results.plan;
    this.p = plan.protocol();
    build();
  }

  List<Row> rows() {
    return rows;
  }

  Claims.Plan plan() {
    return plan;
  }

  List<Row> variantRows() {
    return variantRows;
  }

  /** A variant row's cells, one per arm. */
  List<String> variantCells(Row row) {
    return variantCells.get(row);
  }

  private List<TrainingRun.Result> main(Claims.Arm arm) {
    return r.main.get(arm);
  }

  private static double[] values(
      List<TrainingRun.Result> runs, ToDoubleFunction<TrainingRun.Result> f) {
    return runs.stream().mapToDouble(f).toArray();
  }

  private int plannedSteps(TrainingRun.Result run) {
    return TrainingRun.totalSteps(run.spec(), plan.mainSettings(0), p.trainSize());
  }

  /**
   * Steps to the target; a run that did not reach it counts with its planned length (a lower
   * bound).
   */
  private double stepsToTarget(TrainingRun.Result run) {
    return run.reachedTarget() ? run.stepsToTarget() : plannedSteps(run);
  }

  private double secondsToTarget(TrainingRun.Result run) {
    return run.reachedTarget()
        ? run.secondsToTarget()
        : run.trainSeconds() * plannedSteps(run) / Math.max(1, run.steps());
  }

  private static double failed(TrainingRun.Result run) {
    return run.failure() != null ? 1 : 0;
  }

  private void build() {
    String target = Format.percent(p.target());
    int evalEvery = Math.max(1, p.stepsPerEpoch() / p.evalsPerEpoch());
    String stepsClaim = "\"needs fewer steps overall\", \"fewer epochs to get there\"";
    List<TrainingRun.Result> adam = main(Claims.Arm.ADAM_ARM);
    List<TrainingRun.Result> ah = main(Claims.Arm.ADAHESSIAN_ARM);

    add(
        1,
        () ->
            row(
                "1a",
                stepsClaim,
                "steps to "
                    + target
                    + " val accuracy (checked every "
                    + evalEvery
                    + " steps; "
                    + p.stepsPerEpoch()
                    + " steps = 1 epoch)",
                Unit.STEPS,
                values(adam, this::stepsToTarget),
                values(ah, this::stepsToTarget),
                Expect.LOWER,
                "fewer steps",
                "more steps",
                unreachedNote(adam, ah)));
    add(
        1,
        () ->
            row(
                "1b",
                "(wall-clock: no claim; the per-step cost counts)",
                "training seconds to " + target + " val accuracy",
                Unit.SECONDS,
                values(adam, this::secondsToTarget),
                values(ah, this::secondsToTarget),
                Expect.NONE,
                "sooner",
                "later",
                unreachedNote(adam, ah)));
    add(
        2,
        () -> timeRow("2", "\"slower per step\"", Claims.Arm.ADAM_ARM, Claims.Arm.ADAHESSIAN_ARM));
    add(3, () -> memoryRow());
    add(
        4,
        () ->
            row(
                "4",
                "\"The early steps of training can feel slower\"",
                "val accuracy after the first "
                    + Format.number(100 * plan.earlyFraction())
                    + "% of the steps",
                Unit.ACCURACY,
                values(adam, TrainingRun.Result::earlyValAccuracy),
                values(ah, TrainingRun.Result::earlyValAccuracy),
                Expect.LOWER,
                "lower",
                "higher",
                ""));
    String lrs =
        Arrays.stream(plan.lrFactors())
            .mapToObj(f -> "x" + Format.number(f))
            .collect(Collectors.joining(" "));
    add(
        5,
        () ->
            row(
                "5a",
                "\"Sensitivity to learning rate: lower\"",
                "spread (max - min) of final val accuracy over lr " + lrs + " of each default",
                Unit.POINTS,
                spread(r.lr.get(ADAM)),
                spread(r.lr.get(ADAHESSIAN)),
                Expect.LOWER,
                "smaller spread",
                "larger spread",
                ""));
    add(
        5,
        () ->
            countRow(
                "5b",
                "\"Sensitivity to learning rate: lower\"",
                "runs diverged or at chance over that grid",
                failures(r.lr.get(ADAM)),
                failures(r.lr.get(ADAHESSIAN)),
                plan.lrFactors().length));
    add(
        6,
        () ->
            row(
                "6a",
                "\"Generalization: often better\"",
                "final val accuracy",
                Unit.ACCURACY,
                values(adam, TrainingRun.Result::valAccuracy),
                values(ah, TrainingRun.Result::valAccuracy),
                Expect.HIGHER,
                "lower",
                "higher",
                ""));
    add(
        6,
        () ->
            row(
                "6b",
                "\"Generalization: often better\"",
                "train - val accuracy gap",
                Unit.POINTS,
                values(adam, ClaimsTable::gap),
                values(ah, ClaimsTable::gap),
                Expect.LOWER,
                "smaller gap",
                "larger gap",
                ""));
    add(
        7,
        () ->
            row(
                "7",
                "\"Batch size handling: more stable\"",
                "spread of final val accuracy over batch "
                    + Arrays.stream(plan.batchSizes())
                        .mapToObj(Integer::toString)
                        .collect(Collectors.joining("/"))
                    + " (same lr, same epochs)",
                Unit.POINTS,
                spread(r.batch.get(ADAM)),
                spread(r.batch.get(ADAHESSIAN)),
                Expect.LOWER,
                "smaller spread",
                "larger spread",
                ""));
    String depthClaim = "\"how well it handles architecture depth\", \"stay more balanced\"";
    // Rows 8a/8b: the first network of the depth claim; 8d/8e, 8f/8g, ...: the others.
    int deepNets = plan.has(8) ? plan.deepModels().size() : 0;
    for (int d = 0; d < deepNets; d++) {
      Model deep = plan.deepModels().get(d);
      String deepName = depthLabel(deep);
      char first = d == 0 ? 'a' : (char) ('d' + 2 * (d - 1));
      List<TrainingRun.Result> adamDeep = r.deep.get(ADAM).get(d);
      List<TrainingRun.Result> ahDeep = r.deep.get(ADAHESSIAN).get(d);
      List<Row> pair =
          List.of(
              row(
                  "8" + first,
                  depthClaim,
                  deepName + ": final val accuracy",
                  Unit.ACCURACY,
                  values(adamDeep, TrainingRun.Result::valAccuracy),
                  values(ahDeep, TrainingRun.Result::valAccuracy),
                  Expect.HIGHER,
                  "lower",
                  "higher",
                  ""),
              countRow(
                  "8" + (char) (first + 1),
                  depthClaim,
                  deepName + ": runs that failed to train (diverged or at chance)",
                  values(adamDeep, ClaimsTable::failed),
                  values(ahDeep, ClaimsTable::failed),
                  1));
      rows.addAll(pair);
      if (d == 0) {
        rows.add(
            countRow(
                "8c",
                depthClaim,
                "default " + p.model().name() + ": runs that failed to train",
                values(adam, ClaimsTable::failed),
                values(ah, ClaimsTable::failed),
                1));
      }
    }
    int noiseLevels = plan.has(9) ? plan.labelNoise().length : 0;
    for (int n = 0; n < noiseLevels; n++) {
      String level = Format.number(100 * plan.labelNoise()[n]) + "%";
      rows.add(
          row(
              "9" + (char) ('a' + n),
              "\"if ... your dataset noisy, AdaHessian might handle the instability better\"",
              level + " of training labels wrong: final val accuracy (clean labels)",
              Unit.ACCURACY,
              values(r.noise.get(ADAM).get(n), TrainingRun.Result::valAccuracy),
              values(r.noise.get(ADAHESSIAN).get(n), TrainingRun.Result::valAccuracy),
              Expect.HIGHER,
              "lower",
              "higher",
              ""));
    }
    String flat = "\"flatter regions of the loss surface\"";
    if (plan.has(10) && !r.curvatureAvailable) {
      rows.add(
          new Row(
              "10",
              flat,
              "top Hessian eigenvalue and trace at the final weights",
              "-",
              "-",
              "-",
              HessianAnalysis.OFF_TEXT,
              Standing.NOT_MEASURED,
              Map.of(),
              Unit.PLAIN,
              Map.of()));
    } else if (plan.has(10)) {
      rows.add(
          row(
              "10a",
              flat,
              "top Hessian eigenvalue at the final weights",
              Unit.PLAIN,
              curvature(adam, true),
              curvature(ah, true),
              Expect.LOWER,
              "lower",
              "higher",
              ""));
      rows.add(
          row(
              "10b",
              flat,
              "Hessian trace at the final weights",
              Unit.PLAIN,
              curvature(adam, false),
              curvature(ah, false),
              Expect.LOWER,
              "lower",
              "higher",
              ""));
    }
    if (plan.has(11)) {
      buildVariants(target);
    }
  }

  /** Adds the row of claim {@code claim} if the plan measures it. */
  private void add(int claim, java.util.function.Supplier<Row> row) {
    if (plan.has(claim)) {
      rows.add(row.get());
    }
  }

  private void buildVariants(String target) {
    variantRows.add(
        variantRow(
            "11 (1a)",
            "steps to " + target + " val accuracy",
            Unit.STEPS,
            arm -> values(main(arm), this::stepsToTarget),
            true,
            false));
    variantRows.add(
        variantRow(
            "11 (1b)",
            "training seconds to " + target,
            Unit.SECONDS,
            arm -> values(main(arm), this::secondsToTarget),
            true,
            false));
    variantRows.add(
        variantRow(
            "11 (2)",
            "time per step, interleaved (paired ratio test; a warm-up arm's steps after its "
                + "warm-up are its updateEach arm's)",
            Unit.MS,
            arm -> r.msPerStep.get(arm).stream().mapToDouble(Double::doubleValue).toArray(),
            false,
            true));
    variantRows.add(
        variantRow(
            "11 (6a)",
            "final val accuracy",
            Unit.ACCURACY,
            arm -> values(main(arm), TrainingRun.Result::valAccuracy),
            true,
            false));
    variantRows.add(
        variantRow(
            "11 (6b)",
            "train - val accuracy gap",
            Unit.POINTS,
            arm -> values(main(arm), ClaimsTable::gap),
            true,
            false));
  }

  /**
   * A row of the variants' table; with {@code fromRuns}, each cell says how many of the arm's main
   * runs failed (diverged or at chance) or missed the target, when any did.
   */
  private Row variantRow(
      String id,
      String measure,
      Unit unit,
      java.util.function.Function<Claims.Arm, double[]> of,
      boolean fromRuns,
      boolean paired) {
    double[] adam = of.apply(Claims.Arm.ADAM_ARM);
    Map<String, double[]> values = new LinkedHashMap<>();
    Map<String, Stats.Test> tests = new LinkedHashMap<>();
    List<String> cells = new ArrayList<>();
    List<String> verdicts = new ArrayList<>();
    List<String> robust = new ArrayList<>();
    List<String> fragile = new ArrayList<>();
    for (Claims.Arm arm : Claims.Arm.values()) {
      double[] v = of.apply(arm);
      values.put(arm.label, v);
      String cell = unit.cell(Stats.Summary.of(v));
      if (fromRuns) {
        long failed = main(arm).stream().filter(x -> x.failure() != null).count();
        long missed = main(arm).stream().filter(x -> !x.reachedTarget()).count();
        List<String> notes = new ArrayList<>();
        if (failed > 0) {
          notes.add(failed + " of " + main(arm).size() + " failed");
        }
        if (missed > 0 && unit != Unit.ACCURACY && unit != Unit.POINTS) {
          notes.add(missed + " not reached");
        }
        cell += notes.isEmpty() ? "" : " [" + String.join(", ", notes) + "]";
      }
      cells.add(cell);
      if (v.length == 0 && arm.hessianWarmup > 0) {
        verdicts.add(arm.shortLabel + " not timed");
      } else if (arm != Claims.Arm.ADAM_ARM) {
        Stats.Test t = paired ? Stats.pairedRatio(adam, v) : Stats.welch(adam, v);
        tests.put(arm.label, t);
        String name = arm == Claims.Arm.ADAHESSIAN_ARM ? "AdaHessian" : arm.shortLabel;
        LeaveOneOut.Check check =
            LeaveOneOut.check(adam, v, paired ? Stats::pairedRatio : Stats::welch);
        if (check.robust()) {
          robust.add(name);
        } else if (check.full() != Stats.Outcome.TOO_FEW) {
          fragile.add(name + " (" + seedNames(check) + ")");
        }
        verdicts.add(
            name
                + " "
                + (t.outcome() == Stats.Outcome.TOO_FEW
                    ? "too few seeds"
                    : t.called()
                        ? effect(t, unit) + " (" + t.pText() + ")"
                        : "not distinguishable (" + t.pText() + ")"));
      }
    }
    String seeds = main(Claims.Arm.ADAM_ARM).size() + " / " + main(Claims.Arm.EACH2).size();
    // The variant row keeps its cells in the Row's adam/adaHessian fields and the rest in the
    // verdict list.
    Row row =
        new Row(
            id,
            "",
            measure,
            seeds,
            cells.get(0),
            cells.get(1),
            String.join("; ", verdicts),
            Standing.NO_CLAIM,
            values,
            unit,
            tests,
            variantRobustness(robust, fragile));
    variantCells.put(row, cells);
    return row;
  }

  /** "robust: a, b; not: c (without seed 3)" for a variant row's verdicts. */
  private static String variantRobustness(List<String> robust, List<String> fragile) {
    List<String> parts = new ArrayList<>();
    if (!robust.isEmpty()) {
      parts.add("robust: " + String.join(", ", robust));
    }
    if (!fragile.isEmpty()) {
      parts.add("not: " + String.join(", ", fragile));
    }
    return parts.isEmpty() ? "-" : String.join("; ", parts);
  }

  /** "without seed 3, 5": the seeds whose omission changes a verdict. */
  private String seedNames(LeaveOneOut.Check check) {
    return "without seed "
        + check.flips().keySet().stream()
            .map(i -> Long.toString(plan.seed(i)))
            .collect(Collectors.joining(", "));
  }

  /**
   * Whether the verdict of {@code test} survives leaving out any one seed, as the table says it.
   */
  private String robustness(
      double[] adam,
      double[] ah,
      java.util.function.BiFunction<double[], double[], Stats.Test> test) {
    return LeaveOneOut.check(adam, ah, test).text(i -> Long.toString(plan.seed(i)));
  }

  private static double gap(TrainingRun.Result run) {
    return run.trainAccuracy() - run.valAccuracy();
  }

  private static double[] curvature(List<TrainingRun.Result> runs, boolean top) {
    return runs.stream()
        .mapToDouble(
            run ->
                run.curvature() == null
                    ? Double.NaN
                    : top ? run.curvature().topEigenvalue() : run.curvature().trace())
        .toArray();
  }

  /** Per seed, max - min of the final validation accuracy over the grid's points. */
  private static double[] spread(List<List<TrainingRun.Result>> grid) {
    int seeds = grid.stream().mapToInt(List::size).min().orElse(0);
    double[] spread = new double[seeds];
    for (int s = 0; s < seeds; s++) {
      int seed = s;
      double[] acc = grid.stream().mapToDouble(point -> point.get(seed).valAccuracy()).toArray();
      spread[s] =
          Arrays.stream(acc).max().orElse(Double.NaN) - Arrays.stream(acc).min().orElse(Double.NaN);
    }
    return spread;
  }

  /** Per seed, how many of the grid's runs failed (diverged or at chance). */
  private static double[] failures(List<List<TrainingRun.Result>> grid) {
    int seeds = grid.stream().mapToInt(List::size).min().orElse(0);
    double[] count = new double[seeds];
    for (int s = 0; s < seeds; s++) {
      int seed = s;
      count[s] = grid.stream().filter(point -> point.get(seed).failure() != null).count();
    }
    return count;
  }

  private String unreachedNote(List<TrainingRun.Result> adam, List<TrainingRun.Result> ah) {
    long a = adam.stream().filter(x -> !x.reachedTarget()).count();
    long h = ah.stream().filter(x -> !x.reachedTarget()).count();
    if (a == 0 && h == 0) {
      return "";
    }
    return String.format(
        Locale.ROOT,
        " [not reached: Adam %d of %d, AdaHessian %d of %d; counted at the run's "
            + "end, a lower bound]",
        a,
        adam.size(),
        h,
        ah.size());
  }

  private Row timeRow(String id, String claim, Claims.Arm a, Claims.Arm b) {
    double[] adam = r.msPerStep.get(a).stream().mapToDouble(Double::doubleValue).toArray();
    double[] ah = r.msPerStep.get(b).stream().mapToDouble(Double::doubleValue).toArray();
    Stats.Test t = Stats.pairedRatio(adam, ah);
    Verdict v = verdict(t, Expect.HIGHER, Unit.MS, "faster", "slower", ratioNote(adam, ah));
    return new Row(
        id,
        claim,
        "time per step, batch "
            + p.batch()
            + ", interleaved in one process (median of "
            + plan.timingRounds()
            + " turns of "
            + plan.timingSteps()
            + " steps; paired test of the per-seed ratio)",
        seeds(adam, ah),
        Unit.MS.cell(t.a()),
        Unit.MS.cell(t.b()),
        v.text(),
        v.standing(),
        values(adam, ah),
        Unit.MS,
        Map.of("AdaHessian", t),
        robustness(adam, ah, Stats::pairedRatio));
  }

  private Row memoryRow() {
    List<MemoryProbe.Usage> a = r.memory.get(ADAM);
    List<MemoryProbe.Usage> h = r.memory.get(ADAHESSIAN);
    String measure =
        "peak training memory: RSS growth over "
            + MemoryProbe.STEPS
            + " steps, batch "
            + p.batch()
            + ", a fresh JVM each";
    String claim = "\"Memory cost: slightly higher\"";
    String failure =
        a.stream()
            .map(MemoryProbe.Usage::failure)
            .filter(f -> f != null)
            .findFirst()
            .orElse(
                h.stream()
                    .map(MemoryProbe.Usage::failure)
                    .filter(f -> f != null)
                    .findFirst()
                    .orElse(null));
    if (failure != null || a.isEmpty()) {
      return new Row(
          "3",
          claim,
          measure,
          Integer.toString(a.size()),
          "n/a",
          "n/a",
          "not measured: " + (failure != null ? failure : "no probe ran"),
          Standing.TOO_FEW,
          Map.of(),
          Unit.MIB,
          Map.of());
    }
    double[] adam = a.stream().mapToDouble(MemoryProbe.Usage::growthBytes).toArray();
    double[] ah = h.stream().mapToDouble(MemoryProbe.Usage::growthBytes).toArray();
    return row(
        "3",
        claim,
        measure,
        Unit.MIB,
        adam,
        ah,
        Expect.HIGHER,
        "less",
        "more",
        ratioNote(adam, ah));
  }

  /** "; ratio 2.31 ± 0.05" of the per-seed ratios b/a (the seeds pair the values). */
  private static String ratioNote(double[] a, double[] b) {
    int n = Math.min(a.length, b.length);
    double[] ratio = new double[n];
    for (int i = 0; i < n; i++) {
      ratio[i] = b[i] / a[i];
    }
    Stats.Summary s = Stats.Summary.of(ratio);
    if (s.n() == 0) {
      return "";
    }
    return s.n() > 1
        ? String.format(Locale.ROOT, "; per-seed ratio %.2f ± %.2f", s.mean(), s.sd())
        : String.format(Locale.ROOT, "; ratio %.2f", s.mean());
  }

  private Row countRow(
      String id, String claim, String measure, double[] adam, double[] ah, int runsPerSeed) {
    Stats.Test t = Stats.welch(adam, ah);
    String a =
        String.format(
            Locale.ROOT, "%.0f of %d", Arrays.stream(adam).sum(), adam.length * runsPerSeed);
    String h =
        String.format(Locale.ROOT, "%.0f of %d", Arrays.stream(ah).sum(), ah.length * runsPerSeed);
    Verdict v = verdict(t, Expect.LOWER, Unit.COUNT, "fewer", "more", "");
    return new Row(
        id,
        claim,
        measure,
        seeds(adam, ah),
        a,
        h,
        v.text(),
        v.standing(),
        values(adam, ah),
        Unit.COUNT,
        Map.of("AdaHessian", t),
        robustness(adam, ah, Stats::welch));
  }

  private Row row(
      String id,
      String claim,
      String measure,
      Unit unit,
      double[] adam,
      double[] ah,
      Expect expect,
      String lowerWord,
      String higherWord,
      String note) {
    Stats.Test t = Stats.welch(adam, ah);
    Verdict v = verdict(t, expect, unit, lowerWord, higherWord, note);
    return new Row(
        id,
        claim,
        measure,
        seeds(adam, ah),
        unit.cell(t.a()),
        unit.cell(t.b()),
        v.text(),
        v.standing(),
        values(adam, ah),
        unit,
        Map.of("AdaHessian", t),
        robustness(adam, ah, Stats::welch));
  }

  private static Map<String, double[]> values(double[] adam, double[] ah) {
    Map<String, double[]> values = new LinkedHashMap<>();
    values.put("Adam", adam);
    values.put("AdaHessian", ah);
    return values;
  }

  private static String seeds(double[] a, double[] b) {
    long na = Arrays.stream(a).filter(Double::isFinite).count();
    long nb = Arrays.stream(b).filter(Double::isFinite).count();
    return na == nb ? Long.toString(na) : na + " / " + nb;
  }

  /** How rows 8a, 8b, 8d, ... name a network of the depth claim. */
  static String depthLabel(Model deep) {
    if (deep.equals(Model.DEEP)) {
      return "deep plain MLP (10 linear layers)";
    }
    for (int blocks : Model.TRANSFORMER_BLOCKS) {
      if (deep.equals(Model.transformer(blocks))) {
        return "transformer LM, " + blocks + " blocks";
      }
    }
    return deep.name();
  }
}
