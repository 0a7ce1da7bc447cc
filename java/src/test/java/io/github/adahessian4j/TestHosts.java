package io.github.adahessian4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * N test hosts for a test class: network namespaces made by {@code .ci/test-hosts.sh}, each with
 * loopback up and interface {@value #INTERFACE} at its own address on one private bridge. Register
 * as {@code @RegisterExtension static final TestHosts HOSTS = new TestHosts(3);}: before the
 * class's tests it removes the hosts of runs whose JVM died (they are named after their owner's
 * process id) and makes this JVM's; after them, and in a shutdown hook if the JVM ends first, it
 * kills every process on them and removes them with their links. Where namespaces cannot be made
 * (not root, no {@code ip}), the class's tests are skipped with the reason, except under {@code
 * CI=true}, where they fail.
 */
final class TestHosts implements BeforeAllCallback, AfterAllCallback {
  /** The hosts' interface (the same name on every host). */
  static final String INTERFACE = "ah4j0";

  private final int count;
  private final List<String> names = new ArrayList<>();
  private final List<String> addresses = new ArrayList<>();
  private final long owner = ProcessHandle.current().pid();
  private Thread hook;

  TestHosts(int count) {
    this.count = count;
  }

  /** The script, found from the working directory up. */
  static Path script() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path s = d.resolve(".ci/test-hosts.sh");
      if (Files.isRegularFile(s)) {
        return s;
      }
    }
    throw new IllegalStateException(
        ".ci/test-hosts.sh not found above " + Path.of("").toAbsolutePath());
  }

  /** Runs the script; returns its output, or throws with it when it fails. */
  static String run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(script().toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("test-hosts.sh " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }

  /**
   * Returns when test hosts can be made here; else skips the test (aborts it) with the reason, or
   * under {@code CI=true} fails it.
   */
  static void requireNamespaces() throws InterruptedException {
    try {
      run("check");
    } catch (IOException e) {
      String reason = "no test hosts (network namespaces) on this machine: " + e.getMessage();
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(reason + " (CI=true: the multi-host tests must run)");
      }
      Assumptions.abort(reason);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    requireNamespaces();
    String cleaned = run("clean");
    if (!cleaned.isBlank()) {
      System.out.print(cleaned);
    }
    hook = new Thread(this::down, "remove the test hosts");
    Runtime.getRuntime().addShutdownHook(hook);
    for (String line : run("up", Long.toString(owner), Integer.toString(count)).split("\n")) {
      String[] f = line.strip().split(" ");
      names.add(f[0]);
      addresses.add(f[1]);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (hook != null) {
      down();
      Runtime.getRuntime().removeShutdownHook(hook);
      hook = null;
    }
  }

  private void down() {
    try {
      run("down", Long.toString(owner));
    } catch (IOException | InterruptedException e) {
      System.err.println("could not remove the test hosts: " + e.getMessage());
    }
  }

  /** Host {@code i}'s namespace. */
  String name(int i) {
    return names.get(i);
  }

  /** Host {@code i}'s address on the bridge. */
  String address(int i) {
    return addresses.get(i);
  }

  /** {@code command} run on host {@code i} (in its namespace). */
  List<String> on(int i, List<String> command) {
    List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", names.get(i)));
    c.addAll(command);
    return c;
  }

  /**
   * Makes {@code hostname} resolve to {@code address} for the commands run on host {@code i} (a
   * file /etc/netns/NAME/hosts, which {@code ip netns exec} puts in place of /etc/hosts; removed
   * with the hosts).
   */
  void resolve(int i, String hostname, String address) throws IOException {
    Path dir = Path.of("/etc/netns", names.get(i));
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("hosts"), "127.0.0.1 localhost\n" + address + " " + hostname + "\n");
  }
}
