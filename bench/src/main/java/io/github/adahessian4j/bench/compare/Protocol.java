package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.AdaHessianOptions;
import io.github.adahessian4j.AdamOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Everything that defines a comparison, so that another implementation (the Python reference in
 * bench/python) can run the same protocol: data, model, seed, epochs, batch sizes, learning rates,
 * optimizer hyperparameters, how accuracy is checked. {@code compare --protocol} prints it as JSON
 * and every run writes it to {@code protocol.json} beside its results.
 */
record Protocol(
    String dataset,
    String source,
    int trainSize,
    int valSize,
    double pixelMean,
    double pixelStd,
    Model model,
    long seed,
    int epochs,
    int batch,
    int[] batchSizes,
    double adamLr,
    double adaHessianLr,
    double target,
    int evalsPerEpoch,
    int threads) {

  /** The data set's name for titles: MNIST, Fashion-MNIST, synthetic data or IDX data. */
  String dataLabel() {
    return switch (dataset) {
      case "mnist" -> "MNIST";
      case "fashion" -> "Fashion-MNIST";
      case "synthetic" -> "synthetic data";
      default -> "IDX data";
    };
  }

  /** Steps per epoch of the main runs (the last batch of an epoch may be smaller). */
  int stepsPerEpoch() {
    return (trainSize + batch - 1) / batch;
  }

  double defaultLr(OptimizerKind kind) {
    return kind == OptimizerKind.ADAM ? adamLr : adaHessianLr;
  }

  double[] lrGrid(OptimizerKind kind) {
    return Arrays.stream(Comparison.LR_FACTORS).map(f -> f * defaultLr(kind)).toArray();
  }

  TrainingRun.Settings settings() {
    return new TrainingRun.Settings(model, epochs, seed, evalsPerEpoch, target);
  }

  String toJson() {
    List<String> fields = new ArrayList<>();
    fields.add(field("dataset", quote(dataset)));
    fields.add(field("source", quote(source)));
    fields.add(field("train_size", trainSize));
    fields.add(field("val_size", valSize));
    boolean text = model.languageModel();
    fields.add(
        field(
            "preprocessing",
            quote(
                text
                    ? String.format(
                        Locale.ROOT,
                        "one token a character: newline 0, ASCII 32-126 as 1-95; windows of %d characters "
                            + "spread evenly over each split's text: the first %d the input [n, %d], the next "
                            + "character at each position the target [n, %d]; accuracy and loss per predicted "
                            + "character",
                        model.context() + 1,
                        model.context(),
                        model.context(),
                        model.context())
                    : String.format(
                        Locale.ROOT,
                        "pixel / 255, then (x - %.6f) / %.6f (mean and std of the training pixels); images [n, 1, 28, 28]",
                        pixelMean,
                        pixelStd))));
    fields.add(field("model", quote(model.name().toLowerCase(Locale.ROOT))));
    fields.add(field("model_layers", quote(model.description())));
    fields.add(field("init", quote(model.initialisation())));
    fields.add(field("seed", seed));
    fields.add(
        field(
            "shuffle",
            quote(
                "every epoch a Fisher-Yates permutation from java.util.Random(seed); "
                    + "last batch smaller when the batch size does not divide the training set")));
    fields.add(field("loss", quote("cross_entropy (mean over the batch)")));
    fields.add(field("epochs", epochs));
    fields.add(field("batch", batch));
    fields.add(field("batch_sizes", array(Arrays.stream(batchSizes).mapToObj(Integer::toString))));
    if (text) {
      fields.add(
          field(
              "transformer_recipe",
              quote(
                  "overrides the two optimizers' settings below: Adam is AdamW, and both use betas (0.9, 0.98), "
                      + "weight decay 1e-4 (decoupled) and a linear warm-up from lr / W to lr over the first "
                      + "W = 10% of each run's steps, then constant; AdaHessian: block averaging fairseq (2-D "
                      + "weights' |D| in runs of 32), eps 1e-4, Hessian power 1 (TransformerRecipe.java)")));
    }
    AdamOptions adam = AdamOptions.adamDefaults();
    fields.add(
        field(
            "adam",
            "{"
                + String.join(
                    ", ",
                    field("lr", Format.number(adamLr)),
                    field(
                        "lr_grid",
                        array(Arrays.stream(lrGrid(OptimizerKind.ADAM)).mapToObj(Format::number))),
                    field(
                        "betas", array(Stream.of(adam.beta1(), adam.beta2()).map(Format::number))),
                    field("eps", Format.number(adam.eps())),
                    field("weight_decay", Format.number(adam.weightDecay())),
                    field("reference", quote("torch.optim.Adam")))
                + "}"));
    AdaHessianOptions adaHessian = AdaHessianOptions.DEFAULTS;
    fields.add(
        field(
            "adahessian",
            "{"
                + String.join(
                    ", ",
                    field("lr", Format.number(adaHessianLr)),
                    field(
                        "lr_grid",
                        array(
                            Arrays.stream(lrGrid(OptimizerKind.ADAHESSIAN))
                                .mapToObj(Format::number))),
                    field(
                        "betas",
                        array(
                            Stream.of(adaHessian.beta1(), adaHessian.beta2()).map(Format::number))),
                    field("eps", Format.number(adaHessian.eps())),
                    field("weight_decay", Format.number(adaHessian.weightDecay())),
                    field("hessian_power", Format.number(adaHessian.hessianPower())),
                    field("update_each", 1),
                    field("n_samples", 1),
                    field(
                        "block_averaging",
                        quote(
                            "official: 4-D conv weights averaged over the kernel's spatial dims")),
                    field(
                        "probes",
                        quote(
                            "Rademacher, AdaHessian4J's counter-based generator seeded with seed")),
                    field(
                        "reference",
                        quote("amirgholami/adahessian image_classification/optim_adahessian.py")))
                + "}"));
    fields.add(field("target_val_accuracy", Format.number(target)));
    fields.add(field("evals_per_epoch", evalsPerEpoch));
    fields.add(
        field(
            "measures",
            quote(
                "validation accuracy and loss evaluated every (steps per epoch / "
                    + "evals_per_epoch) steps in the default-lr runs; grid runs report the final validation accuracy; "
                    + "time per step = training time (batch gather, forward, gradients, step) / steps")));
    fields.add(field("threads", threads));
    return "{\n  " + String.join(",\n  ", fields) + "\n}\n";
  }

  private static String field(String name, Object value) {
    return quote(name) + ": " + value;
  }

  private static String array(Stream<String> values) {
    return values.collect(Collectors.joining(", ", "[", "]"));
  }

  private static String quote(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}
