package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.bench.compare.Claims.Arm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/** The lines of the full run's {@code runs.jsonl}: one JSON object per run, timing or probe. */
final class ClaimsJson {
  private ClaimsJson() {}

  /** One run as a JSON object on one line: what it was, what it measured, its curve. */
  static String run(String group, long seed, Model model, double noise, TrainingRun.Result r) {
    TrainingRun.Spec s = r.spec();
    StringBuilder curve = new StringBuilder();
    for (TrainingRun.Point pt : r.curve()) {
      curve
          .append(curve.length() == 0 ? "" : ", ")
          .append(
              String.format(
                  Locale.ROOT,
                  "[%d, %.4f, %.3f, %s, %.6f, %.6f]",
                  pt.step(),
                  pt.epoch(),
                  pt.seconds(),
                  number(pt.trainLoss()),
                  pt.valLoss(),
                  pt.valAccuracy()));
    }
    String curvature =
        r.curvature() == null
            ? "null"
            : String.format(
                Locale.ROOT,
                "{\"top_eigenvalue\": %s, \"trace\": %s}",
                number(r.curvature().topEigenvalue()),
                number(r.curvature().trace()));
    return String.format(
        Locale.ROOT,
        "{\"kind\": \"run\", \"group\": \"%s\", \"seed\": %d, \"model\": \"%s\", "
            + "\"optimizer\": \"%s\", \"update_each\": %d, \"hessian_warmup\": %d, \"hessian_fraction\": \"1/%d\", "
            + "\"lr\": %s, \"batch\": %d, "
            + "\"label_noise\": %s, \"steps\": %d, \"train_seconds\": %.3f, \"ms_per_step\": %.4f, "
            + "\"train_accuracy\": %s, \"val_accuracy\": %.6f, \"early_val_accuracy\": %s, \"steps_to_target\": %s, "
            + "\"seconds_to_target\": %s, \"failure\": %s, \"skipped_steps\": %d, \"curvature\": %s, "
            + "\"curve_columns\": [\"step\", \"epoch\", \"train_seconds\", \"train_loss\", \"val_loss\", \"val_accuracy\"], "
            + "\"curve\": [%s]}",
        group,
        seed,
        model.name().toLowerCase(Locale.ROOT),
        s.optimizer().label(),
        s.updateEach(),
        s.hessianWarmup(),
        s.hessianDivisor(),
        Format.number(s.lr()),
        s.batch(),
        Format.number(noise),
        r.steps(),
        r.trainSeconds(),
        r.msPerStep(),
        number(r.trainAccuracy()),
        r.valAccuracy(),
        number(r.earlyValAccuracy()),
        r.reachedTarget() ? Integer.toString(r.stepsToTarget()) : "null",
        r.reachedTarget() ? String.format(Locale.ROOT, "%.3f", r.secondsToTarget()) : "null",
        r.failure() == null ? "null" : quote(r.failure()),
        r.skippedSteps(),
        curvature,
        curve);
  }

  private static String number(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
  }

  private static String quote(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  /** Appends {@code line} and a newline to {@code file}. */
  static void append(Path file, String line) {
    try {
      Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The interleaved timing's line of one seed: each arm's milliseconds per step. */
  static String timing(long seed, int batch, int rounds, int steps, List<Arm> timed, double[] ms) {
    StringBuilder json = new StringBuilder();
    for (int k = 0; k < timed.size(); k++) {
      json.append(k == 0 ? "" : ", ")
          .append(String.format(Locale.ROOT, "\"%s\": %.4f", timed.get(k).label, ms[k]));
    }
    return String.format(
        Locale.ROOT,
        "{\"kind\": \"timing\", \"seed\": %d, \"batch\": %d, \"rounds\": %d, \"steps_per_turn\": %d, "
            + "\"ms_per_step\": {%s}}",
        seed,
        batch,
        rounds,
        steps,
        json);
  }

  /** A memory probe's line. */
  static String memory(long seed, OptimizerKind kind, int batch, MemoryProbe.Usage usage) {
    return String.format(
        Locale.ROOT,
        "{\"kind\": \"memory\", \"seed\": %d, \"optimizer\": \"%s\", \"batch\": %d, \"steps\": %d, "
            + "\"growth_bytes\": %d, \"peak_bytes\": %d, \"failure\": %s}",
        seed,
        kind.label(),
        batch,
        MemoryProbe.STEPS,
        usage.growthBytes(),
        usage.peakBytes(),
        usage.failure() == null ? "null" : quote(usage.failure()));
  }
}
