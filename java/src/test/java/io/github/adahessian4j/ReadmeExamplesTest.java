package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.*;
import io.github.adahessian4j.distributed.DistributedSampler;   // not org.bytedeco.pytorch's
import io.github.adahessian4j.distributed.Launcher;
import io.github.adahessian4j.distributed.ProcessGroup;         // not org.bytedeco.pytorch's
import io.github.adahessian4j.schedule.CosineAnnealingLR;
import io.github.adahessian4j.schedule.LinearLR;
import io.github.adahessian4j.schedule.LrScheduler;
import io.github.adahessian4j.schedule.SequentialLR;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.*;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java snippets of README.md and of docs/guide.md, docs/distributed.md and
 * docs/hessian-analysis.md, compiled and run: each method below holds one snippet exactly as the
 * page prints it ({@code DocsSnippetsTest} checks that every snippet of the docs is in a test, so
 * they cannot drift), with what the snippet takes for granted (a model, batches, a loss) defined
 * around it.
 */
class ReadmeExamplesTest {
  private static final long FEATURES = 6;
  private static final long CLASSES = 3;

  record Batch(Tensor x, Tensor y) {}

  /** The model the snippets train: two linear layers. */
  static final class Net extends org.bytedeco.pytorch.Module {
    final LinearImpl hidden = register_module("hidden", new LinearImpl(FEATURES, 8));
    final LinearImpl out = register_module("out", new LinearImpl(8, CLASSES));

    Tensor forward(Tensor x) {
      return out.forward(torch.tanh(hidden.forward(x)));
    }
  }

  private final Net model;
  private final List<Batch> batches = new ArrayList<>();
  private final Tensor x;
  private final Tensor y;
  private final Tensor[] xs = new Tensor[4];
  private final Tensor[] ys = new Tensor[4];

  @TempDir
  Path runDir;

  ReadmeExamplesTest() {
    torch.manual_seed(3);
    model = new Net();
    for (int b = 0; b < 4; b++) {
      xs[b] = torch.randn(16, FEATURES);
      ys[b] = torch.argmax(xs[b].narrow(1, 0, CLASSES), new LongOptional(1), false);
      batches.add(new Batch(xs[b], ys[b]));
    }
    x = xs[0];
    y = ys[0];
  }

  private Tensor loss(Tensor x, Tensor y) {
    return torch.cross_entropy_loss(model.forward(x), y);
  }

  private double meanLoss() {
    double sum = 0;
    for (Batch b : batches) {
      try (PointerScope scope = new PointerScope()) {
        sum += loss(b.x(), b.y()).item_double();
      }
    }
    return sum / batches.size();
  }

  @Test
  void theOneLoopForEveryOptimizer() {
    double before = meanLoss();
    try (Optimizer opt = AdaHessian.builder().lr(0.15).build(model.parameters())) {
      // try (Optimizer opt = Adam.builder().lr(1e-3).build(model.parameters())) {   // the same loop
      for (Batch b : batches) {  // the step frees what the closure creates; the loss comes back detached
        try (Tensor loss = opt.step(() -> torch.cross_entropy_loss(model.forward(b.x()), b.y()))) {
          System.out.println(loss.item_double());
        }
      }
    }
    assertTrue(meanLoss() < before, "the loop trains");
  }

  @Test
  void adamsOwnBackwardForm() {
    double before = meanLoss();
    try (AdamW opt = AdamW.builder().lr(1e-3).weightDecay(1e-2).build(model.parameters())) {
      for (Batch b : batches) {
        try (PointerScope scope = new PointerScope()) { // frees this iteration's tensors now, not at GC
          opt.zeroGrad();
          torch.cross_entropy_loss(model.forward(b.x()), b.y()).backward();
          opt.step();
        }
      }
    }
    assertTrue(meanLoss() < before, "the loop trains");
  }

  @Test
  void groupsClippingScheduleAndStatistics() {
    List<Tensor> backbone = List.of(model.hidden.weight(), model.hidden.bias());
    List<Tensor> head = List.of(model.out.weight());
    List<Tensor> frozenLayers = List.of(model.out.bias());
    double before = meanLoss();
    AdaHessian opt = AdaHessian.builder()
        .clipGradNorm(1.0)                                   // torch's clip_grad_norm_, before the moments
        .updateEach(2).nSamples(1).seed(42)                  // optimizer-wide
        .group(backbone)                                     // builder defaults
        .group(head, AdaHessianOptions.DEFAULTS.withLr(0.05).withWeightDecay(5e-4 / 0.05))
        .build();
    LrScheduler schedule = new SequentialLR(opt,             // warm-up, then cosine, per step
        List.of(new LinearLR(opt, 0.1, 1.0, 100), new CosineAnnealingLR(opt, 900)), List.of(100));
    for (int step = 0; step < 1000; step++) {
      int k = step % 4;
      opt.step(() -> loss(xs[k], ys[k]));
      schedule.step();
      StepStats s = opt.lastStepStats();                     // loss, gradNorm, clipped, skipped, lrs, ...
      if (s.clipped() || s.zeroHessianParams() > 0) {
        System.out.println(s);
      }
    }
    opt.addParamGroup(frozenLayers);                         // unfreeze later: fresh state, refused if present
    double mean = opt.step(4, b -> loss(xs[b], ys[b]));      // a batch in 4 parts (accumulation)
    assertTrue(meanLoss() < before, "the schedule's run trains");
    assertEquals(3, opt.paramGroups().size());
    assertEquals(1001, opt.lastStepStats().step());
    assertTrue(Double.isFinite(mean));
    opt.close();
  }

  @Test
  void checkpoints() throws IOException {
    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    InputStream archiveIn = new InputStream() { // reads what `archive` holds when first read
      private InputStream in;

      @Override
      public int read() throws IOException {
        if (in == null) {
          in = new ByteArrayInputStream(archive.toByteArray());
        }
        return in.read();
      }
    };
    try (AdaHessian opt = AdaHessian.builder().build(model.parameters())) {
      opt.step(() -> loss(x, y));
      opt.save(runDir.resolve("opt.ckpt"));   // moments, step counts, probe generator, group options
      opt.load(runDir.resolve("opt.ckpt"));   // into an optimizer over parameters of the same shapes
      opt.save(archive);                      // or any OutputStream (an entry beside the model's weights)
      opt.load(archiveIn);                    // reads exactly up to its checksum; what follows stays unread
      assertEquals(1, opt.stepCount(0));
    }
  }

  @Test
  void hessianWarmup() {
    TensorVector params = model.parameters();
    double before = meanLoss();
    AdaHessian cheap = AdaHessian.builder()
        .updateEach(4)              // a Hessian-vector product every 4th step...
        .hessianWarmup(20)          // ...after one at each of a parameter's first 20 steps
        .build(params);
    try (cheap) {
      int refreshed = 0;
      for (int t = 0; t < 28; t++) {
        Batch b = batches.get(t % batches.size());
        cheap.step(() -> loss(b.x(), b.y()));
        refreshed += cheap.lastStepStats().hessianRefreshed() ? 1 : 0;
      }
      assertEquals(22, refreshed, "steps 0-19, 20 and 24");
    }
    assertTrue(meanLoss() < before, "the warmed-up cheap variant trains");
  }

  @Test
  void accumulation() {
    try (AdaHessian opt = AdaHessian.builder().build(model.parameters())) {
      double meanLoss = opt.step(4, b -> torch.cross_entropy_loss(model.forward(xs[b]), ys[b]));
      assertTrue(meanLoss > 0);
    }
  }

  @Test
  void hessianAnalysis() {
    double[] before = T.values(model.out.weight());
    try (HessianAnalysis h = HessianAnalysis.builder()
        .module(model)                                   // or params(list), group(name, list), paramGroups(opt)
        .loss(() -> torch.cross_entropy_loss(model.forward(x), y))   // or losses(batches): mean Hessian
        .seed(42).build()) {
      HessianEigenvalues top = h.topEigenvalues(5);     // eigenvalues(), residuals(), hvProducts(), converged()
      HessianTrace tr = h.trace();                      // trace(), standardError(), perParameter(), perGroup()
      HessianDensity esd = h.spectralDensity(new HessianDensity.Options(3, 80));
      HessianDensity.Grid grid = esd.smoothed();        // PyHessian's Gaussian smoothing on 10,000 points
      double sharpness = h.group("model").topEigenvalues(1).eigenvalues()[0];  // any group's block
    }
    org.junit.jupiter.api.Assertions.assertArrayEquals(before, T.values(model.out.weight()), 0.0,
        "the analysis leaves the parameters as they were");
  }

  /**
   * The data-parallel snippet, run by two processes that the Launcher starts (the snippet reads
   * their MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK).
   */
  @Test
  void dataParallelAcrossProcesses() throws Exception {
    int status = new Launcher(2).threads(1).jvmArgs(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"))
        .runJava(ReadmeExamplesTest.class.getName(), List.of(runDir.toString()));
    assertEquals(0, status, "a rank failed (its output is above, prefixed with [rank r])");
    assertTrue(Files.exists(runDir.resolve("opt.ckpt")));
  }

  /** A rank of {@link #dataParallelAcrossProcesses}: {@code args[0]} is the run directory. */
  public static void main(String[] args) throws Exception {
    ReadmeExamplesTest here = new ReadmeExamplesTest();
    here.runDir = Path.of(args[0]);
    here.dataParallel();
  }

  private void dataParallel() throws IOException {
    Tensor images = torch.cat(new TensorVector(xs));
    Tensor labels = torch.cat(new TensorVector(ys));
    double before = meanLoss();
    try (ProcessGroup group = ProcessGroup.fromEnvironment();  // MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK
         AdaHessian opt = AdaHessian.builder().replicaMean(group.replicaMean()).build(model.parameters())) {
      group.broadcastParameters(model);                       // every replica starts from rank 0's weights
      DistributedSampler sampler = new DistributedSampler(images.size(0), group, 42, false);
      long batch = 16 / group.worldSize();                    // a global batch of 16, split over the ranks
      for (int epoch = 0; epoch < 2; epoch++) {
        sampler.setEpoch(epoch);                              // a new permutation, the same on every rank
        Tensor shard = AbstractTensor.create(sampler.indices(), sampler.numSamples());  // this rank's part
        for (long k = 0; k + batch <= sampler.numSamples(); k += batch) {
          Tensor idx = shard.narrow(0, k, batch);
          opt.step(() -> torch.cross_entropy_loss(model.forward(images.index_select(0, idx)), labels.index_select(0, idx)));
        }
      }
      if (group.rank() == 0) {
        opt.save(runDir.resolve("opt.ckpt"));                 // rank 0 saves: every rank holds the same state
      }
      group.barrier();                                        // the file is complete before anyone reads it
      opt.load(runDir.resolve("opt.ckpt"));                   // to resume, every rank loads the same file
    }
    assertTrue(meanLoss() < before, "the data-parallel run trains");
  }

}
