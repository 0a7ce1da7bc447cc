package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.OptimizerBuilder;
import io.github.adahessian4j.ReplicaMean;
import io.github.adahessian4j.distributed.CollectiveTimes;
import io.github.adahessian4j.distributed.ProcessGroup;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * <pre>
 * DataParallelWorker OPTIMIZER UPDATE_EACH GLOBAL_BATCH WARMUP ITERATIONS [--phases] [--no-mean] [--no-check]
 * </pre>
 *
 * <p>{@code --phases}: every rank also prints a {@code DPPHASES} line ({@link StepPhases}): where
 * its timed steps spent their time, the tensors, bytes and collectives of its replica means, and
 * the threads of the process that took CPU during them ({@link ThreadCpu}). {@code --no-mean}: the
 * ranks form the group (a barrier before and after the timed steps) but do not average: each trains
 * alone, beside the others, which measures what running side by side costs. {@code --no-check}: the
 * group's collectives skip their check ({@code verifyCollectives(false)}). {@code
 * BENCH_GLOO_POLICY=default} in the environment: Gloo's threads keep the default scheduling policy
 * ({@code glooBatchScheduling(false)}), for comparisons with the library's default.
 */
public final class DataParallelWorker {
  private DataParallelWorker() {}

  /**
   * The {@code glooBatchScheduling} setting of the benchmarks' groups: the library's default (true)
   * unless the environment has {@code BENCH_GLOO_POLICY=default}.
   */
  static boolean glooBatchScheduling() {
    String policy = System.getenv().getOrDefault("BENCH_GLOO_POLICY", "batch");
    if (!List.of("batch", "default").contains(policy)) {
      throw new IllegalArgumentException(
          "BENCH_GLOO_POLICY must be batch or default, got " + policy);
    }
    return policy.equals("batch");
  }

  public static void main(String[] args) throws Exception {
    String optimizer = args[0];
    int updateEach = Integer.parseInt(args[1]);
    int globalBatch = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int iterations = Integer.parseInt(args[4]);
    List<String> flags = Arrays.asList(args).subList(5, args.length);
    for (String f : flags) {
      if (!List.of("--phases", "--no-mean", "--no-check").contains(f)) {
        throw new IllegalArgumentException(
            "unknown option " + f + " (--phases, --no-mean, --no-check)");
      }
    }
    boolean phases = flags.contains("--phases");
    boolean mean = !flags.contains("--no-mean");
    int world = Integer.parseInt(System.getenv().getOrDefault("WORLD_SIZE", "1"));
    int rank = Integer.parseInt(System.getenv().getOrDefault("RANK", "0"));
    String omp = System.getenv("OMP_NUM_THREADS");
    if (omp != null) {
      torch.set_num_threads(Integer.parseInt(omp));
    }
    ProcessGroup group =
        world > 1
            ? ProcessGroup.builder()
                .fromEnvironment()
                .verifyCollectives(!flags.contains("--no-check"))
                .glooBatchScheduling(glooBatchScheduling())
                .connect()
            : null;
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
      long[] tensorsAveraged = new long[1];
      if (group != null && mean) {
        ReplicaMean groupMean = group.replicaMean();
        b.replicaMean(
            tensors -> {
              tensorsAveraged[0] += tensors.size();
              groupMean.averageInPlace(tensors);
            });
      }
      try (Optimizer opt = b.build(params)) {
        double[] times = new double[iterations];
        long bytesBefore = 0;
        long callsBefore = 0;
        long meansBefore = 0;
        long tensorsBefore = 0;
        StepPhases steps = new StepPhases();
        Map<String, Long> threadsBefore = Map.of();
        long timedStart = 0;
        for (int i = 0; i < warmup + iterations; i++) {
          if (i == warmup) {
            if (group != null) {
              group.barrier();
              bytesBefore = group.bytesAllReduced();
              callsBefore = group.collectiveCalls();
              meansBefore = group.collectiveTimes().calls();
              tensorsBefore = tensorsAveraged[0];
            }
            threadsBefore = ThreadCpu.snapshot();
            timedStart = System.nanoTime();
          }
          CollectiveTimes before = phases && group != null ? group.collectiveTimes() : null;
          long start = System.nanoTime();
          try (PointerScope scope = new PointerScope()) {
            opt.step(() -> torch.cross_entropy_loss(net.forward(x), y));
          }
          long end = System.nanoTime();
          if (i >= warmup) {
            times[i - warmup] = (end - start) / 1e6;
            if (phases) {
              steps.add(
                  end - start,
                  opt.lastStepTimes(),
                  before,
                  before != null ? group.collectiveTimes() : null);
            }
          }
        }
        double timedMs = (System.nanoTime() - timedStart) / 1e6;
        Map<String, Long> threadsAfter = ThreadCpu.snapshot();
        double perStep = 1.0 / iterations;
        double bytes = group == null ? 0 : (group.bytesAllReduced() - bytesBefore) * perStep;
        double calls = group == null ? 0 : (group.collectiveCalls() - callsBefore) * perStep;
        if (phases) {
          System.out.println(
              steps.line(
                  String.format(
                      Locale.ROOT,
                      "optimizer=%s updateEach=%d world=%d rank=%d mean=%b check=%b batch=%d",
                      optimizer,
                      updateEach,
                      world,
                      rank,
                      group != null && mean,
                      !flags.contains("--no-check"),
                      globalBatch / world),
                  String.format(
                      Locale.ROOT,
                      "means_per_step=%.2f tensors_per_step=%.1f backend_calls_per_step=%.2f "
                          + "bytes_per_step=%.0f threads_total=%d threads_busy=%s",
                      group == null ? 0 : (group.collectiveTimes().calls() - meansBefore) * perStep,
                      (tensorsAveraged[0] - tensorsBefore) * perStep,
                      calls,
                      bytes,
                      threadsAfter.size(),
                      ThreadCpu.busy(threadsBefore, threadsAfter, timedMs))));
        }
        if (group != null) {
          group.barrier(); // with --no-mean, no rank finishes while the others still train
        }
        Arrays.sort(times);
        double median = times[iterations / 2];
        if (rank == 0) {
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
