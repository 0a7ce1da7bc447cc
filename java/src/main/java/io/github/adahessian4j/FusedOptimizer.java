package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What AdaHessian, Adam and AdamW share: parameter groups, per-parameter step counts, and the
 * native argument arrays that carry one step for all parameters into the core in a single call.
 * The arrays are allocated once, so a step allocates no native memory of its own.
 */
abstract sealed class FusedOptimizer<O extends GroupOptions<O>> implements Optimizer
    permits FusedAdam, AdaHessian {
  static final int HP = 6; // columns of the core's hyperparameter table (AH4J_HP_COUNT)

  private final List<ParamGroup<O>> groups;
  final Tensor[] params;
  final long[][] shapes;
  private final int[] groupOf;
  private final int[] indexInGroup;
  final long[] steps;

  final PointerPointer<Tensor> argParams;
  final PointerPointer<Tensor> argGrads;
  final PointerPointer<Tensor> argA;
  final PointerPointer<Tensor> argB;
  final PointerPointer<Tensor> argC;
  final LongPointer argSteps;
  final LongPointer argLongs;
  final DoublePointer argHyper;
  final IntPointer argFlags;
  private final PointerPointer<Tensor> argCheck;
  private final LongPointer argIndex;

  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile NonFinitePolicy nonFinitePolicy = NonFinitePolicy.SKIP;
  private volatile double lossScale = 1.0;
  private long skippedSteps;
  private boolean lastStepSkipped;
  private volatile boolean closed;

  FusedOptimizer(List<GroupSpec<O>> specs) {
    NativeCore.load();
    if (specs.isEmpty()) {
      throw new IllegalArgumentException("optimizer got an empty parameter list");
    }
    List<ParamGroup<O>> built = new ArrayList<>();
    List<Tensor> flat = new ArrayList<>();
    List<int[]> origin = new ArrayList<>();
    Map<Long, Integer> byData = new HashMap<>();
    for (int g = 0; g < specs.size(); g++) {
      GroupSpec<O> spec = specs.get(g);
      List<Tensor> own = new ArrayList<>();
      for (int k = 0; k < spec.params().size(); k++) {
        Tensor p = spec.params().get(k);
        checkParam(p, g, k);
        if (!flat.isEmpty() && !device(p).equals(device(flat.get(0)))) {
          throw new IllegalArgumentException("parameter (group " + g + ", index " + k + ") is on "
              + device(p) + ", the first parameter on " + device(flat.get(0))
              + ": one optimizer steps parameters of one device");
        }
        Integer seen = byData.put(p.data_ptr().address() ^ (p.numel() << 48), flat.size());
        if (seen != null && flat.get(seen).is_same(p)) {
          int[] first = origin.get(seen);
          throw new IllegalArgumentException("parameter (group " + g + ", index " + k
              + ") appears twice: it is also parameter (group " + first[0] + ", index " + first[1] + ")");
        }
        Tensor mine = Natives.keep(new Tensor(p));
        own.add(mine);
        flat.add(mine);
        origin.add(new int[] {g, k});
      }
      built.add(new ParamGroup<>(own, spec.options()));
    }
    this.groups = List.copyOf(built);
    int n = flat.size();
    this.params = flat.toArray(new Tensor[0]);
    this.shapes = new long[n][];
    this.groupOf = new int[n];
    this.indexInGroup = new int[n];
    for (int i = 0; i < n; i++) {
      shapes[i] = shapeOf(params[i]);
      groupOf[i] = origin.get(i)[0];
      indexInGroup[i] = origin.get(i)[1];
    }
    this.steps = new long[n];
    this.argParams = Natives.keep(new PointerPointer<>(n));
    this.argGrads = Natives.keep(new PointerPointer<>(n));
    this.argA = Natives.keep(new PointerPointer<>(n));
    this.argB = Natives.keep(new PointerPointer<>(n));
    this.argC = Natives.keep(new PointerPointer<>(n));
    this.argSteps = Natives.keep(new LongPointer(n));
    this.argLongs = Natives.keep(new LongPointer(n));
    this.argHyper = Natives.keep(new DoublePointer((long) n * HP));
    this.argFlags = Natives.keep(new IntPointer(n));
    this.argCheck = Natives.keep(new PointerPointer<>(n));
    this.argIndex = Natives.keep(new LongPointer(1));
  }

  /** A group as the optimizer is built with it. */
  record GroupSpec<O extends GroupOptions<O>>(List<Tensor> params, O options) {
    GroupSpec {
      params = List.copyOf(params);
      Objects.requireNonNull(options, "options");
    }
  }

  /** A group as a builder collects it; null options mean the builder's defaults at build(). */
  record PendingGroup<O extends GroupOptions<O>>(List<Tensor> params, O options) {
    PendingGroup {
      params = List.copyOf(Objects.requireNonNull(params, "params"));
    }

    static <O extends GroupOptions<O>> List<GroupSpec<O>> resolve(List<PendingGroup<O>> pending, O defaults) {
      List<GroupSpec<O>> specs = new ArrayList<>();
      for (PendingGroup<O> g : pending) {
        specs.add(new GroupSpec<>(g.params(), g.options() != null ? g.options() : defaults));
      }
      return specs;
    }
  }

  private static void checkParam(Tensor p, int g, int k) {
    String who = "parameter (group " + g + ", index " + k + ")";
    if (p == null || p.isNull()) {
      throw new IllegalArgumentException(who + " is null");
    }
    if (!p.defined()) {
      throw new IllegalArgumentException(who + " is an undefined tensor");
    }
    if (p.is_sparse() || p.layout().value != torch.Layout.Strided.value) {
      throw new IllegalArgumentException(who + ": expected a dense (strided) tensor, got layout " + p.layout());
    }
    if (!p.is_floating_point()) {
      throw new IllegalArgumentException(who + ": expected a floating dtype (float32, float64, "
          + "float16 or bfloat16), got " + p.scalar_type());
    }
    if (!p.requires_grad()) {
      throw new IllegalArgumentException(who + " does not require grad: call requires_grad_(true) "
          + "on it or leave it out of the optimizer");
    }
    if (!p.is_contiguous()) {
      throw new IllegalArgumentException(who + ": expected a contiguous tensor (call contiguous() "
          + "before making it a parameter)");
    }
    if (p.is_cuda() && ah4j.ah4j_has_cuda_kernels() == 0) {
      throw new IllegalArgumentException(who + ": expected a cpu tensor, got " + device(p)
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

  /** Writes row {@code k} of the core's hyperparameter table (AH4J_HP_LR ... AH4J_HP_HESSIAN_POWER). */
  void putHyper(int k, double lr, double beta1, double beta2, double eps, double weightDecay, double hessianPower) {
    long row = (long) k * HP;
    argHyper.put(row, lr);
    argHyper.put(row + 1, beta1);
    argHyper.put(row + 2, beta2);
    argHyper.put(row + 3, eps);
    argHyper.put(row + 4, weightDecay);
    argHyper.put(row + 5, hessianPower);
  }

  static String device(Tensor t) {
    try (org.bytedeco.pytorch.Device d = t.device()) {
      return d.str().getString();
    }
  }

  /** "parameter 3 (group 1, index 0, shape [10, 5])": the user's name for flat index {@code i}. */
  String describe(int i) {
    return "parameter " + i + " (group " + groupOf[i] + ", index " + indexInGroup[i] + ", shape "
        + Natives.shape(shapes[i]) + ")";
  }

  ParamGroup<O> groupOf(int i) {
    return groups.get(groupOf[i]);
  }

  @Override
  public List<ParamGroup<O>> paramGroups() {
    return groups;
  }

  @Override
  public void setLr(double lr) {
    Checks.learningRate(lr);
    for (ParamGroup<O> group : groups) {
      group.setLr(lr);
    }
  }

  /** What a step does with NaN or infinite gradients and Hessian estimates (default SKIP). */
  public NonFinitePolicy nonFinitePolicy() {
    return nonFinitePolicy;
  }

  public void setNonFinitePolicy(NonFinitePolicy policy) {
    this.nonFinitePolicy = Objects.requireNonNull(policy, "policy");
  }

  /**
   * The factor the loss was multiplied by (mixed-precision loss scaling; default 1). Gradients
   * and Hessian-vector products are divided by it before the non-finite check and the update.
   */
  public double lossScale() {
    return lossScale;
  }

  public void setLossScale(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("Invalid loss scale value: " + scale);
    }
    this.lossScale = scale;
  }

  /** Steps skipped because of non-finite numbers, since construction. */
  public long skippedSteps() {
    return skippedSteps;
  }

  /** Whether the most recent step was skipped because of non-finite numbers. */
  public boolean lastStepSkipped() {
    return lastStepSkipped;
  }

  /** Divides {@code t} by the loss scale (a new tensor), or returns it as it is at scale 1. */
  Tensor unscale(Tensor t) {
    return lossScale == 1.0 ? t : t.mul(new org.bytedeco.pytorch.Scalar(1.0 / lossScale));
  }

  /**
   * Applies the non-finite policy to {@code tensors[k]} (belonging to parameter
   * {@code active.get(k)}); returns true when the step may go on.
   */
  boolean finiteOrSkip(String operation, String what, List<Integer> active, Tensor[] tensors) {
    lastStepSkipped = false;
    if (nonFinitePolicy == NonFinitePolicy.IGNORE) {
      return true;
    }
    int count = 0;
    int[] owner = new int[active.size()];
    for (int i : active) {
      if (tensors[i] != null) {
        argCheck.put(count, tensors[i]);
        owner[count++] = i;
      }
    }
    int bad = params.length > 0 && params[0].is_cuda()
        ? firstNonFiniteWithTorch(tensors, owner, count) : firstNonFinite(operation, owner, count);
    if (bad < 0) {
      return true;
    }
    if (nonFinitePolicy == NonFinitePolicy.THROW) {
      throw new OptimizerException(operation + " failed: " + describe(bad) + ": its " + what
          + " holds NaN or infinity; nothing was changed");
    }
    skippedSteps++;
    lastStepSkipped = true;
    return false;
  }

  /** The core's one-pass check over argCheck[0, count): the culprit's flat index, or -1. */
  private int firstNonFinite(String operation, int[] owner, int count) {
    int status = ah4j.ah4j_find_non_finite(argCheck, count, argIndex);
    NativeCore.check(status, operation, k -> describe(owner[(int) k]));
    long k = argIndex.get();
    return k < 0 ? -1 : owner[(int) k];
  }

  /** The same with libtorch ops, for CUDA tensors: one synchronisation when all are finite. */
  private static int firstNonFiniteWithTorch(Tensor[] tensors, int[] owner, int count) {
    try (PointerScope scope = new PointerScope()) {
      Tensor all = null;
      for (int k = 0; k < count; k++) {
        Tensor finite = torch.isfinite(tensors[owner[k]]).all();
        all = all == null ? finite : all.logical_and(finite);
      }
      if (all == null || all.item_bool()) {
        return -1;
      }
      for (int k = 0; k < count; k++) {
        if (!torch.isfinite(tensors[owner[k]]).all().item_bool()) {
          return owner[k];
        }
      }
      return -1;
    }
  }

  /** The number of steps taken by parameter {@code i} (flat index over all groups). */
  public long stepCount(int i) {
    return steps[i];
  }

  /** Resets every parameter's gradient to undefined (PyTorch's {@code set_to_none}). */
  public void zeroGrad() {
    ensureOpen();
    for (Tensor p : params) {
      Tensor grad = p.grad();
      if (grad.defined()) {
        p.mutable_grad().reset();
      }
      grad.close();
    }
  }

  /** Enters a step: refuses a closed optimizer and a second thread using it concurrently. */
  void enter() {
    ensureOpen();
    if (!busy.compareAndSet(false, true)) {
      throw new IllegalStateException("optimizer is already stepping on another thread: "
          + "one optimizer must not be used by two threads at once");
    }
  }

  void exit() {
    busy.set(false);
  }

  void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("optimizer is closed");
    }
  }

  /** Frees the optimizer's state and its handles to the parameters (not the parameters). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    enter();
    try {
      closed = true;
      releaseState();
      for (Tensor p : params) {
        p.close();
      }
      argParams.close();
      argGrads.close();
      argA.close();
      argB.close();
      argC.close();
      argSteps.close();
      argLongs.close();
      argHyper.close();
      argFlags.close();
      argCheck.close();
      argIndex.close();
    } finally {
      exit();
    }
  }

  abstract void releaseState();

  abstract Checkpoint.Codec<O> codec();

  /**
   * Saves the whole optimizer (moments, step counts, probe generator, group options) to
   * {@code file}, atomically: a temporary file is written, forced to disk and renamed over it.
   * The parameters themselves are the model's to save.
   */
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
   * parameter shapes. A truncated, corrupted or mismatched file throws
   * {@link CheckpointException} and changes nothing.
   */
  public void load(Path file) throws IOException {
    enter();
    try {
      Checkpoint.load(this, codec(), file);
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
}
