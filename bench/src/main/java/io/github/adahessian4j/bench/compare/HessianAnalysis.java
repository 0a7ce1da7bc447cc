package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.HessianEigenvalues;
import io.github.adahessian4j.HessianTrace;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The hook of the article's "flatter regions of the loss surface" claim (row 10 of the full run):
 * the top eigenvalue and the trace of the training loss's Hessian at a run's final weights. The
 * full run calls {@link #analyse} once at the end of each main run (Adam and AdaHessian, every
 * seed), with the network still holding its final weights, and the claims table compares the
 * results like any other measure (a lower top eigenvalue and trace: a flatter minimum).
 *
 * <p>{@link #library} measures them with the library's {@link
 * io.github.adahessian4j.HessianAnalysis}; {@link #OFF} measures nothing (row 10 then says so).
 */
interface HessianAnalysis {
  /** What row 10 measures: the Hessian's top eigenvalue and its trace, at the final weights. */
  record Curvature(double topEigenvalue, double trace) {}

  /**
   * The curvature of {@code net}'s mean cross-entropy loss on {@code train} at its current weights,
   * or null where not available. {@code seed} fixes any random probes. Must leave the weights as
   * they are.
   */
  Curvature analyse(Model.Net net, DataSet.Split train, long seed);

  /** Whether this analysis measures anything; false for {@link #OFF}. */
  default boolean available() {
    return true;
  }

  /**
   * A rough cost of one {@link #analyse} call for the progress bar's ETA, from the milliseconds of
   * one Adam step at {@code batch} images.
   */
  default double estimateMs(double adamStepMs, int batch) {
    return 0;
  }

  /** One sentence for the table's protocol line: what is measured, on what. */
  default String description() {
    return "not measured";
  }

  /** Measures nothing: row 10 is left out of the verdicts and says why. */
  HessianAnalysis OFF =
      new HessianAnalysis() {
        @Override
        public Curvature analyse(Model.Net net, DataSet.Split train, long seed) {
          return null;
        }

        @Override
        public boolean available() {
          return false;
        }
      };

  /** What row 10 prints under {@link #OFF}. */
  String OFF_TEXT = "not measured (--curvature-images 0)";

  /**
   * The top eigenvalue's Lanczos options: residual tolerance 1e-3 relative to the largest Ritz
   * value, at most 100 products.
   */
  HessianEigenvalues.Options TOP =
      HessianEigenvalues.Options.DEFAULTS.withTolerance(1e-3).withMaxIterations(100);

  /** The trace's stopping rule: a 5% standard error, 10 to 100 Rademacher probes. */
  HessianTrace.Options TRACE = new HessianTrace.Options(0.05, 0, 10, 100);

  /** Loss closures of at most this many images each (bounds the kept graphs' size). */
  int CHUNK = 256;

  /**
   * The library's analysis on the first {@code images} training images (the same images for every
   * run, so runs compare on one loss): the top eigenvalue by Lanczos ({@link #TOP}) and the trace
   * by Hutchinson ({@link #TRACE}), of the mean cross-entropy over those images, the graphs kept
   * across products.
   *
   * @param images how many training images, at least 1
   * @param samples what they are, for the description: {@link DataSet#samples()}
   */
  static HessianAnalysis library(int images, String samples) {
    return library(images, CHUNK, samples);
  }

  /** {@link #library(int, String)} with loss closures of at most {@code chunk} images each. */
  static HessianAnalysis library(int images, int chunk, String samples) {
    if (images < 1 || chunk < 1) {
      throw new IllegalArgumentException(
          "Invalid images or chunk value: " + images + ", " + chunk + " (must be >= 1)");
    }
    return new HessianAnalysis() {
      @Override
      public Curvature analyse(Model.Net net, DataSet.Split train, long seed) {
        int n = Math.min(images, train.size());
        try (PointerScope scope = new PointerScope()) {
          List<Supplier<Tensor>> losses = new ArrayList<>();
          double[] weights = new double[(n + chunk - 1) / chunk];
          for (int c = 0, from = 0; from < n; c++, from += chunk) {
            int len = Math.min(chunk, n - from);
            Tensor x = train.images().narrow(0, from, len);
            Tensor y = train.labels().narrow(0, from, len);
            losses.add(() -> torch.cross_entropy_loss(net.forward(x), y));
            weights[c] = len;
          }
          try (io.github.adahessian4j.HessianAnalysis h =
              io.github.adahessian4j.HessianAnalysis.builder()
                  .module(net)
                  .losses(losses, weights)
                  .seed(seed)
                  .build()) {
            return new Curvature(h.topEigenvalues(TOP).eigenvalues()[0], h.trace(TRACE).trace());
          }
        }
      }

      @Override
      public double estimateMs(double adamStepMs, int batch) {
        // About 30 Lanczos steps and 30 trace probes; a product costs about two steps' passes.
        return 60 * 2 * adamStepMs * Math.max(1.0, (double) images / batch);
      }

      @Override
      public String description() {
        return String.format(
            Locale.ROOT,
            "curvature: Hessian of the mean cross-entropy on the first %d training %s at the final "
                + "weights, top eigenvalue by Lanczos (residual tolerance %s of it), trace by Hutchinson "
                + "(%s%% standard error, %d-%d Rademacher probes)",
            images,
            samples,
            Format.number(TOP.tolerance()),
            Format.number(100 * TRACE.relativeError()),
            TRACE.minSamples(),
            TRACE.maxSamples());
      }
    };
  }
}
