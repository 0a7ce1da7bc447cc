package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Small models with explicit parameters for the Hessian analysis tests. Test code only. */
final class HessianModels {
  private HessianModels() {}

  /** A model: its parameters (all used unless said otherwise) and its loss on batch {@code b}. */
  interface Model {
    List<Tensor> params();

    Tensor loss(int batch);

    default Supplier<Tensor> closure(int batch) {
      return () -> loss(batch);
    }
  }

  static Tensor input(long seed, torch.ScalarType dtype, double scale, long... shape) {
    Tensor t = T.randomParam(seed, dtype, shape);
    t.requires_grad_(false);
    return t.mul(T.s(scale));
  }

  static Tensor labels(long seed, int classes, int count) {
    java.util.Random r = new java.util.Random(seed);
    long[] y = new long[count];
    for (int i = 0; i < count; i++) {
      y[i] = r.nextInt(classes);
    }
    return org.bytedeco.pytorch.AbstractTensor.create(y, count);
  }

  /**
   * Linear(8, 20) + tanh + Linear(20, 5), cross-entropy, batches of 12: 285 parameters (w1 160, b1
   * 20, w2 100, b2 5).
   */
  static final class Mlp implements Model {
    final Tensor w1;
    final Tensor b1;
    final Tensor w2;
    final Tensor b2;
    final List<Tensor> x = new ArrayList<>();
    final List<Tensor> y = new ArrayList<>();

    Mlp(torch.ScalarType dtype, long seed, int batches) {
      w1 = scaled(seed, dtype, 0.6, 20, 8);
      b1 = scaled(seed + 1, dtype, 0.3, 20);
      w2 = scaled(seed + 2, dtype, 0.8, 5, 20);
      b2 = scaled(seed + 3, dtype, 0.3, 5);
      for (int b = 0; b < batches; b++) {
        x.add(input(seed + 10 + b, dtype, 2.0, 12, 8));
        y.add(labels(seed + 20 + b, 5, 12));
      }
    }

    @Override
    public List<Tensor> params() {
      return List.of(w1, b1, w2, b2);
    }

    @Override
    public Tensor loss(int batch) {
      Tensor h = torch.tanh(torch.matmul(x.get(batch), w1.t()).add(b1));
      Tensor logits = torch.matmul(h, w2.t()).add(b2);
      return torch.cross_entropy_loss(logits, y.get(batch));
    }
  }

  /**
   * Conv2d(2, 3, 3x3) + bias + tanh on 6x6 images, flatten (48), Linear(48, 3), cross-entropy,
   * batches of 6: 204 parameters (k 54, kb 3, w 144, b 3).
   */
  static final class Cnn implements Model {
    final Tensor k;
    final Tensor kb;
    final Tensor w;
    final Tensor b;
    final List<Tensor> x = new ArrayList<>();
    final List<Tensor> y = new ArrayList<>();

    Cnn(torch.ScalarType dtype, long seed, int batches) {
      k = scaled(seed, dtype, 0.5, 3, 2, 3, 3);
      kb = scaled(seed + 1, dtype, 0.2, 3);
      w = scaled(seed + 2, dtype, 0.4, 3, 48);
      b = scaled(seed + 3, dtype, 0.2, 3);
      for (int i = 0; i < batches; i++) {
        x.add(input(seed + 10 + i, dtype, 1.0, 6, 2, 6, 6));
        y.add(labels(seed + 20 + i, 3, 6));
      }
    }

    @Override
    public List<Tensor> params() {
      return List.of(k, kb, w, b);
    }

    @Override
    public Tensor loss(int batch) {
      Tensor h = torch.tanh(torch.conv2d(x.get(batch), k).add(kb.reshape(1, 3, 1, 1)));
      Tensor logits = torch.matmul(h.reshape(h.size(0), 48), w.t()).add(b);
      return torch.cross_entropy_loss(logits, y.get(batch));
    }
  }

  /** A parameter of uniform(-scale, scale) values. */
  static Tensor scaled(long seed, torch.ScalarType dtype, double scale, long... shape) {
    Tensor raw = T.randomParam(seed, dtype, shape);
    Tensor p = raw.detach().mul(T.s(scale));
    p.requires_grad_(true);
    return p;
  }
}
