package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.LSTMImpl;
import org.bytedeco.pytorch.MultiheadAttentionImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * AdaHessian's H z through each common layer, in float64: one step's Hessian-vector product (the
 * {@code hessian_diag} state holds H z itself with one sample) against central finite differences
 * of the gradient along the same probe z, {@code (g(p + h z) - g(p - h z)) / 2h}, from first
 * derivatives only. Each loss ends in tanh and a square, so every layer's second derivatives
 * matter; z comes from the probe generator's specification ({@link ReferenceProbes}), independently
 * of the native one.
 */
class LayerHessianTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;
  private static final long SEED = 31;
  private static final double H = 1e-5;

  /**
   * Scaled dot-product attention on inputs shaped (batch, heads, length, dim): the shape for which
   * libtorch's CPU dispatch picks its flash kernel, which has no double backward.
   */
  static Tensor attentionLoss(Tensor x, Tensor wq, Tensor wk, Tensor wv, boolean causal) {
    Tensor a =
        torch.scaled_dot_product_attention(
            torch.matmul(x, wq),
            torch.matmul(x, wk),
            torch.matmul(x, wv),
            new TensorOptional(),
            0.0,
            causal,
            new DoubleOptional(),
            false);
    return torch.tanh(a).square().mean();
  }

  private static Tensor input(long seed, long... shape) {
    Tensor t = T.randomParam(seed, F64, shape);
    t.requires_grad_(false);
    return t;
  }

  private static Tensor head(Tensor h) {
    return torch.tanh(h).square().mean();
  }

  @Test
  void scaledDotProductAttention() {
    for (boolean causal : new boolean[] {false, true}) {
      try (PointerScope scope = new PointerScope()) {
        Tensor x = input(1, 2, 2, 5, 4);
        Tensor wq = T.randomParam(2, F64, 4, 4);
        Tensor wk = T.randomParam(3, F64, 4, 4);
        Tensor wv = T.randomParam(4, F64, 4, 4);
        check(
            causal ? "causal SDPA" : "SDPA",
            List.of(wq, wk, wv),
            () -> attentionLoss(x, wq, wk, wv, causal));
      }
    }
  }

  @Test
  void libtorchMultiheadAttention() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(5);
      MultiheadAttentionImpl mha = new MultiheadAttentionImpl(6, 2);
      mha.to(F64, false);
      Tensor x = input(6, 4, 3, 6); // (length, batch, embedding), libtorch's default layout
      check(
          "MultiheadAttention", params(mha.parameters()), () -> head(mha.forward(x, x, x).get0()));
    }
  }

  @Test
  void layerNorm() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = input(7, 5, 6);
      Tensor w = T.randomParam(8, F64, 6, 6);
      Tensor gamma = T.randomParam(9, F64, 6);
      Tensor beta = T.randomParam(10, F64, 6);
      check(
          "layer_norm",
          List.of(w, gamma, beta),
          () ->
              head(
                  torch.layer_norm(
                      torch.matmul(x, w),
                      new long[] {6},
                      new TensorOptional(gamma),
                      new TensorOptional(beta),
                      1e-5,
                      false)));
    }
  }

  @Test
  void embedding() {
    try (PointerScope scope = new PointerScope()) {
      Tensor table = T.randomParam(11, F64, 7, 4);
      Tensor w = T.randomParam(12, F64, 4, 3);
      Tensor tokens =
          T.tensor(new double[] {0, 3, 3, 6, 1, 0, 5, 3}, F64, 2, 4).to(torch.ScalarType.Long);
      check(
          "embedding",
          List.of(table, w),
          () -> head(torch.matmul(torch.embedding(table, tokens), w)));
    }
  }

  @Test
  void gelu() {
    for (String approximate : new String[] {"none", "tanh"}) {
      try (PointerScope scope = new PointerScope()) {
        Tensor x = input(13, 5, 4);
        Tensor w1 = T.randomParam(14, F64, 4, 6);
        Tensor w2 = T.randomParam(15, F64, 6, 3);
        check(
            "GELU (" + approximate + ")",
            List.of(w1, w2),
            () -> head(torch.matmul(torch.gelu(torch.matmul(x, w1), approximate), w2)));
      }
    }
  }

  /**
   * Dropout draws its mask from the global generator: the closure reseeds it, so every evaluation
   * (the step's and each finite difference's) drops the same units and H z is the Hessian of one
   * fixed function.
   */
  @Test
  void dropoutWithAFixedMask() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = input(16, 6, 5);
      Tensor w1 = T.randomParam(17, F64, 5, 8);
      Tensor w2 = T.randomParam(18, F64, 8, 3);
      Supplier<Tensor> loss =
          () -> {
            torch.manual_seed(19);
            return head(torch.matmul(torch.dropout(torch.matmul(x, w1), 0.4, true), w2));
          };
      double first = loss.get().item_double();
      assertEquals(first, loss.get().item_double(), 0.0, "the mask is the same at every call");
      try (NoGradGuard noGrad = new NoGradGuard()) {
        Tensor kept = torch.dropout(torch.ones_like(w1), 0.4, true);
        double zeros = kept.eq(T.s(0.0)).sum().item_double();
        assertTrue(zeros > 0 && zeros < w1.numel(), "the mask drops some units, not all");
      }
      check("dropout", List.of(w1, w2), loss);
    }
  }

  @Test
  void batchNormTrainingAndEval() {
    for (boolean training : new boolean[] {true, false}) {
      try (PointerScope scope = new PointerScope()) {
        Tensor x = input(20, 6, 3, 4, 4);
        Tensor k = T.randomParam(21, F64, 3, 3, 1, 1);
        Tensor gamma = T.randomParam(22, F64, 3);
        Tensor beta = T.randomParam(23, F64, 3);
        Tensor mean = T.tensor(new double[] {0.1, -0.2, 0.3}, F64, 3);
        Tensor var = T.tensor(new double[] {0.5, 1.5, 2.0}, F64, 3);
        check(
            "batch_norm (" + (training ? "train" : "eval") + ")",
            List.of(k, gamma, beta),
            () ->
                head(
                    torch.batch_norm(
                        torch.conv2d(x, k),
                        new TensorOptional(gamma),
                        new TensorOptional(beta),
                        new TensorOptional(mean),
                        new TensorOptional(var),
                        training,
                        0.1,
                        1e-5,
                        false)));
      }
    }
  }

  @Test
  void lstm() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(24);
      LSTMImpl lstm = new LSTMImpl(3, 4);
      lstm.to(F64, false);
      Tensor x = input(25, 5, 2, 3); // (length, batch, features)
      check("LSTM", params(lstm.parameters()), () -> head(lstm.forward(x).get0()));
    }
  }

  private static List<Tensor> params(TensorVector v) {
    List<Tensor> out = new ArrayList<>();
    for (long i = 0; i < v.size(); i++) {
      out.add(v.get(i));
    }
    return out;
  }

  /**
   * One AdaHessian step on {@code loss}; its H z for every parameter against central differences of
   * the gradient along the same z, at the parameters before the step.
   */
  private static void check(String layer, List<Tensor> params, Supplier<Tensor> loss) {
    int n = params.size();
    double[][] start = new double[n][];
    double[][] z = new double[n][];
    for (int i = 0; i < n; i++) {
      start[i] = T.values(params.get(i));
      z[i] = ReferenceProbes.rademacher(SEED, 0, i, start[i].length);
    }
    double[][] hz = new double[n][];
    try (AdaHessian opt = AdaHessian.builder().lr(1e-3).seed(SEED).build(params)) {
      opt.step(loss);
      for (int i = 0; i < n; i++) {
        hz[i] = T.values(opt.stateTensor("hessian_diag", i));
      }
    }
    set(params, start, z, H);
    double[][] plus = gradients(loss, params);
    set(params, start, z, -H);
    double[][] minus = gradients(loss, params);
    set(params, start, z, 0);
    double largest = 0;
    for (int i = 0; i < n; i++) {
      for (double v : hz[i]) {
        largest = Math.max(largest, Math.abs(v));
      }
    }
    System.out.println(layer + ": largest |H z| " + largest);
    assertTrue(largest > 1e-3, layer + ": H z is not trivially zero (" + largest + ")");
    for (int i = 0; i < n; i++) {
      double[] fd = new double[hz[i].length];
      for (int e = 0; e < fd.length; e++) {
        fd[e] = (plus[i][e] - minus[i][e]) / (2 * H);
      }
      T.assertClose(layer + ", parameter " + i + ": H z", hz[i], fd, 1e-6, 1e-7 * largest);
    }
  }

  /** params[i] = start[i] + step * z[i], in place and outside the graph. */
  private static void set(List<Tensor> params, double[][] start, double[][] z, double step) {
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      for (int i = 0; i < params.size(); i++) {
        double[] v = start[i].clone();
        for (int e = 0; e < v.length; e++) {
          v[e] += step * z[i][e];
        }
        Tensor p = params.get(i);
        p.copy_(T.tensor(v, F64, FusedOptimizer.shapeOf(p)));
      }
    }
  }

  private static double[][] gradients(Supplier<Tensor> loss, List<Tensor> params) {
    try (PointerScope scope = new PointerScope()) {
      TensorVector g =
          torch.grad(
              new TensorVector(loss.get()),
              new TensorVector(params.toArray(new Tensor[0])),
              new TensorVector(),
              new BoolOptional(false),
              false,
              false);
      double[][] out = new double[params.size()][];
      for (int i = 0; i < out.length; i++) {
        out[i] = T.values(g.get(i));
      }
      return out;
    }
  }
}
