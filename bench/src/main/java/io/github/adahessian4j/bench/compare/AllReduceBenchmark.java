package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.distributed.ProcessGroup;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One rank of bench/link-bench.sh: times {@link ProcessGroup#allReduceMean} of one float32 tensor
 * against its size, over the group that the environment names ({@code MASTER_ADDR}, {@code
 * MASTER_PORT}, {@code WORLD_SIZE}, {@code RANK}, {@code GLOO_SOCKET_IFNAME}). The group runs
 * without the collective check ({@code verifyCollectives(false)}) and with buckets as large as the
 * largest message, so that each timed call is exactly one Gloo all-reduce (and the division by the
 * world size): the quantity a ring model of latency and bandwidth describes. Sizes are powers of 4
 * bytes from MIN_BYTES to MAX_BYTES; before the timed calls of a size, warm-up calls of it move at
 * least WARMUP_BYTES (and are at least 2), so that a token bucket in the way (tc's tbf, whose burst
 * lets a rested link send faster than its rate) is empty when the timing starts. Every rank runs
 * the same calls (no rank decides alone how many, which would leave the others waiting). Rank 0
 * prints one JSON line per size: the link's label, the world size, the bytes, the median and
 * quartiles of the call times in seconds, and the backend collectives per call (1 when the model
 * holds). {@code BENCH_GLOO_POLICY=default} in the environment forms the group with {@code
 * glooBatchScheduling(false)} (for comparisons; see {@link DataParallelWorker}).
 *
 * <pre>AllReduceBenchmark LINK MIN_BYTES MAX_BYTES REPETITIONS WARMUP_BYTES</pre>
 */
public final class AllReduceBenchmark {
  private AllReduceBenchmark() {}

  public static void main(String[] args) {
    if (args.length != 5) {
      throw new IllegalArgumentException(
          "usage: AllReduceBenchmark LINK MIN_BYTES MAX_BYTES REPETITIONS WARMUP_BYTES (got "
              + Arrays.toString(args)
              + ")");
    }
    String link = args[0];
    long minBytes = Long.parseLong(args[1]);
    long maxBytes = Long.parseLong(args[2]);
    int repetitions = Integer.parseInt(args[3]);
    long warmupBytes = Long.parseLong(args[4]);
    if (minBytes < 4 || maxBytes < minBytes || repetitions < 1) {
      throw new IllegalArgumentException(
          "need 4 <= MIN_BYTES <= MAX_BYTES and REPETITIONS >= 1, got "
              + minBytes
              + ", "
              + maxBytes
              + ", "
              + repetitions);
    }
    torch.set_num_threads(1);
    try (ProcessGroup group =
            ProcessGroup.builder()
                .fromEnvironment()
                .verifyCollectives(false)
                .bucketBytes(Math.max(1024, maxBytes))
                .rendezvousTimeout(Duration.ofSeconds(60))
                .timeout(Duration.ofSeconds(120))
                .glooBatchScheduling(DataParallelWorker.glooBatchScheduling())
                .connect();
        PointerScope scope = new PointerScope()) {
      for (long bytes = minBytes; bytes <= maxBytes; bytes *= 4) {
        Tensor data = torch.ones(bytes / 4);
        List<Tensor> tensors = List.of(data);
        double[] seconds = new double[repetitions];
        long warmup = Math.max(2, (warmupBytes + bytes - 1) / bytes);
        for (long i = 0; i < warmup; i++) {
          group.allReduceMean(tensors);
        }
        long callsBefore = group.collectiveCalls();
        for (int i = 0; i < repetitions; i++) {
          long start = System.nanoTime();
          group.allReduceMean(tensors);
          seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        double calls = (double) (group.collectiveCalls() - callsBefore) / repetitions;
        Arrays.sort(seconds);
        if (group.rank() == 0) {
          System.out.printf(
              Locale.ROOT,
              "{\"link\": \"%s\", \"world\": %d, \"bytes\": %d, \"median_s\": %.9f, "
                  + "\"q1_s\": %.9f, \"q3_s\": %.9f, \"repetitions\": %d, \"calls_per_op\": %.2f}%n",
              link,
              group.worldSize(),
              bytes / 4 * 4,
              Stats.quantile(seconds, 0.5),
              Stats.quantile(seconds, 0.25),
              Stats.quantile(seconds, 0.75),
              repetitions,
              calls);
        }
      }
    }
  }
}
