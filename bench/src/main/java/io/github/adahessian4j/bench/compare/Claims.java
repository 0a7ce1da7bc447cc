package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * The full run, {@code compare --full}: every claim of the article measured over several seeds.
 * Seed {@code s} fixes a run's initial weights, batch order, AdaHessian's probes and (for the
 * label-noise runs) which labels are replaced, so that Adam and AdaHessian at the same seed start
 * from the same weights and see the same batches. The default configuration (the {@link Protocol}
 * of the quick run) runs at {@code seeds} seeds for Adam and AdaHessian; everything else (the
 * cheaper AdaHessian variants, the learning-rate and batch-size grids, the deep network, label
 * noise, memory) at the first {@code variantSeeds} of them. One progress bar covers the whole run;
 * its unit is the estimated work in seconds, calibrated on a few timed steps first ({@link
 * ClaimsCalibration}), so its ETA is the run's. {@link ClaimsJson} writes each finished run to
 * {@code runs.jsonl}.
 */
final class Claims {
  private Claims() {}

  /** The Hessian warm-up of the arms that have one: the first 20 steps refresh the estimate. */
  static final int HESSIAN_WARMUP = 20;

  /**
   * The optimizers of the full run: Adam, AdaHessian, and the cheaper AdaHessian variants of row 11
   * (updateEach 2 and 4 without and with {@link #HESSIAN_WARMUP}, the Hessian from a quarter of the
   * batch).
   */
  enum Arm {
    ADAM_ARM("Adam", "Adam", ADAM, 1, 0, 1),
    ADAHESSIAN_ARM("AdaHessian", "AdaHessian", ADAHESSIAN, 1, 0, 1),
    EACH2("AdaHessian updateEach 2", "updateEach 2", ADAHESSIAN, 2, 0, 1),
    EACH2_WARM(
        "AdaHessian updateEach 2, Hessian warm-up " + HESSIAN_WARMUP,
        "updateEach 2 warm-up",
        ADAHESSIAN,
        2,
        HESSIAN_WARMUP,
        1),
    EACH4("AdaHessian updateEach 4", "updateEach 4", ADAHESSIAN, 4, 0, 1),
    EACH4_WARM(
        "AdaHessian updateEach 4, Hessian warm-up " + HESSIAN_WARMUP,
        "updateEach 4 warm-up",
        ADAHESSIAN,
        4,
        HESSIAN_WARMUP,
        1),
    QUARTER("AdaHessian, Hessian from 1/4 of the batch", "Hessian 1/4 batch", ADAHESSIAN, 1, 0, 4);

    final String label;
    final String shortLabel;
    final OptimizerKind kind;
    final int updateEach;
    final int hessianWarmup;
    final int hessianDivisor;

    Arm(
        String label,
        String shortLabel,
        OptimizerKind kind,
        int updateEach,
        int hessianWarmup,
        int hessianDivisor) {
      this.label = label;
      this.shortLabel = shortLabel;
      this.kind = kind;
      this.updateEach = updateEach;
      this.hessianWarmup = hessianWarmup;
      this.hessianDivisor = hessianDivisor;
    }

    TrainingRun.Spec spec(double lr, int batch) {
      return new TrainingRun.Spec(kind, lr, batch, updateEach, hessianDivisor, hessianWarmup);
    }

    /** The two optimizers that every row compares. */
    boolean primary() {
      return this == ADAM_ARM || this == ADAHESSIAN_ARM;
    }

    static Arm of(OptimizerKind kind) {
      return kind == ADAM ? ADAM_ARM : ADAHESSIAN_ARM;
    }
  }

  /**
   * The claims of the table by number (rows 1 to 11), in a few words; {@code --claims} chooses
   * among them.
   */
  static final List<String> CLAIMS =
      List.of(
          "fewer steps",
          "slower per step",
          "memory",
          "early steps",
          "learning-rate sensitivity",
          "generalization",
          "batch size",
          "depth",
          "label noise",
          "flatter minima",
          "cheaper variants");

  /**
   * What the full run does. {@code name}: the named plan it came from ({@code --plan}); {@code
   * claims}: the numbers of the claims it measures (1 to {@link #CLAIMS}'s size; the main runs of
   * Adam and AdaHessian run whatever they are); {@code protocol}: the default configuration (its
   * seed is the first seed); {@code lrFactors} multiply each optimizer's default learning rate;
   * {@code batchSizes} and {@code labelNoise} are the other grids; {@code timingRounds} x {@code
   * timingSteps}: the interleaved timing of each seed; {@code earlyFraction}: where row 4 reads the
   * validation accuracy.
   */
  record Plan(
      String name,
      Set<Integer> claims,
      Protocol protocol,
      int seeds,
      int variantSeeds,
      int memorySeeds,
      double[] lrFactors,
      int[] batchSizes,
      double[] labelNoise,
      List<Model> deepModels,
      int timingRounds,
      int timingSteps,
      double earlyFraction) {
    long seed(int i) {
      return protocol.seed() + i;
    }

    /** Whether the plan measures claim {@code claim} (1 to 11). */
    boolean has(int claim) {
      return claims.contains(claim);
    }

    /** The arms it trains: the cheaper variants only with claim 11. */
    List<Arm> arms() {
      return Arrays.stream(Arm.values()).filter(a -> a.primary() || has(11)).toList();
    }

    /** "1 (fewer steps), 2 (slower per step), ..." for the claims measured, or left out. */
    String claimList(boolean measured) {
      List<String> list = new ArrayList<>();
      for (int c = 1; c <= CLAIMS.size(); c++) {
        if (has(c) == measured) {
          list.add(c + " (" + CLAIMS.get(c - 1) + ")");
        }
      }
      return list.isEmpty() ? "none" : String.join(", ", list);
    }

    /** The main runs' settings at seed index {@code i}, with the early measurement. */
    TrainingRun.Settings mainSettings(int i) {
      Protocol p = protocol;
      return new TrainingRun.Settings(
          p.model(), p.epochs(), seed(i), p.evalsPerEpoch(), p.target(), 0, earlyFraction);
    }

    /** The grids' settings at seed index {@code i}: final accuracy only. */
    TrainingRun.Settings gridSettings(int i) {
      Protocol p = protocol;
      return new TrainingRun.Settings(
          p.model(), p.epochs(), seed(i), p.evalsPerEpoch(), p.target(), 0, 0);
    }

    int defaultFactorIndex() {
      for (int i = 0; i < lrFactors.length; i++) {
        if (lrFactors[i] == 1) {
          return i;
        }
      }
      return -1;
    }

    int defaultBatchIndex() {
      for (int i = 0; i < batchSizes.length; i++) {
        if (batchSizes[i] == protocol.batch()) {
          return i;
        }
      }
      return -1;
    }

    int seedsOf(Arm arm) {
      return arm.primary() ? seeds : Math.min(seeds, variantSeeds);
    }

    String toJson() {
      return "{\n  "
          + String.join(
              ",\n  ",
              "\"plan\": \"" + name + "\"",
              "\"claims\": " + claims,
              "\"seeds\": " + seeds,
              "\"first_seed\": " + protocol.seed(),
              "\"variant_seeds\": " + variantSeeds,
              "\"memory_seeds\": " + memorySeeds,
              "\"seed_changes\": \"initial weights (torch.manual_seed), batch order (java.util.Random), AdaHessian's "
                  + "probes, and which training labels are noisy\"",
              "\"arms\": ["
                  + String.join(
                      ", ",
                      arms().stream()
                          .map(
                              a ->
                                  String.format(
                                      Locale.ROOT,
                                      "{\"name\": \"%s\", \"update_each\": %d, \"hessian_warmup\": %d, "
                                          + "\"hessian_fraction\": \"1/%d\"}",
                                      a.label,
                                      a.updateEach,
                                      a.hessianWarmup,
                                      a.hessianDivisor))
                          .toList())
                  + "]",
              "\"lr_factors\": "
                  + Arrays.toString(Arrays.stream(lrFactors).mapToObj(Format::number).toArray()),
              "\"batch_sizes\": " + Arrays.toString(batchSizes),
              "\"label_noise\": "
                  + Arrays.toString(Arrays.stream(labelNoise).mapToObj(Format::number).toArray()),
              "\"label_noise_rule\": \"exactly round(fraction * n) training labels, drawn from the seed, replaced by "
                  + "one of the other 9 classes; validation labels clean\"",
              "\"deep_models\": ["
                  + String.join(
                      ", ", deepModels.stream().map(m -> "\"" + m.description() + "\"").toList())
                  + "]",
              "\"timing\": \"per seed, every arm in turns in one process on the same batches: one untimed turn, then "
                  + timingRounds
                  + " rounds of "
                  + timingSteps
                  + " steps each, order rotated; median over rounds\"",
              "\"early_fraction\": " + Format.number(earlyFraction),
              "\"memory\": \"peak RSS growth over "
                  + MemoryProbe.STEPS
                  + " steps in a fresh JVM per optimizer and seed\"",
              "\"statistics\": \"mean and sample sd over seeds; Welch's two-sided t-test at 5%; time per step: one-sample "
                  + "t-test at 5% of the per-seed log ratio\"")
          + "\n}\n";
    }
  }

  /** Everything the full run measured; the lists are indexed by seed (index 0: the first seed). */
  static final class Results {
    final Plan plan;
    final Map<Arm, List<TrainingRun.Result>> main = new EnumMap<>(Arm.class);
    final Map<Arm, List<Double>> msPerStep = new EnumMap<>(Arm.class);
    final Map<OptimizerKind, List<MemoryProbe.Usage>> memory = new EnumMap<>(OptimizerKind.class);

    /** Per optimizer, per learning-rate factor, per seed. */
    final Map<OptimizerKind, List<List<TrainingRun.Result>>> lr =
        new EnumMap<>(OptimizerKind.class);

    /** Per optimizer, per batch size, per seed. */
    final Map<OptimizerKind, List<List<TrainingRun.Result>>> batch =
        new EnumMap<>(OptimizerKind.class);

    /** Per optimizer, per network of the depth claim, per seed. */
    final Map<OptimizerKind, List<List<TrainingRun.Result>>> deep =
        new EnumMap<>(OptimizerKind.class);

    /** Per optimizer, per noise level, per seed. */
    final Map<OptimizerKind, List<List<TrainingRun.Result>>> noise =
        new EnumMap<>(OptimizerKind.class);

    final boolean curvatureAvailable;
    double wallSeconds = Double.NaN;

    Results(Plan plan, boolean curvatureAvailable) {
      this.plan = plan;
      this.curvatureAvailable = curvatureAvailable;
      for (Arm arm : Arm.values()) {
        main.put(arm, new ArrayList<>());
        msPerStep.put(arm, new ArrayList<>());
      }
      for (OptimizerKind kind : OptimizerKind.values()) {
        memory.put(kind, new ArrayList<>());
        deep.put(kind, lists(plan.deepModels().size()));
        lr.put(kind, lists(plan.lrFactors().length));
        batch.put(kind, lists(plan.batchSizes().length));
        noise.put(kind, lists(plan.labelNoise().length));
      }
    }

    private static List<List<TrainingRun.Result>> lists(int n) {
      List<List<TrainingRun.Result>> lists = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        lists.add(new ArrayList<>());
      }
      return lists;
    }
  }

  /** One unit of work with its estimated cost in milliseconds. */
  private record Task(String label, double estimateMs, double msPerStep, Body body) {}

  @FunctionalInterface
  private interface Body {
    void run(TrainingRun.Progress progress) throws IOException;
  }

  /**
   * Runs the full plan on {@code data}; {@code probeArgs} gives, for a seed, the options a memory
   * probe's JVM needs; {@code runsFile} receives one JSON line per run as it finishes.
   */
  static Results run(
      Plan plan,
      DataSet data,
      LongFunction<List<String>> probeArgs,
      Path runsFile,
      HessianAnalysis analysis,
      java.util.function.Consumer<String> log)
      throws IOException {
    long began = System.nanoTime();
    Results results = new Results(plan, analysis.available());
    Files.writeString(runsFile, "", StandardCharsets.UTF_8);
    List<Task> tasks = new ArrayList<>();
    layOut(plan, data, probeArgs, runsFile, analysis, results, tasks, log);
    double total = tasks.stream().mapToDouble(Task::estimateMs).sum();
    try (ProgressDisplay bar =
        ProgressDisplay.of(
            "full run",
            Math.max(1, Math.round(total)),
            " s of work (estimated)",
            1000,
            b ->
                b.setUpdateIntervalMillis(1000)
                    .setMaxRenderedLength(160)
                    .setEtaFunction(Claims::eta))) {
      double done = 0;
      int finished = 0;
      for (Task task : tasks) {
        double base = done;
        double[] at = {base};
        bar.message(shorten(task.label()));
        task.body()
            .run(
                new TrainingRun.Progress() {
                  @Override
                  public void stepped() {
                    at[0] = Math.min(base + task.estimateMs(), at[0] + task.msPerStep());
                    bar.stepTo(Math.round(at[0]));
                  }

                  @Override
                  public void message(String text) {
                    bar.message(shorten(task.label() + ": " + text));
                  }
                });
        done = base + task.estimateMs();
        bar.stepTo(Math.round(done));
        finished++;
        bar.milestone(
            String.format(
                Locale.ROOT, "task %d/%d done: %s", finished, tasks.size(), task.label()));
      }
      bar.message(String.format(Locale.ROOT, "done: %d tasks", tasks.size()));
    }
    results.wallSeconds = (System.nanoTime() - began) / 1e9;
    return results;
  }

  /**
   * The full run's time without running it: calibrates on {@code data} (a few timed steps of every
   * arm and network), lays out the tasks and logs the calibration and the estimated seconds of work
   * at that speed, as {@link #run} does first.
   */
  static Estimate estimate(
      Plan plan, DataSet data, HessianAnalysis analysis, java.util.function.Consumer<String> log) {
    Results results = new Results(plan, analysis.available());
    List<Task> tasks = new ArrayList<>();
    ClaimsCalibration cal =
        layOut(plan, data, seed -> List.of(), null, analysis, results, tasks, log);
    return new Estimate(cal.seconds(), tasks.stream().mapToDouble(Task::estimateMs).sum() / 1000);
  }

  /**
   * A plan's estimated time: {@code calibrationSeconds}, what its calibration took (a run
   * calibrates first too), and {@code workSeconds}, its tasks at the calibrated speed.
   */
  record Estimate(double calibrationSeconds, double workSeconds) {
    double totalSeconds() {
      return calibrationSeconds + workSeconds;
    }
  }

  /** Calibrates, adds every task to {@code tasks}, logs the estimate; returns the calibration. */
  private static ClaimsCalibration layOut(
      Plan plan,
      DataSet data,
      LongFunction<List<String>> probeArgs,
      Path runsFile,
      HessianAnalysis analysis,
      Results results,
      List<Task> tasks,
      java.util.function.Consumer<String> log) {
    Protocol p = plan.protocol();
    ClaimsCalibration cal = ClaimsCalibration.measure(plan, data);
    for (int i = 0; i < plan.seeds(); i++) {
      addSeed(tasks, plan, data, probeArgs, runsFile, analysis, results, cal, i);
    }
    double total = tasks.stream().mapToDouble(Task::estimateMs).sum();
    log.accept(
        String.format(
            Locale.ROOT,
            "calibration (%.0f s; ms per step, batch %d): %s; depth claim's nets (Adam/AdaHessian)"
                + " %s; validation pass %.0f ms. %d tasks, about %.0f s of work at that speed.",
            cal.seconds(),
            p.batch(),
            String.join(
                ", ",
                plan.arms().stream()
                    .map(a -> String.format(Locale.ROOT, "%s %.1f", a.label, cal.ms(a)))
                    .toList()),
            plan.has(8)
                ? String.join(
                    ", ",
                    plan.deepModels().stream()
                        .map(
                            m ->
                                String.format(
                                    Locale.ROOT,
                                    "%s %.1f/%.1f",
                                    m.name(),
                                    cal.deepMs(m, ADAM),
                                    cal.deepMs(m, ADAHESSIAN)))
                        .toList())
                : "not in the plan",
            cal.evalMs(),
            tasks.size(),
            total / 1000));
    return cal;
  }

  /** The bar's message, cut so that the bar keeps its width. */
  private static String shorten(String message) {
    return message.length() <= 64 ? message : message.substring(0, 63) + "~";
  }

  /**
   * Elapsed time scaled by the work left: the estimates' unit cancels, so the ETA follows the real
   * speed.
   */
  private static Optional<Duration> eta(me.tongfei.progressbar.ProgressState state) {
    long done = state.getCurrent() - state.getStart();
    if (done <= 0 || state.getMax() <= 0) {
      return Optional.empty();
    }
    Duration elapsed = state.getElapsedAfterStart();
    return Optional.of(elapsed.multipliedBy(state.getMax() - state.getCurrent()).dividedBy(done));
  }

  private static void addSeed(
      List<Task> tasks,
      Plan plan,
      DataSet data,
      LongFunction<List<String>> probeArgs,
      Path runsFile,
      HessianAnalysis analysis,
      Results results,
      ClaimsCalibration cal,
      int i) {
    Protocol p = plan.protocol();
    long seed = plan.seed(i);
    String at = "seed " + seed + " (" + (i + 1) + "/" + plan.seeds() + ")";
    boolean variants = i < plan.variantSeeds();
    TrainingRun.Settings main = plan.mainSettings(i);
    TrainingRun.Settings grid = plan.gridSettings(i);
    int trainSize = data.train().size();

    List<Arm> arms = plan.arms().stream().filter(a -> variants || a.primary()).toList();
    if (plan.has(2) || plan.has(11)) {
      addTiming(tasks, plan, data, runsFile, results, cal, i, at, arms);
    }

    // Rows 1, 4, 6, 8c (the default model) and 11: the main runs, detailed.
    for (Arm arm : arms) {
      TrainingRun.Spec spec = arm.spec(p.defaultLr(arm.kind), p.batch());
      int steps = TrainingRun.totalSteps(spec, main, trainSize);
      int evals = steps / Math.max(1, (trainSize / p.batch()) / p.evalsPerEpoch()) + 3;
      double estimate =
          steps * cal.ms(arm)
              + evals * cal.evalMs()
              + cal.trainEvalMs()
              + (arm.primary()
                  ? analysis.estimateMs(cal.ms(Arm.of(OptimizerKind.ADAM)), p.batch())
                  : 0);
      tasks.add(
          new Task(
              at + ": " + spec.label(),
              estimate,
              cal.ms(arm),
              progress -> {
                TrainingRun.Result r =
                    TrainingRun.run(
                        spec, main, data, true, progress, arm.primary() ? analysis : null);
                results.main.get(arm).add(r);
                ClaimsJson.append(runsFile, ClaimsJson.run("main", seed, p.model(), 0, r));
              }));
    }
    if (!variants) {
      return;
    }
    // The grids of the claims in the plan; a claim left out has none.
    int lrPoints = plan.has(5) ? plan.lrFactors().length : 0;
    int batchPoints = plan.has(7) ? plan.batchSizes().length : 0;
    int deepNets = plan.has(8) ? plan.deepModels().size() : 0;
    int noiseLevels = plan.has(9) ? plan.labelNoise().length : 0;
    for (OptimizerKind kind : OptimizerKind.values()) {
      Arm arm = Arm.of(kind);
      // Row 5: the learning-rate grid; the default point is the main run.
      for (int f = 0; f < lrPoints; f++) {
        int index = f;
        double lr = plan.lrFactors()[f] * p.defaultLr(kind);
        TrainingRun.Spec spec = arm.spec(lr, p.batch());
        if (f == plan.defaultFactorIndex()) {
          tasks.add(
              new Task(
                  at + ": " + spec.label(),
                  0,
                  0,
                  progress -> results.lr.get(kind).get(index).add(results.main.get(arm).get(i))));
          continue;
        }
        addGridRun(
            tasks,
            at,
            spec,
            grid,
            data,
            cal.ms(arm),
            cal,
            seed,
            "lr",
            0,
            runsFile,
            r -> results.lr.get(kind).get(index).add(r));
      }
      // Row 7: the batch sizes at the default learning rate.
      for (int b = 0; b < batchPoints; b++) {
        int index = b;
        TrainingRun.Spec spec = arm.spec(p.defaultLr(kind), plan.batchSizes()[b]);
        if (b == plan.defaultBatchIndex()) {
          tasks.add(
              new Task(
                  at + ": " + spec.label(),
                  0,
                  0,
                  progress ->
                      results.batch.get(kind).get(index).add(results.main.get(arm).get(i))));
          continue;
        }
        addGridRun(
            tasks,
            at,
            spec,
            grid,
            data,
            cal.ms(arm) * spec.batch() / p.batch(),
            cal,
            seed,
            "batch",
            0,
            runsFile,
            r -> results.batch.get(kind).get(index).add(r));
      }
      // Row 8: the networks of the depth claim.
      TrainingRun.Spec defaultSpec = arm.spec(p.defaultLr(kind), p.batch());
      for (int d = 0; d < deepNets; d++) {
        int index = d;
        Model deep = plan.deepModels().get(d);
        addGridRun(
            tasks,
            at + ", " + deep.name().toLowerCase(Locale.ROOT) + " net",
            defaultSpec,
            grid.withModel(deep),
            data,
            cal.deepMs(deep, kind),
            cal,
            seed,
            "deep",
            0,
            runsFile,
            r -> results.deep.get(kind).get(index).add(r));
      }
      // Row 9: label noise.
      for (int n = 0; n < noiseLevels; n++) {
        int index = n;
        double noise = plan.labelNoise()[n];
        addGridRun(
            tasks,
            at + ", " + Format.number(100 * noise) + "% noisy labels",
            defaultSpec,
            grid.withLabelNoise(noise),
            data,
            cal.ms(arm),
            cal,
            seed,
            "noise",
            noise,
            runsFile,
            r -> results.noise.get(kind).get(index).add(r));
      }
    }
    // Row 3: memory, each optimizer in a fresh JVM.
    if (plan.has(3) && i < plan.memorySeeds()) {
      for (OptimizerKind kind : OptimizerKind.values()) {
        tasks.add(
            new Task(
                at + ": memory probe, " + kind.label(),
                cal.probeMs(),
                0,
                progress -> {
                  MemoryProbe.Usage usage = MemoryProbe.measure(kind, probeArgs.apply(seed));
                  results.memory.get(kind).add(usage);
                  ClaimsJson.append(runsFile, ClaimsJson.memory(seed, kind, p.batch(), usage));
                }));
      }
    }
  }

  /**
   * Row 2 (and row 11's time per step): every arm of seed index {@code i} in turns in this process;
   * a warm-up arm's steps after its warm-up are its plain arm's, so it is not timed twice.
   */
  private static void addTiming(
      List<Task> tasks,
      Plan plan,
      DataSet data,
      Path runsFile,
      Results results,
      ClaimsCalibration cal,
      int i,
      String at,
      List<Arm> arms) {
    Protocol p = plan.protocol();
    long seed = plan.seed(i);
    TrainingRun.Settings main = plan.mainSettings(i);
    List<Arm> timed = arms.stream().filter(a -> a.hessianWarmup == 0).toList();
    double timingMs =
        (plan.timingRounds() + 1) * plan.timingSteps() * timed.stream().mapToDouble(cal::ms).sum();
    tasks.add(
        new Task(
            at + ": time per step, interleaved",
            timingMs,
            timingMs / ((plan.timingRounds() + 1) * plan.timingSteps() * timed.size()),
            progress -> {
              List<TrainingRun.Spec> specs =
                  timed.stream().map(a -> a.spec(p.defaultLr(a.kind), p.batch())).toList();
              double[] ms =
                  TrainingRun.interleavedMsPerStep(
                      specs, main, data, plan.timingRounds(), plan.timingSteps(), progress);
              for (int k = 0; k < timed.size(); k++) {
                results.msPerStep.get(timed.get(k)).add(ms[k]);
              }
              ClaimsJson.append(
                  runsFile,
                  ClaimsJson.timing(
                      seed, p.batch(), plan.timingRounds(), plan.timingSteps(), timed, ms));
            }));
  }

  private static void addGridRun(
      List<Task> tasks,
      String at,
      TrainingRun.Spec spec,
      TrainingRun.Settings settings,
      DataSet data,
      double msPerStep,
      ClaimsCalibration cal,
      long seed,
      String group,
      double noise,
      Path runsFile,
      java.util.function.Consumer<TrainingRun.Result> sink) {
    int steps = TrainingRun.totalSteps(spec, settings, data.train().size());
    double evalMs =
        settings.model().equals(cal.model()) ? cal.evalMs() : cal.deepEvalMs(settings.model());
    tasks.add(
        new Task(
            at + ": " + spec.label(),
            steps * msPerStep + 2 * evalMs,
            msPerStep,
            progress -> {
              TrainingRun.Result r = TrainingRun.run(spec, settings, data, false, progress, null);
              sink.accept(r);
              ClaimsJson.append(runsFile, ClaimsJson.run(group, seed, settings.model(), noise, r));
            }));
  }
}
