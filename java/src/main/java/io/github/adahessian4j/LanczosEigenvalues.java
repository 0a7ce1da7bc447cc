package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The top eigenvalues by Lanczos: {@link
 * HessianAnalysis#topEigenvalues(HessianEigenvalues.Options)}.
 */
final class LanczosEigenvalues {
  private LanczosEigenvalues() {}

  static HessianEigenvalues run(HessianSpace s, HessianEigenvalues.Options options) {
    int cap = (int) Math.min(options.maxIterations(), s.dim);
    if (Math.min(options.k(), s.dim) > cap) {
      throw new IllegalArgumentException(
          "k = "
              + options.k()
              + " eigenvalues need at least "
              + Math.min(options.k(), s.dim)
              + " Lanczos steps (the dimension is "
              + s.dim
              + "), but the cap, maxIterations, is "
              + options.maxIterations()
              + ": raise it (Options.withMaxIterations) or ask for fewer");
    }
    if (s.dim == 0) {
      return new HessianEigenvalues(
          HessianEigenvalues.Method.LANCZOS,
          new double[0],
          new double[0],
          List.of(),
          0,
          0,
          true,
          s.skipped);
    }
    try (PointerScope scope = new PointerScope();
        Lanczos lanczos = new Lanczos(s, cap)) {
      long before = s.core.hvProducts;
      lanczos.start(s.unitProbe(0));
      long restartDraw = 1;
      int blockStart = 0;
      boolean converged = false;
      Ritz ritz = null;
      int[] wanted = new int[0];
      while (true) {
        try (PointerScope step = new PointerScope()) {
          lanczos.step();
          ritz = Ritz.of(lanczos.alpha, lanczos.beta, lanczos.m);
          wanted = ritz.wanted(options.which(), options.k());
          double norm = ritz.maxAbs();
          if (lanczos.m == s.dim) {
            converged = true; // the whole space: every Ritz value is exact
            break;
          }
          if (options.monitor() != null
              && options.monitor().accept(s.core.hvProducts - before, ritz.values(wanted))) {
            converged = true;
            break;
          }
          if (lanczos.brokeDown()) {
            // An invariant subspace: its Ritz values are exact. If it found fewer than k, or if
            // this block found a wanted one (there may be further copies of it), go on from a
            // fresh probe; else the wanted ones are known.
            boolean more =
                wanted.length < options.k()
                    || blockContributes(
                        lanczos,
                        blockStart,
                        ritz.values()[wanted[wanted.length - 1]],
                        norm,
                        options.which());
            if (!more) {
              converged = true;
              break;
            }
            if (lanczos.m >= cap) {
              break;
            }
            if (!lanczos.advance(true, restartDraw++)) {
              converged = true; // only the zero vector is left: the space is exhausted
              break;
            }
            blockStart = lanczos.m;
            continue;
          }
          boolean rule = options.tolerance() > 0 && wanted.length == options.k();
          for (int i : wanted) {
            rule &= ritz.residual(i, lanczos.beta[lanczos.m - 1]) <= options.tolerance() * norm;
          }
          if (rule) {
            converged = true;
            break;
          }
          if (lanczos.m >= cap) {
            break;
          }
          lanczos.advance(false, 0);
        }
      }
      double lastBeta = lanczos.beta[lanczos.m - 1];
      double[] values = ritz.values(wanted);
      double[] residuals = new double[wanted.length];
      for (int j = 0; j < wanted.length; j++) {
        residuals[j] = ritz.residual(wanted[j], lastBeta);
      }
      List<List<Tensor>> vectors = new ArrayList<>();
      if (options.eigenvectors()) {
        for (int i : wanted) {
          vectors.add(
              HessianSpace.keepAll(scope, s.perMember(lanczos.basis.combine(ritz.vector(i)))));
        }
      }
      return new HessianEigenvalues(
          HessianEigenvalues.Method.LANCZOS,
          values,
          residuals,
          vectors,
          lanczos.m,
          s.core.hvProducts - before,
          converged,
          s.skipped);
    }
  }

  /**
   * Whether the Krylov block that starts at step {@code from} has a Ritz value strictly beyond
   * {@code kth}, the last wanted value of the whole basis (by more than a rounding margin).
   */
  private static boolean blockContributes(
      Lanczos lanczos, int from, double kth, double norm, HessianEigenvalues.Which which) {
    int size = lanczos.m - from;
    Ritz block =
        Ritz.of(
            Arrays.copyOfRange(lanczos.alpha, from, lanczos.m),
            Arrays.copyOfRange(lanczos.beta, from, lanczos.m),
            size);
    double margin = 1e-9 * norm;
    for (double v : block.values()) {
      boolean beyond =
          switch (which) {
            case LARGEST -> v > kth + margin;
            case SMALLEST -> v < kth - margin;
            case LARGEST_MAGNITUDE -> Math.abs(v) > Math.abs(kth) + margin;
          };
      if (beyond) {
        return true;
      }
    }
    return false;
  }
}
