package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts of the links-and-scale benchmark against numbers computed here: bench/link_fit.py
 * recovers the latency and bandwidth that made synthetic all-reduce times (exact, and with noise),
 * and bench/scale_projection.py projects what the ring formula, the collective header and the 25
 * MiB buckets give, computed independently below.
 */
class ScaleScriptsTest {
  @TempDir Path dir;

  /** The ring model: one all-reduce of {@code n} bytes over {@code p} ranks, in seconds. */
  private static double ring(double n, int p, double latency, double bandwidth) {
    return 2.0 * (p - 1) * latency + 2.0 * (p - 1) / p * n / bandwidth;
  }

  /** Writes AllReduceBenchmark's lines for a link: times from the ring model, times (1 + noise). */
  private void runs(
      List<String> lines, String link, int p, double latency, double bandwidth, double noise) {
    int k = 0;
    for (long n = 1024; n <= 64L << 20; n *= 4, k++) {
      double t = ring(n, p, latency, bandwidth) * (1 + (k % 2 == 0 ? noise : -noise));
      lines.add(
          String.format(
              Locale.ROOT,
              "{\"link\": \"%s\", \"world\": %d, \"bytes\": %d, \"median_s\": %.12e}",
              link,
              p,
              n,
              t));
    }
  }

  private static double field(String json, String link, String key) {
    Matcher m =
        Pattern.compile(
                "\"link\": \"" + Pattern.quote(link) + "\",.*?\"" + key + "\": ([-0-9.e+]+)",
                Pattern.DOTALL)
            .matcher(json);
    assertTrue(m.find(), key + " of " + link + " in:\n" + json);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void theFitRecoversLatencyAndBandwidth() throws Exception {
    List<String> lines = new ArrayList<>();
    runs(lines, "1gbit", 2, 50e-6, 1.2e8, 0);
    runs(lines, "unlimited", 4, 20e-6, 2e9, 0);
    runs(lines, "100mbit", 2, 80e-6, 1.2e7, 0.01);
    Path in = dir.resolve("allreduce.jsonl");
    Files.write(in, lines);
    Path fits = dir.resolve("links.json");
    String table = BenchScripts.python("link_fit.py", in.toString(), "--json", fits.toString());
    String json = Files.readString(fits);
    assertEquals(50e-6, field(json, "1gbit", "latency_s"), 50e-6 * 1e-6, json);
    assertEquals(1.2e8, field(json, "1gbit", "bandwidth_bytes_per_s"), 1.2e8 * 1e-6, json);
    assertEquals(20e-6, field(json, "unlimited", "latency_s"), 20e-6 * 1e-6, json);
    assertEquals(2e9, field(json, "unlimited", "bandwidth_bytes_per_s"), 2e9 * 1e-6, json);
    assertEquals(1e-9, field(json, "1gbit", "max_relative_residual"), 1e-9, json);
    // noise of +-1% alternating over the sizes: the latency within 5%, the bandwidth within 1%
    // (the weights 1 / t lean on the large calls), residuals about 1%
    assertEquals(80e-6, field(json, "100mbit", "latency_s"), 80e-6 * 0.05, json);
    assertEquals(1.2e7, field(json, "100mbit", "bandwidth_bytes_per_s"), 1.2e7 * 0.01, json);
    assertEquals(0.01, field(json, "100mbit", "rms_relative_residual"), 0.005, json);
    assertTrue(
        table.contains("| 1gbit | 1 KiB to 64 MiB | 100 us | 50 us | 0.96 Gbit/s | 96% |"), table);
  }

  @Test
  void theProjectionIsTheRingFormulaWithTheHeaderAndTheBuckets() throws Exception {
    double latency = 50e-6;
    double bandwidth = 1.2e8;
    Files.writeString(
        dir.resolve("links.json"),
        String.format(
            Locale.ROOT,
            "{\"fits\": [{\"link\": \"1gbit\", \"latency_s\": %s, \"bandwidth_bytes_per_s\": %s}]}",
            latency,
            bandwidth));
    // a model of 10,000,000 parameters: AdaHessian's 80,000,000 bytes take 4 buckets of 25 MiB
    Files.write(
        dir.resolve("compute.jsonl"),
        List.of(
            "{\"language\": \"java\", \"model\": \"cnn\", \"optimizer\": \"adahessian\", \"threads\":"
                + " 1, \"median_ms\": 50.0, \"batch\": 128, \"parameters\": 20490}",
            "{\"language\": \"java\", \"model\": \"big\", \"optimizer\": \"adahessian\", \"threads\":"
                + " 1, \"median_ms\": 900.0, \"batch\": 128, \"parameters\": 10000000}",
            "{\"language\": \"java\", \"model\": \"big\", \"optimizer\": \"adahessian-e2\","
                + " \"threads\": 1, \"median_ms\": 700.0, \"batch\": 128, \"parameters\": 10000000}",
            "{\"language\": \"python\", \"model\": \"big\", \"optimizer\": \"adam\", \"threads\": 1,"
                + " \"median_ms\": 1.0, \"batch\": 128}"));
    Path svg = dir.resolve("scaling.svg");
    String out =
        BenchScripts.python(
            "scale_projection.py",
            "--compute",
            dir.resolve("compute.jsonl").toString(),
            "--links",
            dir.resolve("links.json").toString(),
            "--machines",
            "2,8",
            "--optimizers",
            "adam,adahessian,adahessian-e2",
            "--svg",
            svg.toString());
    // cnn, AdaHessian, 2 machines: a header of 96 x 2 bytes, then 163,920 bytes in one bucket
    double cnn2 =
        256 / (0.050 + ring(192, 2, latency, bandwidth) + ring(163920, 2, latency, bandwidth));
    // big, AdaHessian, 8 machines: a header of 96 x 8 bytes, then 4 buckets of 20,000,000 bytes
    double big8 =
        8 * 128 / (0.900 + ring(768, 8, latency, bandwidth) + 4 * ring(2e7, 8, latency, bandwidth));
    // big, updateEach(2), 8 machines: 80,000,000 bytes (4 buckets), then 40,000,000 (2 buckets)
    double e2 =
        (ring(768, 8, latency, bandwidth) * 2
                + 4 * ring(2e7, 8, latency, bandwidth)
                + 2 * ring(2e7, 8, latency, bandwidth))
            / 2;
    double e28 = 8 * 128 / (0.700 + e2);
    assertTrue(
        out.contains(
            String.format(
                Locale.ROOT,
                "| cnn | AdaHessian | 50.0 ms (batch 128) | 163,920 bytes | 2,560 | %,.0f (%.0f%%) |",
                cnn2,
                100 * cnn2 / 5120)),
        out);
    assertTrue(
        out.contains(
            String.format(Locale.ROOT, "| %,.0f (%.0f%%) |", big8, 100 * big8 / (8 * 128 / 0.9))),
        out);
    assertTrue(
        out.contains(
            String.format(Locale.ROOT, "| %,.0f (%.0f%%) |", e28, 100 * e28 / (8 * 128 / 0.7))),
        out);
    assertTrue(
        out.contains("60,000,000 bytes"), "updateEach(2) sends 6 bytes per parameter:\n" + out);
    assertTrue(!out.contains("| big | Adam |"), "the Python run is not projected:\n" + out);
    String plot = Files.readString(svg);
    assertTrue(plot.startsWith("<svg ") && plot.strip().endsWith("</svg>"), plot);
    assertEquals(3, plot.split("<polyline ", -1).length - 1, plot); // one line per configuration
  }
}
