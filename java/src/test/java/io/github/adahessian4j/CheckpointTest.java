package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save, load, resume bit for bit; refuse bad files and change nothing. */
class CheckpointTest {
  @TempDir Path dir;

  private static List<double[]> values(List<Tensor> params) {
    List<double[]> out = new ArrayList<>();
    for (Tensor p : params) {
      out.add(T.values(p));
    }
    return out;
  }

  private static void assertBitEqual(List<double[]> expected, List<double[]> actual) {
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), 0.0, "parameter " + i);
    }
  }

  /** 20 uninterrupted steps. */
  private static List<double[]> uninterrupted() {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      try (AdaHessian opt = CheckpointResume.optimizer(model)) {
        CheckpointResume.train(opt, model, 20);
      }
      return values(model.params);
    }
  }

  /** 10 steps, then saves parameters and optimizer; returns the checkpoint file. */
  private Path trainTenAndSave(Path params) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      try (AdaHessian opt = CheckpointResume.optimizer(model)) {
        CheckpointResume.train(opt, model, 10);
        Path checkpoint = dir.resolve("opt.ckpt");
        opt.save(checkpoint);
        CheckpointResume.writeParams(model.params, params);
        return checkpoint;
      }
    }
  }

  @Test
  void resumesBitForBitInAnotherJvm() throws Exception {
    Path params = dir.resolve("params.bin");
    Path checkpoint = trainTenAndSave(params);
    Path out = dir.resolve("resumed.bin");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                CheckpointResume.class.getName(),
                params.toString(),
                checkpoint.toString(),
                out.toString(),
                "10")
            .inheritIO()
            .start();
    assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the second JVM did not finish");
    assertEquals(0, child.exitValue(), "the second JVM failed");
    try (PointerScope scope = new PointerScope()) {
      TestModel resumed = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      CheckpointResume.readParams(resumed.params, out);
      assertBitEqual(uninterrupted(), values(resumed.params));
    }
  }

  @Test
  void resumesBitForBitInThisJvmAndRestoresGroupOptions() throws Exception {
    Path params = dir.resolve("params.bin");
    Path checkpoint = trainTenAndSave(params);
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      CheckpointResume.readParams(model.params, params);
      try (AdaHessian opt = CheckpointResume.optimizer(model)) {
        opt.setLr(123.0); // overwritten by the checkpoint's group options
        opt.load(checkpoint);
        assertEquals(0.05, opt.paramGroups().get(0).options().lr());
        assertEquals(0.02, opt.paramGroups().get(1).options().lr());
        assertEquals(10, opt.stepCount(0));
        CheckpointResume.train(opt, model, 10);
      }
      assertBitEqual(uninterrupted(), values(model.params));
    }
  }

  @Test
  void adamWResumesBitForBit() throws Exception {
    List<double[]> expected;
    Path checkpoint = dir.resolve("adamw.ckpt");
    Path params = dir.resolve("adamw-params.bin");
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Double, 3);
      try (AdamW opt = AdamW.builder().amsgrad(true).lr(0.01).build(model.params)) {
        for (int i = 0; i < 20; i++) {
          if (i == 10) {
            opt.save(checkpoint);
            CheckpointResume.writeParams(model.params, params);
          }
          opt.zeroGrad();
          model.loss().backward();
          opt.step();
        }
      }
      expected = values(model.params);
    }
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Double, 3);
      CheckpointResume.readParams(model.params, params);
      try (AdamW opt = AdamW.builder().amsgrad(true).lr(0.01).build(model.params)) {
        opt.load(checkpoint);
        for (int i = 0; i < 10; i++) {
          opt.zeroGrad();
          model.loss().backward();
          opt.step();
        }
      }
      assertBitEqual(expected, values(model.params));
    }
  }

  /**
   * Loads {@code file} into a trained optimizer, expects {@code message}, and that nothing changed.
   */
  private void assertRefused(Path file, String messageSuffix) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      TestModel twin = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      try (AdaHessian opt = CheckpointResume.optimizer(model);
          AdaHessian control = CheckpointResume.optimizer(twin)) {
        CheckpointResume.train(opt, model, 4);
        CheckpointResume.train(control, twin, 4);
        CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(file));
        assertTrue(e.getMessage().endsWith(messageSuffix), e.getMessage());
        assertEquals(4, opt.stepCount(0));
        CheckpointResume.train(opt, model, 3);
        CheckpointResume.train(control, twin, 3);
        assertBitEqual(values(twin.params), values(model.params));
      }
    }
  }

  @Test
  void truncatedCorruptedAndMismatchedFilesAreRefused() throws Exception {
    Path checkpoint = trainTenAndSave(dir.resolve("p.bin"));
    byte[] good = Files.readAllBytes(checkpoint);

    Path truncated = dir.resolve("truncated.ckpt");
    Files.write(truncated, Arrays.copyOf(good, good.length / 2));
    assertRefused(truncated, ": it is truncated; nothing was loaded");

    Path corrupted = dir.resolve("corrupted.ckpt");
    byte[] flipped = good.clone();
    flipped[flipped.length - 100] ^= 0x10;
    Files.write(corrupted, flipped);
    assertRefused(corrupted, ": it is corrupted (CRC-32 mismatch); nothing was loaded");

    Path notOurs = dir.resolve("not-ours.ckpt");
    Files.write(notOurs, "hello, world, this is not a checkpoint".getBytes());
    assertRefused(
        notOurs, ": not an AdaHessian4J checkpoint (wrong magic bytes); nothing was loaded");

    Path adam = dir.resolve("adam.ckpt");
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      try (Adam opt = Adam.builder().build(model.params)) {
        opt.save(adam);
      }
    }
    assertRefused(
        adam, ": it is the checkpoint of Adam, this optimizer is AdaHessian; nothing was loaded");

    Path otherShapes = dir.resolve("other-shapes.ckpt");
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Double, CheckpointResume.MODEL_SEED);
      try (AdaHessian opt = CheckpointResume.optimizer(model)) {
        opt.save(otherShapes);
      }
    }
    assertRefused(
        otherShapes,
        ": parameter 0 (group 0, index 0) has dtype Double in the checkpoint but Float in this "
            + "optimizer; nothing was loaded");
  }

  /** A mismatched parameter is refused with what differs: its shape, its dtype, or both. */
  @Test
  void aMismatchedParameterNamesWhatDiffers() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      Adam saved = Adam.builder().build(List.of(T.randomParam(1, torch.ScalarType.Double, 2)));
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      saved.save(bytes);
      String[][] cases = {
        {"3", "Double", "has shape [2] in the checkpoint but [3] in this optimizer"},
        {"2", "Float", "has dtype Double in the checkpoint but Float in this optimizer"},
        {
          "3",
          "Float",
          "has shape and dtype [2] Double in the checkpoint but [3] Float in this optimizer"
        }
      };
      for (String[] c : cases) {
        Tensor x = T.randomParam(2, torch.ScalarType.valueOf(c[1]), Long.parseLong(c[0]));
        try (Adam opt = Adam.builder().build(List.of(x))) {
          CheckpointException e =
              assertThrows(
                  CheckpointException.class,
                  () -> opt.load(new ByteArrayInputStream(bytes.toByteArray())));
          assertEquals(
              "cannot load checkpoint from a stream: parameter 0 (group 0, index 0) "
                  + c[2]
                  + "; nothing was loaded",
              e.getMessage());
        }
      }
    }
  }

  /** The checkpoint of {@code opt} as bytes. */
  /** {@code opt}'s checkpoint, as {@link Optimizer#save(java.io.OutputStream)} writes it. */
  static byte[] saved(Optimizer opt) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    opt.save(out);
    return out.toByteArray();
  }

  /**
   * Loading {@code checkpoint} into {@code opt} throws a {@link CheckpointException} with exactly
   * {@code message} and leaves {@code opt}'s own checkpoint as it was.
   */
  static void assertLoadRefused(Optimizer opt, byte[] checkpoint, String message)
      throws IOException {
    byte[] before = saved(opt);
    CheckpointException e =
        assertThrows(
            CheckpointException.class, () -> opt.load(new ByteArrayInputStream(checkpoint)));
    assertEquals(message, e.getMessage());
    assertArrayEquals(before, saved(opt), "the refused load changed the optimizer");
  }

  /**
   * Loads every single-bit flip and every truncation of {@code good} into {@code target}: each is
   * refused with a CheckpointException and leaves {@code target}'s state as it was.
   */
  private static void everyCorruptionRefused(byte[] good, Optimizer target) throws IOException {
    byte[] before = saved(target);
    List<byte[]> corrupted = new ArrayList<>();
    for (int bit = 0; bit < good.length * 8; bit++) {
      byte[] flipped = good.clone();
      flipped[bit / 8] ^= (byte) (1 << (bit % 8));
      corrupted.add(flipped);
    }
    for (int length = 0; length < good.length; length++) {
      corrupted.add(Arrays.copyOf(good, length));
    }
    for (int c = 0; c < corrupted.size(); c++) {
      String what =
          c < good.length * 8 ? "bit " + c + " flipped" : "cut at byte " + (c - good.length * 8);
      byte[] bytes = corrupted.get(c);
      try {
        target.load(new ByteArrayInputStream(bytes));
        fail(what + ": loaded");
      } catch (CheckpointException expected) {
        assertArrayEquals(before, saved(target), what + ": the state changed");
      } catch (Exception other) {
        throw new AssertionError(what + ": " + other, other);
      }
    }
  }

  /** Every flipped bit and every truncation of a small checkpoint gets a CheckpointException. */
  @Test
  void everyCorruptionOfASmallCheckpointIsRefused() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(3, torch.ScalarType.Float, 3);
      Tensor y = T.randomParam(4, torch.ScalarType.Float, 2);
      try (AdaHessian opt =
              AdaHessian.builder()
                  .lr(0.01)
                  .group(List.of(y), AdaHessianOptions.DEFAULTS.withLr(0.02))
                  .build(List.of(x));
          Adam adam = Adam.builder().amsgrad(true).build(List.of(x, y))) {
        Supplier<Tensor> loss = () -> x.square().sum().add(y.square().square().sum());
        opt.step(loss);
        byte[] good = saved(opt);
        opt.step(loss); // the target differs from the checkpoint: a load would show
        everyCorruptionRefused(good, opt);

        adam.zeroGrad();
        loss.get().backward();
        adam.step();
        good = saved(adam);
        adam.zeroGrad();
        loss.get().backward();
        adam.step();
        everyCorruptionRefused(good, adam);
      }
    }
  }

  @Test
  void savingLeavesNoTemporaryFilesAndReplacesTheTarget() throws Exception {
    Path checkpoint = trainTenAndSave(dir.resolve("p.bin"));
    long before = Files.size(checkpoint);
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, CheckpointResume.MODEL_SEED);
      try (AdaHessian opt = CheckpointResume.optimizer(model)) {
        opt.save(checkpoint); // fresh optimizer: no moments yet, so a smaller file
      }
    }
    assertTrue(Files.size(checkpoint) < before);
    try (var files = Files.list(dir)) {
      assertEquals(
          List.of("opt.ckpt", "p.bin"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }
}
