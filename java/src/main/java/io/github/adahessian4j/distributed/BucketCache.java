package io.github.adahessian4j.distributed;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The buckets of the tensor lists a group has moved, with their native handles, reused while a list
 * keeps its dtypes, devices and shapes ({@link TensorShapes}; an optimizer hands over new tensors
 * of the same shapes every step): the plan, and for a bucket of several pieces its slice of the
 * reusable staging buffer of its dtype and device, that slice's {@link TensorVector} and one view
 * per piece, shaped like the piece's tensor, which the tensors are copied into and back out of. A
 * list of other shapes gets its own entry; the {@link #ENTRIES} lists used last are kept, the
 * others freed. Growing a staging buffer frees every entry (they view the old one).
 */
final class BucketCache {
  /** Lists kept: an optimizer hands over one, or two that alternate (updateEach above 1). */
  static final int ENTRIES = 4;

  /**
   * A bucket ready to move: with several pieces, {@code data} (the staging slice), its vector and
   * {@code views} (per piece, where it goes in the slice); with one piece, nulls (the piece itself
   * is reduced in place).
   */
  record Staged(
      BucketPlan.Bucket bucket,
      torch.ScalarType dtype,
      long bytes,
      Tensor data,
      TensorVector vector,
      Tensor[] views) {}

  private final long bucketBytes;
  private final Map<String, Tensor> buffers = new HashMap<>();
  private final LinkedHashMap<TensorShapes, List<Staged>> plans =
      new LinkedHashMap<>(2 * ENTRIES, 0.75f, true);

  BucketCache(long bucketBytes) {
    this.bucketBytes = bucketBytes;
  }

  /**
   * The buckets of {@code tensors}, whose shapes are {@code shapes}: kept from an earlier list of
   * the same shapes, else planned and staged now (the handles made outlive the caller's scope).
   */
  List<Staged> buckets(TensorShapes shapes, List<Tensor> tensors) {
    List<Staged> staged = plans.get(shapes);
    if (staged == null) {
      staged = stage(BucketPlan.plan(shapes, bucketBytes), shapes, tensors);
      plans.put(shapes, staged);
      if (plans.size() > ENTRIES) {
        Iterator<List<Staged>> eldest = plans.values().iterator();
        free(eldest.next());
        eldest.remove();
      }
    }
    return staged;
  }

  private List<Staged> stage(
      List<BucketPlan.Bucket> plan, TensorShapes shapes, List<Tensor> tensors) {
    List<Staged> staged = new ArrayList<>();
    for (BucketPlan.Bucket b : plan) {
      torch.ScalarType dtype = shapes.dtype(b.like());
      long bytes = b.elements() * torch.elementSize(dtype);
      if (b.pieces().size() == 1) {
        staged.add(new Staged(b, dtype, bytes, null, null, null));
        continue;
      }
      Tensor buffer = buffer(b, tensors.get(b.like()));
      Tensor data = C10d.keep(buffer.narrow(0, 0, b.elements()));
      Tensor[] views = new Tensor[b.pieces().size()];
      for (int i = 0; i < views.length; i++) {
        BucketPlan.Piece p = b.pieces().get(i);
        Tensor slice = data.narrow(0, p.at(), p.length());
        views[i] = C10d.keep(p.whole() ? slice.view_as(tensors.get(p.tensor())) : slice);
      }
      staged.add(new Staged(b, dtype, bytes, data, C10d.keep(new TensorVector(data)), views));
    }
    return staged;
  }

  /**
   * The staging buffer of the bucket's dtype and device, at least as large as the bucket (the first
   * bucket of a dtype and device is its largest).
   */
  private Tensor buffer(BucketPlan.Bucket bucket, Tensor like) {
    Tensor buf = buffers.get(bucket.key());
    if (buf == null || buf.numel() < bucket.elements()) {
      if (buf != null) {
        freePlans();
        buf.close();
      }
      buf = C10d.keep(like.new_empty(bucket.elements()));
      buffers.put(bucket.key(), buf);
    }
    return buf;
  }

  private static void free(List<Staged> staged) {
    for (Staged s : staged) {
      if (s.data() != null) {
        for (Tensor v : s.views()) {
          v.close();
        }
        s.vector().close();
        s.data().close();
      }
    }
  }

  private void freePlans() {
    for (List<Staged> staged : plans.values()) {
      free(staged);
    }
    plans.clear();
  }

  /** Frees every handle and buffer. */
  void close() {
    freePlans();
    for (Tensor t : buffers.values()) {
      t.close();
    }
    buffers.clear();
  }
}
