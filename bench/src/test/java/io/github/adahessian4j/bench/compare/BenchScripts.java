package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs the Python scripts of bench/ from the tests. */
final class BenchScripts {
  private BenchScripts() {}

  /** Runs {@code python3 bench/SCRIPT args}; returns its standard output, or fails with it. */
  static String python(String script, String... args) throws IOException, InterruptedException {
    Path path = Path.of(script);
    if (!Files.isRegularFile(path)) {
      path = Path.of("bench", script); // from the repository root
    }
    List<String> command = new ArrayList<>(List.of("python3", path.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", command) + ":\n" + out);
    return out;
  }
}
