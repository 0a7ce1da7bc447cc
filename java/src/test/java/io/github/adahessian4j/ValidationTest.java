package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input: the exact message, and nothing changed. */
class ValidationTest {

  static Stream<Arguments> badOptions() {
    return Stream.of(
        Arguments.of(
            "negative lr",
            (Runnable) () -> AdaHessian.builder().lr(-1.0),
            "Invalid learning rate: -1.0"),
        Arguments.of(
            "NaN lr", (Runnable) () -> Adam.builder().lr(Double.NaN), "Invalid learning rate: NaN"),
        Arguments.of(
            "beta1 = 1",
            (Runnable) () -> AdaHessian.builder().betas(1.0, 0.999),
            "Invalid beta parameter at index 0: 1.0"),
        Arguments.of(
            "beta2 < 0",
            (Runnable) () -> AdamW.builder().betas(0.9, -0.5),
            "Invalid beta parameter at index 1: -0.5"),
        Arguments.of(
            "hessian power 2",
            (Runnable) () -> AdaHessian.builder().hessianPower(2.0),
            "Invalid Hessian power value: 2.0"),
        Arguments.of(
            "negative eps",
            (Runnable) () -> AdaHessian.builder().eps(-1e-8),
            "Invalid epsilon value: -1.0E-8"),
        Arguments.of(
            "infinite weight decay",
            (Runnable) () -> Adam.builder().weightDecay(Double.POSITIVE_INFINITY),
            "Invalid weight_decay value: Infinity"),
        Arguments.of(
            "updateEach 0",
            (Runnable) () -> AdaHessian.builder().updateEach(0),
            "Invalid updateEach value: 0 (must be >= 1)"),
        Arguments.of(
            "nSamples 0",
            (Runnable) () -> AdaHessian.builder().nSamples(0),
            "Invalid nSamples value: 0 (must be >= 1)"),
        Arguments.of(
            "block size 0",
            (Runnable) () -> BlockAveraging.Rule.blocks(0),
            "Invalid block size value: 0 (must be >= 1)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badOptions")
  void hyperparametersInPyTorchsWords(String description, Runnable build, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::run);
    assertEquals(message, e.getMessage());
  }

  static Stream<Arguments> badParams() {
    return Stream.of(
        Arguments.of(
            "integer dtype",
            (Supplier<Tensor>) () -> torch.ones(3).to(torch.ScalarType.Long),
            "parameter (group 0, index 1): expected a floating dtype (float32, float64, float16 or bfloat16), got Long"),
        Arguments.of(
            "no requires_grad",
            (Supplier<Tensor>) () -> torch.ones(3),
            "parameter (group 0, index 1) does not require grad: call requires_grad_(true) on it or leave it out of the optimizer"),
        Arguments.of(
            "non-contiguous",
            (Supplier<Tensor>)
                () -> {
                  Tensor t = torch.ones(2, 3).t();
                  t.requires_grad_(true);
                  return t;
                },
            "parameter (group 0, index 1): expected a contiguous tensor (call contiguous() before making it a parameter)"),
        Arguments.of(
            "undefined",
            (Supplier<Tensor>) Tensor::new,
            "parameter (group 0, index 1) is an undefined tensor"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badParams")
  void badParametersAreNamed(String description, Supplier<Tensor> bad, String message) {
    try (PointerScope scope = new PointerScope()) {
      Tensor good = T.randomParam(1, torch.ScalarType.Float, 3);
      Tensor b = bad.get();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> AdaHessian.builder().build(List.of(good, b)));
      assertEquals(message, e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class, () -> Adam.builder().build(List.of(good, b)));
      assertEquals(message, e.getMessage());
    }
  }

  @Test
  void aParameterInTwoGroups() {
    try (PointerScope scope = new PointerScope()) {
      Tensor a = T.randomParam(1, torch.ScalarType.Float, 3);
      Tensor b = T.randomParam(2, torch.ScalarType.Float, 3);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  AdaHessian.builder().group(List.of(a, b)).group(List.of(new Tensor(b))).build());
      assertEquals(
          "parameter (group 1, index 0) appears twice: it is also parameter (group 0, index 1)",
          e.getMessage());
    }
  }

  @Test
  void blockSizeThatDoesNotDivide() {
    try (PointerScope scope = new PointerScope()) {
      Tensor a = T.randomParam(1, torch.ScalarType.Float, 6);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  AdaHessian.builder()
                      .blockAveraging(
                          BlockAveraging.OFFICIAL.withRank(1, BlockAveraging.Rule.blocks(4)))
                      .build(List.of(a)));
      assertEquals(
          "parameter 0 (group 0, index 0, shape [6]): block averaging blocks(4) gives block "
              + "size 4, which does not divide its 6 elements",
          e.getMessage());
    }
  }

  /** FAIRSEQ, like the authors' view(-1, 32), needs 2-D sizes that are multiples of 32. */
  @Test
  void fairseqNeedsMatricesOfWholeBlocks() {
    try (PointerScope scope = new PointerScope()) {
      Tensor bias = T.randomParam(1, torch.ScalarType.Float, 5);
      Tensor runsOn = T.randomParam(2, torch.ScalarType.Float, 2, 48);
      Tensor ragged = T.randomParam(3, torch.ScalarType.Float, 3, 48);
      AdaHessian.builder().blockAveraging(BlockAveraging.FAIRSEQ).build(List.of(bias, runsOn));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  AdaHessian.builder()
                      .blockAveraging(BlockAveraging.FAIRSEQ)
                      .build(List.of(bias, ragged)));
      assertEquals(
          "parameter 1 (group 0, index 1, shape [3, 48]): block averaging blocks(32) gives block "
              + "size 32, which does not divide its 144 elements",
          e.getMessage());
    }
  }

  /** Runs a failing step and checks that params, step counts and later steps are unaffected. */
  private static void assertStepFailsCleanly(
      Supplier<Tensor> closure, Class<? extends Throwable> type, String message) {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(4, torch.ScalarType.Float, 5);
      Tensor y = T.randomParam(5, torch.ScalarType.Float, 5);
      Tensor twin = T.tensor(T.values(x), torch.ScalarType.Float, 5);
      twin.requires_grad_(true);
      Tensor twinY = T.tensor(T.values(y), torch.ScalarType.Float, 5);
      twinY.requires_grad_(true);
      try (AdaHessian opt = AdaHessian.builder().lr(0.1).build(List.of(x, y));
          AdaHessian control = AdaHessian.builder().lr(0.1).build(List.of(twin, twinY))) {
        opt.step(() -> x.square().sum().add(y.tanh().sum()));
        control.step(() -> twin.square().sum().add(twinY.tanh().sum()));
        double[] before = T.values(x);
        Throwable e = assertThrows(type, () -> opt.step(closure));
        if (message != null) {
          assertEquals(message, e.getMessage());
        }
        assertArrayEquals(before, T.values(x), 0.0);
        assertEquals(1, opt.stepCount(0));
        assertEquals(1, opt.probeCounter());
        // The next good step continues exactly as if the bad one never happened.
        opt.step(() -> x.square().sum().add(y.tanh().sum()));
        control.step(() -> twin.square().sum().add(twinY.tanh().sum()));
        assertArrayEquals(T.values(twin), T.values(x), 0.0);
        assertArrayEquals(T.values(twinY), T.values(y), 0.0);
      }
    }
  }

  @Test
  void closureReturningANonScalar() {
    assertStepFailsCleanly(
        () -> T.randomParam(1, torch.ScalarType.Float, 3),
        OptimizerException.class,
        "closure must return a scalar loss, got shape [3]");
  }

  @Test
  void closureReturningALossWithoutGraph() {
    assertStepFailsCleanly(
        () -> torch.ones(1),
        OptimizerException.class,
        "the loss does not require grad: compute it from the optimizer's parameters, outside NoGradGuard");
  }

  @Test
  void closureReturningNull() {
    assertStepFailsCleanly(
        () -> null,
        OptimizerException.class,
        "closure returned no loss (null or undefined tensor)");
  }

  @Test
  void closureThatThrows() {
    IllegalStateException thrown = new IllegalStateException("data loader broke");
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(4, torch.ScalarType.Float, 5);
      try (AdaHessian opt = AdaHessian.builder().build(List.of(x))) {
        double[] before = T.values(x);
        IllegalStateException e =
            assertThrows(
                IllegalStateException.class,
                () ->
                    opt.step(
                        () -> {
                          throw thrown;
                        }));
        assertSame(thrown, e);
        assertArrayEquals(before, T.values(x), 0.0);
        assertEquals(0, opt.stepCount(0));
      }
    }
  }

  @Test
  void useAfterClose() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = T.randomParam(4, torch.ScalarType.Float, 5);
      AdaHessian opt = AdaHessian.builder().build(List.of(x));
      opt.close();
      opt.close(); // idempotent
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> opt.step(() -> x.sum()));
      assertEquals("optimizer is closed", e.getMessage());
      Adam adam = Adam.builder().build(List.of(x));
      adam.close();
      e = assertThrows(IllegalStateException.class, adam::step);
      assertEquals("optimizer is closed", e.getMessage());
    }
  }

  /** A dummy argument of {@code type}: valid enough that only the closed check can refuse it. */
  private static Object argument(Class<?> type, GroupOptions<?> options) {
    if (type == int.class) {
      return 1;
    }
    if (type == long.class) {
      return 1L;
    }
    if (type == double.class) {
      return 0.1;
    }
    if (type == Supplier.class) {
      return (Supplier<Tensor>) () -> null;
    }
    if (type == IntFunction.class) {
      return (IntFunction<Tensor>) i -> null;
    }
    if (type == List.class) {
      return List.of();
    }
    if (type == GroupOptions.class) {
      return options;
    }
    if (type == NonFinitePolicy.class) {
      return NonFinitePolicy.SKIP;
    }
    if (type == Path.class) {
      return Path.of("never-written.ckpt");
    }
    if (type == InputStream.class) {
      return new ByteArrayInputStream(new byte[0]);
    }
    if (type == OutputStream.class) {
      return new ByteArrayOutputStream();
    }
    throw new AssertionError("no test argument for a parameter of type " + type.getName());
  }

  /**
   * Calls every public method of {@code target} but close(); each must say the optimizer is closed.
   */
  private static void everyCallRefused(Object target, GroupOptions<?> options) throws Exception {
    int called = 0;
    for (Method m : target.getClass().getMethods()) {
      if (Modifier.isStatic(m.getModifiers())
          || m.getDeclaringClass() == Object.class
          || m.getName().equals("close")) {
        continue;
      }
      Object[] args = new Object[m.getParameterCount()];
      for (int a = 0; a < args.length; a++) {
        args[a] = argument(m.getParameterTypes()[a], options);
      }
      InvocationTargetException e =
          assertThrows(InvocationTargetException.class, () -> m.invoke(target, args), m.toString());
      assertEquals(IllegalStateException.class, e.getCause().getClass(), m.toString());
      assertEquals("optimizer is closed", e.getCause().getMessage(), m.toString());
      called++;
    }
    assertTrue(called >= 5, "only " + called + " methods of " + target.getClass() + " were called");
  }

  /** Optimizer.close(): every later call throws, on the optimizer and on its groups. */
  @Test
  void everyCallAfterCloseThrows() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      List<FusedOptimizer<?>> optimizers =
          List.of(
              AdaHessian.builder().build(List.of(T.randomParam(4, torch.ScalarType.Float, 5))),
              Adam.builder().build(List.of(T.randomParam(4, torch.ScalarType.Float, 6))),
              AdamW.builder().build(List.of(T.randomParam(4, torch.ScalarType.Float, 7))));
      for (FusedOptimizer<?> opt : optimizers) {
        ParamGroup<?> group = opt.paramGroups().get(0);
        GroupOptions<?> options = group.options();
        opt.close();
        everyCallRefused(opt, options);
        everyCallRefused(group, options);
      }
    }
  }
}
