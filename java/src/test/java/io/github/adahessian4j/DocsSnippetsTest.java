package io.github.adahessian4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ```java} block of README.md and docs/**&#47;*.md is compiled and run: each must
 * appear verbatim (line by line, whitespace at both ends of a line and blank lines ignored) in a
 * test source under java/src/test/java or bench/src/test/java, where a test method runs it. A
 * snippet's {@code import} lines need only be somewhere in the same file (they sit at its top). The
 * root package's javadoc overview shows the README's first snippet, the training loop.
 */
class DocsSnippetsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final List<String> TEST_SOURCES =
      List.of("java/src/test/java", "bench/src/test/java");

  /** One {@code ```java} block: where it starts (file:line) and its lines. */
  record Snippet(String where, List<String> lines) {}

  @Test
  void everyJavaSnippetOfTheDocsIsInATest() throws IOException {
    List<Path> docs = markdownFiles();
    List<Snippet> snippets = new ArrayList<>();
    for (Path md : docs) {
      snippets.addAll(snippets(ROOT.relativize(md).toString(), Files.readString(md)));
    }
    assertTrue(snippets.size() >= 7, "the README and docs hold at least 7 Java snippets");
    List<List<String>> sources = new ArrayList<>();
    for (String dir : TEST_SOURCES) {
      try (Stream<Path> files = Files.walk(ROOT.resolve(dir))) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          sources.add(lines(Files.readString(file)));
        }
      }
    }
    List<String> missing = missing(snippets, sources);
    assertTrue(
        missing.isEmpty(),
        "Java snippets found verbatim in no test source under "
            + TEST_SOURCES
            + " (put each in a test method, line for line):\n"
            + String.join("\n", missing));
  }

  @Test
  void theCheckerNamesASnippetFoundNowhere() {
    String md =
        "# A page\n\ntext\n\n```java\nint a = 1;\n```\n\n```java\nimport java.util.List;\n\n"
            + "List<Integer> b = List.of(2);\n  b.size();\n```\n";
    List<Snippet> snippets = snippets("docs/page.md", md);
    assertEquals(2, snippets.size());
    List<String> good =
        lines(
            "import java.util.List;\nclass T {\n  void t() {\n    int a = 1;\n"
                + "    List<Integer> b = List.of(2);\n\n    b.size();\n  }\n}\n");
    assertEquals(List.of(), missing(snippets, List.of(good)));
    List<String> reordered =
        lines("import java.util.List;\nb.size();\nList<Integer> b = List.of(2);\n");
    assertEquals(
        List.of("docs/page.md:5: int a = 1;", "docs/page.md:9: import java.util.List;"),
        missing(snippets, List.of(reordered)));
    List<String> noImport = lines("int a = 1;\nList<Integer> b = List.of(2);\nb.size();\n");
    assertEquals(
        List.of("docs/page.md:9: import java.util.List;"), missing(snippets, List.of(noImport)));
  }

  @Test
  void theJavadocOverviewShowsTheReadmeLoop() throws IOException {
    List<Snippet> readme = snippets("README.md", Files.readString(ROOT.resolve("README.md")));
    List<String> loop =
        readme.get(0).lines().stream().filter(line -> !line.startsWith("import ")).toList();
    assertTrue(
        loop.get(0).startsWith("try (Optimizer opt"), "the README's first snippet is the loop");
    List<String> overview = new ArrayList<>();
    for (String line :
        Files.readString(
                ROOT.resolve("java/src/main/java/io/github/adahessian4j/package-info.java"))
            .split("\n")) {
      String text = line.strip();
      text = text.startsWith("*") ? text.substring(1).strip() : text;
      text = text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&");
      if (!text.isEmpty()) {
        overview.add(text);
      }
    }
    assertTrue(
        Collections.indexOfSubList(overview, loop) >= 0,
        "package-info.java of io.github.adahessian4j shows the README's loop, line for line");
  }

  /** README.md and every Markdown file under docs/. */
  private static List<Path> markdownFiles() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md")));
    Path dir = ROOT.resolve("docs");
    if (Files.isDirectory(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        docs.addAll(files.filter(f -> f.toString().endsWith(".md")).sorted().toList());
      }
    }
    return docs;
  }

  /** The {@code ```java} blocks of a Markdown text, each with its file:line. */
  static List<Snippet> snippets(String file, String markdown) {
    List<Snippet> out = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].strip().equals("```java")) {
        int start = i + 1;
        List<String> body = new ArrayList<>();
        for (i++; i < lines.length && !lines[i].strip().startsWith("```"); i++) {
          if (!lines[i].isBlank()) {
            body.add(lines[i].strip());
          }
        }
        if (!body.isEmpty()) {
          out.add(new Snippet(file + ":" + start, body));
        }
      }
    }
    return out;
  }

  /** A source's lines without the whitespace at their ends, blank lines dropped. */
  static List<String> lines(String source) {
    return source.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
  }

  /**
   * Each snippet that no source holds, as "file:line: its first line" (the line of its fence): its
   * non-import lines must be a run of consecutive lines of one source, whose lines include its
   * imports.
   */
  static List<String> missing(List<Snippet> snippets, List<List<String>> sources) {
    List<String> out = new ArrayList<>();
    for (Snippet snippet : snippets) {
      List<String> imports =
          snippet.lines().stream().filter(line -> line.startsWith("import ")).toList();
      List<String> body =
          snippet.lines().stream().filter(line -> !line.startsWith("import ")).toList();
      boolean found =
          sources.stream()
              .anyMatch(
                  src -> src.containsAll(imports) && Collections.indexOfSubList(src, body) >= 0);
      if (!found) {
        out.add(snippet.where() + ": " + snippet.lines().get(0));
      }
    }
    return out;
  }
}
