package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamW;
import io.github.adahessian4j.Optimizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The drop-in promise: one training loop, written against {@link Optimizer} only, trains the demo's
 * MLP with Adam, AdamW and AdaHessian; the optimizer is the one line that changes.
 */
class GenericLoopTest {
  /**
   * Trains {@code net} for {@code epochs} on {@code train}; returns the final training accuracy.
   */
  static double train(Model.Net net, Optimizer opt, DataSet.Split train, int epochs, int batch) {
    for (int epoch = 0; epoch < epochs; epoch++) {
      for (int start = 0; start + batch <= train.size(); start += batch) {
        try (PointerScope scope = new PointerScope()) {
          Tensor x = train.images().narrow(0, start, batch);
          Tensor y = train.labels().narrow(0, start, batch);
          opt.step(() -> torch.cross_entropy_loss(net.forward(x), y));
        }
      }
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor logits = net.forward(train.images());
      return torch
          .argmax(logits, new LongOptional(1), false)
          .eq(train.labels())
          .to(torch.ScalarType.Double)
          .mean()
          .item_double();
    }
  }

  @Test
  void oneLoopTrainsTheDemosMlpWithEachOptimizer() throws Exception {
    DataSet data = DataSet.load("synthetic", null, 512, 64);
    Map<String, Function<Model.Net, Optimizer>> optimizers =
        Map.of(
            "Adam", net -> Adam.builder().lr(1e-3).build(net.parameters()),
            "AdamW", net -> AdamW.builder().lr(1e-3).build(net.parameters()),
            "AdaHessian", net -> AdaHessian.builder().lr(0.15).build(net.parameters()));
    for (String name : List.of("Adam", "AdamW", "AdaHessian")) {
      torch.manual_seed(1);
      Model.Net net = Model.MLP.create();
      double before;
      try (PointerScope scope = new PointerScope()) {
        before =
            torch
                .cross_entropy_loss(net.forward(data.train().images()), data.train().labels())
                .item_double();
      }
      try (Optimizer opt = optimizers.get(name).apply(net)) {
        double accuracy = train(net, opt, data.train(), 3, 64);
        double after;
        try (PointerScope scope = new PointerScope()) {
          after =
              torch
                  .cross_entropy_loss(net.forward(data.train().images()), data.train().labels())
                  .item_double();
        }
        System.out.printf(
            "generic loop, %s: training loss %.4f -> %.4f, accuracy %.1f%%%n",
            name, before, after, 100 * accuracy);
        assertTrue(
            after < 0.5 * before,
            name + ": the loss must fall by half, " + before + " -> " + after);
        assertTrue(accuracy > 0.8, name + ": training accuracy " + accuracy);
        assertEquals(3L * (512 / 64), opt.lastStepStats().step(), name + ": steps counted");
      }
    }
  }

  @Test
  void cacheFolderFollowsHomeLikeTheSetupScript() {
    // setup-data.sh writes ${ADAHESSIAN4J_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/adahessian4j/data}.
    assertEquals(
        Path.of("/work/home/.cache/adahessian4j/data"),
        DataSet.cacheRoot(Map.of("HOME", "/work/home"), "/root"),
        "$HOME wins over user.home");
    assertEquals(
        Path.of("/root/.cache/adahessian4j/data"),
        DataSet.cacheRoot(Map.of(), "/root"),
        "user.home only without $HOME");
    assertEquals(
        Path.of("/x/adahessian4j/data"),
        DataSet.cacheRoot(Map.of("HOME", "/work/home", "XDG_CACHE_HOME", "/x"), "/root"));
    assertEquals(
        Path.of("/data"),
        DataSet.cacheRoot(Map.of("HOME", "/work/home", "ADAHESSIAN4J_DATA", "/data"), "/root"));
  }
}
