/**
 * AdaHessian, Adam and AdamW for bytedeco's libtorch tensors, each step one native call for all
 * parameters, and the Hessian's diagonal, trace, top eigenvalues and spectral density of any loss.
 *
 * <p>Every optimizer is an {@link io.github.adahessian4j.Optimizer}, and one training loop serves
 * them all: trying {@link io.github.adahessian4j.AdaHessian} in a loop written for {@link
 * io.github.adahessian4j.Adam}, or the reverse, is the one line that builds the optimizer. The
 * closure computes and returns the loss; the optimizer differentiates it (do not call {@code
 * backward()} in it). What the closure creates is freed when the step returns, and the loss comes
 * back detached from its graph: close it, as here, and nothing is left to the garbage collector
 * (more in the project's docs/guide.md):
 *
 * <pre>
 * try (Optimizer opt = AdaHessian.builder().lr(0.15).build(model.parameters())) {
 *   // try (Optimizer opt = Adam.builder().lr(1e-3).build(model.parameters())) {   // the same loop
 *   for (Batch b : batches) {  // the step frees what the closure creates; the loss comes back detached
 *     try (Tensor loss = opt.step(() -&gt; torch.cross_entropy_loss(model.forward(b.x()), b.y()))) {
 *       System.out.println(loss.item_double());
 *     }
 *   }
 * }
 * </pre>
 *
 * <p>Parameter groups, schedules ({@link io.github.adahessian4j.schedule}), gradient clipping, step
 * statistics ({@link io.github.adahessian4j.StepStats}), checkpoints and gradient accumulation: the
 * project's docs/guide.md. Data-parallel training: {@link io.github.adahessian4j.distributed}. The
 * Hessian's spectrum: {@link io.github.adahessian4j.HessianAnalysis}.
 */
package io.github.adahessian4j;
