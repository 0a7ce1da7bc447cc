package io.github.adahessian4j.distributed;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** The reusable buffers that several tensors are copied into to share one bucket's collective. */
final class StagingBuffers {
  private final Map<String, Tensor> buffers = new HashMap<>();

  /** The reusable staging buffer of a dtype and device, at least as large as {@code bucket}. */
  Tensor buffer(BucketPlan.Bucket bucket) {
    Tensor buf = buffers.get(bucket.key());
    if (buf == null || buf.numel() < bucket.elements()) {
      if (buf != null) {
        buf.close();
      }
      buf =
          C10d.keep(bucket.like().new_empty(bucket.elements())); // the first bucket is the largest
      buffers.put(bucket.key(), buf);
    }
    return buf;
  }

  void close() {
    for (Tensor t : buffers.values()) {
      t.close();
    }
    buffers.clear();
  }
}
