package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.Optimizer;
import io.github.adahessian4j.schedule.LrScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
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
  /**
   * Validation images per forward pass: 250 ran 2.5-4x faster than 1000 here (the CNN's activations
   * stay in cache).
   */
  private static final int EVAL_CHUNK = 250;

  /**
   * A language model that learned some context ends below this share of the context-free loss
   * ({@link #failure}).
   */
  static final double CHANCE_LOSS_FRACTION = 0.9;

  private TrainingRun() {}

  /**
   * What differs between the runs of a comparison. {@code updateEach}, {@code hessianDivisor} and
   * {@code hessianWarmup} apply to AdaHessian only (1, 1 and 0 otherwise): the estimate is
   * refreshed every {@code updateEach} steps (and at each of the first {@code hessianWarmup}), from
   * the first {@code 1 / hessianDivisor} of each (shuffled) batch ({@link
   * io.github.adahessian4j.AdaHessian#step(java.util.function.Supplier,
   * java.util.function.Supplier)}).
   */
  record Spec(
      OptimizerKind optimizer,
      double lr,
      int batch,
      int updateEach,
      int hessianDivisor,
      int hessianWarmup) {
    Spec {
      if (updateEach < 1 || hessianDivisor < 1 || hessianWarmup < 0) {
        throw new IllegalArgumentException(
            "updateEach and hessianDivisor must be at least 1, hessianWarmup at least 0");
      }
      if (optimizer != OptimizerKind.ADAHESSIAN
          && (updateEach != 1 || hessianDivisor != 1 || hessianWarmup != 0)) {
        throw new IllegalArgumentException(
            optimizer.label() + " has no Hessian to refresh less often");
      }
    }

    Spec(OptimizerKind optimizer, double lr, int batch, int updateEach, int hessianDivisor) {
      this(optimizer, lr, batch, updateEach, hessianDivisor, 0);
    }

    Spec(OptimizerKind optimizer, double lr, int batch) {
      this(optimizer, lr, batch, 1, 1);
    }

    /**
     * The optimizer over the parameters of {@code net}, created from {@code model}, with its
     * recipe; {@code seed} fixes AdaHessian's probes.
     */
    Optimizer create(Model model, Model.Net net, long seed) {
      return optimizer.create(model, net, lr, seed, updateEach, hessianWarmup);
    }

    /**
     * The optimizer's name with its variant: "AdaHessian", "AdaHessian updateEach 2", "AdaHessian
     * Hessian 1/4 batch".
     */
    String optimizerLabel() {
      String label = optimizer.label();
      if (updateEach > 1) {
        label += " updateEach " + updateEach;
      }
      if (hessianWarmup > 0) {
        label += " warm-up " + hessianWarmup;
      }
      if (hessianDivisor > 1) {
        label += " Hessian 1/" + hessianDivisor + " batch";
      }
      return label;
    }

    String label() {
      return String.format(
          Locale.ROOT, "%s lr %s batch %d", optimizerLabel(), Format.number(lr), batch);
    }
  }

  /**
   * What all runs of a comparison share. {@code labelNoise}: the fraction of training labels
   * replaced by another class, drawn from the seed (validation labels stay clean); {@code
   * earlyFraction}: where to measure the early validation accuracy (0: not measured).
   */
  record Settings(
      Model model,
      int epochs,
      long seed,
      int evalsPerEpoch,
      double target,
      double labelNoise,
      double earlyFraction) {
    Settings(Model model, int epochs, long seed, int evalsPerEpoch, double target) {
      this(model, epochs, seed, evalsPerEpoch, target, 0, 0);
    }

    Settings withModel(Model m) {
      return new Settings(m, epochs, seed, evalsPerEpoch, target, labelNoise, earlyFraction);
    }

    Settings withSeed(long s) {
      return new Settings(model, epochs, s, evalsPerEpoch, target, labelNoise, earlyFraction);
    }

    Settings withLabelNoise(double noise) {
      return new Settings(model, epochs, seed, evalsPerEpoch, target, noise, earlyFraction);
    }
  }

  /**
   * Where a run reports its steps instead of drawing a progress bar of its own (the full run's
   * single bar).
   */
  interface Progress {
    /** One more training step of the current run done. */
    void stepped();

    /** What the run is at, for the bar's message. */
    void message(String text);
  }

  /**
   * A point of the curves: after {@code step} steps; the training loss is the mean since the last
   * point.
   */
  record Point(
      int step,
      double epoch,
      double seconds,
      double trainLoss,
      double valLoss,
      double valAccuracy) {}

  /**
   * What a run measured. Accuracies are fractions; {@code trainAccuracy}, the curve and the steps
   * to the target are measured only in detailed runs (NaN, empty or -1 otherwise). {@code failure}:
   * null, or {@code "diverged"} or {@code "at chance"} ({@link #failure}). {@code
   * earlyValAccuracy}: the validation accuracy after the first {@code earlyFraction} of the steps
   * (NaN unless asked for); {@code curvature}: the Hessian analysis at the final weights, or null
   * (see {@link HessianAnalysis}).
   */
  record Result(
      Spec spec,
      List<Point> curve,
      int steps,
      double trainSeconds,
      double trainAccuracy,
      double valAccuracy,
      long skippedSteps,
      String failure,
      int stepsToTarget,
      double secondsToTarget,
      double earlyValAccuracy,
      HessianAnalysis.Curvature curvature) {
    double msPerStep() {
      return 1000 * trainSeconds / steps;
    }

    boolean reachedTarget() {
      return stepsToTarget >= 0;
    }

    /**
     * The last validation loss of the curve in bits per target (for the language model: bits per
     * character); NaN without a curve.
     */
    double valBits() {
      return curve.isEmpty() ? Double.NaN : curve.get(curve.size() - 1).valLoss() / Math.log(2);
    }
  }

  /**
   * Runs a few steps of each optimizer so that the measured runs start warm (JIT, allocator,
   * libtorch).
   */
  static void warmUp(Settings settings, DataSet data, int steps, int batch) {
    for (OptimizerKind kind : OptimizerKind.values()) {
      repeatStep(new Spec(kind, kind.defaultLr(), batch), settings, data, steps, null);
    }
  }

  /**
   * Resident memory needed to train with {@code spec}: the process's peak RSS over {@code steps}
   * steps on one batch, minus its RSS once data and model are in place, and that peak itself
   * ({@code {growth, peak}} in bytes; -1 without Linux /proc). Meant for a fresh process, where no
   * earlier run left freed memory behind for this one to reuse (see {@link MemoryProbe}).
   */
  static long[] memory(Spec spec, Settings settings, DataSet data, int steps) {
    long[] rss = {-1, -1};
    repeatStep(spec, settings, data, steps, rss);
    return rss;
  }

  private static void repeatStep(
      Spec spec, Settings settings, DataSet data, int steps, long[] rss) {
    int size = Math.min(spec.batch(), data.train().size());
    torch.manual_seed(settings.seed());
    Model.Net net = settings.model().create();
    try (Tensor order = AbstractTensor.create(permutation(size, new Random(settings.seed())))) {
      long start = rss != null && ResidentMemory.resetPeak() ? ResidentMemory.current() : -1;
      try (Optimizer trainer = spec.create(settings.model(), net, settings.seed())) {
        for (int s = 0; s < steps; s++) {
          step(net, trainer, data.train(), order, 0, size, spec.hessianDivisor());
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
    return run(spec, settings, data, detailed, null, null);
  }

  /**
   * Number of steps a run of {@code spec} takes on {@code trainSize} samples (unless it stops
   * early).
   */
  static int totalSteps(Spec spec, Settings settings, int trainSize) {
    return settings.epochs() * ((trainSize + spec.batch() - 1) / spec.batch());
  }

  /**
   * Trains and measures one run. {@code progress}: where the steps are reported (null: a progress
   * bar of the run's own); {@code analysis}: run at the final weights on the training data (null:
   * none).
   */
  static Result run(
      Spec spec,
      Settings settings,
      DataSet data,
      boolean detailed,
      Progress progress,
      HessianAnalysis analysis) {
    DataSet.Split train =
        settings.labelNoise() > 0
            ? data.trainWithLabelNoise(settings.labelNoise(), settings.seed())
            : data.train();
    try {
      return run(spec, settings, data, train, detailed, progress, analysis);
    } finally {
      if (train != data.train()) {
        train.labels().close();
      }
    }
  }

  private static Result run(
      Spec spec,
      Settings settings,
      DataSet data,
      DataSet.Split train,
      boolean detailed,
      Progress progress,
      HessianAnalysis analysis) {
    int stepsPerEpoch = (train.size() + spec.batch() - 1) / spec.batch();
    int totalSteps = settings.epochs() * stepsPerEpoch;
    int evalEvery =
        detailed ? Math.max(1, stepsPerEpoch / Math.max(1, settings.evalsPerEpoch())) : 0;
    int earlyStep =
        settings.earlyFraction() > 0
            ? Math.max(1, (int) Math.round(settings.earlyFraction() * totalSteps))
            : -1;
    double earlyAccuracy = Double.NaN;
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
    try (Optimizer trainer = spec.create(settings.model(), net, settings.seed());
        ProgressDisplay display = progress == null ? display(spec.label(), totalSteps) : null) {
      Progress report = progress != null ? progress : displayProgress(display);
      LrScheduler warmUp =
          settings.model().languageModel() ? TransformerRecipe.warmUp(trainer, totalSteps) : null;
      training:
      for (int epoch = 0; epoch < settings.epochs(); epoch++) {
        try (Tensor order = AbstractTensor.create(permutation(train.size(), shuffler))) {
          for (int start = 0; start < train.size(); start += spec.batch()) {
            long began = System.nanoTime();
            double loss =
                step(
                    net,
                    trainer,
                    train,
                    order,
                    start,
                    Math.min(spec.batch(), train.size() - start),
                    spec.hessianDivisor());
            if (warmUp != null) {
              warmUp.step();
            }
            trainNanos += System.nanoTime() - began;
            step++;
            report.stepped();
            if (!Double.isFinite(loss)) {
              nonFinite = true;
              report.message("loss " + loss + ": stopped");
              break training;
            }
            intervalLoss += loss;
            boolean evaluated = false;
            if (evalEvery > 0 && (step % evalEvery == 0 || step == totalSteps)) {
              int sinceLast = step - curve.get(curve.size() - 1).step();
              double[] val = evaluate(net, data.val());
              evaluated = true;
              if (step == earlyStep) {
                earlyAccuracy = val[1];
              }
              curve.add(
                  new Point(
                      step,
                      (double) step / stepsPerEpoch,
                      trainNanos / 1e9,
                      intervalLoss / sinceLast,
                      val[0],
                      val[1]));
              intervalLoss = 0;
              if (stepsToTarget < 0 && val[1] >= settings.target()) {
                stepsToTarget = step;
                secondsToTarget = trainNanos / 1e9;
              }
              report.message(
                  String.format(Locale.ROOT, "loss %.3f val %.1f%%", loss, 100 * val[1]));
            }
            if (step == earlyStep && !evaluated) {
              earlyAccuracy = evaluate(net, data.val())[1];
            }
          }
        }
      }
      skipped = trainer.skippedSteps();
    }
    try {
      Point last = curve.isEmpty() ? null : curve.get(curve.size() - 1);
      double[] val =
          last != null && last.step() == step
              ? new double[] {last.valLoss(), last.valAccuracy()}
              : evaluate(net, data.val());
      double trainAccuracy = detailed ? evaluate(net, train)[1] : Double.NaN;
      String failure = failure(nonFinite, initial[0], val[0], val[1], data);
      net.mode(false); // the curvature of one function: no dropout masks drawn per product
      HessianAnalysis.Curvature curvature =
          analysis != null && !nonFinite ? analysis.analyse(net, train, settings.seed()) : null;
      return new Result(
          spec,
          List.copyOf(curve),
          step,
          trainNanos / 1e9,
          trainAccuracy,
          val[1],
          skipped,
          failure,
          stepsToTarget,
          secondsToTarget,
          earlyAccuracy,
          curvature);
    } finally {
      net.close();
    }
  }

  /**
   * Why a run failed to train, or null: {@code "diverged"} when its loss became non-finite (which
   * stops the run) or its final validation loss {@code valLoss} is above the untrained model's
   * {@code initialLoss}; {@code "at chance"} when it did not learn: on images, its final validation
   * accuracy is below 1.5 times chance (1 in {@value DataSet#CLASSES}); on text, its final
   * validation loss is above {@value #CHANCE_LOSS_FRACTION} of the loss of predicting every
   * character from the characters' frequencies alone ({@link DataSet#unigramLoss()}), where a
   * language model that learned no context plateaus (one that predicts the space everywhere is
   * right about one time in five: the accuracy rule does not tell it).
   */
  static String failure(
      boolean nonFinite, double initialLoss, double valLoss, double valAccuracy, DataSet data) {
    if (nonFinite || !(valLoss <= initialLoss)) {
      return "diverged";
    }
    boolean atChance =
        data.text()
            ? valLoss > CHANCE_LOSS_FRACTION * data.unigramLoss()
            : valAccuracy < 1.5 / DataSet.CLASSES;
    return atChance ? "at chance" : null;
  }

  private static Progress displayProgress(ProgressDisplay display) {
    return new Progress() {
      @Override
      public void stepped() {
        display.step();
      }

      @Override
      public void message(String text) {
        display.message(text);
      }
    };
  }

  private static ProgressDisplay display(String task, int steps) {
    String name = String.format(Locale.ROOT, "%-30s", task);
    return ProgressDisplay.of(
        name, steps, " steps", 1, b -> b.setUpdateIntervalMillis(500).setMaxRenderedLength(110));
  }

  /**
   * One optimizer step on the samples {@code order[start, start + size)}; returns the loss before
   * the step. With {@code hessianDivisor > 1} (AdaHessian only) the Hessian estimate comes from the
   * first {@code size / hessianDivisor} samples of the batch, a random subset since the order is
   * shuffled.
   */
  private static double step(
      Model.Net net,
      Optimizer trainer,
      DataSet.Split train,
      Tensor order,
      int start,
      int size,
      int hessianDivisor) {
    try (PointerScope scope = new PointerScope()) {
      Tensor index = order.narrow(0, start, size);
      Tensor x = torch.index_select(train.images(), 0, index);
      Tensor y = torch.index_select(train.labels(), 0, index);
      if (hessianDivisor > 1 && trainer instanceof AdaHessian adaHessian) {
        int part = Math.max(1, size / hessianDivisor);
        Tensor xs = x.narrow(0, 0, part);
        Tensor ys = y.narrow(0, 0, part);
        return adaHessian
            .step(
                () -> torch.cross_entropy_loss(net.forward(x), y),
                () -> torch.cross_entropy_loss(net.forward(xs), ys))
            .item_double();
      }
      return trainer.step(() -> torch.cross_entropy_loss(net.forward(x), y)).item_double();
    }
  }

  /**
   * Time per step of each spec, measured in turns in this process on the same batches: one untimed
   * turn each, then {@code rounds} rounds in which each spec takes {@code stepsPerTurn} steps (the
   * order rotated from round to round, so that none always follows the same one). Every spec starts
   * from the same weights. Returns, per spec, the median over rounds of the milliseconds per step.
   */
  static double[] interleavedMsPerStep(
      List<Spec> specs,
      Settings settings,
      DataSet data,
      int rounds,
      int stepsPerTurn,
      Progress progress) {
    int k = specs.size();
    List<Model.Net> nets = new ArrayList<>();
    List<Optimizer> optimizers = new ArrayList<>();
    double[][] ms = new double[k][rounds];
    DataSet.Split train = data.train();
    try (Tensor order =
        AbstractTensor.create(permutation(train.size(), new Random(settings.seed())))) {
      for (Spec spec : specs) {
        torch.manual_seed(settings.seed());
        Model.Net net = settings.model().create();
        nets.add(net);
        optimizers.add(spec.create(settings.model(), net, settings.seed()));
      }
      int batch = specs.get(0).batch();
      int batches = Math.max(1, train.size() / batch);
      for (int round = -1; round < rounds; round++) {
        for (int j = 0; j < k; j++) {
          int i = round < 0 ? j : (j + round) % k;
          Spec spec = specs.get(i);
          long began = System.nanoTime();
          for (int s = 0; s < stepsPerTurn; s++) {
            int b = ((round + 1) * stepsPerTurn + s) % batches;
            step(
                nets.get(i),
                optimizers.get(i),
                train,
                order,
                b * batch,
                Math.min(batch, train.size() - b * batch),
                spec.hessianDivisor());
            if (progress != null) {
              progress.stepped();
            }
          }
          if (round >= 0) {
            ms[i][round] = (System.nanoTime() - began) / 1e6 / stepsPerTurn;
          }
        }
      }
    } finally {
      optimizers.forEach(Optimizer::close);
      nets.forEach(Model.Net::close);
    }
    double[] median = new double[k];
    for (int i = 0; i < k; i++) {
      double[] sorted = ms[i].clone();
      java.util.Arrays.sort(sorted);
      median[i] =
          rounds % 2 == 1 ? sorted[rounds / 2] : (sorted[rounds / 2 - 1] + sorted[rounds / 2]) / 2;
    }
    return median;
  }

  /**
   * Mean cross-entropy loss and accuracy of {@code net} on {@code split}, without gradients, in
   * evaluation mode (BatchNorm uses its running statistics and leaves them alone; no dropout); the
   * net is back in its mode afterwards. For the language model, per predicted token.
   */
  static double[] evaluate(Model.Net net, DataSet.Split split) {
    double lossSum = 0;
    long correct = 0;
    boolean training = net.is_training();
    net.mode(false);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int start = 0; start < split.size(); start += EVAL_CHUNK) {
        // One scope per chunk: a model written in Java hands every intermediate activation to
        // Java, and a scope over the whole split kept them all (ResNet-20 on 4,096 training
        // images: JavaCPP's 8 GiB limit, bench/claims.sh --model resnet --plan short).
        try (PointerScope scope = new PointerScope()) {
          int size = Math.min(EVAL_CHUNK, split.size() - start);
          Tensor y = split.labels().narrow(0, start, size);
          Tensor logits = net.forward(split.images().narrow(0, start, size));
          lossSum += torch.cross_entropy_loss(logits, y).item_double() * size;
          correct += torch.argmax(logits, new LongOptional(1), false).eq(y).sum().item_long();
        }
      }
    } finally {
      net.mode(training);
    }
    double targetsPerSample = (double) split.labels().numel() / split.size();
    return new double[] {lossSum / split.size(), correct / targetsPerSample / split.size()};
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
