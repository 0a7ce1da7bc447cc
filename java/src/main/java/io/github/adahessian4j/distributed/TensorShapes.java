package io.github.adahessian4j.distributed;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The dtypes, devices and shapes of a collective's tensors, read once per call (no native object is
 * made): what the header encodes and what a {@link BucketCache} entry is reused for. Two lists with
 * equal shapes lay out in the same buckets.
 */
final class TensorShapes {
  private final torch.ScalarType[] dtypes;
  private final String[] devices;
  private final long[][] sizes;
  private final long[] numels;
  private final int hash;

  private TensorShapes(torch.ScalarType[] dtypes, String[] devices, long[][] sizes, long[] numels) {
    this.dtypes = dtypes;
    this.devices = devices;
    this.sizes = sizes;
    this.numels = numels;
    this.hash = 31 * Arrays.deepHashCode(sizes) + Arrays.hashCode(devices) + dtypeCode();
  }

  private int dtypeCode() {
    int h = 1;
    for (torch.ScalarType d : dtypes) {
      h = 31 * h + d.value;
    }
    return h;
  }

  /** Reads {@code tensors}, which {@link CollectiveHeader#validate} accepted. */
  static TensorShapes of(List<Tensor> tensors) {
    int n = tensors.size();
    torch.ScalarType[] dtypes = new torch.ScalarType[n];
    String[] devices = new String[n];
    long[][] sizes = new long[n][];
    long[] numels = new long[n];
    for (int k = 0; k < n; k++) {
      Tensor t = tensors.get(k);
      dtypes[k] = t.scalar_type();
      devices[k] = CollectiveHeader.deviceOf(t);
      long[] s = new long[(int) t.dim()];
      long numel = 1;
      for (int d = 0; d < s.length; d++) {
        s[d] = t.size(d);
        numel *= s[d];
      }
      sizes[k] = s;
      numels[k] = numel;
    }
    return new TensorShapes(dtypes, devices, sizes, numels);
  }

  int count() {
    return dtypes.length;
  }

  torch.ScalarType dtype(int k) {
    return dtypes[k];
  }

  String device(int k) {
    return devices[k];
  }

  long[] sizes(int k) {
    return sizes[k];
  }

  long numel(int k) {
    return numels[k];
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof TensorShapes other) || other.hash != hash) {
      return false;
    }
    if (other.dtypes.length != dtypes.length) {
      return false;
    }
    for (int k = 0; k < dtypes.length; k++) {
      if (other.dtypes[k].value != dtypes[k].value) {
        return false;
      }
    }
    return Arrays.equals(devices, other.devices) && Arrays.deepEquals(sizes, other.sizes);
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
