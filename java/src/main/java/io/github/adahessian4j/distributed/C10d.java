package io.github.adahessian4j.distributed;

import java.time.Duration;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;

/** Small helpers for c10d objects and their errors. */
final class C10d {
  private C10d() {}

  static String firstLine(String message) {
    if (message == null) {
      return "no message";
    }
    String line = message.strip();
    int nl = line.indexOf('\n');
    if (nl >= 0) {
      line = line.substring(0, nl).strip();
    }
    if (line.startsWith("[") && line.indexOf("] ") > 0) {
      line = line.substring(line.indexOf("] ") + 2); // Gloo's "[/path/to/file.cc:78] " prefix
    }
    return line;
  }

  /** Takes {@code p} out of the innermost {@link PointerScope}: the group keeps it. */
  static <P extends Pointer> P keep(P p) {
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      p.retainReference();
      scope.detach(p);
    }
    return p;
  }

  static Milliseconds millis(Duration d) {
    return new Milliseconds(Math.max(1, d.toMillis()));
  }
}
