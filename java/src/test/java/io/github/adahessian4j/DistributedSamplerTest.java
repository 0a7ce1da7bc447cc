package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.adahessian4j.distributed.DistributedSampler;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link DistributedSampler} against {@code torch.utils.data.distributed.DistributedSampler}: the
 * expected indices were printed by Debian's torch 1.13.1, for example {@code
 * list(DistributedSampler(range(11), num_replicas=3, rank=1, seed=5).set_epoch(2))}.
 */
class DistributedSamplerTest {
  private static long[][] shards(
      long size, int replicas, boolean shuffle, long seed, boolean dropLast, long epoch) {
    long[][] out = new long[replicas][];
    for (int r = 0; r < replicas; r++) {
      DistributedSampler s = new DistributedSampler(size, replicas, r, shuffle, seed, dropLast);
      s.setEpoch(epoch);
      out[r] = s.indices();
    }
    return out;
  }

  @Test
  void drawsTorchsPermutations() {
    // torch.randperm(10, generator=torch.Generator().manual_seed(42))
    assertArrayEquals(
        new long[] {2, 6, 1, 8, 4, 5, 0, 9, 3, 7}, shards(10, 1, true, 42, false, 0)[0]);
    // torch.randperm(3000, generator=torch.Generator().manual_seed(7))[:8]
    assertArrayEquals(
        new long[] {615, 2472, 363, 1634, 243, 1432, 2261, 648},
        Arrays.copyOf(shards(3000, 1, true, 7, false, 0)[0], 8));
  }

  @Test
  void shardsAsTorchDoes() {
    assertArrayEquals(new long[] {0, 5, 10, 6}, shards(11, 3, true, 5, false, 2)[1]);
    assertArrayEquals(new long[] {9, 8, 1}, shards(11, 3, true, 5, true, 2)[2]);
    assertArrayEquals(
        new long[][] {{0, 7, 1}, {4, 3, 5}, {9, 2, 0}, {6, 8, 4}},
        shards(10, 4, true, 3, false, 1));
    assertArrayEquals(
        new long[][] {{0, 7}, {4, 3}, {9, 2}, {6, 8}}, shards(10, 4, true, 3, true, 1));
    // padding longer than the data set repeats it
    assertArrayEquals(new long[][] {{0}, {1}, {0}, {1}, {0}}, shards(2, 5, true, 0, false, 0));
    assertArrayEquals(new long[] {0}, shards(2, 5, false, 0, false, 0)[4]);
  }

  @Test
  void shardsAreDisjointEqualAndCoverEveryIndex() {
    long[][] s = shards(240, 3, true, 17, false, 3);
    Set<Long> seen = new HashSet<>();
    for (long[] shard : s) {
      assertEquals(80, shard.length);
      for (long i : shard) {
        assertFalse(!seen.add(i), "index " + i + " is in two shards");
      }
    }
    assertEquals(240, seen.size());
    DistributedSampler one = new DistributedSampler(240, 3, 0, true, 17, false);
    assertEquals(80, one.numSamples());
    assertEquals(240, one.totalSize());
  }

  @Test
  void eachEpochIsANewPermutationTheSameOnEveryRank() {
    long[] epoch0 = shards(100, 1, true, 9, false, 0)[0];
    long[] epoch1 = shards(100, 1, true, 9, false, 1)[0];
    assertFalse(Arrays.equals(epoch0, epoch1));
    assertArrayEquals(
        epoch1,
        shards(100, 1, true, 9, false, 1)[0],
        "the same seed and epoch give the same permutation");
    long[] inOrder = shards(5, 1, false, 9, false, 4)[0];
    assertArrayEquals(new long[] {0, 1, 2, 3, 4}, inOrder);
  }

  @Test
  void refusesAnInvalidRank() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new DistributedSampler(10, 2, 2, true, 0, false));
    assertEquals("Invalid rank 2, rank should be in the interval [0, 1]", e.getMessage());
  }
}
