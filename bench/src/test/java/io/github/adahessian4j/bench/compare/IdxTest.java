package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
  @TempDir Path dir;

  @Test
  void readsImagesAndLabelsPlainAndGzipped() throws IOException {
    byte[] pixels = new byte[3 * 2 * 4];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 10);
    }
    byte[] labels = {7, 0, (byte) 200};
    for (boolean gz : new boolean[] {false, true}) {
      Path images =
          write(
              dir.resolve("images" + (gz ? ".gz" : "")), header(Idx.IMAGES_MAGIC, 3, 2, 4), pixels);
      Path labelFile =
          write(dir.resolve("labels" + (gz ? ".gz" : "")), header(Idx.LABELS_MAGIC, 3), labels);

      Idx.Images read = Idx.readImages(images);
      assertEquals(3, read.count());
      assertEquals(2, read.rows());
      assertEquals(4, read.cols());
      assertArrayEquals(pixels, read.pixels());
      assertArrayEquals(labels, Idx.readLabels(labelFile));
    }
  }

  @Test
  void rejectsWrongMagicAndTruncatedData() throws IOException {
    Path labels = write(dir.resolve("labels"), header(Idx.LABELS_MAGIC, 2), new byte[] {1, 2});
    IOException wrong = assertThrows(IOException.class, () -> Idx.readImages(labels));
    assertTrue(
        wrong.getMessage().contains("not an IDX images file (magic 2049, expected 2051)"),
        wrong.getMessage());

    Path truncated =
        write(dir.resolve("truncated"), header(Idx.IMAGES_MAGIC, 2, 28, 28), new byte[100]);
    IOException shortRead = assertThrows(IOException.class, () -> Idx.readImages(truncated));
    assertTrue(
        shortRead.getMessage().contains("truncated: the header announces 1568 data bytes"),
        shortRead.getMessage());
  }

  @Test
  void loadsAnMnistFormatFolderAndStandardisesWithTrainingStatistics() throws IOException {
    writeSplit("train", 20, true);
    writeSplit("t10k", 10, false);
    try (DataSet data = DataSet.load("mnist", dir, 0, 4)) {
      assertEquals("idx", data.name());
      assertEquals(20, data.train().size());
      assertEquals(4, data.val().size());
      assertArrayEquals(new long[] {20, 1, 28, 28}, data.train().images().shape());
      assertEquals(0.0, data.train().images().mean().item_double(), 1e-5);
      assertEquals(1.0, data.train().images().std().item_double(), 0.05);
      assertEquals(3, data.val().labels().select(0, 3).item_long());
    }
  }

  @Test
  void namesTheMissingFileOfAnIncompleteFolder() throws IOException {
    writeSplit("train", 5, false);
    IOException e = assertThrows(IOException.class, () -> DataSet.load("mnist", dir, 0, 0));
    assertTrue(
        e.getMessage().contains("missing " + dir.resolve("t10k-images-idx3-ubyte")),
        e.getMessage());
  }

  /** {@code count} 28x28 images of label i % 10 whose pixels are i-dependent bytes. */
  private void writeSplit(String prefix, int count, boolean gz) throws IOException {
    byte[] pixels = new byte[count * 28 * 28];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) ((i * 31) % 256);
    }
    byte[] labels = new byte[count];
    for (int i = 0; i < count; i++) {
      labels[i] = (byte) (i % 10);
    }
    String suffix = gz ? ".gz" : "";
    write(
        dir.resolve(prefix + "-images-idx3-ubyte" + suffix),
        header(Idx.IMAGES_MAGIC, count, 28, 28),
        pixels);
    write(
        dir.resolve(prefix + "-labels-idx1-ubyte" + suffix),
        header(Idx.LABELS_MAGIC, count),
        labels);
  }

  private static byte[] header(int... ints) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      for (int v : ints) {
        out.writeInt(v);
      }
    }
    return bytes.toByteArray();
  }

  private static Path write(Path file, byte[] header, byte[] data) throws IOException {
    try (OutputStream raw = Files.newOutputStream(file);
        OutputStream out = file.toString().endsWith(".gz") ? new GZIPOutputStream(raw) : raw) {
      out.write(header);
      out.write(data);
    }
    return file;
  }
}
