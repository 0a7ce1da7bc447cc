package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * In evaluation mode with gradients on (a Hessian analysis of a trained module), the forward runs
 * through the same unoptimised plan as in training: four Hessian-vector products in a row, each
 * running the forward again, equal bit for bit those of a copy run with libtorch's graph-executor
 * optimisation off throughout. With the optimisation on, the profiling executor would run the third
 * and later calls through optimised autodiff subgraphs, whose results differ in the last bits or
 * whose double backward fails in some libtorch versions.
 */
class TorchScriptExecutorTest {
  private static final int CALLS = 4;

  @ParameterizedTest
  @MethodSource("io.github.adahessian4j.TorchScriptRoundTripTest#models")
  void evaluationWithGradientsRunsTheUnoptimisedPlan(String name) throws Exception {
    Path dir = TorchScriptParityTest.FIXTURES.dir();
    JsonNode index = TorchScriptParityTest.FIXTURES.readJson(dir.resolve("index.json"));
    JsonNode model = null;
    for (JsonNode m : index.get("models")) {
      model = m.get("name").asText().equals(name) ? m : model;
    }
    JsonNode element = model.get("element");
    for (String export : List.of("script", "trace")) {
      Path file = dir.resolve(model.get("modules").get(export).asText());
      try (PointerScope scope = new PointerScope()) {
        Map<String, Tensor> inputs = TorchScriptParityTest.inputs(dir, model);
        Tensor x = inputs.get("x").select(0, 0);
        Tensor y = inputs.get("y").select(0, 0);
        assertTrue(torch.getGraphExecutorOptimize(), "the thread's setting starts on");
        List<double[]> library = products(file, element, x, y);
        assertTrue(torch.getGraphExecutorOptimize(), "the thread's setting is restored");
        torch.setGraphExecutorOptimize(false);
        List<double[]> unoptimised;
        try {
          unoptimised = products(file, element, x, y);
        } finally {
          torch.setGraphExecutorOptimize(true);
        }
        for (int i = 0; i < library.size(); i++) {
          assertArrayEquals(
              unoptimised.get(i),
              library.get(i),
              0.0,
              name + " (" + export + "): product " + i / 2 + ", parameter " + i % 2);
        }
      }
    }
  }

  /** {@value #CALLS} products H v of a fresh copy of the module in evaluation mode. */
  private static List<double[]> products(Path file, JsonNode element, Tensor x, Tensor y)
      throws Exception {
    List<double[]> out = new ArrayList<>();
    try (TorchScriptModel m = TorchScriptModel.load(file)) {
      m.train(false);
      List<Tensor> params = m.parameters();
      torch.manual_seed(7);
      List<Tensor> v = new ArrayList<>();
      for (Tensor p : params) {
        v.add(torch.randn_like(p));
      }
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .params(params)
              .loss(() -> TorchScriptParityTest.loss(m, element, x, y))
              .keepGraphs(false)
              .build()) {
        for (int call = 0; call < CALLS; call++) {
          List<Tensor> hv = h.hvp(v);
          out.add(T.values(hv.get(0)));
          out.add(T.values(hv.get(hv.size() - 1)));
        }
      }
    }
    return out;
  }
}
