package io.github.adahessian4j.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Starts the processes of a data-parallel run on this machine, as torchrun's {@code
 * --nproc-per-node} does: N processes, each with {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code
 * WORLD_SIZE}, {@code RANK}, {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE} and {@code GROUP_RANK}
 * set (what {@link ProcessGroup#fromEnvironment()} reads), each line of their output forwarded with
 * a {@code [rank r]} prefix. When one process fails (exits with a status other than 0), the others
 * are stopped (SIGTERM, then SIGKILL after the grace period) and the launcher exits with the failed
 * process's status (or, with {@link #maxRestarts}, starts them all again); it exits with 0 when
 * every process did. No process is left behind: a launcher stopped by a signal stops its processes,
 * and a Java rank started by it halts when the launcher disappears (even after SIGKILL).
 *
 * <pre>
 * java -cp CLASSPATH io.github.adahessian4j.distributed.Launcher --nproc-per-node 2 my.Train --epochs 3
 * java -cp CLASSPATH io.github.adahessian4j.distributed.Launcher --nproc-per-node 2 -- ./train.sh
 * </pre>
 *
 * <p>Options: {@code --nproc-per-node N} (default 1), {@code --nnodes M} and {@code --node-rank R}
 * (default 1 and 0; every machine runs one launcher, and ranks are {@code R * N + local rank}),
 * {@code --master-addr A} (default 127.0.0.1; rank 0's machine when {@code M > 1}), {@code
 * --master-port P} (default: a free port, on one machine only), {@code --threads T} (each process's
 * {@code OMP_NUM_THREADS}, libtorch's thread count; default: as set, else 1 with more than one
 * process, as torchrun does), {@code --jvm-arg ARG} (repeatable), {@code --grace-seconds S}
 * (default 3), {@code --rendezvous-timeout S} (default 300: how long the launchers of several
 * machines wait for each other before any rank starts; see {@link #rendezvousTimeout}), {@code
 * --max-restarts N} (default 0: how often the whole group is started again after a rank failed; see
 * {@link #maxRestarts}). A class name runs that class's {@code main} in a new JVM with this JVM's
 * class path; {@code --} runs any command. {@code OPENBLAS_NUM_THREADS} is set to 1 unless set.
 */
public final class Launcher {
  private final int nprocPerNode;
  private int nnodes = 1;
  private int nodeRank;
  private String masterAddress = "127.0.0.1";
  private int masterPort;
  private int threads;
  private final Map<String, String> environment = new LinkedHashMap<>();
  private final List<String> jvmArgs = new ArrayList<>();
  private String classPath;
  private Duration grace = Duration.ofSeconds(3);
  private Duration rendezvousTimeout = Duration.ofMinutes(5);
  private int maxRestarts;
  private PrintStream out = System.out;
  private PrintStream err = System.err;

  /**
   * A launcher of {@code nprocPerNode} processes on this machine.
   *
   * @param nprocPerNode the number of processes, at least 1
   */
  public Launcher(int nprocPerNode) {
    if (nprocPerNode < 1) {
      throw new IllegalArgumentException(
          "Invalid --nproc-per-node: " + nprocPerNode + " (must be at least 1)");
    }
    this.nprocPerNode = nprocPerNode;
  }

  /**
   * Runs on several machines: this one is node {@code nodeRank} of {@code nnodes} (set {@link
   * #master} to rank 0's machine, with a fixed port).
   *
   * @param nnodes the number of machines
   * @param nodeRank this machine's index, 0 to {@code nnodes - 1}
   * @return this launcher
   */
  public Launcher nodes(int nnodes, int nodeRank) {
    if (nnodes < 1 || nodeRank < 0 || nodeRank >= nnodes) {
      throw new IllegalArgumentException(
          "Invalid --nnodes " + nnodes + " / --node-rank " + nodeRank);
    }
    this.nnodes = nnodes;
    this.nodeRank = nodeRank;
    return this;
  }

  /**
   * The rendezvous: rank 0's address and its store's port (0: a free port of this machine, for a
   * run on one machine).
   *
   * @param address the address
   * @param port 0 to 65535
   * @return this launcher
   */
  public Launcher master(String address, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("Invalid --master-port: " + port);
    }
    this.masterAddress = Objects.requireNonNull(address, "address");
    this.masterPort = port;
    return this;
  }

  /**
   * Each process's {@code OMP_NUM_THREADS} (libtorch's thread count); 0 (default) keeps the
   * variable as set, else 1 with more than one process per machine.
   *
   * @param threads at least 0
   * @return this launcher
   */
  public Launcher threads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("Invalid --threads: " + threads);
    }
    this.threads = threads;
    return this;
  }

  /**
   * An environment variable for every process.
   *
   * @param name the name
   * @param value the value
   * @return this launcher
   */
  public Launcher environment(String name, String value) {
    environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * JVM options for {@link #runJava} (for example {@code -Xmx2g}).
   *
   * @param args the options
   * @return this launcher
   */
  public Launcher jvmArgs(List<String> args) {
    jvmArgs.addAll(args);
    return this;
  }

  /**
   * The class path of {@link #runJava}'s JVMs (default: this JVM's, from its application class
   * loader or {@code java.class.path}).
   *
   * @param classPath the class path
   * @return this launcher
   */
  public Launcher classPath(String classPath) {
    this.classPath = Objects.requireNonNull(classPath, "classPath");
    return this;
  }

  /**
   * How long the other processes get to end after one failed, before they are killed.
   *
   * @param grace the grace period
   * @return this launcher
   */
  public Launcher gracePeriod(Duration grace) {
    this.grace = Objects.requireNonNull(grace, "grace");
    return this;
  }

  /**
   * With {@code --nnodes > 1}, how long this launcher waits for the launchers of the other machines
   * (default 5 minutes): before any rank starts, node 0's launcher collects every launcher's {@code
   * --nnodes}, {@code --node-rank} and {@code --nproc-per-node} on the master address and port, and
   * checks that they agree and that each machine has the interfaces of {@code GLOO_SOCKET_IFNAME};
   * when they do not, or not every launcher comes in time, no rank starts anywhere and every
   * launcher that took part throws a {@link RendezvousException} with the same message.
   *
   * @param timeout the timeout, positive
   * @return this launcher
   */
  public Launcher rendezvousTimeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("Invalid --rendezvous-timeout: " + timeout);
    }
    this.rendezvousTimeout = timeout;
    return this;
  }

  /**
   * Elastic restarts, as torchrun's {@code --max-restarts}: when a rank fails, every rank of this
   * launcher is stopped and all are started again, up to {@code maxRestarts} times (default 0: the
   * launcher exits with the failed rank's status at once). Each restart is a new rendezvous: the
   * ranks' TCPStore moves to a fresh port (chosen by node 0's launcher with {@code --nnodes > 1},
   * where the launchers first meet again on the master port and check that they are at the same
   * restart), so a rank of an earlier start cannot join the new group. Every rank sees the count in
   * {@code TORCHELASTIC_RESTART_COUNT} (0 at the first start) and the limit in {@code
   * TORCHELASTIC_MAX_RESTARTS}; the ranks resume from their own checkpoints ({@link
   * TrainingState}). When the limit is spent, the launcher exits with the last failed rank's status
   * and names its last line of standard error. Every machine's launcher needs the same value.
   *
   * @param maxRestarts at least 0
   * @return this launcher
   */
  public Launcher maxRestarts(int maxRestarts) {
    if (maxRestarts < 0) {
      throw new IllegalArgumentException(
          "Invalid --max-restarts: " + maxRestarts + " (must be at least 0)");
    }
    this.maxRestarts = maxRestarts;
    return this;
  }

  /**
   * Where the processes' prefixed output goes (default {@code System.out} and {@code System.err}).
   *
   * @param out for their standard output
   * @param err for their standard error and the launcher's own messages
   * @return this launcher
   */
  public Launcher output(PrintStream out, PrintStream err) {
    this.out = Objects.requireNonNull(out, "out");
    this.err = Objects.requireNonNull(err, "err");
    return this;
  }

  /**
   * Runs {@code mainClass} in one new JVM per process (this JVM's {@code java}, the class path of
   * {@link #classPath}) and waits for them.
   *
   * @param mainClass the class whose {@code main} each process runs
   * @param args its arguments
   * @return 0 if every process succeeded (in the last start, with {@link #maxRestarts}), else the
   *     exit status of the first process that failed in the last start
   * @throws IOException if a process cannot be started
   * @throws InterruptedException if interrupted while waiting (the processes are stopped)
   * @throws RendezvousException with {@code --nnodes > 1}, if the launchers' rendezvous fails (see
   *     {@link #rendezvousTimeout}): no process was started
   */
  public int runJava(String mainClass, List<String> args) throws IOException, InterruptedException {
    Objects.requireNonNull(mainClass, "mainClass");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = classPath != null ? classPath : currentClassPath();
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(cp);
    command.add(ChildMain.class.getName());
    command.add(mainClass);
    command.addAll(args);
    return runCommand(command);
  }

  /**
   * Runs {@code command} once per process and waits for them.
   *
   * @param command the program and its arguments
   * @return 0 if every process succeeded (in the last start, with {@link #maxRestarts}), else the
   *     exit status of the first process that failed in the last start
   * @throws IOException if a process cannot be started
   * @throws InterruptedException if interrupted while waiting (the processes are stopped)
   * @throws RendezvousException with {@code --nnodes > 1}, if the launchers' rendezvous fails (see
   *     {@link #rendezvousTimeout}): no process was started
   */
  public int runCommand(List<String> command) throws IOException, InterruptedException {
    if (command.isEmpty()) {
      throw new IllegalArgumentException("no command to run");
    }
    if (nnodes > 1 && masterPort == 0) {
      throw new IllegalArgumentException(
          "with --nnodes > 1, give --master-port (and --master-addr): "
              + "every machine's launcher must name the same one");
    }
    int port = masterPort != 0 ? masterPort : freePort();
    String ompThreads =
        threads > 0
            ? Integer.toString(threads)
            : System.getenv("OMP_NUM_THREADS") != null
                ? System.getenv("OMP_NUM_THREADS")
                : nprocPerNode > 1 ? "1" : null;
    String interfaces =
        environment.getOrDefault("GLOO_SOCKET_IFNAME", System.getenv("GLOO_SOCKET_IFNAME"));
    if (nnodes > 1) {
      String warning = NodeRendezvous.loopbackWarning(interfaces);
      if (warning != null) {
        message("warning: " + warning);
      }
    }
    for (int restart = 0; ; restart++) {
      int storePort = port;
      if (nnodes > 1) {
        message(
            "node "
                + nodeRank
                + " of "
                + nnodes
                + ": waiting for the launchers of the other nodes at "
                + masterAddress
                + ":"
                + port
                + (restart > 0 ? " (restart " + restart + ")" : ""));
        storePort =
            new NodeRendezvous(
                    nnodes,
                    nodeRank,
                    nprocPerNode,
                    masterAddress,
                    port,
                    rendezvousTimeout,
                    interfaces,
                    restart,
                    maxRestarts)
                .run();
      } else if (restart > 0) {
        storePort = freePort();
      }
      Failure failure = runOnce(command, storePort, ompThreads, restart);
      if (failure == null) {
        return 0;
      }
      if (restart == maxRestarts) {
        if (maxRestarts > 0) {
          message(
              "rank "
                  + failure.rank()
                  + " failed after "
                  + restart
                  + " restarts, the limit of --max-restarts "
                  + maxRestarts
                  + ": the job stops with its exit status "
                  + failure.status()
                  + (failure.lastError() != null
                      ? "; its last error: " + failure.lastError()
                      : " (it wrote nothing to standard error)"));
        }
        return failure.status();
      }
      message(
          "restart "
              + (restart + 1)
              + " of --max-restarts "
              + maxRestarts
              + " after rank "
              + failure.rank()
              + " exited with status "
              + failure.status()
              + ": every rank starts again (TORCHELASTIC_RESTART_COUNT="
              + (restart + 1)
              + ")");
    }
  }

  /** A failed rank of one start: its rank, exit status and last line on standard error. */
  private record Failure(int rank, int status, String lastError) {}

  /** Starts every local rank once; null when all succeeded, else the first that failed. */
  private Failure runOnce(List<String> command, int port, String ompThreads, int restart)
      throws IOException, InterruptedException {
    int world = nnodes * nprocPerNode;
    message(
        "starting "
            + nprocPerNode
            + " of "
            + world
            + " ranks: MASTER_ADDR="
            + masterAddress
            + " MASTER_PORT="
            + port
            + (ompThreads != null ? " OMP_NUM_THREADS=" + ompThreads : "")
            + (restart > 0 ? " TORCHELASTIC_RESTART_COUNT=" + restart : ""));
    Process[] procs = new Process[nprocPerNode];
    String[] lastErrors = new String[nprocPerNode];
    List<Thread> pumps = new ArrayList<>();
    Thread hook = new Thread(() -> stopAll(procs, Duration.ofSeconds(1)));
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      for (int local = 0; local < nprocPerNode; local++) {
        int rank = nodeRank * nprocPerNode + local;
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.putAll(environment);
        env.put("MASTER_ADDR", masterAddress);
        env.put("MASTER_PORT", Integer.toString(port));
        env.put("WORLD_SIZE", Integer.toString(world));
        env.put("RANK", Integer.toString(rank));
        env.put("LOCAL_RANK", Integer.toString(local));
        env.put("LOCAL_WORLD_SIZE", Integer.toString(nprocPerNode));
        env.put("GROUP_RANK", Integer.toString(nodeRank));
        env.put("TORCHELASTIC_RESTART_COUNT", Integer.toString(restart));
        env.put("TORCHELASTIC_MAX_RESTARTS", Integer.toString(maxRestarts));
        env.put(ChildMain.LAUNCHER_PID, Long.toString(ProcessHandle.current().pid()));
        if (ompThreads != null) {
          env.put("OMP_NUM_THREADS", ompThreads);
        }
        env.putIfAbsent("OPENBLAS_NUM_THREADS", "1");
        procs[local] = pb.start();
        procs[local].getOutputStream().close();
        String prefix = "[rank " + rank + "] ";
        pumps.add(pump(procs[local].getInputStream(), out, prefix, null, 0));
        pumps.add(pump(procs[local].getErrorStream(), err, prefix, lastErrors, local));
      }
      int failed = waitForAll(procs);
      for (Thread t : pumps) {
        t.join(TimeUnit.SECONDS.toMillis(5));
      }
      if (failed < 0) {
        return null;
      }
      synchronized (lastErrors) {
        return new Failure(
            nodeRank * nprocPerNode + failed, procs[failed].exitValue(), lastErrors[failed]);
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      stopAll(procs, grace);
      throw e;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs
      }
    }
  }

  /**
   * Waits until all succeed or one fails: then stops the others and returns its local index (-1
   * when all succeeded). Processes are taken in the order they end, so the rank that failed first
   * is named, not one that failed because of it.
   */
  private int waitForAll(Process[] procs) throws InterruptedException {
    BlockingQueue<Integer> ended = new LinkedBlockingQueue<>();
    for (int i = 0; i < procs.length; i++) {
      int index = i;
      procs[i].onExit().thenRun(() -> ended.add(index));
    }
    for (int left = procs.length - 1; left >= 0; left--) {
      int i = ended.take();
      int status = procs[i].exitValue();
      if (status != 0) {
        message(
            "rank "
                + (nodeRank * nprocPerNode + i)
                + " exited with status "
                + status
                + (left > 0 ? ": stopping the other ranks" : ""));
        stopAll(procs, grace);
        return i;
      }
    }
    return -1;
  }

  /**
   * SIGTERM to every live process and its descendants, SIGKILL to what is left after {@code grace}.
   */
  private static void stopAll(Process[] procs, Duration grace) {
    List<ProcessHandle> alive = new ArrayList<>();
    for (Process p : procs) {
      if (p != null) {
        p.descendants().forEach(alive::add);
        alive.add(p.toHandle());
      }
    }
    for (ProcessHandle h : alive) {
      h.destroy();
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle h : alive) {
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          h.onExit().get(left, TimeUnit.NANOSECONDS);
        }
      } catch (Exception e) {
        // killed below
      }
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
    for (ProcessHandle h : alive) {
      try {
        h.onExit().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        // nothing more to do
      }
    }
  }

  /**
   * Forwards {@code in}'s lines to {@code to} with {@code prefix}; with {@code lastLines}, keeps
   * the last line that does not start with white space (not a stack frame) in {@code
   * lastLines[index]}.
   */
  private static Thread pump(
      InputStream in, PrintStream to, String prefix, String[] lastLines, int index) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (to) {
                    to.println(prefix + line);
                  }
                  if (lastLines != null
                      && !line.isBlank()
                      && !Character.isWhitespace(line.charAt(0))) {
                    synchronized (lastLines) {
                      lastLines[index] = line;
                    }
                  }
                }
              } catch (IOException e) {
                // the process is gone
              }
            },
            "launcher output " + prefix.strip());
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void message(String text) {
    synchronized (err) {
      err.println("[launcher] " + text);
    }
  }

  /** A port no process of this machine listens on now. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  /**
   * This JVM's class path: the application class loader's URLs (as under exec:java), else
   * java.class.path.
   */
  static String currentClassPath() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader instanceof URLClassLoader u && u.getURLs().length > 0) {
      List<String> entries = new ArrayList<>();
      for (URL url : u.getURLs()) {
        try {
          entries.add(Path.of(url.toURI()).toString());
        } catch (URISyntaxException | IllegalArgumentException e) {
          entries.add(url.getPath());
        }
      }
      return String.join(java.io.File.pathSeparator, entries);
    }
    return System.getProperty("java.class.path");
  }

  /**
   * The command line (see the class description); exits with the run's status.
   *
   * @param args the options, then a main class and its arguments, or {@code --} and a command
   */
  public static void main(String[] args) {
    int status;
    try {
      status = run(args);
    } catch (RendezvousException e) {
      System.err.println("[launcher] " + e.getMessage());
      status = 1;
    } catch (IllegalArgumentException e) {
      System.err.println("[launcher] " + e.getMessage());
      System.err.println(USAGE);
      status = 2;
    } catch (IOException e) {
      System.err.println("[launcher] could not start the processes: " + e.getMessage());
      status = 1;
    } catch (InterruptedException e) {
      status = 130;
    }
    System.exit(status);
  }

  private static final String USAGE =
      "usage: Launcher [--nproc-per-node N] [--nnodes M --node-rank R] "
          + "[--master-addr A] [--master-port P] [--threads T] [--jvm-arg ARG]... [--grace-seconds S] "
          + "[--rendezvous-timeout S] [--max-restarts N] "
          + "(MAIN_CLASS [ARG...] | -- COMMAND [ARG...])";

  static int run(String[] args) throws IOException, InterruptedException {
    int nproc = 1;
    int nnodes = 1;
    int nodeRank = 0;
    String addr = "127.0.0.1";
    int port = 0;
    int threads = 0;
    double graceSeconds = 3;
    double rendezvousSeconds = 300;
    int maxRestarts = 0;
    List<String> jvm = new ArrayList<>();
    int i = 0;
    for (; i < args.length && args[i].startsWith("--") && !args[i].equals("--"); i++) {
      String opt = args[i];
      String value = opt.contains("=") ? opt.substring(opt.indexOf('=') + 1) : null;
      String name = opt.contains("=") ? opt.substring(0, opt.indexOf('=')) : opt;
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option " + name + " needs a value");
        }
        value = args[++i];
      }
      switch (name) {
        case "--nproc-per-node", "--nproc_per_node" -> nproc = integer(name, value);
        case "--nnodes" -> nnodes = integer(name, value);
        case "--node-rank", "--node_rank" -> nodeRank = integer(name, value);
        case "--master-addr", "--master_addr" -> addr = value;
        case "--master-port", "--master_port" -> port = integer(name, value);
        case "--threads" -> threads = integer(name, value);
        case "--jvm-arg" -> jvm.add(value);
        case "--grace-seconds" -> graceSeconds = Double.parseDouble(value);
        case "--rendezvous-timeout" -> rendezvousSeconds = Double.parseDouble(value);
        case "--max-restarts", "--max_restarts" -> maxRestarts = integer(name, value);
        default -> throw new IllegalArgumentException("unknown option " + name);
      }
    }
    Launcher launcher =
        new Launcher(nproc)
            .nodes(nnodes, nodeRank)
            .master(addr, port)
            .threads(threads)
            .jvmArgs(jvm)
            .gracePeriod(Duration.ofMillis((long) (graceSeconds * 1000)))
            .rendezvousTimeout(Duration.ofMillis((long) (rendezvousSeconds * 1000)))
            .maxRestarts(maxRestarts);
    if (i < args.length && args[i].equals("--")) {
      List<String> command = Arrays.asList(args).subList(i + 1, args.length);
      return launcher.runCommand(command);
    }
    if (i >= args.length) {
      throw new IllegalArgumentException("no main class or command");
    }
    return launcher.runJava(args[i], Arrays.asList(args).subList(i + 1, args.length));
  }

  private static int integer(String name, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "option " + name + " needs a number, got \"" + value + "\"");
    }
  }
}
