package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * AdaHessian (Yao, Gholami, Shen, Mustafa, Keutzer, Mahoney: "ADAHESSIAN: An Adaptive Second
 * Order Optimizer for Machine Learning", AAAI 2021, arXiv:2006.00719): Adam whose second moment is
 * a moving average of the squared Hessian diagonal, estimated with Hutchinson's method.
 *
 * <p>Each {@link #step(Supplier)} evaluates the closure's loss, computes the gradient {@code g}
 * with {@code torch.grad(loss, params, create_graph=true)} (never {@code backward(create_graph)},
 * which leaks through a parameter-gradient cycle), draws Rademacher probes {@code z} from its own
 * counter-based generator (the global RNG is untouched), computes {@code Hz} with a second
 * {@code torch.grad}, and then, in one native call for all parameters:
 * <pre>
 *   D    = mean over samples of z * Hz,  Dbar = block mean of |D|   (see {@link BlockAveraging})
 *   m    = b1 m + (1 - b1) g
 *   v    = b2 v + (1 - b2) Dbar^2
 *   p    = p - lr (m / (1 - b1^t) / ((sqrt(v) / sqrt(1 - b2^t))^k + eps) + weightDecay p)
 * </pre>
 * This is the authors' update ({@code image_classification/optim_adahessian.py}). With
 * {@code nSamples > 1} the estimate is davda54/ada-hessian's mean of the signed z * Hz before the
 * absolute value (the unbiased Hutchinson estimate); with one sample it equals the authors' |Hz|.
 * With {@code updateEach > 1} the estimate is refreshed every {@code updateEach} steps of a
 * parameter and reused in between, as in davda54/ada-hessian; the moments are updated every step.
 *
 * <p>Parameters whose gradient is undefined (not used by the loss) are skipped: their state and
 * step count do not change. A step that throws changes nothing.
 *
 * <pre>{@code
 * try (AdaHessian opt = AdaHessian.builder().lr(0.15).build(model.parameters())) {
 *   Tensor loss = opt.step(() -> torch.cross_entropy(model.forward(x), y));
 * }
 * }</pre>
 */
public final class AdaHessian extends FusedOptimizer<AdaHessianOptions> {
  private final BlockAveraging blockAveraging;
  private final int updateEach;
  private final int nSamples;
  private final ReplicaMean replicaMean;
  private long seed;
  private final long[] blockSizes;
  private final long[] hessianSteps;
  private final Tensor[] expAvgs;
  private final Tensor[] expHessianDiagSqs;
  private final Tensor[] hessianDiags;
  private long probeCounter;

  private AdaHessian(Builder b, List<GroupSpec<AdaHessianOptions>> groups) {
    super(groups);
    this.blockAveraging = b.blockAveraging;
    this.updateEach = b.updateEach;
    this.nSamples = b.nSamples;
    this.replicaMean = b.replicaMean;
    this.seed = b.seed;
    int n = params.length;
    this.hessianSteps = new long[n];
    this.expAvgs = new Tensor[n];
    this.expHessianDiagSqs = new Tensor[n];
    this.hessianDiags = new Tensor[n];
    this.blockSizes = new long[n];
    for (int i = 0; i < n; i++) {
      long numel = params[i].numel();
      long block = blockAveraging.blockSize(shapes[i]);
      if (numel > 0 && numel % block != 0) {
        String message = describe(i) + ": block averaging " + blockAveraging.rule(shapes[i].length)
            + " gives block size " + block + ", which does not divide its " + numel + " elements";
        close();
        throw new IllegalArgumentException(message);
      }
      blockSizes[i] = block;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Spatial averaging in use. */
  public BlockAveraging blockAveraging() {
    return blockAveraging;
  }

  public int updateEach() {
    return updateEach;
  }

  public int nSamples() {
    return nSamples;
  }

  /** The probe generator's seed; with {@link #probeCounter()} it fixes every future probe. */
  public long seed() {
    return seed;
  }

  /** How many probe draws the generator has made (each Hutchinson sample is one draw). */
  public long probeCounter() {
    return probeCounter;
  }

  /**
   * One AdaHessian step. {@code closure} computes and returns the loss (a scalar that requires
   * grad) without calling backward; the optimizer computes the gradients itself. Returns that loss.
   */
  public Tensor step(Supplier<Tensor> closure) {
    Objects.requireNonNull(closure, "closure");
    enter();
    try {
      Tensor loss = closure.get();
      checkLoss(loss);
      doStep(loss);
      return loss;
    } finally {
      exit();
    }
  }

  static void checkLoss(Tensor loss) {
    if (loss == null || loss.isNull() || !loss.defined()) {
      throw new OptimizerException("closure returned no loss (null or undefined tensor)");
    }
    if (loss.numel() != 1) {
      throw new OptimizerException("closure must return a scalar loss, got shape "
          + Natives.shape(shapeOf(loss)));
    }
    if (!loss.requires_grad()) {
      throw new OptimizerException("the loss does not require grad: compute it from the "
          + "optimizer's parameters, outside NoGradGuard");
    }
  }

  /**
   * One AdaHessian step over a batch split into {@code microBatches} parts (gradient
   * accumulation, for batches whose double-backward graph does not fit in memory at once):
   * {@code microBatchLoss.apply(b)} returns the mean loss of part {@code b} (0 to
   * {@code microBatches - 1}), computed from the parameters without calling backward. Each part's
   * graph is released before the next part's is built. The step uses the mean over the parts of
   * the gradients and of the Hessian-diagonal estimates, all drawn with the same probes, so with
   * equal-sized parts it is the step that {@link #step(Supplier)} takes on the whole batch's mean
   * loss. The sums are kept in the state dtype (two parameter-sized buffers more). Returns the mean
   * of the parts' losses. If a part throws, the step ends with nothing changed.
   */
  public double step(int microBatches, IntFunction<Tensor> microBatchLoss) {
    Checks.positive("microBatches", microBatches);
    Objects.requireNonNull(microBatchLoss, "microBatchLoss");
    enter();
    try {
      return doAccumulatedStep(microBatches, microBatchLoss);
    } finally {
      exit();
    }
  }

  private void doStep(Tensor loss) {
    try (PointerScope scope = new PointerScope()) {
      Pass pass = gather(loss);
      apply(scope, pass.active(), pass.grads(), pass.estimate().diagonals(), pass.estimate().draws());
    }
  }

  /** The gradients of one loss (contiguous; null where undefined), and fresh estimates. */
  private record Pass(Tensor[] grads, List<Integer> active, Estimate estimate) {}

  private Pass gather(Tensor loss) {
    final int n = params.length;
    TensorVector grads = torch.grad(new TensorVector(loss), new TensorVector(params),
        new TensorVector(), new BoolOptional(true), true, true);
    Tensor[] g = new Tensor[n];
    List<Integer> active = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Tensor gi = grads.get(i);
      if (gi.defined()) {
        g[i] = gi.is_contiguous() ? gi : gi.contiguous();
        active.add(i);
      }
    }
    Estimate estimate = active.isEmpty() ? new Estimate(new Tensor[n], 0) : estimateDiagonals(g, active);
    return new Pass(g, active, estimate);
  }

  private double doAccumulatedStep(int parts, IntFunction<Tensor> lossOf) {
    final int n = params.length;
    try (PointerScope scope = new PointerScope()) {
      Tensor[] gradSum = new Tensor[n];
      Tensor[] diagSum = new Tensor[n];
      long draws = 0;
      double lossSum = 0;
      for (int b = 0; b < parts; b++) {
        try (PointerScope part = new PointerScope()) { // frees this part's graph
          Tensor loss = lossOf.apply(b);
          checkLoss(loss);
          Pass pass = gather(loss);
          lossSum += loss.item_double();
          for (int i : pass.active()) {
            addToSum(gradSum, i, pass.grads()[i].detach(), part, scope);
            Tensor d = pass.estimate().diagonals()[i];
            if (d != null) {
              addToSum(diagSum, i, d, part, scope);
            }
          }
          draws = Math.max(draws, pass.estimate().draws());
        }
      }
      List<Integer> active = new ArrayList<>();
      org.bytedeco.pytorch.Scalar mean = new org.bytedeco.pytorch.Scalar(1.0 / parts);
      for (int i = 0; i < n; i++) {
        if (gradSum[i] != null) {
          active.add(i);
          gradSum[i].mul_(mean);
          if (gradSum[i].scalar_type().value != params[i].scalar_type().value) {
            gradSum[i] = gradSum[i].to(params[i].scalar_type()); // the core takes grads in the param's dtype
          }
          if (diagSum[i] != null) {
            diagSum[i].mul_(mean);
          }
        }
      }
      apply(scope, active, gradSum, diagSum, draws);
      return lossSum / parts;
    }
  }

  /** sums[i] += t, the sum made (zeros in the state dtype, owned by {@code step}) on first use. */
  private void addToSum(Tensor[] sums, int i, Tensor t, PointerScope part, PointerScope step) {
    if (sums[i] == null) {
      sums[i] = Natives.move(zerosState(i), part, step);
    }
    sums[i].add_(t);
  }

  /**
   * The rest of a step, from the gradients {@code g} and fresh estimates of the active parameters:
   * loss scale, replica mean, non-finite policy, the native step, then the commit.
   */
  private void apply(PointerScope scope, List<Integer> active, Tensor[] g, Tensor[] freshDiags,
      long draws) {
    final int n = params.length;
    if (active.isEmpty()) {
      return;
    }
    Tensor[] stepGrads = new Tensor[n];
    for (int i : active) {
      stepGrads[i] = unscale(g[i]);
      if (freshDiags[i] != null) {
        freshDiags[i] = unscale(freshDiags[i]);
      }
    }
    if (replicaMean != null) {
      averageAcrossReplicas(active, stepGrads, freshDiags);
    }
    if (!finiteOrSkip("AdaHessian step", "gradient", active, stepGrads)
        || !finiteOrSkip("AdaHessian step", "Hessian-diagonal estimate", active, freshDiags)) {
      return;
    }

    Tensor[] newExpAvgs = new Tensor[n];
    Tensor[] newExpHessianDiagSqs = new Tensor[n];
    int count = active.size();
    for (int k = 0; k < count; k++) {
      int i = active.get(k);
      if (expAvgs[i] == null) {
        newExpAvgs[i] = zerosState(i);
        newExpHessianDiagSqs[i] = zerosState(i);
      }
      Tensor diag = freshDiags[i] != null ? freshDiags[i] : hessianDiags[i];
      argParams.put(k, params[i]);
      argGrads.put(k, stepGrads[i]);
      argA.put(k, diag);
      argB.put(k, expAvgs[i] != null ? expAvgs[i] : newExpAvgs[i]);
      argC.put(k, expHessianDiagSqs[i] != null ? expHessianDiagSqs[i] : newExpHessianDiagSqs[i]);
      argLongs.put(k, blockSizes[i]);
      argSteps.put(k, steps[i] + 1);
      AdaHessianOptions o = groupOf(i).options();
      putHyper(k, o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.hessianPower());
    }
    int status = ah4j.ah4j_adahessian_step_(argParams, argGrads, argA, argB, argC, count,
        argLongs, argSteps, argHyper);
    NativeCore.check(status, "AdaHessian step", k -> describe(active.get((int) k)));

    // Commit: only now does the optimizer's state change.
    for (int i : active) {
      steps[i]++;
      hessianSteps[i]++;
      if (newExpAvgs[i] != null) {
        expAvgs[i] = Natives.keep(scope, newExpAvgs[i]);
        expHessianDiagSqs[i] = Natives.keep(scope, newExpHessianDiagSqs[i]);
      }
      if (freshDiags[i] != null) {
        if (hessianDiags[i] != null) {
          hessianDiags[i].close();
        }
        hessianDiags[i] = Natives.keep(scope, freshDiags[i]);
      }
    }
    probeCounter += draws;
  }

  /**
   * Hands the gradients, then the fresh estimates, to {@link ReplicaMean} (see there), as detached
   * tensors: the gradients are torch.grad's outputs, which the Hessian-vector products used.
   */
  private void averageAcrossReplicas(List<Integer> active, Tensor[] grads, Tensor[] diags) {
    List<Tensor> shared = new ArrayList<>();
    for (int i : active) {
      grads[i] = grads[i].detach();
      shared.add(grads[i]);
    }
    for (int i : active) {
      if (diags[i] != null) {
        shared.add(diags[i]);
      }
    }
    replicaMean.averageInPlace(Collections.unmodifiableList(shared));
  }

  /** Fresh Hessian-diagonal estimates (null where none was due) and the probe draws they used. */
  private record Estimate(Tensor[] diagonals, long draws) {}

  private boolean refreshes(int i) {
    return hessianSteps[i] % updateEach == 0;
  }

  /**
   * Hutchinson estimates D for the active parameters due for a refresh (null for the others):
   * one sample is Hz itself (|z * Hz| = |Hz| for Rademacher z); several are averaged natively.
   */
  private Estimate estimateDiagonals(Tensor[] g, List<Integer> active) {
    int n = params.length;
    Tensor[] fresh = new Tensor[n];
    List<Integer> hvp = new ArrayList<>();
    for (int i : active) {
      if (!refreshes(i)) {
        continue;
      }
      if (g[i].requires_grad()) {
        hvp.add(i);
      } else {
        fresh[i] = zerosState(i); // the gradient is constant in every parameter: H's rows are 0
      }
    }
    if (hvp.isEmpty()) {
      return new Estimate(fresh, 0);
    }
    int[] ids = hvp.stream().mapToInt(Integer::intValue).toArray();
    TensorVector outputs = new TensorVector();
    TensorVector inputs = new TensorVector();
    for (int i : ids) {
      outputs.push_back(g[i]);
      inputs.push_back(params[i]);
    }
    if (nSamples > 1) {
      for (int i : ids) {
        fresh[i] = zerosState(i);
      }
    }
    for (int s = 0; s < nSamples; s++) {
      Tensor[] zs = Probes.draw(params, ids, seed, probeCounter + s, argA, argLongs, "AdaHessian probe");
      TensorVector hzs = torch.grad(outputs, inputs, new TensorVector(zs),
          new BoolOptional(s < nSamples - 1), false, true);
      if (nSamples == 1) {
        for (int k = 0; k < ids.length; k++) {
          // get() is a reference into hzs; the estimate outlives it (updateEach), so own a copy.
          Tensor hz = hzs.get(k);
          fresh[ids[k]] = !hz.defined() ? zerosState(ids[k]) : hz.is_contiguous() ? new Tensor(hz) : hz.contiguous();
        }
        continue;
      }
      HutchinsonEstimator.accumulate(fresh, ids, zs, hzs, 1.0 / nSamples, argA, argB, argC,
          "AdaHessian Hessian estimate", this::describe);
    }
    return new Estimate(fresh, nSamples);
  }

  /**
   * For tests: state {@code name} ("exp_avg", "exp_hessian_diag_sq" or "hessian_diag", the
   * estimate D in use) of parameter {@code i} (flat index), not a copy; null before its first step.
   */
  Tensor stateTensor(String name, int i) {
    return switch (name) {
      case "exp_avg" -> expAvgs[i];
      case "exp_hessian_diag_sq" -> expHessianDiagSqs[i];
      case "hessian_diag" -> hessianDiags[i];
      default -> throw new IllegalArgumentException("no AdaHessian state named " + name);
    };
  }

  @Override
  void releaseState() {
    closeAll(expAvgs);
    closeAll(expHessianDiagSqs);
    closeAll(hessianDiags);
  }

  @Override
  Checkpoint.Codec<AdaHessianOptions> codec() {
    return new Checkpoint.Codec<>() {
      @Override
      public String kind() {
        return "AdaHessian";
      }

      @Override
      public LinkedHashMap<String, Tensor[]> stateArrays() {
        LinkedHashMap<String, Tensor[]> arrays = new LinkedHashMap<>();
        arrays.put("exp_avg", expAvgs);
        arrays.put("exp_hessian_diag_sq", expHessianDiagSqs);
        arrays.put("hessian_diag", hessianDiags);
        return arrays;
      }

      @Override
      public void writeOptions(DataOutputStream out, AdaHessianOptions o) throws IOException {
        for (double v : new double[] {o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.hessianPower()}) {
          out.writeDouble(v);
        }
      }

      @Override
      public AdaHessianOptions readOptions(DataInputStream in) throws IOException {
        return new AdaHessianOptions(in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble(),
            in.readDouble(), in.readDouble());
      }

      @Override
      public void writeExtra(DataOutputStream out) throws IOException {
        out.writeLong(seed);
        out.writeLong(probeCounter);
        out.writeInt(updateEach);
        out.writeInt(nSamples);
        for (int i = 0; i < params.length; i++) {
          out.writeLong(blockSizes[i]);
          out.writeLong(hessianSteps[i]);
        }
      }

      @Override
      public Runnable readExtra(DataInputStream in) throws IOException {
        long savedSeed = in.readLong();
        long savedCounter = in.readLong();
        int savedUpdateEach = in.readInt();
        int savedSamples = in.readInt();
        if (savedUpdateEach != updateEach || savedSamples != nSamples) {
          throw new CheckpointException("the checkpoint was saved with updateEach " + savedUpdateEach
              + " and nSamples " + savedSamples + ", this optimizer has " + updateEach + " and "
              + nSamples + "; nothing was loaded");
        }
        long[] savedHessianSteps = new long[params.length];
        for (int i = 0; i < params.length; i++) {
          long block = in.readLong();
          if (block != blockSizes[i]) {
            throw new CheckpointException("the checkpoint averages " + describe(i) + " in blocks of "
                + block + ", this optimizer in blocks of " + blockSizes[i] + "; nothing was loaded");
          }
          savedHessianSteps[i] = in.readLong();
        }
        return () -> {
          seed = savedSeed;
          probeCounter = savedCounter;
          System.arraycopy(savedHessianSteps, 0, hessianSteps, 0, params.length);
        };
      }
    };
  }

  /** Builds an {@link AdaHessian}; defaults are the authors'. */
  public static final class Builder {
    private AdaHessianOptions defaults = AdaHessianOptions.DEFAULTS;
    private BlockAveraging blockAveraging = BlockAveraging.OFFICIAL;
    private int updateEach = 1;
    private int nSamples = 1;
    private long seed = 0x5EED_AD4E_551AL;
    private ReplicaMean replicaMean;
    private final List<PendingGroup<AdaHessianOptions>> groups = new ArrayList<>();

    private Builder() {}

    /** Learning rate (default 0.15, the paper's for CIFAR ResNets). */
    public Builder lr(double lr) {
      defaults = defaults.withLr(lr);
      return this;
    }

    /** Moment decays (default 0.9, 0.999). */
    public Builder betas(double beta1, double beta2) {
      defaults = defaults.withBetas(beta1, beta2);
      return this;
    }

    /** Denominator term (default 1e-4, the authors' and torch_optimizer's; davda54's is 1e-8). */
    public Builder eps(double eps) {
      defaults = defaults.withEps(eps);
      return this;
    }

    /** Decoupled weight decay, multiplied by lr (default 0). */
    public Builder weightDecay(double weightDecay) {
      defaults = defaults.withWeightDecay(weightDecay);
      return this;
    }

    /** Hessian power k in [0, 1] (default 1, the authors'; torch_optimizer uses 0.5). */
    public Builder hessianPower(double hessianPower) {
      defaults = defaults.withHessianPower(hessianPower);
      return this;
    }

    /** Spatial averaging of the Hessian diagonal (default {@link BlockAveraging#OFFICIAL}). */
    public Builder blockAveraging(BlockAveraging blockAveraging) {
      this.blockAveraging = Objects.requireNonNull(blockAveraging, "blockAveraging");
      return this;
    }

    /** Refresh the Hessian estimate every this many steps (default 1: every step). */
    public Builder updateEach(int updateEach) {
      Checks.positive("updateEach", updateEach);
      this.updateEach = updateEach;
      return this;
    }

    /** Hutchinson samples per refresh (default 1). */
    public Builder nSamples(int nSamples) {
      Checks.positive("nSamples", nSamples);
      this.nSamples = nSamples;
      return this;
    }

    /** Seed of the probe generator. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Data-parallel training: averages the gradients and Hessian estimates across replicas each
     * step (default none: one process). See {@link ReplicaMean}.
     */
    public Builder replicaMean(ReplicaMean replicaMean) {
      this.replicaMean = Objects.requireNonNull(replicaMean, "replicaMean");
      return this;
    }

    /** Adds a group that uses the builder's options as they are when {@link #build()} runs. */
    public Builder group(List<Tensor> params) {
      groups.add(new PendingGroup<>(params, null));
      return this;
    }

    /** Adds a group with its own options. */
    public Builder group(List<Tensor> params, AdaHessianOptions options) {
      groups.add(new PendingGroup<>(params, Objects.requireNonNull(options, "options")));
      return this;
    }

    /** Builds the optimizer over the groups added so far. */
    public AdaHessian build() {
      return new AdaHessian(this, PendingGroup.resolve(groups, defaults));
    }

    /** Builds the optimizer over one group: {@code params} (e.g. {@code module.parameters()}). */
    public AdaHessian build(TensorVector params) {
      return group(List.of(params.get())).build();
    }

    /** Builds the optimizer over one group: {@code params}. */
    public AdaHessian build(List<Tensor> params) {
      return group(params).build();
    }
  }
}
