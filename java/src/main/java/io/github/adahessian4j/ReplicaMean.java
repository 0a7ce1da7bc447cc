package io.github.adahessian4j;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Data-parallel training: the mean of tensors across replicas, in place (an all-reduce that sums
 * and divides by the number of replicas). {@link io.github.adahessian4j.distributed.ProcessGroup}
 * provides one over libtorch's c10d ({@code processGroup.replicaMean()}); any other collective the
 * application uses can be plugged in. Give it to any optimizer's builder ({@link
 * OptimizerBuilder#replicaMean(ReplicaMean)}).
 *
 * <p>Once per step, after the loss unscaling and before clipping, the non-finite check and anything
 * else, the step calls {@link #averageInPlace} with:
 *
 * <ul>
 *   <li>Adam and AdamW: the gradients of the parameters that have one, in parameter order (both in
 *       {@code step(closure)} and in {@code step()} after the user's own {@code backward()}). They
 *       are {@code p.grad()} itself (detached handles sharing its storage), so {@code p.grad()}
 *       holds the mean afterwards as under DistributedDataParallel, unless a loss scale other than
 *       1 or a non-contiguous gradient made the step work on a copy.
 *   <li>AdaHessian: the gradients of the parameters that have one and step (not those held back for
 *       want of an estimate, see {@link AdaHessian}), in parameter order, followed by the fresh
 *       Hessian-diagonal estimates of the parameters due for one, in parameter order. AdaHessian
 *       computes its gradients with {@code torch.grad}, which no DistributedDataParallel hook sees,
 *       so it averages them itself. Every replica draws the same probes (same seed, same counter,
 *       same parameter indices), so the mean of the replicas' estimates is the Hutchinson estimate
 *       of the mean Hessian.
 * </ul>
 *
 * The replicas then take the same step. The list is the same on every replica as long as the same
 * parameters receive gradients on each (true for any model without data-dependent branches); a step
 * with no gradient at all (or AdaHessian's held-back ones only) still calls it, with an empty list,
 * so that the other replicas are not left waiting. {@code ProcessGroup} checks that the lists agree
 * before it moves any data and throws a {@link
 * io.github.adahessian4j.distributed.CollectiveException} on every rank when they do not.
 *
 * <p>The tensors are the optimizer's own (detached, contiguous, on the parameters' devices); write
 * the means into them. On CUDA, the writes must be complete, or queued on the current CUDA stream,
 * when this returns: the fused step is queued on that stream right after it. This runs inside the
 * step's {@link org.bytedeco.javacpp.PointerScope}: tensors created here are released when the step
 * returns, so create buffers you keep across steps before the first step (or retain them). An
 * exception thrown here propagates from {@code step} and the step changes nothing.
 */
@FunctionalInterface
public interface ReplicaMean {
  /**
   * Replaces each tensor with its mean over the replicas (in place, same shape and dtype).
   *
   * @param tensors the gradients, then (AdaHessian) the fresh Hessian estimates, of this step
   */
  void averageInPlace(List<Tensor> tensors);
}
