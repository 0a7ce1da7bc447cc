package io.github.adahessian4j;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UTFDataFormatException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The optimizer checkpoint format. Version 4, all integers big-endian, tensor data raw
 * little-endian (version 1, which still loads, also stored AdaHessian's Hessian refresh counters,
 * which always equal the step counts; versions 1 and 2, which still load, had no AdaHessian Hessian
 * warm-up: they load as warm-up 0; versions 1 to 3, which still load, had no AdaHessian activity: a
 * parameter never stepped loads as dormant once any parameter was stepped, the others as awake):
 *
 * <pre>
 *   "AH4JCKPT" | int version | UTF kind
 *   int groups | per group: int params, options (kind-specific)
 *   int params | per param: int rank, long[rank] shape, int dtype, long step
 *   extra (kind-specific: AdaHessian's probe generator, refresh schedule, block sizes and
 *          per param a byte: awake 0, dormant 1, waiting 2)
 *   per state name, per param: byte present | int dtype, long bytes, data
 *   long CRC-32 of everything before it
 * </pre>
 *
 * Saving writes a temporary file next to the target, forces it to disk and renames it over the
 * target, so a crash leaves the previous checkpoint intact. Loading reads and checks everything
 * (checksum, kind, shapes, dtypes) into new tensors before it replaces any state.
 */
final class Checkpoint {
  static final int VERSION = 4;
  private static final byte[] MAGIC =
      "AH4JCKPT".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final int CHUNK = 1 << 16;

  private Checkpoint() {}

  /** What a subclass adds to the common format. */
  interface Codec<O extends GroupOptions<O>> {
    void writeOptions(DataOutputStream out, O options) throws IOException;

    O readOptions(DataInputStream in) throws IOException;

    void writeExtra(DataOutputStream out) throws IOException;

    /**
     * Reads and checks the extra section of a checkpoint of format {@code version}; returns what
     * commits it.
     */
    Runnable readExtra(DataInputStream in, int version) throws IOException;
  }

  static <O extends GroupOptions<O>> void save(FusedOptimizer<O> opt, Codec<O> codec, Path file)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      try (OutputStream raw = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
        BufferedOutputStream buffered = new BufferedOutputStream(raw, CHUNK);
        write(opt, codec, buffered);
      }
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Writes the checkpoint to {@code sink} and flushes it (does not close it). */
  static <O extends GroupOptions<O>> void write(
      FusedOptimizer<O> opt, Codec<O> codec, OutputStream sink) throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(sink, new CRC32());
    DataOutputStream out = new DataOutputStream(checked);
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeUTF(opt.kind());
    List<ParamGroup<O>> groups = opt.paramGroups();
    out.writeInt(groups.size());
    for (ParamGroup<O> g : groups) {
      out.writeInt(g.params().size());
      codec.writeOptions(out, g.options());
    }
    out.writeInt(opt.params.length);
    for (int i = 0; i < opt.params.length; i++) {
      out.writeInt(opt.shapes[i].length);
      for (long d : opt.shapes[i]) {
        out.writeLong(d);
      }
      out.writeInt(opt.params[i].scalar_type().value);
      out.writeLong(opt.steps[i]);
    }
    codec.writeExtra(out);
    for (FusedOptimizer.State state : opt.states()) {
      for (Tensor t : state.values) {
        writeTensor(out, t);
      }
    }
    out.flush();
    out.writeLong(checked.getChecksum().getValue());
    out.flush();
  }

  static <O extends GroupOptions<O>> void load(FusedOptimizer<O> opt, Codec<O> codec, Path file)
      throws IOException {
    try (InputStream raw = Files.newInputStream(file)) {
      read(opt, codec, new BufferedInputStream(raw, CHUNK), file.toString(), true);
    }
  }

  /**
   * Reads a checkpoint from {@code source} exactly up to its checksum, checks everything, then
   * commits; {@code wholeSource}: nothing may follow the checksum (a file).
   */
  static <O extends GroupOptions<O>> void read(
      FusedOptimizer<O> opt, Codec<O> codec, InputStream source, String file, boolean wholeSource)
      throws IOException {
    List<Tensor> staged = new ArrayList<>();
    boolean committed = false;
    try {
      CheckedInputStream checked = new CheckedInputStream(source, new CRC32());
      DataInputStream in = new DataInputStream(checked);
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw bad(file, "not an AdaHessian4J checkpoint (wrong magic bytes)");
      }
      int version = in.readInt();
      if (version > VERSION) {
        throw bad(
            file,
            "format version "
                + version
                + " is newer than this library reads ("
                + VERSION
                + "): load it with the adahessian4j version that wrote it, or a newer one");
      }
      if (version < 1) {
        throw bad(file, "unknown format version " + version);
      }
      String kind;
      try {
        kind = in.readUTF();
      } catch (UTFDataFormatException e) {
        throw bad(file, "its optimizer kind is not valid modified UTF-8");
      }
      if (!kind.equals(opt.kind())) {
        throw bad(file, "it is the checkpoint of " + kind + ", this optimizer is " + opt.kind());
      }
      List<ParamGroup<O>> groups = opt.paramGroups();
      int groupCount = in.readInt();
      if (groupCount != groups.size()) {
        throw bad(
            file,
            "it has " + groupCount + " parameter groups, this optimizer has " + groups.size());
      }
      List<O> options = new ArrayList<>();
      for (int g = 0; g < groupCount; g++) {
        int size = in.readInt();
        if (size != groups.get(g).params().size()) {
          throw bad(
              file,
              "its group "
                  + g
                  + " has "
                  + size
                  + " parameters, this optimizer's has "
                  + groups.get(g).params().size());
        }
        try {
          options.add(codec.readOptions(in));
        } catch (IllegalArgumentException e) {
          throw bad(file, "group " + g + " has invalid options: " + e.getMessage());
        }
      }
      int n = in.readInt();
      if (n != opt.params.length) {
        throw bad(file, "it has " + n + " parameters, this optimizer has " + opt.params.length);
      }
      long[] steps = new long[n];
      for (int i = 0; i < n; i++) {
        int rank = in.readInt();
        if (rank < 0 || rank > 64) {
          throw bad(file, "parameter " + i + " has an impossible rank " + rank);
        }
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) {
          shape[d] = in.readLong();
        }
        int dtype = in.readInt();
        int ownDtype = opt.params[i].scalar_type().value;
        boolean sameShape = Arrays.equals(shape, opt.shapes[i]);
        boolean sameDtype = dtype == ownDtype;
        if (!sameShape || !sameDtype) {
          throw bad(
              file,
              opt.position(i)
                  + " has "
                  + (sameShape ? "dtype " : sameDtype ? "shape " : "shape and dtype ")
                  + shapeAndDtype(shape, dtype, !sameShape, !sameDtype)
                  + " in the checkpoint but "
                  + shapeAndDtype(opt.shapes[i], ownDtype, !sameShape, !sameDtype)
                  + " in this optimizer");
        }
        steps[i] = in.readLong();
        if (steps[i] < 0) {
          throw bad(file, "parameter " + i + " has a negative step count");
        }
      }
      Runnable commitExtra = codec.readExtra(in, version);
      Map<String, Tensor[]> loaded = new LinkedHashMap<>();
      for (FusedOptimizer.State state : opt.states()) {
        Tensor[] array = new Tensor[n];
        for (int i = 0; i < n; i++) {
          array[i] = readTensor(in, file, state.name, i, opt.shapes[i]);
          if (array[i] != null && !opt.params[i].is_cpu()) {
            Tensor host = array[i];
            array[i] = host.to(opt.params[i].device(), host.scalar_type());
            host.close();
          }
          if (array[i] != null) {
            staged.add(array[i]);
          }
        }
        loaded.put(state.name, array);
      }
      long expected = checked.getChecksum().getValue();
      long stored = in.readLong();
      if (stored != expected) {
        throw bad(file, "it is corrupted (CRC-32 mismatch)");
      }
      if (wholeSource && in.read() != -1) {
        throw bad(file, "it has trailing bytes after the checksum");
      }
      // Everything is read and checked: replace the state.
      for (FusedOptimizer.State state : opt.states()) {
        FusedOptimizer.closeAll(state.values);
        System.arraycopy(loaded.get(state.name), 0, state.values, 0, n);
      }
      System.arraycopy(steps, 0, opt.steps, 0, n);
      for (int g = 0; g < groupCount; g++) {
        groups.get(g).setOptions(options.get(g));
      }
      commitExtra.run();
      committed = true;
    } catch (EOFException e) {
      throw bad(file, "it is truncated");
    } finally {
      if (!committed) {
        for (Tensor t : staged) {
          t.close();
        }
      }
    }
  }

  static CheckpointException bad(String source, String why) {
    return new CheckpointException(
        "cannot load checkpoint " + source + ": " + why + "; nothing was loaded");
  }

  private static int elementSize(int dtype) {
    if (dtype == torch.ScalarType.Float.value) {
      return 4;
    }
    if (dtype == torch.ScalarType.Double.value) {
      return 8;
    }
    if (dtype == torch.ScalarType.Half.value || dtype == torch.ScalarType.BFloat16.value) {
      return 2;
    }
    return -1;
  }

  /** The ScalarType whose code is {@code dtype}, or null. */
  private static torch.ScalarType scalarType(int dtype) {
    for (torch.ScalarType t : torch.ScalarType.values()) {
      if (t.value == dtype) {
        return t;
      }
    }
    return null;
  }

  private static String dtypeName(int dtype) {
    torch.ScalarType t = scalarType(dtype);
    return t != null ? t.name() : "code " + dtype;
  }

  /** "[2, 3]", "Float" or "[2, 3] Float": the parts of a parameter's description that differ. */
  private static String shapeAndDtype(
      long[] shape, int dtype, boolean withShape, boolean withDtype) {
    String s = withShape ? Natives.shape(shape) : "";
    return withDtype ? (withShape ? s + " " : "") + dtypeName(dtype) : s;
  }

  private static void writeTensor(DataOutputStream out, Tensor t) throws IOException {
    if (t == null) {
      out.writeByte(0);
      return;
    }
    if (!t.is_cpu()) {
      try (Tensor host = t.cpu()) {
        writeTensor(out, host);
      }
      return;
    }
    out.writeByte(1);
    int dtype = t.scalar_type().value;
    long bytes = t.numel() * elementSize(dtype);
    out.writeInt(dtype);
    out.writeLong(bytes);
    if (bytes == 0) {
      return;
    }
    BytePointer data = new BytePointer(t.data_ptr()).capacity(bytes);
    byte[] chunk = new byte[(int) Math.min(CHUNK, bytes)];
    for (long off = 0; off < bytes; off += chunk.length) {
      int len = (int) Math.min(chunk.length, bytes - off);
      data.position(off).get(chunk, 0, len);
      out.write(chunk, 0, len);
    }
  }

  private static Tensor readTensor(
      DataInputStream in, String file, String name, int i, long[] shape) throws IOException {
    int present = in.readByte();
    if (present == 0) {
      return null;
    }
    if (present != 1) {
      throw bad(file, name + " of parameter " + i + " has a bad presence flag");
    }
    int dtype = in.readInt();
    long bytes = in.readLong();
    int size = elementSize(dtype);
    long numel = 1;
    for (long d : shape) {
      numel *= d;
    }
    if (size < 0 || bytes != numel * size) {
      throw bad(
          file,
          name
              + " of parameter "
              + i
              + " does not fit shape "
              + Natives.shape(shape)
              + " (dtype "
              + dtypeName(dtype)
              + ", "
              + bytes
              + " bytes)");
    }
    Tensor t = torch.empty(shape, new TensorOptions(scalarType(dtype)), new MemoryFormatOptional());
    if (bytes > 0) {
      BytePointer data = new BytePointer(t.data_ptr()).capacity(bytes);
      byte[] chunk = new byte[(int) Math.min(CHUNK, bytes)];
      for (long off = 0; off < bytes; off += chunk.length) {
        int len = (int) Math.min(chunk.length, bytes - off);
        try {
          in.readFully(chunk, 0, len);
        } catch (EOFException e) {
          t.close();
          throw e;
        }
        data.position(off).put(chunk, 0, len);
      }
    }
    return t;
  }
}
