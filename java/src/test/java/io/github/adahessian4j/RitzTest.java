package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Ritz} on the tridiagonal matrix tridiag(-1, 2, -1) of order n, whose eigenvalues are
 * {@code 2 - 2 cos(k pi / (n + 1))} and eigenvectors {@code sin(j k pi / (n + 1))}, j, k = 1..n.
 */
class RitzTest {
  private static final int N = 12;

  private static Ritz secondDifference(int n) {
    double[] alpha = new double[n];
    double[] beta = new double[n];
    Arrays.fill(alpha, 2);
    Arrays.fill(beta, -1);
    return Ritz.of(alpha, beta, n);
  }

  private static double exact(int k, int n) {
    return 2 - 2 * Math.cos(k * Math.PI / (n + 1));
  }

  @Test
  void valuesAreTheKnownEigenvaluesAscending() {
    Ritz ritz = secondDifference(N);
    assertEquals(N, ritz.m());
    for (int k = 1; k <= N; k++) {
      assertEquals(exact(k, N), ritz.values()[k - 1], 1e-14, "eigenvalue " + k);
    }
    assertEquals(exact(N, N), ritz.maxAbs(), 1e-14);
  }

  @Test
  void vectorsAreTheKnownEigenvectorsUpToSign() {
    Ritz ritz = secondDifference(N);
    for (int k = 1; k <= N; k++) {
      double[] s = ritz.vector(k - 1);
      double[] expected = new double[N];
      double norm = 0;
      for (int j = 1; j <= N; j++) {
        expected[j - 1] = Math.sin(j * k * Math.PI / (N + 1));
        norm += expected[j - 1] * expected[j - 1];
      }
      double sign = Math.signum(s[0]) * Math.signum(expected[0]);
      for (int j = 0; j < N; j++) {
        expected[j] *= sign / Math.sqrt(norm);
      }
      assertArrayEquals(expected, s, 1e-12, "eigenvector " + k);
      assertEquals(0.5 * Math.abs(expected[N - 1]), ritz.residual(k - 1, 0.5), 1e-12, "residual");
    }
  }

  @Test
  void wantedPicksEachEndOfTheSpectrum() {
    double[] alpha = {-5, 1, 3};
    double[] beta = {0, 0, 0};
    Ritz diagonal = Ritz.of(alpha, beta, 3);
    assertArrayEquals(new double[] {-5, 1, 3}, diagonal.values(), 0);
    assertArrayEquals(new int[] {2, 1}, diagonal.wanted(HessianEigenvalues.Which.LARGEST, 2));
    assertArrayEquals(new int[] {0, 1}, diagonal.wanted(HessianEigenvalues.Which.SMALLEST, 2));
    assertArrayEquals(
        new int[] {0, 2}, diagonal.wanted(HessianEigenvalues.Which.LARGEST_MAGNITUDE, 2));
    assertArrayEquals(
        new int[] {2, 1, 0}, diagonal.wanted(HessianEigenvalues.Which.LARGEST, 5), "at most m");
    assertArrayEquals(new double[] {3, -5}, diagonal.values(new int[] {2, 0}), 0);
  }

  @Test
  void aLeadingBlockIsItsOwnProblem() {
    Ritz ritz = secondDifference(N);
    Ritz leading = Ritz.of(new double[] {2, 2, 2, 2, 2}, new double[] {-1, -1, -1, -1, -1}, 3);
    for (int k = 1; k <= 3; k++) {
      assertEquals(exact(k, 3), leading.values()[k - 1], 1e-14, "order 3, eigenvalue " + k);
    }
    assertEquals(N, ritz.values().length);
  }
}
