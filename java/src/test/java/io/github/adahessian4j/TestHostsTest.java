package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code .ci/test-hosts.sh}, which {@link TestHosts} runs: the hosts have their addresses and reach
 * each other; {@code clean} leaves a live owner's hosts alone and removes a dead owner's (a killed
 * JVM's): its namespaces, their links, the processes running on them and its /etc/netns files.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TestHostsTest {
  private static String namespaces() throws Exception {
    Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }

  @Test
  void aDeadOwnersHostsAndTheirProcessesAreRemovedByTheNextClean() throws Exception {
    TestHosts.requireNamespaces();
    Process owner = new ProcessBuilder("sleep", "600").start();
    String prefix = "ah4j-" + owner.pid() + "-";
    Process onHost = null;
    try {
      String up = TestHosts.run("up", Long.toString(owner.pid()), "2");
      assertEquals(prefix + "h0 10.47.0.1\n" + prefix + "h1 10.47.0.2\n", up);
      Process ping =
          new ProcessBuilder(
                  "ip",
                  "netns",
                  "exec",
                  prefix + "h0",
                  "bash",
                  "-c",
                  "exec 3<>/dev/tcp/10.47.0.2/1 || true; ip -o addr show ah4j0")
              .redirectErrorStream(true)
              .start();
      String shown = new String(ping.getInputStream().readAllBytes());
      ping.waitFor();
      assertTrue(shown.contains("inet 10.47.0.1/24"), shown);
      assertTrue(
          shown.contains("Connection refused"),
          "host 1 answers host 0 (a refusal: nothing listens on port 1):\n" + shown);
      onHost = new ProcessBuilder("ip", "netns", "exec", prefix + "h1", "sleep", "600").start();
      Files.createDirectories(Path.of("/etc/netns", prefix + "h1"));
      Files.writeString(Path.of("/etc/netns", prefix + "h1", "hosts"), "127.0.0.1 localhost\n");

      TestHosts.run("clean");
      assertTrue(namespaces().contains(prefix + "h1"), "a live owner's hosts stay");
      assertTrue(onHost.isAlive(), "and their processes");

      owner.destroyForcibly().waitFor();
      TestHosts.run("clean");
      assertFalse(namespaces().contains(prefix), "a dead owner's namespaces go:\n" + namespaces());
      assertTrue(onHost.waitFor(10, TimeUnit.SECONDS), "the processes on its hosts are killed");
      assertFalse(Files.exists(Path.of("/etc/netns", prefix + "h1")), "its /etc/netns files go");
    } finally {
      owner.destroyForcibly().waitFor();
      TestHosts.run("down", Long.toString(owner.pid()));
      if (onHost != null) {
        onHost.destroyForcibly();
      }
    }
  }
}
