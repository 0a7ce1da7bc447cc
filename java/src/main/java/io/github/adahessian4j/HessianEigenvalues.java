package io.github.adahessian4j;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Eigenvalues of a loss's Hessian found by {@link HessianAnalysis#topEigenvalues(Options)}
 * (Lanczos) or {@link HessianAnalysis#powerIteration(Options)} (power iteration with deflation).
 *
 * @param method how they were found
 * @param eigenvalues the eigenvalues, in the order the options' {@link Which} asks for (the largest
 *     first for {@link Which#LARGEST}); fewer than asked only when the Hessian has fewer dimensions
 *     or Lanczos stopped (iteration cap, monitor) before it had k Ritz values
 * @param residuals for each eigenvalue, the norm {@code ||H y - lambda y||} of its unit eigenvector
 *     estimate {@code y}: an error bound for the eigenvalue (for symmetric H, some eigenvalue lies
 *     within it); Lanczos computes it from the tridiagonal matrix, power iteration from its last
 *     product
 * @param eigenvectors when asked for, the unit eigenvector of each eigenvalue as one float64 tensor
 *     per parameter of the analysis (its shape; zeros for skipped parameters); the caller owns
 *     them. Empty when not asked for
 * @param iterations Lanczos steps, or power iterations summed over all eigenvalues
 * @param hvProducts Hessian-vector products used (a product with a mean over several batches counts
 *     once)
 * @param converged whether every eigenvalue met the stopping rule (the tolerance or the {@link
 *     Monitor}) before the iteration cap
 * @param skipped the parameters left out, by name, each with the reason (no gradient, does not
 *     require grad)
 */
public record HessianEigenvalues(
    Method method,
    double[] eigenvalues,
    double[] residuals,
    List<List<Tensor>> eigenvectors,
    int iterations,
    long hvProducts,
    boolean converged,
    List<String> skipped) {

  /**
   * The result, with copies of the arrays and lists.
   *
   * @param method how they were found
   * @param eigenvalues the eigenvalues
   * @param residuals their residual norms
   * @param eigenvectors their eigenvectors, or an empty list
   * @param iterations the iterations
   * @param hvProducts the Hessian-vector products
   * @param converged whether the stopping rule was met
   * @param skipped the skipped parameters
   */
  public HessianEigenvalues {
    eigenvalues = eigenvalues.clone();
    residuals = residuals.clone();
    eigenvectors = List.copyOf(eigenvectors.stream().map(List::copyOf).toList());
    skipped = List.copyOf(skipped);
  }

  /**
   * The eigenvalues (a copy).
   *
   * @return the eigenvalues
   */
  @Override
  public double[] eigenvalues() {
    return eigenvalues.clone();
  }

  /**
   * The residual norms (a copy).
   *
   * @return one per eigenvalue
   */
  @Override
  public double[] residuals() {
    return residuals.clone();
  }

  /** How the eigenvalues were computed. */
  public enum Method {
    /** Lanczos with full reorthogonalisation: one Krylov space for all k eigenvalues. */
    LANCZOS,
    /**
     * Power iteration with deflation, as PyHessian's {@code hessian.eigenvalues} does it: one
     * eigenvalue after the other, each iterate made orthogonal to the eigenvectors found before.
     */
    POWER_ITERATION
  }

  /** Which end of the spectrum {@link HessianAnalysis#topEigenvalues(Options)} looks for. */
  public enum Which {
    /** The largest (most positive) eigenvalues, largest first: the sharpness of the loss. */
    LARGEST,
    /** The smallest (most negative) eigenvalues, smallest first. */
    SMALLEST,
    /**
     * The eigenvalues of largest magnitude, by decreasing magnitude: what power iteration finds
     * (power iteration always uses this order, whatever the options say).
     */
    LARGEST_MAGNITUDE
  }

  /**
   * A custom stopping rule, called after every Hessian-vector product with the current estimates;
   * it stops an eigenvalue computation in addition to the tolerance (set the tolerance to 0 to stop
   * on the monitor alone). It may also log progress.
   */
  @FunctionalInterface
  public interface Monitor {
    /**
     * Whether the current estimates are good enough.
     *
     * @param hvProducts the Hessian-vector products used so far by this computation
     * @param estimates Lanczos: the current Ritz values of the wanted eigenvalues, in the result's
     *     order (fewer than k in the first steps); power iteration: the eigenvalues accepted so far
     *     followed by the current estimate of the next one
     * @return true to accept: Lanczos stops; power iteration accepts its current eigenvalue and
     *     moves to the next (or stops after the k-th)
     */
    boolean accept(long hvProducts, double[] estimates);
  }

  /**
   * What to compute and when to stop.
   *
   * @param k how many eigenvalues
   * @param tolerance Lanczos: stop when every wanted Ritz pair's residual norm is at most {@code
   *     tolerance * max |Ritz value|} (its eigenvalue is then within that much, and usually within
   *     its square divided by the gap to the next eigenvalue); power iteration: PyHessian's rule,
   *     stop an eigenvalue when two successive estimates differ by less than {@code tolerance *
   *     (|previous| + 1e-6)}. 0: only the monitor or the iteration cap stops
   * @param maxIterations Lanczos: the most Lanczos steps (capped by the Hessian's dimension); power
   *     iteration: the most iterations per eigenvalue (PyHessian's {@code maxIter})
   * @param which which end of the spectrum (Lanczos only)
   * @param eigenvectors whether to return the eigenvectors
   * @param monitor a custom stopping rule, or null
   */
  public record Options(
      int k,
      double tolerance,
      int maxIterations,
      Which which,
      boolean eigenvectors,
      Monitor monitor) {
    /**
     * k 1, tolerance 1e-6, 200 iterations, the largest eigenvalues, no eigenvectors, no monitor.
     */
    public static final Options DEFAULTS = new Options(1, 1e-6, 200, Which.LARGEST, false, null);

    /**
     * Checks the options.
     *
     * @param k how many eigenvalues, at least 1
     * @param tolerance the relative tolerance, finite and not negative
     * @param maxIterations the iteration cap, at least 1
     * @param which which end of the spectrum, not null
     * @param eigenvectors whether to return the eigenvectors
     * @param monitor a custom stopping rule, or null
     */
    public Options {
      Checks.positive("k", k);
      Checks.positive("maxIterations", maxIterations);
      if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
        throw new IllegalArgumentException("Invalid tolerance value: " + tolerance);
      }
      java.util.Objects.requireNonNull(which, "which");
    }

    /**
     * The same options for {@code value} eigenvalues.
     *
     * @param value how many eigenvalues
     * @return new options
     */
    public Options withK(int value) {
      return new Options(value, tolerance, maxIterations, which, eigenvectors, monitor);
    }

    /**
     * The same options with another tolerance.
     *
     * @param value the relative tolerance
     * @return new options
     */
    public Options withTolerance(double value) {
      return new Options(k, value, maxIterations, which, eigenvectors, monitor);
    }

    /**
     * The same options with another iteration cap.
     *
     * @param value the iteration cap
     * @return new options
     */
    public Options withMaxIterations(int value) {
      return new Options(k, tolerance, value, which, eigenvectors, monitor);
    }

    /**
     * The same options for another end of the spectrum.
     *
     * @param value which eigenvalues
     * @return new options
     */
    public Options withWhich(Which value) {
      return new Options(k, tolerance, maxIterations, value, eigenvectors, monitor);
    }

    /**
     * The same options, returning eigenvectors or not.
     *
     * @param value whether to return eigenvectors
     * @return new options
     */
    public Options withEigenvectors(boolean value) {
      return new Options(k, tolerance, maxIterations, which, value, monitor);
    }

    /**
     * The same options with a custom stopping rule.
     *
     * @param value the monitor, or null for none
     * @return new options
     */
    public Options withMonitor(Monitor value) {
      return new Options(k, tolerance, maxIterations, which, eigenvectors, value);
    }
  }
}
