package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TorchScriptModel}'s API on modules exported by Python (the fixtures of {@link
 * TorchScriptParityTest}, folder {@code bad/} for the modules it must refuse or handle): every bad
 * input is refused with a message that names the file or the parameter, and nothing changes.
 */
class TorchScriptModelTest {
  private static final Path DIR = TorchScriptParityTest.FIXTURES.dir();

  private static Path bad(String name) {
    Path file = DIR.resolve("bad").resolve(name);
    TorchScriptParityTest.FIXTURES.readJson(DIR.resolve("index.json")); // fails if not generated
    return file;
  }

  private static Tensor doubles(long... shape) {
    return torch.rand(shape, new TensorOptions(torch.ScalarType.Double));
  }

  /** Every buffer's values, to show that a refused call moved none. */
  private static Map<String, double[]> bufferValues(TorchScriptModel model) {
    Map<String, double[]> values = new LinkedHashMap<>();
    model.buffers().forEach((name, t) -> values.put(name, T.values(t)));
    return values;
  }

  private static void assertSameBuffers(Map<String, double[]> before, TorchScriptModel model) {
    Map<String, double[]> after = bufferValues(model);
    assertEquals(before.keySet(), after.keySet());
    before.forEach((name, v) -> assertArrayEquals(v, after.get(name), 0.0, "buffer " + name));
  }

  @Test
  void loadsFromAFileAndFromAStreamAlike() throws Exception {
    Path file = DIR.resolve("cnn_script.pt");
    TorchScriptParityTest.FIXTURES.readJson(DIR.resolve("index.json"));
    try (PointerScope scope = new PointerScope();
        TorchScriptModel a = TorchScriptModel.load(file);
        InputStream in = Files.newInputStream(file);
        TorchScriptModel b = TorchScriptModel.load(in, "cnn_script.pt")) {
      assertEquals(
          List.of("conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"),
          a.parameterNames());
      assertEquals(a.parameterNames(), b.parameterNames());
      for (int i = 0; i < a.parameters().size(); i++) {
        assertArrayEquals(T.values(a.parameters().get(i)), T.values(b.parameters().get(i)), 0.0);
      }
      assertEquals(
          List.of("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"),
          new ArrayList<>(a.buffers().keySet()));
      assertTrue(a.isTraining());
      a.eval();
      assertFalse(a.isTraining());
      a.train(true);
      assertTrue(a.isTraining());
      assertEquals("TorchScriptModel[cnn_script.pt, 5 parameters]", b.toString());
    }
  }

  @Test
  void savesToAStreamWhatLoadsBack() throws Exception {
    try (PointerScope scope = new PointerScope();
        TorchScriptModel a = TorchScriptModel.load(DIR.resolve("lstm_script.pt"))) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      a.save(bytes);
      try (TorchScriptModel b =
          TorchScriptModel.load(new ByteArrayInputStream(bytes.toByteArray()), "saved")) {
        Tensor tokens = torch.randint(11, new long[] {2, 5});
        assertArrayEquals(T.values(a.forward(0, tokens)), T.values(b.forward(0, tokens)), 0.0);
      }
    }
  }

  /** docs/torchscript.md's example, verbatim, on the CNN exported by Python. */
  @Test
  void theDocsExampleTrainsAndSaves(@TempDir Path tmp) throws Exception {
    Path pt = DIR.resolve("cnn_script.pt");
    Path trained = tmp.resolve("model-trained.pt");
    Tensor x = doubles(6, 1, 6, 6);
    Tensor y = torch.randint(3, new long[] {6});
    try (TorchScriptModel model = TorchScriptModel.load(pt);
        AdaHessian opt = AdaHessian.builder().lr(0.05).build(model.parameters())) {
      for (int step = 0; step < 20; step++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor loss = opt.step(() -> torch.cross_entropy_loss(model.forward(x), y));
          System.out.printf("step %d: loss %.4f%n", step, loss.item_double());
        }
      }
      model.save(trained);
    }
    try (TorchScriptModel before = TorchScriptModel.load(pt);
        TorchScriptModel after = TorchScriptModel.load(trained)) {
      assertFalse(
          java.util.Arrays.equals(
              T.values(before.parameters().get(0)), T.values(after.parameters().get(0))),
          "the saved module holds the trained weights");
    }
    assertTrue(torch.getGraphExecutorOptimize(), "the executor setting is restored");
  }

  @Test
  void aMissingFileIsNoSuchFile() {
    Path missing = DIR.resolve("no-such-model.pt");
    NoSuchFileException e =
        assertThrows(NoSuchFileException.class, () -> TorchScriptModel.load(missing));
    assertTrue(e.getMessage().contains("no-such-model.pt"), e.getMessage());
  }

  @Test
  void refusesFilesThatAreNotTorchScript(@TempDir Path tmp) throws Exception {
    Path text = tmp.resolve("notes.pt");
    Files.writeString(text, "not a model");
    for (Path file : List.of(text, bad("state_dict.pt"))) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> TorchScriptModel.load(file));
      assertTrue(
          e.getMessage().startsWith(file + " is not a TorchScript module (torch.jit.save"),
          e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TorchScriptModel.load(new ByteArrayInputStream(new byte[7]), "resource x.pt"));
    assertTrue(e.getMessage().startsWith("resource x.pt is not a TorchScript module"));
  }

  @Test
  void refusesModulesWithoutTrainableParameters() {
    for (String name : List.of("frozen.pt", "optimized.pt")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> TorchScriptModel.load(bad(name)));
      assertEquals(
          bad(name)
              + " is a frozen module (torch.jit.freeze or torch.jit.optimize_for_inference folded"
              + " its parameters into constants, so nothing can be trained): export the module"
              + " before freezing it",
          e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> TorchScriptModel.load(bad("no_grad.pt")));
    assertEquals(
        bad("no_grad.pt")
            + " has no trainable parameters: none of its 5 parameters requires grad (call"
            + " requires_grad_(True) on those to train before exporting)",
        e.getMessage());
  }

  @Test
  void aDictOutputIsRefusedBeforeForwardRuns() throws Exception {
    try (PointerScope scope = new PointerScope();
        TorchScriptModel model = TorchScriptModel.load(bad("dict.pt"))) {
      Tensor x = doubles(4, 3);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> model.forward(x));
      assertEquals(
          "the forward of "
              + bad("dict.pt")
              + " returns Dict(str, Tensor), not a Tensor: TorchScriptModel takes a forward that"
              + " returns a Tensor or a tuple",
          e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> model.forward(0, x));
    }
  }

  @Test
  void aTupleOutputNeedsItsElementNamed() throws Exception {
    try (PointerScope scope = new PointerScope();
        TorchScriptModel model = TorchScriptModel.load(bad("tuple.pt"))) {
      Tensor x = doubles(4, 3);
      Map<String, double[]> before = bufferValues(model);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> model.forward(x));
      assertEquals(
          "the forward of "
              + bad("tuple.pt")
              + " returns (Tensor, Tensor), not a Tensor: say which element of the tuple the loss"
              + " takes, with forward(element, inputs)",
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> model.forward(2, x));
      assertEquals(
          "the forward of "
              + bad("tuple.pt")
              + " returns (Tensor, Tensor): element 2 does not"
              + " exist",
          e.getMessage());
      assertSameBuffers(before, model); // BatchNorm in training mode: no forward ran
      assertArrayEquals(new long[] {4, 2}, model.forward(0, x).sizes().vec().get());
      assertArrayEquals(new long[] {4, 3}, model.forward(1, x).sizes().vec().get());
      assertNotEquals(
          before.get("bn.running_mean")[0], bufferValues(model).get("bn.running_mean")[0]);
    }
  }

  @Test
  void refusesInputsThatDoNotFitTheForward() throws Exception {
    try (PointerScope scope = new PointerScope();
        TorchScriptModel model = TorchScriptModel.load(DIR.resolve("cnn_script.pt"))) {
      Map<String, double[]> before = bufferValues(model);
      Tensor x = doubles(2, 1, 6, 6);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> model.forward(x, x));
      assertEquals(
          "the forward of "
              + DIR.resolve("cnn_script.pt")
              + " is forward(Tensor x) -> Tensor: got 2 inputs",
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> model.forward(0, x));
      assertEquals(
          "the forward of "
              + DIR.resolve("cnn_script.pt")
              + " returns Tensor, not a tuple: call forward(inputs)",
          e.getMessage());
      assertSameBuffers(before, model);
    }
  }

  /**
   * Data on another device than the parameters. Checked on CPU with an input on the "meta" device
   * (shapes without storage, available everywhere): the check compares devices, whichever they are,
   * and refuses before the forward runs.
   */
  @Test
  void refusesInputsOnAnotherDevice() throws Exception {
    try (PointerScope scope = new PointerScope();
        TorchScriptModel model = TorchScriptModel.load(DIR.resolve("cnn_script.pt"))) {
      Map<String, double[]> before = bufferValues(model);
      Tensor x = doubles(2, 1, 6, 6).to(new Device("meta"), torch.ScalarType.Double);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> model.forward(x));
      assertEquals(
          "input 0 is on meta but parameter 'conv.weight' of "
              + DIR.resolve("cnn_script.pt")
              + " is on cpu: move the inputs to the model's device",
          e.getMessage());
      assertSameBuffers(before, model);
    }
  }

  /** A weight two Linear layers share is one parameter, listed once, and trains as one. */
  @Test
  void aSharedParameterIsPassedOnce() throws Exception {
    try (PointerScope scope = new PointerScope();
        TorchScriptModel model = TorchScriptModel.load(bad("tied.pt"))) {
      assertEquals(List.of("a.weight", "a.bias", "b.bias"), model.parameterNames());
      List<String> all = new ArrayList<>();
      List<Long> impls = new ArrayList<>();
      named_parameter_list list = model.module().named_parameters(true);
      for (named_parameter_iterator it = list.begin();
          it.notEquals(list.end());
          it = it.increment()) {
        all.add(it.access().name().getString());
        impls.add(it.access().value().unsafeGetTensorImpl().address());
      }
      assertEquals(List.of("a.weight", "a.bias", "b.weight", "b.bias"), all);
      assertEquals(impls.get(0), impls.get(2), "a.weight and b.weight are one tensor");
      Tensor x = doubles(5, 3);
      Tensor tied = model.parameters().get(0);
      double[] before = T.values(tied);
      try (Adam opt = Adam.builder().lr(0.1).build(model.parameters())) {
        opt.step(() -> model.forward(x).square().sum()).close();
      }
      assertFalse(java.util.Arrays.equals(before, T.values(tied)), "the tied weight moved");
    }
  }

  @Test
  void aClosedModelRefusesEveryCall() throws Exception {
    TorchScriptModel model = TorchScriptModel.load(DIR.resolve("cnn_script.pt"));
    List<Tensor> params = model.parameters();
    model.close();
    model.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, model::parameters);
    assertEquals(
        "the TorchScriptModel of " + DIR.resolve("cnn_script.pt") + " is closed", e.getMessage());
    assertEquals(5, params.size());
    assertEquals(36 * 3, params.get(3).numel(), "the parameters stay valid");
  }
}
