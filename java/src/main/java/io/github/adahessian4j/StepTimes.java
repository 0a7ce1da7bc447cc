package io.github.adahessian4j;

/**
 * Where the most recent step spent its time, in nanoseconds of {@link System#nanoTime()}: a few
 * clock readings per step, nothing synchronised or read from the tensors (on the CPU every phase
 * has finished when the next begins). {@link Optimizer#lastStepTimes()} gives it after every step.
 * Each interval of the step is charged to the phase it ends, so the phases sum to {@code total}
 * exactly; with several closures (micro-batches, or AdaHessian's separate Hessian loss) each phase
 * is their sum.
 *
 * @param closure the closure(s): the forward pass (0 in {@code step()} after the user's own {@code
 *     backward()})
 * @param gradient the gradient's backward pass: {@code backward()} for Adam and AdamW, {@code
 *     torch.grad} (with {@code create_graph} on a refresh step) for AdaHessian
 * @param hessian AdaHessian: the Hessian-vector products of the fresh estimates (0 on steps that
 *     reuse them, and for Adam and AdamW)
 * @param replicaMean the {@link ReplicaMean} (data-parallel training: the all-reduce of the
 *     gradients and fresh estimates, waiting for the other replicas included); 0 without one
 * @param update the rest: the loss scale's division, the checks and clipping, the native update and
 *     the freeing of the step's tensors
 * @param total the whole step, from its call to its return
 */
public record StepTimes(
    long closure, long gradient, long hessian, long replicaMean, long update, long total) {

  /** Before the first step. */
  static final StepTimes NONE = new StepTimes(0, 0, 0, 0, 0, 0);
}
