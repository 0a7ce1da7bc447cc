package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.bench.BenchCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code dp-bench --phases} end to end on a short run (AdaHessian, 4 runs of 1 and 2 processes):
 * the table has a row per phase and a column per run and rank, the phases of a step sum to it, and
 * what the replica mean sends is exact: one mean per step of the CNN's 6 gradients and 6 Hessian
 * estimates, in one bucket after the check (2 backend collectives), 8 bytes per parameter. Not the
 * times.
 */
class DataParallelPhasesTest {
  /** The CNN's parameters: conv 1->16, conv 16->32 (3x3, with biases), linear 1568->10. */
  private static final long PARAMETERS = 16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 10 + 10;

  private static List<String> cells(String table, String rowLabel) {
    for (String line : table.split("\n")) {
      if (line.startsWith("| " + rowLabel + " |")) {
        List<String> cells = new ArrayList<>(Arrays.asList(line.split("\\|")));
        cells.subList(0, 2).clear(); // before the first |, and the label
        return cells.stream().map(String::strip).toList();
      }
    }
    throw new AssertionError("no row \"" + rowLabel + "\" in:\n" + table);
  }

  @Test
  void theBreakdownIsPrintedAndItsPhasesSumToTheStep() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int status;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      status =
          new CommandLine(new BenchCli())
              .execute(
                  "dp-bench",
                  "--phases",
                  "--optimizers",
                  "adahessian:1",
                  "--batch",
                  "16",
                  "--rounds",
                  "1",
                  "--warmup",
                  "1",
                  "--iterations",
                  "3");
    } finally {
      System.setOut(stdout);
    }
    String table = captured.toString(StandardCharsets.UTF_8);
    stdout.print(table);
    assertEquals(0, status, table);
    List<String> columns = cells(table, "phase (ms per step)");
    assertEquals(
        List.of(
            "1 process, batch 16",
            "1 process, batch 8",
            "2 processes side by side, no mean, rank 0",
            "2 processes side by side, no mean, rank 1",
            "2 processes, data-parallel, rank 0",
            "2 processes, data-parallel, rank 1",
            "2 processes, data-parallel, no check, rank 0",
            "2 processes, data-parallel, no check, rank 1"),
        columns);
    for (String label :
        List.of(
            "**step**",
            "forward (the closure)",
            "backward (the gradient)",
            "Hessian-vector products",
            "- check (waits for the slower rank)",
            "- Gloo all-reduce",
            "update (checks, native step, freeing)")) {
      for (String cell : cells(table, label)) {
        double ms = Double.parseDouble(cell);
        assertTrue(ms >= 0, label + ": " + cell);
      }
    }
    for (String cell : cells(table, "Hessian-vector products")) {
      assertTrue(Double.parseDouble(cell) > 0, "updateEach 1 estimates every step: " + cell);
    }
    for (String cell : cells(table, "sum of the phases' means / the step's mean")) {
      assertEquals(1.0, Double.parseDouble(cell), 0.01, "the phases sum to the step");
    }
    List<String> none = List.of("0.00", "0.00", "0.00", "0.00");
    assertEquals(
        concat(none, List.of("1.00", "1.00", "1.00", "1.00")),
        cells(table, "replica means per step"));
    assertEquals(
        List.of("0.0", "0.0", "0.0", "0.0", "12.0", "12.0", "12.0", "12.0"),
        cells(table, "tensors averaged per step"));
    assertEquals(
        concat(none, List.of("2.00", "2.00", "1.00", "1.00")),
        cells(table, "backend collectives per step"),
        "the check and one bucket; one bucket alone without the check");
    String bytes = String.format(Locale.ROOT, "%,d", 8 * PARAMETERS);
    assertEquals(
        List.of("0", "0", "0", "0", bytes, bytes, bytes, bytes),
        cells(table, "bytes all-reduced per step"));
    List<String> checks = cells(table, "- check (waits for the slower rank)");
    for (int c = 4; c < 8; c++) {
      double allReduce = Double.parseDouble(cells(table, "- Gloo all-reduce").get(c));
      assertTrue(allReduce > 0, "the data-parallel runs all-reduce: " + allReduce);
      assertEquals(c < 6, Double.parseDouble(checks.get(c)) > 0, "checked: " + checks);
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
