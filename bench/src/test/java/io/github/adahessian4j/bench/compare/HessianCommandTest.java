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
 * Runs {@code hessian} end to end on a tiny synthetic configuration and checks what it prints and
 * writes (not the numbers).
 */
class HessianCommandTest {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @TempDir Path out;

  @Test
  void printsTheTableAndWritesThePlot() throws IOException {
    StringWriter printed = new StringWriter();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .execute(
                "hessian",
                "--dataset",
                "synthetic",
                "--batch",
                "8",
                "--train-steps",
                "3",
                "--k",
                "2",
                "--target",
                "1e-2",
                "--repeats",
                "1",
                "--slq-runs",
                "1",
                "--slq-steps",
                "8",
                "--max-iterations",
                "400",
                "--trace-samples",
                "20",
                "--out",
                out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);
    List<String> rows = Arrays.stream(text.split("\n")).filter(l -> l.startsWith("| ")).toList();
    assertEquals(5, rows.size(), text);
    assertTrue(rows.get(0).startsWith("| method | stopping | top 1: products"), rows.get(0));
    assertTrue(rows.get(1).startsWith("| **Lanczos** | oracle |"), rows.get(1));
    assertTrue(rows.get(4).startsWith("| power iteration | own rule |"), rows.get(4));
    assertTrue(text.contains("Top 2 to 1e-2: Lanczos used "), text);
    assertTrue(text.contains("Trace (Hutchinson"), text);
    assertTrue(text.contains("conv1.weight "), text);
    assertTrue(
        text.contains("Spectral density (SLQ): 1 runs of 8 Lanczos steps, 8 products"), text);

    Path plot = out.resolve(HessianCommand.PLOT);
    assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(Files.readAllBytes(plot), PNG_SIGNATURE.length));
    BufferedImage image = ImageIO.read(plot.toFile());
    assertNotNull(image);
    assertTrue(
        image.getWidth() >= 700 && image.getHeight() >= 400,
        image.getWidth() + "x" + image.getHeight());
    assertTrue(Files.readString(out.resolve("table.md")).contains("| method | stopping |"));
    List<String> csv = Files.readAllLines(out.resolve("esd.csv"));
    assertEquals("eigenvalue,density", csv.get(0));
    assertEquals(10_001, csv.size());
    assertEquals(9, Files.readAllLines(out.resolve("slq-nodes.csv")).size());
  }
}
