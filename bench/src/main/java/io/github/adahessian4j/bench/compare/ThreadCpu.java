package io.github.adahessian4j.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The CPU time of each thread of this process, from Linux's {@code /proc/self/task/TID/stat} (user
 * + system, in clock ticks of 10 ms): which threads besides the one that trains took CPU during an
 * interval (the JIT compilers, the garbage collector, Gloo's and OpenMP's threads). Elsewhere than
 * Linux, no threads.
 */
final class ThreadCpu {
  private static final Path TASKS = Path.of("/proc/self/task");

  /** USER_HZ, the unit of the stat file's times (100 on Linux). */
  private static final double TICK_MS = 10;

  private ThreadCpu() {}

  /** Each thread's name (its {@code comm}, blanks as {@code _}) and tid, and its CPU ticks. */
  static Map<String, Long> snapshot() {
    Map<String, Long> ticks = new HashMap<>();
    if (!Files.isDirectory(TASKS)) {
      return ticks;
    }
    try (Stream<Path> tasks = Files.list(TASKS)) {
      for (Path task : tasks.collect(Collectors.toList())) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException e) {
          continue; // the thread ended
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        String name = stat.substring(open + 1, close).replaceAll("[\\s,=]", "_");
        String[] f = stat.substring(close + 2).split(" ");
        ticks.put(name + "/" + task.getFileName(), Long.parseLong(f[11]) + Long.parseLong(f[12]));
      }
    } catch (IOException e) {
      return ticks;
    }
    return ticks;
  }

  /**
   * The threads that took at least 1% of {@code wallMs} between two snapshots, busiest first:
   * {@code name/tid:percent,...} (percent of the interval's wall time; a thread that started in
   * between counts from 0), or {@code none}.
   */
  static String busy(Map<String, Long> before, Map<String, Long> after, double wallMs) {
    List<String> busy =
        after.entrySet().stream()
            .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
            .filter(e -> e.getValue() * TICK_MS >= 0.01 * wallMs)
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .map(
                e ->
                    String.format(
                        Locale.ROOT,
                        "%s:%.0f%%",
                        e.getKey(),
                        100 * e.getValue() * TICK_MS / wallMs))
            .collect(Collectors.toList());
    return busy.isEmpty() ? "none" : String.join(",", busy);
  }
}
