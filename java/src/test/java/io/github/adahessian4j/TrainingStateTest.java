package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.distributed.DistributedSampler;
import io.github.adahessian4j.distributed.TrainingState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TrainingState} in one process: a run saved at step 7 and resumed by a new process's
 * objects (other initial weights, fresh generators) ends bit for bit where the run that went on
 * ended, with every part of the state deciding the result; Java randoms draw what {@link Random}
 * draws; bad files and late registrations are refused and change nothing.
 */
@ExtendWith(PointerScopeExtension.class)
class TrainingStateTest {
  @TempDir Path dir;

  private Tensor[] data;

  @BeforeEach
  void setUp() {
    torch.set_num_threads(1);
    data = DistributedTrainMain.data();
  }

  /** A run's objects, built as a new process would build them. */
  private final class Run {
    final DistributedTrainMain.Mlp model;
    final Optimizer opt;
    final DistributedSampler sampler;
    final Generator generator = torch.make_generator_cpu();
    final TrainingState state;
    final Random jitter;
    final List<Double> draws = new ArrayList<>();

    Run(long init) {
      model = new DistributedTrainMain.Mlp(init);
      opt = AdaHessian.builder().lr(0.1).updateEach(2).build(model.params());
      sampler = new DistributedSampler(DistributedTrainMain.SAMPLES, 1, 0, true, 42, false);
      generator.set_current_seed(init);
      torch.getDefaultCPUGenerator().set_current_seed(init + 1);
      state = new TrainingState(dir).model(model).optimizer(opt).sampler(sampler);
      state.generator(generator);
      jitter = state.random(init + 2);
    }

    /** Steps {@code from} to {@code to}: 48 samples a step, 5 steps an epoch. */
    void steps(long from, long to) throws Exception {
      for (long step = from; step < to; step++) {
        if (step % 5 == 0) {
          sampler.setEpoch(step / 5);
        }
        long[] all = sampler.indices();
        long[] mine =
            java.util.Arrays.copyOfRange(all, (int) (step % 5) * 48, (int) (step % 5 + 1) * 48);
        Tensor idx = AbstractTensor.create(mine, mine.length);
        Tensor x = torch.index_select(data[0], 0, idx);
        double scale = 0.1 * jitter.nextGaussian();
        draws.add(scale);
        Tensor noisy =
            x.add(torch.randn_like(x).mul(new Scalar(scale)))
                .add(
                    torch
                        .randn(new long[] {48, 6}, new GeneratorOptional(generator))
                        .to(torch.ScalarType.Double)
                        .mul(new Scalar(0.05)));
        Tensor y = torch.index_select(data[1], 0, idx);
        opt.step(() -> model.loss(noisy, y));
      }
    }

    double[][] weights() {
      return new double[][] {
        T.values(model.w1), T.values(model.b1), T.values(model.w2), T.values(model.b2)
      };
    }
  }

  private static void assertSame(double[][] expected, double[][] actual) {
    for (int i = 0; i < expected.length; i++) {
      assertArrayEquals(expected[i], actual[i], "parameter " + i + ", bit for bit");
    }
  }

  @Test
  void aResumedRunEndsWhereTheRunThatWentOnEnded() throws Exception {
    Run first = new Run(100);
    assertEquals(0, first.state.resume(), "nothing to resume yet");
    first.steps(0, 7);
    first.state.save(7);
    first.steps(7, 12);
    Run second = new Run(200);
    assertNotEquals(first.weights()[0][0], second.weights()[0][0]);
    assertEquals(7, second.state.resume());
    assertEquals(1, second.sampler.epoch());
    second.steps(7, 12);
    assertSame(first.weights(), second.weights());
    assertEquals(first.draws.subList(7, 12), second.draws);
  }

  @Test
  void javaRandomsDrawWhatRandomDraws() {
    Random saved = new TrainingState(dir).random(42);
    Random plain = new Random(42);
    for (int k = 0; k < 200; k++) {
      assertEquals(plain.nextInt(), saved.nextInt());
      assertEquals(plain.nextInt(7 + k), saved.nextInt(7 + k));
      assertEquals(plain.nextLong(), saved.nextLong());
      assertEquals(plain.nextDouble(), saved.nextDouble());
      assertEquals(plain.nextGaussian(), saved.nextGaussian());
      assertEquals(plain.nextBoolean(), saved.nextBoolean());
      assertEquals(plain.nextFloat(), saved.nextFloat());
    }
    saved.setSeed(9);
    plain.setSeed(9);
    assertEquals(plain.nextGaussian(), saved.nextGaussian());
  }

  @Test
  void aJavaRandomResumesWithItsCachedGaussian() throws Exception {
    TrainingState state = new TrainingState(dir);
    Random r = state.random(5);
    r.nextGaussian(); // the second Gaussian of the pair is now cached
    state.save(1);
    double[] expected = {r.nextGaussian(), r.nextGaussian(), r.nextDouble()};
    TrainingState again = new TrainingState(dir);
    Random s = again.random(5);
    assertEquals(1, again.resume());
    assertArrayEquals(expected, new double[] {s.nextGaussian(), s.nextGaussian(), s.nextDouble()});
  }

  @Test
  void onlyTheNewestCheckpointIsKeptAndLeftoversGo() throws Exception {
    Run run = new Run(100);
    run.state.save(10);
    run.state.save(20);
    Files.writeString(dir.resolve("step-000000000030.rank-0.ah4j123.tmp"), "half");
    Run again = new Run(100);
    assertEquals(20, again.state.resume());
    try (var files = Files.list(dir)) {
      assertEquals(
          List.of("step-000000000020.rank-0.ah4j"),
          new ArrayList<>(new TreeSet<>(files.map(f -> f.getFileName().toString()).toList())));
    }
  }

  /** A bad file throws, naming it and why, and leaves every registered part as it was. */
  private void assertRefused(Run target, String why) throws Exception {
    double[][] weights = target.weights();
    Tensor generatorState = target.generator.get_state().clone();
    long epoch = target.sampler.epoch();
    Path file = dir.resolve("step-000000000007.rank-0.ah4j");
    CheckpointException e = assertThrows(CheckpointException.class, target.state::resume);
    assertTrue(e.getMessage().startsWith("cannot resume from " + file + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(why), e.getMessage());
    assertTrue(e.getMessage().endsWith("; nothing was restored"), e.getMessage());
    assertSame(weights, target.weights());
    assertTrue(torch.equal(generatorState, target.generator.get_state()));
    assertEquals(epoch, target.sampler.epoch());
  }

  @Test
  void aCorruptedOrTruncatedFileIsRefused() throws Exception {
    Run run = new Run(100);
    run.steps(0, 7);
    run.state.save(7);
    Path file = dir.resolve("step-000000000007.rank-0.ah4j");
    byte[] bytes = Files.readAllBytes(file);
    bytes[100] ^= 1; // in the data of parameter w1
    Files.write(file, bytes);
    assertRefused(new Run(200), "it is corrupted (CRC-32 mismatch)");
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 3));
    assertRefused(new Run(200), "it is truncated");
  }

  @Test
  void aCheckpointOfAnotherModelIsRefused() throws Exception {
    TrainingState other = new TrainingState(dir);
    other.tensors(List.of(torch.zeros(3, 3)));
    other.sampler(new DistributedSampler(10, 1, 0, true, 1, false));
    other.save(7);
    assertRefused(new Run(200), "it holds 1 tensors of the model, 5 are registered");
  }

  @Test
  void registeringAfterTheStartAndBadStepsAreRefused() throws Exception {
    TrainingState state = new TrainingState(dir);
    assertEquals(0, state.resume());
    IllegalStateException late = assertThrows(IllegalStateException.class, () -> state.random(1));
    assertEquals(
        "register the random before the first resume() or save(): a checkpoint holds what was"
            + " registered then",
        late.getMessage());
    IllegalArgumentException negative =
        assertThrows(IllegalArgumentException.class, () -> state.save(-1));
    assertEquals("Invalid step: -1 (must be at least 0)", negative.getMessage());
  }
}
