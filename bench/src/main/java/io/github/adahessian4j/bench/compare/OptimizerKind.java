package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdaHessianOptions;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.AdamOptions;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/** The two optimizers compared, each with its usual default learning rate. */
public enum OptimizerKind {
  /** {@code zeroGrad(); loss.backward(); step()}. */
  ADAM("Adam", AdamOptions.adamDefaults().lr()) {
    @Override
    Trainer create(Model.Net net, double lr, long seed) {
      Adam adam = Adam.builder().lr(lr).build(net.parameters());
      return new Trainer(adam::close, adam::skippedSteps) {
        @Override
        Tensor step(Supplier<Tensor> loss) {
          adam.zeroGrad();
          Tensor value = loss.get();
          value.backward();
          adam.step();
          return value;
        }
      };
    }
  },
  /** {@code step(closure)}: the optimizer computes the gradient and Hessian-vector product itself. */
  ADAHESSIAN("AdaHessian", AdaHessianOptions.DEFAULTS.lr()) {
    @Override
    Trainer create(Model.Net net, double lr, long seed) {
      AdaHessian adaHessian = AdaHessian.builder().lr(lr).seed(seed).build(net.parameters());
      return new Trainer(adaHessian::close, adaHessian::skippedSteps) {
        @Override
        Tensor step(Supplier<Tensor> loss) {
          return adaHessian.step(loss);
        }
      };
    }
  };

  private final String label;
  private final double defaultLr;

  OptimizerKind(String label, double defaultLr) {
    this.label = label;
    this.defaultLr = defaultLr;
  }

  /** An optimizer over {@code net}'s parameters; {@code seed} fixes AdaHessian's probes. */
  abstract Trainer create(Model.Net net, double lr, long seed);

  public String label() {
    return label;
  }

  /** The library's default: Adam's 1e-3 (PyTorch's), AdaHessian's 0.15 (the paper's). */
  public double defaultLr() {
    return defaultLr;
  }

  /** One optimizer of one run: a training step on a loss closure. */
  abstract static class Trainer implements AutoCloseable {
    private final Runnable close;
    private final LongSupplier skippedSteps;

    Trainer(Runnable close, LongSupplier skippedSteps) {
      this.close = close;
      this.skippedSteps = skippedSteps;
    }

    /** Computes the loss with {@code loss}, updates the parameters, returns the loss. */
    abstract Tensor step(Supplier<Tensor> loss);

    /** Steps the optimizer skipped because of non-finite gradients or Hessian estimates. */
    long skippedSteps() {
      return skippedSteps.getAsLong();
    }

    @Override
    public void close() {
      close.run();
    }
  }
}
