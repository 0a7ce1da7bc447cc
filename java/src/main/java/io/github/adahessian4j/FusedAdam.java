package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * The fused Adam step shared by {@link Adam} (L2 weight decay) and {@link AdamW} (decoupled weight
 * decay): one native call updates every parameter that has a gradient, with the formulas of
 * libtorch's {@code torch::optim::Adam} and {@code AdamW} (and {@code maximize} from
 * {@code torch.optim}). Gradients come from the usual {@code loss.backward()}.
 */
public abstract sealed class FusedAdam extends FusedOptimizer<AdamOptions> permits Adam, AdamW {
  private final boolean decoupled;
  private final Tensor[] expAvgs;
  private final Tensor[] expAvgSqs;
  private final Tensor[] maxExpAvgSqs;

  FusedAdam(List<GroupSpec<AdamOptions>> groups, boolean decoupled) {
    super(groups);
    this.decoupled = decoupled;
    this.expAvgs = new Tensor[params.length];
    this.expAvgSqs = new Tensor[params.length];
    this.maxExpAvgSqs = new Tensor[params.length];
  }

  /**
   * Calls {@code closure} (which typically zeroes the gradients, computes the loss and calls
   * {@code backward()}), then steps. Returns the closure's loss.
   */
  public Tensor step(Supplier<Tensor> closure) {
    Objects.requireNonNull(closure, "closure");
    Tensor loss = closure.get();
    step();
    return loss;
  }

  /** Updates every parameter whose gradient ({@code p.grad()}) is defined. */
  public void step() {
    enter();
    try (PointerScope scope = new PointerScope()) {
      final int n = params.length;
      List<Integer> active = new ArrayList<>();
      Tensor[] grads = new Tensor[n];
      for (int i = 0; i < n; i++) {
        Tensor g = params[i].grad();
        if (g.defined()) {
          grads[i] = unscale(g.is_contiguous() ? g : g.contiguous());
          active.add(i);
        }
      }
      if (!finiteOrSkip(decoupled ? "AdamW step" : "Adam step", "gradient", active, grads)) {
        return;
      }
      Tensor[] newM = new Tensor[n];
      Tensor[] newV = new Tensor[n];
      Tensor[] newMax = new Tensor[n];
      int count = active.size();
      for (int k = 0; k < count; k++) {
        int i = active.get(k);
        AdamOptions o = groupOf(i).options();
        if (expAvgs[i] == null) {
          newM[i] = zerosState(i);
          newV[i] = zerosState(i);
        }
        if (o.amsgrad() && maxExpAvgSqs[i] == null) {
          newMax[i] = zerosState(i);
        }
        argParams.put(k, params[i]);
        argGrads.put(k, grads[i]);
        argA.put(k, expAvgs[i] != null ? expAvgs[i] : newM[i]);
        argB.put(k, expAvgSqs[i] != null ? expAvgSqs[i] : newV[i]);
        argC.put(k, !o.amsgrad() ? null : maxExpAvgSqs[i] != null ? maxExpAvgSqs[i] : newMax[i]);
        argSteps.put(k, steps[i] + 1);
        putHyper(k, o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), 0.0);
        argFlags.put(k, (o.amsgrad() ? ah4j.AH4J_ADAM_AMSGRAD : 0)
            | (o.maximize() ? ah4j.AH4J_ADAM_MAXIMIZE : 0)
            | (decoupled ? ah4j.AH4J_ADAM_DECOUPLED_WEIGHT_DECAY : 0));
      }
      if (count == 0) {
        return;
      }
      int status = ah4j.ah4j_adam_step_(argParams, argGrads, argA, argB, argC, count, argSteps,
          argHyper, argFlags);
      NativeCore.check(status, decoupled ? "AdamW step" : "Adam step", k -> describe(active.get((int) k)));
      for (int i : active) {
        steps[i]++;
        if (newM[i] != null) {
          expAvgs[i] = Natives.keep(scope, newM[i]);
          expAvgSqs[i] = Natives.keep(scope, newV[i]);
        }
        if (newMax[i] != null) {
          maxExpAvgSqs[i] = Natives.keep(scope, newMax[i]);
        }
      }
    } finally {
      exit();
    }
  }

  /**
   * For tests: state {@code name} ("exp_avg", "exp_avg_sq" or "max_exp_avg_sq") of parameter
   * {@code i} (flat index), not a copy; null before its first step (and without amsgrad).
   */
  Tensor stateTensor(String name, int i) {
    return switch (name) {
      case "exp_avg" -> expAvgs[i];
      case "exp_avg_sq" -> expAvgSqs[i];
      case "max_exp_avg_sq" -> maxExpAvgSqs[i];
      default -> throw new IllegalArgumentException("no Adam state named " + name);
    };
  }

  @Override
  void releaseState() {
    closeAll(expAvgs);
    closeAll(expAvgSqs);
    closeAll(maxExpAvgSqs);
  }

  @Override
  Checkpoint.Codec<AdamOptions> codec() {
    return new Checkpoint.Codec<>() {
      @Override
      public String kind() {
        return decoupled ? "AdamW" : "Adam";
      }

      @Override
      public LinkedHashMap<String, Tensor[]> stateArrays() {
        LinkedHashMap<String, Tensor[]> arrays = new LinkedHashMap<>();
        arrays.put("exp_avg", expAvgs);
        arrays.put("exp_avg_sq", expAvgSqs);
        arrays.put("max_exp_avg_sq", maxExpAvgSqs);
        return arrays;
      }

      @Override
      public void writeOptions(DataOutputStream out, AdamOptions o) throws IOException {
        for (double v : new double[] {o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay()}) {
          out.writeDouble(v);
        }
        out.writeBoolean(o.amsgrad());
        out.writeBoolean(o.maximize());
      }

      @Override
      public AdamOptions readOptions(DataInputStream in) throws IOException {
        return new AdamOptions(in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble(),
            in.readDouble(), in.readBoolean(), in.readBoolean());
      }

      @Override
      public void writeExtra(DataOutputStream out) {}

      @Override
      public Runnable readExtra(DataInputStream in) {
        return () -> { };
      }
    };
  }

  /** The builder both Adam and AdamW use; {@code B} is the concrete builder. */
  public abstract static class Builder<B extends Builder<B, T>, T extends FusedAdam> {
    AdamOptions defaults;
    private final List<PendingGroup<AdamOptions>> groups = new ArrayList<>();

    Builder(AdamOptions defaults) {
      this.defaults = defaults;
    }

    abstract B self();

    abstract T create(List<GroupSpec<AdamOptions>> groups);

    public B lr(double lr) {
      defaults = defaults.withLr(lr);
      return self();
    }

    public B betas(double beta1, double beta2) {
      defaults = defaults.withBetas(beta1, beta2);
      return self();
    }

    public B eps(double eps) {
      defaults = defaults.withEps(eps);
      return self();
    }

    public B weightDecay(double weightDecay) {
      defaults = defaults.withWeightDecay(weightDecay);
      return self();
    }

    public B amsgrad(boolean amsgrad) {
      defaults = defaults.withAmsgrad(amsgrad);
      return self();
    }

    public B maximize(boolean maximize) {
      defaults = defaults.withMaximize(maximize);
      return self();
    }

    /** Adds a group that uses the builder's options as they are when {@link #build()} runs. */
    public B group(List<Tensor> params) {
      groups.add(new PendingGroup<>(params, null));
      return self();
    }

    /** Adds a group with its own options. */
    public B group(List<Tensor> params, AdamOptions options) {
      groups.add(new PendingGroup<>(params, Objects.requireNonNull(options, "options")));
      return self();
    }

    public T build() {
      return create(PendingGroup.resolve(groups, defaults));
    }

    /** Builds the optimizer over one group: {@code params} (e.g. {@code module.parameters()}). */
    public T build(TensorVector params) {
      return group(List.of(params.get())).build();
    }

    public T build(List<Tensor> params) {
      return group(params).build();
    }
  }
}
