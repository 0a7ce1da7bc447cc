package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.adahessian4j.nativecore.ah4j;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The C API itself rejects bad tensors with a code, a message and the culprit's index, and writes
 * nothing: a table of one-parameter Adam and AdaHessian calls, each with one thing wrong.
 */
class NativeCoreTest {

  @BeforeAll
  static void load() {
    NativeCore.load();
  }

  /**
   * The natives on the class path are the flavour the build asked for (surefire passes it): the
   * linux-x86_64-gpu ones (-Pgpu) hold the CUDA kernels, the CPU ones do not.
   */
  @Test
  void nativesAreTheFlavourTheBuildAskedFor() {
    String expected = System.getProperty("adahessian4j.expectedNatives");
    Assumptions.assumeTrue(expected != null, "not run by Maven");
    assertEquals(expected.endsWith("-gpu") ? 1 : 0, ah4j.ah4j_has_cuda_kernels(), expected);
  }

  /**
   * The CUDA chunk length setting is reachable from Java and validated (it exists in every build).
   */
  @Test
  void chunkLengthSetting() {
    long initial = ah4j.ah4j_cuda_chunk_elements(0);
    assertEquals(16384, initial);
    assertEquals(-1, ah4j.ah4j_cuda_chunk_elements(1000));
    assertEquals(4096, ah4j.ah4j_cuda_chunk_elements(4096));
    assertEquals(initial, ah4j.ah4j_cuda_chunk_elements(initial));
  }

  /** The arguments of one call; each case breaks one of them. */
  static final class Call {
    Tensor param = T.randomParam(1, torch.ScalarType.Float, 2, 3);
    Tensor grad = T.tensor(new double[] {1, 2, 3, 4, 5, 6}, torch.ScalarType.Float, 2, 3);
    Tensor m = torch.zeros(2, 3);
    Tensor v = torch.zeros(2, 3);
    Tensor diag = torch.ones(2, 3);
    Tensor max = torch.zeros(2, 3);
    long step = 1;
    long block = 1;
    double lr = 0.1;

    private static PointerPointer<Tensor> list(Tensor t) {
      PointerPointer<Tensor> list = new PointerPointer<>(1);
      list.put(0, t);
      return list;
    }

    int adahessian() {
      PointerPointer<Tensor> p = list(param);
      PointerPointer<Tensor> g = list(grad);
      PointerPointer<Tensor> d = list(diag);
      PointerPointer<Tensor> mm = list(m);
      PointerPointer<Tensor> vv = list(v);
      return ah4j.ah4j_adahessian_step_(
          p,
          g,
          d,
          mm,
          vv,
          1,
          new LongPointer(1).put(block),
          new LongPointer(1).put(step),
          new DoublePointer(lr, 0.9, 0.999, 1e-4, 0.0, 1.0));
    }

    int adam() {
      PointerPointer<Tensor> p = list(param);
      PointerPointer<Tensor> g = list(grad);
      PointerPointer<Tensor> mm = list(m);
      PointerPointer<Tensor> vv = list(v);
      PointerPointer<Tensor> maxes = list(max);
      return ah4j.ah4j_adam_step_(
          p,
          g,
          mm,
          vv,
          maxes,
          1,
          new LongPointer(1).put(step),
          new DoublePointer(lr, 0.9, 0.999, 1e-8, 0.0, 0.0),
          new IntPointer(1).put(ah4j.AH4J_ADAM_AMSGRAD));
    }
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "grad of another dtype",
            (Consumer<Call>) c -> c.grad = c.grad.to(torch.ScalarType.Double),
            "grads: expected dtype float32, got float64",
            "grads: expected dtype float32, got float64"),
        Arguments.of(
            "state of another shape",
            (Consumer<Call>) c -> c.m = torch.zeros(6),
            "exp_avgs: expected shape [2, 3] (the parameter's), got [6]",
            "exp_avgs: expected shape [2, 3] (the parameter's), got [6]"),
        Arguments.of(
            "non-contiguous grad",
            (Consumer<Call>) c -> c.grad = torch.ones(3, 2).t(),
            "grads: expected a contiguous tensor, got shape [2, 3] with strides [1, 2] (call contiguous() first)",
            "grads: expected a contiguous tensor, got shape [2, 3] with strides [1, 2] (call contiguous() first)"),
        Arguments.of(
            "integer parameter",
            (Consumer<Call>) c -> c.param = torch.ones(2, 3).to(torch.ScalarType.Int),
            "params: expected a floating dtype (float32, float64, float16 or bfloat16), got a non-floating dtype",
            "params: expected a floating dtype (float32, float64, float16 or bfloat16), got a non-floating dtype"),
        Arguments.of(
            "undefined grad",
            (Consumer<Call>) c -> c.grad = new Tensor(),
            "grads: libtorch could not read its strides (an undefined, sparse or otherwise non-strided tensor?)",
            "grads: libtorch could not read its strides (an undefined, sparse or otherwise non-strided tensor?)"),
        Arguments.of(
            "step 0",
            (Consumer<Call>) c -> c.step = 0,
            "step must be >= 1, got 0",
            "step must be >= 1, got 0"),
        Arguments.of(
            "NaN learning rate",
            (Consumer<Call>) c -> c.lr = Double.NaN,
            "hyperparameter lr must be finite, got nan",
            "hyperparameter lr must be finite, got nan"),
        Arguments.of(
            "block size that does not divide",
            (Consumer<Call>) c -> c.block = 4,
            "block size 4 does not divide the parameter's 6 elements (shape [2, 3])",
            null),
        Arguments.of(
            "amsgrad without max_exp_avg_sqs",
            (Consumer<Call>) c -> c.max = null,
            null,
            "max_exp_avg_sqs: expected a tensor, got null"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void rejectsAndWritesNothing(
      String description, Consumer<Call> breakIt, String adaHessianMessage, String adamMessage) {
    try (PointerScope scope = new PointerScope()) {
      for (boolean adam : new boolean[] {false, true}) {
        String expected = adam ? adamMessage : adaHessianMessage;
        if (expected == null) {
          continue;
        }
        Call c = new Call();
        breakIt.accept(c);
        double[] param = c.param.defined() ? T.values(c.param) : null;
        double[] m = T.values(c.m);
        int status = adam ? c.adam() : c.adahessian();
        assertEquals(true, status != ah4j.AH4J_OK, description);
        assertEquals(expected, ah4j.ah4j_last_error().getString());
        assertEquals(0, ah4j.ah4j_last_error_index());
        assertArrayEquals(param, T.values(c.param), 0.0);
        assertArrayEquals(m, T.values(c.m), 0.0);
      }
    }
  }
}
