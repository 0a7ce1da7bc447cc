package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.bench.BenchCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compare --model torchscript:FILE} on classifiers exported by the host's torch 1.13
 * (bench/python/torchscript_classifier.py, run by Maven before the tests into
 * target/torchscript-classifier): the file's weights, a tuple's first element, both optimizers
 * training the module, the table, and the files it refuses.
 */
class CompareTorchScriptTest {
  private static final Path DIR = Path.of("target", "torchscript-classifier").toAbsolutePath();

  @TempDir Path out;

  static Path fixture(String name) {
    Path file = DIR.resolve(name);
    assertTrue(
        Files.isRegularFile(file),
        file
            + " is missing: mvn verify writes it (bench/python/torchscript_classifier.py --out "
            + DIR
            + ")");
    return file;
  }

  /** The logits torch 1.13 computed in evaluation mode on the probe images, [2, 10]. */
  private static double[][] expectedLogits() throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(fixture("expected.bin")));
    bytes.order(ByteOrder.LITTLE_ENDIAN);
    double[][] logits = new double[2][10];
    for (double[] row : logits) {
      bytes.asDoubleBuffer().get(row);
      bytes.position(bytes.position() + 8 * row.length);
    }
    return logits;
  }

  private static Tensor probe() throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(fixture("probe.bin")));
    float[] values = new float[2 * 28 * 28];
    bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return AbstractTensor.create(values).reshape(2, 1, 28, 28);
  }

  private static void assertLogits(double[][] expected, Model model, String what)
      throws IOException {
    Model.Net net = model.create();
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      net.mode(false);
      Tensor logits = net.forward(probe());
      for (int i = 0; i < expected.length; i++) {
        for (int j = 0; j < expected[i].length; j++) {
          double got = logits.select(0, i).select(0, j).item_double();
          assertEquals(expected[i][j], got, 1e-5 * (1 + Math.abs(expected[i][j])), what);
        }
      }
    } finally {
      net.close();
    }
  }

  @Test
  void everyRunStartsFromTheFilesWeightsAndATuplesFirstElementIsTheLogits() throws IOException {
    double[][] expected = expectedLogits();
    Model plain = Model.of("torchscript:" + fixture("classifier.pt"), 20);
    assertLogits(expected, plain, "classifier.pt, first load");
    torch.manual_seed(99); // the seed does not change a TorchScript model's initial weights
    assertLogits(expected, plain, "classifier.pt, second load");
    assertLogits(
        expected, Model.of("torchscript:" + fixture("tuple.pt"), 20), "tuple.pt's first element");
  }

  @Test
  void bothOptimizersTrainTheModuleFromTheSameWeights() throws IOException {
    Model model = Model.of("torchscript:" + fixture("classifier.pt"), 20);
    try (DataSet data = DataSet.load("synthetic", null, 256, 64)) {
      TrainingRun.Settings settings = new TrainingRun.Settings(model, 2, 1, 2, 0.9);
      List<TrainingRun.Result> results = new ArrayList<>();
      for (OptimizerKind kind : OptimizerKind.values()) {
        results.add(
            TrainingRun.run(
                new TrainingRun.Spec(kind, kind.defaultLr(), 64), settings, data, true));
      }
      TrainingRun.Point adamStart = assertEachStepped(results, 8);
      // At lr 0.15 AdaHessian's first steps overshoot on this small net (its loss rises, then
      // falls); Adam's fall from the start.
      TrainingRun.Point adamEnd = results.get(0).curve().get(results.get(0).curve().size() - 1);
      assertTrue(adamEnd.valLoss() < 0.9 * adamStart.valLoss(), "Adam trained the module");
    }
  }

  @Test
  void compareTrainsATorchScriptModelAndPrintsTheTable() throws IOException {
    StringWriter printed = new StringWriter();
    String file = fixture("tuple.pt").toString();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .execute(
                "compare",
                "--dataset",
                "synthetic",
                "--model",
                "torchscript:" + file,
                "--epochs",
                "1",
                "--train-size",
                "128",
                "--val-size",
                "64",
                "--batch",
                "64",
                "--batch-sizes",
                "32,64",
                "--evals-per-epoch",
                "1",
                "--out",
                out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);
    assertTrue(text.contains("Adam vs AdaHessian: TorchScript classifier " + file), text);
    assertTrue(text.contains("| measure"), text);
    assertFalse(text.contains("| training memory: peak RSS growth (peak) | n/a"), text);
    String protocol = Files.readString(out.resolve("protocol.json"));
    assertTrue(
        protocol.contains("\"init\": \"the weights saved in " + file + ", loaded afresh"),
        "the initial weights are the file's, not an initialiser's: " + protocol);
  }

  @Test
  void filesThatBreakTheConventionAreRefusedNamingTheFile() {
    String five = fixture("five.pt").toString();
    String stateDict = fixture("state_dict.pt").toString();
    String missing = DIR.resolve("missing.pt").toString();
    for (String[] c :
        new String[][] {
          {five, "returned shape [2, 5]", "logits [n, 10]"},
          {stateDict, "is not a TorchScript module", "torch.jit.save"},
          {missing, "no TorchScript file there", missing}
        }) {
      assertRefused("synthetic", out, c[0], c[1], c[2]);
    }
  }

  /**
   * Every run (Adam first, then AdaHessian) started from the same weights, took {@code steps} steps
   * and ended at a finite validation loss other than the start's; returns Adam's first point.
   */
  static TrainingRun.Point assertEachStepped(List<TrainingRun.Result> results, int steps) {
    TrainingRun.Point adamStart = results.get(0).curve().get(0);
    assertEquals(
        adamStart.valLoss(), results.get(1).curve().get(0).valLoss(), "the same initial weights");
    for (TrainingRun.Result r : results) {
      String what = r.spec().label() + ": " + r.curve();
      assertEquals(steps, r.steps(), what);
      TrainingRun.Point end = r.curve().get(r.curve().size() - 1);
      assertTrue(Double.isFinite(end.valLoss()), what);
      assertNotEquals(adamStart.valLoss(), end.valLoss(), "the steps reach the module: " + what);
    }
    return adamStart;
  }

  /**
   * {@code compare --dataset DATASET --model torchscript:FILE} exits with status 2, writes nothing
   * under {@code out}, and says {@code --model torchscript:FILE: } and each of {@code expected}.
   */
  static void assertRefused(String dataset, Path out, String file, String... expected) {
    StringWriter errors = new StringWriter();
    Path dir = out.resolve("never");
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(new StringWriter()))
            .setErr(new PrintWriter(errors))
            .execute(
                "compare",
                "--dataset",
                dataset,
                "--model",
                "torchscript:" + file,
                "--out",
                dir.toString());
    String text = errors.toString();
    assertEquals(2, status, text);
    assertTrue(text.contains("--model torchscript:" + file + ": "), text);
    for (String e : expected) {
      assertTrue(text.contains(e), e + " in " + text);
    }
    assertFalse(Files.exists(dir), "nothing written for a refused model");
  }
}
