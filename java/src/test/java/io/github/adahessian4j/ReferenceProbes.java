package io.github.adahessian4j;

/**
 * The probe generator written again from its specification in adahessian4j.h, independently of the
 * native code, so tests can feed identical z to op-by-op references.
 */
final class ReferenceProbes {
  private ReferenceProbes() {}

  static long mix64(long x) {
    x += 0x9E3779B97F4A7C15L;
    x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
    x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
    return x ^ (x >>> 31);
  }

  static double[] rademacher(long seed, long counter, long paramId, int numel) {
    long stream = mix64(mix64(mix64(seed) ^ counter) ^ paramId);
    double[] z = new double[numel];
    for (int e = 0; e < numel; e++) {
      long word = mix64(stream ^ (e >>> 6));
      z[e] = ((word >>> (e & 63)) & 1) != 0 ? 1.0 : -1.0;
    }
    return z;
  }
}
