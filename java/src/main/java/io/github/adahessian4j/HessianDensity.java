package io.github.adahessian4j;

import java.util.List;

/**
 * The eigenvalue spectral density of a loss's Hessian by stochastic Lanczos quadrature, from {@link
 * HessianAnalysis#spectralDensity(Options)}: each run starts Lanczos from a unit Rademacher vector
 * {@code v} and turns its m-by-m tridiagonal matrix {@code T} into a Gauss quadrature: nodes are
 * T's eigenvalues, weights the squared first components of its eigenvectors. The quadrature is
 * exact for {@code v^T H^j v} up to {@code j = 2m - 1}; averaged over runs it estimates {@code
 * (1/n) tr f(H)}, the integral of f against the density.
 *
 * @param runs the quadrature of every run
 * @param dimension n, the number of Hessian dimensions (elements of the parameters analysed)
 * @param hvProducts the Hessian-vector products used
 * @param skipped the parameters left out, by name, with the reason
 */
public record HessianDensity(
    List<Run> runs, long dimension, long hvProducts, List<String> skipped) {

  /**
   * The result, with copies of the lists.
   *
   * @param runs the runs
   * @param dimension the Hessian's dimension
   * @param hvProducts the Hessian-vector products used
   * @param skipped the skipped parameters
   */
  public HessianDensity {
    runs = List.copyOf(runs);
    skipped = List.copyOf(skipped);
  }

  /**
   * One run's quadrature: {@code sum_i weights[i] f(nodes[i])} approximates {@code v^T f(H) v}.
   *
   * @param nodes the Ritz values, ascending
   * @param weights their weights (non-negative, summing to 1)
   * @param steps the Lanczos steps taken: the options' steps, or fewer when the Krylov space was
   *     exhausted (then the quadrature is exact for every polynomial)
   */
  public record Run(double[] nodes, double[] weights, int steps) {
    /**
     * The run, with copies of the arrays.
     *
     * @param nodes the nodes
     * @param weights the weights
     * @param steps the Lanczos steps
     */
    public Run {
      nodes = nodes.clone();
      weights = weights.clone();
    }

    /**
     * The nodes (a copy).
     *
     * @return the Ritz values
     */
    @Override
    public double[] nodes() {
      return nodes.clone();
    }

    /**
     * The weights (a copy).
     *
     * @return the weights
     */
    @Override
    public double[] weights() {
      return weights.clone();
    }

    /**
     * The quadrature's moment {@code sum_i w_i lambda_i^j}, which equals {@code v^T H^j v} for
     * {@code j <= 2 steps - 1}.
     *
     * @param j the power
     * @return the moment
     */
    public double moment(int j) {
      double sum = 0;
      for (int i = 0; i < nodes.length; i++) {
        sum += weights[i] * Math.pow(nodes[i], j);
      }
      return sum;
    }
  }

  /**
   * The trace estimate of the runs: {@code n} times the mean first moment. With the same seed it
   * equals {@link HessianAnalysis#trace}'s estimate over the same number of probes (the same
   * Rademacher vectors, up to rounding).
   *
   * @return the estimate of {@code tr(H)}
   */
  public double traceEstimate() {
    double sum = 0;
    for (Run run : runs) {
      sum += run.moment(1);
    }
    return dimension * sum / runs.size();
  }

  /**
   * The density smoothed as PyHessian's {@code density_plot.py} does, with its defaults: 10,000
   * grid points, {@code sigmaSquared} 1e-5, overhead 0.01.
   *
   * @return the density on a grid
   */
  public Grid smoothed() {
    return smoothed(10_000, 1e-5, 0.01);
  }

  /**
   * The density smoothed as PyHessian's {@code density_plot.py} does: the grid runs evenly from the
   * runs' mean smallest node minus {@code overhead} to their mean largest node plus {@code
   * overhead}; every node becomes a Gaussian of variance {@code sigmaSquared * max(1, grid width)}
   * scaled by its weight; runs are averaged, and the result is scaled so that its Riemann sum over
   * the grid is 1.
   *
   * @param points grid points, at least 2
   * @param sigmaSquared the Gaussian's variance per unit of grid width, positive
   * @param overhead how far the grid extends beyond the mean extreme nodes, not negative
   * @return the density on the grid
   */
  public Grid smoothed(int points, double sigmaSquared, double overhead) {
    if (points < 2) {
      throw new IllegalArgumentException("Invalid points value: " + points + " (must be >= 2)");
    }
    if (!(sigmaSquared > 0) || Double.isInfinite(sigmaSquared)) {
      throw new IllegalArgumentException("Invalid sigmaSquared value: " + sigmaSquared);
    }
    if (!(overhead >= 0) || Double.isInfinite(overhead)) {
      throw new IllegalArgumentException("Invalid overhead value: " + overhead);
    }
    double max = 0;
    double min = 0;
    for (Run run : runs) {
      max += run.nodes[run.nodes.length - 1];
      min += run.nodes[0];
    }
    max = max / runs.size() + overhead;
    min = min / runs.size() - overhead;
    double[] x = new double[points];
    double step = (max - min) / (points - 1);
    for (int j = 0; j < points; j++) {
      x[j] = j == points - 1 ? max : min + j * step;
    }
    double variance = sigmaSquared * Math.max(1, max - min);
    double scale = 1 / Math.sqrt(2 * Math.PI * variance);
    double[] density = new double[points];
    for (Run run : runs) {
      for (int j = 0; j < points; j++) {
        double sum = 0;
        for (int i = 0; i < run.nodes.length; i++) {
          double d = x[j] - run.nodes[i];
          sum += run.weights[i] * Math.exp(-d * d / (2 * variance));
        }
        density[j] += scale * sum / runs.size();
      }
    }
    double total = 0;
    for (double d : density) {
      total += d;
    }
    double norm = total * (x[1] - x[0]);
    if (norm > 0) {
      for (int j = 0; j < points; j++) {
        density[j] /= norm;
      }
    }
    return new Grid(x, density, variance);
  }

  /**
   * A smoothed density.
   *
   * @param x the grid, ascending and evenly spaced
   * @param density the density at each grid point (its Riemann sum over the grid is 1)
   * @param variance the variance of the Gaussian each node was smoothed with
   */
  public record Grid(double[] x, double[] density, double variance) {
    /**
     * The grid, with copies of the arrays.
     *
     * @param x the grid points
     * @param density the density
     * @param variance the smoothing variance
     */
    public Grid {
      x = x.clone();
      density = density.clone();
    }

    /**
     * The grid points (a copy).
     *
     * @return the grid
     */
    @Override
    public double[] x() {
      return x.clone();
    }

    /**
     * The density (a copy).
     *
     * @return the density at each grid point
     */
    @Override
    public double[] density() {
      return density.clone();
    }
  }

  /**
   * How many runs of how many Lanczos steps (PyHessian: {@code n_v} 1, {@code iter} 100).
   *
   * @param runs independent start vectors, at least 1
   * @param steps Lanczos steps per run (quadrature nodes), at least 1 (capped by the dimension)
   */
  public record Options(int runs, int steps) {
    /** PyHessian's defaults: one run of 100 steps. */
    public static final Options DEFAULTS = new Options(1, 100);

    /**
     * Checks the options.
     *
     * @param runs at least 1
     * @param steps at least 1
     */
    public Options {
      Checks.positive("runs", runs);
      Checks.positive("steps", steps);
    }
  }
}
