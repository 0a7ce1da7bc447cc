package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdamW;
import io.github.adahessian4j.BlockAveraging;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.schedule.LinearLR;
import io.github.adahessian4j.schedule.LrScheduler;
import org.bytedeco.pytorch.TensorVector;

/**
 * How the comparison trains a language model ({@link TransformerLm}, or a user's TorchScript one:
 * {@link Model#languageModel()}): the paper's transformer settings for AdaHessian (the authors'
 * fairseq optimizer: {@link BlockAveraging#FAIRSEQ}, betas (0.9, 0.98), eps 1e-4, weight decay
 * 1e-4, Hessian power 1, lr 0.047 after a linear warm-up) and AdamW as the first-order baseline
 * with the same betas, decay and warm-up, so that the two differ in the second moment. The warm-up
 * is scaled to the run: {@value #WARMUP_FRACTION} of its steps (the paper's 8,000 updates were
 * about that share of its runs), then the lr stays (no inverse square root decay: the runs here are
 * a few hundred steps).
 */
final class TransformerRecipe {
  static final double ADAMW_LR = 1e-3;
  static final double ADAHESSIAN_LR = 0.047;
  static final double BETA1 = 0.9;
  static final double BETA2 = 0.98;
  static final double ADAHESSIAN_EPS = 1e-4;
  static final double WEIGHT_DECAY = 1e-4;
  static final double WARMUP_FRACTION = 0.1;

  private TransformerRecipe() {}

  static Optimizer adamW(TensorVector params, double lr) {
    return AdamW.builder().lr(lr).betas(BETA1, BETA2).weightDecay(WEIGHT_DECAY).build(params);
  }

  /** AdaHessian's builder with the recipe's settings at {@code lr}; the caller adds the rest. */
  static AdaHessian.Builder adaHessian(double lr) {
    return AdaHessian.builder()
        .blockAveraging(BlockAveraging.FAIRSEQ)
        .lr(lr)
        .betas(BETA1, BETA2)
        .eps(ADAHESSIAN_EPS)
        .weightDecay(WEIGHT_DECAY)
        .hessianPower(1);
  }

  /**
   * The linear warm-up of a run of {@code totalSteps}: from lr / W up to lr over the first W =
   * max(1, round({@value #WARMUP_FRACTION} x totalSteps)) steps; call {@code step()} after each
   * optimizer step.
   */
  static LrScheduler warmUp(Optimizer optimizer, int totalSteps) {
    int steps = Math.max(1, (int) Math.round(WARMUP_FRACTION * totalSteps));
    return new LinearLR(optimizer, 1.0 / steps, 1.0, steps);
  }
}
