package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * What AdaHessian, Adam and AdamW share: parameter groups, per-parameter step counts and state
 * tensors (declared once by name, for state access and checkpoints alike), the one read pass over
 * the gradients (non-finite check, norm, clipping, statistics), and the native argument arrays that
 * carry one step for all parameters into the core in a single call.
 *
 * @param <O> the optimizer's group options
 */
abstract sealed class FusedOptimizer<O extends GroupOptions<O>> implements Optimizer
    permits FusedAdam, AdaHessian {
  /** {@code torch.nn.utils.clip_grad_norm_}'s guard against division by zero. */
  static final double CLIP_EPS = 1e-6;

  private final List<ParamGroup<O>> groups = new ArrayList<>();
  private final List<ParamGroup<O>> groupsView = Collections.unmodifiableList(groups);
  private final O defaults;
  Tensor[] params = new Tensor[0];
  long[][] shapes = new long[0][];
  private int[] groupOf = new int[0];
  private int[] indexInGroup = new int[0];
  private boolean[] empty = new boolean[0];
  long[] steps = new long[0];
  private final List<State> states = new ArrayList<>();

  final NativeArgs args = new NativeArgs();
  final NativeArgs.Tensors paramArg = args.tensors();
  final NativeArgs.Tensors gradArg = args.tensors();
  final NativeArgs.Longs stepArg = args.longs();
  final NativeArgs.Doubles hyperArg = args.doubles(ah4j.AH4J_HP_COUNT);
  private final NativeArgs.Tensors statsArg = args.tensors();
  private final NativeArgs.Ints nonFiniteArg = args.ints();
  private final NativeArgs.Doubles sumSqArg = args.doubles(1);
  private final NativeArgs.Doubles sumAbsArg = args.doubles(1);
  private final NativeArgs.Doubles maxAbsArg = args.doubles(1);

  private final double clipMaxNorm;
  private final double clipNormType;

  /** The data-parallel mean over replicas, or null (one process). */
  final ReplicaMean replicaMean;

  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile NonFinitePolicy nonFinitePolicy;
  private volatile double lossScale = 1.0;
  private long skippedSteps;
  private boolean lastStepSkipped;
  private long stepCalls;
  private volatile StepStats lastStats = StepStats.NONE;

  /** The phases of {@link StepTimes}, indexes into {@link #phaseNanos}. */
  static final int CLOSURE = 0;

  static final int GRADIENT = 1;
  static final int HESSIAN = 2;
  static final int REPLICA_MEAN = 3;
  static final int UPDATE = 4;

  private final long[] phaseNanos = new long[5];
  private long clockStart;
  private long clockMark;
  private volatile StepTimes lastTimes = StepTimes.NONE;
  private volatile boolean closed;

  FusedOptimizer(OptimizerBuilder<O, ?, ?> settings) {
    NativeCore.load();
    this.defaults = settings.defaults;
    this.clipMaxNorm = settings.clipMaxNorm;
    this.clipNormType = settings.clipNormType;
    this.nonFinitePolicy = settings.nonFinitePolicy;
    this.replicaMean = settings.replicaMean;
  }

  /**
   * A per-parameter state tensor, declared once by name (checkpoint order is declaration order).
   */
  static final class State {
    final String name;
    Tensor[] values = new Tensor[0];

    State(String name) {
      this.name = name;
    }
  }

  /** Declares a state tensor; call from field initialisers, before any group is added. */
  final State state(String name) {
    State s = new State(name);
    states.add(s);
    return s;
  }

  /** The declared states, in order. */
  final List<State> states() {
    return states;
  }

  /** A group as the optimizer is built with it. */
  record GroupSpec<O extends GroupOptions<O>>(List<Tensor> params, O options) {
    GroupSpec {
      params = List.copyOf(Objects.requireNonNull(params, "params"));
      Objects.requireNonNull(options, "options");
    }
  }

  /**
   * Adds groups: every new parameter is checked first (against each other and the parameters
   * already held), so a refused parameter leaves the optimizer as it was.
   */
  final void addGroups(List<GroupSpec<O>> specs) {
    int old = params.length;
    int g0 = groups.size();
    List<Tensor> incoming = new ArrayList<>();
    List<int[]> origin = new ArrayList<>();
    List<long[]> incomingShapes = new ArrayList<>();
    Map<Long, Integer> byData = new HashMap<>();
    for (int i = 0; i < old; i++) {
      if (!empty[i]) {
        byData.put(dataKey(params[i]), i);
      }
    }
    for (int g = 0; g < specs.size(); g++) {
      List<Tensor> list = specs.get(g).params();
      for (int k = 0; k < list.size(); k++) {
        Tensor p = list.get(k);
        int flat = old + incoming.size();
        String who = "parameter (group " + (g0 + g) + ", index " + k + ")";
        checkParam(p, who);
        Tensor first = old > 0 ? params[0] : incoming.isEmpty() ? null : incoming.get(0);
        if (first != null && !device(p).equals(device(first))) {
          throw new IllegalArgumentException(
              who
                  + " is on "
                  + device(p)
                  + ", the first parameter on "
                  + device(first)
                  + ": one optimizer steps parameters of one device");
        }
        if (p.numel() > 0) {
          Integer seen = byData.put(dataKey(p), flat);
          Tensor other = seen == null ? null : seen < old ? params[seen] : incoming.get(seen - old);
          if (other != null && other.is_same(p)) {
            String where =
                seen < old
                    ? "(group " + groupOf[seen] + ", index " + indexInGroup[seen] + ")"
                    : "(group "
                        + origin.get(seen - old)[0]
                        + ", index "
                        + origin.get(seen - old)[1]
                        + ")";
            throw new IllegalArgumentException(
                who + " appears twice: it is also parameter " + where);
          }
        }
        long[] shape = shapeOf(p);
        checkNewParam(
            flat,
            shape,
            "parameter "
                + flat
                + " (group "
                + (g0 + g)
                + ", index "
                + k
                + ", shape "
                + Natives.shape(shape)
                + ")");
        incoming.add(p);
        origin.add(new int[] {g0 + g, k});
        incomingShapes.add(shape);
      }
    }
    // Everything is checked: commit.
    int n = old + incoming.size();
    params = Arrays.copyOf(params, n);
    shapes = Arrays.copyOf(shapes, n);
    groupOf = Arrays.copyOf(groupOf, n);
    indexInGroup = Arrays.copyOf(indexInGroup, n);
    empty = Arrays.copyOf(empty, n);
    steps = Arrays.copyOf(steps, n);
    for (State s : states) {
      s.values = Arrays.copyOf(s.values, n);
    }
    for (int j = 0; j < incoming.size(); j++) {
      int i = old + j;
      params[i] = Natives.keep(new Tensor(incoming.get(j)));
      shapes[i] = incomingShapes.get(j);
      groupOf[i] = origin.get(j)[0];
      indexInGroup[i] = origin.get(j)[1];
      empty[i] = params[i].numel() == 0;
    }
    int at = old;
    for (GroupSpec<O> spec : specs) {
      List<Tensor> own = Arrays.asList(params).subList(at, at + spec.params().size());
      groups.add(new ParamGroup<>(this, own, spec.options()));
      at += spec.params().size();
    }
    args.capacity(n);
    grew(old, n);
  }

  private static long dataKey(Tensor p) {
    return p.data_ptr().address() ^ (p.numel() << 48);
  }

  /**
   * A subclass's check of a parameter about to be added (flat index {@code i}); throws to refuse.
   */
  void checkNewParam(int i, long[] shape, String who) {}

  /** A subclass's hook after parameters {@code [from, to)} were added. */
  void grew(int from, int to) {}

  private static void checkParam(Tensor p, String who) {
    if (p == null || p.isNull()) {
      throw new IllegalArgumentException(who + " is null");
    }
    if (!p.defined()) {
      throw new IllegalArgumentException(who + " is an undefined tensor");
    }
    if (p.is_sparse() || p.layout().value != torch.Layout.Strided.value) {
      throw new IllegalArgumentException(
          who + ": expected a dense (strided) tensor, got layout " + p.layout());
    }
    if (!p.is_floating_point()) {
      throw new IllegalArgumentException(
          who
              + ": expected a floating dtype (float32, float64, "
              + "float16 or bfloat16), got "
              + p.scalar_type());
    }
    if (!p.requires_grad()) {
      throw new IllegalArgumentException(
          who
              + " does not require grad: call requires_grad_(true) "
              + "on it or leave it out of the optimizer");
    }
    if (!p.is_leaf()) {
      throw new IllegalArgumentException(
          who
              + " is not a leaf tensor (it was computed from other "
              + "tensors, so stepping it in place would not change what it came from): can't optimize "
              + "a non-leaf Tensor; pass the leaf it came from, or detach().requires_grad_(true) a copy");
    }
    if (!p.is_contiguous()) {
      throw new IllegalArgumentException(
          who
              + ": expected a contiguous tensor (call contiguous() "
              + "before making it a parameter)");
    }
    if (p.is_cuda() && ah4j.ah4j_has_cuda_kernels() == 0) {
      throw new IllegalArgumentException(
          who
              + ": expected a cpu tensor, got "
              + device(p)
              + " (these natives have no CUDA kernels: depend on the linux-x86_64-gpu natives)");
    }
    if (!p.is_cpu() && !p.is_cuda()) {
      throw new IllegalArgumentException(who + ": expected a cpu or cuda tensor, got " + device(p));
    }
  }

  static long[] shapeOf(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int d = 0; d < shape.length; d++) {
      shape[d] = t.size(d);
    }
    return shape;
  }

  /** Writes row {@code k} of the core's hyperparameter table. */
  void putHyper(int k, GroupOptions<?> o, double hessianPower) {
    long row = (long) k * ah4j.AH4J_HP_COUNT;
    hyperArg.put(row + ah4j.AH4J_HP_LR, o.lr());
    if (o instanceof AdamOptions a) {
      hyperArg.put(row + ah4j.AH4J_HP_BETA1, a.beta1());
      hyperArg.put(row + ah4j.AH4J_HP_BETA2, a.beta2());
      hyperArg.put(row + ah4j.AH4J_HP_EPS, a.eps());
      hyperArg.put(row + ah4j.AH4J_HP_WEIGHT_DECAY, a.weightDecay());
    } else if (o instanceof AdaHessianOptions h) {
      hyperArg.put(row + ah4j.AH4J_HP_BETA1, h.beta1());
      hyperArg.put(row + ah4j.AH4J_HP_BETA2, h.beta2());
      hyperArg.put(row + ah4j.AH4J_HP_EPS, h.eps());
      hyperArg.put(row + ah4j.AH4J_HP_WEIGHT_DECAY, h.weightDecay());
    }
    hyperArg.put(row + ah4j.AH4J_HP_HESSIAN_POWER, hessianPower);
  }

  static String device(Tensor t) {
    try (org.bytedeco.pytorch.Device d = t.device()) {
      return d.str().getString();
    }
  }

  /** "parameter 3 (group 1, index 0, shape [10, 5])": the user's name for flat index {@code i}. */
  String describe(int i) {
    return "parameter "
        + i
        + " (group "
        + groupOf[i]
        + ", index "
        + indexInGroup[i]
        + ", shape "
        + Natives.shape(shapes[i])
        + ")";
  }

  /** "parameter 3 (group 1, index 0)": where flat index {@code i} is. */
  String position(int i) {
    return "parameter " + i + " (group " + groupOf[i] + ", index " + indexInGroup[i] + ")";
  }

  ParamGroup<O> groupOf(int i) {
    return groups.get(groupOf[i]);
  }

  /** Whether parameter {@code i} has no elements (accepted, never stepped). */
  boolean isEmpty(int i) {
    return empty[i];
  }

  @Override
  public List<ParamGroup<O>> paramGroups() {
    ensureOpen();
    return groupsView;
  }

  @Override
  public void setLr(double lr) {
    ensureOpen();
    Checks.learningRate(lr);
    for (ParamGroup<O> group : groups) {
      group.setLr(lr);
    }
  }

  /**
   * The options a group gets from {@link #addParamGroup(List)}: the builder's defaults.
   *
   * @return the default group options
   */
  public O defaults() {
    ensureOpen();
    return defaults;
  }

  @Override
  public void addParamGroup(List<Tensor> params) {
    addParamGroup(params, defaults);
  }

  /**
   * Adds a group of parameters with its own options (fine-tuning: unfreezing layers). Its
   * parameters start with fresh state; one that the optimizer already holds, or that is invalid, is
   * refused with an {@link IllegalArgumentException} and nothing changes.
   *
   * @param params the group's parameters
   * @param options the group's options
   */
  public void addParamGroup(List<Tensor> params, O options) {
    Objects.requireNonNull(params, "params");
    Objects.requireNonNull(options, "options");
    enter();
    try {
      addGroups(List.of(new GroupSpec<>(params, options)));
    } finally {
      exit();
    }
  }

  @Override
  public NonFinitePolicy nonFinitePolicy() {
    ensureOpen();
    return nonFinitePolicy;
  }

  @Override
  public void setNonFinitePolicy(NonFinitePolicy policy) {
    ensureOpen();
    this.nonFinitePolicy = Objects.requireNonNull(policy, "policy");
  }

  @Override
  public double lossScale() {
    ensureOpen();
    return lossScale;
  }

  @Override
  public void setLossScale(double scale) {
    ensureOpen();
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("Invalid loss scale value: " + scale);
    }
    this.lossScale = scale;
  }

  @Override
  public double clipMaxNorm() {
    ensureOpen();
    return clipMaxNorm;
  }

  @Override
  public double clipNormType() {
    ensureOpen();
    return clipNormType;
  }

  @Override
  public long skippedSteps() {
    ensureOpen();
    return skippedSteps;
  }

  @Override
  public boolean lastStepSkipped() {
    ensureOpen();
    return lastStepSkipped;
  }

  @Override
  public StepStats lastStepStats() {
    ensureOpen();
    return lastStats;
  }

  @Override
  public StepTimes lastStepTimes() {
    ensureOpen();
    return lastTimes;
  }

  /** Charges the time since the previous lap (or the step's start) to {@code phase}. */
  final void lap(int phase) {
    long now = System.nanoTime();
    phaseNanos[phase] += now - clockMark;
    clockMark = now;
  }

  /** Divides {@code t} by the loss scale (a new tensor), or returns it as it is at scale 1. */
  Tensor unscale(Tensor t) {
    return lossScale == 1.0 ? t : t.mul(new Scalar(1.0 / lossScale));
  }

  /** What the step in progress found; becomes {@link #lastStepStats()} when it ends. */
  static final class Report {
    double loss = Double.NaN;
    double gradNorm = Double.NaN;
    boolean clipped;
    boolean skipped;
    boolean hessianRefreshed;
  }

  /** Publishes the statistics of a step that ended (taken, skipped or a no-op). */
  void finish(Report r, double hessianMean, double hessianMax, int zeroHessianParams) {
    stepCalls++;
    double[] lrs = new double[groups.size()];
    for (int g = 0; g < lrs.length; g++) {
      lrs[g] = groups.get(g).lr();
    }
    lastStats =
        new StepStats(
            stepCalls,
            r.loss,
            r.gradNorm,
            r.clipped,
            r.skipped,
            lrs,
            r.hessianRefreshed,
            hessianMean,
            hessianMax,
            zeroHessianParams);
  }

  /**
   * Hands {@code grads[i]} for {@code i} in {@code active}, then {@code diags[i]} (the fresh
   * Hessian estimates, null where none; {@code diags} may be null) to the {@link ReplicaMean}, as
   * detached tensors that share storage with what the step uses; {@code grads[i]} is replaced by
   * its detached handle. Called even with no active parameter, so that a replica without gradients
   * still takes part in the collective (whose check then reports the mismatch).
   */
  void averageAcrossReplicas(List<Integer> active, Tensor[] grads, Tensor[] diags) {
    lap(UPDATE);
    List<Tensor> shared = new ArrayList<>();
    for (int i : active) {
      grads[i] = grads[i].detach();
      shared.add(grads[i]);
    }
    if (diags != null) {
      for (int i : active) {
        if (diags[i] != null) {
          shared.add(diags[i]);
        }
      }
    }
    replicaMean.averageInPlace(Collections.unmodifiableList(shared));
    lap(REPLICA_MEAN);
  }

  /**
   * Per-parameter sums of the one read pass, indexed by flat parameter index (0 where not read).
   */
  static final class Sums {
    final double[] sumSq;
    final double[] sumAbs;
    final double[] maxAbs;
    final boolean[] read;
    int firstNonFinite = -1;

    Sums(int n) {
      sumSq = new double[n];
      sumAbs = new double[n];
      maxAbs = new double[n];
      read = new boolean[n];
    }
  }

  /** Whether the next checks read the tensors at all (policy IGNORE without clipping does not). */
  boolean readsTensors() {
    return nonFinitePolicy != NonFinitePolicy.IGNORE || clipping();
  }

  boolean clipping() {
    return clipMaxNorm != Double.POSITIVE_INFINITY;
  }

  /**
   * The one read pass over {@code tensors[i]} for {@code i} in {@code active} (null entries are
   * left out): the core's statistics pass on the CPU, libtorch ops on CUDA tensors. Without {@code
   * absStats} the core skips the sums of |x| and without {@code maxStat} the max of |x| (left 0: a
   * gradients' pass needs the max for inf-norm clipping only, the sum never).
   */
  Sums readPass(
      String operation, List<Integer> active, Tensor[] tensors, boolean absStats, boolean maxStat) {
    Sums sums = new Sums(params.length);
    int count = 0;
    int[] owner = new int[active.size()];
    for (int i : active) {
      if (tensors[i] != null) {
        statsArg.put(count, tensors[i]);
        owner[count++] = i;
      }
    }
    if (count == 0) {
      return sums;
    }
    if (tensors[owner[0]].is_cuda() || torchStatsForTests) {
      readPassWithTorch(tensors, owner, count, sums);
      return sums;
    }
    int status =
        ah4j.ah4j_tensor_stats(
            statsArg.get(),
            count,
            nonFiniteArg.get(),
            sumSqArg.get(),
            absStats ? sumAbsArg.get() : null,
            maxStat ? maxAbsArg.get() : null);
    NativeCore.check(status, operation, k -> describe(owner[(int) k]));
    for (int k = 0; k < count; k++) {
      int i = owner[k];
      sums.read[i] = true;
      sums.sumSq[i] = sumSqArg.get(k);
      sums.sumAbs[i] = absStats ? sumAbsArg.get(k) : 0;
      sums.maxAbs[i] = maxStat ? maxAbsArg.get(k) : 0;
      if (sums.firstNonFinite < 0 && nonFiniteArg.get(k) != 0) {
        sums.firstNonFinite = i;
      }
    }
    return sums;
  }

  /** For tests: run the libtorch-ops pass (the CUDA path) on CPU tensors too. */
  static volatile boolean torchStatsForTests;

  /** The same sums with libtorch ops, in float64, with one copy to the host for all tensors. */
  private static void readPassWithTorch(Tensor[] tensors, int[] owner, int count, Sums sums) {
    try (PointerScope scope = new PointerScope()) {
      TensorVector rows = new TensorVector();
      for (int k = 0; k < count; k++) {
        Tensor t = tensors[owner[k]];
        Tensor a = t.to(torch.ScalarType.Double).abs().flatten();
        Tensor max = t.numel() == 0 ? torch.zeros_like(a.sum()) : a.max();
        Tensor bad = torch.isfinite(t).all().logical_not().to(torch.ScalarType.Double);
        rows.push_back(torch.stack(new TensorVector(a.mul(a).sum(), a.sum(), max, bad)));
      }
      Tensor host = torch.stack(rows).cpu().contiguous();
      org.bytedeco.javacpp.DoublePointer data =
          new org.bytedeco.javacpp.DoublePointer(host.data_ptr()).capacity(4L * count);
      for (int k = 0; k < count; k++) {
        int i = owner[k];
        sums.read[i] = true;
        sums.sumSq[i] = data.get(4L * k);
        sums.sumAbs[i] = data.get(4L * k + 1);
        sums.maxAbs[i] = data.get(4L * k + 2);
        if (sums.firstNonFinite < 0 && data.get(4L * k + 3) != 0) {
          sums.firstNonFinite = i;
        }
      }
    }
  }

  /**
   * The gradient checks of a step, in one read: the non-finite policy, the gradient norm, and
   * clipping ({@code torch.nn.utils.clip_grad_norm_}'s semantics: the norm of all gradients
   * together; when {@code maxNorm / (norm + 1e-6) < 1} every gradient is scaled in place by it).
   * Returns false when the step must be skipped.
   */
  boolean checkGradients(String operation, List<Integer> active, Tensor[] grads, Report r) {
    lastStepSkipped = false;
    if (!readsTensors()) {
      return true;
    }
    Sums sums = readPass(operation, active, grads, false, clipNormType == Double.POSITIVE_INFINITY);
    if (sums.firstNonFinite >= 0 && nonFinitePolicy != NonFinitePolicy.IGNORE) {
      skip(operation, "gradient", sums.firstNonFinite, r);
      return false;
    }
    double norm = 0;
    for (int i : active) {
      if (sums.read[i]) {
        norm =
            clipNormType == Double.POSITIVE_INFINITY
                ? Math.max(norm, sums.maxAbs[i])
                : norm + sums.sumSq[i];
      }
    }
    norm = clipNormType == Double.POSITIVE_INFINITY ? norm : Math.sqrt(norm);
    r.gradNorm = sums.firstNonFinite >= 0 ? Double.NaN : norm;
    if (clipping() && sums.firstNonFinite < 0) {
      double coef = clipMaxNorm / (norm + CLIP_EPS);
      if (coef < 1.0) {
        Scalar s = new Scalar(coef);
        for (int i : active) {
          Tensor g = grads[i].detach(); // shares storage: p.grad() itself for Adam, as torch does
          g.mul_(s);
          grads[i] = g;
        }
        r.clipped = true;
      }
    }
    return true;
  }

  /**
   * The check of fresh Hessian estimates (null where none); returns their sums, or null when the
   * step must be skipped. Without a read (policy IGNORE, no clipping) returns empty sums.
   */
  Sums checkEstimates(String operation, List<Integer> active, Tensor[] diags, Report r) {
    if (!readsTensors()) {
      return new Sums(params.length);
    }
    Sums sums = readPass(operation, active, diags, true, true);
    if (sums.firstNonFinite >= 0 && nonFinitePolicy != NonFinitePolicy.IGNORE) {
      skip(operation, "Hessian-diagonal estimate", sums.firstNonFinite, r);
      return null;
    }
    return sums;
  }

  private void skip(String operation, String what, int culprit, Report r) {
    if (nonFinitePolicy == NonFinitePolicy.THROW) {
      throw new OptimizerException(
          operation
              + " failed: "
              + describe(culprit)
              + ": its "
              + what
              + " holds NaN or infinity; nothing was changed");
    }
    skippedSteps++;
    lastStepSkipped = true;
    r.skipped = true;
  }

  /**
   * The number of steps taken by one parameter.
   *
   * @param i the parameter's flat index over all groups, in the order they were added
   * @return its step count
   */
  public long stepCount(int i) {
    ensureOpen();
    return steps[i];
  }

  @Override
  public void zeroGrad() {
    ensureOpen();
    resetGrads();
  }

  /** Resets every parameter's gradient to undefined (zeroGrad without the open check). */
  void resetGrads() {
    for (Tensor p : params) {
      try (Tensor grad = p.grad()) {
        if (grad.defined()) {
          p.mutable_grad().reset();
        }
      }
    }
  }

  /** Which parameters have a defined gradient now. */
  boolean[] gradDefined() {
    boolean[] defined = new boolean[params.length];
    for (int i = 0; i < params.length; i++) {
      try (Tensor grad = params[i].grad()) {
        defined[i] = grad.defined();
      }
    }
    return defined;
  }

  /** The first parameter whose gradient is defined now but was not before, or -1. */
  int firstNewGrad(boolean[] before) {
    boolean[] now = gradDefined();
    for (int i = 0; i < now.length; i++) {
      if (now[i] && !before[i]) {
        return i;
      }
    }
    return -1;
  }

  /** Enters a step: refuses a closed optimizer and a second thread using it concurrently. */
  void enter() {
    ensureOpen();
    if (!busy.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "optimizer is already stepping on another thread: "
              + "one optimizer must not be used by two threads at once");
    }
  }

  void exit() {
    busy.set(false);
  }

  /** Enters a step ({@link #enter()}) and starts its clock: the phases of {@link StepTimes}. */
  final void enterStep() {
    enter();
    Arrays.fill(phaseNanos, 0);
    clockStart = System.nanoTime();
    clockMark = clockStart;
  }

  /** Ends a step: what is left goes to the update; publishes the times, then {@link #exit()}. */
  final void exitStep() {
    lap(UPDATE);
    lastTimes =
        new StepTimes(
            phaseNanos[CLOSURE],
            phaseNanos[GRADIENT],
            phaseNanos[HESSIAN],
            phaseNanos[REPLICA_MEAN],
            phaseNanos[UPDATE],
            clockMark - clockStart);
    exit();
  }

  void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("optimizer is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    enter();
    try {
      closed = true;
      for (State s : states) {
        closeAll(s.values);
      }
      releaseState();
      for (Tensor p : params) {
        if (p != null) {
          p.close();
        }
      }
      args.close();
    } finally {
      exit();
    }
  }

  /** A subclass's own native objects to free at close (the declared states are freed already). */
  void releaseState() {}

  /** The checkpoint's kind: "Adam", "AdamW" or "AdaHessian". */
  abstract String kind();

  abstract Checkpoint.Codec<O> codec();

  /**
   * For tests: state {@code name} of parameter {@code i} (flat index), not a copy; null before its
   * first step.
   */
  Tensor stateTensor(String name, int i) {
    for (State s : states) {
      if (s.name.equals(name)) {
        return s.values[i];
      }
    }
    throw new IllegalArgumentException("no " + kind() + " state named " + name);
  }

  /**
   * Saves the whole optimizer (moments, step counts, probe generator, group options) to {@code
   * file}, atomically: a temporary file is written, forced to disk and renamed over it. The
   * parameters themselves are the model's to save.
   */
  @Override
  public void save(Path file) throws IOException {
    enter();
    try {
      Checkpoint.save(this, codec(), file);
    } finally {
      exit();
    }
  }

  /**
   * Replaces this optimizer's state with a checkpoint written by {@link #save} for the same
   * parameter shapes. A truncated, corrupted or mismatched file throws {@link CheckpointException}
   * and changes nothing.
   */
  @Override
  public void load(Path file) throws IOException {
    enter();
    try {
      Checkpoint.load(this, codec(), file);
    } finally {
      exit();
    }
  }

  @Override
  public void save(OutputStream out) throws IOException {
    Objects.requireNonNull(out, "out");
    enter();
    try {
      Checkpoint.write(this, codec(), out);
    } finally {
      exit();
    }
  }

  @Override
  public void load(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    enter();
    try {
      Checkpoint.read(this, codec(), in, "from a stream", false);
    } finally {
      exit();
    }
  }

  static void closeAll(Tensor[] tensors) {
    for (int i = 0; i < tensors.length; i++) {
      if (tensors[i] != null) {
        tensors[i].close();
        tensors[i] = null;
      }
    }
  }

  /**
   * A float32 (float64 for float64 parameters) zero tensor shaped like parameter {@code i}, owned
   * by the caller's scope until the step commits it.
   */
  Tensor zerosState(int i) {
    return Natives.zerosState(params[i]);
  }

  /**
   * Runs {@code body} (a step: its closure and its update) in a {@link PointerScope} of its own, so
   * every native object the closure creates (the forward pass's activations, held by Java wrappers)
   * is freed when the step ends, not when the garbage collector gets to it. The loss {@code body}
   * returns survives detached ({@code detach()}: the same storage, no graph), owned by the caller's
   * innermost scope (or, outside any scope, by the garbage collector): a handle to the loss itself
   * would keep its graph, and with it every activation (AdaHessian's create_graph retains them
   * all), alive until the collector runs. A tensor the closure creates and the caller keeps
   * elsewhere is freed with the step: create such tensors outside the closure.
   */
  static Tensor inStepScope(java.util.function.Function<PointerScope, Tensor> body) {
    Tensor kept;
    try (PointerScope scope = new PointerScope()) {
      Tensor loss = body.apply(scope);
      kept = Natives.keep(scope, loss.detach());
    }
    return Natives.toCallerScope(kept);
  }

  /** Checks a closure's loss: defined, scalar, with a graph. */
  static void checkLoss(Tensor loss) {
    if (loss == null || loss.isNull() || !loss.defined()) {
      throw new OptimizerException("closure returned no loss (null or undefined tensor)");
    }
    if (loss.numel() != 1) {
      throw new OptimizerException(
          "closure must return a scalar loss, got shape " + Natives.shape(shapeOf(loss)));
    }
    if (!loss.requires_grad()) {
      throw new OptimizerException(
          "the loss does not require grad: compute it from the "
              + "optimizer's parameters, outside NoGradGuard");
    }
  }
}
