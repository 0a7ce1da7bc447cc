package io.github.adahessian4j.schedule;

import io.github.adahessian4j.CheckpointException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * One scheduler's saved state, and its stream format.
 *
 * <p>On the stream: the magic {@code "AH4JLRS\0"}, the format version (int), the payload's length
 * (int), the payload, and the payload's CRC-32 (int), all big-endian ({@link DataOutputStream}).
 * The payload: the kind (torch's class name, UTF), the group count, last epoch and step count
 * (ints), the hyperparameters as canonical text (UTF, compared on load), the base lrs, the last lrs
 * and the groups' lrs at save time (each: length, doubles), the kind's own numbers (length,
 * doubles), then the children (count, each a payload). A reader takes exactly these bytes from the
 * stream, so several states can follow each other in one stream.
 */
final class SchedulerState {
  private static final long MAGIC = 0x4148344A_4C525300L; // "AH4JLRS\0"
  static final int VERSION = 1;
  private static final int MAX_PAYLOAD = 64 << 20;
  private static final int MAX_GROUPS = 1 << 20;
  private static final int MAX_CHILDREN = 1 << 10;
  private static final int MAX_DEPTH = 16;

  final String kind;
  final int groups;
  final int lastEpoch;
  final int stepCount;
  final String config;
  final double[] baseLrs;
  final double[] lastLr;
  final double[] groupLrs;
  final double[] extra;
  final List<SchedulerState> children;

  SchedulerState(
      String kind,
      int groups,
      int lastEpoch,
      int stepCount,
      String config,
      double[] baseLrs,
      double[] lastLr,
      double[] groupLrs,
      double[] extra,
      List<SchedulerState> children) {
    this.kind = Objects.requireNonNull(kind);
    this.groups = groups;
    this.lastEpoch = lastEpoch;
    this.stepCount = stepCount;
    this.config = Objects.requireNonNull(config);
    this.baseLrs = baseLrs.clone();
    this.lastLr = lastLr.clone();
    this.groupLrs = groupLrs.clone();
    this.extra = extra.clone();
    this.children = List.copyOf(children);
  }

  // --- stream format ---

  void save(OutputStream out) throws IOException {
    Objects.requireNonNull(out, "out");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    writePayload(new DataOutputStream(bytes));
    byte[] payload = bytes.toByteArray();
    CRC32 crc = new CRC32();
    crc.update(payload);
    DataOutputStream d = new DataOutputStream(out);
    d.writeLong(MAGIC);
    d.writeInt(VERSION);
    d.writeInt(payload.length);
    d.write(payload);
    d.writeInt((int) crc.getValue());
    d.flush();
  }

  static SchedulerState read(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    DataInputStream d = new DataInputStream(in);
    try {
      if (d.readLong() != MAGIC) {
        throw new CheckpointException(
            "not a learning-rate scheduler state (bad magic); nothing was loaded");
      }
      int version = d.readInt();
      if (version != VERSION) {
        throw new CheckpointException(
            "scheduler state format "
                + version
                + " is not supported (this "
                + "library reads format "
                + VERSION
                + "); nothing was loaded");
      }
      int length = d.readInt();
      if (length < 0 || length > MAX_PAYLOAD) {
        throw new CheckpointException(
            "scheduler state is corrupted (payload length " + length + "); nothing was loaded");
      }
      byte[] payload = new byte[length];
      d.readFully(payload);
      int expected = d.readInt();
      CRC32 crc = new CRC32();
      crc.update(payload);
      if ((int) crc.getValue() != expected) {
        throw new CheckpointException(
            "scheduler state is corrupted (checksum mismatch); nothing was loaded");
      }
      DataInputStream p = new DataInputStream(new ByteArrayInputStream(payload));
      SchedulerState s = readPayload(p, 0);
      if (p.available() != 0) {
        throw new CheckpointException(
            "scheduler state is corrupted ("
                + p.available()
                + " unread bytes); nothing was loaded");
      }
      return s;
    } catch (EOFException e) {
      throw new CheckpointException("scheduler state is truncated; nothing was loaded");
    }
  }

  private void writePayload(DataOutputStream d) throws IOException {
    d.writeUTF(kind);
    d.writeInt(groups);
    d.writeInt(lastEpoch);
    d.writeInt(stepCount);
    d.writeUTF(config);
    writeDoubles(d, baseLrs);
    writeDoubles(d, lastLr);
    writeDoubles(d, groupLrs);
    writeDoubles(d, extra);
    d.writeInt(children.size());
    for (SchedulerState c : children) {
      c.writePayload(d);
    }
  }

  private static SchedulerState readPayload(DataInputStream d, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new CheckpointException(
          "scheduler state is corrupted (nested deeper than "
              + MAX_DEPTH
              + "); nothing was loaded");
    }
    String kind = d.readUTF();
    int groups = d.readInt();
    if (groups < 0 || groups > MAX_GROUPS) {
      throw new CheckpointException(
          "scheduler state is corrupted (" + groups + " groups); nothing was loaded");
    }
    int lastEpoch = d.readInt();
    int stepCount = d.readInt();
    String config = d.readUTF();
    double[] base = readDoubles(d);
    double[] last = readDoubles(d);
    double[] lrs = readDoubles(d);
    double[] extra = readDoubles(d);
    int n = d.readInt();
    if (n < 0 || n > MAX_CHILDREN) {
      throw new CheckpointException(
          "scheduler state is corrupted (" + n + " children); nothing was loaded");
    }
    List<SchedulerState> children = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      children.add(readPayload(d, depth + 1));
    }
    return new SchedulerState(
        kind, groups, lastEpoch, stepCount, config, base, last, lrs, extra, children);
  }

  private static void writeDoubles(DataOutputStream d, double[] values) throws IOException {
    d.writeInt(values.length);
    for (double v : values) {
      d.writeDouble(v);
    }
  }

  private static double[] readDoubles(DataInputStream d) throws IOException {
    int n = d.readInt();
    if (n < 0 || n > MAX_GROUPS) {
      throw new CheckpointException(
          "scheduler state is corrupted (an array of " + n + " values); nothing was loaded");
    }
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = d.readDouble();
    }
    return out;
  }

  // --- checks on load ---

  /**
   * Throws unless this saved state is for a scheduler of {@code expectedKind} built with {@code
   * expectedConfig} over {@code expectedGroups} groups, with {@code expectedBaseLrs} base lrs, and
   * holds plausible values.
   */
  void checkMatches(
      String expectedKind, int expectedGroups, int expectedBaseLrs, String expectedConfig)
      throws CheckpointException {
    if (!kind.equals(expectedKind)) {
      throw new CheckpointException(
          "the scheduler state holds a "
              + kind
              + ", this one is "
              + expectedKind
              + "; nothing was loaded");
    }
    if (groups != expectedGroups) {
      throw new CheckpointException(
          "the "
              + kind
              + " state is for "
              + groups
              + " param groups, this "
              + kind
              + " has "
              + expectedGroups
              + "; nothing was loaded");
    }
    if (!config.equals(expectedConfig)) {
      throw new CheckpointException(
          "the "
              + kind
              + " state was saved with "
              + config
              + ", this "
              + kind
              + " was built with "
              + expectedConfig
              + "; nothing was loaded");
    }
    checkLength("base lrs", baseLrs, expectedBaseLrs);
    checkLength("last lrs", lastLr, expectedGroups);
    checkLength("group lrs", groupLrs, expectedGroups);
    for (double[] a : new double[][] {baseLrs, lastLr, groupLrs}) {
      for (double v : a) {
        if (!(v >= 0.0) || Double.isInfinite(v)) {
          throw new CheckpointException(
              "the " + kind + " state is corrupted (learning rate " + v + "); nothing was loaded");
        }
      }
    }
    if (lastEpoch < -1) {
      throw new CheckpointException(
          "the " + kind + " state is corrupted (last epoch " + lastEpoch + "); nothing was loaded");
    }
  }

  void checkExtraLength(int expected) throws CheckpointException {
    checkLength("numbers", extra, expected);
  }

  private void checkLength(String what, double[] a, int expected) throws CheckpointException {
    if (a.length != expected) {
      throw new CheckpointException(
          "the "
              + kind
              + " state is corrupted ("
              + a.length
              + " "
              + what
              + ", expected "
              + expected
              + "); nothing was loaded");
    }
  }
}
