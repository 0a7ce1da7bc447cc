package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.distributed.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Data-parallel throughput of the demo's CNN on this machine: one process with 2 libtorch threads
 * against 2 processes with 1 thread each (the Launcher, c10d Gloo over loopback) at the same global
 * batch (and one process with 1 thread, the baseline), for Adam and AdaHessian (updateEach 1 and
 * 2), and the bytes each rank all-reduces per step. The configurations run interleaved, {@code
 * --rounds} times, each in fresh JVMs; the table gives the medians over the rounds of each run's
 * median iteration.
 *
 * <p>With {@code --phases}, where the data-parallel step loses time instead: per optimizer, one
 * process on the global batch, one process on half of it, two processes side by side on half each
 * without averaging (what sharing the machine costs), and two data-parallel processes, with and
 * without the collectives' check, every process 1 thread; a table of each phase's median time per
 * step ({@link StepPhases}) for each run and rank, the bytes and tensors averaged, and the threads
 * that took CPU.
 */
@Command(
    name = "dp-bench",
    mixinStandardHelpOptions = true,
    description =
        "Data-parallel throughput: 1 process x 2 threads vs 2 processes x 1 thread (CNN).")
public final class DataParallelBenchmark implements Callable<Integer> {
  @Option(
      names = "--batch",
      defaultValue = "128",
      description = "Global batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--warmup",
      defaultValue = "5",
      description = "Warm-up iterations (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--iterations",
      defaultValue = "30",
      description = "Timed iterations (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "Interleaved rounds (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--phases",
      description = "Per-phase breakdown of the step: 1 vs 2 processes (see the class comment).")
  boolean phases;

  @Option(
      names = "--optimizers",
      split = " ",
      defaultValue = "adam:1 adahessian:1 adahessian:2",
      description = "OPTIMIZER:UPDATE_EACH, space-separated (default: ${DEFAULT-VALUE}).")
  List<String> optimizers;

  private record Config(String optimizer, int updateEach) {
    static Config parse(String spec) {
      String[] p = spec.split(":", 2);
      if (p.length != 2
          || !(p[0].equals("adam") || p[0].equals("adahessian"))
          || !p[1].matches("[1-9][0-9]*")) {
        throw new IllegalArgumentException(
            "Invalid --optimizers entry \"" + spec + "\" (adam:1 or adahessian:N)");
      }
      return new Config(p[0], Integer.parseInt(p[1]));
    }

    String label() {
      return optimizer.equals("adam") ? "Adam" : "AdaHessian, updateEach " + updateEach;
    }
  }

  @Override
  public Integer call() throws Exception {
    List<Config> configs = optimizers.stream().map(Config::parse).toList();
    if (phases) {
      return phases(configs);
    }
    Map<String, List<Map<String, String>>> results = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (Config c : configs) {
        for (int[] mode : MODES) {
          Map<String, String> r = run(c, mode[0], mode[1]);
          results
              .computeIfAbsent(c.label() + "|" + mode[0] + "x" + mode[1], k -> new ArrayList<>())
              .add(r);
          System.err.printf(
              Locale.ROOT,
              "round %d: %s, %d process(es) x %d thread(s): %s images/s (median %s ms)%n",
              round,
              c.label(),
              mode[0],
              mode[1],
              r.get("images_per_s"),
              r.get("median_ms"));
        }
      }
    }
    System.out.printf(
        Locale.ROOT,
        "CNN of the demo, global batch %d, %d warm-up + %d timed iterations per run, "
            + "medians of %d interleaved rounds; %s%n%n",
        batch,
        warmup,
        iterations,
        rounds,
        environment());
    System.out.println(
        "| optimizer | 1 process x 1 thread | 1 process x 2 threads | 2 processes x 1 thread | "
            + "2 processes / 1 x 2 threads | all-reduced per step and rank | collectives per step |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Config c : configs) {
      List<Map<String, String>> single = results.get(c.label() + "|1x1");
      List<Map<String, String>> one = results.get(c.label() + "|1x2");
      List<Map<String, String>> two = results.get(c.label() + "|2x1");
      double bytes = median(two, "bytes_per_step");
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %s | %s | %.2fx | %,.0f bytes (%.2f MiB) | %.1f |%n",
          c.label(),
          cell(single),
          cell(one),
          cell(two),
          median(two, "images_per_s") / median(one, "images_per_s"),
          bytes,
          bytes / 1048576.0,
          median(two, "calls_per_step"));
    }
    return 0;
  }

  /**
   * Processes x threads: the baseline, one process with both cores, two processes with one each.
   */
  private static final int[][] MODES = {{1, 1}, {1, 2}, {2, 1}};

  private static String cell(List<Map<String, String>> runs) {
    return String.format(
        Locale.ROOT,
        "%.0f images/s (%.1f ms)",
        median(runs, "images_per_s"),
        median(runs, "median_ms"));
  }

  private Map<String, String> run(Config c, int world, int threads) throws Exception {
    String text = launch(c, world, threads, batch);
    List<Map<String, String>> lines = values(text, "DPRESULT ");
    if (lines.isEmpty()) {
      throw new IllegalStateException("no result in:\n" + text);
    }
    return lines.get(0);
  }

  /** Runs the worker in {@code world} processes of {@code threads} threads; their output. */
  private String launch(Config c, int world, int threads, int globalBatch, String... flags)
      throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
    List<String> args =
        new ArrayList<>(
            List.of(
                c.optimizer(),
                Integer.toString(c.updateEach()),
                Integer.toString(globalBatch),
                Integer.toString(warmup),
                Integer.toString(iterations)));
    args.addAll(List.of(flags));
    int status =
        new Launcher(world)
            .threads(threads)
            .output(out, out)
            .runJava(DataParallelWorker.class.getName(), args);
    String text = log.toString(StandardCharsets.UTF_8);
    if (status != 0) {
      throw new IllegalStateException("the run failed (" + status + "):\n" + text);
    }
    return text;
  }

  /** The {@code key=value} pairs of each line of {@code text} that holds {@code tag}. */
  static List<Map<String, String>> values(String text, String tag) {
    List<Map<String, String>> found = new ArrayList<>();
    for (String line : text.split("\n")) {
      int at = line.indexOf(tag);
      if (at >= 0) {
        Map<String, String> values = new HashMap<>();
        for (String kv : line.substring(at + tag.length()).strip().split(" ")) {
          String[] p = kv.split("=", 2);
          values.put(p[0], p[1]);
        }
        found.add(values);
      }
    }
    return found;
  }

  /** A run of the breakdown: processes, the global batch, whether the ranks average. */
  private record Mode(String label, int world, int globalBatch, String... flags) {}

  private int phases(List<Config> configs) throws Exception {
    List<Mode> modes =
        List.of(
            new Mode("1 process, batch " + batch, 1, batch, "--phases"),
            new Mode("1 process, batch " + batch / 2, 1, batch / 2, "--phases"),
            new Mode("2 processes side by side, no mean", 2, batch, "--phases", "--no-mean"),
            new Mode("2 processes, data-parallel", 2, batch, "--phases"),
            new Mode("2 processes, data-parallel, no check", 2, batch, "--phases", "--no-check"));
    // config -> column (mode and rank) -> one DPPHASES line per round
    Map<Config, Map<String, List<Map<String, String>>>> results = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (Config c : configs) {
        for (Mode m : modes) {
          String text = launch(c, m.world(), 1, m.globalBatch(), m.flags());
          List<Map<String, String>> lines = values(text, "DPPHASES ");
          if (lines.size() != m.world()) {
            throw new IllegalStateException(
                "expected " + m.world() + " DPPHASES lines in:\n" + text);
          }
          lines.sort(java.util.Comparator.comparing(l -> l.get("rank")));
          for (Map<String, String> line : lines) {
            String column = m.label() + (m.world() > 1 ? ", rank " + line.get("rank") : "");
            results
                .computeIfAbsent(c, k -> new LinkedHashMap<>())
                .computeIfAbsent(column, k -> new ArrayList<>())
                .add(line);
          }
          System.err.printf(
              Locale.ROOT,
              "round %d: %s, %s: step %s ms (rank 0)%n",
              round,
              c.label(),
              m.label(),
              lines.stream()
                  .filter(l -> l.get("rank").equals("0"))
                  .findFirst()
                  .orElseThrow()
                  .get("step_median_ms"));
        }
      }
    }
    System.out.printf(
        Locale.ROOT,
        "CNN of the demo, global batch %d, every process 1 thread, %d warm-up + %d timed steps per"
            + " run; per phase the median over a run's steps, then the median over %d rounds, in ms;"
            + " %s%n",
        batch,
        warmup,
        iterations,
        rounds,
        environment());
    for (Map.Entry<Config, Map<String, List<Map<String, String>>>> e : results.entrySet()) {
      Map<String, List<Map<String, String>>> columns = e.getValue();
      System.out.printf(Locale.ROOT, "%n%s%n%n| phase (ms per step) |", e.getKey().label());
      columns.keySet().forEach(k -> System.out.print(" " + k + " |"));
      System.out.println();
      System.out.println("|---|" + "---|".repeat(columns.size()));
      for (String phase : StepPhases.NAMES) {
        row(PHASE_LABELS.get(phase), columns, r -> median(r, phase + "_median_ms"), "%.2f");
      }
      row(
          "sum of the phases' means / the step's mean",
          columns,
          DataParallelBenchmark::sumRatio,
          "%.3f");
      row("replica means per step", columns, r -> median(r, "means_per_step"), "%.2f");
      row("tensors averaged per step", columns, r -> median(r, "tensors_per_step"), "%.1f");
      row(
          "backend collectives per step",
          columns,
          r -> median(r, "backend_calls_per_step"),
          "%.2f");
      row("bytes all-reduced per step", columns, r -> median(r, "bytes_per_step"), "%,.0f");
      row("threads", columns, r -> median(r, "threads_total"), "%.0f");
      System.out.print("| threads with CPU (last round) |");
      columns
          .values()
          .forEach(r -> System.out.print(" " + r.get(r.size() - 1).get("threads_busy") + " |"));
      System.out.println();
    }
    return 0;
  }

  /** The environment that the table names: the allocator's setting and OpenMP's wait policy. */
  private static String environment() {
    return "GLIBC_TUNABLES="
        + System.getenv().getOrDefault("GLIBC_TUNABLES", "unset")
        + ", OMP_WAIT_POLICY="
        + System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset");
  }

  private static final Map<String, String> PHASE_LABELS =
      Map.ofEntries(
          Map.entry("step", "**step**"),
          Map.entry("forward", "forward (the closure)"),
          Map.entry("backward", "backward (the gradient)"),
          Map.entry("hvp", "Hessian-vector products"),
          Map.entry("mean", "replica mean, of which:"),
          Map.entry("check", "- check (waits for the slower rank)"),
          Map.entry("pack", "- copies into the bucket"),
          Map.entry("allreduce", "- Gloo all-reduce"),
          Map.entry("divide", "- division by the world size"),
          Map.entry("unpack", "- copies out of the bucket"),
          Map.entry("mean_other", "- the rest (checks, finding the kept buckets)"),
          Map.entry("update", "update (checks, native step, freeing)"),
          Map.entry("outside", "outside the optimizer (the worker's scope)"));

  /** A run's sum of the phases' means that make a step, over the step's mean. */
  private static double sumRatio(List<Map<String, String>> runs) {
    double[] ratios =
        runs.stream()
            .mapToDouble(
                r ->
                    StepPhases.SUMMANDS.stream()
                            .mapToDouble(p -> Double.parseDouble(r.get(p + "_mean_ms")))
                            .sum()
                        / Double.parseDouble(r.get("step_mean_ms")))
            .sorted()
            .toArray();
    return ratios[ratios.length / 2];
  }

  private static void row(
      String label,
      Map<String, List<Map<String, String>>> columns,
      java.util.function.ToDoubleFunction<List<Map<String, String>>> value,
      String format) {
    StringBuilder b = new StringBuilder("| ").append(label).append(" |");
    for (List<Map<String, String>> runs : columns.values()) {
      b.append(' ')
          .append(String.format(Locale.ROOT, format, value.applyAsDouble(runs)))
          .append(" |");
    }
    System.out.println(b);
  }

  private static double median(List<Map<String, String>> runs, String key) {
    double[] v = runs.stream().mapToDouble(r -> Double.parseDouble(r.get(key))).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
