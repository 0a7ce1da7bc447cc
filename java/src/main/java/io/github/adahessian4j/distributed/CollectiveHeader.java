package io.github.adahessian4j.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The header every rank sends before a collective's data (one row of {@link #H} int64 per rank: the
 * operation, its sequence number, the tensors' count, elements per dtype and a checksum of their
 * dtypes and shapes), its encoding and the check of all ranks' rows, with the message that
 * describes them.
 */
final class CollectiveHeader {
  static final int H = 12;
  static final int OP = 0;
  static final int SEQ = 1;
  static final int COUNT = 2;
  static final int NUMEL = 3;
  static final int SIGNATURE = 4;
  static final int ROOT = 5;
  static final int BUCKET = 6;
  static final int INVALID = 7;
  static final int F64 = 8;
  static final int F32 = 9;
  static final int HALF = 10;
  static final int OTHER = 11;

  private final int rank;
  private final int worldSize;
  private final long bucketBytes;
  private final Duration timeout;

  CollectiveHeader(int rank, int worldSize, long bucketBytes, Duration timeout) {
    this.rank = rank;
    this.worldSize = worldSize;
    this.bucketBytes = bucketBytes;
    this.timeout = timeout;
  }

  /** What is wrong with this rank's input, or null. */
  String validate(CollectiveOp op, List<Tensor> tensors, int root) {
    if (root < 0 || root >= worldSize) {
      return "root rank " + root + " is not in [0, " + worldSize + ")";
    }
    String device = null;
    for (int k = 0; k < tensors.size(); k++) {
      Tensor t = tensors.get(k);
      if (t == null || t.isNull() || !t.defined()) {
        return "tensor " + k + " is null or undefined";
      }
      if (t.is_sparse() || t.layout().value != torch.Layout.Strided.value) {
        return "tensor " + k + " is not a dense (strided) tensor";
      }
      if (!t.is_contiguous()) {
        return "tensor " + k + " is not contiguous";
      }
      if (op == CollectiveOp.ALLREDUCE_MEAN && !t.is_floating_point()) {
        return "tensor " + k + " is " + t.scalar_type() + ": a mean needs a floating dtype";
      }
      String d = deviceOf(t);
      if (device == null) {
        device = d;
      } else if (!device.equals(d)) {
        return "tensor " + k + " is on " + d + ", tensor 0 on " + device + ": one device per call";
      }
    }
    return null;
  }

  /**
   * This rank's row: {@code count} tensors of {@code shapes}, or (null) tensors that {@link
   * #validate} refused, which carry no tensor fields.
   */
  long[] encode(CollectiveOp op, long seq, int count, TensorShapes shapes, int root) {
    long[] h = new long[H];
    h[OP] = op.code;
    h[SEQ] = seq;
    h[COUNT] = count;
    h[ROOT] = root;
    h[BUCKET] = bucketBytes;
    h[INVALID] = shapes == null ? 1 : 0;
    long signature = 0xcbf29ce484222325L;
    if (shapes != null) {
      for (int k = 0; k < shapes.count(); k++) {
        long numel = shapes.numel(k);
        h[NUMEL] += numel;
        int dtype = shapes.dtype(k).value;
        h[
                dtype == torch.ScalarType.Double.value
                    ? F64
                    : dtype == torch.ScalarType.Float.value
                        ? F32
                        : dtype == torch.ScalarType.Half.value
                                || dtype == torch.ScalarType.BFloat16.value
                            ? HALF
                            : OTHER] +=
            numel;
        long[] sizes = shapes.sizes(k);
        signature = mix(signature, dtype);
        signature = mix(signature, sizes.length);
        for (long size : sizes) {
          signature = mix(signature, size);
        }
      }
    }
    h[SIGNATURE] = signature;
    return h;
  }

  private static long mix(long h, long v) {
    h ^= v;
    h *= 0x100000001b3L;
    return h ^ (h >>> 29);
  }

  void check(String name, long[][] rows, String problem) {
    List<Integer> invalid = new ArrayList<>();
    boolean differ = false;
    for (int r = 0; r < worldSize; r++) {
      if (rows[r][INVALID] != 0) {
        invalid.add(r);
      }
      for (int f : new int[] {OP, SEQ, COUNT, NUMEL, SIGNATURE, ROOT, BUCKET}) {
        differ |= rows[r][f] != rows[0][f];
      }
    }
    if (invalid.isEmpty() && !differ) {
      return;
    }
    StringBuilder m =
        new StringBuilder(name)
            .append(" refused on rank ")
            .append(rank)
            .append(" of ")
            .append(worldSize)
            .append(", nothing was sent: ");
    if (!invalid.isEmpty()) {
      m.append(invalid.size() == 1 ? "rank " + invalid.get(0) : "ranks " + invalid)
          .append(" could not take part (")
          .append(problem != null ? "here: " + problem : "see its own message")
          .append(")");
    }
    if (differ) {
      if (!invalid.isEmpty()) {
        m.append("; ");
      }
      m.append("the ranks disagree: ").append(describe(rows));
      if (differs(rows, OP)) {
        m.append(". The ranks called different collectives");
      } else if (differs(rows, SEQ)) {
        m.append(
            ". The ranks are at different collectives: one called a collective the others did not");
      } else if (differs(rows, COUNT) || differs(rows, NUMEL) || differs(rows, SIGNATURE)) {
        m.append(
            ". Every rank must hand over the same tensors (dtypes, shapes, order). In data-parallel "
                + "training this happens when a parameter gets a gradient on some ranks only (a layer that "
                + "part of the data does not use, a data-dependent branch): use every parameter in every "
                + "step on every rank (for example add 0 * p.sum() to the loss), or leave such parameters "
                + "out of the optimizer");
      } else if (differs(rows, ROOT)) {
        m.append(". The ranks name different roots");
      } else {
        m.append(". The ranks' groups were built with different bucket sizes");
      }
    }
    throw new CollectiveException(m.toString(), name, rank, worldSize, timeout, true, null);
  }

  private static boolean differs(long[][] rows, int field) {
    for (long[] row : rows) {
      if (row[field] != rows[0][field]) {
        return true;
      }
    }
    return false;
  }

  /** "ranks 0, 2: allreduce (mean) #4 of 8 tensors, 1,234 elements (float64); rank 1: ..." */
  String describe(long[][] rows) {
    Map<String, List<Integer>> byText = new LinkedHashMap<>();
    for (int r = 0; r < worldSize; r++) {
      long[] h = rows[r];
      StringBuilder s = new StringBuilder(CollectiveOp.label(h[OP])).append(" #").append(h[SEQ]);
      if (h[INVALID] != 0) {
        s.append(" of invalid tensors");
      } else if (h[OP] != CollectiveOp.BARRIER.code) {
        s.append(" of ")
            .append(h[COUNT])
            .append(h[COUNT] == 1 ? " tensor, " : " tensors, ")
            .append(String.format("%,d", h[NUMEL]))
            .append(" elements");
        List<String> kinds = new ArrayList<>();
        String[] names = {"float64", "float32", "float16/bfloat16", "other dtypes"};
        for (int f = F64; f <= OTHER; f++) {
          if (h[f] != 0) {
            kinds.add(names[f - F64] + " " + String.format("%,d", h[f]));
          }
        }
        if (!kinds.isEmpty()) {
          s.append(" (").append(String.join(", ", kinds)).append(")");
        }
        if (h[OP] == CollectiveOp.BROADCAST.code) {
          s.append(" from rank ").append(h[ROOT]);
        }
        s.append(", shape checksum ")
            .append(
                Long.toHexString(h[SIGNATURE])
                    .substring(0, Math.min(8, Long.toHexString(h[SIGNATURE]).length())));
      }
      if (h[BUCKET] != bucketBytes) {
        s.append(", buckets of ").append(h[BUCKET]).append(" bytes");
      }
      byText.computeIfAbsent(s.toString(), k -> new ArrayList<>()).add(r);
    }
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, List<Integer>> e : byText.entrySet()) {
      if (out.length() > 0) {
        out.append("; ");
      }
      List<Integer> ranks = e.getValue();
      out.append(ranks.size() == 1 ? "rank " + ranks.get(0) : "ranks " + ranks)
          .append(": ")
          .append(e.getKey());
    }
    return out.toString();
  }

  /**
   * The device's name ({@code "cpu"}, {@code "cuda:0"}): for a CPU tensor without a native object.
   */
  static String deviceOf(Tensor t) {
    if (t.is_cpu()) {
      return "cpu";
    }
    try (org.bytedeco.pytorch.Device d = t.device()) {
      return d.str().getString();
    }
  }
}
