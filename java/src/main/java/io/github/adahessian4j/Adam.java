package io.github.adahessian4j;

import java.util.List;

/**
 * Adam (Kingma and Ba, 2015), fused: numerically {@code torch::optim::Adam} / {@code
 * torch.optim.Adam} with {@code weightDecay} as an L2 penalty added to the gradient. Defaults: lr
 * 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 0, no amsgrad.
 *
 * <pre>{@code
 * try (Adam opt = Adam.builder().lr(1e-3).build(model.parameters())) {
 *   opt.zeroGrad();
 *   Tensor loss = torch.cross_entropy(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 * }
 * }</pre>
 */
public final class Adam extends FusedAdam {
  private Adam(Builder b, List<GroupSpec<AdamOptions>> groups) {
    super(b, groups, false);
  }

  /**
   * A builder with {@code torch.optim.Adam}'s defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link Adam}. */
  public static final class Builder extends FusedAdam.Builder<Builder, Adam> {
    private Builder() {
      super(AdamOptions.adamDefaults());
    }

    @Override
    Builder self() {
      return this;
    }

    @Override
    Adam create(List<GroupSpec<AdamOptions>> groups) {
      return new Adam(this, groups);
    }
  }
}
