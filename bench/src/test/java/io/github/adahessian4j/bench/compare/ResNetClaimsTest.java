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
  void theShortPlanMeasuresItsClaimsOnly() throws IOException {
    StringWriter printed = new StringWriter();
    // TINY's options win over the plan's; the plan leaves out claims 7, 9, 10 and 11.
    int status = run(printed, "--plan", "short", "--out", out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);
    assertTrue(text.contains("plan short: claims 1 (fewer steps), 2 (slower per step), "), text);
    List<String> ids =
        Arrays.stream(text.split("\n"))
            .filter(l -> l.matches("\\| \\d.*"))
            .map(l -> l.split("\\|")[1].trim())
            .toList();
    assertEquals(
        List.of("1a", "1b", "2", "3", "4", "5a", "5b", "6a", "6b", "8a", "8b", "8c", "8d", "8e"),
        ids,
        text);
    assertFalse(text.contains("Row 11"), "no variants' table: " + text);
    assertTrue(
        text.contains(
            "Not in this plan (--claims): 7 (batch size), 9 (label noise), 10 (flatter minima), "
                + "11 (cheaper variants)"),
        text);
    List<String> runs = Files.readAllLines(out.resolve("runs.jsonl"));
    List<String> trainings = runs.stream().filter(l -> l.startsWith("{\"kind\": \"run\"")).toList();
    assertEquals(
        List.of(),
        trainings.stream()
            .filter(
                l ->
                    l.contains("\"group\": \"batch\"")
                        || l.contains("\"group\": \"noise\"")
                        || !l.contains(
                            "\"update_each\": 1, \"hessian_warmup\": 0, \"hessian_fraction\": \"1/1\""))
            .toList(),
        "no batch-size, label-noise or variant runs");
    assertEquals(
        2 * 2 + 2 * 2 + 2,
        trainings.size(),
        "2 seeds of Adam and AdaHessian, lr x10 and 2 nets at 1 seed, each optimizer");
    assertTrue(Files.exists(out.resolve(ClaimsPlots.SENSITIVITY)), "lr and depth panels");
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
