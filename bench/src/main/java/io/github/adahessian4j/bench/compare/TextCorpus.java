package io.github.adahessian4j.bench.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;

/**
 * The text of the language model: the Brown corpus as {@code bench/data/setup-data.sh} converts it
 * ({@code <cache>/brown/train.txt}, {@code valid.txt} and their {@code SHA256SUMS}), tokenised one
 * character a token. The vocabulary is fixed, {@value #VOCAB} tokens: newline is 0, the printable
 * ASCII characters 32 to 126 are 1 to 95; any other byte makes a file corrupt.
 *
 * <p>Samples are windows of {@code length + 1} consecutive characters: the first {@code length} are
 * the input, the last {@code length} the targets (the next character at each position).
 */
final class TextCorpus {
  /** Tokens: newline and the 95 printable ASCII characters. */
  static final int VOCAB = 96;

  static final String[] FILES = {"train.txt", "valid.txt"};
  static final String SUMS = "SHA256SUMS";

  private TextCorpus() {}

  /** The training and validation text as tokens. */
  record Text(byte[] train, byte[] valid) {}

  /**
   * Reads {@code dir}'s two files, checks each against {@code SHA256SUMS} and tokenises it.
   *
   * @throws IOException naming the file that is missing, corrupt (its checksum differs: a truncated
   *     file too) or holds a character outside the vocabulary
   */
  static Text read(Path dir) throws IOException {
    Map<String, String> sums = sums(dir.resolve(SUMS));
    byte[][] tokens = new byte[FILES.length][];
    for (int i = 0; i < FILES.length; i++) {
      Path file = dir.resolve(FILES[i]);
      if (!Files.isRegularFile(file)) {
        throw new IOException("missing " + file + ": run bench/data/setup-data.sh --force");
      }
      byte[] bytes = Files.readAllBytes(file);
      String expected = sums.get(FILES[i]);
      if (expected == null) {
        throw new IOException(dir.resolve(SUMS) + " has no line for " + FILES[i]);
      }
      String actual = sha256(bytes);
      if (!actual.equals(expected)) {
        throw new IOException(
            file
                + ": corrupt or truncated ("
                + bytes.length
                + " bytes, sha256 "
                + actual
                + ", expected "
                + expected
                + "): run bench/data/setup-data.sh --force");
      }
      tokens[i] = tokenise(file, bytes);
    }
    return new Text(tokens[0], tokens[1]);
  }

  /** The tokens of {@code bytes}, read from {@code file} (named in the error). */
  static byte[] tokenise(Path file, byte[] bytes) throws IOException {
    byte[] tokens = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      int c = Byte.toUnsignedInt(bytes[i]);
      if (c == '\n') {
        tokens[i] = 0;
      } else if (c >= 32 && c <= 126) {
        tokens[i] = (byte) (c - 31);
      } else {
        throw new IOException(
            file + ": byte " + c + " at offset " + i + " is neither printable ASCII nor a newline");
      }
    }
    return tokens;
  }

  /**
   * The entropy in nats of the characters among {@code targets} (int64 tokens): the cross-entropy
   * that predicting every target from these characters' frequencies alone, without context, reaches
   * on them, and no model that ignores the context goes below.
   */
  static double unigramEntropy(Tensor targets) {
    long[] tokens = new long[Math.toIntExact(targets.numel())];
    try (PointerScope scope = new PointerScope()) {
      targets.contiguous().data_ptr_long().get(tokens);
    }
    long[] counts = new long[VOCAB];
    for (long t : tokens) {
      counts[(int) t]++;
    }
    double entropy = 0;
    for (long c : counts) {
      if (c > 0) {
        double p = (double) c / tokens.length;
        entropy -= p * Math.log(p);
      }
    }
    return entropy;
  }

  /** The character of {@code token}: the inverse of {@link #tokenise}. */
  static char character(int token) {
    return token == 0 ? '\n' : (char) (token + 31);
  }

  /**
   * {@code count} windows of {@code length + 1} tokens spread evenly over {@code tokens} (0 or more
   * than fit: every consecutive window that fits, not overlapping): inputs {@code [n, length]} and
   * targets {@code [n, length]}, int64.
   */
  static DataSet.Split windows(byte[] tokens, int length, int count) {
    int fit = (tokens.length - 1) / length;
    if (fit < 1) {
      throw new IllegalArgumentException(
          "a text of " + tokens.length + " characters holds no window of " + (length + 1));
    }
    int n = count == 0 || count > fit ? fit : count;
    long span = tokens.length - 1 - length;
    long[] x = new long[n * length];
    long[] y = new long[n * length];
    for (int i = 0; i < n; i++) {
      int start = n == fit ? i * length : (int) (i * span / n);
      for (int t = 0; t < length; t++) {
        x[i * length + t] = tokens[start + t];
        y[i * length + t] = tokens[start + t + 1];
      }
    }
    return new DataSet.Split(
        AbstractTensor.create(x, n, length), AbstractTensor.create(y, n, length), n);
  }

  /**
   * A deterministic stand-in for the corpus: sentences of 4 to 12 words drawn with Zipf-like
   * frequencies from a fixed list, capitalised, ending in a period, one a line; {@code characters}
   * long (cut mid-sentence). The same seed gives the same text.
   */
  static byte[] synthetic(int characters, long seed) {
    String[] words = {
      "the", "of", "and", "to", "a", "in", "that", "is", "was", "he", "for", "it", "with", "as",
      "his", "on", "be", "at", "by", "had", "are", "but", "from", "or", "have", "an", "they",
      "which", "one", "you", "were", "all", "we", "her", "she", "there", "would", "their", "will",
      "when", "who", "him", "been", "has", "more", "if", "no", "out", "so", "said", "what", "up",
      "its", "about", "into", "than", "them", "can", "only", "other", "new", "some", "could",
      "time", "these", "two", "may", "then", "do", "first", "any", "my", "now", "such", "like"
    };
    double[] cumulative = new double[words.length];
    double total = 0;
    for (int i = 0; i < words.length; i++) {
      total += 1.0 / (i + 1);
      cumulative[i] = total;
    }
    Random random = new Random(seed);
    StringBuilder text = new StringBuilder(characters + 100);
    while (text.length() < characters) {
      int length = 4 + random.nextInt(9);
      for (int w = 0; w < length; w++) {
        double u = random.nextDouble() * total;
        int k = 0;
        while (cumulative[k] < u) {
          k++;
        }
        String word = words[k];
        text.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
        text.append(w == length - 1 ? " .\n" : " ");
      }
    }
    byte[] tokens = new byte[characters];
    for (int i = 0; i < characters; i++) {
      char c = text.charAt(i);
      tokens[i] = (byte) (c == '\n' ? 0 : c - 31);
    }
    return tokens;
  }

  private static Map<String, String> sums(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("missing " + file + ": run bench/data/setup-data.sh --force");
    }
    Map<String, String> sums = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      String[] parts = line.trim().split("\\s+\\*?");
      if (parts.length != 2 || parts[0].length() != 64) {
        throw new IOException(file + ": not a sha256sum line: '" + line + "'");
      }
      sums.put(parts[1], parts[0]);
    }
    return sums;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
