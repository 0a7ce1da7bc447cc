package io.github.adahessian4j;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Helpers for native objects an optimizer keeps across steps. */
final class Natives {
  private Natives() {}

  /**
   * Takes {@code pointer} out of the innermost {@link PointerScope}, so that closing the caller's
   * (or our own per-step) scope does not free an object the optimizer still holds.
   */
  static <P extends Pointer> P keep(P pointer) {
    return keep(PointerScope.getInnerScope(), pointer);
  }

  /** Takes {@code pointer} out of {@code scope} (if not null) without freeing it. */
  static <P extends Pointer> P keep(PointerScope scope, P pointer) {
    if (scope != null) {
      pointer.retainReference(); // detach() releases the scope's reference
      scope.detach(pointer);
    }
    return pointer;
  }

  /**
   * Hands {@code pointer}, kept out of the scope it was made in, to the caller's innermost scope
   * (or, outside any scope, to the garbage collector).
   */
  static <P extends Pointer> P toCallerScope(P pointer) {
    PointerScope outer = PointerScope.getInnerScope();
    if (outer != null) {
      outer.attach(pointer); // attach retains a reference: the scope now holds the only one
      pointer.releaseReference();
    }
    return pointer;
  }

  /**
   * Moves {@code pointer} from scope {@code from} (where it was made) to the outer scope {@code
   * to}: it then lives as long as {@code to}. (attach retains a reference and detach releases one.)
   */
  static <P extends Pointer> P move(P pointer, PointerScope from, PointerScope to) {
    pointer.retainReference();
    from.detach(pointer);
    to.attach(pointer);
    pointer.releaseReference();
    return pointer;
  }

  /**
   * Zeros shaped like {@code p} in its state dtype: float64 for float64 parameters, else float32
   * (half-precision parameters keep their optimizer state in float32).
   */
  static Tensor zerosState(Tensor p) {
    Tensor zeros = torch.zeros_like(p);
    int dtype = p.scalar_type().value;
    if (dtype == torch.ScalarType.Double.value || dtype == torch.ScalarType.Float.value) {
      return zeros;
    }
    Tensor state = zeros.to(torch.ScalarType.Float);
    zeros.close();
    return state;
  }

  static String shape(long[] shape) {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      s.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    return s.append(']').toString();
  }
}
