package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.distributed.Launcher;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training across processes on c10d's Gloo, over loopback: 2 and 3 processes train
 * the MLP of {@link DistributedTrainMain} for 20 steps on disjoint shards of each global batch,
 * from weights that differ per rank until rank 0's are broadcast, with AdaHessian (plain with
 * clipping, updateEach 2, nSamples 2) and AdamW (with clipping; closure form and backward() +
 * step()): every rank ends with bit-identical parameters, equal to one process training on the
 * whole batches (float64, rtol 1e-10). And a rank killed mid-run makes the others fail with a clear
 * exception within the timeout.
 */
class DistributedTrainingTest {
  private static final Map<String, double[][]> REFERENCE = new HashMap<>();

  @TempDir Path dir;

  @BeforeAll
  static void reference() {
    torch.set_num_threads(1);
    try (PointerScope scope = new PointerScope()) {
      Tensor[] data = DistributedTrainMain.data();
      for (String config : DistributedTrainMain.CONFIGS) {
        REFERENCE.put(config, DistributedTrainMain.train(config, 1, 0, null, data));
      }
    }
  }

  /** JVM options that start the ranks faster on small machines (C1 only, serial GC). */
  static final List<String> CHILD_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  private void assertTrainedLikeOneProcess(int world) throws IOException {
    assertTrainedLikeOneProcess(dir, world, REFERENCE);
  }

  /**
   * In {@code dir}, every rank's parameters of every configuration of {@code reference} are rank
   * 0's bit for bit, and the reference's (rtol 1e-10).
   */
  static void assertTrainedLikeOneProcess(Path dir, int world, Map<String, double[][]> reference)
      throws IOException {
    for (String config : reference.keySet()) {
      double[][] expected = reference.get(config);
      double[][] rank0 = DistributedTrainMain.read(dir.resolve(config + "-rank-0.bin"));
      for (int r = 1; r < world; r++) {
        double[][] other = DistributedTrainMain.read(dir.resolve(config + "-rank-" + r + ".bin"));
        for (int i = 0; i < rank0.length; i++) {
          assertArrayEquals(
              rank0[i],
              other[i],
              config + ": rank " + r + " agrees with rank 0 bit for bit on parameter " + i);
        }
      }
      for (int i = 0; i < rank0.length; i++) {
        T.assertClose(
            config + " with " + world + " processes, parameter " + i,
            rank0[i],
            expected[i],
            1e-10,
            1e-12);
      }
    }
  }

  /** Two processes started by the Launcher, its output forwarded with rank prefixes. */
  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void twoProcessesTrainLikeOneOnTheWholeBatches() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream both =
        new PrintStream(new TeeStream(log, System.out), true, StandardCharsets.UTF_8);
    int status =
        new Launcher(2)
            .threads(1)
            .jvmArgs(CHILD_JVM)
            .gracePeriod(Duration.ofSeconds(2))
            .output(both, both)
            .runJava(DistributedTrainMain.class.getName(), List.of("train", dir.toString()));
    String output = log.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, "the ranks failed:\n" + output);
    for (int r = 0; r < 2; r++) {
      assertTrue(
          output.contains("[rank " + r + "] adamw done"),
          "rank " + r + "'s output is forwarded with its prefix");
    }
    assertTrainedLikeOneProcess(2);
  }

  /** The control: the reference itself moves the weights, so the equality above is not vacuous. */
  @Test
  void theReferenceTrains() {
    try (PointerScope scope = new PointerScope()) {
      DistributedTrainMain.Mlp initial = new DistributedTrainMain.Mlp(100);
      double[][] trained = REFERENCE.get("adahessian");
      assertNotEquals(T.values(initial.w1)[0], trained[0][0]);
    }
  }

  /**
   * Three processes (started here, not by the Launcher, which would stop the others itself) train
   * like one, then run until rank 1 is killed (SIGKILL) at its 5th step: ranks 0 and 2 fail with a
   * CollectiveException that names the collective, their rank and the timeout (4 s), each within
   * that timeout of the collective's start, and exit; no process is left.
   */
  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void threeProcessesTrainLikeOneAndFailCleanlyWhenOneIsKilled() throws Exception {
    int world = 3;
    int port = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> procs = new ArrayList<>();
    List<StringBuffer> outputs = new ArrayList<>();
    CountDownLatch fifthStep = new CountDownLatch(1);
    try {
      for (int r = 0; r < world; r++) {
        List<String> command = new ArrayList<>(List.of(java, "-Ddp.timeoutMs=4000"));
        command.addAll(CHILD_JVM);
        command.addAll(
            List.of(
                "-cp",
                System.getProperty("java.class.path"),
                DistributedTrainMain.class.getName(),
                "train-then-run-until-killed",
                dir.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment()
            .putAll(
                Map.of(
                    "MASTER_ADDR",
                    "127.0.0.1",
                    "MASTER_PORT",
                    Integer.toString(port),
                    "WORLD_SIZE",
                    Integer.toString(world),
                    "RANK",
                    Integer.toString(r),
                    "OPENBLAS_NUM_THREADS",
                    "1"));
        Process p = pb.start();
        procs.add(p);
        StringBuffer out = new StringBuffer();
        outputs.add(out);
        boolean watch = r == 1;
        Thread t =
            new Thread(
                () -> {
                  try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                      out.append(line).append('\n');
                      if (watch && line.equals("step 5")) {
                        fifthStep.countDown();
                      }
                    }
                  } catch (IOException e) {
                    // gone
                  }
                });
        t.setDaemon(true);
        t.start();
      }
      assertTrue(
          fifthStep.await(120, TimeUnit.SECONDS), "rank 1 never reached step 5:\n" + outputs);
      assertTrainedLikeOneProcess(world);
      procs.get(1).destroyForcibly();
      long killed = System.nanoTime();
      for (int r : new int[] {0, 2}) {
        Process p = procs.get(r);
        assertTrue(
            p.waitFor(4 + 20, TimeUnit.SECONDS),
            "rank " + r + " still runs 24 s after the kill:\n" + outputs.get(r));
        double seconds = (System.nanoTime() - killed) / 1e9;
        String out = outputs.get(r).toString();
        assertNotEquals(0, p.exitValue(), "rank " + r + " exited with 0:\n" + out);
        assertTrue(
            out.contains(
                "io.github.adahessian4j.distributed.CollectiveException: allreduce (mean) #"),
            "rank " + r + " fails with a CollectiveException naming the collective:\n" + out);
        assertTrue(
            out.contains("failed on rank " + r + " of 3 after "), "it names the rank:\n" + out);
        assertTrue(out.contains("(collective timeout 4000 ms)"), "it names the timeout:\n" + out);
        Matcher after = Pattern.compile("failed on rank \\d of 3 after (\\d+) ms").matcher(out);
        assertTrue(after.find());
        // Measured here, not taken from the library's report: at most the 4 s timeout, then the
        // failure and the JVM's exit, with room for a loaded machine (0.3 s here: the kill
        // breaks the connection at once).
        assertTrue(
            seconds <= 4 + 8, "rank " + r + " exited " + seconds + " s after the kill:\n" + out);
        System.out.printf(
            "rank %d exited %.1f s after the kill, its collective failed after %s ms%n",
            r, seconds, after.group(1));
      }
    } finally {
      for (Process p : procs) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    for (Process p : procs) {
      assertTrue(!p.isAlive(), "no process is left");
    }
  }

  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Writes to two streams. */
  static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int c) throws IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public synchronized void write(byte[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
