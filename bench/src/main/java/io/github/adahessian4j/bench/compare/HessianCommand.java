package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.Adam;
import io.github.adahessian4j.HessianAnalysis;
import io.github.adahessian4j.HessianDensity;
import io.github.adahessian4j.HessianTrace;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.bench.NativeThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hessian}: the Hessian of the demo's model at one batch, analysed with {@link
 * HessianAnalysis}. It measures Hessian-vector products and seconds to reach the top eigenvalue and
 * the top k to a relative accuracy, Lanczos against power iteration with deflation (PyHessian's
 * method), with two stopping rules each: an oracle that stops as soon as the estimates are within
 * the target of a tight reference (what each method needs at best), and each method's own rule at
 * the target as tolerance (what a user gets). It also estimates the trace (Hutchinson, per layer)
 * and the eigenvalue spectral density (SLQ), and writes a table, the density as CSV and an ESD
 * plot.
 */
@Command(
    name = "hessian",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Hessian analysis of the demo's model at one batch: top eigenvalues by Lanczos and by power iteration "
          + "with deflation (Hessian-vector products and seconds to a relative accuracy), the trace by "
          + "Hutchinson (per layer) and the eigenvalue spectral density by stochastic Lanczos quadrature, "
          + "with a PNG plot of the density."
    })
public final class HessianCommand implements Callable<Integer> {
  /**
   * The output folder unless --out is given: this system property (set by bench/pom.xml), else
   * ./hessian-out.
   */
  static final String OUT_PROPERTY = "adahessian4j.hessian.out";

  static final String PLOT = "esd.png";

  @Option(
      names = "--model",
      paramLabel = "MODEL",
      defaultValue = "cnn",
      converter = Model.Converter.class,
      description = "mlp, cnn, deep, resnetN (depth N) (default: ${DEFAULT-VALUE}).")
  Model model;

  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      defaultValue = "mnist",
      description = "mnist, fashion or synthetic (default: ${DEFAULT-VALUE}), as for compare.")
  String dataset;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description = "A folder of MNIST-format IDX files (overrides --dataset).")
  Path data;

  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "128",
      description = "The batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--train-steps",
      paramLabel = "N",
      defaultValue = "200",
      description =
          "Adam steps (lr 1e-3, the batch size above) from the seeded initial weights before the analysis; "
              + "0 analyses the initial weights (default: ${DEFAULT-VALUE}).")
  int trainSteps;

  @Option(
      names = "--k",
      paramLabel = "N",
      defaultValue = "5",
      description = "How many top eigenvalues (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(
      names = "--target",
      paramLabel = "REL",
      defaultValue = "1e-3",
      description = "The relative accuracy to reach (default: ${DEFAULT-VALUE}).")
  double target;

  @Option(
      names = "--max-iterations",
      paramLabel = "N",
      defaultValue = "3000",
      description =
          "Iteration cap of every run (Lanczos steps; power iterations per eigenvalue) (default: ${DEFAULT-VALUE}).")
  int maxIterations;

  @Option(
      names = "--repeats",
      paramLabel = "N",
      defaultValue = "3",
      description =
          "Timed repeats of each method, interleaved; the median is reported (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--slq-runs",
      paramLabel = "N",
      defaultValue = "3",
      description = "SLQ runs (default: ${DEFAULT-VALUE}).")
  int slqRuns;

  @Option(
      names = "--slq-steps",
      paramLabel = "N",
      defaultValue = "80",
      description = "Lanczos steps per SLQ run (default: ${DEFAULT-VALUE}).")
  int slqSteps;

  @Option(
      names = "--trace-error",
      paramLabel = "REL",
      defaultValue = "0.02",
      description =
          "Hutchinson's trace stops at this relative standard error (default: ${DEFAULT-VALUE}) ...")
  double traceError;

  @Option(
      names = "--trace-samples",
      paramLabel = "N",
      defaultValue = "500",
      description = "... or after this many probes (default: ${DEFAULT-VALUE}).")
  int traceSamples;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Seed of the initial weights, the batch and the probes (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "1",
      description = "libtorch threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "Folder for table.md, esd.csv and esd.png (default: bench/target/hessian under Maven, else ./hessian-out).")
  Path out;

  @Spec CommandSpec spec;

  /**
   * Runs the analysis and writes {@code table.md}, {@code esd.csv}, {@code slq-nodes.csv} and
   * {@code esd.png} into the output folder.
   *
   * @return the exit status, 0
   * @throws IOException if the data cannot be read or the results cannot be written
   */
  @Override
  public Integer call() throws IOException {
    validate();
    PrintWriter printer = spec.commandLine().getOut();
    String threadLine = NativeThreads.configure(threads);
    Path dir = outputDir();
    Files.createDirectories(dir);
    try (DataSet set = DataSet.load(dataset, data, 0, 0)) {
      if (set.notice() != null) {
        printer.println("NOTE: " + set.notice());
      }
      torch.manual_seed(seed);
      Model.Net net = model.create();
      try (PointerScope scope = new PointerScope()) {
        int size = Math.min(batch, set.train().size());
        Tensor order = AbstractTensor.create(permutation(set.train().size(), new Random(seed)));
        Tensor index = order.narrow(0, 0, size);
        Tensor x = torch.index_select(set.train().images(), 0, index);
        Tensor y = torch.index_select(set.train().labels(), 0, index);
        train(net, set.train(), order, size);
        printer.printf(
            Locale.ROOT,
            "Hessian analysis: %s; %s, batch %d (seed %d), after %d Adam steps%n",
            model.description(),
            set.source(),
            size,
            seed,
            trainSteps);
        printer.println(threadLine + "; CPU: " + cpu());
        printer.flush();
        try (HessianAnalysis h =
            HessianAnalysis.builder()
                .module(net)
                .loss(() -> torch.cross_entropy_loss(net.forward(x), y))
                .seed(seed)
                .build()) {
          String report = analyse(h, printer, dir, threadLine, set.source(), set.name(), size);
          Files.writeString(dir.resolve("table.md"), report);
        }
      } finally {
        net.close();
      }
    }
    printer.println("Table, density and plot: " + dir.toAbsolutePath());
    printer.flush();
    return 0;
  }

  /**
   * The report, step by step: the header, the eigenvalue runs ({@link HessianEigenvalueRuns}), the
   * trace and the density; prints it and returns it as Markdown.
   */
  private String analyse(
      HessianAnalysis h,
      PrintWriter printer,
      Path dir,
      String threadLine,
      String source,
      String dataName,
      int size)
      throws IOException {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "Hessian of the cross-entropy of %s on %s, batch %d, after %d Adam steps "
                + "(seed %d): %d parameters, loss %.4f. %s; CPU: %s.%n%n",
            model.description(),
            source,
            size,
            trainSteps,
            seed,
            h.dimension(),
            h.loss(),
            threadLine,
            cpu()));
    double[] ref =
        new HessianEigenvalueRuns(k, target, maxIterations, repeats).measure(h, printer, md);
    appendTrace(h, md);
    Path plot = appendDensity(h, md, dir, dataName, size, ref);
    printer.println();
    printer.print(md);
    printer.println();
    printer.println("ESD plot: " + plot.toAbsolutePath());
    printer.flush();
    return md.toString();
  }

  /** Hutchinson's trace, in total and per parameter. */
  private void appendTrace(HessianAnalysis h, StringBuilder md) {
    long began = System.nanoTime();
    HessianTrace trace =
        h.trace(
            HessianTrace.Options.DEFAULTS
                .withRelativeError(traceError)
                .withSamples(Math.min(10, traceSamples), traceSamples));
    double traceSeconds = (System.nanoTime() - began) / 1e9;
    md.append(
        String.format(
            Locale.ROOT,
            "%nTrace (Hutchinson, stop at a %.3g%% standard error or %d probes): %.4g +- "
                + "%.2g from %d probes (%.1f s). Per parameter:",
            100 * traceError,
            traceSamples,
            trace.trace(),
            trace.standardError(),
            trace.samples(),
            traceSeconds));
    for (int i = 0; i < trace.parameterNames().size(); i++) {
      md.append(
          String.format(
              Locale.ROOT,
              " %s %.3g +- %.2g;",
              trace.parameterNames().get(i),
              trace.perParameter()[i],
              trace.perParameterStandardError()[i]));
    }
    md.append('\n');
  }

  /**
   * The spectral density by SLQ: its line in the report, its CSV files and its plot (with the
   * reference's top eigenvalues marked).
   *
   * @return the plot's path
   */
  private Path appendDensity(
      HessianAnalysis h, StringBuilder md, Path dir, String dataName, int size, double[] ref)
      throws IOException {
    long began = System.nanoTime();
    HessianDensity density = h.spectralDensity(new HessianDensity.Options(slqRuns, slqSteps));
    double densitySeconds = (System.nanoTime() - began) / 1e9;
    HessianDensity.Grid grid = density.smoothed();
    md.append(
        String.format(
            Locale.ROOT,
            "%nSpectral density (SLQ): %d runs of %d Lanczos steps, %d products (%.1f s); "
                + "smoothed as PyHessian's density_plot.py (10,000 points, sigma^2 1e-5); SLQ trace estimate %.4g.%n",
            slqRuns,
            slqSteps,
            density.hvProducts(),
            densitySeconds,
            density.traceEstimate()));
    DensityFiles.write(dir, density, grid);
    Path plot = dir.resolve(PLOT);
    String title =
        String.format(
            Locale.ROOT,
            "Hessian eigenvalue density: demo %s, %s batch of %d, after %d Adam steps",
            model.name(),
            label(dataName),
            size,
            trainSteps);
    DensityFiles.plot(plot, title, density, grid, slqSteps, ref);
    return plot;
  }

  private void train(Model.Net net, DataSet.Split train, Tensor order, int size) {
    if (trainSteps == 0) {
      return;
    }
    try (Optimizer adam = Adam.builder().lr(1e-3).build(net.parameters())) {
      int at = 0;
      for (int s = 0; s < trainSteps; s++) {
        try (PointerScope step = new PointerScope()) {
          if (at + size > train.size()) {
            at = 0;
          }
          Tensor index = order.narrow(0, at, size);
          Tensor xs = torch.index_select(train.images(), 0, index);
          Tensor ys = torch.index_select(train.labels(), 0, index);
          adam.step(() -> torch.cross_entropy_loss(net.forward(xs), ys));
          at += size;
        }
      }
    }
  }

  private static String label(String dataName) {
    return switch (dataName) {
      case "mnist" -> "MNIST";
      case "fashion" -> "Fashion-MNIST";
      case "idx" -> "IDX";
      default -> dataName;
    };
  }

  private static String cpu() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim()
              + ", "
              + Runtime.getRuntime().availableProcessors()
              + " cores";
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return System.getProperty("os.arch")
        + ", "
        + Runtime.getRuntime().availableProcessors()
        + " cores";
  }

  private void validate() {
    List<String> problems = new ArrayList<>();
    if (batch < 1
        || k < 1
        || repeats < 1
        || slqRuns < 1
        || slqSteps < 1
        || maxIterations < 1
        || traceSamples < 2) {
      problems.add(
          "--batch, --k, --repeats, --slq-runs, --slq-steps and --max-iterations must be at least 1, "
              + "--trace-samples at least 2");
    }
    if (!(traceError >= 0)) {
      problems.add("--trace-error must not be negative");
    }
    if (!(target > 0 && target < 1)) {
      problems.add("--target is a relative accuracy in (0, 1)");
    }
    if (trainSteps < 0 || threads < 0) {
      problems.add("--train-steps and --threads must not be negative");
    }
    if (!problems.isEmpty()) {
      throw new ParameterException(spec.commandLine(), String.join("; ", problems));
    }
  }

  private Path outputDir() {
    if (out != null) {
      return out;
    }
    String property = System.getProperty(OUT_PROPERTY);
    return Paths.get(property != null && !property.isBlank() ? property : "hessian-out");
  }

  private static long[] permutation(int n, Random random) {
    long[] order = new long[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      long t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
