package io.github.adahessian4j.distributed;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/** Every call into the c10d backend: the header exchange and one collective per bucket. */
final class CollectiveChannel {
  private static final int H = CollectiveHeader.H;

  private final org.bytedeco.pytorch.Backend backend;
  private final int rank;
  private final int worldSize;
  private final int localRank;
  private final Duration timeout;
  final String backendName;
  private final AllreduceOptions sumOptions;
  private final Tensor table;
  private final LongPointer cells;
  private final TensorVector tableVector;
  long collectiveCalls;

  CollectiveChannel(
      org.bytedeco.pytorch.Backend backend,
      int rank,
      int worldSize,
      int localRank,
      Duration timeout) {
    this.backend = backend;
    this.rank = rank;
    this.worldSize = worldSize;
    this.localRank = localRank;
    this.timeout = timeout;
    String name;
    try (PointerScope scope = new PointerScope()) {
      name = backend.getBackendName().getString();
    }
    this.backendName = name;
    AllreduceOptions o = new AllreduceOptions();
    o.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
    o.timeout(new Milliseconds(timeout.toMillis()));
    this.sumOptions = C10d.keep(o);
    this.table = C10d.keep(AbstractTensor.create(new long[worldSize * H], worldSize, H).clone());
    this.cells = new LongPointer(table.data_ptr()).capacity((long) worldSize * H);
    this.tableVector = C10d.keep(new TensorVector(table));
  }

  /**
   * One SUM all-reduce of a {@code worldSize x H} int64 tensor holding each rank's header in its
   * row (the group's own table, rewritten every call).
   */
  long[][] exchange(String name, long[] mine, List<Tensor> tensors) {
    long[] all = new long[worldSize * H];
    System.arraycopy(mine, 0, all, rank * H, H);
    cells.put(all);
    Supplier<String> what = () -> name + ", header";
    if (backendName.equals("nccl")) {
      org.bytedeco.pytorch.Device cuda =
          tensors.isEmpty() || !tensors.get(0).is_cuda()
              ? new org.bytedeco.pytorch.Device("cuda:" + Math.max(localRank, 0))
              : tensors.get(0).device();
      Tensor onDevice = table.to(cuda, torch.ScalarType.Long);
      run(CollectiveOp.ALLREDUCE_MEAN, new TensorVector(onDevice), 0, what);
      table.copy_(onDevice);
    } else {
      run(CollectiveOp.ALLREDUCE_MEAN, tableVector, 0, what);
    }
    cells.get(all);
    long[][] rows = new long[worldSize][H];
    for (int r = 0; r < worldSize; r++) {
      System.arraycopy(all, r * H, rows[r], 0, H);
    }
    return rows;
  }

  /**
   * One backend collective on one tensor, waited for; a failure throws, naming a timeout or a
   * broken connection and {@code what} failed (described only then).
   */
  void run(CollectiveOp op, TensorVector data, int root, Supplier<String> what) {
    long start = System.nanoTime();
    try {
      Work work;
      if (op == CollectiveOp.BROADCAST) {
        BroadcastOptions o = new BroadcastOptions();
        o.rootRank(root);
        o.timeout(new Milliseconds(timeout.toMillis()));
        work = backend.broadcast(data, o);
      } else {
        work = backend.allreduce(data, sumOptions);
      }
      collectiveCalls++;
      work._wait();
    } catch (RuntimeException e) {
      long ms = (System.nanoTime() - start) / 1_000_000;
      String cause = C10d.firstLine(e.getMessage());
      boolean timedOut =
          cause.toLowerCase(java.util.Locale.ROOT).contains("timed out")
              || cause.toLowerCase(java.util.Locale.ROOT).contains("timeout");
      String described = what.get();
      CollectiveException failure =
          new CollectiveException(
              described
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
              described,
              rank,
              worldSize,
              timeout,
              false,
              e);
      throw failure;
    }
  }

  void close() {
    tableVector.close();
    table.close();
    sumOptions.close();
  }
}
