package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A TorchScript model trained in Java goes back to Python, and training resumes from files.
 *
 * <p>Each of {@link TorchScriptParityTest}'s scripted models is trained for 3 AdaHessian steps in
 * Java and saved with {@link TorchScriptModel#save(java.nio.file.Path)}; Python ({@code
 * bench/python/torchscript_forward.py}) loads that file and runs its forward, in evaluation mode
 * (BatchNorm then uses the running statistics trained in Java) and in training mode, on a batch it
 * has not seen: its outputs equal Java's at rtol 1e-12. Then the module file and the optimizer
 * checkpoint, loaded afresh, train 3 more steps, which equal 6 uninterrupted steps bit for bit.
 *
 * <p>Python is {@code /usr/bin/python3} (torch 1.13), or the command that the system property
 * {@value #PYTHON} names, words split at spaces, followed by the script and its arguments: {@code
 * bench/python/parity-torch26.sh} sets it to {@code bench/python/torch26.sh run} and the fixtures
 * to torch 2.6's. The torch that runs the script must be the one that wrote the fixtures (the test
 * checks it), so each torch loads modules that it exported and Java trained.
 */
class TorchScriptRoundTripTest {
  private static final double RTOL = 1e-12;

  /** The system property naming the command that runs a Python script. */
  static final String PYTHON = "adahessian4j.torchscript.python";

  /** The fixtures' models: cnn, lstm, transformer, and transformer_sdpa from torch >= 2.3. */
  static Stream<String> models() {
    Path dir = TorchScriptParityTest.FIXTURES.dir();
    JsonNode index = TorchScriptParityTest.FIXTURES.readJson(dir.resolve("index.json"));
    return StreamSupport.stream(index.get("models").spliterator(), false)
        .map(m -> m.get("name").asText());
  }

  /**
   * Temporary folders in the build folder ({@code target/tmp}), which a Python runner in a chroot
   * (bench/python/torch26.sh) can write as well.
   */
  static final class InBuildFolder implements TempDirFactory {
    @Override
    public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context)
        throws IOException {
      Path parent = Path.of(System.getProperty("basedir", "."), "target", "tmp");
      Files.createDirectories(parent);
      return Files.createTempDirectory(parent, "roundtrip");
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void trainedInJavaRunsTheSameInPythonAndResumes(
      String name, @TempDir(factory = InBuildFolder.class) Path tmp) throws Exception {
    Path dir = TorchScriptParityTest.FIXTURES.dir();
    JsonNode index = TorchScriptParityTest.FIXTURES.readJson(dir.resolve("index.json"));
    String torchVersion = index.get("reference").get("torch").asText();
    JsonNode model = null;
    for (JsonNode m : index.get("models")) {
      model = m.get("name").asText().equals(name) ? m : model;
    }
    JsonNode training =
        TorchScriptParityTest.FIXTURES.readJson(
            dir.resolve(name + "_adahessian").resolve("manifest.json"));
    Path source = dir.resolve(model.get("modules").get("script").asText());
    JsonNode element = model.get("element");
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> inputs = TorchScriptParityTest.inputs(dir, model);
      Function<Integer, Tensor> x = t -> inputs.get("x").select(0, t);
      Function<Integer, Tensor> y = t -> inputs.get("y").select(0, t);

      // 6 steps without a break: the reference for the resumed run.
      List<double[]> straight = new ArrayList<>();
      try (TorchScriptModel m = TorchScriptModel.load(source);
          FusedOptimizer<?> opt = TorchScriptParityTest.optimizer(training, m.parameters())) {
        for (int t = 0; t < 6; t++) {
          int s = t;
          opt.step(() -> TorchScriptParityTest.loss(m, element, x.apply(s), y.apply(s))).close();
        }
        straight.addAll(snapshot(m, opt));
      }

      // 3 steps, save both, check Python's outputs, load both, 3 more steps.
      Path saved = tmp.resolve(name + "-trained.pt");
      Path checkpoint = tmp.resolve(name + ".ckpt");
      try (TorchScriptModel m = TorchScriptModel.load(source);
          FusedOptimizer<?> opt = TorchScriptParityTest.optimizer(training, m.parameters())) {
        for (int t = 0; t < 3; t++) {
          int s = t;
          opt.step(() -> TorchScriptParityTest.loss(m, element, x.apply(s), y.apply(s))).close();
        }
        m.save(saved);
        opt.save(checkpoint);
        Tensor unseen = x.apply(19);
        List<double[]> java = new ArrayList<>();
        for (boolean train : new boolean[] {false, true}) {
          m.train(train);
          java.add(T.values(element.isNull() ? m.forward(unseen) : m.forward(0, unseen)));
        }
        double[] python = python(saved, unseen, element, torchVersion, tmp);
        assertEquals(2 * java.get(0).length, python.length, name + ": Python's output size");
        for (int mode = 0; mode < 2; mode++) {
          double[] j = java.get(mode);
          T.assertClose(
              name + ": Python's output of the module saved in Java, training mode " + (mode == 1),
              Arrays.copyOfRange(python, mode * j.length, (mode + 1) * j.length),
              j,
              RTOL,
              RTOL * Arrays.stream(j).map(Math::abs).max().orElse(0));
        }
      }
      try (TorchScriptModel m = TorchScriptModel.load(saved);
          FusedOptimizer<?> opt = TorchScriptParityTest.optimizer(training, m.parameters())) {
        opt.load(checkpoint);
        for (int t = 3; t < 6; t++) {
          int s = t;
          opt.step(() -> TorchScriptParityTest.loss(m, element, x.apply(s), y.apply(s))).close();
        }
        List<double[]> resumed = snapshot(m, opt);
        assertEquals(straight.size(), resumed.size());
        for (int i = 0; i < straight.size(); i++) {
          assertArrayEquals(
              straight.get(i), resumed.get(i), 0.0, name + ": resumed tensor " + i + " differs");
        }
      }
    }
  }

  /** Parameters, optimizer state and buffers, in a fixed order. */
  private static List<double[]> snapshot(TorchScriptModel m, FusedOptimizer<?> opt) {
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < m.parameters().size(); i++) {
      out.add(T.values(m.parameters().get(i)));
      for (String s : List.of("exp_avg", "exp_hessian_diag_sq")) {
        out.add(T.values(opt.stateTensor(s, i)));
      }
    }
    m.buffers().values().forEach(b -> out.add(T.values(b)));
    return out;
  }

  /**
   * The outputs of torchscript_forward.py for the saved module, in evaluation mode then training
   * mode, run by the {@value #PYTHON} command with torch {@code torchVersion}.
   */
  private static double[] python(
      Path module, Tensor x, JsonNode element, String torchVersion, Path tmp)
      throws IOException, InterruptedException {
    Path in = tmp.resolve("x.bin");
    Path out = tmp.resolve("out.bin");
    Files.deleteIfExists(out);
    boolean tokens = x.scalar_type().value == torch.ScalarType.Long.value;
    ByteBuffer bytes = ByteBuffer.allocate((int) x.numel() * 8).order(ByteOrder.LITTLE_ENDIAN);
    if (tokens) {
      long[] v = new long[(int) x.numel()];
      java.nio.LongBuffer b = x.contiguous().createBuffer();
      b.get(v);
      bytes.asLongBuffer().put(v);
    } else {
      bytes.asDoubleBuffer().put(T.values(x));
    }
    Files.write(in, bytes.array());
    StringBuilder shape = new StringBuilder();
    for (long d : x.sizes().vec().get()) {
      shape.append(shape.length() == 0 ? "" : ",").append(d);
    }
    Path script =
        Path.of(
            System.getProperty("basedir", "."), "..", "bench", "python", "torchscript_forward.py");
    List<String> command =
        new ArrayList<>(List.of(System.getProperty(PYTHON, "/usr/bin/python3").trim().split(" +")));
    command.addAll(
        List.of(
            script.toString(),
            module.toString(),
            out.toString(),
            in + ":" + (tokens ? "int64" : "float64") + ":" + shape,
            "--modes",
            "eval,train"));
    if (!element.isNull()) {
      command.addAll(List.of("--element", element.asText()));
    }
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    Process p = pb.start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), "torchscript_forward.py failed: " + log);
    assertTrue(Files.isRegularFile(out), "torchscript_forward.py wrote nothing: " + log);
    assertTrue(
        log.contains("(torch " + torchVersion + ")"),
        "torchscript_forward.py ran another torch than the fixtures' " + torchVersion + ": " + log);
    double[] values = new double[(int) (Files.size(out) / 8)];
    ByteBuffer.wrap(Files.readAllBytes(out))
        .order(ByteOrder.LITTLE_ENDIAN)
        .asDoubleBuffer()
        .get(values);
    return values;
  }
}
