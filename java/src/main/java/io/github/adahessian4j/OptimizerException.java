package io.github.adahessian4j;

/**
 * Thrown when an optimizer step, an estimator or the native core rejects its input. The message
 * names the culprit (parameter group and index, or the hyperparameter) and says what was expected.
 * When it is thrown, no parameter, gradient or optimizer state has been changed.
 */
public class OptimizerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * A refusal that says why.
   *
   * @param message the culprit and what was expected
   */
  public OptimizerException(String message) {
    super(message);
  }

  /**
   * A refusal with its cause.
   *
   * @param message the culprit and what was expected
   * @param cause what failed underneath
   */
  public OptimizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
