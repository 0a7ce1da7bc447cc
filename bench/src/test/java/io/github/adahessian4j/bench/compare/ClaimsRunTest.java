package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.bench.BenchCli;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code compare --full} end to end on a tiny synthetic configuration: what it prints and
 * writes, not the numbers.
 */
class ClaimsRunTest {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final List<String> ROWS =
      List.of(
          "1a", "1b", "2", "3", "4", "5a", "5b", "6a", "6b", "7", "8a", "8b", "8c", "9a", "10a",
          "10b");

  @TempDir Path out;

  @Test
  void printsTheClaimsTableAndWritesEverything() throws IOException {
    StringWriter printed = new StringWriter();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .execute(
                "compare",
                "--full",
                "--dataset",
                "synthetic",
                "--model",
                "mlp",
                "--epochs",
                "1",
                "--train-size",
                "256",
                "--val-size",
                "128",
                "--batch",
                "64",
                "--batch-sizes",
                "32,64",
                "--lr-factors",
                "0.1,1,10",
                "--noise",
                "0.4",
                "--seeds",
                "3",
                "--variant-seeds",
                "2",
                "--memory-seeds",
                "1",
                "--evals-per-epoch",
                "2",
                "--timing-rounds",
                "2",
                "--timing-steps",
                "2",
                "--curvature-images",
                "64",
                "--out",
                out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);

    List<List<String>> lines =
        Arrays.stream(text.split("\n"))
            .filter(l -> l.startsWith("|"))
            .map(ClaimsRunTest::cells)
            .toList();
    assertEquals(ClaimsTable.HEADER, lines.get(0), text);
    List<List<String>> rows = lines.subList(2, 2 + ROWS.size());
    for (int i = 0; i < ROWS.size(); i++) {
      List<String> row = rows.get(i);
      assertEquals(ROWS.get(i), row.get(0), text);
      assertEquals(ClaimsTable.HEADER.size(), row.size(), "row " + row);
      assertTrue(row.stream().noneMatch(String::isEmpty), "empty cell in " + row);
      String robustness = row.get(7);
      assertTrue(
          robustness.equals("robust")
              || robustness.startsWith("not robust: without seed ")
              || robustness.equals("-"),
          "leave-one-out " + robustness);
      String verdict = row.get(6);
      assertTrue(
          verdict.startsWith("supports: ")
              || verdict.startsWith("against: ")
              || verdict.startsWith("not distinguishable")
              || verdict.startsWith("AdaHessian ")
              || verdict.startsWith("too few seeds")
              || verdict.startsWith("pending"),
          "verdict " + verdict);
    }
    assertEquals(
        List.of("3", "3"), List.of(rows.get(0).get(3), rows.get(7).get(3)), "main rows: all seeds");
    assertEquals("2", rows.get(5).get(3), "grids: the variant seeds");
    for (List<String> curvature : rows.subList(ROWS.size() - 2, ROWS.size())) {
      // Measured at every main run's final weights: "mean ± sd" in both columns, a verdict.
      assertTrue(curvature.get(4).contains(" ± "), "row 10 Adam: " + curvature);
      assertTrue(curvature.get(5).contains(" ± "), "row 10 AdaHessian: " + curvature);
    }
    assertTrue(text.contains("curvature: Hessian of the mean cross-entropy on the first 64"), text);
    assertTrue(rows.get(3).get(4).endsWith("MiB"), "memory measured: " + rows.get(3));
    int variantsAt = 2 + ROWS.size();
    assertEquals(ClaimsTable.VARIANT_HEADER, lines.get(variantsAt), text);
    assertEquals(
        5, lines.size() - variantsAt - 2, "row 11: the measures of rows 1a, 1b, 2, 6a, 6b");
    assertTrue(text.contains("Welch's two-sided t-test at 5%"), text);
    assertTrue(text.contains("(column \"seeds\"; \"3 / 2\": Adam and AdaHessian"), text);
    assertTrue(text.contains("Supports the article: "), text);
    assertTrue(text.contains("Verdicts that leaving out one seed changes: "), text);
    assertTrue(text.contains("; allocator: NativeMemory.keepFreedMemory() (freed"), text);

    assertTrue(Files.readString(out.resolve("table.md")).startsWith("| #"));
    String csv = Files.readString(out.resolve("table.csv"));
    assertTrue(
        csv.startsWith(
            "row,claim,measure,optimizer,n,mean,sd,unit,p_vs_adam,verdict,leave_one_seed_out\n"),
        csv);
    assertTrue(csv.contains("\n6a,"), csv);
    List<String> runs = Files.readAllLines(out.resolve("runs.jsonl"));
    // Per seed: timing, 2 + 5 main runs (the variants at 2 seeds), 2 x (2 lr + 1 batch + deep +
    // noise) runs, 2 probes.
    long trainingRuns = runs.stream().filter(l -> l.startsWith("{\"kind\": \"run\"")).count();
    assertEquals(3 * 2 + 2 * 5 + 2 * 2 * 5, trainingRuns, String.join("\n", runs));
    assertEquals(
        2 * 2,
        runs.stream().filter(l -> l.contains("\"hessian_warmup\": 20,")).count(),
        "the warm-up arms at the variant seeds");
    assertEquals(3, runs.stream().filter(l -> l.startsWith("{\"kind\": \"timing\"")).count());
    assertEquals(
        3 * 2,
        runs.stream().filter(l -> l.contains("\"curvature\": {")).count(),
        "the main runs of Adam and AdaHessian carry their curvature");
    assertEquals(2, runs.stream().filter(l -> l.startsWith("{\"kind\": \"memory\"")).count());
    assertTrue(Files.readString(out.resolve("full-run.json")).contains("\"seeds\": 3"));
    assertTrue(Files.readString(out.resolve("protocol.json")).contains("\"seed\": 1"));
    for (String plot : List.of(ClaimsPlots.CURVES, ClaimsPlots.SENSITIVITY)) {
      Path file = out.resolve(plot);
      assertArrayEquals(
          PNG_SIGNATURE, Arrays.copyOf(Files.readAllBytes(file), PNG_SIGNATURE.length), plot);
      BufferedImage image = ImageIO.read(file.toFile());
      assertNotNull(image, plot);
      assertTrue(image.getWidth() > 600 && image.getHeight() > 400, plot);
    }
  }

  private static List<String> cells(String line) {
    String inner = line.substring(1, line.lastIndexOf('|'));
    return Arrays.stream(inner.split("(?<!\\\\)\\|", -1)).map(String::trim).toList();
  }
}
