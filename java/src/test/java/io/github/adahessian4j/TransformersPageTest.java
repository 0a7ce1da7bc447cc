package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The Java snippets of docs/transformers.md, run (DocsSnippetsTest finds them here). */
class TransformersPageTest {
  record Batch(Tensor x, Tensor y) {}

  /** Linear(32, 8), tanh, Linear(8, 4): both weights' sizes are multiples of 32. */
  static final class Net extends org.bytedeco.pytorch.Module {
    final LinearImpl hidden = register_module("hidden", new LinearImpl(32, 8));
    final LinearImpl out = register_module("out", new LinearImpl(8, 4));

    Tensor forward(Tensor x) {
      return out.forward(torch.tanh(hidden.forward(x)));
    }
  }

  private final Net model;
  private final List<Batch> batches = new ArrayList<>();
  private final int updates = 3;

  TransformersPageTest() {
    torch.manual_seed(4);
    model = new Net();
    for (int b = 0; b < 2; b++) {
      Tensor x = torch.randn(16, 32);
      batches.add(new Batch(x, torch.argmax(x.narrow(1, 0, 4), new LongOptional(1), false)));
    }
  }

  @Test
  void thePapersTransformerRecipe() {
    double before = T.values(model.hidden.weight())[0];
    double peak = 0.047;
    double initial = 3.13e-6;
    int warmup = 8000;
    try (AdaHessian opt =
        AdaHessian.builder()
            .blockAveraging(BlockAveraging.FAIRSEQ)
            .lr(initial)
            .betas(0.9, 0.98)
            .eps(1e-4)
            .weightDecay(1e-4)
            .build(model.parameters())) {
      for (int update = 0; update < updates; update++) {
        // fairseq's inverse_sqrt: linear from initial to peak over the warm-up, then 1 / sqrt
        double lr =
            update < warmup
                ? initial + (peak - initial) * update / warmup
                : peak * Math.sqrt((double) warmup / update);
        opt.setLr(lr);
        Batch b = batches.get(update % batches.size());
        opt.step(() -> torch.cross_entropy_loss(model.forward(b.x()), b.y())).close();
      }
    }
    assertTrue(T.values(model.hidden.weight())[0] != before);
  }

  @Test
  void hutchinsonEstimatorWithAClosure() {
    try (PointerScope scope = new PointerScope()) {
      Batch b = batches.get(0);
      List<Tensor> params = List.of(model.hidden.weight(), model.out.weight());
      List<Tensor> diagonal =
          new HutchinsonEstimator(42)
              .hessianDiagonal(
                  () -> torch.cross_entropy_loss(model.forward(b.x()), b.y()), params, 4);
      assertEquals(2, diagonal.size());
    }
  }
}
