package io.github.adahessian4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * What every optimizer of this library does, so a training loop written against it runs unchanged
 * with {@link Adam}, {@link AdamW} or {@link AdaHessian}: swapping one for another is a one-line
 * change where the optimizer is built.
 *
 * <p><b>The closure contract</b>, the same for every optimizer: {@link #step(Supplier)}'s closure
 * computes and returns the loss, a scalar with a graph to the parameters, and does not call
 * {@code backward()}; the optimizer differentiates it (Adam and AdamW: zero the gradients,
 * {@code backward()}, step; AdaHessian: the gradient and the Hessian-vector product with
 * {@code torch.grad}). A closure that breaks it gets an {@link OptimizerException} that says what
 * to do, and nothing changes.
 */
public sealed interface Optimizer extends AutoCloseable permits FusedOptimizer {
  /**
   * One step: calls {@code lossFunction}, differentiates its loss and updates the parameters.
   * Returns that loss.
   */
  Tensor step(Supplier<Tensor> lossFunction);

  /** The parameter groups, in the order they were added. */
  List<? extends ParamGroup<?>> paramGroups();

  /** The learning rate of the first group (see {@link ParamGroup#lr()} for the others). */
  default double lr() {
    return paramGroups().get(0).lr();
  }

  /** Sets the learning rate of every group. */
  void setLr(double lr);

  /** Resets every parameter's gradient to undefined (PyTorch's {@code set_to_none}). */
  void zeroGrad();

  /** Saves the optimizer's state atomically to {@code file}. */
  void save(Path file) throws IOException;

  /** Replaces the optimizer's state with a checkpoint from {@link #save(Path)}; all or nothing. */
  void load(Path file) throws IOException;

  /** Frees the optimizer's state; every later call throws. Idempotent. */
  @Override
  void close();
}
