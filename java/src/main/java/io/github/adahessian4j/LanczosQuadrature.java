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
          Lanczos lanczos = new Lanczos(s, steps)) {
        lanczos.start(s.unitProbe(r));
        while (true) {
          try (PointerScope step = new PointerScope()) {
            lanczos.step();
            if (lanczos.m >= steps || !lanczos.advance(false, 0)) {
              break;
            }
          }
        }
        Ritz ritz = Ritz.of(lanczos.alpha, lanczos.beta, lanczos.m);
        double[] weights = new double[lanczos.m];
        for (int i = 0; i < lanczos.m; i++) {
          double first = ritz.vectors()[i]; // row 0, column i
          weights[i] = first * first;
        }
        runs.add(new HessianDensity.Run(ritz.values(), weights, lanczos.m));
      }
    }
    return new HessianDensity(runs, s.dim, s.core.hvProducts - before, s.skipped);
  }
}
