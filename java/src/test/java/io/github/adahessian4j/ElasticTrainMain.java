package io.github.adahessian4j;

import io.github.adahessian4j.distributed.DistributedSampler;
import io.github.adahessian4j.distributed.ProcessGroup;
import io.github.adahessian4j.distributed.TrainingState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A rank of {@link ElasticRestartTest} and {@link MultiHostTest}: docs/distributed.md's save and
 * resume pattern, verbatim, training the MLP of {@link DistributedTrainMain} (float64) for 60 steps
 * with AdaHessian ({@code updateEach 2}) on shards of a shuffling {@link DistributedSampler},
 * inputs jittered by libtorch's default generator (seeded per rank) scaled by a Java {@link Random}
 * of the {@link TrainingState}, a checkpoint every 10 steps.
 *
 * <p>{@code MODE RUN_DIR OUT_DIR}: {@code steady} trains; {@code kill-rank-1-at-37}: rank 1 of the
 * first start kills itself with SIGKILL when 37 steps are taken. At the end every rank prints
 * {@code restart R: S steps taken} (R from {@code TORCHELASTIC_RESTART_COUNT}, S this start's
 * steps) and writes its parameters to {@code OUT_DIR/final-rank-RANK.bin}.
 */
public final class ElasticTrainMain {
  static final int STEPS = 60;

  private ElasticTrainMain() {}

  /** The MLP, counting its loss evaluations (one per step), killing itself when told to. */
  static final class CountingMlp extends DistributedTrainMain.Mlp {
    private final long killAt;
    long steps;

    CountingMlp(long seed, long killAt) {
      super(seed);
      this.killAt = killAt;
    }

    @Override
    Tensor loss(Tensor x, Tensor y) {
      if (steps++ == killAt) {
        try {
          new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
              .start()
              .waitFor();
          Thread.sleep(60_000);
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException("could not kill this rank", e);
        }
      }
      return super.loss(x, y);
    }
  }

  public static void main(String[] args) throws Exception {
    torch.set_num_threads(1);
    int rank = Integer.parseInt(System.getenv("RANK"));
    int restart = Integer.parseInt(System.getenv("TORCHELASTIC_RESTART_COUNT"));
    boolean dies = args[0].equals("kill-rank-1-at-37") && rank == 1 && restart == 0;
    try (PointerScope scope = new PointerScope()) {
      torch.getDefaultCPUGenerator().set_current_seed(1000 + rank);
      CountingMlp model = new CountingMlp(100 + rank, dies ? 37 : -1);
      Tensor[] data = DistributedTrainMain.data();
      train(model, data[0], data[1], Path.of(args[1]));
      System.out.println("restart " + restart + ": " + model.steps + " steps taken");
      DistributedTrainMain.write(
          Path.of(args[2]).resolve("final-rank-" + rank + ".bin"),
          new double[][] {
            T.values(model.w1), T.values(model.b1), T.values(model.w2), T.values(model.b2)
          });
    }
  }

  /** docs/distributed.md's snippet. */
  static void train(CountingMlp model, Tensor images, Tensor labels, Path runDir)
      throws IOException {
    try (ProcessGroup group = ProcessGroup.fromEnvironment();
        AdaHessian opt =
            AdaHessian.builder()
                .lr(0.1)
                .updateEach(2)
                .replicaMean(group.replicaMean())
                .build(model.params())) {
      group.broadcastParameters(model, "scale");
      DistributedSampler sampler = new DistributedSampler(images.size(0), group, 42, false);
      // Registered parts are saved by save() and restored by resume(), on every rank.
      TrainingState state =
          new TrainingState(runDir, group).model(model).optimizer(opt).sampler(sampler);
      // Instead of new Random(seed): the same draws, and its state is saved too.
      Random jitter = state.random(7 + group.rank());
      long batch = 12 / group.worldSize(); // a global batch of 12, split over the ranks
      long perEpoch = sampler.numSamples() / batch;
      // 0, or the newest step that every rank saved; the sampler is at that step's epoch.
      long step = state.resume();
      Tensor shard = AbstractTensor.create(sampler.indices(), sampler.numSamples());
      while (step < 60) {
        Tensor idx = shard.narrow(0, step % perEpoch * batch, batch);
        Tensor x = images.index_select(0, idx);
        Tensor noisy = x.add(torch.randn_like(x).mul(new Scalar(0.1 * jitter.nextGaussian())));
        Tensor y = labels.index_select(0, idx);
        opt.step(() -> model.loss(noisy, y));
        step++;
        if (step % perEpoch == 0) {
          sampler.setEpoch(step / perEpoch);
          shard = AbstractTensor.create(sampler.indices(), sampler.numSamples());
        }
        if (step % 10 == 0) {
          state.save(step); // every rank its own file, atomically; then a barrier
        }
      }
    }
  }
}
