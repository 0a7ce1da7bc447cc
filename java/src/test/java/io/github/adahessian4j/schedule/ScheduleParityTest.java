package io.github.adahessian4j.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.adahessian4j.Adam;
import io.github.adahessian4j.ParamGroup;
import io.github.adahessian4j.ParityFixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every schedule against torch's {@code torch.optim.lr_scheduler}, step by step (torch 1.13 in the
 * build; bench/python/parity-torch26.sh points this test at torch 2.6's fixture).
 *
 * <p>{@code bench/python/schedule_parity.py} (run by Maven at generate-test-resources, see
 * java/pom.xml) writes {@code target/schedule-parity/schedules.json}: for each case, the schedule
 * and its arguments with torch's names, and every group's lr (and last_epoch, and beta1 where
 * momentum is cycled) after construction and after each of 200 steps, of torch's schedulers over an
 * SGD (Adam for the momentum cases) with two param groups. This test builds the same schedule over
 * this library's {@link Adam} with the same groups, steps it the same way (with the same metrics
 * for ReduceLROnPlateau) and compares after every step: every lr and beta1 to 1e-12 relative
 * (exactly, for a zero), and the last epoch exactly. Each case's largest relative difference is
 * printed. The one deliberate difference: OneCycleLR's step past the end of the cycle (last_epoch
 * == total_steps), where torch's linear annealing extrapolates to a negative lr, gives 0 here (the
 * optimizers reject negative lrs), so there the expected value is {@code max(0, torch's)}.
 *
 * <p>The fixture must exist: a missing one fails, it never skips.
 */
class ScheduleParityTest {
  private static final double RTOL = 1e-12;
  private static final Map<String, Double> WORST =
      Collections.synchronizedMap(new LinkedHashMap<>());

  /**
   * Where the fixture is: {@code -Dadahessian4j.scheduleParity.dir}, else {@code
   * target/schedule-parity}.
   */
  static final ParityFixtures FIXTURES =
      new ParityFixtures(
          "adahessian4j.scheduleParity.dir",
          "schedule-parity",
          "schedule parity",
          "bench/python/schedule_parity.py");

  static JsonNode readFixture() {
    JsonNode root = FIXTURES.readJson(FIXTURES.dir().resolve("schedules.json"));
    assertEquals(1, root.get("format").asInt(), "fixture format");
    return root;
  }

  @TestFactory
  Stream<DynamicTest> matchesTorch() {
    JsonNode root = readFixture();
    int steps = root.get("steps").asInt();
    List<JsonNode> cases = new ArrayList<>();
    root.get("cases").forEach(cases::add);
    assertFalse(cases.isEmpty(), "the fixture lists no case");
    return cases.stream()
        .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> runCase(c, steps)));
  }

  /** The fixture covers every schedule of the package. */
  @Test
  void fixtureCoversEverySchedule() {
    Set<String> kinds = new TreeSet<>();
    readFixture().get("cases").forEach(c -> kinds.add(c.get("schedule").get("kind").asText()));
    assertEquals(
        new TreeSet<>(
            List.of(
                "ConstantLR",
                "StepLR",
                "MultiStepLR",
                "ExponentialLR",
                "CosineAnnealingLR",
                "LinearLR",
                "SequentialLR",
                "OneCycleLR",
                "ReduceLROnPlateau")),
        kinds);
  }

  @AfterAll
  static void printSummary() {
    if (WORST.isEmpty()) {
      return;
    }
    StringBuilder b =
        new StringBuilder(
            "schedule parity against torch "
                + readFixture().get("torch").asText()
                + ", largest relative difference per case:\n");
    WORST.forEach((name, worst) -> b.append(String.format("  %-40s %.3e%n", name, worst)));
    System.out.print(b);
  }

  private static void runCase(JsonNode c, int steps) {
    String name = c.get("name").asText();
    JsonNode spec = c.get("schedule");
    JsonNode lrs = c.get("lr");
    JsonNode epochs = c.get("last_epoch");
    JsonNode beta1 = c.get("beta1");
    JsonNode metrics = c.get("metrics");
    assertEquals(steps + 1, lrs.size(), name + ": lr rows");
    boolean oneCycle = spec.get("kind").asText().equals("OneCycleLR");
    try (PointerScope scope = new PointerScope();
        Adam opt = Schedules.optimizer(c.get("optimizer"))) {
      Object s = Schedules.build(spec, opt);
      double worst = 0;
      for (int i = 0; i <= steps; i++) {
        if (i > 0) {
          if (s instanceof ReduceLROnPlateau p) {
            p.step(metrics.get(i - 1).asDouble());
          } else {
            ((LrScheduler) s).step();
          }
        }
        double[] lastLr =
            s instanceof ReduceLROnPlateau p ? p.lastLr() : ((LrScheduler) s).lastLr();
        int lastEpoch =
            s instanceof ReduceLROnPlateau p ? p.lastEpoch() : ((LrScheduler) s).lastEpoch();
        assertEquals(epochs.get(i).asInt(), lastEpoch, name + ": last epoch after step " + i);
        JsonNode row = lrs.get(i);
        assertEquals(row.size(), opt.paramGroups().size(), name + ": groups");
        for (int g = 0; g < row.size(); g++) {
          double expected = row.get(g).asDouble();
          if (oneCycle && expected < 0) {
            assertEquals(
                steps, i, name + ": torch's lr is negative before the step past the cycle");
            expected = 0.0; // see the class comment
          }
          double actual = opt.paramGroups().get(g).lr();
          assertEquals(actual, lastLr[g], 0.0, name + ": lastLr() is the group's lr");
          worst = Math.max(worst, check(name, "lr", i, g, actual, expected));
          if (beta1 != null) {
            ParamGroup<?> group = opt.paramGroups().get(g);
            worst =
                Math.max(
                    worst,
                    check(
                        name, "beta1", i, g, Groups.beta1(group), beta1.get(i).get(g).asDouble()));
          }
        }
      }
      WORST.put(name, worst);
      System.out.printf("schedule parity %-40s largest relative difference %.3e%n", name, worst);
    }
  }

  /** The relative difference (absolute for a zero expectation); fails above {@link #RTOL}. */
  private static double check(
      String name, String what, int step, int group, double actual, double expected) {
    double diff =
        expected == 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
    if (!(diff <= RTOL)) {
      fail(
          name
              + ": "
              + what
              + " of group "
              + group
              + " after step "
              + step
              + " is "
              + actual
              + ", torch's is "
              + expected
              + " (relative difference "
              + diff
              + ", tolerance "
              + RTOL
              + ")");
    }
    assertTrue(Double.isFinite(actual));
    return diff;
  }
}
