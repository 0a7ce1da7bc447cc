package io.github.adahessian4j.bench.compare;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A Markdown table with its columns padded so that it also reads as plain text. */
final class MarkdownTable {
  private MarkdownTable() {}

  static String render(List<String> header, List<List<String>> body) {
    List<List<String>> lines = new ArrayList<>();
    lines.add(header);
    lines.addAll(body);
    int[] widths = new int[header.size()];
    for (List<String> line : lines) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], line.get(i).length());
      }
    }
    lines.add(1, Arrays.stream(widths).mapToObj("-"::repeat).toList());
    StringBuilder out = new StringBuilder();
    for (List<String> line : lines) {
      out.append('|');
      for (int i = 0; i < widths.length; i++) {
        String cell = line.get(i).replace("|", "\\|");
        out.append(' ')
            .append(cell)
            .append(" ".repeat(Math.max(0, widths[i] - cell.length())))
            .append(" |");
      }
      out.append('\n');
    }
    return out.toString();
  }
}
