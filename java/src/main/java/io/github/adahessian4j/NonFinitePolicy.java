package io.github.adahessian4j;

/**
 * What a step does when a gradient or a Hessian-diagonal estimate holds NaN or infinity (after
 * unscaling by the loss scale). Checking costs one extra read of the gradients (and estimates).
 */
public enum NonFinitePolicy {
  /** Skip the step: parameters and state stay as they were; {@code skippedSteps()} counts it. */
  SKIP,
  /** Throw an {@link OptimizerException} naming the parameter; nothing changes. */
  THROW,
  /** Do not check (PyTorch's optimizers' behaviour): NaN and infinity flow into the parameters. */
  IGNORE
}
