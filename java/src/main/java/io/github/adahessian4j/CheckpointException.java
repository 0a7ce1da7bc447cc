package io.github.adahessian4j;

import java.io.IOException;

/** A checkpoint could not be loaded: it is truncated, corrupted, or for another optimizer. */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }
}
