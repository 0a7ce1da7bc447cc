package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    Files.write(truncated, java.util.Arrays.copyOf(good, good.length / 2));
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
        ": its parameter 0 has shape [] and dtype Double, but this optimizer's "
            + "parameter 0 (group 0, index 0, shape []) has dtype Float; nothing was loaded");
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
