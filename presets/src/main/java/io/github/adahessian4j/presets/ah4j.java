package io.github.adahessian4j.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * JavaCPP preset of the native core's C API ({@code cpp/include/adahessian4j.h}). The parser turns
 * the header into {@code io.github.adahessian4j.nativecore.ah4j}; the builder compiles the JNI
 * library {@code jniah4j}, which links the core {@code libah4j.so} (bundled next to it).
 *
 * <p>libtorch must be loaded first ({@code Loader.load(org.bytedeco.pytorch.global.torch.class)}):
 * the core resolves libtorch's C shim from the copy bytedeco loaded.
 */
@Properties(
    target = "io.github.adahessian4j.nativecore.ah4j",
    value =
        @Platform(
            value = "linux-x86_64",
            include = "adahessian4j.h",
            link = "ah4j",
            library = "jniah4j"))
public class ah4j implements InfoMapper {
  @Override
  public void map(InfoMap infoMap) {
    // Include guard and export macros of the header: not API.
    infoMap.put(new Info("ADAHESSIAN4J_H").skip());
    // Tensor lists are arrays of borrowed at::Tensor* handles: JavaCPP's PointerPointer.
    infoMap.put(new Info("void*const*").cast().pointerTypes("PointerPointer"));
  }
}
