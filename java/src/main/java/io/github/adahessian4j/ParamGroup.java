package io.github.adahessian4j;

import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * Parameters that share hyperparameters. The options can be replaced between steps (learning-rate
 * schedules); the parameter list is fixed when the group is added. Once its optimizer is closed,
 * every call throws {@link IllegalStateException}, as the optimizer's own do.
 *
 * @param <O> {@link AdaHessianOptions} or {@link AdamOptions}
 */
public final class ParamGroup<O extends GroupOptions<O>> {
  private final FusedOptimizer<O> owner;
  private final List<Tensor> params;
  private volatile O options;

  ParamGroup(FusedOptimizer<O> owner, List<Tensor> params, O options) {
    this.owner = owner;
    this.params = List.copyOf(params);
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * The group's parameters, in the order given.
   *
   * @return the parameters
   */
  public List<Tensor> params() {
    owner.ensureOpen();
    return params;
  }

  /**
   * The group's options.
   *
   * @return the options
   */
  public O options() {
    owner.ensureOpen();
    return options;
  }

  /**
   * Replaces the group's options; takes effect at the next step.
   *
   * @param options the new options
   */
  public void setOptions(O options) {
    owner.ensureOpen();
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * The group's learning rate.
   *
   * @return the learning rate
   */
  public double lr() {
    owner.ensureOpen();
    return options.lr();
  }

  /**
   * Replaces the group's learning rate (the other options stay); takes effect at the next step.
   *
   * @param lr the learning rate
   */
  public void setLr(double lr) {
    owner.ensureOpen();
    Checks.learningRate(lr);
    options = options.withLr(lr);
  }
}
