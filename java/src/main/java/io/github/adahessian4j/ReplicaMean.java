package io.github.adahessian4j;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Data-parallel training with {@link AdaHessian}: the mean of tensors across replicas, in place
 * (an all-reduce that sums and divides by the number of replicas, through whatever process group
 * the application uses).
 *
 * <p>AdaHessian computes its gradients with {@code torch.grad}, which no DistributedDataParallel
 * hook sees, so it averages them itself: once per step, after the Hessian-vector products and
 * before anything changes, it calls {@link #averageInPlace} with the gradients of the parameters
 * that have one, in parameter order, followed by the fresh Hessian-diagonal estimates of the
 * parameters due for one, in parameter order. Every replica draws the same probes (same seed, same
 * counter, same parameter indices), so the mean of the replicas' estimates is the Hutchinson
 * estimate of the mean Hessian, and the replicas take the same step. The list is the same on every
 * replica as long as the same parameters receive gradients on each (true for any model without
 * data-dependent branches): otherwise the collective would not match up.
 *
 * <p>The tensors are the optimizer's own (detached, contiguous, on the parameters' devices); write
 * the means into them. On CUDA, the writes must be complete, or queued on the current CUDA stream,
 * when this returns: the fused step is queued on that stream right after it. This runs inside the
 * step's {@link org.bytedeco.javacpp.PointerScope}: tensors created here are released when the
 * step returns, so create buffers you keep across steps before the first step (or retain them).
 * An exception thrown here propagates from {@code step} and the step changes nothing.
 */
@FunctionalInterface
public interface ReplicaMean {
  /**
   * Replaces each tensor with its mean over the replicas (in place, same shape and dtype).
   *
   * @param tensors the gradients, then the fresh Hessian estimates, of this step
   */
  void averageInPlace(List<Tensor> tensors);
}
