package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.bench.BenchCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compare --model transformer} end to end on tiny synthetic text, and the options that
 * belong to it (not the numbers).
 */
class CompareTransformerTest {
  @TempDir Path out;

  private String[] printedAndStatus(List<String> args) {
    StringWriter printed = new StringWriter();
    StringWriter errors = new StringWriter();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .setErr(new PrintWriter(errors))
            .execute(args.toArray(new String[0]));
    return new String[] {Integer.toString(status), printed + errors.toString()};
  }

  @Test
  void trainsTheLanguageModelAndReportsBitsPerCharacter() throws IOException {
    String[] result =
        printedAndStatus(
            List.of(
                "compare",
                "--model",
                "transformer",
                "--dataset",
                "synthetic-text",
                "--epochs",
                "1",
                "--train-size",
                "64",
                "--val-size",
                "16",
                "--batch",
                "16",
                "--batch-sizes",
                "8,16",
                "--evals-per-epoch",
                "2",
                "--out",
                out.toString()));
    String text = result[1];
    assertEquals("0", result[0], text);
    assertTrue(text.contains("causal transformer LM: 96 chars"), text);
    assertTrue(text.contains("64 training, 16 validation windows of 65 characters"), text);
    assertTrue(text.contains("target 25.0% val accuracy"), text);
    assertTrue(text.matches("(?s).*Validation bits per character.*Adam \\d+\\.\\d{3};.*"), text);
    assertTrue(Files.readString(out.resolve("table.md")).contains("bits per character"));
    String protocol = Files.readString(out.resolve("protocol.json"));
    assertTrue(protocol.contains("\"lr\": 0.047"), protocol);
    assertTrue(protocol.contains("position embeddings N(0, 0.02), the rest libtorch"), protocol);
  }

  @Test
  void theFullRunsFooterCountsWindowsOfText() throws IOException {
    try (DataSet data = DataSet.load("synthetic-text", null, 64, 16)) {
      Protocol p =
          new Protocol(
              data.name(),
              data.source(),
              64,
              16,
              data.mean(),
              data.std(),
              Model.TRANSFORMER,
              1,
              1,
              16,
              new int[] {16},
              1e-3,
              0.047,
              0.25,
              1,
              1);
      Claims.Plan plan =
          new Claims.Plan(
              ClaimsPlans.FULL,
              java.util.Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
              p,
              2,
              1,
              1,
              new double[] {1},
              new int[] {16},
              new double[0],
              List.of(Model.TRANSFORMER_8),
              1,
              1,
              0.1);
      String footer =
          CompareFullRun.footer(
              plan, p, data, HessianAnalysis.library(32, data.samples()), 1, List.of("compare"));
      assertTrue(
          footer.contains(", 64 training / 16 validation windows of 65 characters; "), footer);
      assertTrue(footer.contains("on the first 32 training windows of 65 characters at"), footer);
      assertFalse(footer.contains("images"), footer);
    }
  }

  @Test
  void refusesOptionsThatDoNotFitTheModel() {
    for (List<String> args :
        List.of(
            List.of("compare", "--protocol", "--model", "transformer", "--dataset", "mnist"),
            List.of("compare", "--protocol", "--model", "cnn", "--dataset", "brown"),
            List.of("compare", "--protocol", "--model", "cnn", "--blocks", "4"),
            List.of("compare", "--protocol", "--model", "transformer", "--blocks", "3"),
            List.of("compare", "--protocol", "--model", "transformer", "--deep-model", "deep"))) {
      String[] result = printedAndStatus(args);
      assertNotEquals("0", result[0], args + ": " + result[1]);
    }
    String[] blocks = printedAndStatus(List.of("compare", "--model", "cnn", "--blocks", "4"));
    assertTrue(blocks[1].contains("--blocks is for --model transformer, not CNN"), blocks[1]);
    String[] three =
        printedAndStatus(
            List.of("compare", "--protocol", "--model", "transformer", "--blocks", "3"));
    assertTrue(three[1].contains("Invalid number of transformer blocks: 3 (2, 4 or 8)"), three[1]);
    String[] wrongData =
        printedAndStatus(
            List.of("compare", "--protocol", "--model", "transformer", "--dataset", "mnist"));
    assertTrue(
        wrongData[1].contains("--model transformer does not train on --dataset mnist"),
        wrongData[1]);
  }

  @Test
  void blocksSelectsTheDepth() {
    String[] result =
        printedAndStatus(
            List.of(
                "compare",
                "--protocol",
                "--model",
                "transformer",
                "--blocks",
                "4",
                "--dataset",
                "synthetic-text",
                "--train-size",
                "8",
                "--val-size",
                "4"));
    assertEquals("0", result[0], result[1]);
    assertTrue(result[1].contains("\"model\": \"transformer_4\""), result[1]);
    assertTrue(result[1].contains("4 pre-LayerNorm blocks"), result[1]);
  }
}
