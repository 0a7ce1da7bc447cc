package io.github.adahessian4j.distributed;

import java.time.Duration;

/**
 * A collective of a {@link ProcessGroup} failed: another rank died, stopped calling collectives or
 * timed out (the process group is then unusable: see {@link ProcessGroup#isBroken()}), or the ranks
 * handed over different tensors (detected before any data moved, on every rank; the group stays
 * usable). The message names the collective, this rank and the timeout.
 */
public class CollectiveException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The collective, as the message names it. */
  private final String collective;

  /** The rank that threw. */
  private final int rank;

  /** The number of ranks. */
  private final int worldSize;

  /** The collective timeout (not serialized). */
  private final transient Duration timeout;

  /** Whether the ranks handed over different tensors. */
  private final boolean mismatch;

  CollectiveException(
      String message,
      String collective,
      int rank,
      int worldSize,
      Duration timeout,
      boolean mismatch,
      Throwable cause) {
    super(message, cause);
    this.collective = collective;
    this.rank = rank;
    this.worldSize = worldSize;
    this.timeout = timeout;
    this.mismatch = mismatch;
  }

  /**
   * Which collective failed, as the message names it (for example {@code "allreduce (mean) #12"}:
   * the operation and its sequence number in this group).
   *
   * @return the collective
   */
  public String collective() {
    return collective;
  }

  /**
   * The rank that threw this exception.
   *
   * @return this process's rank
   */
  public int rank() {
    return rank;
  }

  /**
   * The number of ranks in the group.
   *
   * @return the world size
   */
  public int worldSize() {
    return worldSize;
  }

  /**
   * The group's collective timeout.
   *
   * @return the timeout
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Whether the ranks handed over different tensors (or one of them invalid ones): nothing was
   * sent, every rank threw, and the group is still usable. False for a failure of the transport (a
   * dead or stalled rank, a timeout), after which the group is broken.
   *
   * @return true for a mismatch
   */
  public boolean isMismatch() {
    return mismatch;
  }
}
