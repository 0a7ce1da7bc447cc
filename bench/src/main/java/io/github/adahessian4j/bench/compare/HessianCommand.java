package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.Adam;
import io.github.adahessian4j.HessianAnalysis;
import io.github.adahessian4j.HessianDensity;
import io.github.adahessian4j.HessianEigenvalues;
import io.github.adahessian4j.HessianTrace;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.bench.NativeThreads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Function;
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
      paramLabel = "mlp|cnn",
      defaultValue = "cnn",
      description = "mlp or cnn (default: ${DEFAULT-VALUE}).")
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

  /** One measured configuration: a method, a stopping rule and how many eigenvalues. */
  private record Run(
      String method,
      String rule,
      int count,
      Function<HessianAnalysis, HessianEigenvalues> compute) {}

  /** What a run gave: products, median seconds, the worst relative error against the reference. */
  private record Outcome(long products, double seconds, double error, boolean reached) {}

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
    // The reference: Lanczos far past the target.
    long began = System.nanoTime();
    HessianEigenvalues reference =
        h.topEigenvalues(
            HessianEigenvalues.Options.DEFAULTS
                .withK(k)
                .withTolerance(1e-10)
                .withMaxIterations(maxIterations));
    double referenceSeconds = (System.nanoTime() - began) / 1e9;
    HessianEigenvalues magnitude =
        h.topEigenvalues(
            HessianEigenvalues.Options.DEFAULTS
                .withK(k)
                .withTolerance(1e-10)
                .withMaxIterations(maxIterations)
                .withWhich(HessianEigenvalues.Which.LARGEST_MAGNITUDE));
    double[] ref = reference.eigenvalues();
    double[] refMagnitude = magnitude.eigenvalues();
    printer.printf(
        Locale.ROOT,
        "reference (Lanczos, residual tolerance 1e-10): top %d %s, residuals %s; %d products, "
            + "%.1f s%n",
        k,
        Arrays.toString(round(ref)),
        Arrays.toString(round(reference.residuals())),
        reference.hvProducts(),
        referenceSeconds);
    printer.flush();
    md.append(
        String.format(
            Locale.ROOT,
            "Reference: Lanczos to a residual tolerance of 1e-10 (%d products, converged "
                + "%s): top %d eigenvalues %s%s.%n%n",
            reference.hvProducts(),
            reference.converged(),
            k,
            Arrays.toString(round(ref)),
            Arrays.equals(round(ref), round(refMagnitude))
                ? ""
                : "; largest magnitude (what power iteration finds) "
                    + Arrays.toString(round(refMagnitude))));

    List<Run> runs = new ArrayList<>();
    for (int count : new int[] {1, k}) {
      runs.add(
          new Run(
              "Lanczos",
              "oracle",
              count,
              a ->
                  a.topEigenvalues(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(0)
                          .withMaxIterations(maxIterations)
                          .withMonitor(lanczosOracle(ref, count)))));
      runs.add(
          new Run(
              "power iteration",
              "oracle",
              count,
              a ->
                  a.powerIteration(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(0)
                          .withMaxIterations(maxIterations)
                          .withMonitor(powerOracle(refMagnitude)))));
      runs.add(
          new Run(
              "Lanczos",
              "own rule",
              count,
              a ->
                  a.topEigenvalues(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(target)
                          .withMaxIterations(maxIterations))));
      runs.add(
          new Run(
              "power iteration",
              "own rule",
              count,
              a ->
                  a.powerIteration(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(target)
                          .withMaxIterations(maxIterations))));
    }
    Map<Run, List<Double>> seconds = new LinkedHashMap<>();
    Map<Run, HessianEigenvalues> results = new LinkedHashMap<>();
    for (int r = 0; r < repeats; r++) {
      for (Run run : runs) {
        long t0 = System.nanoTime();
        HessianEigenvalues e = run.compute().apply(h);
        double s = (System.nanoTime() - t0) / 1e9;
        seconds.computeIfAbsent(run, key -> new ArrayList<>()).add(s);
        results.put(run, e);
        printer.printf(
            Locale.ROOT,
            "  repeat %d: %-15s %-8s top %d: %5d products, %6.2f s%n",
            r + 1,
            run.method(),
            run.rule(),
            run.count(),
            e.hvProducts(),
            s);
        printer.flush();
      }
    }
    Map<Run, Outcome> outcomes = new LinkedHashMap<>();
    for (Run run : runs) {
      HessianEigenvalues e = results.get(run);
      double[] expected = run.method().equals("Lanczos") ? ref : refMagnitude;
      double error = 0;
      for (int j = 0; j < run.count(); j++) {
        error =
            Math.max(
                error,
                j < e.eigenvalues().length
                    ? Math.abs(e.eigenvalues()[j] - expected[j]) / Math.abs(expected[j])
                    : Double.POSITIVE_INFINITY);
      }
      outcomes.put(
          run, new Outcome(e.hvProducts(), median(seconds.get(run)), error, error <= target));
    }

    String pct = String.format(Locale.ROOT, "%.0e", target).replace("e-0", "e-");
    md.append(
        String.format(
            Locale.ROOT,
            "H v products and seconds (median of %d) to the top eigenvalue and the top "
                + "%d to relative %s. *Oracle*: stop as soon as every estimate is within %s of the reference (the fewest "
                + "products the method needs). *Own rule* at tolerance %s: Lanczos stops when every wanted Ritz residual is "
                + "below %s x the largest Ritz value, power iteration (PyHessian's rule) when two successive estimates differ "
                + "by less than %s relative; the error column says what that gave.%n%n",
            repeats,
            k,
            pct,
            pct,
            pct,
            pct,
            pct));
    md.append(
        "| method | stopping | top 1: products | top 1: s | top 1: error | top "
            + k
            + ": products | top "
            + k
            + ": s | top "
            + k
            + ": max error |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (String method : List.of("Lanczos", "power iteration")) {
      for (String rule : List.of("oracle", "own rule")) {
        Outcome one = find(outcomes, method, rule, 1);
        Outcome many = find(outcomes, method, rule, k);
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %s | %.2f | %s | %s | %.2f | %s |%n",
                method.equals("Lanczos") ? "**Lanczos**" : method,
                rule,
                products(one),
                one.seconds(),
                error(one),
                products(many),
                many.seconds(),
                error(many)));
      }
    }
    Outcome lanczosK = find(outcomes, "Lanczos", "oracle", k);
    Outcome powerK = find(outcomes, "power iteration", "oracle", k);
    double ratio = (double) lanczosK.products() / powerK.products();
    md.append(
        String.format(
            Locale.ROOT,
            "%nTop %d to %s: Lanczos used %d products, %.1f%% of power iteration's %d "
                + "(%.1fx fewer; target: at most a third, %s).%n",
            k,
            pct,
            lanczosK.products(),
            100 * ratio,
            powerK.products(),
            1 / ratio,
            ratio <= 1.0 / 3 && lanczosK.reached() && powerK.reached() ? "met" : "NOT met"));

    began = System.nanoTime();
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

    began = System.nanoTime();
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
    printer.println();
    printer.print(md);
    printer.println();
    printer.println("ESD plot: " + plot.toAbsolutePath());
    printer.flush();
    return md.toString();
  }

  /**
   * Lanczos stops when all {@code count} wanted Ritz values are within the target of the reference.
   */
  private HessianEigenvalues.Monitor lanczosOracle(double[] ref, int count) {
    return (products, estimates) -> {
      if (estimates.length < count) {
        return false;
      }
      for (int j = 0; j < count; j++) {
        if (!(Math.abs(estimates[j] - ref[j]) <= target * Math.abs(ref[j]))) {
          return false;
        }
      }
      return true;
    };
  }

  /**
   * Power iteration accepts its current eigenvalue as soon as it is within the target of the
   * reference.
   */
  private HessianEigenvalues.Monitor powerOracle(double[] ref) {
    return (products, estimates) -> {
      int j = estimates.length - 1;
      return Math.abs(estimates[j] - ref[j]) <= target * Math.abs(ref[j]);
    };
  }

  private static Outcome find(Map<Run, Outcome> outcomes, String method, String rule, int count) {
    for (Map.Entry<Run, Outcome> e : outcomes.entrySet()) {
      Run r = e.getKey();
      if (r.method().equals(method) && r.rule().equals(rule) && r.count() == count) {
        return e.getValue();
      }
    }
    throw new IllegalStateException(method + " " + rule + " " + count);
  }

  private static String products(Outcome o) {
    return o.reached() ? Long.toString(o.products()) : o.products() + " (not reached)";
  }

  private static String error(Outcome o) {
    return String.format(Locale.ROOT, "%.1e", o.error());
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double[] round(double[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Double.parseDouble(String.format(Locale.ROOT, "%.6g", values[i]));
    }
    return out;
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
