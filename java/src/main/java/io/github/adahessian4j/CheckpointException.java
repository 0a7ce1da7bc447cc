package io.github.adahessian4j;

import java.io.IOException;

/** A checkpoint could not be loaded: it is truncated, corrupted, or for another optimizer. */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * A refusal that says why.
   *
   * @param message what was wrong, and that nothing was loaded
   */
  public CheckpointException(String message) {
    super(message);
  }
}
