package io.github.adahessian4j.bench.compare;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures each optimizer's training memory in a fresh JVM of its own. In one process the second
 * run reuses memory that the first one freed (the C allocator keeps it), so the peaks of runs in
 * the same process say little about each other. The child runs {@code compare} with the same data,
 * model and batch plus {@code --memory-probe KIND}, trains {@link #STEPS} steps, and prints one
 * line: {@code memory-probe GROWTH PEAK} (bytes; see {@link TrainingRun#memory}). Its Java heap is
 * fixed and touched up front, so that what grows is native memory: tensors, autograd graphs,
 * optimizer state.
 */
final class MemoryProbe {
  static final int STEPS = 20;
  static final String PREFIX = "memory-probe ";

  private MemoryProbe() {}

  /**
   * What a probe found: peak RSS growth over the trained steps and the peak, in bytes; or why it
   * failed.
   */
  record Usage(long growthBytes, long peakBytes, String failure) {
    boolean measured() {
      return failure == null;
    }
  }

  /**
   * Runs the child for {@code kind}; {@code compareArgs} are the options that fix data, model and
   * batch.
   */
  static Usage measure(OptimizerKind kind, List<String> compareArgs) {
    try {
      List<String> command =
          new ArrayList<>(
              List.of(
                  javaExecutable(),
                  "-Xms256m",
                  "-Xmx256m",
                  "-XX:+AlwaysPreTouch",
                  "-XX:+UseSerialGC",
                  "-cp",
                  classPath(),
                  "io.github.adahessian4j.bench.BenchCli",
                  "compare"));
      command.addAll(compareArgs);
      command.add("--memory-probe=" + kind.name());
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
      builder.environment().putIfAbsent("OPENBLAS_NUM_THREADS", "1");
      Process process = builder.start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        return new Usage(-1, -1, "the probe process failed");
      }
      for (String line : output.split("\n")) {
        if (line.startsWith(PREFIX)) {
          String[] fields = line.substring(PREFIX.length()).trim().split(" ");
          long growth = Long.parseLong(fields[0]);
          long peak = Long.parseLong(fields[1]);
          return growth < 0
              ? new Usage(-1, -1, "no /proc/self here")
              : new Usage(growth, peak, null);
        }
      }
      return new Usage(-1, -1, "the probe printed no result");
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      return new Usage(-1, -1, "the probe failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Usage(-1, -1, "interrupted");
    }
  }

  private static String javaExecutable() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
  }

  /**
   * This program's class path; under {@code mvn exec:java} it is the plugin's class loader's, not
   * java.class.path.
   */
  private static String classPath() {
    if (!(MemoryProbe.class.getClassLoader() instanceof URLClassLoader loader)) {
      return System.getProperty("java.class.path");
    }
    List<String> entries = new ArrayList<>();
    for (URL url : loader.getURLs()) {
      try {
        entries.add(Paths.get(url.toURI()).toString());
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new IllegalStateException("class path entry " + url + " is not a file", e);
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
