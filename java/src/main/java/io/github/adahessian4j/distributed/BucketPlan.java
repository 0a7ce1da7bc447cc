package io.github.adahessian4j.distributed;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;

/**
 * How a collective's tensors go into buckets: flattened per dtype and device, in order, into
 * buckets of at most {@code bucketBytes} bytes (a tensor may span several). It depends on the
 * tensors' {@link TensorShapes} only: no tensor is read, no native object made.
 */
final class BucketPlan {
  private BucketPlan() {}

  /**
   * A piece of a bucket: elements [offset, offset + length) of tensor {@code tensor} of the list
   * (flattened), at {@code at} in the bucket; {@code whole} when that is all of the tensor.
   */
  record Piece(int tensor, long offset, long length, long at, boolean whole) {}

  /**
   * A bucket: its dtype and device ({@code key}, {@code "Float@cpu"}), the tensor whose dtype and
   * device it has ({@code like}), its pieces in order and its element count.
   */
  record Bucket(String key, int like, List<Piece> pieces, long elements) {}

  static List<Bucket> plan(TensorShapes shapes, long bucketBytes) {
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int k = 0; k < shapes.count(); k++) {
      if (shapes.numel(k) > 0) {
        groups
            .computeIfAbsent(shapes.dtype(k) + "@" + shapes.device(k), g -> new ArrayList<>())
            .add(k);
      }
    }
    List<Bucket> plan = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
      List<Integer> members = g.getValue();
      long capacity = Math.max(1, bucketBytes / torch.elementSize(shapes.dtype(members.get(0))));
      List<Piece> pieces = new ArrayList<>();
      long filled = 0;
      for (int k : members) {
        long offset = 0;
        long numel = shapes.numel(k);
        while (offset < numel) {
          long take = Math.min(numel - offset, capacity - filled);
          pieces.add(new Piece(k, offset, take, filled, take == numel));
          filled += take;
          offset += take;
          if (filled == capacity) {
            plan.add(new Bucket(g.getKey(), k, pieces, filled));
            pieces = new ArrayList<>();
            filled = 0;
          }
        }
      }
      if (filled > 0) {
        plan.add(new Bucket(g.getKey(), members.get(0), pieces, filled));
      }
    }
    return plan;
  }
}
