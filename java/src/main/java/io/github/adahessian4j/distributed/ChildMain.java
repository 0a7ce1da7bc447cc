package io.github.adahessian4j.distributed;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * What {@link Launcher} starts in each JVM: it halts the JVM when the launcher itself dies (even
 * killed with SIGKILL, when no shutdown hook of the launcher runs), so that no rank is left behind,
 * and then runs the user's main class.
 */
final class ChildMain {
  /** The launcher's process id, in every rank's environment. */
  static final String LAUNCHER_PID = "ADAHESSIAN4J_LAUNCHER_PID";

  private ChildMain() {}

  public static void main(String[] args) throws Throwable {
    String pid = System.getenv(LAUNCHER_PID);
    if (pid != null && !pid.isBlank()) {
      Runnable orphaned =
          () -> {
            System.err.println("the launcher (pid " + pid + ") is gone: this rank stops");
            Runtime.getRuntime().halt(143);
          };
      ProcessHandle.of(Long.parseLong(pid.strip()))
          .ifPresentOrElse(h -> h.onExit().thenRun(orphaned), orphaned);
    }
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: ChildMain MAIN_CLASS [ARGS...]");
    }
    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    main.setAccessible(true);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
