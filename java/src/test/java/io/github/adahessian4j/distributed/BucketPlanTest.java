package io.github.adahessian4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.PointerScopeExtension;
import java.util.List;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BucketPlan#plan}: which elements of which tensor go where in which bucket, checked against
 * layouts worked out by hand (1024-byte buckets: 128 float64 or 256 float32 elements).
 */
@ExtendWith(PointerScopeExtension.class)
class BucketPlanTest {
  private static final long BUCKET_BYTES = 1024;

  private static Tensor tensor(torch.ScalarType dtype, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return AbstractTensor.create(new double[(int) n], shape).to(dtype);
  }

  private static List<BucketPlan.Bucket> plan(Tensor... tensors) {
    return BucketPlan.plan(TensorShapes.of(List.of(tensors)), BUCKET_BYTES);
  }

  /** One expected piece: its tensor's index in the list, offset, length, at, all of the tensor. */
  private static void assertPiece(
      BucketPlan.Piece p, int tensor, long offset, long length, long at, boolean whole) {
    assertEquals(tensor, p.tensor(), "the piece's tensor");
    assertEquals(offset, p.offset(), "offset");
    assertEquals(length, p.length(), "length");
    assertEquals(at, p.at(), "position in the bucket");
    assertEquals(whole, p.whole(), "all of its tensor");
  }

  @Test
  void aTensorThatExactlyFillsABucketIsOneBucketOfOnePiece() {
    List<BucketPlan.Bucket> plan = plan(tensor(torch.ScalarType.Double, 8, 16));
    assertEquals(1, plan.size());
    BucketPlan.Bucket b = plan.get(0);
    assertEquals("Double@cpu", b.key());
    assertEquals(128, b.elements());
    assertEquals(1, b.pieces().size());
    assertPiece(b.pieces().get(0), 0, 0, 128, 0, true);
  }

  @Test
  void tensorsSpanBuckets() {
    List<BucketPlan.Bucket> plan =
        plan(
            tensor(torch.ScalarType.Double, 100),
            tensor(torch.ScalarType.Double, 300),
            tensor(torch.ScalarType.Double, 7));
    // 407 elements: 100 + 28 | 128 | 128 | 16 + 7
    assertEquals(4, plan.size());
    assertEquals(List.of(128L, 128L, 128L, 23L), plan.stream().map(b -> b.elements()).toList());
    List<BucketPlan.Piece> first = plan.get(0).pieces();
    assertEquals(2, first.size());
    assertPiece(first.get(0), 0, 0, 100, 0, true);
    assertPiece(first.get(1), 1, 0, 28, 100, false);
    assertEquals(1, plan.get(1).pieces().size());
    assertPiece(plan.get(1).pieces().get(0), 1, 28, 128, 0, false);
    assertPiece(plan.get(2).pieces().get(0), 1, 156, 128, 0, false);
    List<BucketPlan.Piece> last = plan.get(3).pieces();
    assertEquals(2, last.size());
    assertPiece(last.get(0), 1, 284, 16, 0, false);
    assertPiece(last.get(1), 2, 0, 7, 16, true);
  }

  @Test
  void eachDtypeAndDeviceHasItsOwnBucketsInTheOrderFirstSeen() {
    List<BucketPlan.Bucket> plan =
        plan(
            tensor(torch.ScalarType.Float, 200),
            tensor(torch.ScalarType.Double, 10),
            tensor(torch.ScalarType.Float, 100),
            tensor(torch.ScalarType.Double, 5));
    // float32: 256 per bucket, 300 elements: 200 + 56 | 44; float64: 10 + 5
    assertEquals(
        List.of("Float@cpu", "Float@cpu", "Double@cpu"), plan.stream().map(b -> b.key()).toList());
    assertEquals(List.of(256L, 44L, 15L), plan.stream().map(b -> b.elements()).toList());
    assertPiece(plan.get(0).pieces().get(1), 2, 0, 56, 200, false);
    assertPiece(plan.get(1).pieces().get(0), 2, 56, 44, 0, false);
    assertPiece(plan.get(2).pieces().get(0), 1, 0, 10, 0, true);
    assertPiece(plan.get(2).pieces().get(1), 3, 0, 5, 10, true);
    assertEquals(
        List.of(2, 0, 1),
        plan.stream().map(b -> b.like()).toList(),
        "each bucket's template is a tensor of its dtype");
  }

  @Test
  void emptyTensorsTakeNoPlace() {
    List<BucketPlan.Bucket> plan =
        plan(
            tensor(torch.ScalarType.Double, 0),
            tensor(torch.ScalarType.Double, 3),
            tensor(torch.ScalarType.Float, 2, 0));
    assertEquals(1, plan.size());
    assertEquals(1, plan.get(0).pieces().size());
    assertPiece(plan.get(0).pieces().get(0), 1, 0, 3, 0, true);
    assertTrue(
        plan(tensor(torch.ScalarType.Double, 0)).isEmpty(), "only empty tensors: nothing to send");
    assertTrue(plan().isEmpty(), "no tensors");
  }
}
