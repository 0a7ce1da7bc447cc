package io.github.adahessian4j;

import java.util.List;

/**
 * Hutchinson's estimate of the trace of a loss's Hessian, from {@link
 * HessianAnalysis#trace(Options)}: the mean over Rademacher probes {@code z} of {@code z^T H z},
 * with its standard error, and the same samples split by parameter ({@code z_p^T (H z)_p}, whose
 * mean estimates the trace of the diagonal block {@code H_pp}) and by parameter group (the sum over
 * the group's parameters).
 *
 * <p>Standard errors are the samples' standard deviation (n - 1 in the denominator) divided by
 * {@code sqrt(n)}; for a diagonal Hessian every sample is the exact trace and the error is 0.
 *
 * @param trace the estimate of {@code tr(H)}
 * @param standardError its standard error
 * @param samples the probes used
 * @param hvProducts the Hessian-vector products used (one per probe)
 * @param converged whether the stopping rule was met before {@link Options#maxSamples()}
 * @param sampleValues {@code z^T H z} of every probe, in draw order
 * @param parameterNames the names of the analysis's parameters
 * @param perParameter the estimate of each parameter's diagonal block trace (0 for skipped
 *     parameters), in the order of {@code parameterNames}
 * @param perParameterStandardError their standard errors
 * @param groupNames the names of the parameter groups
 * @param perGroup the estimate for each group: the sum of its parameters' estimates
 * @param perGroupStandardError their standard errors (from the per-sample group sums)
 * @param skipped the parameters left out, by name, with the reason
 */
public record HessianTrace(
    double trace,
    double standardError,
    int samples,
    long hvProducts,
    boolean converged,
    double[] sampleValues,
    List<String> parameterNames,
    double[] perParameter,
    double[] perParameterStandardError,
    List<String> groupNames,
    double[] perGroup,
    double[] perGroupStandardError,
    List<String> skipped) {

  /**
   * The result, with copies of the arrays and lists.
   *
   * @param trace the estimate
   * @param standardError its standard error
   * @param samples the probes used
   * @param hvProducts the Hessian-vector products used
   * @param converged whether the stopping rule was met
   * @param sampleValues every probe's {@code z^T H z}
   * @param parameterNames the parameters' names
   * @param perParameter the per-parameter estimates
   * @param perParameterStandardError their standard errors
   * @param groupNames the groups' names
   * @param perGroup the per-group estimates
   * @param perGroupStandardError their standard errors
   * @param skipped the skipped parameters
   */
  public HessianTrace {
    sampleValues = sampleValues.clone();
    parameterNames = List.copyOf(parameterNames);
    perParameter = perParameter.clone();
    perParameterStandardError = perParameterStandardError.clone();
    groupNames = List.copyOf(groupNames);
    perGroup = perGroup.clone();
    perGroupStandardError = perGroupStandardError.clone();
    skipped = List.copyOf(skipped);
  }

  /**
   * Every probe's {@code z^T H z} (a copy).
   *
   * @return the samples
   */
  @Override
  public double[] sampleValues() {
    return sampleValues.clone();
  }

  /**
   * The per-parameter estimates (a copy).
   *
   * @return one per parameter
   */
  @Override
  public double[] perParameter() {
    return perParameter.clone();
  }

  /**
   * The per-parameter standard errors (a copy).
   *
   * @return one per parameter
   */
  @Override
  public double[] perParameterStandardError() {
    return perParameterStandardError.clone();
  }

  /**
   * The per-group estimates (a copy).
   *
   * @return one per group
   */
  @Override
  public double[] perGroup() {
    return perGroup.clone();
  }

  /**
   * The per-group standard errors (a copy).
   *
   * @return one per group
   */
  @Override
  public double[] perGroupStandardError() {
    return perGroupStandardError.clone();
  }

  /**
   * When to stop drawing probes: after at least {@code minSamples}, as soon as the standard error
   * is at most {@code relativeError * |estimate|} or at most {@code absoluteError}; at the latest
   * after {@code maxSamples}.
   *
   * @param relativeError the standard error to reach, relative to the estimate (0: none)
   * @param absoluteError the standard error to reach, absolute (0: none)
   * @param minSamples the fewest probes, at least 2 (a standard error needs two)
   * @param maxSamples the most probes
   */
  public record Options(
      double relativeError, double absoluteError, int minSamples, int maxSamples) {
    /** A 1% standard error, at least 10 and at most 1000 probes. */
    public static final Options DEFAULTS = new Options(1e-2, 0, 10, 1000);

    /**
     * Checks the options.
     *
     * @param relativeError finite, not negative
     * @param absoluteError finite, not negative
     * @param minSamples at least 2
     * @param maxSamples at least {@code minSamples}
     */
    public Options {
      if (!(relativeError >= 0) || Double.isInfinite(relativeError)) {
        throw new IllegalArgumentException("Invalid relativeError value: " + relativeError);
      }
      if (!(absoluteError >= 0) || Double.isInfinite(absoluteError)) {
        throw new IllegalArgumentException("Invalid absoluteError value: " + absoluteError);
      }
      if (minSamples < 2) {
        throw new IllegalArgumentException(
            "Invalid minSamples value: " + minSamples + " (must be >= 2)");
      }
      if (maxSamples < minSamples) {
        throw new IllegalArgumentException(
            "Invalid maxSamples value: "
                + maxSamples
                + " (must be >= minSamples "
                + minSamples
                + ")");
      }
    }

    /**
     * The same options with another relative standard error.
     *
     * @param value the relative standard error to reach
     * @return new options
     */
    public Options withRelativeError(double value) {
      return new Options(value, absoluteError, minSamples, maxSamples);
    }

    /**
     * The same options with another absolute standard error.
     *
     * @param value the absolute standard error to reach
     * @return new options
     */
    public Options withAbsoluteError(double value) {
      return new Options(relativeError, value, minSamples, maxSamples);
    }

    /**
     * The same options with other sample bounds.
     *
     * @param min the fewest probes
     * @param max the most probes
     * @return new options
     */
    public Options withSamples(int min, int max) {
      return new Options(relativeError, absoluteError, min, max);
    }
  }
}
