package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * TorchScript models from Python, trained in Java, step by step against the same models trained
 * eagerly in Python.
 *
 * <p>{@code bench/python/torchscript_parity.py} (run by Maven at generate-test-resources, see
 * java/pom.xml) exports three float64 models with {@code torch.jit.script} and {@code
 * torch.jit.trace} (a CNN with BatchNorm in training mode, an Embedding + LSTM language model whose
 * forward returns a tuple, a small transformer), and trains each nn.Module eagerly for 20 steps
 * with torch.optim.Adam, AdamW and the project's reference AdaHessian (the same counter-based
 * probes). This test loads every exported module with {@link TorchScriptModel}, trains it with the
 * library's optimizer on the same batches, and compares after every step, at rtol 1e-9: the loss,
 * every parameter, every optimizer state tensor; at the end, the buffers (BatchNorm's running
 * statistics). Twenty steps are twenty forward calls of one module: with the graph executor's
 * optimisation on, it would optimise from the second call on (the test also passes so; {@link
 * TorchScriptModel} turns it off while training for the reason {@link TorchScriptRoundTripTest}
 * shows). Tolerances as in {@link PythonParityTest}: atol = rtol for parameters, rtol * the
 * tensor's largest |value| for state and buffers, rtol * (1 + |loss|) for the loss.
 */
class TorchScriptParityTest {
  private static final double RTOL = 1e-9;

  static final ParityFixtures FIXTURES =
      new ParityFixtures(
          "adahessian4j.torchscript.dir",
          "torchscript-parity",
          "TorchScript parity",
          "bench/python/torchscript_parity.py");

  @TestFactory
  Stream<DynamicTest> trainsLikeTheEagerModelInPython() {
    Path dir = FIXTURES.dir();
    JsonNode index = FIXTURES.readJson(dir.resolve("index.json"));
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode model : index.get("models")) {
      String name = model.get("name").asText();
      for (JsonNode training : index.get("trainings")) {
        JsonNode m = FIXTURES.readJson(dir.resolve(training.asText()).resolve("manifest.json"));
        if (!m.get("model").asText().equals(name)) {
          continue;
        }
        for (String export : List.of("script", "trace")) {
          String file = model.get("modules").get(export).asText();
          tests.add(
              DynamicTest.dynamicTest(
                  training.asText() + " (" + export + ")", () -> runCase(dir, model, file, m)));
        }
      }
    }
    // torch >= 2.3 (SDPA and its kernel switch) also exports transformer_sdpa
    String torchVersion = index.get("reference").get("torch").asText();
    boolean sdpa = !torchVersion.matches("(0|1|2\\.[0-2])\\..*");
    assertEquals(
        sdpa,
        index.get("models").findValuesAsText("name").contains("transformer_sdpa"),
        "transformer_sdpa exported by torch " + torchVersion);
    int models = sdpa ? 4 : 3;
    assertEquals(6 * models, tests.size(), models + " models x 2 exports x 3 optimizers");
    return tests.stream();
  }

  /** The fixture's inputs of one model: name to [steps, ...] tensor. */
  static Map<String, Tensor> inputs(Path dir, JsonNode model) {
    Map<String, Tensor> inputs = new java.util.LinkedHashMap<>();
    for (JsonNode x : model.get("inputs")) {
      String name = x.get("name").asText();
      inputs.put(
          name,
          PythonParityTest.readTensor(
              dir.resolve(model.get("name").asText()).resolve("inputs").resolve(name + ".bin"),
              x.get("dtype").asText(),
              PythonParityTest.longs(x.get("shape"))));
    }
    return inputs;
  }

  /**
   * The fixtures' loss: cross-entropy of the logits (the output, or its element {@code element})
   * against {@code y}, a language model's [B, T, V] logits flattened to [B * T, V].
   */
  static Tensor loss(TorchScriptModel model, JsonNode element, Tensor x, Tensor y) {
    Tensor logits = element.isNull() ? model.forward(x) : model.forward(element.asInt(), x);
    return torch.cross_entropy_loss(logits.reshape(-1, logits.size(-1)), y.reshape(-1));
  }

  /** The optimizer a training manifest names, with its options, over {@code params}. */
  static FusedOptimizer<?> optimizer(JsonNode m, List<Tensor> params) {
    JsonNode o = m.get("options");
    double lr = o.get("lr").asDouble();
    double b1 = o.get("beta1").asDouble();
    double b2 = o.get("beta2").asDouble();
    double eps = o.get("eps").asDouble();
    double wd = o.get("weightDecay").asDouble();
    return switch (m.get("optimizer").asText()) {
      case "adahessian" -> {
        assertEquals("official", o.get("blockAveraging").asText());
        yield AdaHessian.builder()
            .seed(m.get("seed").asLong())
            .blockAveraging(BlockAveraging.OFFICIAL)
            .group(
                params,
                new AdaHessianOptions(lr, b1, b2, eps, wd, o.get("hessianPower").asDouble()))
            .build();
      }
      case "adam" ->
          Adam.builder()
              .group(
                  params, new AdamOptions(lr, b1, b2, eps, wd, o.get("amsgrad").asBoolean(), false))
              .build();
      case "adamw" ->
          AdamW.builder()
              .group(
                  params, new AdamOptions(lr, b1, b2, eps, wd, o.get("amsgrad").asBoolean(), false))
              .build();
      default -> throw new AssertionError("unknown optimizer " + m.get("optimizer"));
    };
  }

  private static void runCase(Path dir, JsonNode model, String file, JsonNode m) throws Exception {
    String modelName = model.get("name").asText();
    Path expected = dir.resolve(m.get("name").asText()).resolve("expected");
    int steps = m.get("steps").asInt();
    try (PointerScope scope = new PointerScope();
        TorchScriptModel ts = TorchScriptModel.load(dir.resolve(file))) {
      List<String> names = new ArrayList<>();
      m.get("params").forEach(p -> names.add(p.get("name").asText()));
      assertEquals(names, ts.parameterNames(), file + ": parameters, in named_parameters() order");
      List<Tensor> params = ts.parameters();
      for (int i = 0; i < names.size(); i++) {
        Tensor p = params.get(i);
        assertArrayEquals(
            PythonParityTest.readDoubles(
                dir.resolve(modelName).resolve("init").resolve(names.get(i) + ".bin"),
                "float64",
                p.numel()),
            T.values(p),
            0.0,
            file + ": initial " + names.get(i));
      }
      for (JsonNode b : m.get("buffers")) {
        String name = b.get("name").asText();
        assertBuffer(
            file + ": initial buffer " + name,
            b,
            dir.resolve(modelName).resolve("init").resolve("buffer." + name + ".bin"),
            ts.buffers().get(name),
            0.0);
      }
      Map<String, Tensor> inputs = inputs(dir, model);
      double worstParam = 0;
      double worstState = 0;
      double worstLoss = 0;
      try (FusedOptimizer<?> opt = optimizer(m, params)) {
        for (int t = 0; t < steps; t++) {
          Tensor x = inputs.get("x").select(0, t);
          Tensor y = inputs.get("y").select(0, t);
          double loss;
          try (Tensor l = opt.step(() -> loss(ts, model.get("element"), x, y))) {
            loss = l.item_double();
          }
          String at = m.get("name").asText() + " (" + file + "), step " + (t + 1);
          double expectedLoss = m.get("losses").get(t).asDouble();
          double tolerance = RTOL * (1 + Math.abs(expectedLoss));
          worstLoss = Math.max(worstLoss, Math.abs(loss - expectedLoss) / tolerance);
          assertEquals(expectedLoss, loss, tolerance, at + ": loss");
          for (int i = 0; i < names.size(); i++) {
            Tensor p = params.get(i);
            long numel = p.numel();
            String who = at + ", parameter '" + names.get(i) + "'";
            double[] e =
                slice(
                    PythonParityTest.readDoubles(
                        expected.resolve(names.get(i) + ".bin"), "float64", steps * numel),
                    t,
                    numel);
            double[] a = T.values(p);
            worstParam = Math.max(worstParam, T.closeness(a, e, RTOL, RTOL));
            T.assertClose(who, a, e, RTOL, RTOL);
            for (JsonNode s : m.get("params").get(i).get("state")) {
              String state = s.asText();
              double[] es =
                  slice(
                      PythonParityTest.readDoubles(
                          expected.resolve(state + "." + names.get(i) + ".bin"),
                          "float64",
                          steps * numel),
                      t,
                      numel);
              double atol = RTOL * max(es) + Double.MIN_NORMAL;
              double[] as = T.values(opt.stateTensor(state, i));
              worstState = Math.max(worstState, T.closeness(as, es, RTOL, atol));
              T.assertClose(who + ", " + state, as, es, RTOL, atol);
            }
          }
        }
      }
      Map<String, Tensor> buffers = ts.buffers();
      List<String> bufferNames = new ArrayList<>();
      for (JsonNode b : m.get("buffers")) {
        String name = b.get("name").asText();
        bufferNames.add(name);
        assertBuffer(
            file + ": buffer " + name,
            b,
            expected.resolve("buffer." + name + ".bin"),
            buffers.get(name),
            RTOL);
      }
      assertEquals(bufferNames, new ArrayList<>(buffers.keySet()), file + ": buffers");
      assertTrue(ts.isTraining(), "training mode throughout");
      System.out.printf(
          "torchscript parity %s (%s): largest deviation / tolerance: parameters %.2g, state %.2g,"
              + " loss %.2g%n",
          m.get("name").asText(), file, worstParam, worstState, worstLoss);
    }
  }

  /** A buffer against its fixture: int64 (a counter) exactly, float64 at {@code rtol}. */
  private static void assertBuffer(
      String what, JsonNode spec, Path bin, Tensor actual, double rtol) {
    if (spec.get("dtype").asText().equals("int64")) {
      assertEquals(
          PythonParityTest.readTensor(bin, "int64", PythonParityTest.longs(spec.get("shape")))
              .item_long(),
          actual.item_long(),
          what);
    } else {
      double[] e = PythonParityTest.readDoubles(bin, "float64", actual.numel());
      T.assertClose(what, T.values(actual), e, rtol, rtol * max(e) + Double.MIN_NORMAL);
    }
  }

  private static double[] slice(double[] all, int step, long numel) {
    return Arrays.copyOfRange(all, (int) (step * numel), (int) ((step + 1) * numel));
  }

  private static double max(double[] values) {
    return Arrays.stream(values).map(Math::abs).max().orElse(0);
  }
}
