package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat over many AdaHessian steps (each one builds a double-backward graph;
 * every other step is a gradient-accumulation step in two parts). The run happens in a second JVM
 * whose Java heap is fixed and pre-touched ({@code -Xms128m -Xmx128m -XX:+AlwaysPreTouch}), so RSS
 * growth there is native growth. CI runs 3,000 steps; {@code -Dsoak.steps=100000} runs the long
 * version. RSS is sampled after warm-up; the least-squares slope and the total growth are printed
 * and bounded.
 */
class SoakTest {

  @Test
  void rssIsFlatOverThousandsOfSteps() throws Exception {
    int steps = Integer.getInteger("soak.steps", 3000);
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child =
        new ProcessBuilder(
                java,
                "-Xms128m",
                "-Xmx128m",
                "-XX:+AlwaysPreTouch",
                "-cp",
                System.getProperty("java.class.path"),
                SoakTest.class.getName(),
                Integer.toString(steps))
            .redirectErrorStream(true)
            .start();
    String output = new String(child.getInputStream().readAllBytes());
    assertTrue(child.waitFor(600, TimeUnit.SECONDS), "the soak JVM did not finish");
    System.out.print(output);
    String[] result =
        output
            .lines()
            .filter(l -> l.startsWith("soak-result "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the soak JVM printed no result:\n" + output))
            .split(" ");
    double slopeKbPerStep = Double.parseDouble(result[1]);
    double growthKb = Double.parseDouble(result[2]);
    double sinceEarlyKb = Double.parseDouble(result[3]);
    // From step 500 to the end: JIT and allocator pools add ~15 MiB here; a deliberately leaked
    // gradient per step (8 KiB) added ~190 MiB.
    assertTrue(
        sinceEarlyKb < 64 * 1024, "RSS grew by " + sinceEarlyKb + " KiB from step 500 to the end");
    // A step's gradients and double-backward graph are tens of KiB here: leaking them would show
    // as a slope of >= 10 KiB/step. The bounds leave room for a noisy machine's late JIT work.
    assertTrue(slopeKbPerStep < 1.0, "RSS grows by " + slopeKbPerStep + " KiB per step");
    assertTrue(growthKb < 32 * 1024, "RSS grew by " + growthKb + " KiB after warm-up");
  }

  static long rssKb() throws IOException {
    return statusKb("VmRSS");
  }

  /** A KiB figure of /proc/self/status, e.g. "VmRSS" or "RssAnon". */
  static long statusKb(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no " + field + " in /proc/self/status");
  }

  private static double early;

  /** The second JVM: trains, samples RSS, prints "soak-result SLOPE GROWTH SINCE_STEP_500". */
  public static void main(String[] args) throws IOException {
    int steps = Integer.parseInt(args[0]);
    int warmUp = 3000; // JIT compilation and allocator pools settled within ~1,500 steps here
    torch.manual_seed(0);
    Module model = new Module();
    LinearImpl l1 = model.register_module("l1", new LinearImpl(32, 64));
    LinearImpl l2 = model.register_module("l2", new LinearImpl(64, 8));
    Tensor x = torch.randn(64, 32);
    Tensor y = torch.randint(8, new long[] {64});
    int samples = 20;
    double[] at = new double[samples];
    double[] rss = new double[samples];
    try (AdaHessian opt = AdaHessian.builder().lr(0.05).nSamples(2).build(model.parameters())) {
      int sample = 0;
      early = 0;
      for (int i = 1; i <= warmUp + steps; i++) {
        try (PointerScope scope = new PointerScope()) {
          if (i % 2 == 1) {
            opt.step(() -> torch.cross_entropy_loss(l2.forward(torch.tanh(l1.forward(x))), y));
          } else { // every other step in two parts (gradient accumulation: nested scopes)
            opt.step(
                2,
                b ->
                    torch.cross_entropy_loss(
                        l2.forward(torch.tanh(l1.forward(x.narrow(0, 32L * b, 32)))),
                        y.narrow(0, 32L * b, 32)));
          }
        }
        if (i == 500) {
          early = rssKb();
        }
        if (i > warmUp && (i - warmUp) % (steps / samples) == 0 && sample < samples) {
          at[sample] = i;
          rss[sample++] = rssKb();
        }
      }
    }
    double meanAt = 0;
    double meanRss = 0;
    for (int s = 0; s < samples; s++) {
      meanAt += at[s] / samples;
      meanRss += rss[s] / samples;
    }
    double num = 0;
    double den = 0;
    for (int s = 0; s < samples; s++) {
      num += (at[s] - meanAt) * (rss[s] - meanRss);
      den += (at[s] - meanAt) * (at[s] - meanAt);
    }
    double slopeKbPerStep = num / den;
    double growthKb = rss[samples - 1] - rss[0];
    System.out.printf(
        "soak: %d steps after %d warm-up; RSS %.0f -> %.0f KiB; slope %.4f KiB/step%n",
        steps, warmUp, rss[0], rss[samples - 1], slopeKbPerStep);
    System.out.printf("soak-result %f %f %f%n", slopeKbPerStep, growthKb, rss[samples - 1] - early);
  }
}
