package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One set of fixtures that a Python reference script writes for a parity test (Maven's
 * generate-test-resources phase in java/pom.xml runs the scripts): where the set is, its JSON files
 * and its index of cases. A missing file fails the test with what to run; it never skips.
 */
public final class ParityFixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final String what;
  private final String script;

  /**
   * @param property the system property that relocates the set
   * @param folder the set's folder under {@code target} otherwise
   * @param what what the fixtures are, for the message when one is missing
   * @param script the script that writes them
   */
  public ParityFixtures(String property, String folder, String what, String script) {
    String given = System.getProperty(property);
    this.dir =
        given != null
            ? Path.of(given)
            : Path.of(System.getProperty("basedir", "."), "target", folder);
    this.what = what;
    this.script = script;
  }

  public Path dir() {
    return dir;
  }

  public JsonNode readJson(Path file) {
    if (!Files.isRegularFile(file)) {
      fail(
          what
              + " fixture missing: "
              + file.toAbsolutePath()
              + ". The build generates the fixtures with /usr/bin/python3 "
              + script
              + " (Maven's generate-test-resources phase in java/pom.xml); install the reference "
              + "first with bench/python/install-reference.sh");
    }
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The cases that {@code index.json} lists, which must be exactly {@code expected}, in that order:
   * a set the script wrote only in part fails here instead of passing on what it has.
   */
  public List<String> cases(List<String> expected) {
    List<String> cases = cases();
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(cases);
    List<String> unexpected = new ArrayList<>(cases);
    unexpected.removeAll(expected);
    assertEquals(
        expected,
        cases,
        "the fixture index in "
            + dir
            + " lists other cases than the test pins (missing "
            + missing
            + ", unexpected "
            + unexpected
            + "): regenerate it with "
            + script
            + ", or update the pinned list with the script");
    return cases;
  }

  /** The cases that {@code index.json} lists: at least one. */
  public List<String> cases() {
    List<String> cases = new ArrayList<>();
    readJson(dir.resolve("index.json")).get("cases").forEach(c -> cases.add(c.asText()));
    assertFalse(cases.isEmpty(), "the fixture index lists no case");
    return cases;
  }
}
