package io.github.adahessian4j.distributed;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/**
 * The rendezvous: rank 0 serves a c10d {@code TCPStore}, every rank connects, records itself and
 * waits for the others; the checks (world sizes, duplicate ranks) and their messages.
 */
final class Rendezvous {
  private static final String KEY = "adahessian4j/";

  final String address;
  final int port;
  final int rank;
  final int worldSize;

  Rendezvous(String address, int port, int rank, int worldSize) {
    this.address = address;
    this.port = port;
    this.rank = rank;
    this.worldSize = worldSize;
  }

  /** Starts (rank 0) or reaches the store. */
  TCPStore openStore(Duration rdv) {
    String where = address + ":" + port;
    TCPStore store;
    try (PointerScope scope = new PointerScope()) {
      TCPStoreOptions so = new TCPStoreOptions();
      so.port((short) port).isServer(rank == 0).waitWorkers(false).timeout(C10d.millis(rdv));
      store = C10d.keep(new TCPStore(address, so));
    } catch (RuntimeException e) {
      throw rank == 0
          ? failure(
              "rank 0 of "
                  + worldSize
                  + " could not start the rendezvous TCPStore on port "
                  + port
                  + " (rendezvous "
                  + where
                  + "): is the port in use (another job, or a previous run still "
                  + "alive)?",
              rdv,
              e)
          : failure(
              "rank "
                  + rank
                  + " of "
                  + worldSize
                  + " could not reach the rendezvous TCPStore at "
                  + where
                  + " within "
                  + rdv.toMillis()
                  + " ms: is rank 0 running, are MASTER_ADDR and "
                  + "MASTER_PORT rank 0's address and port, and is the port open between the machines?",
              rdv,
              e);
    }
    return store;
  }

  RendezvousException failure(String message, Duration rdv, Throwable cause) {
    String detail = cause == null ? "" : " [" + C10d.firstLine(cause.getMessage()) + "]";
    return new RendezvousException(message + detail, address, port, rank, rdv, cause);
  }

  /**
   * Records this rank in the store ({@code self}: its host and process, and what it tells the
   * others about itself), waits for every rank, checks world sizes and duplicates. A rank that
   * finds a world size other than its own, while it waits or after, records why under an abort key,
   * which every waiting rank polls: all fail with the same message, naming the values (rank 0,
   * whose process serves the store, first waits, within the deadline, until the others have read
   * it). Returns each rank's {@code self}.
   */
  Map<Integer, String> join(TCPStore store, long deadline, Duration rdv, String self) {
    String where = address + ":" + port;
    try (PointerScope scope = new PointerScope()) {
      long joins = store.add(KEY + "joins/" + rank, 1);
      if (joins > 1) {
        throw failure(
            "rank "
                + rank
                + " joined the rendezvous at "
                + where
                + " twice (this process: "
                + self
                + "): every process needs its own RANK",
            rdv,
            null);
      }
      store.set(KEY + "rank/" + rank, worldSize + " " + self);
      Map<Integer, String> joined = waitForAll(store, deadline, rdv, self);
      if (store.check(new StringVector(KEY + "rank/" + worldSize))) {
        String[] extra = store.get_to_str(KEY + "rank/" + worldSize).split(" ", 2);
        throw abort(store, deadline, worldSizes(worldSize, extra[1], extra[0], self), rdv);
      }
      return joined;
    }
  }

  /**
   * Polls until every rank of this world size has joined (then returns their records), another rank
   * recorded an abort, a rank joined with another world size, or the deadline.
   */
  private Map<Integer, String> waitForAll(
      TCPStore store, long deadline, Duration rdv, String self) {
    StringVector abortKey = new StringVector(KEY + "abort");
    long pause = 5;
    while (true) {
      if (store.check(abortKey)) {
        throw abort(store, deadline, store.get_to_str(KEY + "abort"), rdv);
      }
      Map<Integer, String> joined = new TreeMap<>();
      List<Integer> missing = new ArrayList<>();
      try {
        for (int r = 0; r < worldSize; r++) {
          String key = KEY + "rank/" + r;
          if (store.check(new StringVector(key))) {
            String[] value = store.get_to_str(key).split(" ", 2);
            if (Integer.parseInt(value[0]) != worldSize) {
              throw abort(store, deadline, worldSizes(r, value[1], value[0], self), rdv);
            }
            joined.put(r, value[1]);
          } else {
            missing.add(r);
          }
        }
      } catch (RendezvousException e) {
        throw e;
      } catch (RuntimeException lost) {
        throw failure(
            "rank "
                + rank
                + " of "
                + worldSize
                + " lost the rendezvous TCPStore at "
                + address
                + ":"
                + port
                + " while it waited for the other ranks (did rank 0 fail or stop?)",
            rdv,
            lost);
      }
      if (missing.isEmpty()) {
        return joined;
      }
      if (System.nanoTime() >= deadline) {
        throw failure(
            "rendezvous at "
                + address
                + ":"
                + port
                + " timed out after "
                + rdv.toMillis()
                + " ms on rank "
                + rank
                + " of "
                + worldSize
                + ": "
                + (missing.size() == 1 ? "rank " + missing.get(0) : "ranks " + missing)
                + " never joined (joined: "
                + joined
                + "). Start all "
                + worldSize
                + " ranks (the launcher does) "
                + "with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE",
            rdv,
            null);
      }
      try {
        Thread.sleep(Math.min(pause, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw failure("rank " + rank + " was interrupted in the rendezvous", rdv, e);
      }
      pause = Math.min(100, pause * 2);
    }
  }

  private String worldSizes(int other, String otherSelf, String otherWorld, String self) {
    return "rank "
        + other
        + " ("
        + otherSelf
        + ") joined the rendezvous at "
        + address
        + ":"
        + port
        + " with world size "
        + otherWorld
        + ", rank "
        + rank
        + " ("
        + self
        + ") with "
        + worldSize
        + ": every rank needs the same WORLD_SIZE";
  }

  /**
   * Records {@code why} (unless a rank did first) and returns it to throw. Every other rank counts
   * itself under {@code abort-seen}; rank 0, whose process serves the store, first waits until
   * every rank that joined has, or the deadline.
   */
  private RendezvousException abort(TCPStore store, long deadline, String why, Duration rdv) {
    try {
      if (!store.check(new StringVector(KEY + "abort"))) {
        store.set(KEY + "abort", why);
      }
      if (rank != 0) {
        store.add(KEY + "abort-seen", 1);
      } else {
        long others = 0;
        for (int r = 1; r <= worldSize; r++) {
          others += store.check(new StringVector(KEY + "joins/" + r)) ? 1 : 0;
        }
        while (store.add(KEY + "abort-seen", 0) < others && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException ignored) {
      // the store is gone: this rank's message stands on its own
    }
    return failure(why, rdv, null);
  }

  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown host";
    }
  }
}
