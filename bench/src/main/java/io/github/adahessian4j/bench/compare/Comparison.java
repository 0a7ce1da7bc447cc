package io.github.adahessian4j.bench.compare;

import java.util.List;
import java.util.Map;

/**
 * All runs of one comparison. {@code main} holds each optimizer's detailed run at its default
 * learning rate and the default batch size; {@code lrGrid} its final validation accuracy at 0.1x,
 * 1x and 10x that learning rate; {@code memory} its training memory, measured in a process of its
 * own; {@code batchGrid} at each batch size (the main run fills the default's place in both grids).
 */
record Comparison(
    Protocol protocol,
    Map<OptimizerKind, TrainingRun.Result> main,
    Map<OptimizerKind, MemoryProbe.Usage> memory,
    Map<OptimizerKind, List<TrainingRun.Result>> lrGrid,
    Map<OptimizerKind, List<TrainingRun.Result>> batchGrid) {

  /** The learning-rate factors of the grid, around each optimizer's default. */
  static final double[] LR_FACTORS = {0.1, 1, 10};
}
