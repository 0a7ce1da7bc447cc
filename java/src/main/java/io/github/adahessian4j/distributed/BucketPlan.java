package io.github.adahessian4j.distributed;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * How a collective's tensors go into buckets: flattened per dtype and device, in order, into
 * buckets of at most {@code bucketBytes} bytes (a tensor may span several). No backend call.
 */
final class BucketPlan {
  private BucketPlan() {}

  /**
   * A piece of a bucket: elements [offset, offset + length) of a flat tensor, at {@code at} in the
   * bucket.
   */
  record Piece(Tensor flat, long offset, long length, long at) {
    /** The piece's elements: {@code flat} itself when the piece is all of it (no new view). */
    Tensor part() {
      return offset == 0 && length == flat.numel() ? flat : flat.narrow(0, offset, length);
    }
  }

  record Bucket(String key, Tensor like, List<Piece> pieces, long elements) {}

  static List<Bucket> plan(List<Tensor> tensors, long bucketBytes) {
    Map<String, List<Tensor>> groups = new LinkedHashMap<>();
    for (Tensor t : tensors) {
      if (t.numel() > 0) {
        groups
            .computeIfAbsent(
                t.scalar_type() + "@" + CollectiveHeader.deviceOf(t), k -> new ArrayList<>())
            .add(t.detach().view(-1));
      }
    }
    List<Bucket> plan = new ArrayList<>();
    for (Map.Entry<String, List<Tensor>> g : groups.entrySet()) {
      List<Tensor> flats = g.getValue();
      long capacity = Math.max(1, bucketBytes / torch.elementSize(flats.get(0).scalar_type()));
      List<Piece> pieces = new ArrayList<>();
      long filled = 0;
      for (Tensor flat : flats) {
        long offset = 0;
        long numel = flat.numel();
        while (offset < numel) {
          long take = Math.min(numel - offset, capacity - filled);
          pieces.add(new Piece(flat, offset, take, filled));
          filled += take;
          offset += take;
          if (filled == capacity) {
            plan.add(new Bucket(g.getKey(), flat, pieces, filled));
            pieces = new ArrayList<>();
            filled = 0;
          }
        }
      }
      if (filled > 0) {
        plan.add(new Bucket(g.getKey(), flats.get(0), pieces, filled));
      }
    }
    return plan;
  }
}
