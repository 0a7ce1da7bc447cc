package io.github.adahessian4j.distributed;

import java.time.Duration;

/**
 * Forming a {@link ProcessGroup} failed or timed out: the rendezvous TCPStore could not be started
 * or reached, not every rank joined within the rendezvous timeout, the ranks disagree (world size,
 * the same rank twice), or the backend could not connect the ranks to each other. The message names
 * the address, the port, this rank and the timeout.
 */
public class RendezvousException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The rendezvous address. */
  private final String address;

  /** The rendezvous port. */
  private final int port;

  /** This process's rank. */
  private final int rank;

  /** The rendezvous timeout (not serialized). */
  private final transient Duration timeout;

  RendezvousException(
      String message, String address, int port, int rank, Duration timeout, Throwable cause) {
    super(message, cause);
    this.address = address;
    this.port = port;
    this.rank = rank;
    this.timeout = timeout;
  }

  /**
   * The rendezvous address (rank 0's, {@code MASTER_ADDR}).
   *
   * @return the address
   */
  public String address() {
    return address;
  }

  /**
   * The rendezvous port ({@code MASTER_PORT}).
   *
   * @return the port
   */
  public int port() {
    return port;
  }

  /**
   * This process's rank.
   *
   * @return the rank
   */
  public int rank() {
    return rank;
  }

  /**
   * The rendezvous timeout.
   *
   * @return the timeout
   */
  public Duration timeout() {
    return timeout;
  }
}
