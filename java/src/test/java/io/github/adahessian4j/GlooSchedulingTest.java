package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.distributed.ProcessGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * {@link ProcessGroup.Builder#glooBatchScheduling}: the threads Gloo starts while a group forms
 * (its network loop and the group's workers) run under SCHED_BATCH by default and under the
 * caller's policy when it is off, read from the kernel's own account of every thread ({@code
 * /proc/self/task/TID/stat}), not from the call that set it; the rank's own thread keeps its
 * policy, as does every other thread started meanwhile (the store's, the ranks'), and the group's
 * all-reduce gives the mean either way.
 */
@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GlooSchedulingTest {
  private static final int SCHED_OTHER = 0;
  private static final int SCHED_BATCH = 3;

  /** What a group's formation left: the new threads' names and policies, the ranks' results. */
  private record Formed(Map<Long, String> names, Map<Long, Integer> policies, List<Object> ranks) {}

  @Test
  void glooThreadsRunUnderBatchSchedulingByDefault() throws Exception {
    Formed f = form(null);
    List<Long> gloo = assertGlooThreadsUnder(SCHED_BATCH, f);
    f.policies()
        .forEach(
            (tid, policy) -> {
              if (!gloo.contains(tid)) {
                assertEquals(SCHED_OTHER, policy, "thread " + tid + " of " + f.names());
              }
            });
    assertEquals(List.of(SCHED_OTHER, SCHED_OTHER), f.ranks().subList(0, 2), "the ranks' threads");
    assertEquals(List.of(1.5, 1.5), f.ranks().subList(2, 4), "the mean of 1 and 2 on both ranks");
  }

  @Test
  void offTheyKeepTheCallersPolicy() throws Exception {
    Formed f = form(false);
    assertGlooThreadsUnder(SCHED_OTHER, f);
    assertEquals(List.of(1.5, 1.5), f.ranks().subList(2, 4), "the mean of 1 and 2 on both ranks");
  }

  /**
   * The new threads named after the thread that connects Gloo ("adahessian4j Gloo ..."), checked:
   * at least the network loop and a worker, each under {@code policy}.
   */
  private static List<Long> assertGlooThreadsUnder(int policy, Formed f) {
    List<Long> gloo = new ArrayList<>();
    f.names()
        .forEach(
            (tid, name) -> {
              if (name.startsWith("adahessian4j Gl")) {
                gloo.add(tid);
              }
            });
    assertTrue(gloo.size() >= 2, "the network loop and a worker at least: " + f.names());
    for (long tid : gloo) {
      assertEquals(policy, f.policies().get(tid), "thread " + tid + " of " + f.names());
    }
    return gloo;
  }

  /**
   * Forms a 2-rank group over loopback (ranks as threads of this JVM), with {@code
   * glooBatchScheduling(batch)} unless null; while both groups are open, records the threads that
   * did not exist before; then each rank reports its own thread's policy and the mean of its rank +
   * 1. The result's ranks: policy of rank 0's thread, of rank 1's, then their means.
   */
  private static Formed form(Boolean batch) throws Exception {
    int port = DistributedTrainingTest.freePort();
    Map<Long, String> before = threads();
    CountDownLatch formed = new CountDownLatch(2);
    CountDownLatch recorded = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Object[]>> futures = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        int rank = r;
        futures.add(
            pool.submit(
                () -> {
                  ProcessGroup.Builder b =
                      ProcessGroup.builder()
                          .master("127.0.0.1", port)
                          .rank(rank, 2)
                          .rendezvousTimeout(Duration.ofSeconds(30));
                  if (batch != null) {
                    b.glooBatchScheduling(batch);
                  }
                  try (PointerScope scope = new PointerScope();
                      ProcessGroup g = b.connect()) {
                    formed.countDown();
                    assertTrue(recorded.await(30, TimeUnit.SECONDS), "the threads were recorded");
                    Tensor t = torch.full(new long[] {1}, new Scalar(rank + 1.0));
                    g.allReduceMean(List.of(t));
                    return new Object[] {
                      policy(Path.of("/proc/thread-self/stat")), t.item_double()
                    };
                  }
                }));
      }
      assertTrue(formed.await(40, TimeUnit.SECONDS), "both ranks formed their group");
      Map<Long, String> names = threads();
      names.keySet().removeAll(before.keySet());
      Map<Long, Integer> policies = new HashMap<>();
      for (long tid : names.keySet()) {
        policies.put(tid, policy(Path.of("/proc/self/task/" + tid + "/stat")));
      }
      recorded.countDown();
      List<Object> ranks = new ArrayList<>(List.of(0, 0, 0.0, 0.0));
      for (int r = 0; r < 2; r++) {
        Object[] out = futures.get(r).get(40, TimeUnit.SECONDS);
        ranks.set(r, out[0]);
        ranks.set(2 + r, out[1]);
      }
      return new Formed(names, policies, ranks);
    } finally {
      pool.shutdownNow();
    }
  }

  /** This process's threads now: id to name ({@code /proc/self/task/TID/comm}). */
  private static Map<Long, String> threads() throws IOException {
    Map<Long, String> out = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          out.put(
              Long.parseLong(task.getFileName().toString()),
              Files.readString(task.resolve("comm")).strip());
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    }
    return out;
  }

  /** The scheduling policy in a thread's {@code stat} file: its field 41 (proc(5)). */
  private static int policy(Path stat) throws IOException {
    String line = Files.readString(stat);
    // the name (field 2) is in parentheses and may hold spaces: count from the last ')'
    String[] after = line.substring(line.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(after[41 - 3]);
  }
}
