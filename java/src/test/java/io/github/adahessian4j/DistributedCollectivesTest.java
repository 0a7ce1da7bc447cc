package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.distributed.CollectiveException;
import io.github.adahessian4j.distributed.ProcessGroup;
import io.github.adahessian4j.distributed.RendezvousException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ProcessGroup}'s collectives on c10d's Gloo over loopback, with the ranks as threads of
 * this JVM (each with its own store client and Gloo context, as separate processes would have):
 * bucketed means and broadcasts, the header check that reports mismatched tensors on every rank,
 * timeouts, and the rendezvous's errors.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DistributedCollectivesTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;

  /** What a rank does with its group. */
  interface RankBody {
    Object run(ProcessGroup group) throws Exception;
  }

  /**
   * Runs {@code body} on {@code world} ranks (threads); each result is the body's value or what it
   * threw.
   */
  private static List<Object> onRanks(int world, Duration timeout, long bucketBytes, RankBody body)
      throws Exception {
    int port = DistributedTrainingTest.freePort();
    ExecutorService pool = Executors.newFixedThreadPool(world);
    try {
      List<java.util.concurrent.Future<Object>> futures = new ArrayList<>();
      for (int r = 0; r < world; r++) {
        int rank = r;
        futures.add(
            pool.submit(
                () -> {
                  try (PointerScope scope = new PointerScope();
                      ProcessGroup g =
                          ProcessGroup.builder()
                              .master("127.0.0.1", port)
                              .rank(rank, world)
                              .timeout(timeout)
                              .rendezvousTimeout(Duration.ofSeconds(30))
                              .bucketBytes(bucketBytes)
                              .connect()) {
                    return body.run(g);
                  } catch (Exception | AssertionError e) {
                    return e;
                  }
                }));
      }
      List<Object> out = new ArrayList<>();
      for (java.util.concurrent.Future<Object> f : futures) {
        out.add(f.get(50, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static Tensor random(long seed, torch.ScalarType dtype, long... shape) {
    return T.randomParam(seed, dtype, shape).detach();
  }

  @Test
  void allReduceMeanInBucketsGivesEveryRankTheSameMean() throws Exception {
    int world = 3;
    // 1024-byte buckets: 128 float64 or 256 float32 elements; 321 float64 elements make 3 buckets
    List<Object> results =
        onRanks(
            world,
            Duration.ofSeconds(20),
            1024,
            g -> {
              int r = g.rank();
              Tensor big = random(10 + r, F64, 300);
              Tensor matrix = random(20 + r, F64, 5, 4);
              Tensor small = random(30 + r, torch.ScalarType.Float, 7);
              Tensor scalar = random(40 + r, F64);
              Tensor none = torch.zeros(0).to(F64);
              Tensor leaf =
                  T.randomParam(50 + r, F64, 1); // requires grad: written through a detached view
              g.allReduceMean(List.of(big, matrix, small, scalar, none, leaf));
              assertEquals((300 + 20 + 1 + 1) * 8 + 7 * 4, g.bytesAllReduced());
              assertEquals(
                  1 + 3 + 1,
                  g.collectiveCalls(),
                  "one header, three float64 buckets, one float32 bucket");
              return List.of(
                  T.values(big),
                  T.values(matrix),
                  T.values(small),
                  T.values(scalar),
                  T.values(leaf));
            });
    long[][] seeds = {{10, 300}, {20, 20}, {30, 7}, {40, 1}, {50, 1}};
    for (int k = 0; k < seeds.length; k++) {
      double[] expected = new double[(int) seeds[k][1]];
      for (int r = 0; r < world; r++) {
        double[] v =
            T.values(random(seeds[k][0] + r, k == 2 ? torch.ScalarType.Float : F64, seeds[k][1]));
        for (int i = 0; i < v.length; i++) {
          expected[i] += v[i] / world;
        }
      }
      for (int r = 0; r < world; r++) {
        assertInstanceOf(List.class, results.get(r), () -> "a rank failed: " + results);
        double[] got = (double[]) ((List<?>) results.get(r)).get(k);
        double[] rank0 = (double[]) ((List<?>) results.get(0)).get(k);
        assertArrayEquals(rank0, got, "ranks agree bit for bit on tensor " + k);
        T.assertClose("tensor " + k, got, expected, k == 2 ? 1e-6 : 1e-14, 1e-15);
      }
    }
  }

  @Test
  void broadcastGivesEveryRankTheRootsTensors() throws Exception {
    List<Object> results =
        onRanks(
            2,
            Duration.ofSeconds(20),
            ProcessGroup.DEFAULT_BUCKET_BYTES,
            g -> {
              DistributedTrainMain.Mlp net = new DistributedTrainMain.Mlp(100 + g.rank());
              g.broadcastParameters(net, "scale");
              Tensor t = random(7 + g.rank(), F64, 3);
              g.broadcast(List.of(t), 1);
              IllegalArgumentException e =
                  assertThrows(
                      IllegalArgumentException.class, () -> g.broadcastParameters(net, "nope"));
              assertTrue(
                  e.getMessage().contains("no buffer named \"nope\" (its buffers: [scale])"),
                  e.getMessage());
              return List.of(T.values(net.w1), T.values(net.b2), T.values(net.scale), T.values(t));
            });
    DistributedTrainMain.Mlp rank0 = new DistributedTrainMain.Mlp(100);
    double[][] expected = {
      T.values(rank0.w1), T.values(rank0.b2), T.values(rank0.scale), T.values(random(8, F64, 3))
    };
    for (Object result : results) {
      assertInstanceOf(List.class, result, () -> "a rank failed: " + results);
      for (int k = 0; k < expected.length; k++) {
        assertArrayEquals(expected[k], (double[]) ((List<?>) result).get(k), "tensor " + k);
      }
    }
  }

  /** The list form takes a TorchScript model's parameters: every rank gets rank 0's. */
  @Test
  void broadcastParametersTakesATorchScriptModelsParameters() throws Exception {
    java.nio.file.Path dir = TorchScriptParityTest.FIXTURES.dir();
    TorchScriptParityTest.FIXTURES.readJson(dir.resolve("index.json"));
    List<Object> results =
        onRanks(
            2,
            Duration.ofSeconds(20),
            ProcessGroup.DEFAULT_BUCKET_BYTES,
            g -> {
              try (TorchScriptModel model = TorchScriptModel.load(dir.resolve("cnn_script.pt"))) {
                List<double[]> before = new ArrayList<>();
                for (Tensor p : model.parameters()) {
                  p.detach().add_(T.s(g.rank())); // ranks start apart
                  before.add(T.values(p));
                }
                g.broadcastParameters(model.parameters());
                List<double[]> after = new ArrayList<>();
                model.parameters().forEach(p -> after.add(T.values(p)));
                return List.of(before, after);
              }
            });
    List<?> rank0 = (List<?>) results.get(0);
    for (Object result : results) {
      assertInstanceOf(List.class, result, () -> "a rank failed: " + results);
      List<?> after = (List<?>) ((List<?>) result).get(1);
      List<?> expected = (List<?>) rank0.get(0);
      assertEquals(5, after.size());
      for (int k = 0; k < after.size(); k++) {
        assertArrayEquals((double[]) expected.get(k), (double[]) after.get(k), "parameter " + k);
      }
    }
  }

  @Test
  void mismatchedTensorsAreReportedOnEveryRankAndTheGroupStaysUsable() throws Exception {
    List<Object> results =
        onRanks(
            2,
            Duration.ofSeconds(20),
            ProcessGroup.DEFAULT_BUCKET_BYTES,
            g -> {
              Tensor a = random(1, F64, 4);
              Tensor b = random(2, F64, 3);
              CollectiveException e =
                  assertThrows(
                      CollectiveException.class,
                      () -> g.allReduceMean(g.rank() == 0 ? List.of(a, b) : List.of(a)));
              assertTrue(e.isMismatch());
              assertFalse(g.isBroken());
              g.allReduceMean(List.of(a)); // still works
              return e.getMessage();
            });
    for (int r = 0; r < 2; r++) {
      assertInstanceOf(String.class, results.get(r), () -> "a rank failed: " + results);
      String m = (String) results.get(r);
      assertTrue(
          m.startsWith(
              "allreduce (mean) #1 refused on rank "
                  + r
                  + " of 2, nothing was sent: the ranks "
                  + "disagree: rank 0: allreduce (mean) #1 of 2 tensors, 7 elements (float64 7), shape checksum "),
          m);
      assertTrue(
          m.contains(
              "; rank 1: allreduce (mean) #1 of 1 tensor, 4 elements (float64 4), shape checksum "),
          m);
      assertTrue(m.contains("Every rank must hand over the same tensors"), m);
    }
  }

  /** The shapes of each call of the test below: a float64, a float64 and a float32 tensor. */
  private static final long[][][] CALLS = {
    {{5, 4}, {300}, {7}},
    {{5, 4}, {300}, {7}}, // new tensors of the same shapes (leaves that require grad)
    {{4, 5}, {300}, {7}}, // another shape, the same element count
    {{4, 5}, {400}, {300}}, // more elements: the staging buffers grow
    {{5, 4}, {300}, {7}}, // the first shapes again
  };

  /** Tensor {@code k} of call {@code c} on {@code rank}. */
  private static Tensor input(int c, int k, int rank) {
    torch.ScalarType dtype = k == 2 ? torch.ScalarType.Float : F64;
    long seed = 1000L * c + 10L * k + rank;
    return c == 1 ? T.randomParam(seed, dtype, CALLS[c][k]) : random(seed, dtype, CALLS[c][k]);
  }

  /**
   * A group keeps each list's buckets between calls (its plan and staging views, for lists of the
   * same dtypes and shapes): new tensors, another shape, a larger list and the first shapes again
   * are each averaged exactly (two ranks: (x0 + x1) / 2 in the tensor's dtype, what Gloo's sum and
   * the division give), across buckets of 1024 bytes; a tensor that stops being contiguous is still
   * refused by name, and the group works after it.
   */
  @Test
  void aListWhoseTensorsChangeBetweenCallsIsAveragedExactly() throws Exception {
    List<Object> results =
        onRanks(
            2,
            Duration.ofSeconds(20),
            1024,
            g -> {
              List<Object> out = new ArrayList<>();
              for (int c = 0; c < CALLS.length; c++) {
                List<Tensor> list = new ArrayList<>();
                for (int k = 0; k < 3; k++) {
                  list.add(input(c, k, g.rank()));
                }
                g.allReduceMean(list);
                for (Tensor t : list) {
                  out.add(T.values(t));
                }
              }
              Tensor transposed = random(7, F64, 20, 15).t();
              List<Tensor> bad =
                  List.of(
                      input(0, 0, g.rank()),
                      g.rank() == 0 ? transposed : input(0, 1, g.rank()),
                      input(0, 2, g.rank()));
              CollectiveException e =
                  assertThrows(CollectiveException.class, () -> g.allReduceMean(bad));
              out.add(e.getMessage());
              List<Tensor> after = List.of(input(0, 0, g.rank()), input(0, 1, g.rank()));
              g.allReduceMean(after);
              out.add(T.values(after.get(1)));
              return out;
            });
    for (int r = 0; r < 2; r++) {
      assertInstanceOf(List.class, results.get(r), () -> "a rank failed: " + results);
      List<?> got = (List<?>) results.get(r);
      for (int c = 0; c < CALLS.length; c++) {
        for (int k = 0; k < 3; k++) {
          assertArrayEquals(
              meanOfTwo(c, k),
              (double[]) got.get(3 * c + k),
              "rank " + r + ", call " + c + ", tensor " + k);
        }
      }
      String m = (String) got.get(3 * CALLS.length);
      assertTrue(
          m.contains("rank 0 could not take part (" + (r == 0 ? "here: " : "see its own message")),
          m);
      assertTrue(r != 0 || m.contains("(here: tensor 1 is not contiguous)"), m);
      assertArrayEquals(
          meanOfTwo(0, 1), (double[]) got.get(3 * CALLS.length + 1), "after the refusal");
    }
  }

  /** The exact mean of two ranks' tensor {@code k} of call {@code c}, in its dtype. */
  private static double[] meanOfTwo(int c, int k) {
    double[] x0 = T.values(input(c, k, 0));
    double[] x1 = T.values(input(c, k, 1));
    double[] mean = new double[x0.length];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = k == 2 ? (float) (x0[i] + x1[i]) / 2f : (x0[i] + x1[i]) / 2;
    }
    return mean;
  }

  @Test
  void aParameterWithAGradientOnOneRankOnlyFailsTheStepOnEveryRank() throws Exception {
    List<Object> results =
        onRanks(
            2,
            Duration.ofSeconds(20),
            ProcessGroup.DEFAULT_BUCKET_BYTES,
            g -> {
              Tensor p = T.randomParam(1, F64, 3);
              Tensor q = T.randomParam(2, F64, 2);
              double[] before = T.values(q);
              List<String> messages = new ArrayList<>();
              // rank 1's loss does not use q: no gradient for it there
              java.util.function.Supplier<Tensor> loss =
                  () ->
                      g.rank() == 0
                          ? p.square().sum().add(q.square().sum().mul(T.s(3)))
                          : p.square().sum();
              try (AdaHessian opt =
                  AdaHessian.builder().replicaMean(g.replicaMean()).build(List.of(p, q))) {
                CollectiveException e =
                    assertThrows(CollectiveException.class, () -> opt.step(loss));
                messages.add(e.getMessage());
                assertEquals(0, opt.stepCount(0), "the step changed nothing");
              }
              try (AdamW opt = AdamW.builder().replicaMean(g.replicaMean()).build(List.of(p, q))) {
                opt.zeroGrad();
                loss.get().backward();
                CollectiveException e = assertThrows(CollectiveException.class, opt::step);
                messages.add(e.getMessage());
                assertEquals(0, opt.stepCount(0));
              }
              assertArrayEquals(before, T.values(q));
              return messages;
            });
    for (int r = 0; r < 2; r++) {
      assertInstanceOf(List.class, results.get(r), () -> "a rank failed: " + results);
      List<?> messages = (List<?>) results.get(r);
      String adaHessian = (String) messages.get(0);
      assertTrue(
          adaHessian.startsWith(
              "allreduce (mean) #1 (replica mean of an optimizer step) refused on rank "
                  + r
                  + " of 2, nothing was sent: the ranks disagree: rank 0: allreduce (mean) #1 of 4 tensors, 10 elements "
                  + "(float64 10)"),
          adaHessian);
      assertTrue(
          adaHessian.contains("rank 1: allreduce (mean) #1 of 2 tensors, 6 elements (float64 6)"),
          adaHessian);
      assertTrue(adaHessian.contains("a parameter gets a gradient on some ranks only"), adaHessian);
      String adamW = (String) messages.get(1);
      assertTrue(
          adamW.contains("rank 0: allreduce (mean) #2 of 2 tensors, 5 elements (float64 5)"),
          adamW);
      assertTrue(
          adamW.contains("rank 1: allreduce (mean) #2 of 1 tensor, 3 elements (float64 3)"), adamW);
    }
  }

  /**
   * Rank 1 stays connected but calls no collective until rank 0's has failed, so rank 0 can only
   * fail by its timeout (a rank that left would break the connection instead, with another
   * message); no wall-clock bound is needed.
   */
  @Test
  void aRankThatStopsCallingCollectivesTimesTheOthersOut() throws Exception {
    CountDownLatch rankZeroDone = new CountDownLatch(1);
    List<Object> results =
        onRanks(
            2,
            Duration.ofMillis(1500),
            ProcessGroup.DEFAULT_BUCKET_BYTES,
            g -> {
              if (g.rank() == 1) {
                // stalls (the cap only ends a failed run), then leaves without the collective
                assertTrue(rankZeroDone.await(40, TimeUnit.SECONDS), "rank 0 never finished");
                return "stalled";
              }
              try {
                CollectiveException e =
                    assertThrows(
                        CollectiveException.class,
                        () -> g.allReduceMean(List.of(random(1, F64, 4))));
                assertFalse(e.isMismatch());
                assertTrue(g.isBroken());
                CollectiveException again = assertThrows(CollectiveException.class, g::barrier);
                assertTrue(
                    again
                        .getMessage()
                        .contains("the process group is broken by an earlier failure"),
                    again.getMessage());
                return e;
              } finally {
                rankZeroDone.countDown();
              }
            });
    assertEquals("stalled", results.get(1), () -> "rank 1: " + results.get(1));
    assertInstanceOf(CollectiveException.class, results.get(0), () -> "rank 0: " + results.get(0));
    CollectiveException e = (CollectiveException) results.get(0);
    assertEquals(Duration.ofMillis(1500), e.timeout());
    assertEquals(0, e.rank());
    assertTrue(
        e.getMessage().startsWith("allreduce (mean) #1, header failed on rank 0 of 2 after "),
        e.getMessage());
    assertTrue(
        e.getMessage()
            .contains(
                "ms (collective timeout 1500 ms): timed out: another rank stopped calling "
                    + "collectives, stalled or died [gloo: Timed out waiting 1500ms for recv operation to complete]"),
        e.getMessage());
  }

  /** Connects the group {@code setup} describes on a thread of {@code pool}; what it threw. */
  private static java.util.concurrent.Future<RendezvousException> refused(
      ExecutorService pool, java.util.function.UnaryOperator<ProcessGroup.Builder> setup) {
    return pool.submit(
        () ->
            assertThrows(
                RendezvousException.class, () -> setup.apply(ProcessGroup.builder()).connect()));
  }

  @Test
  void rendezvousErrorsNameTheAddressThePortAndTheRanks() throws Exception {
    int alonePort = DistributedTrainingTest.freePort();
    int nobodyPort = DistributedTrainingTest.freePort();
    int worldPort = DistributedTrainingTest.freePort();
    Duration rdv = Duration.ofMillis(1500);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      // rank 0 of 2, alone
      var alone =
          refused(pool, b -> b.master("127.0.0.1", alonePort).rank(0, 2).rendezvousTimeout(rdv));
      // rank 1 of 2, no rank 0 serving the store
      var nobody =
          refused(pool, b -> b.master("127.0.0.1", nobodyPort).rank(1, 2).rendezvousTimeout(rdv));
      // ranks that disagree on the world size
      var world2 =
          refused(pool, b -> b.master("127.0.0.1", worldPort).rank(0, 2).rendezvousTimeout(rdv));
      var world3 =
          refused(pool, b -> b.master("127.0.0.1", worldPort).rank(1, 3).rendezvousTimeout(rdv));
      String m = alone.get(30, TimeUnit.SECONDS).getMessage();
      assertTrue(
          m.startsWith(
              "rendezvous at 127.0.0.1:"
                  + alonePort
                  + " timed out after 1500 ms on rank 0 of 2: "
                  + "rank 1 never joined (joined: {0="),
          m);
      RendezvousException e = nobody.get(30, TimeUnit.SECONDS);
      assertTrue(
          e.getMessage()
              .startsWith(
                  "rank 1 of 2 could not reach the rendezvous TCPStore at 127.0.0.1:"
                      + nobodyPort
                      + " within 1500 ms: is rank 0 running"),
          e.getMessage());
      assertEquals(nobodyPort, e.port());
      assertEquals("127.0.0.1", e.address());
      assertEquals(1, e.rank());
      assertWorldSizesNamed(worldPort, world2.get(30, TimeUnit.SECONDS), 0, 2, 1, 3);
      assertWorldSizesNamed(worldPort, world3.get(30, TimeUnit.SECONDS), 0, 2, 1, 3);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Whichever rank finds the mismatch first, every rank fails with one message that names both
   * ranks and both world sizes (ranks {@code a} and {@code b}, world sizes {@code wa} and {@code
   * wb}), within the rendezvous timeout; before the abort key, the rank that waited for a rank its
   * own world size expects failed only at its timeout, with "never joined", or lost the store.
   */
  private static void assertWorldSizesNamed(
      int port, RendezvousException e, int a, int wa, int b, int wb) {
    String m = e.getMessage();
    String at = " joined the rendezvous at 127.0.0.1:" + port + " with world size ";
    String tail = ": every rank needs the same WORLD_SIZE";
    String aFirst = "rank " + a + " \\(.*\\)" + at + wa + ", rank " + b + " \\(.*\\) with " + wb;
    String bFirst = "rank " + b + " \\(.*\\)" + at + wb + ", rank " + a + " \\(.*\\) with " + wa;
    assertTrue(m.matches("(" + aFirst + "|" + bFirst + ")" + tail), m);
  }

  @Test
  void ranksThatDisagreeOnTheWorldSizeAllFailNamingTheValues() throws Exception {
    // rank 0 expects 3 ranks, rank 1 only 2: rank 1 has all the ranks it expects and finds the
    // mismatch; rank 0 would wait for a rank 2 that never comes, until the abort key tells it
    int port = DistributedTrainingTest.freePort();
    Duration rdv = Duration.ofSeconds(20);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<RendezvousException>> ranks = new ArrayList<>();
      int[][] rankAndWorld = {{0, 3}, {1, 2}};
      for (int[] rw : rankAndWorld) {
        ranks.add(
            refused(
                pool, b -> b.master("127.0.0.1", port).rank(rw[0], rw[1]).rendezvousTimeout(rdv)));
      }
      for (java.util.concurrent.Future<RendezvousException> f : ranks) {
        RendezvousException e = f.get(50, TimeUnit.SECONDS);
        assertWorldSizesNamed(port, e, 0, 3, 1, 2);
        assertEquals(rdv, e.timeout());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A rank whose Gloo device cannot be made (an address that is not this machine's) fails at once;
   * the rank left waiting for it fails by its rendezvous timeout naming it: its host, process and
   * the address it announced.
   */
  @Test
  void aRankLeftWaitingForGlooNamesThePeer() throws Exception {
    int port = DistributedTrainingTest.freePort();
    Duration rdv = Duration.ofMillis(3000);
    String unreachable = "192.0.2.1"; // TEST-NET-1 (RFC 5737): no machine has it
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      var waiting =
          refused(pool, b -> b.master("127.0.0.1", port).rank(0, 2).rendezvousTimeout(rdv));
      var broken =
          refused(
              pool,
              b ->
                  b.master("127.0.0.1", port)
                      .rank(1, 2)
                      .hostname(unreachable)
                      .rendezvousTimeout(rdv));
      String m = waiting.get(30, TimeUnit.SECONDS).getMessage();
      assertTrue(
          m.startsWith(
              "rank 0 of 2 could not connect Gloo to the other ranks on address 127.0.0.1 within"
                  + " the rendezvous timeout of 3000 ms (rendezvous 127.0.0.1:"
                  + port
                  + "; the other rank: rank 1 ("),
          m);
      assertTrue(
          m.contains(" pid " + ProcessHandle.current().pid() + ", Gloo on " + unreachable + ")"),
          m);
      m = broken.get(30, TimeUnit.SECONDS).getMessage();
      assertTrue(
          m.startsWith("rank 1 of 2 could not make its Gloo device (address " + unreachable + ")"),
          m);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theEnvironmentMustNameTheRendezvous() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ProcessGroup.builder()
                    .fromEnvironment(
                        Map.of(
                            "MASTER_ADDR",
                            "127.0.0.1",
                            "MASTER_PORT",
                            "29500",
                            "WORLD_SIZE",
                            "2")));
    assertTrue(e.getMessage().startsWith("environment variable RANK is not set"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ProcessGroup.builder()
                    .fromEnvironment(
                        Map.of(
                            "MASTER_ADDR",
                            "127.0.0.1",
                            "MASTER_PORT",
                            "29500",
                            "WORLD_SIZE",
                            "2",
                            "RANK",
                            "2")));
    assertEquals("Invalid rank: 2 (must be in [0, 2))", e.getMessage());
  }
}
