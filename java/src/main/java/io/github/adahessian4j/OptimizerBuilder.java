package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * The options every optimizer's builder has: the shared hyperparameters of the default group
 * options, gradient clipping, the non-finite policy, the replica mean of data-parallel training,
 * and the parameter groups. Each optimizer's builder adds only its own options.
 *
 * @param <O> the group options
 * @param <B> the concrete builder
 * @param <T> the optimizer it builds
 */
public abstract sealed class OptimizerBuilder<
        O extends GroupOptions<O>, B extends OptimizerBuilder<O, B, T>, T extends Optimizer>
    permits FusedAdam.Builder, AdaHessian.Builder {
  O defaults;
  double clipMaxNorm = Double.POSITIVE_INFINITY;
  double clipNormType = 2.0;
  NonFinitePolicy nonFinitePolicy = NonFinitePolicy.SKIP;
  ReplicaMean replicaMean;
  private final List<GroupSpecPending<O>> groups = new ArrayList<>();

  private record GroupSpecPending<O>(List<Tensor> params, O options) {}

  OptimizerBuilder(O defaults) {
    this.defaults = defaults;
  }

  abstract B self();

  abstract T create(List<FusedOptimizer.GroupSpec<O>> groups);

  /**
   * Learning rate of the default group options.
   *
   * @param lr the learning rate
   * @return this builder
   */
  public B lr(double lr) {
    defaults = defaults.withLr(lr);
    return self();
  }

  /**
   * Moment decays of the default group options.
   *
   * @param beta1 decay of the first moment
   * @param beta2 decay of the second moment
   * @return this builder
   */
  public B betas(double beta1, double beta2) {
    defaults = defaults.withBetas(beta1, beta2);
    return self();
  }

  /**
   * Denominator term of the default group options.
   *
   * @param eps added to the denominator
   * @return this builder
   */
  public B eps(double eps) {
    defaults = defaults.withEps(eps);
    return self();
  }

  /**
   * Weight decay of the default group options (its meaning is the optimizer's: see its options).
   *
   * @param weightDecay the weight decay
   * @return this builder
   */
  public B weightDecay(double weightDecay) {
    defaults = defaults.withWeightDecay(weightDecay);
    return self();
  }

  /**
   * Clips the gradients each step uses by their 2-norm over all parameters, as {@code
   * torch.nn.utils.clip_grad_norm_(params, maxNorm)} does before {@code step()}.
   *
   * @param maxNorm the largest norm allowed, positive
   * @return this builder
   */
  public B clipGradNorm(double maxNorm) {
    return clipGradNorm(maxNorm, 2.0);
  }

  /**
   * Clips the gradients each step uses, with {@code torch.nn.utils.clip_grad_norm_}'s semantics:
   * the norm of all gradients together (AdaHessian's own, which never land in {@code p.grad()},
   * included), after loss unscaling and the replica mean and before the moments see them; when
   * {@code maxNorm / (norm + 1e-6) < 1} every gradient is multiplied by that factor (in place: for
   * Adam and AdamW that is {@code p.grad()}). A non-finite norm never clips: the non-finite policy
   * decides what the step does. AdaHessian's Hessian-vector products are not clipped.
   *
   * @param maxNorm the largest norm allowed, positive
   * @param normType 2 (the Euclidean norm) or {@code Double.POSITIVE_INFINITY} (the max norm)
   * @return this builder
   */
  public B clipGradNorm(double maxNorm, double normType) {
    if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
      throw new IllegalArgumentException(
          "Invalid max_norm value: " + maxNorm + " (must be positive and finite)");
    }
    if (normType != 2.0 && normType != Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException(
          "Invalid norm_type value: " + normType + " (supported: 2 and Double.POSITIVE_INFINITY)");
    }
    this.clipMaxNorm = maxNorm;
    this.clipNormType = normType;
    return self();
  }

  /**
   * What a step does with NaN or infinite gradients and Hessian estimates (default {@link
   * NonFinitePolicy#SKIP}).
   *
   * @param policy the policy
   * @return this builder
   */
  public B nonFinitePolicy(NonFinitePolicy policy) {
    this.nonFinitePolicy = Objects.requireNonNull(policy, "policy");
    return self();
  }

  /**
   * Data-parallel training: each step averages the gradients (and AdaHessian's fresh Hessian
   * estimates) across replicas through {@code replicaMean}, after loss unscaling and before
   * clipping, the non-finite check and the update, so every replica takes the same step (default
   * none: one process). {@code processGroup.replicaMean()} of {@link
   * io.github.adahessian4j.distributed.ProcessGroup} is one; see {@link ReplicaMean} for what each
   * optimizer hands over.
   *
   * @param replicaMean the in-place mean over replicas
   * @return this builder
   */
  public B replicaMean(ReplicaMean replicaMean) {
    this.replicaMean = Objects.requireNonNull(replicaMean, "replicaMean");
    return self();
  }

  /**
   * Adds a group that uses the builder's options as they are when {@link #build()} runs.
   *
   * @param params the group's parameters
   * @return this builder
   */
  public B group(List<Tensor> params) {
    groups.add(new GroupSpecPending<>(List.copyOf(Objects.requireNonNull(params, "params")), null));
    return self();
  }

  /**
   * Adds a group with its own options.
   *
   * @param params the group's parameters
   * @param options the group's options
   * @return this builder
   */
  public B group(List<Tensor> params, O options) {
    groups.add(
        new GroupSpecPending<>(
            List.copyOf(Objects.requireNonNull(params, "params")),
            Objects.requireNonNull(options, "options")));
    return self();
  }

  /**
   * Builds the optimizer over the groups added so far.
   *
   * @return the optimizer
   */
  public T build() {
    if (groups.stream().allMatch(g -> g.params().isEmpty())) {
      throw new IllegalArgumentException("optimizer got an empty parameter list");
    }
    List<FusedOptimizer.GroupSpec<O>> specs = new ArrayList<>();
    for (GroupSpecPending<O> g : groups) {
      specs.add(
          new FusedOptimizer.GroupSpec<>(g.params(), g.options() != null ? g.options() : defaults));
    }
    return create(specs);
  }

  /**
   * Builds the optimizer over one group: {@code params} (e.g. {@code module.parameters()}).
   *
   * @param params the parameters
   * @return the optimizer
   */
  public T build(TensorVector params) {
    return group(List.of(params.get())).build();
  }

  /**
   * Builds the optimizer over one group.
   *
   * @param params the parameters
   * @return the optimizer
   */
  public T build(List<Tensor> params) {
    return group(params).build();
  }
}
