package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.distributed.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Launcher#maxRestarts}: a rank killed (SIGKILL) at step 37 of 60, checkpoints every 10
 * steps by {@link io.github.adahessian4j.distributed.TrainingState}, and the group restarted from
 * step 30 ends with weights bit-identical to an uninterrupted run (float64); {@code --max-restarts
 * 0} fails as without it; a rank that always fails stops the job after the limit with its status
 * and last error, each start on a fresh port.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ElasticRestartTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);

  private String output() {
    return log.toString(StandardCharsets.UTF_8);
  }

  /** Runs ElasticTrainMain in {@code mode} on 2 processes; returns the launcher's status. */
  private int train(String mode, int maxRestarts, String name) throws Exception {
    Files.createDirectories(dir.resolve(name));
    return new Launcher(2)
        .threads(1)
        .jvmArgs(DistributedTrainingTest.CHILD_JVM)
        .gracePeriod(Duration.ofSeconds(2))
        .maxRestarts(maxRestarts)
        .output(out, out)
        .runJava(
            ElasticTrainMain.class.getName(),
            List.of(mode, dir.resolve(name + "-run").toString(), dir.resolve(name).toString()));
  }

  @Test
  void aRankKilledAtStep37ResumesFromStep30ToTheWeightsOfAnUninterruptedRun() throws Exception {
    assertEquals(0, train("steady", 0, "steady"), output());
    assertTrue(output().contains("[rank 0] restart 0: 60 steps taken"), output());
    log.reset();
    assertEquals(0, train("kill-rank-1-at-37", 3, "killed"), output());
    String text = output();
    System.out.print(text);
    assertTrue(text.contains("[launcher] rank 1 exited with status 137"), text);
    assertTrue(
        text.contains(
            "[launcher] restart 1 of --max-restarts 3 after rank 1 exited with status 137"),
        text);
    assertFalse(text.contains("restart 2 of"), text);
    for (int r = 0; r < 2; r++) {
      // 30 steps in the second start: it resumed from the checkpoint of step 30, not from 0.
      assertTrue(text.contains("[rank " + r + "] restart 1: 30 steps taken"), text);
    }
    assertSameWeights(dir.resolve("steady"), dir.resolve("killed"), 2);
    try (PointerScope scope = new PointerScope()) {
      assertNotEquals(
          T.values(new DistributedTrainMain.Mlp(100).w1)[0],
          DistributedTrainMain.read(dir.resolve("steady/final-rank-0.bin"))[0][0],
          "the run trains");
    }
    // Only the newest checkpoint is kept, one file per rank.
    try (var files = Files.list(dir.resolve("killed-run"))) {
      assertEquals(
          Set.of("step-000000000060.rank-0.ah4j", "step-000000000060.rank-1.ah4j"),
          new TreeSet<>(files.map(f -> f.getFileName().toString()).toList()));
    }
  }

  /** Every rank's final parameters in {@code actual} are those in {@code expected}, bit for bit. */
  static void assertSameWeights(Path expected, Path actual, int world) throws Exception {
    for (int r = 0; r < world; r++) {
      double[][] want = DistributedTrainMain.read(expected.resolve("final-rank-" + r + ".bin"));
      double[][] got = DistributedTrainMain.read(actual.resolve("final-rank-" + r + ".bin"));
      for (int i = 0; i < want.length; i++) {
        assertArrayEquals(want[i], got[i], "rank " + r + ", parameter " + i + ", bit for bit");
      }
    }
  }

  /**
   * Rank 1 fails with status 3 at every start; the others wait. Each start is noted in a file. The
   * waiting ranks {@code exec} their sleep: a shell whose child is stopped prints "Terminated" or
   * not depending on which of the two the signal reaches first, and the output is compared.
   */
  private int failing(Launcher launcher) throws Exception {
    return launcher
        .gracePeriod(Duration.ofSeconds(1))
        .output(out, out)
        .runCommand(
            List.of(
                "sh",
                "-c",
                "echo \"rank $RANK restart $TORCHELASTIC_RESTART_COUNT of"
                    + " $TORCHELASTIC_MAX_RESTARTS port $MASTER_PORT\" >> "
                    + dir.resolve("starts")
                    + "; if [ $RANK = 1 ]; then echo \"error: attempt $TORCHELASTIC_RESTART_COUNT"
                    + " failed\" >&2; echo '  at a stack frame' >&2; exit 3; fi; exec sleep 30"));
  }

  /** The lines in order, the port of the rendezvous left out. */
  private static List<String> sortedLines(String text) {
    return text.replaceAll("MASTER_PORT=\\d+", "MASTER_PORT=P").lines().sorted().toList();
  }

  private List<String> starts() throws Exception {
    return Files.readAllLines(dir.resolve("starts")).stream().sorted().toList();
  }

  @Test
  void maxRestartsZeroFailsAsWithoutIt() throws Exception {
    assertEquals(3, failing(new Launcher(2)));
    String without = output();
    log.reset();
    Files.delete(dir.resolve("starts"));
    assertEquals(3, failing(new Launcher(2).maxRestarts(0)));
    String with = output();
    for (String text : List.of(without, with)) {
      assertTrue(
          text.contains("[launcher] rank 1 exited with status 3: stopping the other ranks"), text);
      assertFalse(text.contains("restart"), text);
    }
    assertEquals(sortedLines(without), sortedLines(with));
    List<String> once = starts();
    assertEquals(2, once.size(), once.toString());
    assertTrue(once.get(0).startsWith("rank 0 restart 0 of 0 port"), once.toString());
  }

  @Test
  void aRankThatAlwaysFailsStopsTheJobAfterTheLimitWithItsLastError() throws Exception {
    assertEquals(3, failing(new Launcher(2).maxRestarts(2)));
    String text = output();
    for (int k = 1; k <= 2; k++) {
      assertTrue(
          text.contains(
              "[launcher] restart "
                  + k
                  + " of --max-restarts 2 after rank 1 exited with status 3: every rank starts"
                  + " again (TORCHELASTIC_RESTART_COUNT="
                  + k
                  + ")"),
          text);
    }
    assertFalse(text.contains("restart 3 of"), text);
    assertTrue(
        text.contains(
            "[launcher] rank 1 failed after 2 restarts, the limit of --max-restarts 2: the job stops"
                + " with its exit status 3; its last error: error: attempt 2 failed"),
        text);
    List<String> starts = starts();
    assertEquals(6, starts.size(), starts.toString());
    Set<String> ports = new TreeSet<>();
    Matcher m =
        Pattern.compile("rank 1 restart (\\d) of 2 port (\\d+)").matcher(String.join("\n", starts));
    int count = 0;
    while (m.find()) {
      assertEquals(count++, Integer.parseInt(m.group(1)), starts.toString());
      ports.add(m.group(2));
    }
    assertEquals(3, count, starts.toString());
    assertEquals(3, ports.size(), "every start has a rendezvous of its own: " + starts);
  }

  @Test
  void aNegativeMaxRestartsIsRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Launcher(1).maxRestarts(-1));
    assertEquals("Invalid --max-restarts: -1 (must be at least 0)", e.getMessage());
  }
}
