package io.github.adahessian4j.distributed;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The launchers' own rendezvous across machines, before any rank starts: node 0's launcher listens
 * on the master address and port, every other launcher connects and tells its {@code --nnodes},
 * {@code --node-rank}, {@code --nproc-per-node}, host name and what it found wrong on its machine
 * (an interface of {@code GLOO_SOCKET_IFNAME} that it does not have). Node 0 checks that they agree
 * and answers every launcher with the same verdict and the port of the ranks' TCPStore: the same
 * port at the first start (node 0 closes its socket, rank 0's store serves it next), a fresh port
 * of node 0 after a restart ({@link Launcher#maxRestarts}), where every launcher must be at the
 * same restart. Node 0 acknowledges each launcher's hello at once; a launcher that reaches
 * something else on the port (rank 0's store of the previous start, still being stopped) tries
 * again. A launcher that cannot complete it within the timeout, or whose verdict is a failure,
 * starts nothing and throws a {@link RendezvousException}.
 */
final class NodeRendezvous {
  private static final String HELLO = "adahessian4j-launcher-2";

  /** How long a launcher waits for node 0's acknowledgement of its hello before it tries again. */
  private static final int ACK_MS = 3000;

  private static final String OK = "ok";

  private final int nnodes;
  private final int nodeRank;
  private final int nproc;
  private final String address;
  private final int port;
  private final Duration timeout;
  private final String interfaces;
  private final int restart;
  private final int maxRestarts;

  NodeRendezvous(
      int nnodes,
      int nodeRank,
      int nproc,
      String address,
      int port,
      Duration timeout,
      String interfaces,
      int restart,
      int maxRestarts) {
    this.nnodes = nnodes;
    this.nodeRank = nodeRank;
    this.nproc = nproc;
    this.address = address;
    this.port = port;
    this.timeout = timeout;
    this.interfaces = interfaces;
    this.restart = restart;
    this.maxRestarts = maxRestarts;
  }

  /**
   * Completes the rendezvous, or throws why not.
   *
   * @return the port of the ranks' TCPStore on the master address
   */
  int run() {
    long deadline = System.nanoTime() + timeout.toNanos();
    String problem = localProblem();
    if (nodeRank == 0) {
      ServerSocket server = null;
      String bindProblem = null;
      try {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName(address), port));
      } catch (IOException e) {
        close(server);
        server = null;
        bindProblem =
            "node 0 ("
                + host()
                + ") could not listen on --master-addr "
                + address
                + " port "
                + port
                + " ("
                + e.getMessage()
                + "): rank 0 serves the rendezvous there, so the address must be one of node 0's "
                + "and the port free";
      }
      if (server != null) {
        return serve(server, deadline, problem);
      }
      // Another launcher may serve it (node rank 0 given twice): tell it, else fail at the
      // deadline.
      return join(deadline, problem, bindProblem);
    }
    return join(deadline, problem, null);
  }

  /** GLOO_SOCKET_IFNAME's interfaces that this machine lacks, or null. */
  private String localProblem() {
    if (interfaces == null || interfaces.isBlank()) {
      return null;
    }
    List<String> missing = new ArrayList<>();
    for (String name : interfaces.strip().split("\\s*,\\s*")) {
      try {
        NetworkInterface ni = NetworkInterface.getByName(name);
        if (ni == null || !ni.isUp() || !ni.getInetAddresses().hasMoreElements()) {
          missing.add(name);
        }
      } catch (SocketException e) {
        missing.add(name);
      }
    }
    if (missing.isEmpty()) {
      return null;
    }
    List<String> present = new ArrayList<>();
    try {
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (ni.isUp() && ni.getInetAddresses().hasMoreElements()) {
          present.add(ni.getName());
        }
      }
    } catch (SocketException e) {
      // listed as none
    }
    return "GLOO_SOCKET_IFNAME="
        + interfaces.strip()
        + " names "
        + (missing.size() == 1 ? "interface " + missing.get(0) : "interfaces " + missing)
        + ", which node "
        + nodeRank
        + " ("
        + host()
        + ") does not have up with an address (it has "
        + present
        + ")";
  }

  /**
   * Node 0: waits for the other nodes, checks them, answers each with the verdict and the store's
   * port.
   */
  private int serve(ServerSocket server, long deadline, String problem) {
    Map<Integer, String> hosts = new TreeMap<>();
    hosts.put(0, host() + " at " + address);
    List<Socket> joined = new ArrayList<>();
    String verdict = problem;
    int storePort = port;
    try {
      while (verdict == null && hosts.size() < nnodes) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          List<Integer> missing = new ArrayList<>();
          for (int n = 1; n < nnodes; n++) {
            if (!hosts.containsKey(n)) {
              missing.add(n);
            }
          }
          verdict =
              (missing.size() == 1 ? "node " + missing.get(0) : "nodes " + missing)
                  + " of --nnodes "
                  + nnodes
                  + " never joined the launchers' rendezvous at "
                  + address
                  + ":"
                  + port
                  + " within "
                  + timeout.toMillis()
                  + " ms (joined: "
                  + hosts
                  + "): start a launcher on every machine with the same --master-addr, "
                  + "--master-port and --nnodes";
          break;
        }
        server.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
        Socket s;
        try {
          s = server.accept();
        } catch (SocketTimeoutException e) {
          continue;
        }
        Hello hello = hello(s);
        if (hello == null) {
          close(s);
          continue;
        }
        joined.add(s);
        verdict = check(hello, hosts);
      }
      if (verdict == null && restart > 0) {
        storePort = freePort();
      }
    } catch (IOException e) {
      verdict =
          "node 0's launcher lost a launcher during the rendezvous at "
              + address
              + ":"
              + port
              + " ("
              + e.getMessage()
              + ")";
    } finally {
      close(server);
    }
    for (Socket s : joined) {
      try (s) {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeUTF(verdict == null ? OK : verdict);
        out.writeInt(storePort);
        out.flush();
        // The other side closes first, so that this port is free of our connections at once.
        s.getInputStream().read();
      } catch (IOException e) {
        // that launcher is gone; it reports its own failure
      }
    }
    if (verdict != null) {
      throw failure(verdict, null);
    }
    return storePort;
  }

  /** What a launcher tells node 0. */
  private record Hello(
      int nnodes,
      int nodeRank,
      int nproc,
      int restart,
      int maxRestarts,
      String host,
      String problem) {}

  /**
   * Reads a launcher's hello and acknowledges it; null for a connection that is no launcher's or
   * that broke (a launcher tries again).
   */
  private static Hello hello(Socket s) {
    try {
      s.setSoTimeout(ACK_MS);
      DataInputStream in = new DataInputStream(s.getInputStream());
      if (!HELLO.equals(in.readUTF())) {
        return null;
      }
      Hello hello =
          new Hello(
              in.readInt(),
              in.readInt(),
              in.readInt(),
              in.readInt(),
              in.readInt(),
              in.readUTF() + " at " + s.getInetAddress().getHostAddress(),
              in.readUTF());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeUTF(HELLO);
      out.flush();
      return hello;
    } catch (IOException e) {
      return null;
    }
  }

  /** Node 0's verdict on one launcher (null: it agrees, and is recorded in {@code hosts}). */
  private String check(Hello h, Map<Integer, String> hosts) {
    String who = "node " + h.nodeRank() + " (" + h.host() + ")";
    if (!h.problem().isEmpty()) {
      return h.problem();
    }
    if (h.nnodes() != nnodes) {
      return who
          + " has --nnodes "
          + h.nnodes()
          + ", node 0 ("
          + hosts.get(0)
          + ") has --nnodes "
          + nnodes
          + ": every launcher needs the same --nnodes";
    }
    if (h.nproc() != nproc) {
      return who
          + " has --nproc-per-node "
          + h.nproc()
          + ", node 0 ("
          + hosts.get(0)
          + ") has "
          + nproc
          + ": every launcher needs the same --nproc-per-node (world size "
          + nnodes
          + " x "
          + nproc
          + ")";
    }
    if (h.maxRestarts() != maxRestarts) {
      return who
          + " has --max-restarts "
          + h.maxRestarts()
          + ", node 0 ("
          + hosts.get(0)
          + ") has "
          + maxRestarts
          + ": every launcher needs the same --max-restarts";
    }
    if (h.restart() != restart) {
      return who
          + " is at restart "
          + h.restart()
          + ", node 0 ("
          + hosts.get(0)
          + ") at restart "
          + restart
          + ": the launchers restart together, once per failure of the group (was a launcher "
          + "started again by hand?)";
    }
    if (hosts.containsKey(h.nodeRank())) {
      return "--node-rank "
          + h.nodeRank()
          + " is used twice: by "
          + hosts.get(h.nodeRank())
          + " and by "
          + h.host()
          + " (every launcher needs its own --node-rank, 0 to "
          + (nnodes - 1)
          + ")";
    }
    hosts.put(h.nodeRank(), h.host());
    return null;
  }

  /** A port that no process listens on now, on the master address of node 0. */
  private int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
      return s.getLocalPort();
    }
  }

  /**
   * Every other node (and a node 0 that could not listen): tells node 0, waits for the verdict.
   * What answers without node 0's acknowledgement (rank 0's TCPStore of the previous start, still
   * being stopped) is left, and the launcher tries again until its deadline.
   */
  private int join(long deadline, String problem, String ownFailure) {
    IOException last = null;
    while (true) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw failure(
            ownFailure != null
                ? ownFailure
                : "node "
                    + nodeRank
                    + " ("
                    + host()
                    + ") reached no launcher of node 0 at --master-addr "
                    + address
                    + " --master-port "
                    + port
                    + " within "
                    + timeout.toMillis()
                    + " ms: is node 0's launcher running, is that its address, and is the port "
                    + "open between the machines?"
                    + (problem != null ? " And: " + problem : ""),
            last);
      }
      Socket s = new Socket();
      try {
        s.connect(
            new InetSocketAddress(InetAddress.getByName(address), port),
            (int) Math.min(left, 2000));
        s.setSoTimeout((int) Math.max(1, Math.min(ACK_MS, left)));
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeUTF(HELLO);
        out.writeInt(nnodes);
        out.writeInt(nodeRank);
        out.writeInt(nproc);
        out.writeInt(restart);
        out.writeInt(maxRestarts);
        out.writeUTF(host());
        out.writeUTF(problem == null ? "" : problem);
        out.flush();
        if (!HELLO.equals(new DataInputStream(s.getInputStream()).readUTF())) {
          throw new IOException("no launcher's acknowledgement");
        }
      } catch (IOException e) {
        last = e;
        close(s);
        try {
          Thread.sleep(Math.max(1, Math.min(200, left)));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw failure("interrupted during the launchers' rendezvous", interrupted);
        }
        continue;
      }
      try (s) {
        s.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        DataInputStream in = new DataInputStream(s.getInputStream());
        String verdict = in.readUTF();
        int storePort = in.readInt();
        if (!OK.equals(verdict)) {
          throw failure(verdict, null);
        }
        return storePort;
      } catch (SocketTimeoutException e) {
        throw failure(
            "node "
                + nodeRank
                + " got no answer from node 0's launcher at "
                + address
                + ":"
                + port
                + " within "
                + timeout.toMillis()
                + " ms",
            e);
      } catch (IOException e) {
        throw failure(
            "node "
                + nodeRank
                + " lost node 0's launcher at "
                + address
                + ":"
                + port
                + " during the rendezvous",
            e);
      }
    }
  }

  private RendezvousException failure(String message, Throwable cause) {
    return new RendezvousException(
        "launcher rendezvous failed, no rank started: " + message,
        address,
        port,
        nodeRank * nproc,
        timeout,
        cause);
  }

  private static void close(java.io.Closeable s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closed
      }
    }
  }

  /**
   * A warning when a rank's Gloo would listen on a loopback address across machines (no {@code
   * GLOO_SOCKET_IFNAME}, and this host's name resolves to one, as 127.0.1.1 on many Debian
   * machines), else null.
   */
  static String loopbackWarning(String interfaces) {
    if (interfaces != null && !interfaces.isBlank()) {
      return null;
    }
    try {
      InetAddress self = InetAddress.getLocalHost();
      if (!self.isLoopbackAddress()) {
        return null;
      }
      return "this host's name "
          + self.getHostName()
          + " resolves to "
          + self.getHostAddress()
          + ", a loopback address, and GLOO_SOCKET_IFNAME is not set: unless the ranks choose their "
          + "network interfaces themselves, Gloo listens where the other machines cannot reach it; "
          + "set GLOO_SOCKET_IFNAME to the interface of the network the machines share";
    } catch (IOException e) {
      return null;
    }
  }

  static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown host";
    }
  }
}
