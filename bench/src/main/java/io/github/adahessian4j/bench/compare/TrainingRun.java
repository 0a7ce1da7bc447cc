package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Trains one freshly initialised model with one optimizer, learning rate and batch size, and
 * measures it. Every run with the same seed starts from the same weights (libtorch's generator is
 * re-seeded before the model is built) and sees the same batches (a Java generator with that seed
 * shuffles the training set each epoch), so two runs differ only in what the spec changes.
 */
final class TrainingRun {
  /** Validation images per forward pass: 250 ran 2.5-4x faster than 1000 here (the CNN's activations stay in cache). */
  private static final int EVAL_CHUNK = 250;

  private TrainingRun() {}

  /** What differs between the runs of a comparison. */
  record Spec(OptimizerKind optimizer, double lr, int batch) {
    String label() {
      return String.format(Locale.ROOT, "%s lr %s batch %d", optimizer.label(), Format.number(lr), batch);
    }
  }

  /** What all runs of a comparison share. */
  record Settings(Model model, int epochs, long seed, int evalsPerEpoch, double target) {}

  /** A point of the curves: after {@code step} steps; the training loss is the mean since the last point. */
  record Point(int step, double epoch, double seconds, double trainLoss, double valLoss, double valAccuracy) {}

  /**
   * What a run measured. Accuracies are fractions; {@code trainAccuracy}, the curve and the steps
   * to the target are measured only in detailed runs (NaN, empty or -1 otherwise).
   * {@code failure}: null, or {@code "diverged"} (the loss became non-finite, which stops the run,
   * or the final validation loss is above the untrained model's), or {@code "at chance"} (the
   * final validation accuracy is below 1.5 times chance).
   */
  record Result(Spec spec, List<Point> curve, int steps, double trainSeconds, double trainAccuracy,
      double valAccuracy, long skippedSteps, String failure, int stepsToTarget, double secondsToTarget) {
    double msPerStep() {
      return 1000 * trainSeconds / steps;
    }

    boolean reachedTarget() {
      return stepsToTarget >= 0;
    }
  }

  /** Runs a few steps of each optimizer so that the measured runs start warm (JIT, allocator, libtorch). */
  static void warmUp(Settings settings, DataSet data, int steps, int batch) {
    for (OptimizerKind kind : OptimizerKind.values()) {
      repeatStep(new Spec(kind, kind.defaultLr(), batch), settings, data, steps, null);
    }
  }

  /**
   * Resident memory needed to train with {@code spec}: the process's peak RSS over {@code steps}
   * steps on one batch, minus its RSS once data and model are in place, and that peak itself
   * ({@code {growth, peak}} in bytes; -1 without Linux /proc). Meant for a fresh process, where
   * no earlier run left freed memory behind for this one to reuse (see {@link MemoryProbe}).
   */
  static long[] memory(Spec spec, Settings settings, DataSet data, int steps) {
    long[] rss = {-1, -1};
    repeatStep(spec, settings, data, steps, rss);
    return rss;
  }

  private static void repeatStep(Spec spec, Settings settings, DataSet data, int steps, long[] rss) {
    int size = Math.min(spec.batch(), data.train().size());
    torch.manual_seed(settings.seed());
    Model.Net net = settings.model().create();
    try (Tensor order = AbstractTensor.create(permutation(size, new Random(settings.seed())))) {
      long start = rss != null && ResidentMemory.resetPeak() ? ResidentMemory.current() : -1;
      try (Optimizer trainer = spec.optimizer().create(net, spec.lr(), settings.seed())) {
        for (int s = 0; s < steps; s++) {
          step(net, trainer, data.train(), order, 0, size);
        }
      }
      if (start >= 0) {
        long peak = ResidentMemory.peak();
        rss[0] = peak - start;
        rss[1] = peak;
      }
    } finally {
      net.close();
    }
  }

  static Result run(Spec spec, Settings settings, DataSet data, boolean detailed) {
    DataSet.Split train = data.train();
    int stepsPerEpoch = (train.size() + spec.batch() - 1) / spec.batch();
    int totalSteps = settings.epochs() * stepsPerEpoch;
    int evalEvery = detailed ? Math.max(1, stepsPerEpoch / Math.max(1, settings.evalsPerEpoch())) : 0;
    Random shuffler = new Random(settings.seed());
    torch.manual_seed(settings.seed());
    Model.Net net = settings.model().create();
    List<Point> curve = new ArrayList<>();
    double[] initial = evaluate(net, data.val());
    if (detailed) {
      curve.add(new Point(0, 0, 0, Double.NaN, initial[0], initial[1]));
    }
    int step = 0;
    long trainNanos = 0;
    double intervalLoss = 0;
    boolean nonFinite = false;
    int stepsToTarget = -1;
    double secondsToTarget = Double.NaN;
    long skipped;
    try (Optimizer trainer = spec.optimizer().create(net, spec.lr(), settings.seed());
        ProgressBar bar = progressBar(spec.label(), totalSteps)) {
      training:
      for (int epoch = 0; epoch < settings.epochs(); epoch++) {
        try (Tensor order = AbstractTensor.create(permutation(train.size(), shuffler))) {
          for (int start = 0; start < train.size(); start += spec.batch()) {
            long began = System.nanoTime();
            double loss = step(net, trainer, train, order, start, Math.min(spec.batch(), train.size() - start));
            trainNanos += System.nanoTime() - began;
            step++;
            bar.step();
            if (!Double.isFinite(loss)) {
              nonFinite = true;
              bar.setExtraMessage("loss " + loss + ": stopped");
              break training;
            }
            intervalLoss += loss;
            if (evalEvery > 0 && (step % evalEvery == 0 || step == totalSteps)) {
              int sinceLast = step - curve.get(curve.size() - 1).step();
              double[] val = evaluate(net, data.val());
              curve.add(new Point(step, (double) step / stepsPerEpoch, trainNanos / 1e9,
                  intervalLoss / sinceLast, val[0], val[1]));
              intervalLoss = 0;
              if (stepsToTarget < 0 && val[1] >= settings.target()) {
                stepsToTarget = step;
                secondsToTarget = trainNanos / 1e9;
              }
              bar.setExtraMessage(String.format(Locale.ROOT, "loss %.3f val %.1f%%", loss, 100 * val[1]));
            }
          }
        }
      }
      skipped = trainer.skippedSteps();
    }
    try {
      Point last = curve.isEmpty() ? null : curve.get(curve.size() - 1);
      double[] val = last != null && last.step() == step ? new double[] {last.valLoss(), last.valAccuracy()}
          : evaluate(net, data.val());
      double trainAccuracy = detailed ? evaluate(net, train)[1] : Double.NaN;
      String failure = nonFinite || !(val[0] <= initial[0]) ? "diverged"
          : val[1] < 1.5 / DataSet.CLASSES ? "at chance" : null;
      return new Result(spec, List.copyOf(curve), step, trainNanos / 1e9, trainAccuracy, val[1],
          skipped, failure, stepsToTarget, secondsToTarget);
    } finally {
      net.close();
    }
  }

  private static ProgressBar progressBar(String task, int steps) {
    return new ProgressBarBuilder()
        .setTaskName(String.format(Locale.ROOT, "%-30s", task))
        .setInitialMax(steps)
        .setUnit(" steps", 1)
        .setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(500)
        .setMaxRenderedLength(110)
        .build();
  }

  /** One optimizer step on the samples {@code order[start, start + size)}; returns the loss before the step. */
  private static double step(Model.Net net, Optimizer trainer, DataSet.Split train, Tensor order,
      int start, int size) {
    try (PointerScope scope = new PointerScope()) {
      Tensor index = order.narrow(0, start, size);
      Tensor x = torch.index_select(train.images(), 0, index);
      Tensor y = torch.index_select(train.labels(), 0, index);
      return trainer.step(() -> torch.cross_entropy_loss(net.forward(x), y)).item_double();
    }
  }

  /** Mean cross-entropy loss and accuracy of {@code net} on {@code split}, without gradients. */
  static double[] evaluate(Model.Net net, DataSet.Split split) {
    double lossSum = 0;
    long correct = 0;
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (int start = 0; start < split.size(); start += EVAL_CHUNK) {
        int size = Math.min(EVAL_CHUNK, split.size() - start);
        Tensor y = split.labels().narrow(0, start, size);
        Tensor logits = net.forward(split.images().narrow(0, start, size));
        lossSum += torch.cross_entropy_loss(logits, y).item_double() * size;
        correct += torch.argmax(logits, new LongOptional(1), false).eq(y).sum().item_long();
      }
    }
    return new double[] {lossSum / split.size(), (double) correct / split.size()};
  }

  private static long[] permutation(int n, Random random) {
    long[] order = new long[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      long t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
