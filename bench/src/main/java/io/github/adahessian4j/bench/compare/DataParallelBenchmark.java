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

  private record Config(String optimizer, int updateEach) {
    String label() {
      return optimizer.equals("adam") ? "Adam" : "AdaHessian, updateEach " + updateEach;
    }
  }

  private static final List<Config> CONFIGS =
      List.of(new Config("adam", 1), new Config("adahessian", 1), new Config("adahessian", 2));

  @Override
  public Integer call() throws Exception {
    Map<String, List<Map<String, String>>> results = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (Config c : CONFIGS) {
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
            + "medians of %d interleaved rounds; GLIBC_TUNABLES=%s, OMP_WAIT_POLICY=%s%n%n",
        batch,
        warmup,
        iterations,
        rounds,
        System.getenv().getOrDefault("GLIBC_TUNABLES", "unset"),
        System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset"));
    System.out.println(
        "| optimizer | 1 process x 1 thread | 1 process x 2 threads | 2 processes x 1 thread | "
            + "2 processes / 1 x 2 threads | all-reduced per step and rank | collectives per step |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Config c : CONFIGS) {
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
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
    int status =
        new Launcher(world)
            .threads(threads)
            .output(out, out)
            .runJava(
                DataParallelWorker.class.getName(),
                List.of(
                    c.optimizer(),
                    Integer.toString(c.updateEach()),
                    Integer.toString(batch),
                    Integer.toString(warmup),
                    Integer.toString(iterations)));
    String text = log.toString(StandardCharsets.UTF_8);
    if (status != 0) {
      throw new IllegalStateException("the run failed (" + status + "):\n" + text);
    }
    for (String line : text.split("\n")) {
      int at = line.indexOf("DPRESULT ");
      if (at >= 0) {
        Map<String, String> values = new HashMap<>();
        for (String kv : line.substring(at + 9).strip().split(" ")) {
          String[] p = kv.split("=", 2);
          values.put(p[0], p[1]);
        }
        return values;
      }
    }
    throw new IllegalStateException("no result in:\n" + text);
  }

  private static double median(List<Map<String, String>> runs, String key) {
    double[] v = runs.stream().mapToDouble(r -> Double.parseDouble(r.get(key))).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
