package io.github.adahessian4j.distributed;

/** The collectives a group runs, with their codes in the collective header. */
enum CollectiveOp {
  ALLREDUCE_MEAN(1, "allreduce (mean)"),
  BROADCAST(2, "broadcast"),
  BARRIER(3, "barrier");

  final int code;
  final String label;

  CollectiveOp(int code, String label) {
    this.code = code;
    this.label = label;
  }

  static String label(long code) {
    for (CollectiveOp op : values()) {
      if (op.code == code) {
        return op.label;
      }
    }
    return "operation " + code;
  }
}
