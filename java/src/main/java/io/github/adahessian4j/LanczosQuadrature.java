package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;

/** Stochastic Lanczos quadrature: {@link HessianAnalysis#spectralDensity}. */
final class LanczosQuadrature {
  private LanczosQuadrature() {}

  static HessianDensity run(HessianSpace s, HessianDensity.Options options) {
    long before = s.core.hvProducts;
    List<HessianDensity.Run> runs = new ArrayList<>();
    if (s.dim == 0) {
      for (int r = 0; r < options.runs(); r++) {
        runs.add(new HessianDensity.Run(new double[] {0}, new double[] {1}, 0));
      }
      return new HessianDensity(runs, 0, 0, s.skipped);
    }
    int steps = (int) Math.min(options.steps(), s.dim);
    for (int r = 0; r < options.runs(); r++) {
      try (PointerScope run = new PointerScope();
          Lanczos krylov = new Lanczos(s, steps)) {
        krylov.start(s.unitProbe(r));
        while (true) {
          try (PointerScope step = new PointerScope()) {
            krylov.step();
            if (krylov.m >= steps || !krylov.advance(false, 0)) {
              break;
            }
          }
        }
        Ritz ritz = Ritz.of(krylov.alpha, krylov.beta, krylov.m);
        double[] weights = new double[krylov.m];
        for (int i = 0; i < krylov.m; i++) {
          double first = ritz.vectors()[i]; // row 0, column i
          weights[i] = first * first;
        }
        runs.add(new HessianDensity.Run(ritz.values(), weights, krylov.m));
      }
    }
    return new HessianDensity(runs, s.dim, s.core.hvProducts - before, s.skipped);
  }
}
