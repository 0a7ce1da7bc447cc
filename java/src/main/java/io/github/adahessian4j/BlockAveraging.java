package io.github.adahessian4j;

import java.util.Arrays;

/**
 * How AdaHessian averages the Hessian-diagonal estimate |D| over blocks of a parameter before
 * squaring it ("spatial averaging"). The rule depends on the parameter's rank; a block is always a
 * run of consecutive elements, so every rule reduces to a block size that divides the numel.
 *
 * <ul>
 *   <li>{@link #OFFICIAL} (the default): the authors' image-classification code ({@code
 *       image_classification/optim_adahessian.py}): no averaging for 0-2-D tensors, the kernel's
 *       spatial mean for 4-D Conv2d weights. That code has no rule for 3-D and 5-D tensors (it
 *       fails on them); here they get the spatial mean of Conv1d/Conv3d kernels (the last 1 or 3
 *       dims), as the authors' {@code instruction/adahessian.py} does for 3-D.
 *   <li>{@link #INSTRUCTION}: the defaults of the authors' configurable {@code
 *       instruction/adahessian.py} ({@code spatial_average_block_size = (-1, -1, -1, -1)}): 1-D
 *       none, 2-D the mean of each row, 3-D the last dim, 4-D the last two dims (5-D: the last
 *       three, by the same logic).
 *   <li>{@link #FAIRSEQ}: the authors' transformer optimizer ({@code
 *       transformer/fairseq/optim/adahessian.py} with the paper's {@code --block-length 32}): 0-D
 *       and 1-D (biases, LayerNorm) none; a 2-D weight in runs of 32 consecutive elements of its
 *       row-major data ({@code view(-1, 32)}): blocks of 32 along the last dimension when it is a
 *       multiple of 32, runs that continue into the next row when it is not, and refused (as that
 *       code fails) when 32 does not divide the numel. That code has no rule for 3-D to 5-D
 *       tensors; here they get {@link #OFFICIAL}'s.
 *   <li>{@link #NONE}: every element on its own (davda54/ada-hessian without {@code
 *       average_conv_kernel}, torch_optimizer).
 * </ul>
 *
 * {@link #withRank} replaces the rule of one rank, e.g. {@code OFFICIAL.withRank(2,
 * Rule.blocks(64))} is the authors' {@code bs_2D = 64}.
 */
public final class BlockAveraging {
  /** The rule for one rank. */
  public static final class Rule {
    private final int trailingDims;
    private final long blockSize;

    private Rule(int trailingDims, long blockSize) {
      this.trailingDims = trailingDims;
      this.blockSize = blockSize;
    }

    /**
     * No averaging: block size 1.
     *
     * @return the rule
     */
    public static Rule none() {
      return new Rule(0, 1);
    }

    /**
     * The mean over the last {@code dims} dimensions (e.g. 2 for a Conv2d kernel's spatial dims).
     *
     * @param dims how many trailing dimensions
     * @return the rule
     */
    public static Rule trailingDims(int dims) {
      if (dims < 0) {
        throw new IllegalArgumentException("Invalid trailing dimension count: " + dims);
      }
      return new Rule(dims, 0);
    }

    /**
     * The mean over consecutive blocks of {@code size} elements; size must divide the numel.
     *
     * @param size the block size
     * @return the rule
     */
    public static Rule blocks(long size) {
      Checks.positive("block size", size);
      return new Rule(0, size);
    }

    long blockSize(long[] shape) {
      if (blockSize > 0) {
        return blockSize;
      }
      long size = 1;
      for (int d = Math.max(0, shape.length - trailingDims); d < shape.length; d++) {
        size *= shape[d];
      }
      return Math.max(1, size);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Rule r && r.trailingDims == trailingDims && r.blockSize == blockSize;
    }

    @Override
    public int hashCode() {
      return 31 * trailingDims + Long.hashCode(blockSize);
    }

    @Override
    public String toString() {
      return blockSize > 0
          ? (blockSize == 1 ? "none" : "blocks(" + blockSize + ")")
          : "trailingDims(" + trailingDims + ")";
    }
  }

  private static final int MAX_RANK = 5;

  /**
   * The authors' {@code image_classification} rule: 4-D kernels over their spatial dims (3-D, 5-D
   * likewise).
   */
  public static final BlockAveraging OFFICIAL =
      new BlockAveraging(
          new Rule[] {
            Rule.none(),
            Rule.none(),
            Rule.none(),
            Rule.trailingDims(1),
            Rule.trailingDims(2),
            Rule.trailingDims(3)
          });

  /** The authors' {@code instruction/adahessian.py} default blocks: 2-D per row as well. */
  public static final BlockAveraging INSTRUCTION =
      new BlockAveraging(
          new Rule[] {
            Rule.none(),
            Rule.none(),
            Rule.trailingDims(1),
            Rule.trailingDims(1),
            Rule.trailingDims(2),
            Rule.trailingDims(3)
          });

  /**
   * The authors' fairseq (transformer) rule: 2-D weights in runs of 32 elements, 1-D none; 3-D to
   * 5-D as {@link #OFFICIAL}.
   */
  public static final BlockAveraging FAIRSEQ = OFFICIAL.withRank(2, Rule.blocks(32));

  /** No averaging (davda54/ada-hessian). */
  public static final BlockAveraging NONE =
      new BlockAveraging(
          new Rule[] {
            Rule.none(), Rule.none(), Rule.none(), Rule.none(), Rule.none(), Rule.none()
          });

  private final Rule[] byRank;

  private BlockAveraging(Rule[] byRank) {
    this.byRank = byRank;
  }

  /**
   * A copy with {@code rule} for tensors of rank {@code rank} (ranks above 5 use rank 5's rule).
   *
   * @param rank the rank, 0 to 5
   * @param rule its rule
   * @return the copy
   */
  public BlockAveraging withRank(int rank, Rule rule) {
    if (rank < 0 || rank > MAX_RANK) {
      throw new IllegalArgumentException(
          "Invalid rank: " + rank + " (expected 0 to " + MAX_RANK + ")");
    }
    Rule[] copy = byRank.clone();
    copy[rank] = rule;
    return new BlockAveraging(copy);
  }

  /**
   * The rule applied to tensors of {@code rank}.
   *
   * @param rank the rank
   * @return its rule
   */
  public Rule rule(int rank) {
    return byRank[Math.min(rank, MAX_RANK)];
  }

  /** The block size for a parameter of this shape. */
  long blockSize(long[] shape) {
    return rule(shape.length).blockSize(shape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockAveraging b && Arrays.equals(b.byRank, byRank);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(byRank);
  }

  @Override
  public String toString() {
    return "BlockAveraging" + Arrays.toString(byRank);
  }
}
