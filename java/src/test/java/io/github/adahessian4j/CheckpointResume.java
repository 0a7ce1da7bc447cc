package io.github.adahessian4j;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The training run the checkpoint tests interrupt: AdaHessian with updateEach 3 and nSamples 2 (so
 * the saved Hessian estimate and probe counter matter) on {@link TestModel}. Its main method is the
 * second JVM: {@code CheckpointResume PARAMS CHECKPOINT OUT STEPS} loads parameters and optimizer,
 * trains STEPS more and writes the parameters to OUT.
 */
final class CheckpointResume {
  static final long MODEL_SEED = 21;

  private CheckpointResume() {}

  static AdaHessian optimizer(TestModel model) {
    return AdaHessian.builder()
        .lr(0.05)
        .weightDecay(1e-3)
        .updateEach(3)
        .nSamples(2)
        .seed(99)
        .group(model.params.subList(0, 3))
        .group(
            model.params.subList(3, model.params.size()), AdaHessianOptions.DEFAULTS.withLr(0.02))
        .build();
  }

  static void train(AdaHessian opt, TestModel model, int steps) {
    for (int i = 0; i < steps; i++) {
      try (PointerScope scope = new PointerScope()) {
        opt.step(model::loss);
      }
    }
  }

  static void writeParams(List<Tensor> params, Path file) throws IOException {
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
      for (Tensor p : params) {
        double[] v = T.values(p);
        out.writeInt(v.length);
        for (double x : v) {
          out.writeDouble(x);
        }
      }
    }
  }

  static void readParams(List<Tensor> params, Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file));
        NoGradGuard guard = new NoGradGuard()) {
      for (Tensor p : params) {
        double[] v = new double[in.readInt()];
        for (int i = 0; i < v.length; i++) {
          v[i] = in.readDouble();
        }
        p.copy_(T.tensor(v, p.scalar_type(), FusedOptimizer.shapeOf(p)));
      }
    }
  }

  public static void main(String[] args) throws IOException {
    TestModel model = new TestModel(torch.ScalarType.Float, MODEL_SEED);
    readParams(model.params, Path.of(args[0]));
    try (AdaHessian opt = optimizer(model)) {
      opt.load(Path.of(args[1]));
      train(opt, model, Integer.parseInt(args[3]));
    }
    writeParams(model.params, Path.of(args[2]));
  }
}
