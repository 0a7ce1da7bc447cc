package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.Optimizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What it costs a TorchScript model's training step that {@code TorchScriptModel} runs the forward
 * of a module in training mode with libtorch's graph-executor optimisation off ({@code
 * torch.setGraphExecutorOptimize(false)}), for bench/graph-executor.sh:
 *
 * <pre>GraphExecutorBenchmark FILE OPTIMIZER THREADS [WARMUP ROUNDS STEPS]</pre>
 *
 * FILE: a model of {@code compare --model torchscript:FILE}'s convention (an image classifier or a
 * token language model, {@link Model#torchScript}); OPTIMIZER: adam or adahessian, as compare
 * builds them (a language model's with {@link TransformerRecipe}, without the warm-up). Two nets
 * load the file, each with its optimizer, on the same random batch of {@value #BATCH}: one steps
 * through {@code TorchScriptModel} (optimisation off), the other calls the module's forward with
 * the optimisation on (libtorch's default: the profiling executor optimises from about the third
 * call on). WARMUP untimed steps each (default 5), then ROUNDS rounds (default 5) in which each
 * takes STEPS steps (default 10), which one goes first alternating. Prints one JSON line: the
 * medians over rounds of the milliseconds per step of each, and of their ratio within a round.
 */
public final class GraphExecutorBenchmark {
  private static final int BATCH = 128;

  private GraphExecutorBenchmark() {}

  public static void main(String[] args) {
    if (args.length < 3) {
      throw new IllegalArgumentException(
          "usage: GraphExecutorBenchmark FILE adam|adahessian THREADS [WARMUP ROUNDS STEPS]");
    }
    Path file = Path.of(args[0]);
    OptimizerKind kind = OptimizerKind.valueOf(args[1].toUpperCase(Locale.ROOT));
    int threads = Integer.parseInt(args[2]);
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
    int steps = args.length > 5 ? Integer.parseInt(args[5]) : 10;
    torch.set_num_threads(threads);
    Model model = Model.torchScript(file);
    double lr =
        kind == OptimizerKind.ADAHESSIAN && model.languageModel()
            ? TransformerRecipe.ADAHESSIAN_LR
            : kind.defaultLr();
    torch.manual_seed(0);
    long[] tokens = {BATCH, model.context()};
    Tensor x =
        model.languageModel()
            ? torch.randint(TextCorpus.VOCAB, tokens)
            : torch.randn(BATCH, 1, 28, 28);
    Tensor y =
        model.languageModel()
            ? torch.randint(TextCorpus.VOCAB, tokens)
            : torch.randint(DataSet.CLASSES, new long[] {BATCH});
    Model.TorchScriptNet off = (Model.TorchScriptNet) model.create();
    Model.TorchScriptNet on = (Model.TorchScriptNet) model.create();
    try (Optimizer offOptimizer = kind.create(model, off, lr, 0, 1, 0);
        Optimizer onOptimizer = kind.create(model, on, lr, 0, 1, 0)) {
      Runnable[] step = {
        () -> offOptimizer.step(() -> torch.cross_entropy_loss(off.forward(x), y)),
        () ->
            onOptimizer.step(
                () -> torch.cross_entropy_loss(optimised(on, x, model.languageModel()), y))
      };
      for (int i = 0; i < warmup; i++) {
        timed(step[0], 1);
        timed(step[1], 1);
      }
      double[][] ms = new double[2][rounds];
      double[] ratio = new double[rounds];
      for (int round = 0; round < rounds; round++) {
        int first = round % 2;
        ms[first][round] = timed(step[first], steps);
        ms[1 - first][round] = timed(step[1 - first], steps);
        ratio[round] = ms[0][round] / ms[1][round];
      }
      System.out.printf(
          Locale.ROOT,
          "{\"model\": \"%s\", \"optimizer\": \"%s\", \"threads\": %d, \"batch\": %d, "
              + "\"optimisation_off_ms\": %.4f, \"optimisation_on_ms\": %.4f, "
              + "\"off_over_on\": %.4f, \"rounds\": %d, \"steps\": %d}%n",
          file.toAbsolutePath(),
          args[1],
          threads,
          BATCH,
          median(ms[0]),
          median(ms[1]),
          median(ratio),
          rounds,
          steps);
    } finally {
      off.close();
      on.close();
    }
  }

  /** Milliseconds per step of {@code steps} steps. */
  private static double timed(Runnable step, int steps) {
    long began = System.nanoTime();
    for (int s = 0; s < steps; s++) {
      try (PointerScope scope = new PointerScope()) {
        step.run();
      }
    }
    return (System.nanoTime() - began) / 1e6 / steps;
  }

  /**
   * {@code net}'s logits from the module's forward run with the graph-executor optimisation on
   * (restored afterwards), what {@code TorchScriptModel} does not do in training mode.
   */
  private static Tensor optimised(Model.TorchScriptNet net, Tensor x, boolean languageModel) {
    boolean optimize = torch.getGraphExecutorOptimize();
    torch.setGraphExecutorOptimize(true);
    try {
      IValueVector args = new IValueVector();
      args.push_back(new IValue(x));
      IValue result = net.model.module().forward(args);
      IValue logits = result.isTuple() ? result.toTuple().elements().get(0) : result;
      Tensor out = new Tensor(logits.toTensor()); // a handle of its own, not one into the IValue
      return languageModel ? out.transpose(1, 2) : out;
    } finally {
      torch.setGraphExecutorOptimize(optimize);
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return Stats.quantile(sorted, 0.5);
  }
}
