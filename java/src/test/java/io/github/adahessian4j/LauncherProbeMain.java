package io.github.adahessian4j;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A rank for {@link DistributedLauncherTest} that never loads libtorch (it starts in a fraction of
 * a second). {@code env}: prints the variables the launcher set. {@code fail-rank-1 DIR}: writes
 * its pid to {@code DIR/pid-RANK}; rank 1 fails with status 3, the others wait a minute. {@code
 * wait DIR}: writes its pid and waits a minute.
 */
public final class LauncherProbeMain {
  private LauncherProbeMain() {}

  public static void main(String[] args) throws Exception {
    String rank = System.getenv("RANK");
    if (args[0].equals("env")) {
      System.out.println(
          "rank="
              + rank
              + " local="
              + System.getenv("LOCAL_RANK")
              + " world="
              + System.getenv("WORLD_SIZE")
              + " addr="
              + System.getenv("MASTER_ADDR")
              + " port="
              + System.getenv("MASTER_PORT")
              + " omp="
              + System.getenv("OMP_NUM_THREADS")
              + " openblas="
              + System.getenv("OPENBLAS_NUM_THREADS"));
      System.err.println("to stderr from " + rank);
      return;
    }
    // Written whole, then renamed: the test polls for the file and must never read it half-written.
    Path pidFile = Path.of(args[1]).resolve("pid-" + rank);
    Path partial = Path.of(args[1]).resolve("pid-" + rank + ".tmp");
    Files.writeString(partial, Long.toString(ProcessHandle.current().pid()));
    Files.move(partial, pidFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    if (args[0].equals("fail-rank-1") && rank.equals("1")) {
      Thread.sleep(300);
      System.out.println("failing");
      System.exit(3);
    }
    System.out.println("waiting");
    Thread.sleep(60_000);
  }
}
