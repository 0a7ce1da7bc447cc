package io.github.adahessian4j;

import static io.github.adahessian4j.CheckpointTest.assertLoadRefused;
import static io.github.adahessian4j.CheckpointTest.saved;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@code hessianWarmup}: which steps refresh the estimate, its checkpoint and its bad input. The
 * steps themselves are checked against the op-by-op reference ({@link AdaHessianParityTest}, {@link
 * GradientAccumulationTest}) and the Python reference ({@link PythonParityTest}).
 */
class HessianWarmupTest {
  private static final long SEED = 0x5EED_AD4E_551AL;

  private static AdaHessian optimizer(TestModel model, int warmup) {
    return AdaHessian.builder()
        .lr(0.05)
        .updateEach(4)
        .hessianWarmup(warmup)
        .seed(SEED)
        .build(model.params);
  }

  private static double[][] values(TestModel model) {
    double[][] out = new double[model.params.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = T.values(model.params.get(i));
    }
    return out;
  }

  @Test
  void refreshesAtEveryWarmupStepThenEveryUpdateEach() {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Double, 5);
      try (AdaHessian opt = optimizer(model, 6)) {
        assertEquals(6, opt.hessianWarmup());
        for (int t = 0; t < 14; t++) {
          opt.step(model::loss);
          assertEquals(
              t < 6 || t % 4 == 0,
              opt.lastStepStats().hessianRefreshed(),
              "updateEach 4, hessianWarmup 6: step " + t);
        }
      }
    }
  }

  /** Saved in the middle of the warm-up, loaded into a new optimizer: the same steps follow. */
  @Test
  void aCheckpointInTheWarmupResumesBitForBit() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      TestModel straight = new TestModel(torch.ScalarType.Float, 7);
      TestModel resumed = new TestModel(torch.ScalarType.Float, 7);
      byte[] checkpoint;
      try (AdaHessian first = optimizer(resumed, 6)) {
        for (int t = 0; t < 3; t++) {
          first.step(resumed::loss);
        }
        checkpoint = saved(first);
      }
      try (AdaHessian reference = optimizer(straight, 6);
          AdaHessian second = optimizer(resumed, 6)) {
        second.load(new ByteArrayInputStream(checkpoint));
        for (int t = 0; t < 3; t++) {
          reference.step(straight::loss);
        }
        for (int t = 3; t < 12; t++) {
          reference.step(straight::loss);
          second.step(resumed::loss);
          assertEquals(
              reference.lastStepStats().hessianRefreshed(),
              second.lastStepStats().hessianRefreshed(),
              "refreshed at step " + t);
        }
        double[][] expected = values(straight);
        double[][] actual = values(resumed);
        for (int i = 0; i < expected.length; i++) {
          assertArrayEquals(expected[i], actual[i], 0.0, "parameter " + i);
        }
      }
    }
  }

  @Test
  void aCheckpointOfAnotherWarmupIsRefusedAndChangesNothing() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, 8);
      byte[] checkpoint;
      try (AdaHessian opt = optimizer(model, 6)) {
        opt.step(model::loss);
        checkpoint = saved(opt);
      }
      try (AdaHessian other = optimizer(model, 2)) {
        other.step(model::loss);
        assertLoadRefused(
            other,
            checkpoint,
            "the checkpoint was saved with updateEach 4, "
                + "nSamples 1 and hessianWarmup 6, this optimizer has 4, 1 and 2; nothing was loaded");
      }
    }
  }

  /**
   * Where the activity codes start in {@code checkpoint}, of an AdaHessian with {@code seed} over
   * {@code params} parameters: after its seed, probe counter, updateEach, nSamples, hessianWarmup
   * and block sizes.
   */
  static int activityAt(byte[] checkpoint, long seed, int params) {
    byte[] s = ByteBuffer.allocate(Long.BYTES).putLong(seed).array();
    for (int i = 0; i + s.length <= checkpoint.length; i++) {
      if (Arrays.equals(checkpoint, i, i + s.length, s, 0, s.length)) {
        return i + 2 * Long.BYTES + 3 * Integer.BYTES + params * Long.BYTES;
      }
    }
    throw new AssertionError("seed not found");
  }

  /**
   * {@code checkpoint} (format 4, of {@code params} parameters) rewritten as format 2, which had no
   * warm-up field and no activity: the int after nSamples in the extra section and the activity
   * bytes after the block sizes are dropped and the CRC-32 recomputed.
   */
  private static byte[] asFormat2(byte[] checkpoint, int params) {
    int activityAt = activityAt(checkpoint, SEED, params);
    int warmupAt = activityAt - params * Long.BYTES - Integer.BYTES;
    int statesAt = activityAt + params;
    int body = checkpoint.length - Long.BYTES;
    ByteBuffer out = ByteBuffer.allocate(checkpoint.length - Integer.BYTES - params);
    out.put(checkpoint, 0, 8).putInt(2);
    out.put(checkpoint, 12, warmupAt - 12);
    out.put(checkpoint, warmupAt + Integer.BYTES, activityAt - warmupAt - Integer.BYTES);
    out.put(checkpoint, statesAt, body - statesAt);
    CRC32 crc = new CRC32();
    crc.update(out.array(), 0, out.position());
    out.putLong(crc.getValue());
    return out.array();
  }

  @Test
  void aFormat2CheckpointLoadsAsNoWarmup() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Float, 9);
      byte[] current;
      try (AdaHessian opt = optimizer(model, 0)) {
        opt.step(model::loss);
        current = saved(opt);
      }
      byte[] old = asFormat2(current, model.params.size());
      try (AdaHessian noWarmup = optimizer(model, 0);
          AdaHessian withWarmup = optimizer(model, 3)) {
        noWarmup.load(new ByteArrayInputStream(old));
        assertArrayEquals(current, saved(noWarmup), "format 2 loads as hessianWarmup 0");
        CheckpointException e =
            assertThrows(
                CheckpointException.class, () -> withWarmup.load(new ByteArrayInputStream(old)));
        assertEquals(
            "the checkpoint was saved with updateEach 4, "
                + "nSamples 1 and hessianWarmup 0, this optimizer has 4, 1 and 3; nothing was loaded",
            e.getMessage());
      }
    }
  }

  @Test
  void badWarmupsAreRefusedWithTheirValue() {
    IllegalArgumentException negative =
        assertThrows(IllegalArgumentException.class, () -> AdaHessian.builder().hessianWarmup(-1));
    assertEquals("Invalid hessianWarmup value: -1 (must be >= 0)", negative.getMessage());
    try (PointerScope scope = new PointerScope()) {
      TestModel model = new TestModel(torch.ScalarType.Double, 10);
      AdaHessian.Builder b = AdaHessian.builder().hessianWarmup(5).group(model.params);
      IllegalArgumentException useless = assertThrows(IllegalArgumentException.class, b::build);
      assertEquals(
          "Invalid hessianWarmup value: 5 (it refreshes the Hessian estimate at every step of the "
              + "warm-up, which updateEach 1 does at every step anyway: set updateEach > 1, or "
              + "hessianWarmup 0)",
          useless.getMessage());
      try (AdaHessian opt = b.updateEach(2).build()) {
        assertEquals(5, opt.hessianWarmup(), "the refused build left the builder usable");
        assertEquals(0, opt.stepCount(0));
      }
    }
  }
}
