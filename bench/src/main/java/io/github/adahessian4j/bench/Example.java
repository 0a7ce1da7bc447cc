package io.github.adahessian4j.bench;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.Optimizer;
import java.util.Random;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A small end-to-end training run: an MLP (20-64-4, tanh) on a synthetic 4-class data set, once
 * with Adam and once with AdaHessian, printing the loss and accuracy after every epoch.
 */
@Command(
    name = "example",
    mixinStandardHelpOptions = true,
    description =
        "A quick example: an MLP on synthetic data, trained with Adam and with AdaHessian, loss per epoch.")
public final class Example implements Runnable {
  private static final int FEATURES = 20;
  private static final int CLASSES = 4;
  private static final int SAMPLES = 2000;
  private static final int BATCH = 100;

  @Option(
      names = "--epochs",
      defaultValue = "5",
      description = "Epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "libtorch threads (default: libtorch's choice).")
  int threads;

  /** The MLP; {@code forward} maps a batch of features to class logits. */
  private static final class Mlp extends Module {
    final LinearImpl hidden = register_module("hidden", new LinearImpl(FEATURES, 64));
    final LinearImpl out = register_module("out", new LinearImpl(64, CLASSES));

    Tensor forward(Tensor x) {
      return out.forward(torch.tanh(hidden.forward(x)));
    }
  }

  /** Gaussian clusters: class c has mean 1.5 on features c, c + 4, c + 8, ... */
  private static Tensor[] data(long seed) {
    Random r = new Random(seed);
    float[] xs = new float[SAMPLES * FEATURES];
    long[] ys = new long[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
      ys[i] = r.nextInt(CLASSES);
      for (int f = 0; f < FEATURES; f++) {
        xs[i * FEATURES + f] = (float) (r.nextGaussian() + (f % CLASSES == ys[i] ? 1.5 : 0.0));
      }
    }
    return new Tensor[] {
      AbstractTensor.create(xs, SAMPLES, FEATURES), AbstractTensor.create(ys, SAMPLES)
    };
  }

  private static void train(String name, int epochs, Tensor[] data, Function<Mlp, Optimizer> make) {
    torch.manual_seed(1);
    Mlp model = new Mlp();
    System.out.printf("%n%s%n epoch      loss  accuracy  ms/step%n", name);
    try (Optimizer opt = make.apply(model)) { // the loop is the same for every optimizer
      for (int epoch = 1; epoch <= epochs; epoch++) {
        long start = System.nanoTime();
        for (int b = 0; b < SAMPLES / BATCH; b++) {
          try (PointerScope scope = new PointerScope()) {
            Tensor x = data[0].narrow(0, b * BATCH, BATCH);
            Tensor y = data[1].narrow(0, b * BATCH, BATCH);
            opt.step(() -> torch.cross_entropy_loss(model.forward(x), y));
          }
        }
        double msPerStep = (System.nanoTime() - start) / 1e6 / (SAMPLES / BATCH);
        try (PointerScope scope = new PointerScope()) {
          Tensor logits = model.forward(data[0]);
          double loss = torch.cross_entropy_loss(logits, data[1]).item_double();
          double accuracy =
              torch
                  .argmax(logits, new LongOptional(1), false)
                  .eq(data[1])
                  .to(torch.ScalarType.Double)
                  .mean()
                  .item_double();
          System.out.printf(
              " %5d  %8.4f  %7.2f%%  %7.2f%n", epoch, loss, 100 * accuracy, msPerStep);
        }
      }
    }
  }

  @Override
  public void run() {
    String threadLine = NativeThreads.configure(threads);
    System.out.printf(
        "MLP %d-64-%d on %d synthetic samples, batch %d; %s%n",
        FEATURES, CLASSES, SAMPLES, BATCH, threadLine);
    Tensor[] data = data(42);
    train(
        "Adam (lr 0.01)", epochs, data, model -> Adam.builder().lr(0.01).build(model.parameters()));
    train(
        "AdaHessian (lr 0.15)",
        epochs,
        data,
        model -> AdaHessian.builder().lr(0.15).build(model.parameters()));
  }
}
