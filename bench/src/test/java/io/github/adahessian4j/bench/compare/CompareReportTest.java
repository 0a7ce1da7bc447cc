package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench/compare_report.py on a few lines as bench/compare.sh writes them. */
class CompareReportTest {
  @TempDir Path dir;

  private static String run(String language, String model, String optimizer, double ms) {
    String torch = language.equals("python") ? ", \"torch\": \"1.13.0a0\"" : "";
    return String.format(
        java.util.Locale.ROOT,
        "{\"language\": \"%s\"%s, \"model\": \"%s\", \"optimizer\": \"%s\", \"threads\": 1, "
            + "\"median_ms\": %.1f, \"q1_ms\": %.1f, \"q3_ms\": %.1f, \"peak_rss_mib\": 300}",
        language,
        torch,
        model,
        optimizer,
        ms,
        ms - 1,
        ms + 1);
  }

  @Test
  void rowsNameTheModelsAsTheDocsDo() throws Exception {
    Path in = dir.resolve("compare.jsonl");
    Files.write(
        in,
        List.of(
            run("java", "resnet", "adam", 100),
            run("java", "resnet", "adahessian", 250),
            run("python", "resnet", "adahessian", 200),
            run("java", "transformer", "adam", 130),
            run("java", "transformer", "adahessian-h4", 260)));
    String out = BenchScripts.python("compare_report.py", in.toString());
    assertTrue(
        out.contains("| ResNet-20 | 1 | n/a | 200.00 (300 MiB) | n/a | n/a | 100.00 [99.0-101.0]"),
        out);
    assertTrue(out.contains("| Transformer | 1 | n/a |"), out);
    assertTrue(out.contains("Transformer, Java AdaHessian variants / Java Adam"), out);
    assertFalse(out.contains("RESNET") || out.contains("TRANSFORMER"), out);
  }
}
