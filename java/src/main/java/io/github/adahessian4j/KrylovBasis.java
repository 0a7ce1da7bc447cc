package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Rows of float64 vectors in blocks of {@link #BLOCK}, owned here (not by any scope). */
final class KrylovBasis implements AutoCloseable {
  /** Rows per block of the Lanczos basis (blocks grow with the steps taken). */
  private static final int BLOCK = 32;

  private final long dim;
  private final List<Tensor> blocks = new ArrayList<>();
  int count;

  KrylovBasis(long dim) {
    this.dim = dim;
  }

  /** Sets row {@code i} (at most {@link #count}: then appends) to a copy of {@code v}. */
  void set(int i, Tensor v) {
    if (i == count) {
      if (count % BLOCK == 0) {
        blocks.add(Natives.keep(v.new_zeros(BLOCK, dim)));
      }
      count++;
    }
    row(i).copy_(v);
  }

  /** A view of row {@code i}. */
  Tensor row(int i) {
    return blocks.get(i / BLOCK).select(0, i % BLOCK);
  }

  /** {@code w -= V^T (V w)}, {@code passes} times (classical Gram-Schmidt, reorthogonalised). */
  void subtractProjections(Tensor w, int passes) {
    for (int pass = 0; pass < passes; pass++) {
      for (int b = 0; b * BLOCK < count; b++) {
        Tensor rows = blocks.get(b).narrow(0, 0, Math.min(BLOCK, count - b * BLOCK));
        w.sub_(torch.mv(rows.t(), torch.mv(rows, w)));
      }
    }
  }

  /** {@code sum_i s[i] * row(i)} for the first {@code s.length} rows, as a new tensor. */
  Tensor combine(double[] s) {
    Tensor out = row(0).mul(new Scalar(s[0]));
    for (int i = 1; i < s.length; i++) {
      out.add_(row(i), new Scalar(s[i]));
    }
    return out;
  }

  @Override
  public void close() {
    for (Tensor t : blocks) {
      t.close();
    }
    blocks.clear();
    count = 0;
  }
}
