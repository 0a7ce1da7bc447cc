package io.github.adahessian4j.distributed;

import io.github.adahessian4j.ReplicaMean;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
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
 * size, so every rank gets the same bits. A collective that fails or times out (a rank died,
 * stalled or stopped calling collectives) throws a {@link CollectiveException} naming the
 * collective, this rank and the timeout, within the timeout; the group is then broken and every
 * later call throws at once: end the process and restart the job from a checkpoint.
 *
 * <p>The methods are synchronized: one collective at a time per group. {@link #close()} frees the
 * backend and the store (rank 0's store serves the rendezvous: close it last, or at the end).
 */
public final class ProcessGroup implements AutoCloseable {
  /** The default bucket size, 25 MiB (DistributedDataParallel's {@code bucket_cap_mb}). */
  public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

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

  private static final String KEY = "adahessian4j/";
  private static final int H = 12;
  private static final int OP = 0;
  private static final int SEQ = 1;
  private static final int COUNT = 2;
  private static final int NUMEL = 3;
  private static final int SIGNATURE = 4;
  private static final int ROOT = 5;
  private static final int BUCKET = 6;
  private static final int INVALID = 7;
  private static final int F64 = 8;
  private static final int F32 = 9;
  private static final int HALF = 10;
  private static final int OTHER = 11;

  private enum Op {
    ALLREDUCE_MEAN(1, "allreduce (mean)"),
    BROADCAST(2, "broadcast"),
    BARRIER(3, "barrier");

    final int code;
    final String label;

    Op(int code, String label) {
      this.code = code;
      this.label = label;
    }

    static String label(long code) {
      for (Op op : values()) {
        if (op.code == code) {
          return op.label;
        }
      }
      return "operation " + code;
    }
  }

  private final org.bytedeco.pytorch.Backend backend;
  private final TCPStore store;
  private final boolean owned;
  private final int rank;
  private final int worldSize;
  private final int localRank;
  private final Duration timeout;
  private final long bucketBytes;
  private final boolean verify;
  private final String address;
  private final int port;
  private final String backendName;
  private final AllreduceOptions sumOptions;
  private final Map<String, Tensor> buffers = new HashMap<>();
  private final ReplicaMean replicaMean =
      tensors -> allReduceMean(tensors, "replica mean of an optimizer step");
  private long sequence;
  private long bytesAllReduced;
  private long bytesBroadcast;
  private long collectiveCalls;
  private volatile CollectiveException broken;
  private volatile boolean closed;

  private ProcessGroup(
      org.bytedeco.pytorch.Backend backend,
      TCPStore store,
      boolean owned,
      int rank,
      int worldSize,
      int localRank,
      Duration timeout,
      long bucketBytes,
      boolean verify,
      String address,
      int port) {
    this.backend = backend;
    this.store = store;
    this.owned = owned;
    this.rank = rank;
    this.worldSize = worldSize;
    this.localRank = localRank;
    this.timeout = timeout;
    this.bucketBytes = bucketBytes;
    this.verify = verify;
    this.address = address;
    this.port = port;
    String name;
    try (PointerScope scope = new PointerScope()) {
      name = backend.getBackendName().getString();
    }
    this.backendName = name;
    AllreduceOptions o = new AllreduceOptions();
    o.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
    o.timeout(new Milliseconds(timeout.toMillis()));
    this.sumOptions = keep(o);
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
        backend.getRank(),
        backend.getSize(),
        -1,
        timeout,
        DEFAULT_BUCKET_BYTES,
        true,
        null,
        -1);
  }

  /**
   * This process's rank, 0 to {@code worldSize() - 1}.
   *
   * @return the rank
   */
  public int rank() {
    return rank;
  }

  /**
   * The number of processes in the group.
   *
   * @return the world size
   */
  public int worldSize() {
    return worldSize;
  }

  /**
   * This process's rank on its machine ({@code LOCAL_RANK}; the CUDA device it should use), or -1
   * when unknown.
   *
   * @return the local rank
   */
  public int localRank() {
    return localRank;
  }

  /**
   * The collective timeout.
   *
   * @return the timeout
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * The largest bucket, in bytes.
   *
   * @return the bucket size
   */
  public long bucketBytes() {
    return bucketBytes;
  }

  /**
   * The c10d backend's name ({@code "gloo"} or {@code "nccl"}).
   *
   * @return the backend's name
   */
  public String backendName() {
    return backendName;
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
    collective(Op.ALLREDUCE_MEAN, Objects.requireNonNull(tensors, "tensors"), 0, purpose);
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
    collective(Op.BROADCAST, Objects.requireNonNull(tensors, "tensors"), root, null);
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
    collective(Op.BARRIER, List.of(), 0, null);
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
    return collectiveCalls;
  }

  /**
   * Whether a collective failed or timed out: the group then refuses every call.
   *
   * @return true once broken
   */
  public boolean isBroken() {
    return broken != null;
  }

  /** Frees the buffers, the backend (unless {@link #wrap wrapped}) and the store. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Tensor t : buffers.values()) {
      t.close();
    }
    buffers.clear();
    sumOptions.close();
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
        + backendName
        + ", rank "
        + rank
        + " of "
        + worldSize
        + (address != null ? ", rendezvous " + address + ":" + port : "")
        + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private void collective(Op op, List<Tensor> tensors, int root, String purpose) {
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
              + rank
              + " of "
              + worldSize
              + ": the process group is broken by an earlier failure ("
              + earlier.getMessage()
              + ")",
          name,
          rank,
          worldSize,
          timeout,
          false,
          earlier);
    }
    try (PointerScope scope = new PointerScope()) {
      String problem = validate(op, tensors, root);
      if (verify || op == Op.BARRIER) {
        long[][] rows =
            exchangeHeaders(name, header(op, seq, tensors, root, problem != null), tensors);
        checkHeaders(name, rows, problem);
      } else if (problem != null) {
        throw new CollectiveException(
            name
                + " refused on rank "
                + rank
                + " of "
                + worldSize
                + ": "
                + problem
                + " (verifyCollectives is off: the other ranks were not told, and will time out after "
                + timeout.toMillis()
                + " ms)",
            name,
            rank,
            worldSize,
            timeout,
            true,
            null);
      }
      if (op != Op.BARRIER) {
        payload(op, name, tensors, root);
      }
    }
  }

  /** What is wrong with this rank's input, or null. */
  private String validate(Op op, List<Tensor> tensors, int root) {
    if (root < 0 || root >= worldSize) {
      return "root rank " + root + " is not in [0, " + worldSize + ")";
    }
    String device = null;
    for (int k = 0; k < tensors.size(); k++) {
      Tensor t = tensors.get(k);
      if (t == null || t.isNull() || !t.defined()) {
        return "tensor " + k + " is null or undefined";
      }
      if (t.is_sparse() || t.layout().value != torch.Layout.Strided.value) {
        return "tensor " + k + " is not a dense (strided) tensor";
      }
      if (!t.is_contiguous()) {
        return "tensor " + k + " is not contiguous";
      }
      if (op == Op.ALLREDUCE_MEAN && !t.is_floating_point()) {
        return "tensor " + k + " is " + t.scalar_type() + ": a mean needs a floating dtype";
      }
      String d = deviceOf(t);
      if (device == null) {
        device = d;
      } else if (!device.equals(d)) {
        return "tensor " + k + " is on " + d + ", tensor 0 on " + device + ": one device per call";
      }
    }
    return null;
  }

  private long[] header(Op op, long seq, List<Tensor> tensors, int root, boolean invalid) {
    long[] h = new long[H];
    h[OP] = op.code;
    h[SEQ] = seq;
    h[COUNT] = tensors.size();
    h[ROOT] = root;
    h[BUCKET] = bucketBytes;
    h[INVALID] = invalid ? 1 : 0;
    long signature = 0xcbf29ce484222325L;
    if (!invalid) {
      for (Tensor t : tensors) {
        long numel = t.numel();
        h[NUMEL] += numel;
        int dtype = t.scalar_type().value;
        h[
                dtype == torch.ScalarType.Double.value
                    ? F64
                    : dtype == torch.ScalarType.Float.value
                        ? F32
                        : dtype == torch.ScalarType.Half.value
                                || dtype == torch.ScalarType.BFloat16.value
                            ? HALF
                            : OTHER] +=
            numel;
        signature = mix(signature, dtype);
        signature = mix(signature, t.dim());
        for (int d = 0; d < t.dim(); d++) {
          signature = mix(signature, t.size(d));
        }
      }
    }
    h[SIGNATURE] = signature;
    return h;
  }

  private static long mix(long h, long v) {
    h ^= v;
    h *= 0x100000001b3L;
    return h ^ (h >>> 29);
  }

  /**
   * One SUM all-reduce of a {@code worldSize x H} int64 tensor holding each rank's header in its
   * row.
   */
  private long[][] exchangeHeaders(String name, long[] mine, List<Tensor> tensors) {
    long[] all = new long[worldSize * H];
    System.arraycopy(mine, 0, all, rank * H, H);
    Tensor table = AbstractTensor.create(all, worldSize, H).clone();
    if (backendName.equals("nccl")) {
      org.bytedeco.pytorch.Device cuda =
          tensors.isEmpty() || !tensors.get(0).is_cuda()
              ? new org.bytedeco.pytorch.Device("cuda:" + Math.max(localRank, 0))
              : tensors.get(0).device();
      table = table.to(cuda, torch.ScalarType.Long);
    }
    run(Op.ALLREDUCE_MEAN, table, 0, name + ", header");
    Tensor host = table.cpu().contiguous();
    LongPointer data = new LongPointer(host.data_ptr()).capacity((long) worldSize * H);
    long[][] rows = new long[worldSize][H];
    for (int r = 0; r < worldSize; r++) {
      for (int f = 0; f < H; f++) {
        rows[r][f] = data.get((long) r * H + f);
      }
    }
    return rows;
  }

  private void checkHeaders(String name, long[][] rows, String problem) {
    List<Integer> invalid = new ArrayList<>();
    boolean differ = false;
    for (int r = 0; r < worldSize; r++) {
      if (rows[r][INVALID] != 0) {
        invalid.add(r);
      }
      for (int f : new int[] {OP, SEQ, COUNT, NUMEL, SIGNATURE, ROOT, BUCKET}) {
        differ |= rows[r][f] != rows[0][f];
      }
    }
    if (invalid.isEmpty() && !differ) {
      return;
    }
    StringBuilder m =
        new StringBuilder(name)
            .append(" refused on rank ")
            .append(rank)
            .append(" of ")
            .append(worldSize)
            .append(", nothing was sent: ");
    if (!invalid.isEmpty()) {
      m.append(invalid.size() == 1 ? "rank " + invalid.get(0) : "ranks " + invalid)
          .append(" could not take part (")
          .append(problem != null ? "here: " + problem : "see its own message")
          .append(")");
    }
    if (differ) {
      if (!invalid.isEmpty()) {
        m.append("; ");
      }
      m.append("the ranks disagree: ").append(describeRows(rows));
      if (differs(rows, OP)) {
        m.append(". The ranks called different collectives");
      } else if (differs(rows, SEQ)) {
        m.append(
            ". The ranks are at different collectives: one called a collective the others did not");
      } else if (differs(rows, COUNT) || differs(rows, NUMEL) || differs(rows, SIGNATURE)) {
        m.append(
            ". Every rank must hand over the same tensors (dtypes, shapes, order). In data-parallel "
                + "training this happens when a parameter gets a gradient on some ranks only (a layer that "
                + "part of the data does not use, a data-dependent branch): use every parameter in every "
                + "step on every rank (for example add 0 * p.sum() to the loss), or leave such parameters "
                + "out of the optimizer");
      } else if (differs(rows, ROOT)) {
        m.append(". The ranks name different roots");
      } else {
        m.append(". The ranks' groups were built with different bucket sizes");
      }
    }
    throw new CollectiveException(m.toString(), name, rank, worldSize, timeout, true, null);
  }

  private boolean differs(long[][] rows, int field) {
    for (long[] row : rows) {
      if (row[field] != rows[0][field]) {
        return true;
      }
    }
    return false;
  }

  /** "ranks 0, 2: allreduce (mean) #4 of 8 tensors, 1,234 elements (float64); rank 1: ..." */
  private String describeRows(long[][] rows) {
    Map<String, List<Integer>> byText = new LinkedHashMap<>();
    for (int r = 0; r < worldSize; r++) {
      long[] h = rows[r];
      StringBuilder s = new StringBuilder(Op.label(h[OP])).append(" #").append(h[SEQ]);
      if (h[INVALID] != 0) {
        s.append(" of invalid tensors");
      } else if (h[OP] != Op.BARRIER.code) {
        s.append(" of ")
            .append(h[COUNT])
            .append(h[COUNT] == 1 ? " tensor, " : " tensors, ")
            .append(String.format("%,d", h[NUMEL]))
            .append(" elements");
        List<String> kinds = new ArrayList<>();
        String[] names = {"float64", "float32", "float16/bfloat16", "other dtypes"};
        for (int f = F64; f <= OTHER; f++) {
          if (h[f] != 0) {
            kinds.add(names[f - F64] + " " + String.format("%,d", h[f]));
          }
        }
        if (!kinds.isEmpty()) {
          s.append(" (").append(String.join(", ", kinds)).append(")");
        }
        if (h[OP] == Op.BROADCAST.code) {
          s.append(" from rank ").append(h[ROOT]);
        }
        s.append(", shape checksum ")
            .append(
                Long.toHexString(h[SIGNATURE])
                    .substring(0, Math.min(8, Long.toHexString(h[SIGNATURE]).length())));
      }
      if (h[BUCKET] != bucketBytes) {
        s.append(", buckets of ").append(h[BUCKET]).append(" bytes");
      }
      byText.computeIfAbsent(s.toString(), k -> new ArrayList<>()).add(r);
    }
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, List<Integer>> e : byText.entrySet()) {
      if (out.length() > 0) {
        out.append("; ");
      }
      List<Integer> ranks = e.getValue();
      out.append(ranks.size() == 1 ? "rank " + ranks.get(0) : "ranks " + ranks)
          .append(": ")
          .append(e.getKey());
    }
    return out.toString();
  }

  /**
   * A piece of a bucket: elements [offset, offset + length) of a flat tensor, at {@code at} in the
   * bucket.
   */
  private record Piece(Tensor flat, long offset, long length, long at) {}

  private record Bucket(String key, Tensor like, List<Piece> pieces, long elements) {}

  private void payload(Op op, String name, List<Tensor> tensors, int root) {
    Map<String, List<Tensor>> groups = new LinkedHashMap<>();
    for (Tensor t : tensors) {
      if (t.numel() > 0) {
        groups
            .computeIfAbsent(t.scalar_type() + "@" + deviceOf(t), k -> new ArrayList<>())
            .add(t.detach().view(-1));
      }
    }
    List<Bucket> plan = new ArrayList<>();
    for (Map.Entry<String, List<Tensor>> g : groups.entrySet()) {
      List<Tensor> flats = g.getValue();
      long capacity = Math.max(1, bucketBytes / torch.elementSize(flats.get(0).scalar_type()));
      List<Piece> pieces = new ArrayList<>();
      long filled = 0;
      for (Tensor flat : flats) {
        long offset = 0;
        long numel = flat.numel();
        while (offset < numel) {
          long take = Math.min(numel - offset, capacity - filled);
          pieces.add(new Piece(flat, offset, take, filled));
          filled += take;
          offset += take;
          if (filled == capacity) {
            plan.add(new Bucket(g.getKey(), flat, pieces, filled));
            pieces = new ArrayList<>();
            filled = 0;
          }
        }
      }
      if (filled > 0) {
        plan.add(new Bucket(g.getKey(), flats.get(0), pieces, filled));
      }
    }
    Scalar world = new Scalar((double) worldSize);
    for (int b = 0; b < plan.size(); b++) {
      Bucket bucket = plan.get(b);
      String what =
          name
              + ", bucket "
              + (b + 1)
              + " of "
              + plan.size()
              + ": "
              + String.format("%,d", bucket.elements())
              + " "
              + bucket.like().scalar_type()
              + " elements";
      Tensor data;
      boolean copied = bucket.pieces().size() > 1;
      if (!copied) {
        Piece p = bucket.pieces().get(0);
        data =
            p.offset() == 0 && p.length() == p.flat().numel()
                ? p.flat()
                : p.flat().narrow(0, p.offset(), p.length());
      } else {
        data = buffer(bucket).narrow(0, 0, bucket.elements());
        for (Piece p : bucket.pieces()) {
          data.narrow(0, p.at(), p.length()).copy_(p.flat().narrow(0, p.offset(), p.length()));
        }
      }
      run(op, data, root, what);
      long bytes = bucket.elements() * torch.elementSize(bucket.like().scalar_type());
      if (op == Op.ALLREDUCE_MEAN) {
        data.div_(world);
        bytesAllReduced += bytes;
      } else {
        bytesBroadcast += bytes;
      }
      if (copied && !(op == Op.BROADCAST && rank == root)) {
        for (Piece p : bucket.pieces()) {
          p.flat().narrow(0, p.offset(), p.length()).copy_(data.narrow(0, p.at(), p.length()));
        }
      }
    }
  }

  /** The reusable staging buffer of a dtype and device, at least as large as {@code bucket}. */
  private Tensor buffer(Bucket bucket) {
    Tensor buf = buffers.get(bucket.key());
    if (buf == null || buf.numel() < bucket.elements()) {
      if (buf != null) {
        buf.close();
      }
      buf = keep(bucket.like().new_empty(bucket.elements())); // the first bucket is the largest
      buffers.put(bucket.key(), buf);
    }
    return buf;
  }

  /** One backend collective on one tensor, waited for; a failure breaks the group. */
  private void run(Op op, Tensor data, int root, String what) {
    long start = System.nanoTime();
    try {
      Work work;
      if (op == Op.BROADCAST) {
        BroadcastOptions o = new BroadcastOptions();
        o.rootRank(root);
        o.timeout(new Milliseconds(timeout.toMillis()));
        work = backend.broadcast(new TensorVector(data), o);
      } else {
        work = backend.allreduce(new TensorVector(data), sumOptions);
      }
      collectiveCalls++;
      work._wait();
    } catch (RuntimeException e) {
      long ms = (System.nanoTime() - start) / 1_000_000;
      String cause = firstLine(e.getMessage());
      boolean timedOut =
          cause.toLowerCase(java.util.Locale.ROOT).contains("timed out")
              || cause.toLowerCase(java.util.Locale.ROOT).contains("timeout");
      CollectiveException failure =
          new CollectiveException(
              what
                  + " failed on rank "
                  + rank
                  + " of "
                  + worldSize
                  + " after "
                  + ms
                  + " ms (collective timeout "
                  + timeout.toMillis()
                  + " ms): "
                  + (timedOut
                      ? "timed out: another rank stopped calling collectives, stalled or died"
                      : "a connection to another rank broke: that rank probably died")
                  + " ["
                  + backendName
                  + ": "
                  + cause
                  + "]. The process group is unusable now: end this "
                  + "process and restart the job (from a checkpoint)",
              what,
              rank,
              worldSize,
              timeout,
              false,
              e);
      broken = failure;
      throw failure;
    }
  }

  static String firstLine(String message) {
    if (message == null) {
      return "no message";
    }
    String line = message.strip();
    int nl = line.indexOf('\n');
    if (nl >= 0) {
      line = line.substring(0, nl).strip();
    }
    if (line.startsWith("[") && line.indexOf("] ") > 0) {
      line = line.substring(line.indexOf("] ") + 2); // Gloo's "[/path/to/file.cc:78] " prefix
    }
    return line;
  }

  private static String deviceOf(Tensor t) {
    try (org.bytedeco.pytorch.Device d = t.device()) {
      return d.str().getString();
    }
  }

  /** Takes {@code p} out of the innermost {@link PointerScope}: the group keeps it. */
  private static <P extends Pointer> P keep(P p) {
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      p.retainReference();
      scope.detach(p);
    }
    return p;
  }

  private static Milliseconds millis(Duration d) {
    return new Milliseconds(Math.max(1, d.toMillis()));
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
      String where = address + ":" + port;
      TCPStore store;
      try (PointerScope scope = new PointerScope()) {
        TCPStoreOptions so = new TCPStoreOptions();
        so.port((short) port).isServer(rank == 0).waitWorkers(false).timeout(millis(rdv));
        store = keep(new TCPStore(address, so));
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
      try {
        join(store, deadline, rdv);
        org.bytedeco.pytorch.Backend b =
            backend == Backend.GLOO ? gloo(store, deadline, rdv) : nccl(store);
        if (backend == Backend.GLOO) {
          b.setTimeout(millis(timeout));
        }
        return new ProcessGroup(
            b,
            store,
            true,
            rank,
            worldSize,
            localRank,
            timeout,
            bucketBytes,
            verify,
            address,
            port);
      } catch (RuntimeException e) {
        store.close();
        throw e;
      }
    }

    private RendezvousException failure(String message, Duration rdv, Throwable cause) {
      String detail = cause == null ? "" : " [" + firstLine(cause.getMessage()) + "]";
      return new RendezvousException(message + detail, address, port, rank, rdv, cause);
    }

    /** Records this rank in the store, waits for every rank, checks world sizes and duplicates. */
    private void join(TCPStore store, long deadline, Duration rdv) {
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
          store._wait(keys, millis(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))));
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

    private org.bytedeco.pytorch.Backend gloo(TCPStore store, long deadline, Duration rdv) {
      List<String> names = interfaces;
      String fromEnv = env.get("GLOO_SOCKET_IFNAME");
      if (names == null && fromEnv != null && !fromEnv.isBlank()) {
        names = List.of(fromEnv.strip().split("\\s*,\\s*"));
      }
      String device;
      try (PointerScope scope = new PointerScope()) {
        GlooDeviceVector devices = new GlooDeviceVector();
        if (names != null && !names.isEmpty()) {
          for (String n : names) {
            devices.push_back(ProcessGroupGloo.createDeviceForInterface(n));
          }
          device = "interface " + String.join(",", names);
        } else if (hostname != null || isLoopback(address)) {
          String h = hostname != null ? hostname : "127.0.0.1";
          devices.push_back(ProcessGroupGloo.createDeviceForHostname(h));
          device = "address " + h;
        } else {
          devices.push_back(ProcessGroupGloo.createDefaultDevice());
          device = "this host's address (" + hostName() + ")";
        }
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        ProcessGroupGloo.Options o = new ProcessGroupGloo.Options(new Milliseconds(left));
        o.devices(devices);
        try {
          return keep(new ProcessGroupGloo(store, rank, worldSize, o));
        } catch (RuntimeException e) {
          throw failure(
              "rank "
                  + rank
                  + " of "
                  + worldSize
                  + " could not connect Gloo to the other ranks on "
                  + device
                  + " within the rendezvous timeout of "
                  + rdv.toMillis()
                  + " ms (rendezvous "
                  + address
                  + ":"
                  + port
                  + "): across machines every rank must reach every other one on that "
                  + "address; set GLOO_SOCKET_IFNAME to the interface of the network they share",
              rdv,
              e);
        }
      } catch (RuntimeException e) {
        if (e instanceof RendezvousException) {
          throw e;
        }
        throw failure(
            "rank "
                + rank
                + " of "
                + worldSize
                + " could not make its Gloo device (interfaces "
                + names
                + ", hostname "
                + hostname
                + ")",
            rdv,
            e);
      }
    }

    private org.bytedeco.pytorch.Backend nccl(TCPStore store) {
      try {
        Loader.load(org.bytedeco.pytorch.global.torch_nccl.class);
      } catch (Throwable t) {
        throw failure(
            "the NCCL backend needs bytedeco's linux-x86_64-gpu natives of org.bytedeco:pytorch "
                + "(build with -Pgpu), which are not on the class path",
            timeout,
            t);
      }
      try (PointerScope scope = new PointerScope()) {
        org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options o =
            new org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options();
        o.timeout(millis(timeout));
        return keep(new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(store, rank, worldSize, o));
      } catch (RuntimeException e) {
        throw failure(
            "rank " + rank + " of " + worldSize + " could not create its NCCL process group",
            timeout,
            e);
      }
    }

    private static boolean isLoopback(String address) {
      try {
        return InetAddress.getByName(address).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }

    private static String hostName() {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        return "unknown host";
      }
    }
  }
}
