package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.distributed.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Launcher}: the variables, the prefixed output, stopping the others when one fails, no
 * process left.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DistributedLauncherTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);

  private String output() {
    return log.toString(StandardCharsets.UTF_8);
  }

  @Test
  void setsTorchrunsVariablesAndPrefixesTheOutput() throws Exception {
    int status =
        new Launcher(3).output(out, out).runJava(LauncherProbeMain.class.getName(), List.of("env"));
    assertEquals(0, status, output());
    String text = output();
    String port = text.replaceAll("(?s).*MASTER_PORT=(\\d+).*", "$1");
    for (int r = 0; r < 3; r++) {
      assertTrue(
          text.contains(
              "[rank "
                  + r
                  + "] rank="
                  + r
                  + " local="
                  + r
                  + " world=3 addr=127.0.0.1 port="
                  + port
                  + " omp=1 openblas=1"),
          text);
      assertTrue(text.contains("[rank " + r + "] to stderr from " + r), text);
    }
    status =
        new Launcher(2)
            .output(out, out)
            .runCommand(List.of("sh", "-c", "echo \"command rank $RANK\"; exit 0"));
    assertEquals(0, status);
    assertTrue(output().contains("[rank 1] command rank 1"), output());
  }

  @Test
  void oneFailedRankStopsTheOthersAndSetsTheExitStatus() throws Exception {
    long start = System.nanoTime();
    int status =
        new Launcher(3)
            .gracePeriod(Duration.ofSeconds(1))
            .output(out, out)
            .runJava(LauncherProbeMain.class.getName(), List.of("fail-rank-1", dir.toString()));
    double seconds = (System.nanoTime() - start) / 1e9;
    assertEquals(3, status, output());
    assertTrue(seconds < 30, "took " + seconds + " s");
    assertTrue(output().contains("[rank 1] failing"), output());
    assertTrue(
        output().contains("[launcher] rank 1 exited with status 3: stopping the other ranks"),
        output());
    for (int r = 0; r < 3; r++) {
      assertFalse(alive(r), "rank " + r + " is still running");
    }
  }

  /** A launcher killed with SIGKILL (no shutdown hook runs) still leaves no rank behind. */
  @Test
  void ranksOfAKilledLauncherStopToo() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process launcher =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                Launcher.class.getName(),
                "--nproc-per-node",
                "2",
                LauncherProbeMain.class.getName(),
                "wait",
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("launcher.log").toFile())
            .start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!(Files.exists(dir.resolve("pid-0")) && Files.exists(dir.resolve("pid-1")))
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(
          alive(0) && alive(1), "both ranks run: " + Files.readString(dir.resolve("launcher.log")));
      launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while ((alive(0) || alive(1)) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertFalse(alive(0) || alive(1), "a rank outlived its launcher");
    } finally {
      launcher.destroyForcibly();
      for (int r = 0; r < 2; r++) {
        handle(r).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private Optional<ProcessHandle> handle(int rank) throws Exception {
    Path file = dir.resolve("pid-" + rank);
    return Files.exists(file)
        ? ProcessHandle.of(Long.parseLong(Files.readString(file).strip()))
        : Optional.empty();
  }

  private boolean alive(int rank) throws Exception {
    return handle(rank).map(ProcessHandle::isAlive).orElse(false);
  }
}
