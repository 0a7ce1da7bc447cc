package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.OptimizerBuilder;
import io.github.adahessian4j.distributed.ProcessGroup;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One rank of {@link DataParallelBenchmark} (started by the Launcher, which sets WORLD_SIZE, RANK
 * and OMP_NUM_THREADS): the demo's CNN trains on random 28x28 images, this rank's share of a global
 * batch, with Adam or AdaHessian averaged over a {@link ProcessGroup} when there is more than one
 * rank. Rank 0 prints one line: {@code DPRESULT key=value ...} with the median iteration time, the
 * images per second of the whole group, and the bytes all-reduced per step.
 *
 * <pre>DataParallelWorker OPTIMIZER UPDATE_EACH GLOBAL_BATCH WARMUP ITERATIONS</pre>
 */
public final class DataParallelWorker {
  private DataParallelWorker() {}

  public static void main(String[] args) throws Exception {
    String optimizer = args[0];
    int updateEach = Integer.parseInt(args[1]);
    int globalBatch = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int iterations = Integer.parseInt(args[4]);
    int world = Integer.parseInt(System.getenv().getOrDefault("WORLD_SIZE", "1"));
    int rank = Integer.parseInt(System.getenv().getOrDefault("RANK", "0"));
    String omp = System.getenv("OMP_NUM_THREADS");
    if (omp != null) {
      torch.set_num_threads(Integer.parseInt(omp));
    }
    ProcessGroup group = world > 1 ? ProcessGroup.fromEnvironment() : null;
    try (PointerScope outer = new PointerScope()) {
      torch.manual_seed(0);
      Model.Net net = Model.CNN.create();
      if (group != null) {
        group.broadcastParameters(net);
      }
      int local = globalBatch / world;
      torch.manual_seed(1 + rank);
      Tensor x = torch.randn(local, 1, 28, 28);
      Tensor y = torch.randint(10, new long[] {local});
      List<Tensor> params = Arrays.asList(net.parameters().get());
      OptimizerBuilder<?, ?, ?> b =
          optimizer.equals("adam")
              ? Adam.builder().lr(1e-3)
              : AdaHessian.builder().updateEach(updateEach);
      if (group != null) {
        b.replicaMean(group.replicaMean());
      }
      try (Optimizer opt = b.build(params)) {
        double[] times = new double[iterations];
        long bytesBefore = 0;
        long callsBefore = 0;
        for (int i = 0; i < warmup + iterations; i++) {
          if (i == warmup && group != null) {
            group.barrier();
            bytesBefore = group.bytesAllReduced();
            callsBefore = group.collectiveCalls();
          }
          long start = System.nanoTime();
          try (PointerScope scope = new PointerScope()) {
            opt.step(() -> torch.cross_entropy_loss(net.forward(x), y));
          }
          if (i >= warmup) {
            times[i - warmup] = (System.nanoTime() - start) / 1e6;
          }
        }
        Arrays.sort(times);
        double median = times[iterations / 2];
        if (rank == 0) {
          double bytes =
              group == null ? 0 : (double) (group.bytesAllReduced() - bytesBefore) / iterations;
          double calls =
              group == null ? 0 : (double) (group.collectiveCalls() - callsBefore) / iterations;
          System.out.printf(
              Locale.ROOT,
              "DPRESULT optimizer=%s updateEach=%d world=%d threads=%d batch=%d "
                  + "median_ms=%.3f q1_ms=%.3f q3_ms=%.3f images_per_s=%.1f bytes_per_step=%.0f calls_per_step=%.2f%n",
              optimizer,
              updateEach,
              world,
              torch.get_num_threads(),
              globalBatch,
              median,
              times[iterations / 4],
              times[3 * iterations / 4],
              globalBatch / median * 1000,
              bytes,
              calls);
        }
      }
    } finally {
      if (group != null) {
        group.close();
      }
    }
  }
}
