package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
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
 * AdaHessian (Yao, Gholami, Shen, Mustafa, Keutzer, Mahoney: "ADAHESSIAN: An Adaptive Second Order
 * Optimizer for Machine Learning", AAAI 2021, arXiv:2006.00719): Adam whose second moment is a
 * moving average of the squared Hessian diagonal, estimated with Hutchinson's method.
 *
 * <p>Each {@link #step(Supplier)} evaluates the closure's loss, computes the gradient {@code g}
 * with {@code torch.grad(loss, params, create_graph=true)} (never {@code backward(create_graph)},
 * which leaks through a parameter-gradient cycle), draws Rademacher probes {@code z} from its own
 * counter-based generator (the global RNG is untouched), computes {@code Hz} with a second {@code
 * torch.grad}, and then, in one native call for all parameters:
 *
 * <pre>
 *   D    = mean over samples of z * Hz,  Dbar = block mean of |D|   (see {@link BlockAveraging})
 *   m    = b1 m + (1 - b1) g
 *   v    = b2 v + (1 - b2) Dbar^2
 *   p    = p - lr (m / (1 - b1^t) / ((sqrt(v) / sqrt(1 - b2^t))^k + eps) + weightDecay p)
 * </pre>
 *
 * This is the authors' update ({@code image_classification/optim_adahessian.py}). With {@code
 * nSamples > 1} the estimate is davda54/ada-hessian's mean of the signed z * Hz before the absolute
 * value (the unbiased Hutchinson estimate); with one sample it equals the authors' |Hz|. With
 * {@code updateEach > 1} the estimate is refreshed every {@code updateEach} steps of a parameter
 * and reused in between, as in davda54/ada-hessian; the moments are updated every step. With {@code
 * hessianWarmup(W)} it is refreshed at each of a parameter's first W steps as well, so the moments
 * start from fresh estimates (see {@link Builder#hessianWarmup(int)}).
 *
 * <p>Parameters whose gradient is undefined (not used by the loss) are skipped: their moments,
 * estimate and step count do not change. Such a parameter is dormant (it got no gradient at the
 * last step that gave any parameter one), and only the others decide whether a step builds the
 * double-backward graph, so a parameter the loss does not use (an unused head, a branch switched
 * off) leaves the schedule to {@code updateEach}. A dormant parameter that gets a gradient again
 * when its estimate is due (its first step, a warm-up step, every {@code updateEach}-th), at a step
 * that builds no graph, is held back: that step leaves it and its state untouched (its gradient is
 * not used), and the next step builds the graph, so it steps with its fresh estimate as a fresh
 * optimizer would, never with a missing or zero one. It waits (every step builds the graph) until
 * it gets a gradient again. The first step builds the graph whenever an estimate is due; with
 * {@code updateEach 1} every step does, and nothing is ever held back. Checkpoints save which
 * parameters are dormant or waiting. A step that throws, or is skipped, changes nothing.
 *
 * <p>A closure whose graph is differentiated twice runs with libtorch's math attention: its flash,
 * memory-efficient and cuDNN {@code scaled_dot_product_attention} kernels have no double backward.
 * The switches are process-wide; the user's settings are back when the last such closure on any
 * thread ends (see docs/transformers.md). An op that libtorch cannot differentiate twice is refused
 * with an {@link OptimizerException} naming it.
 *
 * <pre>{@code
 * try (AdaHessian opt = AdaHessian.builder().lr(0.15).build(model.parameters())) {
 *   Tensor loss = opt.step(() -> torch.cross_entropy(model.forward(x), y));
 * }
 * }</pre>
 */
public final class AdaHessian extends FusedOptimizer<AdaHessianOptions> {
  private static final String STEP = "AdaHessian step";
  private final BlockAveraging blockAveraging;
  private final int updateEach;
  private final int hessianWarmup;
  private final int nSamples;
  private long seed;
  private long probeCounter;
  private long[] blockSizes = new long[0];
  private final State expAvg = state("exp_avg");
  private final State expHessianDiagSq = state("exp_hessian_diag_sq");
  private final State hessianDiag = state("hessian_diag");
  private final NativeArgs.Tensors hessianDiagArg = args.tensors();
  private final NativeArgs.Tensors expAvgArg = args.tensors();
  private final NativeArgs.Tensors expHessianDiagSqArg = args.tensors();
  private final NativeArgs.Longs blockSizeArg = args.longs();
  private final Hutchinson hutchinson = new Hutchinson(args);
  private double hessianMean = Double.NaN;
  private double hessianMax = Double.NaN;
  private int zeroHessianParams;
  private double[] diagSumAbs = new double[0];
  private double[] diagMaxAbs = new double[0];
  private boolean[] diagKnown = new boolean[0];

  /** Got a gradient at the last step (or no step yet): counts for the graph when due. */
  private static final byte AWAKE = 0;

  /** Got no gradient at the last step: does not count for the graph (see anyRefreshDue). */
  private static final byte DORMANT = 1;

  /** Held back for want of its estimate: counts for the graph until it gets one. */
  private static final byte WAITING = 2;

  /** Per parameter: AWAKE, DORMANT or WAITING. */
  private byte[] activity = new byte[0];

  private AdaHessian(Builder b, List<GroupSpec<AdaHessianOptions>> groups) {
    super(b);
    this.blockAveraging = b.blockAveraging;
    this.updateEach = b.updateEach;
    this.hessianWarmup = b.hessianWarmup;
    this.nSamples = b.nSamples;
    this.seed = b.seed;
    try {
      addGroups(groups);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  void checkNewParam(int i, long[] shape, String who) {
    long numel = 1;
    for (long d : shape) {
      numel *= d;
    }
    long block = blockAveraging.blockSize(shape);
    if (numel > 0 && numel % block != 0) {
      throw new IllegalArgumentException(
          who
              + ": block averaging "
              + blockAveraging.rule(shape.length)
              + " gives block size "
              + block
              + ", which does not divide its "
              + numel
              + " elements");
    }
  }

  @Override
  void grew(int from, int to) {
    blockSizes = java.util.Arrays.copyOf(blockSizes, to);
    diagSumAbs = java.util.Arrays.copyOf(diagSumAbs, to);
    diagMaxAbs = java.util.Arrays.copyOf(diagMaxAbs, to);
    diagKnown = java.util.Arrays.copyOf(diagKnown, to);
    activity = java.util.Arrays.copyOf(activity, to); // AWAKE
    for (int i = from; i < to; i++) {
      blockSizes[i] = blockAveraging.blockSize(shapes[i]);
    }
  }

  /**
   * A builder with the authors' defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The spatial averaging in use.
   *
   * @return the block averaging
   */
  public BlockAveraging blockAveraging() {
    ensureOpen();
    return blockAveraging;
  }

  /**
   * How often a parameter's Hessian estimate is refreshed, in its steps.
   *
   * @return the refresh period
   */
  public int updateEach() {
    ensureOpen();
    return updateEach;
  }

  /**
   * How many of a parameter's first steps refresh its Hessian estimate whatever {@link
   * #updateEach()} says (0: none).
   *
   * @return the warm-up length in steps
   */
  public int hessianWarmup() {
    ensureOpen();
    return hessianWarmup;
  }

  /**
   * Hutchinson samples per refresh.
   *
   * @return the sample count
   */
  public int nSamples() {
    ensureOpen();
    return nSamples;
  }

  /**
   * The probe generator's seed; with {@link #probeCounter()} it fixes every future probe.
   *
   * @return the seed
   */
  public long seed() {
    ensureOpen();
    return seed;
  }

  /**
   * How many probe draws the generator has made (each Hutchinson sample is one draw).
   *
   * @return the draw counter
   */
  public long probeCounter() {
    ensureOpen();
    return probeCounter;
  }

  /**
   * One AdaHessian step with the closure contract of {@link Optimizer}: {@code closure} computes
   * and returns the loss (a scalar that requires grad) without calling {@code backward()}; the
   * optimizer computes the gradient and the Hessian-vector products itself. A closure that calls
   * {@code backward()} is refused with an {@link OptimizerException} that says so.
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
            boolean[] before = gradDefined();
            Tensor loss = anyRefreshDue() ? DoubleBackward.forward(closure) : closure.get();
            lap(CLOSURE);
            int culprit = firstNewGrad(before);
            if (culprit >= 0) {
              throw backwardInClosure(describe(culprit) + " got a gradient during the closure");
            }
            checkLoss(loss);
            doStep(loss);
            return loss;
          });
    } finally {
      exitStep();
    }
  }

  private static OptimizerException backwardInClosure(String evidence) {
    return new OptimizerException(
        STEP
            + " refused: the closure called backward() on the loss ("
            + evidence
            + "). AdaHessian differentiates the loss itself, twice (the gradient, then the "
            + "Hessian-vector product): return the loss without calling backward(); nothing was changed");
  }

  /**
   * One AdaHessian step over a batch split into {@code microBatches} parts (gradient accumulation,
   * for batches whose double-backward graph does not fit in memory at once): {@code
   * microBatchLoss.apply(b)} returns the mean loss of part {@code b} (0 to {@code microBatches -
   * 1}), computed from the parameters without calling backward. Each part's graph is released
   * before the next part's is built. The step uses the mean over the parts of the gradients and of
   * the Hessian-diagonal estimates, all drawn with the same probes, so with equal-sized parts it is
   * the step that {@link #step(Supplier)} takes on the whole batch's mean loss. The sums are kept
   * in the state dtype (two parameter-sized buffers more). If a part throws, the step ends with
   * nothing changed. Each part's closure runs in its own scope: what it creates is freed when the
   * part is done.
   *
   * @param microBatches the number of parts, at least 1
   * @param microBatchLoss the mean loss of part {@code b}, without calling backward
   * @return the mean of the parts' losses
   */
  public double step(int microBatches, IntFunction<Tensor> microBatchLoss) {
    return step(microBatches, microBatches, microBatchLoss);
  }

  /**
   * The accumulation step of {@link #step(int, IntFunction)} with the Hessian estimated on part of
   * the batch: the gradient is the mean over all {@code microBatches} parts, the Hessian-diagonal
   * estimate the mean over the first {@code hessianParts} of them only (same probes, same {@code
   * updateEach} and {@code nSamples}). The other parts' backward passes build no double-backward
   * graph, so they cost what an Adam iteration's does and free their graphs at once. The estimate
   * is the Hutchinson estimate of the subset's Hessian: unbiased for the whole batch's mean Hessian
   * when the subset is a random part of the batch (shuffle the batch, as a data loader does), and
   * noisier the smaller it is. With {@code hessianParts == microBatches} it is exactly {@link
   * #step(int, IntFunction)}.
   *
   * @param microBatches the number of parts, at least 1
   * @param hessianParts how many of the first parts the Hessian comes from, 1 to microBatches
   * @param microBatchLoss the mean loss of part {@code b}, without calling backward
   * @return the mean of the parts' losses
   */
  public double step(int microBatches, int hessianParts, IntFunction<Tensor> microBatchLoss) {
    Checks.positive("microBatches", microBatches);
    Checks.positive("hessianParts", hessianParts);
    if (hessianParts > microBatches) {
      throw new IllegalArgumentException(
          "Invalid hessianParts value: "
              + hessianParts
              + " (must be at most microBatches, "
              + microBatches
              + ")");
    }
    Objects.requireNonNull(microBatchLoss, "microBatchLoss");
    enterStep();
    try {
      return doAccumulatedStep(microBatches, hessianParts, microBatchLoss);
    } finally {
      exitStep();
    }
  }

  /**
   * One step with the gradient from {@code lossFunction} (the whole batch) and the Hessian-diagonal
   * estimate from {@code hessianLossFunction} (for example the loss of a random quarter of the
   * batch): the gradient's backward pass is the plain one, and only the smaller loss is
   * differentiated twice. {@code hessianLossFunction} is called only on steps that refresh an
   * estimate ({@code updateEach}). Same probes and semantics as {@link #step(Supplier)}; the
   * estimate is the Hutchinson estimate of the smaller loss's Hessian (unbiased for the batch's
   * mean Hessian when its samples are a random part of the batch). Both closures follow the closure
   * contract; returns the first one's loss.
   *
   * @param lossFunction the loss whose gradient the step uses
   * @param hessianLossFunction the loss whose Hessian diagonal the step estimates
   * @return {@code lossFunction}'s loss
   */
  public Tensor step(Supplier<Tensor> lossFunction, Supplier<Tensor> hessianLossFunction) {
    Objects.requireNonNull(lossFunction, "lossFunction");
    Objects.requireNonNull(hessianLossFunction, "hessianLossFunction");
    enterStep();
    try {
      return inStepScope(
          scope -> {
            boolean[] before = gradDefined();
            Tensor loss = lossFunction.get();
            lap(CLOSURE);
            int culprit = firstNewGrad(before);
            if (culprit >= 0) {
              throw backwardInClosure(describe(culprit) + " got a gradient during the closure");
            }
            checkLoss(loss);
            Report report = new Report();
            report.loss = loss.item_double();
            try {
              boolean due = anyRefreshDue();
              Pass pass = gather(loss, false);
              Tensor[] fresh = new Tensor[params.length];
              long draws = 0;
              if (due && !pass.active().isEmpty()) {
                Tensor hessianLoss = DoubleBackward.forward(hessianLossFunction);
                lap(CLOSURE);
                culprit = firstNewGrad(before);
                if (culprit >= 0) {
                  throw backwardInClosure(
                      describe(culprit) + " got a gradient during the Hessian's closure");
                }
                checkLoss(hessianLoss);
                Pass hessian = gather(hessianLoss, true);
                for (int i : pass.active()) {
                  fresh[i] = hessian.estimate().diagonals()[i];
                }
                draws = hessian.estimate().draws();
                zerosWhereDue(pass.active(), fresh, null, scope);
              }
              apply(scope, pass.active(), pass.grads(), fresh, draws, report);
            } finally {
              finishStep(report);
            }
            return loss;
          });
    } finally {
      exitStep();
    }
  }

  private void doStep(Tensor loss) {
    Report report = new Report();
    report.loss = loss.item_double();
    try (PointerScope scope = new PointerScope()) {
      Pass pass = gather(loss);
      apply(
          scope,
          pass.active(),
          pass.grads(),
          pass.estimate().diagonals(),
          pass.estimate().draws(),
          report);
    } finally {
      finishStep(report);
    }
  }

  private void finishStep(Report report) {
    finish(report, hessianMean, hessianMax, zeroHessianParams);
  }

  /** The gradients of one loss (contiguous; null where undefined), and fresh estimates. */
  private record Pass(Tensor[] grads, List<Integer> active, Estimate estimate) {}

  private Pass gather(Tensor loss) {
    return gather(loss, true);
  }

  /**
   * The gradients of {@code loss} and, with {@code estimate}, fresh Hessian estimates from it. The
   * gradient's graph is built ({@code create_graph}) only when an estimate is due: without one the
   * backward pass is the plain, cheaper one and frees its graph at once (the same gradients).
   */
  private Pass gather(Tensor loss, boolean estimate) {
    final int n = params.length;
    boolean graph = estimate && anyRefreshDue();
    TensorVector grads;
    try {
      grads =
          torch.grad(
              new TensorVector(loss),
              new TensorVector(params),
              new TensorVector(),
              new BoolOptional(graph),
              graph,
              true);
    } catch (RuntimeException e) {
      String m = String.valueOf(e.getMessage());
      if (m.contains("backward through the graph a second time")) {
        throw backwardInClosure("its graph was already consumed");
      }
      throw e;
    }
    Tensor[] g = new Tensor[n];
    List<Integer> active = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Tensor gi = grads.get(i);
      if (gi.defined() && !isEmpty(i)) {
        g[i] = gi.is_contiguous() ? gi : gi.contiguous();
        active.add(i);
      }
    }
    lap(GRADIENT);
    Estimate fresh =
        active.isEmpty() || !graph ? new Estimate(new Tensor[n], 0) : estimateDiagonals(g, active);
    return new Pass(g, active, fresh);
  }

  /**
   * Whether this step builds the double-backward graph: whether an estimate is due for a parameter
   * that is not dormant. A parameter is dormant when it got no gradient at the last step that gave
   * any parameter one (and it is not waiting): without that rule a parameter the loss never uses,
   * due at its step 0 forever, would make every step build the graph. A dormant parameter that gets
   * a gradient when its estimate is due, at a step that built no graph, is held back (see {@link
   * #apply}) and waits: it counts here until it gets its estimate.
   */
  private boolean anyRefreshDue() {
    for (int i = 0; i < params.length; i++) {
      if (!isEmpty(i) && activity[i] != DORMANT && refreshes(i)) {
        return true;
      }
    }
    return false;
  }

  /**
   * After a step that gave {@code withGradient} a gradient and held back {@code heldBack}: those
   * are awake or waiting, the others dormant (a waiting one stays waiting).
   */
  private void noteActivity(List<Integer> withGradient, List<Integer> heldBack) {
    for (int i = 0; i < params.length; i++) {
      if (activity[i] != WAITING) {
        activity[i] = DORMANT;
      }
    }
    for (int i : withGradient) {
      activity[i] = AWAKE;
    }
    for (int i : heldBack) {
      activity[i] = WAITING;
    }
  }

  /**
   * Zero estimates for parameters that step and are due for a refresh but got none (the Hessian's
   * loss does not use them: their Hessian block is zero there).
   */
  private void zerosWhereDue(
      List<Integer> active, Tensor[] diags, PointerScope owner, PointerScope scope) {
    for (int i : active) {
      if (diags[i] == null && refreshes(i)) {
        diags[i] = owner == null ? zerosState(i) : Natives.move(zerosState(i), owner, scope);
      }
    }
  }

  private double doAccumulatedStep(int parts, int hessianParts, IntFunction<Tensor> lossOf) {
    final int n = params.length;
    final boolean due = anyRefreshDue();
    Report report = new Report();
    try (PointerScope scope = new PointerScope()) {
      Tensor[] gradSum = new Tensor[n];
      Tensor[] diagSum = new Tensor[n];
      long draws = 0;
      double lossSum = 0;
      for (int b = 0; b < parts; b++) {
        try (PointerScope part = new PointerScope()) { // frees this part's graph
          boolean[] before = gradDefined();
          int index = b;
          Tensor loss =
              b < hessianParts && due
                  ? DoubleBackward.forward(() -> lossOf.apply(index))
                  : lossOf.apply(b);
          lap(CLOSURE);
          int culprit = firstNewGrad(before);
          if (culprit >= 0) {
            throw backwardInClosure(describe(culprit) + " got a gradient during part " + b);
          }
          checkLoss(loss);
          Pass pass = gather(loss, b < hessianParts);
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
      report.loss = lossSum / parts;
      List<Integer> active = new ArrayList<>();
      org.bytedeco.pytorch.Scalar mean = new org.bytedeco.pytorch.Scalar(1.0 / parts);
      org.bytedeco.pytorch.Scalar hessianMean = new org.bytedeco.pytorch.Scalar(1.0 / hessianParts);
      for (int i = 0; i < n; i++) {
        if (gradSum[i] != null) {
          active.add(i);
          gradSum[i].mul_(mean);
          if (gradSum[i].scalar_type().value != params[i].scalar_type().value) {
            gradSum[i] =
                gradSum[i].to(params[i].scalar_type()); // the core takes grads in the param's dtype
          }
          if (diagSum[i] != null) {
            diagSum[i].mul_(hessianMean);
          }
        }
      }
      if (due && hessianParts < parts) {
        zerosWhereDue(active, diagSum, null, scope);
      }
      apply(scope, active, gradSum, diagSum, draws, report);
      return lossSum / parts;
    } finally {
      finishStep(report);
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
   * The rest of a step, from the gradients {@code g} and fresh estimates of the parameters {@code
   * withGradient}: loss scale, replica mean, the checks and clipping (one read each of the
   * gradients and the estimates), the native step, then the commit. A parameter whose estimate is
   * due but was not computed (a dormant one that got a gradient at a step that built no graph) is
   * held back: not stepped, its state untouched, waiting for its estimate at the next step.
   */
  private void apply(
      PointerScope scope,
      List<Integer> withGradient,
      Tensor[] g,
      Tensor[] freshDiags,
      long draws,
      Report report) {
    final int n = params.length;
    List<Integer> active = new ArrayList<>();
    List<Integer> heldBack = new ArrayList<>();
    for (int i : withGradient) {
      (refreshes(i) && freshDiags[i] == null ? heldBack : active).add(i);
    }
    if (active.isEmpty()) {
      if (replicaMean != null) {
        averageAcrossReplicas(
            active, null, null); // take part: a replica with gradients waits for it
      }
      if (!heldBack.isEmpty()) {
        noteActivity(withGradient, heldBack);
      }
      return;
    }
    Tensor[] stepGrads = new Tensor[n];
    boolean refreshed = false;
    for (int i : active) {
      stepGrads[i] = unscale(g[i]);
      if (freshDiags[i] != null) {
        freshDiags[i] = unscale(freshDiags[i]);
        refreshed = true;
      }
    }
    if (replicaMean != null) {
      averageAcrossReplicas(active, stepGrads, freshDiags);
    }
    if (!checkGradients(STEP, active, stepGrads, report)) {
      return;
    }
    Sums diagSums = checkEstimates(STEP, active, freshDiags, report);
    if (diagSums == null) {
      return;
    }
    report.hessianRefreshed = refreshed;

    Tensor[] m = expAvg.values;
    Tensor[] v = expHessianDiagSq.values;
    Tensor[] diags = hessianDiag.values;
    Tensor[] newM = new Tensor[n];
    Tensor[] newV = new Tensor[n];
    int count = active.size();
    for (int k = 0; k < count; k++) {
      int i = active.get(k);
      if (m[i] == null) {
        newM[i] = zerosState(i);
        newV[i] = zerosState(i);
      }
      AdaHessianOptions o = groupOf(i).options();
      paramArg.put(k, params[i]);
      gradArg.put(k, stepGrads[i]);
      hessianDiagArg.put(k, freshDiags[i] != null ? freshDiags[i] : diags[i]);
      expAvgArg.put(k, m[i] != null ? m[i] : newM[i]);
      expHessianDiagSqArg.put(k, v[i] != null ? v[i] : newV[i]);
      blockSizeArg.put(k, blockSizes[i]);
      stepArg.put(k, steps[i] + 1);
      putHyper(k, o, o.hessianPower());
    }
    int status =
        ah4j.ah4j_adahessian_step_(
            paramArg.get(),
            gradArg.get(),
            hessianDiagArg.get(),
            expAvgArg.get(),
            expHessianDiagSqArg.get(),
            count,
            blockSizeArg.get(),
            stepArg.get(),
            hyperArg.get());
    NativeCore.check(status, STEP, k -> describe(active.get((int) k)));

    // Commit: only now does the optimizer's state change.
    noteActivity(withGradient, heldBack);
    for (int i : active) {
      steps[i]++;
      if (newM[i] != null) {
        m[i] = Natives.keep(scope, newM[i]);
        v[i] = Natives.keep(scope, newV[i]);
      }
      if (freshDiags[i] != null) {
        if (diags[i] != null) {
          diags[i].close();
        }
        diags[i] = Natives.keep(scope, freshDiags[i]);
        diagKnown[i] = diagSums.read[i];
        diagSumAbs[i] = diagSums.sumAbs[i];
        diagMaxAbs[i] = diagSums.maxAbs[i];
      }
    }
    probeCounter += draws;
    if (refreshed && readsTensors()) {
      summariseEstimates();
    }
  }

  /** The statistics of the estimates in use, from each one's read at its refresh. */
  private void summariseEstimates() {
    double sum = 0;
    double max = 0;
    long elements = 0;
    int zero = 0;
    Tensor[] diags = hessianDiag.values;
    for (int i = 0; i < params.length; i++) {
      if (diags[i] != null && diagKnown[i]) {
        sum += diagSumAbs[i];
        max = Math.max(max, diagMaxAbs[i]);
        elements += params[i].numel();
        zero += diagMaxAbs[i] == 0 ? 1 : 0;
      }
    }
    hessianMean = elements == 0 ? Double.NaN : sum / elements;
    hessianMax = elements == 0 ? Double.NaN : max;
    zeroHessianParams = zero;
  }

  /** Fresh Hessian-diagonal estimates (null where none was due) and the probe draws they used. */
  private record Estimate(Tensor[] diagonals, long draws) {}

  private boolean refreshes(int i) {
    return steps[i] < hessianWarmup || steps[i] % updateEach == 0;
  }

  /**
   * Hutchinson estimates D for the active parameters due for a refresh (null for the others): one
   * sample is Hz itself (|z * Hz| = |Hz| for Rademacher z); several are averaged natively.
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
    hutchinson.estimate(
        params,
        g,
        ids,
        fresh,
        seed,
        probeCounter,
        nSamples,
        false,
        false,
        "AdaHessian",
        this::describe);
    lap(HESSIAN);
    return new Estimate(fresh, nSamples);
  }

  @Override
  String kind() {
    return "AdaHessian";
  }

  @Override
  Checkpoint.Codec<AdaHessianOptions> codec() {
    return new Checkpoint.Codec<>() {
      @Override
      public void writeOptions(DataOutputStream out, AdaHessianOptions o) throws IOException {
        for (double v :
            new double[] {
              o.lr(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.hessianPower()
            }) {
          out.writeDouble(v);
        }
      }

      @Override
      public AdaHessianOptions readOptions(DataInputStream in) throws IOException {
        return new AdaHessianOptions(
            in.readDouble(),
            in.readDouble(),
            in.readDouble(),
            in.readDouble(),
            in.readDouble(),
            in.readDouble());
      }

      @Override
      public void writeExtra(DataOutputStream out) throws IOException {
        out.writeLong(seed);
        out.writeLong(probeCounter);
        out.writeInt(updateEach);
        out.writeInt(nSamples);
        out.writeInt(hessianWarmup);
        for (int i = 0; i < params.length; i++) {
          out.writeLong(blockSizes[i]);
        }
        out.write(activity);
      }

      @Override
      public Runnable readExtra(DataInputStream in, int version) throws IOException {
        long savedSeed = in.readLong();
        long savedCounter = in.readLong();
        int savedUpdateEach = in.readInt();
        int savedSamples = in.readInt();
        int savedWarmup = version >= 3 ? in.readInt() : 0; // formats 1-2 had no warm-up
        if (savedUpdateEach != updateEach
            || savedSamples != nSamples
            || savedWarmup != hessianWarmup) {
          throw new CheckpointException(
              "the checkpoint was saved with updateEach "
                  + savedUpdateEach
                  + ", nSamples "
                  + savedSamples
                  + " and hessianWarmup "
                  + savedWarmup
                  + ", this optimizer has "
                  + updateEach
                  + ", "
                  + nSamples
                  + " and "
                  + hessianWarmup
                  + "; nothing was loaded");
        }
        for (int i = 0; i < params.length; i++) {
          long block = in.readLong();
          if (block != blockSizes[i]) {
            throw new CheckpointException(
                "the checkpoint averages "
                    + describe(i)
                    + " in blocks of "
                    + block
                    + ", this optimizer in blocks of "
                    + blockSizes[i]
                    + "; nothing was loaded");
          }
          if (version == 1) {
            in.readLong(); // the Hessian refresh counter of format 1: always the step count
          }
        }
        byte[] savedActivity = version >= 4 ? readActivity(in) : null;
        return () -> {
          activity = savedActivity != null ? savedActivity : activityBeforeFormat4();
          seed = savedSeed;
          probeCounter = savedCounter;
          hessianMean = Double.NaN;
          hessianMax = Double.NaN;
          zeroHessianParams = 0;
          java.util.Arrays.fill(diagKnown, false);
        };
      }
    };
  }

  private byte[] readActivity(DataInputStream in) throws IOException {
    byte[] saved = new byte[params.length];
    in.readFully(saved);
    for (int i = 0; i < saved.length; i++) {
      if (saved[i] != AWAKE && saved[i] != DORMANT && saved[i] != WAITING) {
        throw new CheckpointException(
            "the checkpoint has an unknown activity code "
                + saved[i]
                + " for "
                + describe(i)
                + "; nothing was loaded");
      }
    }
    return saved;
  }

  /**
   * The activity of a format 1-3 checkpoint, which did not save it, from the step counts (already
   * loaded): after a step, a parameter never stepped got no gradient at the last step (dormant);
   * the others are taken as awake, which can cost one graph but never skips an estimate.
   */
  private byte[] activityBeforeFormat4() {
    boolean anyStep = false;
    for (long s : steps) {
      anyStep |= s > 0;
    }
    byte[] derived = new byte[params.length];
    for (int i = 0; i < derived.length; i++) {
      derived[i] = anyStep && steps[i] == 0 ? DORMANT : AWAKE;
    }
    return derived;
  }

  /**
   * Builds an {@link AdaHessian}; defaults are the authors'. The common options (lr, betas, eps,
   * weightDecay, clipping, groups) are {@link OptimizerBuilder}'s: lr 0.15 (the paper's for CIFAR
   * ResNets), betas (0.9, 0.999), eps 1e-4 (the authors' and torch_optimizer's; davda54's is 1e-8),
   * weightDecay 0.
   *
   * <p>Weight decay here is decoupled and multiplied by lr ({@code p -= lr * weightDecay * p}, as
   * in the authors' optimizer class). The authors' training runs pass {@code weight_decay / lr} to
   * it ({@code image_classification/main.py} divides the command line's 5e-4 by the lr), so each of
   * their steps decays {@code 5e-4 * p} whatever the lr: for the paper's recipe use {@code
   * weightDecay(5e-4 / lr)}.
   */
  public static final class Builder
      extends OptimizerBuilder<AdaHessianOptions, Builder, AdaHessian> {
    private BlockAveraging blockAveraging = BlockAveraging.OFFICIAL;
    private int updateEach = 1;
    private int hessianWarmup;
    private int nSamples = 1;
    private long seed = 0x5EED_AD4E_551AL;

    private Builder() {
      super(AdaHessianOptions.DEFAULTS);
    }

    @Override
    Builder self() {
      return this;
    }

    @Override
    AdaHessian create(List<GroupSpec<AdaHessianOptions>> groups) {
      if (hessianWarmup > 0 && updateEach == 1) {
        throw new IllegalArgumentException(
            "Invalid hessianWarmup value: "
                + hessianWarmup
                + " (it refreshes the Hessian estimate at every step of the warm-up, which "
                + "updateEach 1 does at every step anyway: set updateEach > 1, or hessianWarmup 0)");
      }
      return new AdaHessian(this, groups);
    }

    /**
     * Hessian power k in [0, 1] (default 1, the authors'; torch_optimizer uses 0.5).
     *
     * @param hessianPower k
     * @return this builder
     */
    public Builder hessianPower(double hessianPower) {
      defaults = defaults.withHessianPower(hessianPower);
      return this;
    }

    /**
     * Spatial averaging of the Hessian diagonal (default {@link BlockAveraging#OFFICIAL}).
     *
     * @param blockAveraging the averaging
     * @return this builder
     */
    public Builder blockAveraging(BlockAveraging blockAveraging) {
      this.blockAveraging = Objects.requireNonNull(blockAveraging, "blockAveraging");
      return this;
    }

    /**
     * Refresh the Hessian estimate every this many steps of a parameter (default 1: every step).
     * Parameters the loss does not use do not count (see the class documentation: a parameter that
     * starts getting gradients when its estimate is due is held back for one step).
     *
     * @param updateEach the refresh period
     * @return this builder
     */
    public Builder updateEach(int updateEach) {
      Checks.positive("updateEach", updateEach);
      this.updateEach = updateEach;
      return this;
    }

    /**
     * Refresh the Hessian estimate at each of a parameter's first {@code hessianWarmup} steps, then
     * every {@link #updateEach(int)} steps as before (default 0: no warm-up). A parameter at its
     * step {@code t} (counted from 0) refreshes when {@code t < hessianWarmup || t % updateEach ==
     * 0}. Without it, {@code updateEach > 1} reuses each early estimate for {@code updateEach}
     * steps while the weights move fastest (at the default lr, {@code updateEach(4)} diverged in
     * its first steps on the demo CNN, docs/claims.md); with it, those steps use fresh estimates. A
     * fixed step count, not "until the estimate settles": the schedule stays a function of the step
     * count, the same on every replica and restored by a checkpoint (docs/guide.md). Only
     * meaningful with {@code updateEach > 1}: {@link #build()} refuses it with {@code updateEach
     * 1}.
     *
     * @param hessianWarmup the warm-up length in steps, at least 0
     * @return this builder
     */
    public Builder hessianWarmup(int hessianWarmup) {
      if (hessianWarmup < 0) {
        throw new IllegalArgumentException(
            "Invalid hessianWarmup value: " + hessianWarmup + " (must be >= 0)");
      }
      this.hessianWarmup = hessianWarmup;
      return this;
    }

    /**
     * Hutchinson samples per refresh (default 1).
     *
     * @param nSamples the sample count
     * @return this builder
     */
    public Builder nSamples(int nSamples) {
      Checks.positive("nSamples", nSamples);
      this.nSamples = nSamples;
      return this;
    }

    /**
     * Seed of the probe generator.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }
  }
}
