package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.bench.BenchCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compare --full --model resnet} on a tiny synthetic configuration: the depth claim's rows
 * for every network of {@code --deep-model}, and {@code --estimate}, which trains nothing.
 */
class ResNetClaimsTest {
  @TempDir Path out;

  private static final List<String> TINY =
      List.of(
          "compare",
          "--full",
          "--dataset",
          "synthetic",
          "--model",
          "resnet",
          "--depth",
          "8",
          "--deep-model",
          "deep,resnet14",
          "--epochs",
          "1",
          "--train-size",
          "128",
          "--val-size",
          "64",
          "--batch",
          "64",
          "--batch-sizes",
          "64",
          "--lr-factors",
          "1,10",
          "--noise",
          "0.4",
          "--seeds",
          "2",
          "--variant-seeds",
          "1",
          "--memory-seeds",
          "1",
          "--evals-per-epoch",
          "1",
          "--timing-rounds",
          "1",
          "--timing-steps",
          "1",
          "--curvature-images",
          "0");

  private int run(StringWriter printed, String... more) {
    List<String> args = new ArrayList<>(TINY);
    args.addAll(List.of(more));
    return BenchCli.commandLine()
        .setOut(new PrintWriter(printed))
        .execute(args.toArray(String[]::new));
  }

  @Test
  void theDepthClaimHasRowsForEachNetwork() throws IOException {
    StringWriter printed = new StringWriter();
    int status = run(printed, "--out", out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);
    assertTrue(text.contains("Adam vs AdaHessian, ResNet-8 (He et al. 2016"), text);
    List<List<String>> rows =
        Arrays.stream(text.split("\n"))
            .filter(l -> l.startsWith("| 8"))
            .map(l -> Arrays.stream(l.split("\\|")).map(String::trim).toList())
            .toList();
    assertEquals(
        List.of("8a", "8b", "8c", "8d", "8e"), rows.stream().map(r -> r.get(1)).toList(), text);
    assertTrue(rows.get(0).get(3).startsWith("deep plain MLP"), rows.get(0).toString());
    assertTrue(rows.get(2).get(3).startsWith("default ResNet-8"), rows.get(2).toString());
    assertTrue(
        rows.get(3).get(3).startsWith("ResNet-14: final val accuracy"), rows.get(3).toString());
    assertTrue(
        rows.get(4).get(3).startsWith("ResNet-14: runs that failed"), rows.get(4).toString());
    List<String> runs = Files.readAllLines(out.resolve("runs.jsonl"));
    assertEquals(
        2 * 2, runs.stream().filter(l -> l.contains("\"group\": \"deep\"")).count(), "2 nets x 2");
    assertTrue(
        Files.readString(out.resolve("full-run.json")).contains("\"deep_models\": [\"plain MLP"));
  }

  @Test
  void estimateCalibratesAndWritesNothing() {
    StringWriter printed = new StringWriter();
    Path dir = out.resolve("never");
    int status = run(printed, "--estimate", "--out", dir.toString());
    String text = printed.toString();
    assertEquals(0, status, text);
    assertTrue(text.contains("Estimated time of this plan: "), text);
    assertTrue(text.contains("ResNet-14 "), "the depth nets are calibrated: " + text);
    assertFalse(Files.exists(dir), "nothing written");
  }
}
