package io.github.adahessian4j.bench;

import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamW;
import io.github.adahessian4j.NonFinitePolicy;
import io.github.adahessian4j.nativecore.ah4j;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The optimizer step alone (gradients and Hessian estimates given), at 1 and 2 libtorch threads, on
 * two parameter sets: {@code 10M}, 10M float32 parameters in 62 tensors (31 matrices 512x630 and 31
 * vectors of 20), and {@code resnet20}, the 269,722 parameters in 59 tensors of a CIFAR ResNet-20
 * (19 3x3 convolutions, their batch-norm weights and biases, the classifier), where the per-tensor
 * overhead matters. AdaHessian averages the 3x3 kernels in blocks of 9 (the authors' spatial
 * averaging).
 *
 * <ul>
 *   <li>{@code copy}: STREAM's copy ({@code b = a}) of 10M floats, split into one memcpy per
 *       thread, moving 2 x 4 bytes per element: the machine's bandwidth at that thread count
 *       (libtorch's copy_ does not use the second thread here, and its mul_out is slower still);
 *   <li>{@code stepBytesOnly}: the memory limit of the steps: the core's ah4j_step_bytes_only_, a
 *       kernel with the Adam step's bytes and no step math (reads p, g, m, v; writes p, m, v: 7 x 4
 *       bytes per element) on the steps' chunks and threads;
 *   <li>{@code fusedAdaHessian}: the core's fused step (what AdaHessian.step runs after its two
 *       torch.grad calls and its read passes), given the Hessian diagonal, moving 8 x 4 bytes per
 *       element (reads p, g, D, m, v; writes p, m, v);
 *   <li>{@code nativeAdam}: the core's fused Adam step called the same way (no gradient check, no
 *       Java around it), 7 x 4 bytes per element: fusedAdaHessian's counterpart;
 *   <li>{@code fusedAdam}: our Adam.step(), 8 x 4 bytes per element: its read pass over the
 *       gradients (non-finite check and the gradient norm together), then the step's 7 x 4;
 *   <li>{@code fusedAdamW}: our AdamW.step() (its defaults: weightDecay 1e-2, as torch's);
 *   <li>{@code uncheckedAdam}: our Adam.step() with {@link NonFinitePolicy#IGNORE}: no check of the
 *       gradients, the same work as torch's fused step (bench/step-vs-torch26.sh compares both);
 *   <li>{@code libtorchAdam}: libtorch's torch::optim::Adam through bytedeco;
 *   <li>{@code opByOpAdaHessian}: the same AdaHessian update written with in-place bytedeco ops,
 *       what a Java user could write without this library;
 *   <li>{@code checkPass}: the core's non-finite check alone (ah4j_find_non_finite), the one read
 *       of the gradients that steps made before they reported statistics;
 *   <li>{@code statsPass}: the read pass steps make now (ah4j_tensor_stats: the same check plus the
 *       sums behind the gradient norm, clipping and the step statistics). Its cost over {@code
 *       checkPass} is what the statistics cost a step;
 *   <li>{@code gradStatsPass}: the pass over gradients with 2-norm clipping or none (sums of
 *       squares only: no sum or max of |x|).
 * </ul>
 *
 * bench/run-step-benchmarks.sh runs it and turns times into GB/s and % of the copy's bandwidth.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class StepBenchmark {
  static final int MATRICES = 31;
  static final long ROWS = 512;
  static final long COLS = 630;
  static final long BIAS = 20;

  @Param({"1", "2"})
  public int threads;

  @Param({"10M", "resnet20"})
  public String shapes;

  /**
   * Instruction set of the core's CPU loops (ah4j_cpu_isa): best (the best the CPU has), or
   * baseline, avx2, avx512 to compare them: -p isa=baseline,best.
   */
  @Param({"best"})
  public String isa;

  private int isaBefore;

  private PointerScope scope;
  private final List<Tensor> params = new ArrayList<>();
  private final List<Tensor> grads = new ArrayList<>();
  private final List<Tensor> diags = new ArrayList<>();
  private final List<Tensor> m = new ArrayList<>();
  private final List<Tensor> v = new ArrayList<>();
  private Tensor copySource;
  private Tensor copyTarget;
  private BytePointer[] copyFrom;
  private BytePointer[] copyTo;
  private long[] copyBytes;
  private ExecutorService copyPool;
  private PointerPointer<Tensor> argParams;
  private PointerPointer<Tensor> argGrads;
  private PointerPointer<Tensor> argDiags;
  private PointerPointer<Tensor> argM;
  private PointerPointer<Tensor> argV;
  private LongPointer argBlocks;
  private LongPointer argSteps;
  private DoublePointer argHyper;
  private DoublePointer argAdamHyper;
  private org.bytedeco.javacpp.IntPointer argAdamFlags;
  private LongPointer argFirst;
  private org.bytedeco.javacpp.IntPointer argNonFinite;
  private DoublePointer argSumSq;
  private DoublePointer argSumAbs;
  private DoublePointer argMaxAbs;
  private Adam ours;
  private AdamW oursW;
  private Adam oursUnchecked;
  private org.bytedeco.pytorch.Adam libtorch;
  private long step;

  @Setup(Level.Trial)
  public void setUp() {
    torch.set_num_threads(threads);
    isaBefore = ah4j.ah4j_cpu_isa(-1);
    int level =
        switch (isa) {
          case "best" -> isaBefore;
          case "baseline" -> 0;
          case "avx2" -> 1;
          case "avx512" -> 2;
          default ->
              throw new IllegalArgumentException(
                  "isa must be best, baseline, avx2 or avx512: " + isa);
        };
    if (ah4j.ah4j_cpu_isa(level) != level) {
      throw new IllegalStateException("this CPU lacks the instruction set " + isa);
    }
    scope = new PointerScope();
    torch.manual_seed(0);
    if (shapes.equals("10M")) {
      for (int i = 0; i < MATRICES; i++) {
        addParam(ROWS, COLS);
        addParam(BIAS);
      }
    } else {
      addResNet20();
    }
    int n = params.size();
    copySource = torch.randn(numel());
    copyTarget = torch.empty(numel());
    copyFrom = new BytePointer[threads];
    copyTo = new BytePointer[threads];
    copyBytes = new long[threads];
    long bytes = 4 * numel();
    for (int t = 0; t < threads; t++) {
      long begin = bytes * t / threads;
      copyFrom[t] = new BytePointer(copySource.data_ptr()).position(begin);
      copyTo[t] = new BytePointer(copyTarget.data_ptr()).position(begin);
      copyBytes[t] = bytes * (t + 1) / threads - begin;
    }
    copyPool = Executors.newFixedThreadPool(threads);
    argParams = list(params);
    argGrads = list(grads);
    argDiags = list(diags);
    argM = list(m);
    argV = list(v);
    argBlocks = new LongPointer(n);
    argSteps = new LongPointer(n);
    argHyper = new DoublePointer(6L * n);
    argAdamHyper = new DoublePointer(6L * n);
    argAdamFlags = new org.bytedeco.javacpp.IntPointer(n).fill(0);
    argFirst = new LongPointer(1);
    argNonFinite = new org.bytedeco.javacpp.IntPointer(n);
    argSumSq = new DoublePointer(n);
    argSumAbs = new DoublePointer(n);
    argMaxAbs = new DoublePointer(n);
    for (int i = 0; i < n; i++) {
      argBlocks.put(i, params.get(i).dim() == 4 ? 9 : 1);
      double[] row = {0.15, 0.9, 0.999, 1e-4, 1e-4, 1.0};
      double[] adamRow = {1e-3, 0.9, 0.999, 1e-8, 0.0, 0.0}; // Adam.builder().lr(1e-3)'s
      for (int c = 0; c < row.length; c++) {
        argHyper.put(6L * i + c, row[c]);
        argAdamHyper.put(6L * i + c, adamRow[c]);
      }
    }
    ours = Adam.builder().lr(1e-3).build(params);
    oursW = AdamW.builder().lr(1e-3).build(params);
    oursUnchecked = Adam.builder().lr(1e-3).nonFinitePolicy(NonFinitePolicy.IGNORE).build(params);
    libtorch =
        new org.bytedeco.pytorch.Adam(
            new TensorVector(params.toArray(new Tensor[0])), new AdamOptions(1e-3));
  }

  private void addParam(long... shape) {
    Tensor p = torch.randn(shape);
    p.requires_grad_(true);
    Tensor g = torch.randn(shape);
    p.mutable_grad().put(g);
    params.add(p);
    grads.add(g);
    diags.add(torch.randn(shape));
    m.add(torch.zeros(shape));
    v.add(torch.zeros(shape));
  }

  /** CIFAR ResNet-20: 3x3 convolutions 3->16, 3 stages of 3 blocks (16, 32, 64 channels), fc. */
  private void addResNet20() {
    addConv(16, 3);
    long in = 16;
    for (long width : new long[] {16, 32, 64}) {
      for (int conv = 0; conv < 6; conv++) {
        addConv(width, in);
        in = width;
      }
    }
    addParam(10, 64);
    addParam(10);
  }

  private void addConv(long out, long in) {
    addParam(out, in, 3, 3);
    addParam(out); // batch-norm weight
    addParam(out); // batch-norm bias
  }

  private long numel() {
    long total = 0;
    for (Tensor p : params) {
      total += p.numel();
    }
    return total;
  }

  private static PointerPointer<Tensor> list(List<Tensor> tensors) {
    PointerPointer<Tensor> list = new PointerPointer<>(tensors.size());
    for (int i = 0; i < tensors.size(); i++) {
      list.put(i, tensors.get(i));
    }
    return list;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    copyPool.shutdown();
    ours.close();
    oursW.close();
    oursUnchecked.close();
    scope.close();
    ah4j.ah4j_cpu_isa(isaBefore);
  }

  @Benchmark
  public void copy() throws Exception {
    if (threads == 1) {
      Pointer.memcpy(copyTo[0], copyFrom[0], copyBytes[0]);
      return;
    }
    List<Future<?>> parts = new ArrayList<>(threads);
    for (int t = 0; t < threads; t++) {
      int part = t;
      parts.add(
          copyPool.submit(() -> Pointer.memcpy(copyTo[part], copyFrom[part], copyBytes[part])));
    }
    for (Future<?> part : parts) {
      part.get();
    }
  }

  @Benchmark
  public int fusedAdaHessian() {
    nextStep();
    return ah4j.ah4j_adahessian_step_(
        argParams, argGrads, argDiags, argM, argV, params.size(), argBlocks, argSteps, argHyper);
  }

  /** The core's steps take every parameter's step count, already incremented. */
  private void nextStep() {
    step++;
    for (int i = 0; i < params.size(); i++) {
      argSteps.put(i, step);
    }
  }

  @Benchmark
  public int stepBytesOnly() {
    return ah4j.ah4j_step_bytes_only_(argParams, argGrads, argM, argV, params.size());
  }

  @Benchmark
  public int nativeAdam() {
    nextStep();
    return ah4j.ah4j_adam_step_(
        argParams, argGrads, argM, argV, null, params.size(), argSteps, argAdamHyper, argAdamFlags);
  }

  @Benchmark
  public long checkPass() {
    ah4j.ah4j_find_non_finite(argGrads, params.size(), argFirst);
    return argFirst.get();
  }

  @Benchmark
  public double statsPass() {
    ah4j.ah4j_tensor_stats(argGrads, params.size(), argNonFinite, argSumSq, argSumAbs, argMaxAbs);
    return argSumSq.get(0);
  }

  @Benchmark
  public double gradStatsPass() {
    ah4j.ah4j_tensor_stats(argGrads, params.size(), argNonFinite, argSumSq, null, null);
    return argSumSq.get(0);
  }

  @Benchmark
  public void fusedAdam() {
    ours.step();
  }

  @Benchmark
  public void fusedAdamW() {
    oursW.step();
  }

  @Benchmark
  public void uncheckedAdam() {
    oursUnchecked.step();
  }

  @Benchmark
  public void libtorchAdam() {
    try (PointerScope s = new PointerScope()) {
      libtorch.step();
    }
  }

  @Benchmark
  public void opByOpAdaHessian() {
    step++;
    double lr = 0.15;
    double b1 = 0.9;
    double b2 = 0.999;
    double bc1 = 1 - Math.pow(b1, step);
    double bc2 = 1 - Math.pow(b2, step);
    try (PointerScope s = new PointerScope();
        NoGradGuard guard = new NoGradGuard()) {
      Scalar beta1 = new Scalar(b1);
      Scalar oneMinusBeta1 = new Scalar(1 - b1);
      Scalar beta2 = new Scalar(b2);
      Scalar oneMinusBeta2 = new Scalar(1 - b2);
      Scalar sqrtBc2 = new Scalar(Math.sqrt(bc2));
      Scalar eps = new Scalar(1e-4);
      Scalar stepSize = new Scalar(-lr / bc1);
      Scalar decay = new Scalar(1 - lr * 1e-4);
      for (int i = 0; i < params.size(); i++) {
        Tensor p = params.get(i);
        m.get(i).mul_(beta1).add_(grads.get(i), oneMinusBeta1);
        v.get(i).mul_(beta2).addcmul_(diags.get(i), diags.get(i), oneMinusBeta2);
        Tensor denom = v.get(i).sqrt().div_(sqrtBc2).add_(eps);
        p.mul_(decay).addcdiv_(m.get(i), denom, stepSize);
      }
    }
  }
}
