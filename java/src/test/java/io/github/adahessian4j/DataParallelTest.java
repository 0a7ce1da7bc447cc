package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Data-parallel AdaHessian and Adam ({@link ReplicaMean}): two replicas, each on half of a batch,
 * with an in-process all-reduce, take exactly the steps of one optimizer on the whole batch (the
 * loss is a mean over the batch, so the mean of the halves' gradients and Hessian-vector products,
 * with the same probes, is the whole batch's). The same over processes and c10d: {@code
 * DistributedTrainingTest}.
 */
class DataParallelTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;
  private static final int STEPS = 6;

  /** conv 3x2x3x3 (+ bias) -> tanh -> linear 27 -> 3, squared error; one parameter unused. */
  static final class Net {
    final Tensor conv = T.randomParam(1, F64, 3, 2, 3, 3);
    final Tensor convBias = T.randomParam(2, F64, 3);
    final Tensor linear = T.randomParam(3, F64, 3, 27);
    final Tensor unused = T.randomParam(4, F64, 4);
    final List<Tensor> params = List.of(conv, convBias, linear, unused);

    Tensor loss(Tensor x, Tensor y) {
      Tensor h = torch.tanh(torch.conv2d(x, conv).add(convBias.reshape(1, 3, 1, 1))).flatten(1, 3);
      return torch.matmul(h, linear.t()).sub(y).square().sum(1).mean();
    }
  }

  /** The mean over `parties` threads, each passing its own list: an all-reduce in one JVM. */
  static final class InProcessMean {
    private final CyclicBarrier barrier;
    private final List<List<Tensor>> deposits = new ArrayList<>();

    InProcessMean(int parties) {
      barrier = new CyclicBarrier(parties);
      for (int r = 0; r < parties; r++) {
        deposits.add(null);
      }
    }

    ReplicaMean rank(int rank) {
      return tensors -> {
        deposits.set(rank, tensors);
        await();
        List<Tensor> means = new ArrayList<>();
        for (int k = 0; k < tensors.size(); k++) {
          Tensor sum = deposits.get(0).get(k).clone();
          for (int r = 1; r < deposits.size(); r++) {
            assertEquals(
                tensors.size(), deposits.get(r).size(), "replicas hand over as many tensors");
            sum.add_(deposits.get(r).get(k));
          }
          means.add(sum.div(T.s(deposits.size())));
        }
        await(); // every rank has read every deposit before anyone writes
        for (int k = 0; k < tensors.size(); k++) {
          tensors.get(k).copy_(means.get(k));
        }
        await();
      };
    }

    private void await() {
      try {
        barrier.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The batch: 8 images of 2x5x5 and 3 targets each (made in the caller's PointerScope). */
  static Tensor[] batch() {
    return new Tensor[] {
      T.randomParam(10, F64, 8, 2, 5, 5).detach(), T.randomParam(11, F64, 8, 3).detach()
    };
  }

  private static AdaHessian.Builder options() {
    return AdaHessian.builder().lr(0.05).weightDecay(1e-3).updateEach(2);
  }

  private static double[][] train(Net net, AdaHessian opt, Tensor x, Tensor y) {
    for (int s = 0; s < STEPS; s++) {
      opt.step(() -> net.loss(x, y));
    }
    double[][] out = new double[net.params.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = T.values(net.params.get(i));
    }
    return out;
  }

  private static double[][] wholeBatch(Tensor[] xy) {
    Net net = new Net();
    try (AdaHessian opt = options().build(net.params)) {
      return train(net, opt, xy[0], xy[1]);
    }
  }

  /** Replica `rank` of `parties`, on its share of the batch, averaging through `mean` (or not). */
  private static double[][] replica(Tensor[] xy, int rank, int parties, ReplicaMean mean) {
    try (PointerScope scope = new PointerScope()) {
      Net net = new Net();
      long share = xy[0].size(0) / parties;
      AdaHessian.Builder b = options();
      if (mean != null) {
        b.replicaMean(mean);
      }
      try (AdaHessian opt = b.build(net.params)) {
        return train(
            net, opt, xy[0].narrow(0, rank * share, share), xy[1].narrow(0, rank * share, share));
      }
    }
  }

  @Test
  void twoReplicasOnHalvesTakeTheWholeBatchSteps() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Tensor[] xy = batch();
      double[][] expected = wholeBatch(xy);
      InProcessMean mean = new InProcessMean(2);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<double[][]> r0 = pool.submit(() -> replica(xy, 0, 2, mean.rank(0)));
        Future<double[][]> r1 = pool.submit(() -> replica(xy, 1, 2, mean.rank(1)));
        double[][] a = r0.get(120, TimeUnit.SECONDS);
        double[][] b = r1.get(120, TimeUnit.SECONDS);
        for (int i = 0; i < expected.length; i++) {
          assertArrayEquals(a[i], b[i], "replicas agree bit for bit on parameter " + i);
          T.assertClose("parameter " + i, a[i], expected[i], 1e-10, 1e-12);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Adam with the same mean: both the closure form and backward() + step(), with clipping. */
  private static double[][] adam(Tensor x, Tensor y, int rank, int parties, ReplicaMean mean) {
    try (PointerScope scope = new PointerScope()) {
      Net net = new Net();
      long share = x.size(0) / parties;
      Tensor xs = x.narrow(0, rank * share, share);
      Tensor ys = y.narrow(0, rank * share, share);
      Adam.Builder b = Adam.builder().lr(0.01).clipGradNorm(0.5);
      if (mean != null) {
        b.replicaMean(mean);
      }
      try (Adam opt = b.build(net.params)) {
        for (int s = 0; s < STEPS; s++) {
          if (s % 2 == 0) {
            opt.step(() -> net.loss(xs, ys));
          } else {
            opt.zeroGrad();
            net.loss(xs, ys).backward();
            opt.step();
          }
        }
      }
      double[][] out = new double[net.params.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = T.values(net.params.get(i));
      }
      return out;
    }
  }

  @Test
  void adamReplicasOnHalvesTakeTheWholeBatchSteps() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Tensor[] xy = batch();
      double[][] expected = adam(xy[0], xy[1], 0, 1, null);
      InProcessMean mean = new InProcessMean(2);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<double[][]> r0 = pool.submit(() -> adam(xy[0], xy[1], 0, 2, mean.rank(0)));
        Future<double[][]> r1 = pool.submit(() -> adam(xy[0], xy[1], 1, 2, mean.rank(1)));
        double[][] a = r0.get(120, TimeUnit.SECONDS);
        double[][] b = r1.get(120, TimeUnit.SECONDS);
        for (int i = 0; i < expected.length; i++) {
          assertArrayEquals(a[i], b[i], "replicas agree bit for bit on parameter " + i);
          T.assertClose("parameter " + i, a[i], expected[i], 1e-10, 1e-12);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** The control: without the mean, a replica on half the batch does not take those steps. */
  @Test
  void withoutTheMeanAReplicaDiverges() {
    try (PointerScope scope = new PointerScope()) {
      Tensor[] xy = batch();
      double[][] expected = wholeBatch(xy);
      double[][] alone = replica(xy, 0, 2, null);
      double worst = 0;
      for (int i = 0; i < expected.length; i++) {
        worst =
            Math.max(
                worst, T.closeness(alone[i], expected[i], 1, 1e-12)); // ~ max relative difference
      }
      assertTrue(worst > 1e-4, "a lone replica stayed within " + worst + " of the whole batch");
    }
  }

  /** A failing all-reduce fails the step, which changes nothing. */
  @Test
  void aFailingMeanChangesNothing() {
    try (PointerScope scope = new PointerScope()) {
      Tensor[] xy = batch();
      Net net = new Net();
      double[] before = T.values(net.conv);
      IllegalStateException broken = new IllegalStateException("process group down");
      try (AdaHessian opt =
          options()
              .replicaMean(
                  tensors -> {
                    throw broken;
                  })
              .build(net.params)) {
        IllegalStateException thrown =
            assertThrows(IllegalStateException.class, () -> opt.step(() -> net.loss(xy[0], xy[1])));
        assertSame(broken, thrown);
        assertArrayEquals(before, T.values(net.conv));
        assertEquals(0, opt.stepCount(0));
        assertEquals(0, opt.probeCounter());
      }
    }
  }
}
