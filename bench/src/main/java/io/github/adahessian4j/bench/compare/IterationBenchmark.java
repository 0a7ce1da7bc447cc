package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.NativeMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Times whole training iterations in Java, for bench/compare.sh; the Python side is
 * bench/python/iteration_bench.py with the same models, batch and protocol. One configuration per
 * process (so the peak RSS is that configuration's):
 *
 * <pre>IterationBenchmark MODEL OPTIMIZER THREADS [WARMUP ITERATIONS]</pre>
 *
 * MODEL: mlp, cnn, resnet (ResNet-20) or transformer ({@link Model#of}; the transformer on random
 * windows of {@link TransformerLm#CONTEXT} characters); OPTIMIZER: adam (this library's fused Adam,
 * lr 1e-3), adam-math (the same with libtorch's flash and memory-efficient attention switched off
 * for the whole run, as AdaHessian's closures run: the cost of math attention itself), adahessian
 * (this library's AdaHessian, the authors' defaults), its cheaper variants adahessian-h2 and
 * adahessian-h4 (the Hessian from the first half or quarter of the batch, the gradient from all of
 * it), adahessian-e2 ({@code updateEach(2)}) and adahessian-h4e2 (both), or opbyop (the same
 * AdaHessian written with bytedeco tensor ops, what a Java user could write without this library;
 * with math attention, without which libtorch cannot differentiate the transformer twice). Prints
 * one JSON line: median and quartiles of the iteration times in ms, the peak RSS in MiB, the
 * allocator setting (the GLIBC_TUNABLES the process ran with), the batch and the model's number of
 * parameters (what bench/scale_projection.py needs to project data-parallel throughput).
 */
public final class IterationBenchmark {
  private static final int BATCH = 128;

  private IterationBenchmark() {}

  public static void main(String[] args) {
    String model = args[0];
    String optimizer = args[1];
    int threads = Integer.parseInt(args[2]);
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    int iterations = args.length > 4 ? Integer.parseInt(args[4]) : 30;
    if (Boolean.getBoolean("adahessian4j.keepFreedMemory")) {
      NativeMemory.keepFreedMemory(); // the library's in-process setting, for comparison
    }
    torch.set_num_threads(threads);
    torch.manual_seed(0);
    Model.Net net = Model.of(model, Model.DEFAULT_DEPTH).create();
    boolean text = net instanceof TransformerLm;
    long[] tokens = {BATCH, TransformerLm.CONTEXT};
    Tensor x = text ? torch.randint(TextCorpus.VOCAB, tokens) : torch.randn(BATCH, 1, 28, 28);
    Tensor y = torch.randint(text ? TextCorpus.VOCAB : 10, text ? tokens : new long[] {BATCH});
    List<Tensor> params = Arrays.asList(net.parameters().get());
    Runnable iteration =
        switch (optimizer) {
          case "adam", "adam-math" -> {
            if (optimizer.equals("adam-math")) {
              mathAttention();
            }
            Adam adam = Adam.builder().lr(1e-3).build(params);
            yield () -> {
              adam.zeroGrad();
              torch.cross_entropy_loss(net.forward(x), y).backward();
              adam.step();
            };
          }
          case "adahessian", "adahessian-e2" -> {
            AdaHessian adaHessian =
                AdaHessian.builder().updateEach(optimizer.endsWith("e2") ? 2 : 1).build(params);
            yield () -> adaHessian.step(() -> torch.cross_entropy_loss(net.forward(x), y));
          }
          case "adahessian-h2", "adahessian-h4", "adahessian-h4e2" -> {
            AdaHessian adaHessian =
                AdaHessian.builder().updateEach(optimizer.endsWith("e2") ? 2 : 1).build(params);
            long part = BATCH / (optimizer.startsWith("adahessian-h2") ? 2 : 4);
            Tensor xs = x.narrow(0, 0, part);
            Tensor ys = y.narrow(0, 0, part);
            yield () ->
                adaHessian.step(
                    () -> torch.cross_entropy_loss(net.forward(x), y),
                    () -> torch.cross_entropy_loss(net.forward(xs), ys));
          }
          case "opbyop" -> {
            mathAttention(); // the flash kernel's backward has no derivative
            yield new OpByOpAdaHessian(params, () -> torch.cross_entropy_loss(net.forward(x), y))
                ::step;
          }
          default -> throw new IllegalArgumentException("unknown optimizer " + optimizer);
        };
    double[] times = new double[iterations];
    for (int i = 0; i < warmup + iterations; i++) {
      long start = System.nanoTime();
      try (PointerScope scope = new PointerScope()) {
        iteration.run();
      }
      double ms = (System.nanoTime() - start) / 1e6;
      if (i >= warmup) {
        times[i - warmup] = ms;
      }
    }
    Arrays.sort(times);
    System.out.printf(
        Locale.ROOT,
        "{\"language\": \"java\", \"model\": \"%s\", \"optimizer\": \"%s\", \"threads\": %d, "
            + "\"median_ms\": %.4f, \"q1_ms\": %.4f, \"q3_ms\": %.4f, \"peak_rss_mib\": %.1f, "
            + "\"allocator\": \"%s\", \"batch\": %d, \"parameters\": %d}%n",
        model,
        optimizer,
        threads,
        Stats.quantile(times, 0.5),
        Stats.quantile(times, 0.25),
        Stats.quantile(times, 0.75),
        ResidentMemory.peak() / 1048576.0,
        allocator(),
        BATCH,
        params.stream().mapToLong(Tensor::numel).sum());
  }

  /** libtorch's flash and memory-efficient attention off for the rest of the process. */
  private static void mathAttention() {
    torch.globalContext().setSDPUseFlash(false);
    torch.globalContext().setSDPUseMemEfficient(false);
  }

  /** "tuned" when glibc was told to keep freed memory (GLIBC_TUNABLES), else "default". */
  static String allocator() {
    String tunables = System.getenv("GLIBC_TUNABLES");
    return tunables != null && tunables.contains("mmap_threshold")
        ? "tuned"
        : Boolean.getBoolean("adahessian4j.keepFreedMemory") ? "in-process" : "default";
  }

  /**
   * The authors' AdaHessian with bytedeco ops, one tensor op at a time: gradient with create_graph,
   * probes from torch.randint_like, Hz by a second torch.grad, |Hz| averaged over the spatial dims
   * of 4-D kernels, then the moment and parameter updates in place.
   */
  private static final class OpByOpAdaHessian {
    private final TensorVector params;
    private final java.util.function.Supplier<Tensor> loss;
    private final List<Tensor> m = new ArrayList<>();
    private final List<Tensor> v = new ArrayList<>();
    private long step;

    OpByOpAdaHessian(List<Tensor> params, java.util.function.Supplier<Tensor> loss) {
      this.params = new TensorVector(params.toArray(new Tensor[0]));
      this.loss = loss;
      for (Tensor p : params) {
        m.add(torch.zeros_like(p));
        v.add(torch.zeros_like(p));
      }
    }

    void step() {
      double lr = 0.15;
      double b1 = 0.9;
      double b2 = 0.999;
      step++;
      double bc1 = 1 - Math.pow(b1, step);
      double bc2 = 1 - Math.pow(b2, step);
      TensorVector grads =
          torch.grad(
              new TensorVector(loss.get()),
              params,
              new TensorVector(),
              new BoolOptional(true),
              true,
              false);
      int n = (int) params.size();
      Tensor[] zs = new Tensor[n];
      for (int i = 0; i < n; i++) {
        zs[i] = torch.randint_like(params.get(i), 2).mul(new Scalar(2)).sub(new Scalar(1));
      }
      TensorVector hzs =
          torch.grad(grads, params, new TensorVector(zs), new BoolOptional(false), false, false);
      try (NoGradGuard guard = new NoGradGuard()) {
        for (int i = 0; i < n; i++) {
          Tensor p = params.get(i);
          Tensor d = hzs.get(i).abs();
          if (d.dim() == 4) {
            d = d.mean(new long[] {2, 3}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
          }
          m.get(i).mul_(new Scalar(b1)).add_(grads.get(i), new Scalar(1 - b1));
          v.get(i).mul_(new Scalar(b2)).addcmul_(d, d, new Scalar(1 - b2));
          Tensor denom = v.get(i).sqrt().div_(new Scalar(Math.sqrt(bc2))).add_(new Scalar(1e-4));
          p.addcdiv_(m.get(i), denom, new Scalar(-lr / bc1));
        }
      }
    }
  }
}
