package io.github.adahessian4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.adahessian4j.PointerScopeExtension;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BucketCache}: a list of the shapes of an earlier one reuses its staged buckets, any other
 * dtype, shape or device gets its own, and the views point where the plan says (1024-byte buckets:
 * 128 float64 or 256 float32 elements).
 */
@ExtendWith(PointerScopeExtension.class)
class BucketCacheTest {
  private final BucketCache cache = new BucketCache(1024);

  @AfterEach
  void free() {
    cache.close();
  }

  private static Tensor tensor(torch.ScalarType dtype, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return AbstractTensor.create(new double[(int) n], shape).to(dtype);
  }

  private List<BucketCache.Staged> buckets(List<Tensor> tensors) {
    return cache.buckets(TensorShapes.of(tensors), tensors);
  }

  private static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int d = 0; d < s.length; d++) {
      s[d] = t.size(d);
    }
    return s;
  }

  private static long address(Tensor t) {
    return t.data_ptr().address();
  }

  @Test
  void viewsLieInTheStagingBufferShapedLikeTheirTensors() {
    // float64: 20 + 108 | 128 | 64, the last two of tensor 1 alone; float32: 7
    List<BucketCache.Staged> staged =
        buckets(
            List.of(
                tensor(torch.ScalarType.Double, 5, 4),
                tensor(torch.ScalarType.Double, 300),
                tensor(torch.ScalarType.Float, 7)));
    assertEquals(4, staged.size(), "3 float64 buckets and 1 float32 bucket");
    BucketCache.Staged first = staged.get(0);
    assertEquals(128 * 8, first.bytes());
    assertArrayEquals(new long[] {5, 4}, shape(first.views()[0]), "a whole tensor");
    assertArrayEquals(new long[] {108}, shape(first.views()[1]), "part of one");
    assertEquals(address(first.data()), address(first.views()[0]));
    assertEquals(address(first.data()) + 20 * 8, address(first.views()[1]));
    assertEquals(128, first.data().numel());
    for (BucketCache.Staged alone : staged.subList(1, 4)) {
      assertNull(alone.data(), "a bucket of one piece is reduced in place");
    }
    assertEquals(torch.ScalarType.Float.value, staged.get(3).dtype().value);
    assertEquals(7 * 4, staged.get(3).bytes());
  }

  private static List<Tensor> doubles(long... lengths) {
    List<Tensor> list = new ArrayList<>();
    for (long n : lengths) {
      list.add(tensor(torch.ScalarType.Double, n));
    }
    return list;
  }

  @Test
  void newTensorsOfTheSameShapesReuseTheEntry() {
    List<BucketCache.Staged> first =
        buckets(List.of(tensor(torch.ScalarType.Double, 2, 3), tensor(torch.ScalarType.Double, 4)));
    List<BucketCache.Staged> again =
        buckets(List.of(tensor(torch.ScalarType.Double, 2, 3), tensor(torch.ScalarType.Double, 4)));
    assertSame(first, again);
  }

  @Test
  void anotherShapeDtypeOrCountIsStagedAnew() {
    List<List<Tensor>> lists =
        List.of(
            List.of(tensor(torch.ScalarType.Double, 2, 3), tensor(torch.ScalarType.Double, 4)),
            List.of(tensor(torch.ScalarType.Double, 3, 2), tensor(torch.ScalarType.Double, 4)),
            List.of(tensor(torch.ScalarType.Float, 2, 3), tensor(torch.ScalarType.Double, 4)),
            List.of(tensor(torch.ScalarType.Double, 2, 3)));
    List<List<BucketCache.Staged>> staged = lists.stream().map(this::buckets).toList();
    for (int i = 0; i < lists.size(); i++) {
      for (int j = 0; j < i; j++) {
        assertNotSame(staged.get(j), staged.get(i), "list " + i + " is not list " + j);
      }
    }
    for (int i = 0; i < lists.size(); i++) {
      assertSame(staged.get(i), buckets(lists.get(i)), "list " + i + " is kept");
    }
    assertArrayEquals(new long[] {2, 3}, shape(staged.get(0).get(0).views()[0]));
    assertArrayEquals(new long[] {3, 2}, shape(staged.get(1).get(0).views()[0]), "its own shape");
  }

  @Test
  void theListsUsedLastAreKept() {
    int eldest = BucketCache.ENTRIES + 1; // the largest first: the staging buffer never grows
    List<List<BucketCache.Staged>> staged = new ArrayList<>();
    for (int n = eldest; n >= 1; n--) {
      staged.add(buckets(doubles(n, 1)));
    }
    assertSame(staged.get(eldest - 2), buckets(doubles(2, 1)), "a recent list is kept");
    assertNotSame(staged.get(0), buckets(doubles(eldest, 1)), "the eldest was freed");
  }

  @Test
  void growingTheStagingBufferFreesTheListsThatViewIt() {
    List<BucketCache.Staged> small = buckets(doubles(2, 3));
    List<BucketCache.Staged> larger = buckets(doubles(20, 30));
    assertEquals(50, larger.get(0).data().numel());
    List<BucketCache.Staged> again = buckets(doubles(2, 3));
    assertNotSame(small, again, "freed when the buffer grew");
    assertEquals(
        address(larger.get(0).data()), address(again.get(0).data()), "in the larger buffer");
  }
}
