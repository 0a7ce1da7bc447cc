package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdaHessianOptions;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamOptions;
import io.github.adahessian4j.Optimizer;

/**
 * The two optimizers compared, each with its usual default learning rate. Both train through the
 * same {@link Optimizer} interface: the training loop does not know which one it has. For a
 * {@linkplain Model#languageModel() language model} they follow {@link TransformerRecipe}: Adam is
 * AdamW there.
 */
public enum OptimizerKind {
  ADAM("Adam", AdamOptions.adamDefaults().lr()) {
    @Override
    Optimizer create(
        Model model, Model.Net net, double lr, long seed, int updateEach, int hessianWarmup) {
      return model.languageModel()
          ? TransformerRecipe.adamW(net.parameters(), lr)
          : Adam.builder().lr(lr).build(net.parameters());
    }
  },
  /**
   * {@code seed} fixes the probes; {@code updateEach} and {@code hessianWarmup} when the Hessian
   * estimate is refreshed.
   */
  ADAHESSIAN("AdaHessian", AdaHessianOptions.DEFAULTS.lr()) {
    @Override
    Optimizer create(
        Model model, Model.Net net, double lr, long seed, int updateEach, int hessianWarmup) {
      return (model.languageModel()
              ? TransformerRecipe.adaHessian(lr)
              : AdaHessian.builder().lr(lr))
          .seed(seed)
          .updateEach(updateEach)
          .hessianWarmup(hessianWarmup)
          .build(net.parameters());
    }
  };

  private final String label;
  private final double defaultLr;

  OptimizerKind(String label, double defaultLr) {
    this.label = label;
    this.defaultLr = defaultLr;
  }

  /**
   * An optimizer over {@code net}'s parameters, with the recipe of {@code model} (the model {@code
   * net} was created from); {@code seed} fixes AdaHessian's probes, which refreshes its estimate
   * every {@code updateEach} steps and at each of its first {@code hessianWarmup} (Adam: both
   * ignored).
   */
  abstract Optimizer create(
      Model model, Model.Net net, double lr, long seed, int updateEach, int hessianWarmup);

  public String label() {
    return label;
  }

  /** The library's default: Adam's 1e-3 (PyTorch's), AdaHessian's 0.15 (the paper's). */
  public double defaultLr() {
    return defaultLr;
  }
}
