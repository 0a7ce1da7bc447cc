package io.github.adahessian4j.bench;

import io.github.adahessian4j.Adam;
import io.github.adahessian4j.nativecore.ah4j;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The fixed cost of one step: 100 parameters of one element each, so the arithmetic is nothing and
 * what is left is the call. {@code nativeAdamCall}: the core's fused Adam entry point alone (one
 * JNI call, argument arrays filled in Java); {@code adamStep}: the public {@code Adam.step()}
 * (reads every {@code p.grad()} through bytedeco, checks for non-finite values, then the call).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class OverheadBenchmark {
  static final int TENSORS = 100;

  private PointerScope scope;
  private final List<Tensor> params = new ArrayList<>();
  private PointerPointer<Tensor> argParams;
  private PointerPointer<Tensor> argGrads;
  private PointerPointer<Tensor> argM;
  private PointerPointer<Tensor> argV;
  private PointerPointer<Tensor> argMax;
  private LongPointer argSteps;
  private DoublePointer argHyper;
  private IntPointer argFlags;
  private Adam adam;
  private Adam adamUnchecked;
  private long step;

  @Setup(Level.Trial)
  public void setUp() {
    torch.set_num_threads(1);
    scope = new PointerScope();
    argParams = new PointerPointer<>(TENSORS);
    argGrads = new PointerPointer<>(TENSORS);
    argM = new PointerPointer<>(TENSORS);
    argV = new PointerPointer<>(TENSORS);
    argMax = new PointerPointer<>(TENSORS);
    argSteps = new LongPointer(TENSORS);
    argHyper = new DoublePointer(6L * TENSORS);
    argFlags = new IntPointer(TENSORS);
    for (int i = 0; i < TENSORS; i++) {
      Tensor p = torch.randn(1);
      p.requires_grad_(true);
      Tensor g = torch.randn(1);
      p.mutable_grad().put(g);
      params.add(p);
      argParams.put(i, p);
      argGrads.put(i, g);
      argM.put(i, torch.zeros(1));
      argV.put(i, torch.zeros(1));
      argMax.put(i, (Tensor) null);
      double[] row = {1e-3, 0.9, 0.999, 1e-8, 0.0, 0.0};
      for (int c = 0; c < row.length; c++) {
        argHyper.put(6L * i + c, row[c]);
      }
    }
    adam = Adam.builder().build(params);
    adamUnchecked = Adam.builder().build(params);
    adamUnchecked.setNonFinitePolicy(io.github.adahessian4j.NonFinitePolicy.IGNORE);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    adam.close();
    adamUnchecked.close();
    scope.close();
  }

  @Benchmark
  public int nativeAdamCall() {
    step++;
    for (int i = 0; i < TENSORS; i++) {
      argSteps.put(i, step);
    }
    return ah4j.ah4j_adam_step_(
        argParams, argGrads, argM, argV, argMax, TENSORS, argSteps, argHyper, argFlags);
  }

  @Benchmark
  public void adamStep() {
    adam.step();
  }

  @Benchmark
  public void adamStepWithoutFiniteCheck() {
    adamUnchecked.step();
  }
}
