package io.github.adahessian4j.distributed;

import io.github.adahessian4j.ReplicaMean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A group of processes that train one model data-parallel, on libtorch's c10d (the Gloo backend
 * that bytedeco's natives carry; NCCL with the {@code -gpu} natives): each process (rank) holds a
 * replica of the model, trains on its own shard of every batch, and averages the gradients (and
 * AdaHessian's Hessian estimates) with the others before each step, so every replica takes the same
 * step.
 *
 * <pre>{@code
 * try (ProcessGroup group = ProcessGroup.fromEnvironment();   // MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK
 *      AdaHessian opt = AdaHessian.builder().replicaMean(group.replicaMean()).build(model.parameters())) {
 *   group.broadcastParameters(model);                         // every replica starts from rank 0's weights
 *   DistributedSampler sampler = new DistributedSampler(data.size(), group, 0, false);
 *   ...
 * }
 * }</pre>
 *
 * <p><b>Rendezvous.</b> Rank 0 serves a c10d {@code TCPStore} on {@code MASTER_PORT}; every rank
 * connects to it at {@code MASTER_ADDR}, records itself, waits for all the others (up to the
 * rendezvous timeout, naming the ranks that never came), checks that they agree on the world size
 * and that no rank joined twice, and then forms the c10d backend, which connects every pair of
 * ranks directly (Gloo: on the address of the network interface named by {@code
 * GLOO_SOCKET_IFNAME}, else on this host's address, 127.0.0.1 when the rendezvous address is a
 * loopback one). Every rank must call {@link Builder#connect()} at about the same time.
 *
 * <p><b>Collectives.</b> {@link #allReduceMean}, {@link #broadcast} and {@link #barrier} first
 * exchange a small header (one all-reduce of {@code worldSize x 12} int64: the operation, its
 * sequence number, the number of tensors, their elements per dtype and a checksum of their dtypes
 * and shapes): when the ranks disagree, every rank throws a {@link CollectiveException} that
 * describes each rank's tensors, and nothing else is sent. (Gloo itself, handed tensors of
 * different sizes, aborts the whole process from a background thread.) The data then moves in
 * buckets: the tensors are flattened per dtype into buffers of at most {@link
 * Builder#bucketBytes(long)} bytes (a tensor that fills a bucket alone is reduced in place, without
 * a copy), one collective per bucket; a mean is Gloo's SUM (Gloo has no AVG) divided by the world
 * size, so every rank gets the same bits. The group keeps the buckets of the last 4 tensor lists of
 * different dtypes, shapes or devices it was handed (their plan, staging views and native handles),
 * so an optimizer's tensors, new every step but of the same shapes, move without new native objects
 * but the backend's work handles. A collective that fails or times out (a rank died, stalled or
 * stopped calling collectives) throws a {@link CollectiveException} naming the collective, this
 * rank and the timeout, within the timeout; the group is then broken and every later call throws at
 * once: end the process and restart the job from a checkpoint.
 *
 * <p>The methods are synchronized: one collective at a time per group. {@link #close()} frees the
 * backend and the store (rank 0's store serves the rendezvous: close it last, or at the end).
 */
public final class ProcessGroup implements AutoCloseable {
  /** The default bucket size, 25 MiB (DistributedDataParallel's {@code bucket_cap_mb}). */
  public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

  /** The phases of {@link CollectiveTimes}: indexes into {@link #nanos}. */
  private static final int CHECK = 0;

  private static final int PACK = 1;
  private static final int TRANSFER = 2;
  private static final int DIVIDE = 3;
  private static final int UNPACK = 4;
  private static final int TOTAL = 5;
  private static final int PHASES = 6;

  /** The default collective and rendezvous timeout, 10 minutes. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  /** The c10d backends a group can run on. */
  public enum Backend {
    /** Gloo: CPU tensors (the linux-x86_64 natives carry it). */
    GLOO,
    /**
     * NCCL: CUDA tensors, one GPU per rank; needs bytedeco's {@code linux-x86_64-gpu} natives
     * (build with {@code -Pgpu}). Not run by this project (no GPU machine with a JDK).
     */
    NCCL
  }

  private final org.bytedeco.pytorch.Backend backend;
  private final TCPStore store;
  private final boolean owned;
  private final GroupConfig config;
  private final CollectiveHeader header;
  private final CollectiveChannel channel;
  private final BucketCache buckets;
  private final Scalar world;
  private final ReplicaMean replicaMean =
      tensors -> allReduceMean(tensors, "replica mean of an optimizer step");
  private long sequence;
  private long bytesAllReduced;
  private long bytesBroadcast;
  private long timedCalls;
  private final long[] nanos = new long[PHASES];
  private volatile CollectiveException broken;
  private volatile boolean closed;

  private ProcessGroup(
      org.bytedeco.pytorch.Backend backend, TCPStore store, boolean owned, GroupConfig config) {
    this.backend = backend;
    this.store = store;
    this.owned = owned;
    this.config = config;
    this.header =
        new CollectiveHeader(
            config.rank(), config.worldSize(), config.bucketBytes(), config.timeout());
    this.channel =
        new CollectiveChannel(
            backend, config.rank(), config.worldSize(), config.localRank(), config.timeout());
    this.buckets = new BucketCache(config.bucketBytes());
    this.world = C10d.keep(new Scalar((double) config.worldSize()));
  }

  /**
   * A builder: set the rendezvous from the environment or explicitly, then {@link
   * Builder#connect()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Forms the group from the variables torchrun (and {@link Launcher}) set: {@code MASTER_ADDR},
   * {@code MASTER_PORT}, {@code WORLD_SIZE}, {@code RANK} and {@code LOCAL_RANK}, with the default
   * timeout and bucket size. Blocks until every rank has joined.
   *
   * @return the group
   * @throws RendezvousException if the rendezvous fails or times out
   * @throws IllegalArgumentException if a variable is missing or invalid
   */
  public static ProcessGroup fromEnvironment() {
    return builder().fromEnvironment().connect();
  }

  /**
   * A group over a c10d backend the application made itself (for example a {@code
   * org.bytedeco.pytorch.nccl.ProcessGroupNCCL} with options of its own): the same checked,
   * bucketed collectives over it. {@link #close()} does not free {@code backend}.
   *
   * @param backend a formed c10d backend (every rank wraps its own)
   * @param timeout the backend's collective timeout, for messages (it is not changed)
   * @return the group
   */
  public static ProcessGroup wrap(org.bytedeco.pytorch.Backend backend, Duration timeout) {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(timeout, "timeout");
    return new ProcessGroup(
        backend,
        null,
        false,
        new GroupConfig(
            backend.getRank(),
            backend.getSize(),
            -1,
            timeout,
            DEFAULT_BUCKET_BYTES,
            true,
            null,
            -1));
  }

  /**
   * This process's rank, 0 to {@code worldSize() - 1}.
   *
   * @return the rank
   */
  public int rank() {
    return config.rank();
  }

  /**
   * The number of processes in the group.
   *
   * @return the world size
   */
  public int worldSize() {
    return config.worldSize();
  }

  /**
   * This process's rank on its machine ({@code LOCAL_RANK}; the CUDA device it should use), or -1
   * when unknown.
   *
   * @return the local rank
   */
  public int localRank() {
    return config.localRank();
  }

  /**
   * The collective timeout.
   *
   * @return the timeout
   */
  public Duration timeout() {
    return config.timeout();
  }

  /**
   * The largest bucket, in bytes.
   *
   * @return the bucket size
   */
  public long bucketBytes() {
    return config.bucketBytes();
  }

  /**
   * The c10d backend's name ({@code "gloo"} or {@code "nccl"}).
   *
   * @return the backend's name
   */
  public String backendName() {
    return channel.backendName;
  }

  /**
   * The c10d backend itself, for collectives this class does not offer (unchecked: mind Gloo's
   * abort on mismatched tensors).
   *
   * @return the backend
   */
  public org.bytedeco.pytorch.Backend backend() {
    return backend;
  }

  /**
   * The mean over this group for an optimizer's builder ({@link
   * io.github.adahessian4j.OptimizerBuilder#replicaMean(ReplicaMean)}): each step's gradients (and
   * AdaHessian's fresh Hessian estimates) go through {@link #allReduceMean}.
   *
   * @return the replica mean
   */
  public ReplicaMean replicaMean() {
    return replicaMean;
  }

  /**
   * Replaces every tensor with its mean over the ranks, in place: checked, bucketed, summed with
   * Gloo's SUM and divided by the world size (see the class description). Every rank must call it
   * with tensors of the same dtypes and shapes, in the same order.
   *
   * @param tensors contiguous floating-point tensors on one device (they may require grad: they are
   *     written through detached views)
   * @throws CollectiveException if the ranks' tensors differ, or the collective fails or times out
   */
  public void allReduceMean(List<Tensor> tensors) {
    allReduceMean(tensors, null);
  }

  private synchronized void allReduceMean(List<Tensor> tensors, String purpose) {
    collective(CollectiveOp.ALLREDUCE_MEAN, Objects.requireNonNull(tensors, "tensors"), 0, purpose);
  }

  /**
   * Copies rank {@code root}'s tensors into every rank's, in place (checked and bucketed like
   * {@link #allReduceMean}).
   *
   * @param tensors contiguous tensors on one device, the same dtypes and shapes on every rank
   * @param root the rank whose values everyone gets
   * @throws CollectiveException if the ranks' tensors differ, or the collective fails or times out
   */
  public synchronized void broadcast(List<Tensor> tensors, int root) {
    collective(CollectiveOp.BROADCAST, Objects.requireNonNull(tensors, "tensors"), root, null);
  }

  /**
   * Gives every rank rank 0's parameters of {@code module} (all of them, recursively, in {@code
   * parameters()} order) and the buffers named, before the first step, so that the replicas start
   * identical (as DistributedDataParallel does when it is built).
   *
   * @param module the model (the same architecture on every rank)
   * @param bufferNames buffers to broadcast too, by their {@code named_buffers()} names (for
   *     example {@code "bn.running_mean"})
   * @throws IllegalArgumentException if the module has no buffer of a given name
   * @throws CollectiveException if the ranks' tensors differ, or the collective fails or times out
   */
  public void broadcastParameters(Module module, String... bufferNames) {
    Objects.requireNonNull(module, "module");
    List<Tensor> tensors = new ArrayList<>();
    try (PointerScope scope = new PointerScope()) {
      tensors.addAll(Arrays.asList(module.parameters(true).get()));
      if (bufferNames.length > 0) {
        StringTensorDict named = module.named_buffers(true);
        for (String name : bufferNames) {
          if (!named.contains(name)) {
            List<String> known = new ArrayList<>();
            StringVector keys = named.keys();
            for (long k = 0; k < keys.size(); k++) {
              known.add(keys.get(k).getString());
            }
            throw new IllegalArgumentException(
                "the module has no buffer named \"" + name + "\" (its buffers: " + known + ")");
          }
          tensors.add(named.get(name));
        }
      }
      broadcast(tensors, 0);
    }
  }

  /**
   * Gives every rank rank 0's values of {@code params} before the first step, so that the replicas
   * start identical: the form for parameters that are not a {@link Module}'s, such as {@code
   * TorchScriptModel.parameters()} (add the buffers to broadcast, for example from its {@code
   * buffers()}, to the list).
   *
   * @param params the tensors, in the same order on every rank
   * @throws CollectiveException if the ranks' tensors differ, or the collective fails or times out
   */
  public void broadcastParameters(List<Tensor> params) {
    broadcast(Objects.requireNonNull(params, "params"), 0);
  }

  /**
   * Blocks until every rank has called it (one small all-reduce, checked like the others).
   *
   * @throws CollectiveException if it fails or times out
   */
  public synchronized void barrier() {
    collective(CollectiveOp.BARRIER, List.of(), 0, null);
  }

  /**
   * Bytes of tensor data this rank has handed to {@link #allReduceMean} since the group was formed
   * (each all-reduce moves about twice that over the network per rank with a ring algorithm); the
   * headers are not counted.
   *
   * @return the bytes all-reduced
   */
  public synchronized long bytesAllReduced() {
    return bytesAllReduced;
  }

  /**
   * Bytes of tensor data broadcast since the group was formed.
   *
   * @return the bytes broadcast
   */
  public synchronized long bytesBroadcast() {
    return bytesBroadcast;
  }

  /**
   * Backend collectives issued since the group was formed: one per bucket, plus one header per
   * call.
   *
   * @return the count
   */
  public synchronized long collectiveCalls() {
    return channel.collectiveCalls;
  }

  /**
   * Where this rank's collectives spent their time since the group was formed: the check (which
   * holds the wait for the slowest rank), copies into and out of the buckets, the backend's
   * transfers and the division of a mean.
   *
   * @return the cumulative times
   */
  public synchronized CollectiveTimes collectiveTimes() {
    return new CollectiveTimes(
        timedCalls,
        nanos[CHECK],
        nanos[PACK],
        nanos[TRANSFER],
        nanos[DIVIDE],
        nanos[UNPACK],
        nanos[TOTAL]);
  }

  /** Adds the time since {@code since} to {@code phase}; returns the clock's reading. */
  private long charge(int phase, long since) {
    long now = System.nanoTime();
    nanos[phase] += now - since;
    return now;
  }

  /**
   * Whether a collective failed or timed out: the group then refuses every call.
   *
   * @return true once broken
   */
  public boolean isBroken() {
    return broken != null;
  }

  /**
   * Frees the kept buckets and buffers, the backend (unless {@link #wrap wrapped}) and the store.
   * Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    buckets.close();
    world.close();
    channel.close();
    if (owned) {
      backend.close();
    }
    if (store != null) {
      store.close();
    }
  }

  @Override
  public String toString() {
    return "ProcessGroup["
        + channel.backendName
        + ", rank "
        + config.rank()
        + " of "
        + config.worldSize()
        + (config.address() != null ? ", rendezvous " + config.address() + ":" + config.port() : "")
        + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private void collective(CollectiveOp op, List<Tensor> tensors, int root, String purpose) {
    if (closed) {
      throw new IllegalStateException("process group is closed");
    }
    long seq = ++sequence;
    String name = op.label + " #" + seq + (purpose != null ? " (" + purpose + ")" : "");
    CollectiveException earlier = broken;
    if (earlier != null) {
      throw new CollectiveException(
          name
              + " refused on rank "
              + config.rank()
              + " of "
              + config.worldSize()
              + ": the process group is broken by an earlier failure ("
              + earlier.getMessage()
              + ")",
          name,
          config.rank(),
          config.worldSize(),
          config.timeout(),
          false,
          earlier);
    }
    long start = System.nanoTime();
    timedCalls++;
    try (PointerScope scope = new PointerScope()) {
      String problem = header.validate(op, tensors, root);
      TensorShapes shapes = problem == null ? TensorShapes.of(tensors) : null;
      if (config.verify() || op == CollectiveOp.BARRIER) {
        long[][] rows =
            channel.exchange(name, header.encode(op, seq, tensors.size(), shapes, root), tensors);
        header.check(name, rows, problem);
        charge(CHECK, start);
      } else if (problem != null) {
        throw new CollectiveException(
            name
                + " refused on rank "
                + config.rank()
                + " of "
                + config.worldSize()
                + ": "
                + problem
                + " (verifyCollectives is off: the other ranks were not told, and will time out after "
                + config.timeout().toMillis()
                + " ms)",
            name,
            config.rank(),
            config.worldSize(),
            config.timeout(),
            true,
            null);
      }
      if (op != CollectiveOp.BARRIER) {
        payload(op, name, tensors, shapes, root);
      }
    } catch (CollectiveException e) {
      if (!e.isMismatch()) {
        broken = e; // the backend failed or timed out: the group is unusable
      }
      throw e;
    } finally {
      charge(TOTAL, start);
    }
  }

  /**
   * Moves the tensors' buckets: the buckets of a list of these shapes come from {@link
   * BucketCache}, so a call makes no native object but a backend's work handle per bucket (and a
   * view per piece of a tensor that spans buckets, a detached handle per tensor that requires
   * grad).
   */
  private void payload(
      CollectiveOp op, String name, List<Tensor> tensors, TensorShapes shapes, int root) {
    List<BucketCache.Staged> staged = buckets.buckets(shapes, tensors);
    Tensor[] writable = new Tensor[tensors.size()];
    for (int b = 0; b < staged.size(); b++) {
      BucketCache.Staged s = staged.get(b);
      List<BucketPlan.Piece> pieces = s.bucket().pieces();
      long mark = System.nanoTime();
      Tensor data = s.data();
      TensorVector vector = s.vector();
      if (data == null) {
        data = part(tensors, writable, pieces.get(0));
        vector = new TensorVector(data);
      } else {
        for (int i = 0; i < pieces.size(); i++) {
          s.views()[i].copy_(part(tensors, writable, pieces.get(i)));
        }
        mark = charge(PACK, mark);
      }
      int index = b;
      channel.run(
          op,
          vector,
          root,
          () ->
              name
                  + ", bucket "
                  + (index + 1)
                  + " of "
                  + staged.size()
                  + ": "
                  + String.format("%,d", s.bucket().elements())
                  + " "
                  + s.dtype()
                  + " elements");
      mark = charge(TRANSFER, mark);
      if (op == CollectiveOp.ALLREDUCE_MEAN) {
        data.div_(world);
        mark = charge(DIVIDE, mark);
        bytesAllReduced += s.bytes();
      } else {
        bytesBroadcast += s.bytes();
      }
      if (s.data() != null && !(op == CollectiveOp.BROADCAST && config.rank() == root)) {
        for (int i = 0; i < pieces.size(); i++) {
          part(tensors, writable, pieces.get(i)).copy_(s.views()[i]);
        }
        charge(UNPACK, mark);
      }
    }
  }

  /**
   * The elements of {@code piece}, written through: its tensor itself when the piece is all of it
   * (detached, once per call, if it requires grad), else a flat view of them.
   */
  private static Tensor part(List<Tensor> tensors, Tensor[] writable, BucketPlan.Piece piece) {
    int k = piece.tensor();
    if (writable[k] == null) {
      Tensor t = tensors.get(k);
      writable[k] = t.requires_grad() ? t.detach() : t;
    }
    return piece.whole()
        ? writable[k]
        : writable[k].view(-1).narrow(0, piece.offset(), piece.length());
  }

  /**
   * Sets up a {@link ProcessGroup}: where the rendezvous is, this process's rank, the timeouts, the
   * bucket size and the backend; {@link #connect()} forms the group.
   */
  public static final class Builder {
    private Map<String, String> env = System.getenv();
    private String address;
    private int port = -1;
    private int rank = -1;
    private int worldSize = -1;
    private int localRank = -1;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration rendezvousTimeout;
    private long bucketBytes = DEFAULT_BUCKET_BYTES;
    private boolean verify = true;
    private boolean batchScheduling = true;
    private Backend backend = Backend.GLOO;
    private List<String> interfaces;
    private String hostname;

    private Builder() {}

    /**
     * Takes the rendezvous from the process's environment, as torchrun and {@link Launcher} set it:
     * {@code MASTER_ADDR} and {@code MASTER_PORT} (rank 0's address and the port its store listens
     * on), {@code WORLD_SIZE}, {@code RANK}, and {@code LOCAL_RANK} (optional; default {@code
     * RANK}). {@code GLOO_SOCKET_IFNAME} (comma-separated interface names) is read by {@link
     * #connect()} unless {@link #networkInterfaces} was called.
     *
     * @return this builder
     * @throws IllegalArgumentException if a variable is missing or not a number
     */
    public Builder fromEnvironment() {
      return fromEnvironment(System.getenv());
    }

    /**
     * The same from a map of variables (for tests, or a launcher of one's own).
     *
     * @param variables the environment
     * @return this builder
     */
    public Builder fromEnvironment(Map<String, String> variables) {
      this.env = Map.copyOf(Objects.requireNonNull(variables, "variables"));
      String addr = require("MASTER_ADDR");
      int p = number("MASTER_PORT", require("MASTER_PORT"));
      int world = number("WORLD_SIZE", require("WORLD_SIZE"));
      int r = number("RANK", require("RANK"));
      String local = env.get("LOCAL_RANK");
      master(addr, p);
      rank(r, world);
      localRank(local == null || local.isBlank() ? r : number("LOCAL_RANK", local));
      return this;
    }

    private String require(String name) {
      String v = env.get(name);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(
            "environment variable "
                + name
                + " is not set: data-parallel "
                + "processes need MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK (the launcher, "
                + "io.github.adahessian4j.distributed.Launcher, or torchrun sets them)");
      }
      return v.strip();
    }

    private static int number(String name, String value) {
      try {
        return Integer.parseInt(value.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "environment variable " + name + " is not a number: \"" + value + "\"");
      }
    }

    /**
     * The rendezvous: rank 0's address and the port its TCPStore listens on.
     *
     * @param address a host name or IP address every rank can reach
     * @param port 1 to 65535
     * @return this builder
     */
    public Builder master(String address, int port) {
      Objects.requireNonNull(address, "address");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("Invalid port: " + port + " (must be 1 to 65535)");
      }
      this.address = address;
      this.port = port;
      return this;
    }

    /**
     * This process's rank and the number of processes.
     *
     * @param rank 0 to {@code worldSize - 1}
     * @param worldSize at least 1
     * @return this builder
     */
    public Builder rank(int rank, int worldSize) {
      if (worldSize < 1) {
        throw new IllegalArgumentException(
            "Invalid world size: " + worldSize + " (must be at least 1)");
      }
      if (rank < 0 || rank >= worldSize) {
        throw new IllegalArgumentException(
            "Invalid rank: " + rank + " (must be in [0, " + worldSize + "))");
      }
      this.rank = rank;
      this.worldSize = worldSize;
      return this;
    }

    /**
     * This process's rank on its machine (the CUDA device it uses with NCCL).
     *
     * @param localRank at least 0
     * @return this builder
     */
    public Builder localRank(int localRank) {
      if (localRank < 0) {
        throw new IllegalArgumentException("Invalid local rank: " + localRank);
      }
      this.localRank = localRank;
      return this;
    }

    /**
     * How long a collective may wait for the other ranks before it fails (default 10 minutes; also
     * the rendezvous timeout unless {@link #rendezvousTimeout} is set). Set it above the longest
     * time one rank may spend between collectives (a step, an evaluation, a checkpoint).
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * How long {@link #connect()} waits for every rank to join (default: the collective timeout).
     * Count the slowest rank's start-up (a JVM loading libtorch takes seconds).
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder rendezvousTimeout(Duration timeout) {
      this.rendezvousTimeout = positive(timeout, "rendezvous timeout");
      return this;
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("Invalid " + what + ": " + d + " (must be positive)");
      }
      return d;
    }

    /**
     * The largest bucket in bytes (default 25 MiB); every rank must use the same.
     *
     * @param bytes at least 1024
     * @return this builder
     */
    public Builder bucketBytes(long bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException(
            "Invalid bucket size: " + bytes + " bytes (must be at least 1024)");
      }
      this.bucketBytes = bytes;
      return this;
    }

    /**
     * Whether each collective first checks that the ranks hand over the same tensors (default true:
     * one small all-reduce more per call). Off, a mismatch is not detected: Gloo then aborts the
     * process or the collective times out.
     *
     * @param verify whether to check
     * @return this builder
     */
    public Builder verifyCollectives(boolean verify) {
      this.verify = verify;
      return this;
    }

    /**
     * Whether Gloo's threads (its network loop and the group's workers) run under Linux's {@code
     * SCHED_BATCH} policy (default true; other threads keep theirs). A thread under it that wakes
     * up does not preempt the thread running on its core. Where Gloo's threads share a core (a rank
     * pinned to one core, or more busy threads than cores), the network loop, woken by a message
     * while a worker holds that connection's lock, otherwise preempts the worker, fails to take the
     * lock and polls until its time slice ends. On two test hosts with one core each
     * (docs/multi-host.md), a 1 KiB all-reduce took 0.47-0.63 ms at the median and 3.5-3.8 ms at
     * the 75th percentile without the policy, and 0.20-0.21 ms and 0.22-0.24 ms with it. Off,
     * Gloo's threads keep the policy of the thread that calls {@link #connect()}, as they do where
     * Linux refuses the call (a seccomp profile that forbids it, say). Gloo only; elsewhere than
     * Linux it does nothing.
     *
     * @param batch whether to set it
     * @return this builder
     */
    public Builder glooBatchScheduling(boolean batch) {
      this.batchScheduling = batch;
      return this;
    }

    /**
     * The c10d backend (default {@link Backend#GLOO}).
     *
     * @param backend the backend
     * @return this builder
     */
    public Builder backend(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      return this;
    }

    /**
     * The network interfaces Gloo connects the ranks over (as {@code GLOO_SOCKET_IFNAME}, which it
     * replaces), for example {@code "eth0"}.
     *
     * @param names interface names
     * @return this builder
     */
    public Builder networkInterfaces(String... names) {
      this.interfaces = List.of(names);
      return this;
    }

    /**
     * The address of this machine that Gloo listens on for the other ranks (instead of an interface
     * or the host's own address).
     *
     * @param hostname a host name or IP address of this machine
     * @return this builder
     */
    public Builder hostname(String hostname) {
      this.hostname = Objects.requireNonNull(hostname, "hostname");
      return this;
    }

    /**
     * Forms the group: rendezvous, checks, the backend's connections. Blocks until every rank has
     * joined, or the rendezvous timeout.
     *
     * @return the group
     * @throws RendezvousException if the rendezvous fails or times out
     * @throws IllegalStateException if the rendezvous or the rank was not set
     */
    public ProcessGroup connect() {
      if (address == null || rank < 0) {
        throw new IllegalStateException(
            "set the rendezvous first: fromEnvironment(), or master(address, "
                + "port) and rank(rank, worldSize)");
      }
      Loader.load(torch.class);
      Duration rdv = rendezvousTimeout != null ? rendezvousTimeout : timeout;
      long deadline = System.nanoTime() + rdv.toNanos();
      Rendezvous rendezvous = new Rendezvous(address, port, rank, worldSize);
      Backends.GlooChoice gloo =
          backend == Backend.GLOO
              ? Backends.GlooChoice.of(env, interfaces, hostname, address)
              : null;
      String self =
          Rendezvous.hostName()
              + " pid "
              + ProcessHandle.current().pid()
              + (gloo != null ? ", Gloo on " + gloo.address() : "");
      TCPStore store = rendezvous.openStore(rdv);
      Map<Integer, String> peers;
      org.bytedeco.pytorch.Backend b;
      try {
        peers = rendezvous.join(store, deadline, rdv, self);
        b = gloo == null ? Backends.nccl(rendezvous, store, timeout) : null;
      } catch (RuntimeException e) {
        store.close();
        throw e;
      }
      if (gloo != null) {
        b =
            Backends.gloo(
                rendezvous,
                store,
                gloo,
                peers,
                deadline,
                rdv,
                batchScheduling); // closes it on failure
      }
      try {
        if (backend == Backend.GLOO) {
          b.setTimeout(C10d.millis(timeout));
        }
        return new ProcessGroup(
            b,
            store,
            true,
            new GroupConfig(
                rank, worldSize, localRank, timeout, bucketBytes, verify, address, port));
      } catch (RuntimeException e) {
        b.close();
        store.close();
        throw e;
      }
    }
  }
}
