package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdamW;
import io.github.adahessian4j.BlockAveraging;
import io.github.adahessian4j.Optimizer;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compare --model torchscript:FILE} on token language models exported by the host's torch
 * 1.13 (bench/python/torchscript_classifier.py, run by Maven before the tests into
 * target/torchscript-classifier): the module's context and logits layout, its modes, the
 * transformer recipe, both optimizers training it on text, the table, and the modules it refuses.
 */
class CompareTorchScriptLmTest {
  /** The context attribute of lm.pt. */
  private static final int CONTEXT = 32;

  @TempDir Path out;

  private static Path fixture(String name) {
    return CompareTorchScriptTest.fixture(name);
  }

  private static Model lm() {
    return Model.of("torchscript:" + fixture("lm.pt"), 20);
  }

  @Test
  void theContextAttributeMakesALanguageModelWhoseLogitsTheNetTransposes() throws IOException {
    Model model = lm();
    assertTrue(model.languageModel());
    assertEquals(CONTEXT, model.context());
    assertTrue(model.description().startsWith("TorchScript token language model "), model.name());
    long[] tokens = new long[2 * CONTEXT];
    ByteBuffer.wrap(Files.readAllBytes(fixture("lm_probe.bin")))
        .order(ByteOrder.LITTLE_ENDIAN)
        .asLongBuffer()
        .get(tokens);
    double[] expected = new double[2 * CONTEXT * TextCorpus.VOCAB]; // [2, 32, 96] from torch 1.13
    ByteBuffer.wrap(Files.readAllBytes(fixture("lm_expected.bin")))
        .order(ByteOrder.LITTLE_ENDIAN)
        .asDoubleBuffer()
        .get(expected);
    Model.Net net = model.create();
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      net.mode(false);
      Tensor logits = net.forward(AbstractTensor.create(tokens, 2, CONTEXT));
      assertEquals(List.of(2L, (long) TextCorpus.VOCAB, (long) CONTEXT), shape(logits));
      for (int n = 0; n < 2; n++) {
        for (int t = 0; t < CONTEXT; t += 7) {
          for (int v = 0; v < TextCorpus.VOCAB; v += 5) {
            double want = expected[(n * CONTEXT + t) * TextCorpus.VOCAB + v];
            double got = logits.select(0, n).select(0, v).select(0, t).item_double();
            assertEquals(want, got, 1e-5 * (1 + Math.abs(want)), n + ", " + t + ", " + v);
          }
        }
      }
    } finally {
      net.close();
    }
  }

  private static List<Long> shape(Tensor t) {
    List<Long> shape = new ArrayList<>();
    for (long s : t.sizes().vec().get()) {
      shape.add(s);
    }
    return shape;
  }

  @Test
  void theModulesOwnModeFollowsTrainingAndEvaluation() throws IOException {
    Model model = lm(); // lm.pt was saved in evaluation mode
    Model.Net net = model.create();
    try (DataSet data = DataSet.load("synthetic-text", null, 4, 4, CONTEXT)) {
      Model.TorchScriptNet script = (Model.TorchScriptNet) net;
      assertTrue(script.model.isTraining(), "a fresh net trains: the module is in training mode");
      TrainingRun.evaluate(net, data.val());
      assertTrue(script.model.isTraining(), "back in training mode after an evaluation");
      net.mode(false);
      assertFalse(script.model.isTraining(), "the module is in evaluation mode");
      assertFalse(net.is_training(), "and the net says so");
    } finally {
      net.close();
    }
  }

  @Test
  void aTorchScriptLanguageModelTrainsWithTheTransformerRecipe() {
    Model model = lm();
    Model.Net net = model.create();
    try (Optimizer adam = OptimizerKind.ADAM.create(model, net, 1e-3, 1, 1, 0);
        Optimizer adaHessian = OptimizerKind.ADAHESSIAN.create(model, net, 0.047, 1, 1, 0)) {
      assertInstanceOf(AdamW.class, adam, "Adam is AdamW for a language model");
      assertSame(BlockAveraging.FAIRSEQ, ((AdaHessian) adaHessian).blockAveraging());
    } finally {
      net.close();
    }
  }

  @Test
  void bothOptimizersTrainTheModuleOnText() throws IOException {
    Model model = lm();
    try (DataSet data = DataSet.load("synthetic-text", null, 128, 32, model.context())) {
      assertEquals(List.of(128L, (long) CONTEXT), shape(data.train().images()));
      TrainingRun.Settings settings = new TrainingRun.Settings(model, 1, 1, 2, 0.25);
      List<TrainingRun.Result> results = new ArrayList<>();
      for (OptimizerKind kind : OptimizerKind.values()) {
        double lr = kind == OptimizerKind.ADAM ? 1e-2 : TransformerRecipe.ADAHESSIAN_LR;
        results.add(TrainingRun.run(new TrainingRun.Spec(kind, lr, 32), settings, data, true));
      }
      TrainingRun.Point adamStart = CompareTorchScriptTest.assertEachStepped(results, 4);
      TrainingRun.Point adamEnd = results.get(0).curve().get(results.get(0).curve().size() - 1);
      assertTrue(adamEnd.valLoss() < adamStart.valLoss(), "AdamW lowered the loss: " + adamEnd);
    }
  }

  @Test
  void compareTrainsATorchScriptLanguageModelAndPrintsTheTable() {
    StringWriter printed = new StringWriter();
    String file = fixture("lm.pt").toString();
    int status =
        BenchCli.commandLine()
            .setOut(new PrintWriter(printed))
            .execute(
                "compare",
                "--dataset",
                "synthetic-text",
                "--model",
                "torchscript:" + file,
                "--epochs",
                "1",
                "--train-size",
                "64",
                "--val-size",
                "16",
                "--batch",
                "32",
                "--batch-sizes",
                "16,32",
                "--evals-per-epoch",
                "1",
                "--out",
                out.toString());
    String text = printed.toString();
    assertEquals(0, status, text);
    assertTrue(text.contains("Adam vs AdaHessian: TorchScript token language model " + file), text);
    assertTrue(text.contains("windows of " + (CONTEXT + 1) + " characters"), text);
    assertTrue(text.contains("| measure"), text);
  }

  @Test
  void modulesThatBreakTheConventionAreRefusedNamingTheFile() {
    String vocab = fixture("lm_vocab.pt").toString();
    String unmarked = fixture("lm_unmarked.pt").toString();
    String odd = fixture("lm_odd.pt").toString();
    for (String[] c :
        new String[][] {
          {vocab, "a vocabulary of 50 tokens, shape [2, 32, 50]", "the corpus has 96 tokens"},
          {unmarked, "failed on float32 images [2, 1, 28, 28]", "an int attribute 'context'"},
          {odd, "parameter 'lstm.weight_ih_l0' does not suit the transformer recipe", "400"}
        }) {
      CompareTorchScriptTest.assertRefused(
          "synthetic-text", out, c[0], c[0] + ": " + c[0] + ": ", c[1], c[2]);
    }
  }
}
