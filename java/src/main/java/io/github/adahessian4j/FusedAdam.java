package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The fused Adam step shared by {@link Adam} (L2 weight decay) and {@link AdamW} (decoupled weight
 * decay): one native call updates every parameter that has a gradient, with the formulas of
 * libtorch's {@code torch::optim::Adam} and {@code AdamW} (and {@code maximize} from {@code
 * torch.optim}). Gradients come from the usual {@code loss.backward()}.
 */
public abstract sealed class FusedAdam extends FusedOptimizer<AdamOptions> permits Adam, AdamW {
  private final boolean decoupled;
  private final State expAvg = state("exp_avg");
  private final State expAvgSq = state("exp_avg_sq");
  private final State maxExpAvgSq = state("max_exp_avg_sq");
  private final NativeArgs.Tensors expAvgArg = args.tensors();
  private final NativeArgs.Tensors expAvgSqArg = args.tensors();
  private final NativeArgs.Tensors maxExpAvgSqArg = args.tensors();
  private final NativeArgs.Ints flagArg = args.ints();

  FusedAdam(Builder<?, ?> b, List<GroupSpec<AdamOptions>> groups, boolean decoupled) {
    super(b);
    this.decoupled = decoupled;
    try {
      addGroups(groups);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private String operation() {
    return decoupled ? "AdamW step" : "Adam step";
  }

  /**
   * One step with the closure contract of {@link Optimizer}: resets every parameter's gradient,
   * calls {@code closure} (which computes and returns the loss without calling {@code backward()}),
   * calls {@code backward()} on the loss and steps. Gradient clipping and the non-finite policy
   * apply as in {@link #step()}. A closure that calls {@code backward()} itself is refused with an
   * {@link OptimizerException} before anything is stepped. What the closure creates is freed when
   * the step returns, except the loss (see {@link Optimizer#step(Supplier)}).
   *
   * @param closure computes and returns the loss
   * @return the closure's loss
   */
  @Override
  public Tensor step(Supplier<Tensor> closure) {
    Objects.requireNonNull(closure, "closure");
    enterStep();
    try {
      return inStepScope(
          scope -> {
            resetGrads();
            boolean[] none = new boolean[params.length];
            Tensor loss = closure.get();
            lap(CLOSURE);
            int culprit = firstNewGrad(none);
            if (culprit >= 0) {
              resetGrads();
              throw new OptimizerException(
                  operation()
                      + " refused: the closure called backward() ("
                      + describe(culprit)
                      + " has a gradient after it): with step(closure) the optimizer "
                      + "calls backward() itself. Return the loss without calling backward(), or call "
                      + "loss.backward() yourself and then step()");
            }
            checkLoss(loss);
            loss.backward();
            lap(GRADIENT);
            doStep(loss.item_double());
            return loss;
          });
    } finally {
      exitStep();
    }
  }

  /**
   * Updates every parameter whose gradient ({@code p.grad()}, from the user's own {@code
   * loss.backward()}) is defined, after the replica mean (data-parallel training, see {@link
   * OptimizerBuilder#replicaMean(ReplicaMean)}), clipping and the non-finite check.
   */
  public void step() {
    enterStep();
    try {
      doStep(Double.NaN);
    } finally {
      exitStep();
    }
  }

  private void doStep(double lossValue) {
    Report report = new Report();
    report.loss = lossValue;
    try (PointerScope scope = new PointerScope()) {
      final int n = params.length;
      List<Integer> active = new ArrayList<>();
      Tensor[] grads = new Tensor[n];
      for (int i = 0; i < n; i++) {
        Tensor g = params[i].grad();
        if (g.defined() && !isEmpty(i)) {
          grads[i] = unscale(g.is_contiguous() ? g : g.contiguous());
          active.add(i);
        }
      }
      if (replicaMean != null) {
        averageAcrossReplicas(
            active, grads, null); // p.grad() itself, unless unscaled or made contiguous
      }
      if (active.isEmpty() || !checkGradients(operation(), active, grads, report)) {
        return;
      }
      Tensor[] newM = new Tensor[n];
      Tensor[] newV = new Tensor[n];
      Tensor[] newMax = new Tensor[n];
      Tensor[] m = expAvg.values;
      Tensor[] v = expAvgSq.values;
      Tensor[] vmax = maxExpAvgSq.values;
      int count = active.size();
      for (int k = 0; k < count; k++) {
        int i = active.get(k);
        AdamOptions o = groupOf(i).options();
        if (m[i] == null) {
          newM[i] = zerosState(i);
          newV[i] = zerosState(i);
        }
        if (o.amsgrad() && vmax[i] == null) {
          newMax[i] = zerosState(i);
        }
        paramArg.put(k, params[i]);
        gradArg.put(k, grads[i]);
        expAvgArg.put(k, m[i] != null ? m[i] : newM[i]);
        expAvgSqArg.put(k, v[i] != null ? v[i] : newV[i]);
        maxExpAvgSqArg.put(k, !o.amsgrad() ? null : vmax[i] != null ? vmax[i] : newMax[i]);
        stepArg.put(k, steps[i] + 1);
        putHyper(k, o, 0.0);
        flagArg.put(
            k,
            (o.amsgrad() ? ah4j.AH4J_ADAM_AMSGRAD : 0)
                | (o.maximize() ? ah4j.AH4J_ADAM_MAXIMIZE : 0)
                | (decoupled ? ah4j.AH4J_ADAM_DECOUPLED_WEIGHT_DECAY : 0));
      }
      int status =
          ah4j.ah4j_adam_step_(
              paramArg.get(),
              gradArg.get(),
              expAvgArg.get(),
              expAvgSqArg.get(),
              maxExpAvgSqArg.get(),
              count,
              stepArg.get(),
              hyperArg.get(),
              flagArg.get());
      NativeCore.check(status, operation(), k -> describe(active.get((int) k)));
      for (int i : active) {
        steps[i]++;
        if (newM[i] != null) {
          m[i] = Natives.keep(scope, newM[i]);
          v[i] = Natives.keep(scope, newV[i]);
        }
        if (newMax[i] != null) {
          vmax[i] = Natives.keep(scope, newMax[i]);
        }
      }
    } finally {
      finish(report, Double.NaN, Double.NaN, 0);
    }
  }

  @Override
  String kind() {
    return decoupled ? "AdamW" : "Adam";
  }

  @Override
  Checkpoint.Codec<AdamOptions> codec() {
    return new Checkpoint.Codec<>() {
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
        return new AdamOptions(
            in.readDouble(),
            in.readDouble(),
            in.readDouble(),
            in.readDouble(),
            in.readDouble(),
            in.readBoolean(),
            in.readBoolean());
      }

      @Override
      public void writeExtra(DataOutputStream out) {}

      @Override
      public Runnable readExtra(DataInputStream in, int version) {
        return () -> {};
      }
    };
  }

  /**
   * The builder both Adam and AdamW use: the common options of {@link OptimizerBuilder}, plus
   * amsgrad and maximize.
   *
   * @param <B> the concrete builder
   * @param <T> Adam or AdamW
   */
  public abstract static sealed class Builder<B extends Builder<B, T>, T extends FusedAdam>
      extends OptimizerBuilder<AdamOptions, B, T> permits Adam.Builder, AdamW.Builder {
    Builder(AdamOptions defaults) {
      super(defaults);
    }

    /**
     * Use the maximum of all second moments so far (Reddi et al., 2018).
     *
     * @param amsgrad whether to
     * @return this builder
     */
    public B amsgrad(boolean amsgrad) {
      defaults = defaults.withAmsgrad(amsgrad);
      return self();
    }

    /**
     * Maximise the objective instead of minimising it.
     *
     * @param maximize whether to
     * @return this builder
     */
    public B maximize(boolean maximize) {
      defaults = defaults.withMaximize(maximize);
      return self();
    }
  }
}
