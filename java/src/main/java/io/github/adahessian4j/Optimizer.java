package io.github.adahessian4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * computes and returns the loss, a scalar with a graph to the parameters, and does not call {@code
 * backward()}; the optimizer differentiates it (Adam and AdamW: reset the gradients, {@code
 * backward()}, step; AdaHessian: the gradient and the Hessian-vector product with {@code
 * torch.grad}). A closure that calls {@code backward()} itself gets an {@link OptimizerException}
 * that says what to do, and nothing is stepped. Adam and AdamW also keep PyTorch's other form:
 * {@code loss.backward()} in the user's code, then {@link Adam#step()}.
 *
 * <p>Every step also applies the optimizer's gradient clipping (see {@link
 * OptimizerBuilder#clipGradNorm(double, double)}) and non-finite policy, and leaves what it did in
 * {@link #lastStepStats()}.
 */
public sealed interface Optimizer extends AutoCloseable permits FusedOptimizer {
  /**
   * One step: calls {@code lossFunction}, differentiates its loss and updates the parameters.
   *
   * <p>The closure runs in the step's own {@code PointerScope}: the native objects it creates (the
   * forward pass's activations) are freed when the step returns, not when the garbage collector
   * gets to them, so native memory per iteration does not depend on the collector. The returned
   * loss is the closure's loss detached from its graph (its value, sharing its storage; owned by
   * the caller's innermost scope): the graph, which holds every activation, is freed with the step
   * even where the caller lets the loss go without closing it. Close it all the same ({@code try
   * (Tensor loss = opt.step(...))}) in a loop that may run long between collections: small native
   * objects left to the collector fragment the native heap (measured in a JVM that never collects,
   * over 600 AdaHessian steps: +90 to +188 MiB with the loss left unclosed, +6 MiB with it closed).
   * The rule: a tensor the closure creates and the caller keeps elsewhere is freed with the step;
   * create such tensors outside the closure.
   *
   * @param lossFunction computes and returns the loss, without calling {@code backward()}
   * @return the closure's loss, detached
   * @throws OptimizerException if the closure broke the contract or the step's input was invalid;
   *     nothing was changed
   */
  Tensor step(Supplier<Tensor> lossFunction);

  /**
   * The parameter groups, in the order they were added (an unmodifiable view).
   *
   * @return the groups
   */
  List<? extends ParamGroup<?>> paramGroups();

  /**
   * Adds a group of parameters with the builder's default options (fine-tuning: unfreezing layers).
   * A parameter the optimizer already holds, or an invalid one, is refused with an {@link
   * IllegalArgumentException} and nothing changes. Learning-rate schedules made before refuse to
   * step until they are made again over the new groups.
   *
   * @param params the group's parameters
   */
  void addParamGroup(List<Tensor> params);

  /**
   * The learning rate of the first group (see {@link ParamGroup#lr()} for the others).
   *
   * @return the first group's learning rate
   */
  default double lr() {
    return paramGroups().get(0).lr();
  }

  /**
   * Sets the learning rate of every group.
   *
   * @param lr the learning rate
   */
  void setLr(double lr);

  /** Resets every parameter's gradient to undefined (PyTorch's {@code set_to_none}). */
  void zeroGrad();

  /**
   * What the most recent step did: loss, gradient norm, clipping, skipping, the groups' learning
   * rates, and AdaHessian's Hessian estimate.
   *
   * @return the statistics ({@code step() == 0} before the first step)
   */
  StepStats lastStepStats();

  /**
   * Where the most recent step spent its time: the closure, the gradient, AdaHessian's
   * Hessian-vector products, the replica mean and the update, in nanoseconds (all 0 before the
   * first step; a step that threw leaves its own).
   *
   * @return the step's times
   */
  StepTimes lastStepTimes();

  /**
   * The largest gradient norm the steps allow ({@code Double.POSITIVE_INFINITY}: no clipping).
   *
   * @return the clipping threshold
   */
  double clipMaxNorm();

  /**
   * The norm clipping measures: 2 or {@code Double.POSITIVE_INFINITY}.
   *
   * @return the norm type
   */
  double clipNormType();

  /**
   * What a step does with NaN or infinite gradients and Hessian estimates (default SKIP).
   *
   * @return the policy
   */
  NonFinitePolicy nonFinitePolicy();

  /**
   * Sets what a step does with NaN or infinite gradients and Hessian estimates.
   *
   * @param policy the policy
   */
  void setNonFinitePolicy(NonFinitePolicy policy);

  /**
   * The factor the loss was multiplied by (mixed-precision loss scaling; default 1). Gradients and
   * Hessian-vector products are divided by it before the checks, clipping and the update.
   *
   * @return the loss scale
   */
  double lossScale();

  /**
   * Sets the loss scale.
   *
   * @param scale a positive, finite factor
   */
  void setLossScale(double scale);

  /**
   * Steps skipped because of non-finite numbers, since construction.
   *
   * @return the count
   */
  long skippedSteps();

  /**
   * Whether the most recent step was skipped because of non-finite numbers.
   *
   * @return true if it was skipped
   */
  boolean lastStepSkipped();

  /**
   * Saves the optimizer's state (moments, step counts, probe generator, group options) atomically
   * to {@code file}: a temporary file is written, forced to disk and renamed over it.
   *
   * @param file the checkpoint file
   * @throws IOException if writing fails (the previous file is intact)
   */
  void save(Path file) throws IOException;

  /**
   * Replaces the optimizer's state with a checkpoint written by {@link #save(Path)} for the same
   * parameters; a truncated, corrupted or mismatched file throws {@link CheckpointException} and
   * changes nothing.
   *
   * @param file the checkpoint file
   * @throws IOException if reading fails
   */
  void load(Path file) throws IOException;

  /**
   * Writes the same checkpoint to a stream (for example an entry of the archive that holds the
   * model), with its checksum. The stream is flushed, not closed.
   *
   * @param out where to write
   * @throws IOException if writing fails
   */
  void save(OutputStream out) throws IOException;

  /**
   * Reads a checkpoint written by {@link #save(OutputStream)} from a stream, exactly up to its
   * checksum (what follows in the stream is left unread), with the same checks and the same
   * all-or-nothing guarantee as the file form. The stream is not closed.
   *
   * @param in where to read
   * @throws IOException if reading fails
   */
  void load(InputStream in) throws IOException;

  /**
   * Frees the optimizer's state; every later call on it or on one of its {@link ParamGroup}s (and
   * so every schedule built or stepped on it) throws {@link IllegalStateException}. Idempotent.
   */
  @Override
  void close();
}
