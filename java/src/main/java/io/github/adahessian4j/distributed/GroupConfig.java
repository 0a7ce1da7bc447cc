package io.github.adahessian4j.distributed;

import java.time.Duration;

/**
 * A group's settings, as {@link ProcessGroup.Builder#connect()} or {@link ProcessGroup#wrap} fixed
 * them.
 *
 * @param rank this process's rank
 * @param worldSize the number of ranks
 * @param localRank the rank on this machine, or -1 when unknown
 * @param timeout the collective timeout
 * @param bucketBytes the largest bucket
 * @param verify whether collectives exchange headers first
 * @param address the rendezvous address, or null for a wrapped backend
 * @param port the rendezvous port, or -1 for a wrapped backend
 */
record GroupConfig(
    int rank,
    int worldSize,
    int localRank,
    Duration timeout,
    long bucketBytes,
    boolean verify,
    String address,
    int port) {}
