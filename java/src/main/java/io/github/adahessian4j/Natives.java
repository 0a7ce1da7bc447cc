package io.github.adahessian4j;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/** Helpers for native objects an optimizer keeps across steps. */
final class Natives {
  private Natives() {}

  /**
   * Takes {@code pointer} out of the innermost {@link PointerScope}, so that closing the caller's
   * (or our own per-step) scope does not free an object the optimizer still holds.
   */
  static <P extends Pointer> P keep(P pointer) {
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      scope.detach(pointer);
    }
    return pointer;
  }

  static String shape(long[] shape) {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      s.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    return s.append(']').toString();
  }
}
