package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The full run, {@code compare --full}: every claim of the article measured over several seeds.
 * Seed {@code s} fixes a run's initial weights, batch order, AdaHessian's probes and (for the
 * label-noise runs) which labels are replaced, so that Adam and AdaHessian at the same seed start
 * from the same weights and see the same batches. The default configuration (the {@link Protocol}
 * of the quick run) runs at {@code seeds} seeds for Adam and AdaHessian; everything else (the
 * cheaper AdaHessian variants, the learning-rate and batch-size grids, the deep network, label
 * noise, memory) at the first {@code variantSeeds} of them. One progress bar covers the whole run;
 * its unit is the estimated work in seconds, calibrated on a few timed steps first, so its ETA is
 * the run's.
 */
final class Claims {
  private Claims() {}

  /**
   * The optimizers of the full run: Adam, AdaHessian, and the cheaper AdaHessian variants of row
   * 11.
   */
  enum Arm {
    ADAM_ARM("Adam", "Adam", ADAM, 1, 1),
    ADAHESSIAN_ARM("AdaHessian", "AdaHessian", ADAHESSIAN, 1, 1),
    EACH2("AdaHessian updateEach 2", "updateEach 2", ADAHESSIAN, 2, 1),
    EACH4("AdaHessian updateEach 4", "updateEach 4", ADAHESSIAN, 4, 1),
    QUARTER("AdaHessian, Hessian from 1/4 of the batch", "Hessian 1/4 batch", ADAHESSIAN, 1, 4);

    final String label;
    final String shortLabel;
    final OptimizerKind kind;
    final int updateEach;
    final int hessianDivisor;

    Arm(String label, String shortLabel, OptimizerKind kind, int updateEach, int hessianDivisor) {
      this.label = label;
      this.shortLabel = shortLabel;
      this.kind = kind;
      this.updateEach = updateEach;
      this.hessianDivisor = hessianDivisor;
    }

    TrainingRun.Spec spec(double lr, int batch) {
      return new TrainingRun.Spec(kind, lr, batch, updateEach, hessianDivisor);
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
   * What the full run does. {@code protocol}: the default configuration (its seed is the first
   * seed); {@code lrFactors} multiply each optimizer's default learning rate; {@code batchSizes}
   * and {@code labelNoise} are the other grids; {@code timingRounds} x {@code timingSteps}: the
   * interleaved timing of each seed; {@code earlyFraction}: where row 4 reads the validation
   * accuracy.
   */
  record Plan(
      Protocol protocol,
      int seeds,
      int variantSeeds,
      int memorySeeds,
      double[] lrFactors,
      int[] batchSizes,
      double[] labelNoise,
      Model deepModel,
      int timingRounds,
      int timingSteps,
      double earlyFraction) {
    long seed(int i) {
      return protocol.seed() + i;
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
              "\"seeds\": " + seeds,
              "\"first_seed\": " + protocol.seed(),
              "\"variant_seeds\": " + variantSeeds,
              "\"memory_seeds\": " + memorySeeds,
              "\"seed_changes\": \"initial weights (torch.manual_seed), batch order (java.util.Random), AdaHessian's "
                  + "probes, and which training labels are noisy\"",
              "\"arms\": ["
                  + String.join(
                      ", ",
                      Arrays.stream(Arm.values())
                          .map(
                              a ->
                                  String.format(
                                      Locale.ROOT,
                                      "{\"name\": \"%s\", \"update_each\": %d, \"hessian_fraction\": \"1/%d\"}",
                                      a.label,
                                      a.updateEach,
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
              "\"deep_model\": \"" + deepModel.description() + "\"",
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

    final Map<OptimizerKind, List<TrainingRun.Result>> deep = new EnumMap<>(OptimizerKind.class);

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
        deep.put(kind, new ArrayList<>());
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
    Protocol p = plan.protocol();
    Results results = new Results(plan, analysis.available());
    Files.writeString(runsFile, "", StandardCharsets.UTF_8);
    Calibration cal = Calibration.measure(plan, data);
    List<Task> tasks = new ArrayList<>();
    for (int i = 0; i < plan.seeds(); i++) {
      addSeed(tasks, plan, data, probeArgs, runsFile, analysis, results, cal, i);
    }
    double total = tasks.stream().mapToDouble(Task::estimateMs).sum();
    log.accept(
        String.format(
            Locale.ROOT,
            "calibration (ms per step, batch %d): %s; deep net Adam %.1f, AdaHessian %.1f; "
                + "validation pass %.0f ms. %d tasks, about %.0f s of work at that speed.",
            p.batch(),
            String.join(
                ", ",
                Arrays.stream(Arm.values())
                    .map(a -> String.format(Locale.ROOT, "%s %.1f", a.label, cal.ms(a)))
                    .toList()),
            cal.deepMs(ADAM),
            cal.deepMs(ADAHESSIAN),
            cal.evalMs,
            tasks.size(),
            total / 1000));
    try (ProgressDisplay bar =
        ProgressDisplay.of(
            new ProgressBarBuilder()
                .setTaskName("full run")
                .setInitialMax(Math.max(1, Math.round(total)))
                .setUnit(" s of work (estimated)", 1000)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(1000)
                .setMaxRenderedLength(160)
                .setEtaFunction(Claims::eta),
            "full run",
            Math.max(1, Math.round(total)),
            " s of work (estimated)",
            1000)) {
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
      Calibration cal,
      int i) {
    Protocol p = plan.protocol();
    long seed = plan.seed(i);
    String at = "seed " + seed + " (" + (i + 1) + "/" + plan.seeds() + ")";
    boolean variants = i < plan.variantSeeds();
    TrainingRun.Settings main = plan.mainSettings(i);
    TrainingRun.Settings grid = plan.gridSettings(i);
    int trainSize = data.train().size();

    // Row 2: time per step of every arm, in turns in this process.
    List<Arm> timed = Arrays.stream(Arm.values()).filter(a -> variants || a.primary()).toList();
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
              StringBuilder json = new StringBuilder();
              for (int k = 0; k < timed.size(); k++) {
                results.msPerStep.get(timed.get(k)).add(ms[k]);
                json.append(k == 0 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "\"%s\": %.4f", timed.get(k).label, ms[k]));
              }
              append(
                  runsFile,
                  String.format(
                      Locale.ROOT,
                      "{\"kind\": \"timing\", \"seed\": %d, \"batch\": %d, \"rounds\": %d, \"steps_per_turn\": %d, "
                          + "\"ms_per_step\": {%s}}",
                      seed,
                      p.batch(),
                      plan.timingRounds(),
                      plan.timingSteps(),
                      json));
            }));

    // Rows 1, 4, 6, 8 (default model) and 11: the main runs, detailed.
    for (Arm arm : timed) {
      TrainingRun.Spec spec = arm.spec(p.defaultLr(arm.kind), p.batch());
      int steps = TrainingRun.totalSteps(spec, main, trainSize);
      int evals = steps / Math.max(1, (trainSize / p.batch()) / p.evalsPerEpoch()) + 3;
      double estimate =
          steps * cal.ms(arm)
              + evals * cal.evalMs
              + cal.trainEvalMs
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
                append(runsFile, json("main", seed, p.model(), 0, r));
              }));
    }
    if (!variants) {
      return;
    }
    for (OptimizerKind kind : OptimizerKind.values()) {
      Arm arm = Arm.of(kind);
      // Row 5: the learning-rate grid; the default point is the main run.
      for (int f = 0; f < plan.lrFactors().length; f++) {
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
      for (int b = 0; b < plan.batchSizes().length; b++) {
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
      // Row 8: the deeper plain network.
      TrainingRun.Spec defaultSpec = arm.spec(p.defaultLr(kind), p.batch());
      addGridRun(
          tasks,
          at + ", " + plan.deepModel().name().toLowerCase(Locale.ROOT) + " net",
          defaultSpec,
          grid.withModel(plan.deepModel()),
          data,
          cal.deepMs(kind),
          cal,
          seed,
          "deep",
          0,
          runsFile,
          r -> results.deep.get(kind).add(r));
      // Row 9: label noise.
      for (int n = 0; n < plan.labelNoise().length; n++) {
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
    if (i < plan.memorySeeds()) {
      for (OptimizerKind kind : OptimizerKind.values()) {
        tasks.add(
            new Task(
                at + ": memory probe, " + kind.label(),
                cal.probeMs,
                0,
                progress -> {
                  MemoryProbe.Usage usage = MemoryProbe.measure(kind, probeArgs.apply(seed));
                  results.memory.get(kind).add(usage);
                  append(
                      runsFile,
                      String.format(
                          Locale.ROOT,
                          "{\"kind\": \"memory\", \"seed\": %d, \"optimizer\": \"%s\", \"batch\": %d, \"steps\": %d, "
                              + "\"growth_bytes\": %d, \"peak_bytes\": %d, \"failure\": %s}",
                          seed,
                          kind.label(),
                          p.batch(),
                          MemoryProbe.STEPS,
                          usage.growthBytes(),
                          usage.peakBytes(),
                          usage.failure() == null ? "null" : quote(usage.failure())));
                }));
      }
    }
  }

  private static void addGridRun(
      List<Task> tasks,
      String at,
      TrainingRun.Spec spec,
      TrainingRun.Settings settings,
      DataSet data,
      double msPerStep,
      Calibration cal,
      long seed,
      String group,
      double noise,
      Path runsFile,
      java.util.function.Consumer<TrainingRun.Result> sink) {
    int steps = TrainingRun.totalSteps(spec, settings, data.train().size());
    double evalMs = settings.model() == cal.model ? cal.evalMs : cal.deepEvalMs;
    tasks.add(
        new Task(
            at + ": " + spec.label(),
            steps * msPerStep + 2 * evalMs,
            msPerStep,
            progress -> {
              TrainingRun.Result r = TrainingRun.run(spec, settings, data, false, progress, null);
              sink.accept(r);
              append(runsFile, json(group, seed, settings.model(), noise, r));
            }));
  }

  /** Measured costs that the progress bar's estimates start from; also warms up every path. */
  private record Calibration(
      Model model,
      Map<Arm, Double> msPerStep,
      Map<OptimizerKind, Double> deepMsPerStep,
      double evalMs,
      double deepEvalMs,
      double trainEvalMs,
      double probeMs) {
    double ms(Arm arm) {
      return msPerStep.get(arm);
    }

    double deepMs(OptimizerKind kind) {
      return deepMsPerStep.get(kind);
    }

    static Calibration measure(Plan plan, DataSet data) {
      Protocol p = plan.protocol();
      TrainingRun.Settings settings = plan.mainSettings(0);
      List<Arm> arms = List.of(Arm.values());
      double[] ms =
          TrainingRun.interleavedMsPerStep(
              arms.stream().map(a -> a.spec(p.defaultLr(a.kind), p.batch())).toList(),
              settings,
              data,
              2,
              8,
              null);
      Map<Arm, Double> perArm = new EnumMap<>(Arm.class);
      for (int k = 0; k < arms.size(); k++) {
        perArm.put(arms.get(k), ms[k]);
      }
      TrainingRun.Settings deep = settings.withModel(plan.deepModel());
      double[] deepMs =
          TrainingRun.interleavedMsPerStep(
              List.of(
                  new TrainingRun.Spec(ADAM, p.adamLr(), p.batch()),
                  new TrainingRun.Spec(ADAHESSIAN, p.adaHessianLr(), p.batch())),
              deep,
              data,
              2,
              8,
              null);
      Map<OptimizerKind, Double> perKind = new EnumMap<>(OptimizerKind.class);
      perKind.put(ADAM, deepMs[0]);
      perKind.put(ADAHESSIAN, deepMs[1]);
      double evalMs = evalMs(p.model(), data);
      double deepEvalMs = evalMs(plan.deepModel(), data);
      double trainEvalMs = evalMs * data.train().size() / Math.max(1, data.val().size());
      // A memory probe starts a JVM, loads the data and trains 20 steps.
      double probeMs = 4000 + 2 * trainEvalMs + MemoryProbe.STEPS * perArm.get(Arm.ADAHESSIAN_ARM);
      return new Calibration(p.model(), perArm, perKind, evalMs, deepEvalMs, trainEvalMs, probeMs);
    }

    private static double evalMs(Model model, DataSet data) {
      Model.Net net = model.create();
      try {
        TrainingRun.evaluate(net, data.val());
        long began = System.nanoTime();
        TrainingRun.evaluate(net, data.val());
        return (System.nanoTime() - began) / 1e6;
      } finally {
        net.close();
      }
    }
  }

  /** One run as a JSON object on one line: what it was, what it measured, its curve. */
  static String json(String group, long seed, Model model, double noise, TrainingRun.Result r) {
    TrainingRun.Spec s = r.spec();
    StringBuilder curve = new StringBuilder();
    for (TrainingRun.Point pt : r.curve()) {
      curve
          .append(curve.length() == 0 ? "" : ", ")
          .append(
              String.format(
                  Locale.ROOT,
                  "[%d, %.4f, %.3f, %s, %.6f, %.6f]",
                  pt.step(),
                  pt.epoch(),
                  pt.seconds(),
                  number(pt.trainLoss()),
                  pt.valLoss(),
                  pt.valAccuracy()));
    }
    String curvature =
        r.curvature() == null
            ? "null"
            : String.format(
                Locale.ROOT,
                "{\"top_eigenvalue\": %s, \"trace\": %s}",
                number(r.curvature().topEigenvalue()),
                number(r.curvature().trace()));
    return String.format(
        Locale.ROOT,
        "{\"kind\": \"run\", \"group\": \"%s\", \"seed\": %d, \"model\": \"%s\", "
            + "\"optimizer\": \"%s\", \"update_each\": %d, \"hessian_fraction\": \"1/%d\", \"lr\": %s, \"batch\": %d, "
            + "\"label_noise\": %s, \"steps\": %d, \"train_seconds\": %.3f, \"ms_per_step\": %.4f, "
            + "\"train_accuracy\": %s, \"val_accuracy\": %.6f, \"early_val_accuracy\": %s, \"steps_to_target\": %s, "
            + "\"seconds_to_target\": %s, \"failure\": %s, \"skipped_steps\": %d, \"curvature\": %s, "
            + "\"curve_columns\": [\"step\", \"epoch\", \"train_seconds\", \"train_loss\", \"val_loss\", \"val_accuracy\"], "
            + "\"curve\": [%s]}",
        group,
        seed,
        model.name().toLowerCase(Locale.ROOT),
        s.optimizer().label(),
        s.updateEach(),
        s.hessianDivisor(),
        Format.number(s.lr()),
        s.batch(),
        Format.number(noise),
        r.steps(),
        r.trainSeconds(),
        r.msPerStep(),
        number(r.trainAccuracy()),
        r.valAccuracy(),
        number(r.earlyValAccuracy()),
        r.reachedTarget() ? Integer.toString(r.stepsToTarget()) : "null",
        r.reachedTarget() ? String.format(Locale.ROOT, "%.3f", r.secondsToTarget()) : "null",
        r.failure() == null ? "null" : quote(r.failure()),
        r.skippedSteps(),
        curvature,
        curve);
  }

  private static String number(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
  }

  private static String quote(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static void append(Path file, String line) {
    try {
      Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
