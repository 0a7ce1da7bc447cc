package io.github.adahessian4j.distributed;

import io.github.adahessian4j.CheckpointException;
import io.github.adahessian4j.Optimizer;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Everything a run needs to resume bit for bit, saved and resumed with one call each on every rank:
 * the model's parameters and buffers, the optimizer's checkpoint (its moments, step counts and
 * AdaHessian's probe generator), the sampler's epoch, the step reached (the position in the run:
 * the epoch's batch follows from it), libtorch's default CPU generator (dropout, {@code randn},
 * {@code randperm} without a generator of their own), the libtorch generators and the Java {@link
 * Random}s the run registers. With {@link Launcher#maxRestarts} a failed run starts again and
 * resumes from the newest checkpoint that every rank completed.
 *
 * <pre>{@code
 * TrainingState state = new TrainingState(runDir, group).model(model).optimizer(opt).sampler(sampler);
 * Random noise = state.random(7);          // a java.util.Random whose state is saved too
 * long start = state.resume();             // 0, or the step of the newest checkpoint of every rank
 * for (long step = start; step < steps; step++) {
 *   ...
 *   if ((step + 1) % 10 == 0) {
 *     state.save(step + 1);
 *   }
 * }
 * }</pre>
 *
 * <p><b>Every rank saves its own file</b> ({@code step-S.rank-R.ah4j} in the run directory), not
 * rank 0 alone: then no machine needs a file system shared with the others, a rank never reads a
 * file that another is writing, and what may differ between ranks (a generator seeded with the
 * rank, for data augmentation) is kept. Each file is written to a temporary file, forced to disk
 * and renamed over its name, so a rank killed while saving leaves its previous checkpoint. {@link
 * #save} then waits for every rank ({@link ProcessGroup#barrier()}) and only after that deletes
 * this rank's older checkpoints; {@link #resume} agrees with the other ranks on the newest step
 * that every rank has (a rank killed between its save and the barrier leaves the others one step
 * ahead: they all go back to the previous one) and deletes this rank's newer files. The files hold
 * a CRC-32; a file that is truncated, corrupted or does not fit what was registered throws a {@link
 * CheckpointException} naming it, and changes nothing.
 *
 * <p>Register everything before the first {@link #resume} or {@link #save}, in the same order on
 * every start. Without a group ({@link #TrainingState(Path)}) it is one process's checkpoint.
 */
public final class TrainingState {
  private static final byte[] MAGIC = "AH4JSTATE".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;
  private static final int CHUNK = 1 << 16;
  private static final String SUFFIX = ".ah4j";

  private final Path directory;
  private final ProcessGroup group;
  private final int rank;
  private final int worldSize;
  private final Pattern ownFile;
  private final Pattern ownTemp;
  private final List<String> names = new ArrayList<>();
  private final List<Tensor> tensors = new ArrayList<>();
  private final List<Generator> generators = new ArrayList<>();
  private final List<SavedRandom> randoms = new ArrayList<>();
  private Optimizer optimizer;
  private DistributedSampler sampler;
  private boolean started;

  /**
   * The training state of this rank of {@code group}, saved in {@code directory} (machine-local or
   * shared: each rank writes only its own files).
   *
   * @param directory the run directory, created when missing
   * @param group the process group
   */
  public TrainingState(Path directory, ProcessGroup group) {
    this(directory, Objects.requireNonNull(group, "group"), group.rank(), group.worldSize());
  }

  /**
   * The training state of one process, without a group.
   *
   * @param directory the run directory, created when missing
   */
  public TrainingState(Path directory) {
    this(directory, null, 0, 1);
  }

  private TrainingState(Path directory, ProcessGroup group, int rank, int worldSize) {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.group = group;
    this.rank = rank;
    this.worldSize = worldSize;
    this.ownFile = Pattern.compile("step-(\\d+)\\.rank-" + rank + Pattern.quote(SUFFIX));
    this.ownTemp =
        Pattern.compile("step-\\d+\\.rank-" + rank + Pattern.quote(SUFFIX) + "\\d*\\.tmp");
  }

  /**
   * Registers the model: its parameters and buffers, recursively, by their names.
   *
   * @param module the model
   * @return this state
   */
  public TrainingState model(Module module) {
    Objects.requireNonNull(module, "module");
    beforeStart("model");
    add("parameter ", module.named_parameters(true));
    add("buffer ", module.named_buffers(true));
    return this;
  }

  /** The dictionary's tensors, as tensors of their own (the dictionary's references move). */
  private void add(String kind, StringTensorDict dict) {
    try (dict;
        StringVector keys = dict.keys()) {
      for (long k = 0; k < keys.size(); k++) {
        String name = keys.get(k).getString();
        names.add(kind + name);
        tensors.add(new Tensor(dict.get(name)));
      }
    }
  }

  /**
   * Registers tensors that are not a {@link Module}'s (for example {@code
   * TorchScriptModel.parameters()}), saved and restored in place in this order.
   *
   * @param list the tensors
   * @return this state
   */
  public TrainingState tensors(List<Tensor> list) {
    Objects.requireNonNull(list, "list");
    beforeStart("tensors");
    for (Tensor t : list) {
      names.add("tensor " + tensors.size());
      tensors.add(Objects.requireNonNull(t, "a tensor of the list"));
    }
    return this;
  }

  /**
   * Registers the optimizer: its checkpoint ({@link Optimizer#save(OutputStream)}) is part of the
   * state.
   *
   * @param opt the optimizer
   * @return this state
   */
  public TrainingState optimizer(Optimizer opt) {
    beforeStart("optimizer");
    if (optimizer != null) {
      throw new IllegalStateException("an optimizer is registered already");
    }
    this.optimizer = Objects.requireNonNull(opt, "opt");
    return this;
  }

  /**
   * Registers the sampler: its epoch is saved, and set again by {@link #resume}.
   *
   * @param s the sampler
   * @return this state
   */
  public TrainingState sampler(DistributedSampler s) {
    beforeStart("sampler");
    if (sampler != null) {
      throw new IllegalStateException("a sampler is registered already");
    }
    this.sampler = Objects.requireNonNull(s, "sampler");
    return this;
  }

  /**
   * Registers a libtorch generator of the run's own (libtorch's default CPU generator is always
   * part of the state).
   *
   * @param generator a CPU generator
   * @return this state
   */
  public TrainingState generator(Generator generator) {
    Objects.requireNonNull(generator, "generator");
    beforeStart("generator");
    generators.add(generator);
    return this;
  }

  /**
   * A {@link Random} whose state is part of the training state: it draws exactly what {@code new
   * Random(seed)} draws (the same linear congruential generator), and {@link #resume} restores it
   * in place, the cached second Gaussian of {@link Random#nextGaussian()} included.
   *
   * @param seed the seed
   * @return the generator, to use instead of {@code new Random(seed)}
   */
  public Random random(long seed) {
    beforeStart("random");
    SavedRandom r = new SavedRandom(seed);
    randoms.add(r);
    return r;
  }

  private void beforeStart(String what) {
    if (started) {
      throw new IllegalStateException(
          "register the "
              + what
              + " before the first resume() or save(): a checkpoint holds what was registered then");
    }
  }

  /**
   * Saves this rank's state as the checkpoint of {@code step}, atomically, then waits for every
   * rank and deletes this rank's older checkpoints. Call it on every rank with the same step.
   *
   * @param step the steps taken so far, at least 0
   * @throws IOException if writing fails (the previous checkpoint is intact)
   * @throws CollectiveException if another rank fails meanwhile
   */
  public void save(long step) throws IOException {
    if (step < 0) {
      throw new IllegalArgumentException("Invalid step: " + step + " (must be at least 0)");
    }
    started = true;
    Files.createDirectories(directory);
    Path file = file(step);
    Path tmp = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
    try {
      try (OutputStream raw = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
        write(step, new BufferedOutputStream(raw, CHUNK));
      }
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    if (group != null) {
      group.barrier();
    }
    for (long s : ownSteps()) {
      if (s < step) {
        Files.deleteIfExists(file(s));
      }
    }
  }

  /**
   * Restores the newest checkpoint that every rank has, or keeps the state as it is when some rank
   * has none. Call it on every rank, after registering, before the first step.
   *
   * @return the step of the checkpoint restored, or 0 when none was
   * @throws IOException if reading fails
   * @throws CheckpointException if this rank's file of that step is missing, truncated, corrupted,
   *     or does not fit what was registered (nothing is changed)
   * @throws CollectiveException if another rank fails meanwhile
   */
  public long resume() throws IOException {
    started = true;
    if (Files.isDirectory(directory)) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
        for (Path f : files) {
          if (ownTemp.matcher(f.getFileName().toString()).matches()) {
            Files.deleteIfExists(f); // left by a save of this rank that was killed
          }
        }
      }
    }
    TreeSet<Long> own = ownSteps();
    long newest = own.isEmpty() ? -1 : own.last();
    long step = group == null ? newest : newestOfEveryRank(newest);
    for (long s : own) {
      if (s > step) {
        Files.deleteIfExists(file(s)); // a checkpoint that not every rank completed
      }
    }
    if (step < 0) {
      return 0;
    }
    read(file(step), step);
    return step;
  }

  /** The smallest of every rank's newest step (-1: some rank has none). */
  private long newestOfEveryRank(long newest) {
    try (PointerScope scope = new PointerScope()) {
      // Each rank's value at its own index, times the world size: the mean is every rank's value.
      double[] mine = new double[worldSize];
      mine[rank] = (double) newest * worldSize;
      Tensor all = AbstractTensor.create(mine).clone();
      group.allReduceMean(List.of(all));
      new DoublePointer(all.data_ptr()).capacity(worldSize).get(mine);
      long smallest = Long.MAX_VALUE;
      for (double v : mine) {
        smallest = Math.min(smallest, Math.round(v));
      }
      return smallest;
    }
  }

  /** This rank's checkpoint of {@code step}. */
  Path file(long step) {
    return directory.resolve(String.format("step-%012d.rank-%d%s", step, rank, SUFFIX));
  }

  /** The steps of this rank's checkpoints in the directory. */
  private TreeSet<Long> ownSteps() throws IOException {
    TreeSet<Long> steps = new TreeSet<>();
    if (!Files.isDirectory(directory)) {
      return steps;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
      for (Path f : files) {
        Matcher m = ownFile.matcher(f.getFileName().toString());
        if (m.matches()) {
          steps.add(Long.parseLong(m.group(1)));
        }
      }
    }
    return steps;
  }

  private void write(long step, OutputStream sink) throws IOException {
    CheckedOutputStream checked = new CheckedOutputStream(sink, new CRC32());
    DataOutputStream out = new DataOutputStream(checked);
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeLong(step);
    out.writeInt(rank);
    out.writeInt(worldSize);
    out.writeBoolean(sampler != null);
    out.writeLong(sampler == null ? 0 : sampler.epoch());
    out.writeInt(tensors.size());
    for (int i = 0; i < tensors.size(); i++) {
      out.writeUTF(names.get(i));
      writeTensor(out, tensors.get(i));
    }
    byte[] opt = new byte[0];
    if (optimizer != null) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      optimizer.save(bytes);
      opt = bytes.toByteArray();
    }
    out.writeInt(opt.length);
    out.write(opt);
    List<Generator> all = allGenerators();
    out.writeInt(all.size());
    for (Generator g : all) {
      try (PointerScope scope = new PointerScope()) {
        writeTensor(out, g.get_state());
      }
    }
    out.writeInt(randoms.size());
    for (SavedRandom r : randoms) {
      r.write(out);
    }
    out.flush();
    out.writeLong(checked.getChecksum().getValue());
    out.flush();
  }

  private List<Generator> allGenerators() {
    List<Generator> all = new ArrayList<>();
    all.add(torch.getDefaultCPUGenerator());
    all.addAll(generators);
    return all;
  }

  /** Reads and checks everything of {@code file}, then restores it. */
  private void read(Path file, long step) throws IOException {
    if (!Files.exists(file)) {
      throw bad(
          file,
          "this rank has no checkpoint of step "
              + step
              + ", the newest that every rank has (were files removed from "
              + directory
              + "?)");
    }
    // No PointerScope here: the optimizer's state, which its load() makes, must outlive this call.
    List<Tensor> staged = new ArrayList<>();
    List<Tensor> temporary = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(file)) {
      CheckedInputStream checked =
          new CheckedInputStream(new BufferedInputStream(raw, CHUNK), new CRC32());
      DataInputStream in = new DataInputStream(checked);
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw bad(file, "not an AdaHessian4J training state (wrong magic bytes)");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw bad(file, "unknown format version " + version);
      }
      long savedStep = in.readLong();
      int savedRank = in.readInt();
      int savedWorld = in.readInt();
      if (savedStep != step || savedRank != rank || savedWorld != worldSize) {
        throw bad(
            file,
            "it holds step "
                + savedStep
                + " of rank "
                + savedRank
                + " of "
                + savedWorld
                + ", not step "
                + step
                + " of rank "
                + rank
                + " of "
                + worldSize
                + " (a run resumes with the world size it saved with)");
      }
      boolean hasSampler = in.readBoolean();
      long epoch = in.readLong();
      if (hasSampler != (sampler != null)) {
        throw bad(
            file, sampler != null ? "it holds no sampler's epoch" : "it holds a sampler's epoch");
      }
      int n = in.readInt();
      if (n != tensors.size()) {
        throw bad(
            file, "it holds " + n + " tensors of the model, " + tensors.size() + " are registered");
      }
      for (int i = 0; i < n; i++) {
        String name = in.readUTF();
        if (!name.equals(names.get(i))) {
          throw bad(
              file, "its tensor " + i + " is " + name + ", the registered one " + names.get(i));
        }
        staged.add(readTensor(in, file, name, tensors.get(i)));
      }
      int optLength = in.readInt();
      if (optLength < 0 || optLength > Files.size(file)) {
        throw bad(file, "it is corrupted (an optimizer section of " + optLength + " bytes)");
      }
      byte[] opt = new byte[optLength];
      in.readFully(opt);
      if ((opt.length > 0) != (optimizer != null)) {
        throw bad(file, optimizer != null ? "it holds no optimizer" : "it holds an optimizer");
      }
      List<Generator> gens = allGenerators();
      int g = in.readInt();
      if (g != gens.size()) {
        throw bad(
            file,
            "it holds "
                + g
                + " libtorch generators (the default one included), "
                + gens.size()
                + " are registered");
      }
      List<Tensor> states = new ArrayList<>();
      for (int i = 0; i < g; i++) {
        Tensor like = gens.get(i).get_state();
        temporary.add(like);
        states.add(readTensor(in, file, "libtorch generator " + i, like));
      }
      temporary.addAll(states);
      int nr = in.readInt();
      if (nr != randoms.size()) {
        throw bad(file, "it holds " + nr + " Java randoms, " + randoms.size() + " are registered");
      }
      long[] seeds = new long[nr];
      boolean[] haveGaussian = new boolean[nr];
      double[] gaussians = new double[nr];
      for (int i = 0; i < nr; i++) {
        seeds[i] = in.readLong();
        haveGaussian[i] = in.readBoolean();
        gaussians[i] = in.readDouble();
      }
      long expected = checked.getChecksum().getValue();
      if (in.readLong() != expected) {
        throw bad(file, "it is corrupted (CRC-32 mismatch)");
      }
      if (in.read() != -1) {
        throw bad(file, "it has trailing bytes after the checksum");
      }
      // Everything is read and checked. The optimizer checks its own part against its parameters
      // first: if it refuses, nothing has changed yet.
      if (optimizer != null) {
        optimizer.load(new ByteArrayInputStream(opt));
      }
      for (int i = 0; i < n; i++) {
        tensors.get(i).detach().copy_(staged.get(i));
      }
      for (int i = 0; i < g; i++) {
        gens.get(i).set_state(states.get(i));
      }
      for (int i = 0; i < nr; i++) {
        randoms.get(i).restore(seeds[i], haveGaussian[i], gaussians[i]);
      }
      if (sampler != null) {
        sampler.setEpoch(epoch);
      }
    } catch (EOFException e) {
      throw bad(file, "it is truncated");
    } finally {
      for (Tensor t : staged) {
        t.close();
      }
      for (Tensor t : temporary) {
        t.close();
      }
    }
  }

  private static CheckpointException bad(Path file, String why) {
    return new CheckpointException(
        "cannot resume from " + file + ": " + why + "; nothing was restored");
  }

  /** dtype, shape, bytes, the data of a CPU copy. */
  private static void writeTensor(DataOutputStream out, Tensor t) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      Tensor host = t.detach().cpu().contiguous();
      long[] shape = shape(host);
      out.writeInt(host.scalar_type().value);
      out.writeInt(shape.length);
      for (long d : shape) {
        out.writeLong(d);
      }
      long bytes = host.nbytes();
      out.writeLong(bytes);
      BytePointer data = new BytePointer(host.data_ptr()).capacity(bytes);
      byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(1, bytes))];
      for (long off = 0; off < bytes; off += chunk.length) {
        int len = (int) Math.min(chunk.length, bytes - off);
        data.position(off).get(chunk, 0, len);
        out.write(chunk, 0, len);
      }
    }
  }

  private static long[] shape(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int d = 0; d < shape.length; d++) {
      shape[d] = t.size(d);
    }
    return shape;
  }

  /** A tensor written by writeTensor, checked against {@code like}'s dtype and shape. */
  private static Tensor readTensor(DataInputStream in, Path file, String name, Tensor like)
      throws IOException {
    int dtype = in.readInt();
    int rank = in.readInt();
    if (rank < 0 || rank > 64) {
      throw bad(file, name + " has an impossible rank " + rank);
    }
    long[] shape = new long[rank];
    for (int d = 0; d < rank; d++) {
      shape[d] = in.readLong();
    }
    long bytes = in.readLong();
    long[] own = shape(like);
    if (dtype != like.scalar_type().value || !Arrays.equals(shape, own)) {
      throw bad(
          file,
          name
              + " has shape "
              + Arrays.toString(shape)
              + " and dtype code "
              + dtype
              + " there, "
              + Arrays.toString(own)
              + " and "
              + like.scalar_type()
              + " here");
    }
    Tensor t =
        torch.empty(shape, new TensorOptions(like.scalar_type()), new MemoryFormatOptional());
    if (bytes != t.nbytes()) {
      throw bad(file, name + " has " + bytes + " bytes, " + t.nbytes() + " expected");
    }
    BytePointer data = new BytePointer(t.data_ptr()).capacity(bytes);
    byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(1, bytes))];
    try {
      for (long off = 0; off < bytes; off += chunk.length) {
        int len = (int) Math.min(chunk.length, bytes - off);
        in.readFully(chunk, 0, len);
        data.position(off).put(chunk, 0, len);
      }
    } catch (IOException e) {
      t.close();
      throw e;
    }
    return t;
  }

  /**
   * {@link Random}'s generator with a state that can be saved and set: the linear congruential
   * generator and the Gaussian of {@link Random}'s documentation, on fields of its own.
   */
  private static final class SavedRandom extends Random {
    private static final long serialVersionUID = 1L;
    private static final long MULTIPLIER = 0x5DEECE66DL;
    private static final long ADDEND = 0xBL;
    private static final long MASK = (1L << 48) - 1;

    // Set by setSeed, which Random's constructor calls: no initializers, which would run after it.
    private long state;
    private boolean haveNextNextGaussian;
    private double nextNextGaussian;

    SavedRandom(long seed) {
      super(seed);
    }

    @Override
    public synchronized void setSeed(long seed) {
      state = (seed ^ MULTIPLIER) & MASK;
      haveNextNextGaussian = false;
    }

    @Override
    protected synchronized int next(int bits) {
      state = (state * MULTIPLIER + ADDEND) & MASK;
      return (int) (state >>> (48 - bits));
    }

    @Override
    public synchronized double nextGaussian() {
      if (haveNextNextGaussian) {
        haveNextNextGaussian = false;
        return nextNextGaussian;
      }
      double v1;
      double v2;
      double s;
      do {
        v1 = 2 * nextDouble() - 1;
        v2 = 2 * nextDouble() - 1;
        s = v1 * v1 + v2 * v2;
      } while (s >= 1 || s == 0);
      double multiplier = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
      nextNextGaussian = v2 * multiplier;
      haveNextNextGaussian = true;
      return v1 * multiplier;
    }

    synchronized void write(DataOutputStream out) throws IOException {
      out.writeLong(state);
      out.writeBoolean(haveNextNextGaussian);
      out.writeDouble(nextNextGaussian);
    }

    synchronized void restore(long savedState, boolean haveGaussian, double gaussian) {
      state = savedState;
      haveNextNextGaussian = haveGaussian;
      nextNextGaussian = gaussian;
    }
  }
}
