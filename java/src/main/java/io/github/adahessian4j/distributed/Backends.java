package io.github.adahessian4j.distributed;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;

/** The c10d backends a rendezvous forms: Gloo (and its device choice) and NCCL. */
final class Backends {
  private Backends() {}

  /**
   * Where Gloo listens and what it announces to the other ranks: the interfaces named (by the
   * builder, else {@code GLOO_SOCKET_IFNAME}), else the host name given, else 127.0.0.1 for a
   * loopback rendezvous, else this host's address; {@code device} describes it in messages, {@code
   * address} is the address Java resolves for it (Gloo resolves it again, the same way).
   */
  record GlooChoice(List<String> names, String hostname, String device, String address) {
    static GlooChoice of(
        Map<String, String> env, List<String> interfaces, String hostname, String rendezvous) {
      List<String> names = interfaces;
      String fromEnv = env.get("GLOO_SOCKET_IFNAME");
      if (names == null && fromEnv != null && !fromEnv.isBlank()) {
        names = List.of(fromEnv.strip().split("\\s*,\\s*"));
      }
      if (names != null && !names.isEmpty()) {
        List<String> addresses = new ArrayList<>();
        for (String n : names) {
          addresses.add(interfaceAddress(n));
        }
        return new GlooChoice(
            names, null, "interface " + String.join(",", names), String.join(",", addresses));
      }
      if (hostname != null || isLoopback(rendezvous)) {
        String h = hostname != null ? hostname : "127.0.0.1";
        return new GlooChoice(null, h, "address " + h, resolve(h));
      }
      String self = Rendezvous.hostName();
      return new GlooChoice(null, null, "this host's address (" + self + ")", resolve(self));
    }

    GlooDeviceVector devices() {
      GlooDeviceVector devices = new GlooDeviceVector();
      if (names != null) {
        for (String n : names) {
          devices.push_back(ProcessGroupGloo.createDeviceForInterface(n));
        }
      } else if (hostname != null) {
        devices.push_back(ProcessGroupGloo.createDeviceForHostname(hostname));
      } else {
        devices.push_back(ProcessGroupGloo.createDefaultDevice());
      }
      return devices;
    }
  }

  /** A Gloo device that could not be made (an interface that does not exist, say). */
  private static final class DeviceFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeviceFailure(RuntimeException cause) {
      super(cause.getMessage(), cause);
    }
  }

  /**
   * Forms the Gloo backend by the deadline. Gloo's own connection of every pair of ranks can wait
   * several times the timeout it is given (37 s for 8 s, measured), so it runs on a daemon thread
   * that this one waits for until the deadline; past it, this throws, naming the other ranks (their
   * hosts and the addresses they announce, from {@code peers}), and the thread, still inside Gloo,
   * frees what it made, the store included, when Gloo lets it go. On every failure the store is
   * closed (or will be): the caller must not close it.
   */
  static org.bytedeco.pytorch.Backend gloo(
      Rendezvous rendezvous,
      TCPStore store,
      GlooChoice choice,
      Map<Integer, String> peers,
      long deadline,
      Duration rdv,
      boolean batchScheduling) {
    CompletableFuture<org.bytedeco.pytorch.Backend> formed = new CompletableFuture<>();
    Thread connecting =
        new Thread(
            () -> {
              try (PointerScope scope = new PointerScope()) {
                if (batchScheduling) {
                  // Gloo's threads (its network loop, the group's workers) start on this thread
                  // and inherit its policy; this thread ends once the group is formed.
                  ThreadScheduling.batch();
                }
                GlooDeviceVector devices;
                try {
                  devices = choice.devices();
                } catch (RuntimeException e) {
                  throw new DeviceFailure(e);
                }
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                ProcessGroupGloo.Options o = new ProcessGroupGloo.Options(new Milliseconds(left));
                o.devices(devices);
                org.bytedeco.pytorch.Backend b =
                    C10d.keep(
                        new ProcessGroupGloo(store, rendezvous.rank, rendezvous.worldSize, o));
                if (!formed.complete(b)) {
                  b.close(); // formed too late: the caller has given up
                }
              } catch (Throwable t) {
                formed.completeExceptionally(t);
              } finally {
                if (formed.isCompletedExceptionally()) {
                  store.close();
                }
              }
            },
            "adahessian4j Gloo connection of rank " + rendezvous.rank);
    connecting.setDaemon(true);
    connecting.start();
    String connect =
        "rank "
            + rendezvous.rank
            + " of "
            + rendezvous.worldSize
            + " could not connect Gloo to the other ranks on "
            + choice.device()
            + " within the rendezvous timeout of "
            + rdv.toMillis()
            + " ms (rendezvous "
            + rendezvous.address
            + ":"
            + rendezvous.port
            + "; "
            + others(rendezvous.rank, peers)
            + "): across machines every rank must reach every other one on that "
            + "address; set GLOO_SOCKET_IFNAME to the interface of the network they share";
    try {
      try {
        return formed.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        if (formed.completeExceptionally(e)) {
          throw rendezvous.failure(
              connect, rdv, new IllegalStateException("Gloo was still connecting at the deadline"));
        }
        return formed.get(); // it ended meanwhile: its backend, or its failure below
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      formed.completeExceptionally(e);
      throw rendezvous.failure(
          "rank " + rendezvous.rank + " was interrupted while Gloo connected", rdv, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof DeviceFailure) {
        throw rendezvous.failure(
            "rank "
                + rendezvous.rank
                + " of "
                + rendezvous.worldSize
                + " could not make its Gloo device ("
                + choice.device()
                + ")",
            rdv,
            cause.getCause());
      }
      throw rendezvous.failure(connect, rdv, cause);
    }
  }

  /** The other ranks of {@code peers}: their hosts and what they announce. */
  private static String others(int rank, Map<Integer, String> peers) {
    StringBuilder s = new StringBuilder(peers.size() == 2 ? "the other rank: " : "the others: ");
    String sep = "";
    for (Map.Entry<Integer, String> p : peers.entrySet()) {
      if (p.getKey() != rank) {
        s.append(sep).append("rank ").append(p.getKey()).append(" (").append(p.getValue());
        s.append(')');
        sep = ", ";
      }
    }
    return s.toString();
  }

  static org.bytedeco.pytorch.Backend nccl(
      Rendezvous rendezvous, TCPStore store, Duration timeout) {
    try {
      Loader.load(org.bytedeco.pytorch.global.torch_nccl.class);
    } catch (Throwable t) {
      throw rendezvous.failure(
          "the NCCL backend needs bytedeco's linux-x86_64-gpu natives of org.bytedeco:pytorch "
              + "(build with -Pgpu), which are not on the class path",
          timeout,
          t);
    }
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options o =
          new org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options();
      o.timeout(C10d.millis(timeout));
      return C10d.keep(
          new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(
              store, rendezvous.rank, rendezvous.worldSize, o));
    } catch (RuntimeException e) {
      throw rendezvous.failure(
          "rank "
              + rendezvous.rank
              + " of "
              + rendezvous.worldSize
              + " could not create its NCCL process group",
          timeout,
          e);
    }
  }

  private static String interfaceAddress(String name) {
    try {
      NetworkInterface ni = NetworkInterface.getByName(name);
      if (ni == null) {
        return "no interface " + name + " here";
      }
      List<InetAddress> all = Collections.list(ni.getInetAddresses());
      return all.stream()
          .filter(a -> a instanceof Inet4Address)
          .findFirst()
          .or(() -> all.stream().findFirst())
          .map(InetAddress::getHostAddress)
          .orElse("no address on " + name);
    } catch (SocketException e) {
      return "interface " + name + " unreadable";
    }
  }

  private static String resolve(String host) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      return host + " unresolved";
    }
  }

  private static boolean isLoopback(String address) {
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
