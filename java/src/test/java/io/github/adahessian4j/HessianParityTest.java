package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link HessianAnalysis} against the Python reference {@code bench/python/hessian_reference.py}
 * (torch 1.13, the same counter-based probes), on the same model and batch.
 *
 * <p>{@code bench/python/hessian_parity.py} (run by Maven at generate-test-resources, see
 * java/pom.xml) writes one fixture per case into {@code target/hessian-parity}: parity.py's MLP
 * (with an unused parameter) and CNN in float64, the MLP in float32; the parameters, the batch and
 * the reference's results. This test rebuilds the loss with the same formulas ({@link
 * PythonParityTest#loss}), runs the same computations with the same options and seed, and compares:
 * Lanczos eigenvalues and product counts (two tolerances, both ends), power iteration, every
 * Hutchinson sample and the per-parameter traces, every SLQ node and weight and the smoothed
 * density. float64 agrees to rounding (relative 1e-10, counts exactly). float32 products may round
 * differently in libtorch 2.10 and torch 1.13 on other CPUs (here they came out the same), so its
 * tolerances are those of float32 arithmetic, Lanczos counts may differ by two steps and power
 * iteration, whose stopping rule compares successive estimates, by more. Each case prints its
 * largest deviations as fractions of their tolerances. The fixtures must exist: a missing set
 * fails, it never skips.
 */
class HessianParityTest {
  static final ParityFixtures FIXTURES =
      new ParityFixtures(
          "adahessian4j.hessian.dir",
          "hessian-parity",
          "Hessian parity",
          "bench/python/hessian_parity.py");

  @TestFactory
  Stream<DynamicTest> matchesPythonReference() {
    Path dir = FIXTURES.dir();
    List<String> cases = FIXTURES.cases();
    assertEquals(3, cases.size(), "cases in " + dir);
    return cases.stream().map(c -> DynamicTest.dynamicTest(c, () -> runCase(dir.resolve(c))));
  }

  /** The largest deviation of each quantity as a fraction of its tolerance. */
  private static final class Worst {
    final Map<String, Double> worst = new LinkedHashMap<>();
    final String where;

    Worst(String where) {
      this.where = where;
    }

    void close(String what, double actual, double expected, double tolerance) {
      double r = Math.abs(actual - expected) / tolerance;
      worst.merge(what, r, Math::max);
      assertTrue(
          r <= 1,
          where
              + ", "
              + what
              + ": "
              + actual
              + ", expected "
              + expected
              + " (tolerance "
              + tolerance
              + ")");
    }

    void count(String what, long actual, long expected, long slack) {
      assertTrue(
          Math.abs(actual - expected) <= slack,
          where
              + ", "
              + what
              + ": "
              + actual
              + ", expected "
              + expected
              + (slack > 0 ? " (+-" + slack + ")" : ""));
    }

    String report() {
      StringBuilder s = new StringBuilder();
      worst.forEach((k, v) -> s.append(String.format(Locale.ROOT, " %s %.2g;", k, v)));
      return s.toString();
    }
  }

  private static void runCase(Path dir) {
    JsonNode m = FIXTURES.readJson(dir.resolve("manifest.json"));
    assertEquals(1, m.get("format").asInt(), "fixture format");
    String dtype = m.get("dtype").asText();
    boolean fp64 = dtype.equals("float64");
    double rtol = fp64 ? 1e-10 : 2e-5;
    long slack = fp64 ? 0 : 2;
    String model = m.get("model").asText();
    JsonNode o = m.get("options");
    JsonNode r = m.get("results");
    Worst w = new Worst(m.get("name").asText());
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> params = new LinkedHashMap<>();
      List<String> names = new ArrayList<>();
      for (JsonNode p : m.get("params")) {
        String name = p.get("name").asText();
        Tensor t =
            PythonParityTest.readTensor(
                dir.resolve("init/" + name + ".bin"), dtype, longs(p.get("shape")));
        t.requires_grad_(true); // returns a non-owning reference: keep t
        params.put(name, t);
        names.add(name);
      }
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      for (JsonNode x : m.get("inputs")) {
        String name = x.get("name").asText();
        inputs.put(
            name,
            PythonParityTest.readTensor(
                dir.resolve("inputs/" + name + ".bin"),
                x.get("dtype").asText(),
                longs(x.get("shape"))));
      }
      try (HessianAnalysis h =
          HessianAnalysis.builder()
              .group("params", new ArrayList<>(params.values()), names)
              .loss(() -> PythonParityTest.loss(model, params, inputs))
              .seed(m.get("seed").asLong())
              .build()) {
        w.close(
            "loss",
            h.loss(),
            r.get("loss").asDouble(),
            rtol * (1 + Math.abs(r.get("loss").asDouble())));
        assertEquals(r.get("dimension").asLong(), h.dimension());
        List<String> skipped = new ArrayList<>();
        r.get("skipped").forEach(s -> skipped.add(s.asText()));
        assertEquals(
            skipped,
            h.skipped().stream().map(s -> s.substring(0, s.indexOf(" ("))).toList(),
            "skipped");

        double scale = Math.abs(r.get("lanczos").get("eigenvalues").get(0).asDouble());
        compareEigen(
            w,
            "lanczos",
            h.topEigenvalues(eigenOptions(o.get("lanczos"))),
            r.get("lanczos"),
            rtol,
            scale,
            slack);
        compareEigen(
            w,
            "lanczos loose",
            h.topEigenvalues(eigenOptions(o.get("lanczosLoose"))),
            r.get("lanczosLoose"),
            rtol,
            scale,
            slack);
        compareEigen(
            w,
            "lanczos smallest",
            h.topEigenvalues(
                eigenOptions(o.get("lanczosSmallest"))
                    .withWhich(HessianEigenvalues.Which.SMALLEST)),
            r.get("lanczosSmallest"),
            rtol,
            scale,
            slack);
        // Power iteration amplifies rounding differences between its iterations (it converges
        // linearly):
        // float32 is compared at the accuracy its stopping rule gives.
        compareEigen(
            w,
            "power",
            h.powerIteration(eigenOptions(o.get("power"))),
            r.get("power"),
            fp64 ? rtol : 1e-4,
            scale,
            fp64 ? 0 : 200);

        JsonNode ot = o.get("trace");
        HessianTrace t =
            h.trace(
                new HessianTrace.Options(
                    ot.get("relativeError").asDouble(),
                    ot.get("absoluteError").asDouble(),
                    ot.get("minSamples").asInt(),
                    ot.get("maxSamples").asInt()));
        JsonNode rt = r.get("trace");
        w.count("trace samples", t.samples(), rt.get("samples").asLong(), 0);
        double[] samples = t.sampleValues();
        double sampleScale =
            Math.abs(rt.get("trace").asDouble()) + rt.get("standardError").asDouble();
        for (int s = 0; s < samples.length; s++) {
          w.close(
              "trace sample",
              samples[s],
              rt.get("sampleValues").get(s).asDouble(),
              rtol * sampleScale);
        }
        w.close("trace", t.trace(), rt.get("trace").asDouble(), rtol * sampleScale);
        w.close(
            "trace standard error",
            t.standardError(),
            rt.get("standardError").asDouble(),
            rtol * sampleScale);
        for (int k = 0; k < names.size(); k++) {
          JsonNode pk = rt.get("perParameter").get(k);
          w.close(
              "trace per parameter", t.perParameter()[k], pk.get(0).asDouble(), rtol * sampleScale);
          w.close(
              "trace per parameter error",
              t.perParameterStandardError()[k],
              pk.get(1).asDouble(),
              rtol * sampleScale);
        }
        assertEquals(rt.get("converged").asBoolean(), t.converged(), "trace converged");

        JsonNode od = o.get("density");
        HessianDensity d =
            h.spectralDensity(
                new HessianDensity.Options(od.get("runs").asInt(), od.get("steps").asInt()));
        JsonNode rd = r.get("density");
        assertEquals(rd.get("hvProducts").asLong(), d.hvProducts(), "SLQ products");
        // A Ritz value is as stable as its eigenvalue; a weight as its eigenvector's first
        // component, which float32 products move by more.
        for (int run = 0; run < d.runs().size(); run++) {
          HessianDensity.Run jr = d.runs().get(run);
          JsonNode pr = rd.get("runs").get(run);
          assertEquals(pr.get("steps").asInt(), jr.steps(), "SLQ steps");
          for (int i = 0; i < jr.nodes().length; i++) {
            w.close(
                "SLQ node",
                jr.nodes()[i],
                pr.get("nodes").get(i).asDouble(),
                (fp64 ? rtol : 1e-4) * scale);
            w.close(
                "SLQ weight",
                jr.weights()[i],
                pr.get("weights").get(i).asDouble(),
                fp64 ? rtol : 1e-3);
          }
        }
        HessianDensity.Grid grid =
            d.smoothed(
                od.get("points").asInt(),
                od.get("sigmaSquared").asDouble(),
                od.get("overhead").asDouble());
        double peak = 0;
        for (JsonNode v : rd.get("density")) {
          peak = Math.max(peak, v.asDouble());
        }
        w.close(
            "density variance",
            grid.variance(),
            rd.get("variance").asDouble(),
            rtol * rd.get("variance").asDouble());
        for (int j = 0; j < grid.x().length; j++) {
          w.close(
              "density grid",
              grid.x()[j],
              rd.get("grid").get(j).asDouble(),
              (fp64 ? rtol : 1e-4) * scale);
          if (fp64) {
            w.close("density", grid.density()[j], rd.get("density").get(j).asDouble(), 1e-7 * peak);
          }
        }
      }
    }
    System.out.println(
        "HessianParityTest " + m.get("name").asText() + ": deviation / tolerance:" + w.report());
  }

  private static void compareEigen(
      Worst w,
      String what,
      HessianEigenvalues e,
      JsonNode ref,
      double rtol,
      double scale,
      long slack) {
    JsonNode values = ref.get("eigenvalues");
    assertEquals(values.size(), e.eigenvalues().length, what + ": count");
    for (int i = 0; i < values.size(); i++) {
      w.close(what + " eigenvalue", e.eigenvalues()[i], values.get(i).asDouble(), rtol * scale);
    }
    w.count(what + " products", e.hvProducts(), ref.get("hvProducts").asLong(), slack);
    assertEquals(ref.get("converged").asBoolean(), e.converged(), what + ": converged");
  }

  private static HessianEigenvalues.Options eigenOptions(JsonNode o) {
    return HessianEigenvalues.Options.DEFAULTS
        .withK(o.get("k").asInt())
        .withTolerance(o.get("tolerance").asDouble())
        .withMaxIterations(o.get("maxIterations").asInt());
  }

  private static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }
}
