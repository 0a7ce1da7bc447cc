package io.github.adahessian4j;

import java.util.List;

/**
 * AdamW (Loshchilov and Hutter, 2019), fused: numerically {@code torch::optim::AdamW} / {@code
 * torch.optim.AdamW}, with decoupled weight decay {@code p *= 1 - lr * weightDecay}. Defaults: lr
 * 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 1e-2, no amsgrad.
 */
public final class AdamW extends FusedAdam {
  private AdamW(Builder b, List<GroupSpec<AdamOptions>> groups) {
    super(b, groups, true);
  }

  /**
   * A builder with {@code torch.optim.AdamW}'s defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link AdamW}. */
  public static final class Builder extends FusedAdam.Builder<Builder, AdamW> {
    private Builder() {
      super(AdamOptions.adamWDefaults());
    }

    @Override
    Builder self() {
      return this;
    }

    @Override
    AdamW create(List<GroupSpec<AdamOptions>> groups) {
      return new AdamW(this, groups);
    }
  }
}
