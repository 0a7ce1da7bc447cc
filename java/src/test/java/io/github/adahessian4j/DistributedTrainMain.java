package io.github.adahessian4j;

import io.github.adahessian4j.distributed.DistributedSampler;
import io.github.adahessian4j.distributed.ProcessGroup;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A rank of the data-parallel tests (started by {@link io.github.adahessian4j.distributed.Launcher}
 * or directly), and the single-process reference they are compared with: an MLP 6-16-3 in float64
 * trained on the shards a {@link DistributedSampler} gives each rank of every global batch.
 *
 * <p>{@code train OUT_DIR}: every configuration of {@link #CONFIGS} in turn, each from a model
 * initialised differently on every rank (rank 0's weights reach the others by broadcast), writing
 * the final parameters to {@code OUT_DIR/CONFIG-rank-R.bin}. {@code train-then-run-until-killed
 * OUT_DIR}: the same, then AdamW steps until the process dies or its group breaks, printing {@code
 * step K} after each. System properties: {@code dp.timeoutMs}, the collective timeout; {@code
 * dp.rendezvousMs}, the rendezvous timeout (default 90 s); {@code dp.configs}, the configurations
 * to train (comma-separated; default all).
 */
public final class DistributedTrainMain {
  static final int STEPS = 20;

  /** The global batch: divisible by 2 and 3. */
  static final int BATCH = 12;

  static final int SAMPLES = STEPS * BATCH;
  static final long SAMPLER_SEED = 17;
  static final List<String> CONFIGS =
      List.of("adahessian", "adahessian-ue2", "adahessian-ns2", "adamw");
  private static final torch.ScalarType F64 = torch.ScalarType.Double;

  private DistributedTrainMain() {}

  /** MLP 6-16-3 with tanh, and a buffer "scale" multiplying the input (not trained). */
  static class Mlp extends Module {
    final Tensor w1;
    final Tensor b1;
    final Tensor w2;
    final Tensor b2;
    final Tensor scale;

    Mlp(long seed) {
      w1 =
          own(
              register_parameter(
                  "w1", T.randomParam(seed, F64, 16, 6).mul(T.s(0.5)).detach(), true));
      b1 =
          own(
              register_parameter(
                  "b1", T.randomParam(seed + 1, F64, 16).mul(T.s(0.1)).detach(), true));
      w2 =
          own(
              register_parameter(
                  "w2", T.randomParam(seed + 2, F64, 3, 16).mul(T.s(0.5)).detach(), true));
      b2 =
          own(
              register_parameter(
                  "b2", T.randomParam(seed + 3, F64, 3).mul(T.s(0.1)).detach(), true));
      scale = own(register_buffer("scale", T.randomParam(seed + 4, F64, 6).detach().add(T.s(1.5))));
    }

    /**
     * register_* return a reference into the module's dictionary, which later registrations move.
     */
    private static Tensor own(Tensor registered) {
      return new Tensor(registered);
    }

    List<Tensor> params() {
      return List.of(w1, b1, w2, b2);
    }

    Tensor loss(Tensor x, Tensor y) {
      Tensor h = torch.tanh(torch.matmul(x.mul(scale), w1.t()).add(b1));
      return torch.cross_entropy_loss(torch.matmul(h, w2.t()).add(b2), y);
    }
  }

  /**
   * The data set: SAMPLES points of 6 features in 3 Gaussian classes (made in the caller's scope).
   */
  static Tensor[] data() {
    Random r = new Random(5);
    double[] xs = new double[SAMPLES * 6];
    long[] ys = new long[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
      ys[i] = r.nextInt(3);
      for (int d = 0; d < 6; d++) {
        xs[i * 6 + d] = r.nextGaussian() + (d % 3 == ys[i] ? 1.0 : 0.0);
      }
    }
    return new Tensor[] {T.tensor(xs, F64, SAMPLES, 6), AbstractTensor.create(ys, SAMPLES)};
  }

  static Optimizer optimizer(String config, List<Tensor> params, ReplicaMean mean) {
    OptimizerBuilder<?, ?, ?> b =
        switch (config) {
          case "adahessian" -> AdaHessian.builder().lr(0.1).weightDecay(1e-3).clipGradNorm(0.5);
          case "adahessian-ue2" -> AdaHessian.builder().lr(0.1).updateEach(2);
          case "adahessian-ns2" -> AdaHessian.builder().lr(0.1).nSamples(2);
          case "adamw" -> AdamW.builder().lr(0.02).clipGradNorm(0.3);
          default -> throw new IllegalArgumentException(config);
        };
    if (mean != null) {
      b.replicaMean(mean);
    }
    return b.build(params);
  }

  /**
   * Trains {@code config} for STEPS steps as rank {@code rank} of {@code world} (the reference:
   * rank 0 of 1, no group) and returns the parameters. AdamW alternates the closure form and
   * backward() + step().
   */
  static double[][] train(String config, int world, int rank, ProcessGroup group, Tensor[] data) {
    try (PointerScope scope = new PointerScope()) {
      Mlp net = new Mlp(100 + rank);
      if (group != null) {
        group.broadcastParameters(net, "scale");
      }
      DistributedSampler sampler =
          new DistributedSampler(SAMPLES, world, rank, true, SAMPLER_SEED, false);
      sampler.setEpoch(3);
      long[] mine = sampler.indices();
      int local = BATCH / world;
      try (Optimizer opt =
          optimizer(config, net.params(), group == null ? null : group.replicaMean())) {
        for (int k = 0; k < STEPS; k++) {
          try (PointerScope step = new PointerScope()) {
            Tensor idx =
                AbstractTensor.create(
                    java.util.Arrays.copyOfRange(mine, k * local, (k + 1) * local), local);
            Tensor x = torch.index_select(data[0], 0, idx);
            Tensor y = torch.index_select(data[1], 0, idx);
            if (opt instanceof AdamW adamW && k % 2 == 1) {
              adamW.zeroGrad();
              net.loss(x, y).backward();
              adamW.step();
            } else {
              opt.step(() -> net.loss(x, y));
            }
          }
        }
      }
      double[][] out = new double[4][];
      for (int i = 0; i < 4; i++) {
        out[i] = T.values(net.params().get(i));
      }
      return out;
    }
  }

  static void write(Path file, double[][] params) throws IOException {
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
      out.writeInt(params.length);
      for (double[] p : params) {
        out.writeInt(p.length);
        for (double v : p) {
          out.writeDouble(v);
        }
      }
    }
  }

  static double[][] read(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
      double[][] params = new double[in.readInt()][];
      for (int i = 0; i < params.length; i++) {
        params[i] = new double[in.readInt()];
        for (int j = 0; j < params[i].length; j++) {
          params[i][j] = in.readDouble();
        }
      }
      return params;
    }
  }

  private static String uptime() {
    return String.format(
        "%.1f s", java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1e3);
  }

  public static void main(String[] args) throws Exception {
    torch.set_num_threads(1);
    ProcessGroup.Builder b =
        ProcessGroup.builder()
            .fromEnvironment()
            .timeout(Duration.ofMillis(Long.parseLong(System.getProperty("dp.timeoutMs", "20000"))))
            .rendezvousTimeout(
                Duration.ofMillis(Long.parseLong(System.getProperty("dp.rendezvousMs", "90000"))));
    List<String> configs =
        System.getProperty("dp.configs") == null
            ? CONFIGS
            : List.of(System.getProperty("dp.configs").split(","));
    try (ProcessGroup group = b.connect();
        PointerScope scope = new PointerScope()) {
      System.out.println("joined " + group + " at " + uptime());
      Tensor[] data = data();
      if (args[0].equals("train") || args[0].equals("train-then-run-until-killed")) {
        for (String config : configs) {
          double[][] params = train(config, group.worldSize(), group.rank(), group, data);
          write(Path.of(args[1]).resolve(config + "-rank-" + group.rank() + ".bin"), params);
          System.out.println(
              config
                  + " done at "
                  + uptime()
                  + ", "
                  + group.bytesAllReduced()
                  + " bytes all-reduced so far");
        }
      }
      if (args[0].equals("train-then-run-until-killed")) {
        runUntilKilled(group, data);
      }
    }
  }

  /** AdamW steps until this process dies or the group breaks, printing "step K" after each. */
  private static void runUntilKilled(ProcessGroup group, Tensor[] data)
      throws InterruptedException {
    Mlp net = new Mlp(100);
    try (Optimizer opt = optimizer("adamw", net.params(), group.replicaMean())) {
      for (int k = 0; ; k++) {
        try (PointerScope step = new PointerScope()) {
          Tensor x = data[0].narrow(0, 0, 4);
          Tensor y = data[1].narrow(0, 0, 4);
          opt.step(() -> net.loss(x, y));
        }
        System.out.println("step " + k);
        Thread.sleep(20);
      }
    }
  }
}
