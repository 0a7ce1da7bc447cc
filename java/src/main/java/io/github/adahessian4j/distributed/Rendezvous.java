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

  /** Records this rank in the store, waits for every rank, checks world sizes and duplicates. */
  void join(TCPStore store, long deadline, Duration rdv) {
    String self = hostName() + " pid " + ProcessHandle.current().pid();
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
      StringVector keys = new StringVector();
      for (int r = 0; r < worldSize; r++) {
        keys.push_back(KEY + "rank/" + r);
      }
      try {
        store._wait(keys, C10d.millis(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))));
      } catch (RuntimeException e) {
        List<Integer> missing = new ArrayList<>();
        Map<Integer, String> joined = new TreeMap<>();
        try {
          for (int r = 0; r < worldSize; r++) {
            String key = KEY + "rank/" + r;
            if (store.check(new StringVector(key))) {
              joined.put(r, store.get_to_str(key).split(" ", 2)[1]);
            } else {
              missing.add(r);
            }
          }
        } catch (RuntimeException lost) {
          throw failure(
              "rank "
                  + rank
                  + " of "
                  + worldSize
                  + " lost the rendezvous TCPStore at "
                  + where
                  + " while it waited for the other ranks (did rank 0 fail or stop?)",
              rdv,
              e);
        }
        throw failure(
            "rendezvous at "
                + where
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
            e);
      }
      for (int r = 0; r < worldSize; r++) {
        String[] value = store.get_to_str(KEY + "rank/" + r).split(" ", 2);
        if (Integer.parseInt(value[0]) != worldSize) {
          throw failure(
              "rank "
                  + r
                  + " ("
                  + value[1]
                  + ") joined the rendezvous at "
                  + where
                  + " with world size "
                  + value[0]
                  + ", rank "
                  + rank
                  + " ("
                  + self
                  + ") with "
                  + worldSize
                  + ": every rank needs the same "
                  + "WORLD_SIZE",
              rdv,
              null);
        }
      }
    }
  }

  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown host";
    }
  }
}
