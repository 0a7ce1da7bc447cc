package io.github.adahessian4j.distributed;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Each rank's shard of a data set's indices, epoch by epoch, with the semantics of {@code
 * torch.utils.data.distributed.DistributedSampler}: every rank draws the same permutation of {@code
 * 0 .. size - 1} (libtorch's {@code randperm} with a CPU generator seeded with {@code seed +
 * epoch}: the very permutation Python's sampler draws, checked against torch 1.13), which is then
 * padded by repeating its first indices up to a multiple of the number of replicas (or, with {@code
 * dropLast}, cut down to one), and rank {@code r} takes every {@code numReplicas}-th index from
 * position {@code r}. The shards are disjoint (up to the padding) and of equal length, so every
 * rank runs the same number of steps.
 *
 * <pre>{@code
 * DistributedSampler sampler = new DistributedSampler(images.size(0), group, 42, false);
 * for (int epoch = 0; epoch < epochs; epoch++) {
 *   sampler.setEpoch(epoch);                    // a new permutation each epoch, the same on every rank
 *   long[] mine = sampler.indices();            // numSamples() indices of this rank
 *   ...
 * }
 * }</pre>
 *
 * <p>With a global batch of {@code B} samples and {@code W} ranks, rank {@code r}'s {@code k}-th
 * batch of {@code B / W} consecutive indices of its shard, taken over all ranks, is exactly
 * positions {@code k B} to {@code (k + 1) B - 1} of the permutation: the batch one process would
 * take from the same permutation.
 */
public final class DistributedSampler {
  private final long size;
  private final int numReplicas;
  private final int rank;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private final int numSamples;
  private long epoch;

  /**
   * A shuffling sampler for this rank of {@code group}.
   *
   * @param size the data set's size
   * @param group the process group (its rank and world size)
   * @param seed the seed, the same on every rank
   * @param dropLast drop the tail that does not fill every rank (instead of padding)
   */
  public DistributedSampler(long size, ProcessGroup group, long seed, boolean dropLast) {
    this(size, group.worldSize(), group.rank(), true, seed, dropLast);
  }

  /**
   * A sampler with every option of torch's.
   *
   * @param size the data set's size
   * @param numReplicas the number of ranks
   * @param rank this rank, 0 to {@code numReplicas - 1}
   * @param shuffle draw a permutation per epoch (false: the indices in order)
   * @param seed the seed of the permutations, the same on every rank
   * @param dropLast drop the tail that does not fill every rank (instead of padding)
   */
  public DistributedSampler(
      long size, int numReplicas, int rank, boolean shuffle, long seed, boolean dropLast) {
    if (size < 0) {
      throw new IllegalArgumentException("Invalid data set size: " + size);
    }
    if (numReplicas < 1) {
      throw new IllegalArgumentException(
          "Invalid number of replicas: " + numReplicas + " (must be at least 1)");
    }
    if (rank < 0 || rank >= numReplicas) {
      throw new IllegalArgumentException(
          "Invalid rank "
              + rank
              + ", rank should be in the interval [0, "
              + (numReplicas - 1)
              + "]");
    }
    this.size = size;
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    // torch: ceil((n - R) / R) with drop_last when R does not divide n (= floor(n / R)), else
    // ceil(n / R)
    long samples =
        dropLast && size % numReplicas != 0
            ? size / numReplicas
            : (size + numReplicas - 1) / numReplicas;
    if (samples > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "data set too large for one shard: " + samples + " samples per rank");
    }
    this.numSamples = (int) samples;
  }

  /**
   * Sets the epoch: the permutation is the one seeded with {@code seed + epoch}. Call it at the
   * start of every epoch, with the same value on every rank.
   *
   * @param epoch the epoch
   */
  public void setEpoch(long epoch) {
    this.epoch = epoch;
  }

  /**
   * The current epoch.
   *
   * @return the epoch
   */
  public long epoch() {
    return epoch;
  }

  /**
   * The number of indices each rank gets per epoch.
   *
   * @return the shard length
   */
  public int numSamples() {
    return numSamples;
  }

  /**
   * The number of indices over all ranks per epoch ({@code numSamples() * numReplicas}).
   *
   * @return the total
   */
  public long totalSize() {
    return (long) numSamples * numReplicas;
  }

  /**
   * This rank's indices of the current epoch, in the order to visit them.
   *
   * @return {@link #numSamples()} indices into the data set
   */
  public long[] indices() {
    long[] order = permutation();
    long[] mine = new long[numSamples];
    for (int k = 0; k < numSamples; k++) {
      long position = rank + (long) k * numReplicas; // < total; past size it is padding
      mine[k] = order[(int) (position % order.length)];
    }
    return mine;
  }

  /** The epoch's permutation (or the identity). */
  private long[] permutation() {
    long[] order = new long[(int) size];
    if (!shuffle) {
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      return order;
    }
    Loader.load(torch.class);
    try (PointerScope scope = new PointerScope()) {
      Generator g = torch.make_generator_cpu();
      g.set_current_seed(seed + epoch);
      Tensor p =
          torch
              .randperm(
                  size,
                  new GeneratorOptional(g),
                  new TensorOptions(new ScalarTypeOptional(torch.ScalarType.Long)))
              .contiguous();
      new LongPointer(p.data_ptr()).capacity(size).get(order);
    }
    return order;
  }
}
