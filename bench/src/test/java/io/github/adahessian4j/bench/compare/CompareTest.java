package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * Runs {@code compare} end to end on a tiny synthetic configuration and checks what it prints and
 * writes (not the numbers).
 */
class CompareTest {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final List<String> MEASURES =
      List.of(
          "steps (s) to 90.0% val accuracy",
          "final train accuracy",
          "final validation accuracy",
          "generalization gap (train - val)",
          "time per step",
          "training memory: peak RSS growth (peak)",
          "val accuracy, lr x0.1",
          "val accuracy, lr x1 (default)",
          "val accuracy, lr x10",
          "lr sensitivity: spread of those 3",
          "val accuracy, batch 32",
          "val accuracy, batch 64",
          "val accuracy, batch 128",
          "batch-size stability: spread");

  @TempDir Path out;

  @Test
  void printsTheTableAndWritesPlotsAndResults() throws IOException {
    StringWriter printed = new StringWriter();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .execute(
                "compare",
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
                "32,64,128",
                "--evals-per-epoch",
                "2",
                "--out",
                out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);

    List<List<String>> table =
        Arrays.stream(text.split("\n"))
            .filter(l -> l.startsWith("|"))
            .map(CompareTest::cells)
            .toList();
    assertEquals(ComparisonTable.HEADER, table.get(0), text);
    assertTrue(
        table.get(1).stream().allMatch(c -> c.matches("-+")), "separator row: " + table.get(1));
    List<List<String>> rows = table.subList(2, table.size());
    assertEquals(MEASURES.size(), rows.size(), text);
    for (int i = 0; i < rows.size(); i++) {
      List<String> row = rows.get(i);
      assertTrue(row.get(0).startsWith(MEASURES.get(i)), "row " + i + ": " + row);
      assertEquals(4, row.size(), "row " + i + ": " + row);
      assertTrue(
          row.stream().noneMatch(String::isEmpty), "row " + i + " has an empty cell: " + row);
    }
    assertFalse(rows.get(5).get(1).equals("n/a"), "memory probe failed: " + rows.get(5));
    assertTrue(text.contains("AdaHessian ahead on: "), text);
    assertTrue(text.contains("AdaHessian behind on: "), text);
    assertTrue(
        text.contains("; allocator: NativeMemory.keepFreedMemory() (freed native memory kept"),
        "the demo keeps freed memory by default and says so:\n" + text);
    assertTrue(text.contains("Plots: " + out.resolve(Plots.CURVES).toAbsolutePath()), text);

    for (String plot : List.of(Plots.CURVES, Plots.SENSITIVITY)) {
      Path file = out.resolve(plot);
      assertArrayEquals(
          PNG_SIGNATURE, Arrays.copyOf(Files.readAllBytes(file), PNG_SIGNATURE.length), plot);
      BufferedImage image = ImageIO.read(file.toFile());
      assertNotNull(image, plot);
      assertTrue(
          image.getWidth() > 600 && image.getHeight() > 300,
          plot + ": " + image.getWidth() + "x" + image.getHeight());
    }
    assertTrue(Files.readString(out.resolve("table.md")).startsWith("| measure"));
    assertTrue(Files.readString(out.resolve("curves.csv")).startsWith("optimizer,lr,batch,step,"));
    assertTrue(Files.readString(out.resolve("protocol.json")).contains("\"seed\": 1"));
  }

  /**
   * {@code compare > file 2>&1} in its own JVM (standard output and error not a terminal): the
   * progress is plain lines, one per run, and the file holds no carriage return.
   */
  @Test
  void progressInAFileIsPlainLines() throws IOException, InterruptedException {
    Path log = out.resolve("compare.log");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                BenchCli.class.getName(),
                "compare",
                "--dataset",
                "synthetic",
                "--model",
                "mlp",
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
                "--default-allocator",
                "--out",
                out.resolve("run").toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    int status = child.waitFor();
    String text = Files.readString(log);
    assertEquals(0, status, text);
    assertFalse(text.contains("\r"), "a carriage return in compare's log:\n" + text);
    List<String> progress =
        Arrays.stream(text.split("\n")).filter(l -> l.matches(".*: \\d+/\\d+ steps, .*")).toList();
    assertFalse(progress.isEmpty(), "no progress line in compare's log:\n" + text);
    assertTrue(text.contains("| measure"), text);
    assertTrue(text.contains("; allocator: glibc's as it comes (--default-allocator)"), text);
  }

  @Test
  void printsTheProtocolForOtherImplementations() {
    StringWriter printed = new StringWriter();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .execute(
                "compare",
                "--protocol",
                "--dataset",
                "synthetic",
                "--train-size",
                "100",
                "--val-size",
                "50");
    assertEquals(0, status);
    String json = printed.toString();
    for (String key :
        List.of(
            "\"dataset\": \"synthetic\"",
            "\"model\": \"cnn\"",
            "\"train_size\": 100",
            "\"epochs\": 3",
            "\"batch\": 128",
            "\"batch_sizes\": [32, 128, 512]",
            "\"lr_grid\": [1e-4, 1e-3, 0.01]",
            "\"lr_grid\": [0.015, 0.15, 1.5]",
            "\"threads\": 1")) {
      assertTrue(json.contains(key), key + " in " + json);
    }
  }

  private static List<String> cells(String line) {
    String inner = line.substring(1, line.lastIndexOf('|'));
    return Arrays.stream(inner.split("\\|", -1)).map(String::trim).toList();
  }
}
