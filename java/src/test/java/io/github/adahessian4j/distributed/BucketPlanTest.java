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

  /** One expected piece: the tensor's element count (they differ per test), offset, length, at. */
  private static void assertPiece(
      BucketPlan.Piece p, long tensorNumel, long offset, long length, long at) {
    assertEquals(tensorNumel, p.flat().numel(), "the piece's tensor");
    assertEquals(1, p.flat().dim(), "pieces hold flat views");
    assertEquals(offset, p.offset(), "offset");
    assertEquals(length, p.length(), "length");
    assertEquals(at, p.at(), "position in the bucket");
  }

  @Test
  void aTensorThatExactlyFillsABucketIsOneBucketOfOnePiece() {
    List<BucketPlan.Bucket> plan =
        BucketPlan.plan(List.of(tensor(torch.ScalarType.Double, 8, 16)), BUCKET_BYTES);
    assertEquals(1, plan.size());
    BucketPlan.Bucket b = plan.get(0);
    assertEquals("Double@cpu", b.key());
    assertEquals(128, b.elements());
    assertEquals(1, b.pieces().size());
    assertPiece(b.pieces().get(0), 128, 0, 128, 0);
  }

  @Test
  void aPiecesPartIsItsElements() {
    Tensor whole = AbstractTensor.create(new double[] {0, 1, 2, 3, 4, 5}, 2, 3);
    double[] values = new double[300];
    for (int i = 0; i < values.length; i++) {
      values[i] = i;
    }
    Tensor spanning = AbstractTensor.create(values, 300);
    List<BucketPlan.Bucket> plan = BucketPlan.plan(List.of(whole, spanning), BUCKET_BYTES);
    // 306 float64 elements: 6 + 122 | 128 | 50
    BucketPlan.Piece first = plan.get(0).pieces().get(0);
    assertTrue(first.part().equal(whole.view(-1)), "a whole tensor's piece is all of it");
    assertEquals(whole.data_ptr().address(), first.part().data_ptr().address(), "not copied");
    BucketPlan.Piece middle = plan.get(1).pieces().get(0);
    assertEquals(128, middle.part().numel());
    assertEquals(122, middle.part().get(0).item_double(), "from element 122 of the second tensor");
    assertEquals(249, middle.part().get(127).item_double(), "to element 249");
  }

  @Test
  void tensorsSpanBuckets() {
    List<BucketPlan.Bucket> plan =
        BucketPlan.plan(
            List.of(
                tensor(torch.ScalarType.Double, 100),
                tensor(torch.ScalarType.Double, 300),
                tensor(torch.ScalarType.Double, 7)),
            BUCKET_BYTES);
    // 407 elements: 100 + 28 | 128 | 128 | 16 + 7
    assertEquals(4, plan.size());
    assertEquals(List.of(128L, 128L, 128L, 23L), plan.stream().map(b -> b.elements()).toList());
    List<BucketPlan.Piece> first = plan.get(0).pieces();
    assertEquals(2, first.size());
    assertPiece(first.get(0), 100, 0, 100, 0);
    assertPiece(first.get(1), 300, 0, 28, 100);
    assertEquals(1, plan.get(1).pieces().size());
    assertPiece(plan.get(1).pieces().get(0), 300, 28, 128, 0);
    assertPiece(plan.get(2).pieces().get(0), 300, 156, 128, 0);
    List<BucketPlan.Piece> last = plan.get(3).pieces();
    assertEquals(2, last.size());
    assertPiece(last.get(0), 300, 284, 16, 0);
    assertPiece(last.get(1), 7, 0, 7, 16);
  }

  @Test
  void eachDtypeAndDeviceHasItsOwnBucketsInTheOrderFirstSeen() {
    List<BucketPlan.Bucket> plan =
        BucketPlan.plan(
            List.of(
                tensor(torch.ScalarType.Float, 200),
                tensor(torch.ScalarType.Double, 10),
                tensor(torch.ScalarType.Float, 100),
                tensor(torch.ScalarType.Double, 5)),
            BUCKET_BYTES);
    // float32: 256 per bucket, 300 elements: 200 + 56 | 44; float64: 10 + 5
    assertEquals(
        List.of("Float@cpu", "Float@cpu", "Double@cpu"), plan.stream().map(b -> b.key()).toList());
    assertEquals(List.of(256L, 44L, 15L), plan.stream().map(b -> b.elements()).toList());
    assertPiece(plan.get(0).pieces().get(1), 100, 0, 56, 200);
    assertPiece(plan.get(1).pieces().get(0), 100, 56, 44, 0);
    assertPiece(plan.get(2).pieces().get(0), 10, 0, 10, 0);
    assertPiece(plan.get(2).pieces().get(1), 5, 0, 5, 10);
    for (BucketPlan.Bucket b : plan) {
      assertEquals(
          (b.key().startsWith("Float") ? torch.ScalarType.Float : torch.ScalarType.Double).value,
          b.like().scalar_type().value,
          "a bucket's template has its dtype");
    }
  }

  @Test
  void emptyTensorsTakeNoPlace() {
    List<BucketPlan.Bucket> plan =
        BucketPlan.plan(
            List.of(
                tensor(torch.ScalarType.Double, 0),
                tensor(torch.ScalarType.Double, 3),
                tensor(torch.ScalarType.Float, 2, 0)),
            BUCKET_BYTES);
    assertEquals(1, plan.size());
    assertEquals(1, plan.get(0).pieces().size());
    assertPiece(plan.get(0).pieces().get(0), 3, 0, 3, 0);
    assertTrue(
        BucketPlan.plan(List.of(tensor(torch.ScalarType.Double, 0)), BUCKET_BYTES).isEmpty(),
        "only empty tensors: nothing to send");
    assertTrue(BucketPlan.plan(List.of(), BUCKET_BYTES).isEmpty(), "no tensors");
  }
}
