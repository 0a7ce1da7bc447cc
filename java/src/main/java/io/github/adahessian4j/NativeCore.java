package io.github.adahessian4j;

import io.github.adahessian4j.nativecore.ah4j;
import java.util.function.LongFunction;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Loads libtorch and the native core once, and checks that they still understand each other. */
final class NativeCore {
  private NativeCore() {}

  static {
    Loader.load(torch.class);
    Loader.load(ah4j.class);
    if (ah4j.ah4j_abi_version() != ah4j.AH4J_ABI_VERSION) {
      throw new IllegalStateException(
          "native core ABI "
              + ah4j.ah4j_abi_version()
              + " does not match the Java bindings' ABI "
              + ah4j.AH4J_ABI_VERSION
              + ": the adahessian4j jars come from different builds");
    }
    selfCheck();
  }

  /** Forces the static initialiser. */
  static void load() {}

  /**
   * The core reads bytedeco tensors through libtorch's C shim by taking a Tensor's address as an
   * AtenTensorHandle. libtorch documents that it may change that convention; if it ever does, fail
   * here, loudly, instead of computing garbage.
   */
  private static void selfCheck() {
    try (PointerScope scope = new PointerScope()) {
      Tensor probe = torch.ones(3, 5);
      LongPointer numelOut = new LongPointer(1);
      IntPointer dtypeOut = new IntPointer(1);
      PointerPointer<Pointer> data = new PointerPointer<>(1);
      int status = ah4j.ah4j_tensor_info(probe, numelOut, dtypeOut, data);
      if (status != ah4j.AH4J_OK
          || numelOut.get() != probe.numel()
          || dtypeOut.get() != ah4j.ah4j_dtype_float32()
          || data.get(0) == null
          || data.get(0).address() != probe.data_ptr().address()) {
        throw new IllegalStateException(
            "the native core cannot read this libtorch's tensors "
                + "(a bytedeco Tensor is no longer an AtenTensorHandle): use the libtorch version "
                + "this adahessian4j release was built for");
      }
    }
  }

  /**
   * Throws an {@link OptimizerException} if {@code status} is an error, naming the culprit with
   * {@code culprit}, which maps the core's list index to the user's name of that parameter.
   */
  static void check(int status, String operation, LongFunction<String> culprit) {
    if (status == ah4j.AH4J_OK) {
      return;
    }
    String message = ah4j.ah4j_last_error().getString();
    long index = ah4j.ah4j_last_error_index();
    String who = index >= 0 ? culprit.apply(index) + ": " : "";
    throw new OptimizerException(operation + " failed: " + who + message);
  }
}
