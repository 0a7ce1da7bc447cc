package io.github.adahessian4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.PointerScopeExtension;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link CollectiveHeader}: the fields it encodes, what {@code validate} refuses, and the message
 * every rank throws when the ranks' headers disagree (rows built here as each rank would encode
 * them, no backend involved).
 */
@ExtendWith(PointerScopeExtension.class)
class CollectiveHeaderTest {
  private static final long BUCKET_BYTES = 4096;
  private static final Duration TIMEOUT = Duration.ofSeconds(7);

  /** The checksum of {@link #mixed()}, as every version of the header has computed it. */
  private static final long CHECKSUM = 0x63e5f32684cf2da1L;

  private static Tensor tensor(torch.ScalarType dtype, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return AbstractTensor.create(new double[(int) n], shape).to(dtype);
  }

  /** float64 2x3, float32 4, float16 5, bfloat16 1, int64 3. */
  private static List<Tensor> mixed() {
    return List.of(
        tensor(torch.ScalarType.Double, 2, 3),
        tensor(torch.ScalarType.Float, 4),
        tensor(torch.ScalarType.Half, 5),
        tensor(torch.ScalarType.BFloat16, 1),
        tensor(torch.ScalarType.Long, 3));
  }

  private static CollectiveHeader on(int rank, int world) {
    return new CollectiveHeader(rank, world, BUCKET_BYTES, TIMEOUT);
  }

  @Test
  void encodesOperationSequenceCountsPerDtypeAndChecksum() {
    long[] h = encode(on(1, 3), CollectiveOp.BROADCAST, 42, mixed(), 2);
    assertEquals(CollectiveHeader.H, h.length);
    assertEquals(CollectiveOp.BROADCAST.code, h[CollectiveHeader.OP]);
    assertEquals(42, h[CollectiveHeader.SEQ]);
    assertEquals(5, h[CollectiveHeader.COUNT]);
    assertEquals(6 + 4 + 5 + 1 + 3, h[CollectiveHeader.NUMEL]);
    assertEquals(2, h[CollectiveHeader.ROOT]);
    assertEquals(BUCKET_BYTES, h[CollectiveHeader.BUCKET]);
    assertEquals(0, h[CollectiveHeader.INVALID]);
    assertEquals(6, h[CollectiveHeader.F64]);
    assertEquals(4, h[CollectiveHeader.F32]);
    assertEquals(6, h[CollectiveHeader.HALF], "float16 and bfloat16 together");
    assertEquals(3, h[CollectiveHeader.OTHER]);
    // Messages print this checksum: it must stay the same across versions of the library.
    assertEquals(CHECKSUM, h[CollectiveHeader.SIGNATURE]);
  }

  @Test
  void checksumTellsShapesDtypesAndOrderApart() {
    CollectiveHeader header = on(0, 2);
    long base = signature(header, tensor(torch.ScalarType.Double, 2, 3));
    assertNotEquals(base, signature(header, tensor(torch.ScalarType.Double, 3, 2)), "shape");
    assertNotEquals(base, signature(header, tensor(torch.ScalarType.Double, 6)), "rank");
    assertNotEquals(base, signature(header, tensor(torch.ScalarType.Float, 2, 3)), "dtype");
    Tensor a = tensor(torch.ScalarType.Double, 2);
    Tensor b = tensor(torch.ScalarType.Double, 3);
    assertNotEquals(
        encode(header, CollectiveOp.ALLREDUCE_MEAN, 1, List.of(a, b), 0)[
            CollectiveHeader.SIGNATURE],
        encode(header, CollectiveOp.ALLREDUCE_MEAN, 1, List.of(b, a), 0)[
            CollectiveHeader.SIGNATURE],
        "order");
  }

  private static long signature(CollectiveHeader header, Tensor t) {
    return encode(header, CollectiveOp.ALLREDUCE_MEAN, 1, List.of(t), 0)[
        CollectiveHeader.SIGNATURE];
  }

  /** The header of valid {@code tensors}, as a rank encodes it. */
  private static long[] encode(
      CollectiveHeader header, CollectiveOp op, long seq, List<Tensor> tensors, int root) {
    return header.encode(op, seq, tensors.size(), TensorShapes.of(tensors), root);
  }

  @Test
  void anInvalidHeaderCarriesNoTensorFields() {
    long[] h = on(0, 2).encode(CollectiveOp.ALLREDUCE_MEAN, 3, mixed().size(), null, 0);
    assertEquals(1, h[CollectiveHeader.INVALID]);
    assertEquals(0, h[CollectiveHeader.NUMEL]);
    long[] empty = on(0, 2).encode(CollectiveOp.ALLREDUCE_MEAN, 3, 0, null, 0);
    assertEquals(empty[CollectiveHeader.SIGNATURE], h[CollectiveHeader.SIGNATURE]);
  }

  @Test
  void validateNamesTheCulprit() {
    CollectiveHeader header = on(0, 2);
    Tensor ok = tensor(torch.ScalarType.Double, 2, 3);
    assertNull(header.validate(CollectiveOp.ALLREDUCE_MEAN, List.of(ok), 0));
    assertEquals(
        "root rank 2 is not in [0, 2)", header.validate(CollectiveOp.BROADCAST, List.of(ok), 2));
    assertEquals(
        "root rank -1 is not in [0, 2)", header.validate(CollectiveOp.BROADCAST, List.of(ok), -1));
    assertEquals(
        "tensor 1 is null or undefined",
        header.validate(CollectiveOp.ALLREDUCE_MEAN, Arrays.asList(ok, null), 0));
    assertEquals(
        "tensor 1 is not contiguous",
        header.validate(CollectiveOp.ALLREDUCE_MEAN, List.of(ok, ok.t()), 0));
    String integer =
        header.validate(
            CollectiveOp.ALLREDUCE_MEAN, List.of(ok, tensor(torch.ScalarType.Long, 3)), 0);
    assertTrue(
        integer.startsWith("tensor 1 is ") && integer.endsWith(": a mean needs a floating dtype"),
        integer);
    assertNull(
        header.validate(CollectiveOp.BROADCAST, List.of(tensor(torch.ScalarType.Long, 3)), 1),
        "a broadcast takes any dtype");
  }

  /**
   * What rank {@code rank} throws (or null) when its header is row {@code rank} of {@code rows}.
   */
  private static CollectiveException check(int rank, long[][] rows, String problem) {
    CollectiveHeader header = on(rank, rows.length);
    try {
      header.check("allreduce (mean) #4", rows, problem);
      return null;
    } catch (CollectiveException e) {
      return e;
    }
  }

  private static long[] row(CollectiveOp op, long seq, List<Tensor> tensors, int root) {
    return encode(on(0, 3), op, seq, tensors, root);
  }

  @Test
  void agreeingHeadersPass() {
    long[] r = row(CollectiveOp.ALLREDUCE_MEAN, 4, mixed(), 0);
    assertNull(check(0, new long[][] {r, r.clone(), r.clone()}, null));
  }

  @Test
  void differentOperationsAreNamed() {
    List<Tensor> t = List.of(tensor(torch.ScalarType.Double, 1234));
    long[] mean = row(CollectiveOp.ALLREDUCE_MEAN, 4, t, 0);
    long[] bcast = row(CollectiveOp.BROADCAST, 4, t, 1);
    CollectiveException e = check(2, new long[][] {mean, bcast, mean.clone()}, null);
    String shape =
        Long.toHexString(mean[CollectiveHeader.SIGNATURE]).substring(0, 8); // printed checksum
    assertEquals(
        "allreduce (mean) #4 refused on rank 2 of 3, nothing was sent: the ranks disagree: "
            + "ranks [0, 2]: allreduce (mean) #4 of 1 tensor, 1,234 elements (float64 1,234), "
            + "shape checksum "
            + shape
            + "; rank 1: broadcast #4 of 1 tensor, 1,234 elements (float64 1,234) from rank 1, "
            + "shape checksum "
            + shape
            + ". The ranks called different collectives",
        e.getMessage());
    assertTrue(e.isMismatch());
    assertEquals(2, e.rank());
    assertEquals(3, e.worldSize());
    assertEquals(TIMEOUT, e.timeout());
    assertEquals("allreduce (mean) #4", e.collective());
  }

  @Test
  void differentSequenceNumbersSayOneRankCalledACollectiveTheOthersDidNot() {
    long[] a = row(CollectiveOp.BARRIER, 7, List.of(), 0);
    long[] b = row(CollectiveOp.BARRIER, 8, List.of(), 0);
    String m = check(0, new long[][] {a, b}, null).getMessage();
    assertTrue(m.contains("rank 0: barrier #7; rank 1: barrier #8."), m);
    assertTrue(
        m.endsWith(
            "The ranks are at different collectives: one called a collective the others did not"),
        m);
  }

  @Test
  void differentTensorsExplainTheDataParallelCause() {
    long[] a = row(CollectiveOp.ALLREDUCE_MEAN, 4, List.of(tensor(torch.ScalarType.Float, 3)), 0);
    long[] b = row(CollectiveOp.ALLREDUCE_MEAN, 4, List.of(tensor(torch.ScalarType.Float, 4)), 0);
    String m = check(1, new long[][] {a, b}, null).getMessage();
    assertTrue(m.contains("rank 0: allreduce (mean) #4 of 1 tensor, 3 elements (float32 3)"), m);
    assertTrue(m.contains("rank 1: allreduce (mean) #4 of 1 tensor, 4 elements (float32 4)"), m);
    assertTrue(
        m.contains(". Every rank must hand over the same tensors (dtypes, shapes, order)"), m);
    assertTrue(m.contains("add 0 * p.sum() to the loss"), m);
  }

  @Test
  void differentRootsAreNamed() {
    List<Tensor> t = List.of(tensor(torch.ScalarType.Double, 2));
    long[] a = row(CollectiveOp.BROADCAST, 4, t, 0);
    long[] b = row(CollectiveOp.BROADCAST, 4, t, 1);
    String m = check(0, new long[][] {a, b}, null).getMessage();
    assertTrue(m.contains(" from rank 0, shape checksum"), m);
    assertTrue(m.contains(" from rank 1, shape checksum"), m);
    assertTrue(m.endsWith(". The ranks name different roots"), m);
  }

  @Test
  void differentBucketSizesAreNamed() {
    List<Tensor> t = List.of(tensor(torch.ScalarType.Double, 2));
    long[] a = row(CollectiveOp.ALLREDUCE_MEAN, 4, t, 0);
    long[] b =
        encode(new CollectiveHeader(1, 2, 2048, TIMEOUT), CollectiveOp.ALLREDUCE_MEAN, 4, t, 0);
    String m = check(0, new long[][] {a, b}, null).getMessage();
    assertTrue(m.contains(", buckets of 2048 bytes"), "rank 1's differing size is shown: " + m);
    assertTrue(!m.contains("buckets of 4096"), "this rank's own size is not: " + m);
    assertTrue(m.endsWith(". The ranks' groups were built with different bucket sizes"), m);
  }

  @Test
  void aRankThatCouldNotTakePartIsNamedOnEveryRank() {
    List<Tensor> t = List.of(tensor(torch.ScalarType.Double, 2));
    long[] ok = row(CollectiveOp.ALLREDUCE_MEAN, 4, t, 0);
    long[] bad = on(1, 3).encode(CollectiveOp.ALLREDUCE_MEAN, 4, t.size(), null, 0);
    long[][] rows = {ok, bad, ok.clone()};
    String here = check(1, rows, "tensor 0 is not contiguous").getMessage();
    assertTrue(
        here.startsWith(
            "allreduce (mean) #4 refused on rank 1 of 3, nothing was sent: rank 1 could not take"
                + " part (here: tensor 0 is not contiguous); the ranks disagree: "),
        here);
    assertTrue(here.contains("rank 1: allreduce (mean) #4 of invalid tensors"), here);
    String elsewhere = check(0, rows, null).getMessage();
    assertTrue(elsewhere.contains("rank 1 could not take part (see its own message)"), elsewhere);
    long[][] twoBad = {bad, bad.clone(), ok};
    String both = check(2, twoBad, null).getMessage();
    assertTrue(both.contains("ranks [0, 1] could not take part"), both);
  }

  @Test
  void describeGroupsRanksWithTheSameHeader() {
    long[] r = row(CollectiveOp.BARRIER, 9, List.of(), 0);
    assertEquals("ranks [0, 1, 2]: barrier #9", on(0, 3).describe(new long[][] {r, r, r}));
    assertArrayEquals(r, row(CollectiveOp.BARRIER, 9, List.of(), 0), "encoding is pure");
    assertThrows(
        CollectiveException.class,
        () ->
            on(0, 2)
                .check("x", new long[][] {r, row(CollectiveOp.BARRIER, 10, List.of(), 0)}, null));
  }
}
