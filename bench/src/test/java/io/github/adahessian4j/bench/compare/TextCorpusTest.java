package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextCorpusTest {
  @TempDir Path cache;

  /** 320 characters: four windows of 65 fit. */
  private static final String TRAIN = "The jury said .\nIt was \"fine\" .\n".repeat(10);

  private static final String VALID =
      "A second text, longer than one window of 65 characters .\n".repeat(2);

  @Test
  void tokenisesNewlineAndPrintableAsciiAndBack() throws IOException {
    byte[] tokens = TextCorpus.tokenise(Path.of("t"), "a ~\n".getBytes(StandardCharsets.US_ASCII));
    assertArrayEquals(new byte[] {'a' - 31, 1, 95, 0}, tokens);
    StringBuilder back = new StringBuilder();
    for (byte t : tokens) {
      back.append(TextCorpus.character(t));
    }
    assertEquals("a ~\n", back.toString());
  }

  /**
   * A language model stuck at the characters' frequencies (constant logits, the log of each
   * character's share of the validation targets) is "at chance", though it predicts the space right
   * more often than 1.5 in 10; one that ends clearly below that loss is not.
   */
  @Test
  void aLanguageModelThatLearnedOnlyTheFrequenciesIsAtChance() throws IOException {
    try (DataSet data = DataSet.load("synthetic-text", null, 16, 64);
        PointerScope scope = new PointerScope()) {
      Tensor y = data.val().labels().reshape(-1);
      Tensor counts =
          torch.bincount(y, new TensorOptional(), TextCorpus.VOCAB).to(torch.ScalarType.Double);
      long n = y.numel();
      Tensor logits = counts.div(new Scalar((double) n)).clamp_min(new Scalar(1e-300)).log();
      double frequenciesOnly =
          torch
              .cross_entropy_loss(logits.unsqueeze(0).expand(n, TextCorpus.VOCAB), y)
              .item_double();
      assertEquals(frequenciesOnly, data.unigramLoss(), 1e-9 * frequenciesOnly);
      double accuracy = counts.max().item_double() / n; // the space, predicted everywhere
      assertTrue(accuracy > 1.5 / DataSet.CLASSES, "the accuracy rule alone misses it");
      double untrained = Math.log(TextCorpus.VOCAB);
      assertEquals(
          "at chance", TrainingRun.failure(false, untrained, frequenciesOnly, accuracy, data));
      assertNull(TrainingRun.failure(false, untrained, 0.85 * frequenciesOnly, accuracy, data));
      assertEquals("diverged", TrainingRun.failure(false, 1.0, frequenciesOnly, accuracy, data));
    }
    try (DataSet images = DataSet.load("synthetic", null, 16, 16)) {
      assertTrue(Double.isNaN(images.unigramLoss()));
      assertEquals("at chance", TrainingRun.failure(false, 2.3, 2.2, 0.14, images));
      assertNull(TrainingRun.failure(false, 2.3, 2.2, 0.16, images));
    }
  }

  @Test
  void refusesAByteOutsideTheVocabularyNamingFileAndOffset() {
    IOException e =
        assertThrows(
            IOException.class,
            () -> TextCorpus.tokenise(Path.of("x/train.txt"), new byte[] {'a', 9, 'b'}));
    assertEquals(
        "x/train.txt: byte 9 at offset 1 is neither printable ASCII nor a newline", e.getMessage());
  }

  @Test
  void windowsAreInputsAndTheNextCharacters() throws IOException {
    byte[] tokens = new byte[23];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = (byte) i;
    }
    // every window that fits: (23 - 1) / 5 = 4, consecutive
    DataSet.Split all = TextCorpus.windows(tokens, 5, 0);
    assertEquals(4, all.size());
    assertArrayEquals(new long[] {4, 5}, all.images().sizes().vec().get());
    assertEquals(15, all.images().get(3).get(0).item_long());
    assertEquals(16, all.labels().get(3).get(0).item_long());
    assertEquals(20, all.labels().get(3).get(4).item_long());
    // two windows spread over the text: starts 0 and (23 - 1 - 5) / 2 = 8
    DataSet.Split two = TextCorpus.windows(tokens, 5, 2);
    assertEquals(2, two.size());
    assertEquals(8, two.images().get(1).get(0).item_long());
    assertEquals(13, two.labels().get(1).get(4).item_long());
    assertThrows(IllegalArgumentException.class, () -> TextCorpus.windows(new byte[5], 5, 0));
  }

  @Test
  void readsTheConvertedCorpusAndChecksItsSums() throws IOException {
    Path dir = corpus();
    TextCorpus.Text text = TextCorpus.read(dir);
    assertEquals(TRAIN.length(), text.train().length);
    assertEquals('T' - 31, text.train()[0]);
    assertEquals(VALID.length(), text.valid().length);

    try (DataSet data = DataSet.loadText("brown", cache, 3, 0, TransformerLm.CONTEXT)) {
      assertNull(data.notice());
      assertEquals("brown", data.name());
      assertEquals(3, data.train().size());
      assertEquals(1, data.val().size(), "all that fit: one window");
      assertArrayEquals(
          new long[] {3, TransformerLm.CONTEXT}, data.train().images().sizes().vec().get());
    }
  }

  @Test
  void aTruncatedOrCorruptFileIsAnErrorNamingIt() throws IOException {
    Path dir = corpus();
    Path train = dir.resolve("train.txt");
    Files.write(train, TRAIN.substring(0, 10).getBytes(StandardCharsets.US_ASCII));
    IOException truncated = assertThrows(IOException.class, () -> TextCorpus.read(dir));
    assertTrue(
        truncated.getMessage().startsWith(train + ": corrupt or truncated (10 bytes, sha256 "),
        truncated.getMessage());
    assertTrue(truncated.getMessage().contains("setup-data.sh --force"), truncated.getMessage());
    IOException viaDataSet =
        assertThrows(
            IOException.class, () -> DataSet.loadText("brown", cache, 0, 0, TransformerLm.CONTEXT));
    assertEquals(truncated.getMessage(), viaDataSet.getMessage());

    Files.delete(dir.resolve(TextCorpus.SUMS));
    IOException noSums = assertThrows(IOException.class, () -> TextCorpus.read(dir));
    assertTrue(noSums.getMessage().contains("missing " + dir.resolve("SHA256SUMS")));
  }

  @Test
  void withoutTheCorpusFallsBackToSyntheticTextAndSaysWhatToRun() throws IOException {
    try (DataSet data = DataSet.loadText("brown", cache, 20, 5, TransformerLm.CONTEXT)) {
      assertEquals("synthetic-text", data.name());
      assertTrue(data.notice().contains("no Brown corpus in " + cache.resolve("brown")));
      assertTrue(data.notice().contains("Run bench/data/setup-data.sh once"), data.notice());
      assertEquals(20, data.train().size());
      assertEquals(5, data.val().size());
      Tensor x = data.train().images();
      assertArrayEquals(new long[] {20, TransformerLm.CONTEXT}, x.sizes().vec().get());
      // targets are the inputs shifted by one
      assertEquals(x.get(0).get(1).item_long(), data.train().labels().get(0).get(0).item_long());
    }
    assertArrayEquals(TextCorpus.synthetic(500, 1), TextCorpus.synthetic(500, 1));
  }

  private Path corpus() throws IOException {
    Path dir = Files.createDirectories(cache.resolve("brown"));
    StringBuilder sums = new StringBuilder();
    for (String[] file : new String[][] {{"train.txt", TRAIN}, {"valid.txt", VALID}}) {
      byte[] bytes = file[1].getBytes(StandardCharsets.US_ASCII);
      Files.write(dir.resolve(file[0]), bytes);
      sums.append(sha256(bytes)).append("  ").append(file[0]).append('\n');
    }
    Files.writeString(dir.resolve(TextCorpus.SUMS), sums);
    return dir;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
