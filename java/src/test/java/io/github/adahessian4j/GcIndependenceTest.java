package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * What a step's closure creates is freed when the step ends, not when the garbage collector gets to
 * it: training loops with no {@code PointerScope} of their own keep native memory flat in a JVM
 * that never collects (Epsilon GC, a pre-touched heap, JavaCPP's own GC-driven deallocation and
 * memory limits off). The same JVM running the user-driven {@code backward()} flow without a scope
 * grows by every iteration's activations: the control that shows the measurement can fail.
 *
 * <p>It measures anonymous RSS (RssAnon) less the Java heap's growth, after 50 warm-up steps. This
 * test found that the loss a closure step returned kept its graph, and with it every activation,
 * alive until a collection: 412 MiB (Adam) and 419 MiB (AdaHessian) over 150 steps here, against
 * 6-9 MiB now that the step returns the loss detached. The README's loop, which closes the returned
 * loss, is one of the modes; with {@code -Dgc.steps=600} it grew 5-6 MiB here (two runs), the
 * AdaHessian step whose loss is left unclosed 90-188 MiB.
 */
class GcIndependenceTest {
  private static final int WARM_UP = 50;
  private static final int STEPS = Integer.getInteger("gc.steps", 150);

  @Test
  void closureStepsKeepNativeMemoryFlatWithoutAnyGarbageCollection() throws Exception {
    double[] leak = runChild("unscoped-backward");
    assertEquals(0, leak[1], "control: the child JVM must not collect garbage");
    // One iteration's activations and gradients are ~2.6 MiB here (batch 256, width 640): an
    // unscoped backward() loop keeps them all (~490 MiB over the measured steps).
    assertTrue(
        leak[0] > 200 * 1024,
        "control: an unscoped backward() loop grew by only "
            + leak[0]
            + " KiB: the test cannot see what it measures");
    for (String mode :
        List.of("adahessian", "adahessian-closed", "accumulation", "hessian-subset", "adam")) {
      double[] r = runChild(mode);
      assertEquals(0, r[1], mode + ": the child JVM must not collect garbage");
      // Holding the activations, as the steps did before they returned the loss detached, grows
      // like the control (412-419 MiB). Adam now stays within a few MiB; the AdaHessian steps
      // whose returned loss is left unclosed still grow by 0-0.4 MiB per step, varying from run
      // to run (0-51 MiB over 150 steps here, more under the CUDA build's natives; the small
      // objects left to the collector fragment the native heap), so the bound is a quarter of the
      // control's growth. The README's loop, which closes the loss, has a bound of its own: 16
      // MiB (2.7, 4.1 and 7.2 MiB over 150 steps in three runs here).
      double bound = mode.equals("adahessian-closed") ? 16 * 1024 : leak[0] / 4;
      assertTrue(
          r[0] < bound,
          mode
              + ": RSS grew by "
              + r[0]
              + " KiB without a GC (bound "
              + bound
              + " KiB), the control by "
              + leak[0]);
    }
  }

  /** Runs {@link #main} in a fresh JVM; returns {RSS growth in KiB, garbage collections}. */
  private static double[] runChild(String mode) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child =
        new ProcessBuilder(
                java,
                "-XX:+UnlockExperimentalVMOptions",
                "-XX:+UseEpsilonGC",
                "-Xms1g",
                "-Xmx1g",
                "-XX:+AlwaysPreTouch",
                // No deallocation through GC reference processing, no System.gc() on a limit.
                "-Dorg.bytedeco.javacpp.nopointergc=true",
                "-Dorg.bytedeco.javacpp.maxbytes=0",
                "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-Dgc.steps=" + STEPS, // mvn test -Dtest=GcIndependenceTest -Dgc.steps=600
                "-cp",
                System.getProperty("java.class.path"),
                GcIndependenceTest.class.getName(),
                mode)
            .redirectErrorStream(true)
            .start();
    String output = new String(child.getInputStream().readAllBytes());
    assertTrue(child.waitFor(300, TimeUnit.SECONDS), mode + ": the child JVM did not finish");
    System.out.print(output);
    String[] result =
        output
            .lines()
            .filter(l -> l.startsWith("gc-result "))
            .findFirst()
            .orElseThrow(() -> new AssertionError(mode + ": no result printed:\n" + output))
            .split(" ");
    return new double[] {Double.parseDouble(result[1]), Double.parseDouble(result[2])};
  }

  /** The child: trains in {@code args[0]}'s way, prints "gc-result GROWTH_KIB COLLECTIONS". */
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    torch.manual_seed(0);
    Module model = new Module();
    LinearImpl l1 = model.register_module("l1", new LinearImpl(64, 640));
    LinearImpl l2 = model.register_module("l2", new LinearImpl(640, 640));
    LinearImpl l3 = model.register_module("l3", new LinearImpl(640, 10));
    Tensor x = torch.randn(256, 64);
    Tensor y = torch.randint(10, new long[] {256});
    List<Tensor> params = new ArrayList<>();
    for (Tensor p : model.parameters().get()) {
      params.add(p);
    }
    Optimizer opt =
        !mode.equals("adam") && !mode.equals("unscoped-backward")
            ? AdaHessian.builder().lr(0.05).build(params)
            : Adam.builder().lr(1e-3).build(params);
    long before = 0;
    long heapBefore = 0;
    for (int i = 0; i < WARM_UP + STEPS; i++) {
      if (i == WARM_UP) {
        before = anonymousRssKb();
        heapBefore = heapUsedKb();
      }
      switch (mode) {
        case "adahessian", "adam" ->
            opt.step(() -> loss(l1, l2, l3, x, y)); // the returned loss handle is let go, unclosed
        case "adahessian-closed" -> {
          try (Tensor loss = opt.step(() -> loss(l1, l2, l3, x, y))) { // as the README's loop
            assertTrue(loss.defined());
          }
        }
        case "hessian-subset" ->
            ((AdaHessian) opt)
                .step(
                    () -> loss(l1, l2, l3, x, y),
                    () -> loss(l1, l2, l3, x.narrow(0, 0, 64), y.narrow(0, 0, 64)));
        case "accumulation" ->
            ((AdaHessian) opt)
                .step(
                    2,
                    b -> loss(l1, l2, l3, x.narrow(0, 128L * b, 128), y.narrow(0, 128L * b, 128)));
        case "unscoped-backward" -> {
          opt.zeroGrad();
          loss(l1, l2, l3, x, y).backward();
          ((Adam) opt).step();
        }
        default -> throw new IllegalArgumentException(mode);
      }
    }
    // The Java heap is never collected here: its growth (the step's Java garbage, when the heap's
    // pages were not all pre-touched) is not native memory, so it is taken out.
    long heapGrowth = heapUsedKb() - heapBefore;
    long growth = anonymousRssKb() - before - heapGrowth;
    long collections = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      collections += Math.max(0, gc.getCollectionCount());
    }
    opt.close();
    System.out.printf(
        "gc-independence %s: anonymous RSS less Java heap +%d KiB over %d steps (heap +%d KiB)%n",
        mode, growth, STEPS, heapGrowth);
    System.out.printf("gc-result %d %d%n", growth, collections);
  }

  /**
   * Resident anonymous memory (heap and native allocations): file-backed pages, such as the parts
   * of libtorch's libraries first touched late, are not what this test measures.
   */
  static long anonymousRssKb() throws java.io.IOException {
    return SoakTest.statusKb("RssAnon");
  }

  private static long heapUsedKb() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024;
  }

  private static Tensor loss(LinearImpl l1, LinearImpl l2, LinearImpl l3, Tensor x, Tensor y) {
    return torch.cross_entropy_loss(
        l3.forward(torch.relu(l2.forward(torch.relu(l1.forward(x))))), y);
  }
}
