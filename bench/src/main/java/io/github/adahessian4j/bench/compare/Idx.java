package io.github.adahessian4j.bench.compare;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX files that MNIST and Fashion-MNIST ship in: a big-endian header (magic 2051 for
 * images, then count, rows, columns; magic 2049 for labels, then count) followed by one unsigned
 * byte per pixel or label. Files ending in {@code .gz} are decompressed on the fly.
 */
public final class Idx {
  public static final int IMAGES_MAGIC = 2051;
  public static final int LABELS_MAGIC = 2049;

  private Idx() {}

  /** Images as stored: {@code pixels[(i * rows + r) * cols + c]}, unsigned bytes. */
  public record Images(int count, int rows, int cols, byte[] pixels) {}

  public static Images readImages(Path file) throws IOException {
    try (DataInputStream in = open(file)) {
      checkMagic(file, in.readInt(), IMAGES_MAGIC, "images");
      int count = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      if (count < 0 || rows <= 0 || cols <= 0) {
        throw new IOException(
            file + ": invalid IDX images header: " + count + " images of " + rows + "x" + cols);
      }
      return new Images(
          count, rows, cols, readFully(file, in, Math.multiplyExact(count, rows * cols)));
    }
  }

  /** Labels as stored, one unsigned byte each. */
  public static byte[] readLabels(Path file) throws IOException {
    try (DataInputStream in = open(file)) {
      checkMagic(file, in.readInt(), LABELS_MAGIC, "labels");
      int count = in.readInt();
      if (count < 0) {
        throw new IOException(file + ": invalid IDX labels header: count " + count);
      }
      return readFully(file, in, count);
    }
  }

  private static DataInputStream open(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    return new DataInputStream(file.toString().endsWith(".gz") ? new GZIPInputStream(in) : in);
  }

  private static void checkMagic(Path file, int magic, int expected, String what)
      throws IOException {
    if (magic != expected) {
      throw new IOException(
          file + ": not an IDX " + what + " file (magic " + magic + ", expected " + expected + ")");
    }
  }

  private static byte[] readFully(Path file, DataInputStream in, int size) throws IOException {
    byte[] data = new byte[size];
    try {
      in.readFully(data);
    } catch (EOFException e) {
      throw new IOException(file + ": truncated: the header announces " + size + " data bytes", e);
    }
    return data;
  }
}
