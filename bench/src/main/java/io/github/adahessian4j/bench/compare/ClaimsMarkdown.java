package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.bench.compare.ClaimsTable.Row;
import io.github.adahessian4j.bench.compare.ClaimsVerdicts.Standing;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The {@link ClaimsTable} as text: both tables in Markdown, the footer and the summary. */
final class ClaimsMarkdown {
  private ClaimsMarkdown() {}

  /** Both tables in Markdown (padded to read as text too), the footer and the summary. */
  static String markdown(ClaimsTable claims, String footer) {
    StringBuilder out = new StringBuilder();
    out.append(
        MarkdownTable.render(ClaimsTable.HEADER, claims.rows().stream().map(Row::cells).toList()));
    out.append('\n');
    out.append(summary(claims));
    out.append('\n');
    if (!claims.variantRows().isEmpty()) {
      out.append("Row 11, the cheaper AdaHessian variants (the measures of rows 1, 2 and 6):\n\n");
      List<List<String>> lines = new ArrayList<>();
      for (Row row : claims.variantRows()) {
        List<String> line = new ArrayList<>(List.of(row.id(), row.measure(), row.seeds()));
        line.addAll(claims.variantCells(row));
        line.add(row.verdict());
        line.add(row.robustness());
        lines.add(line);
      }
      out.append(MarkdownTable.render(ClaimsTable.VARIANT_HEADER, lines));
      out.append('\n');
    }
    out.append(footer);
    return out.toString();
  }

  /** Which rows support the claim, which go against it, which cannot tell. */
  static String summary(ClaimsTable claims) {
    return "Supports the article: "
        + ids(claims, Standing.SUPPORTED)
        + "\n"
        + "Against the article: "
        + ids(claims, Standing.AGAINST)
        + "\n"
        + "Not distinguishable at 5%: "
        + ids(claims, Standing.NOT_DISTINGUISHABLE)
        + "\n"
        + "Verdicts that leaving out one seed changes: "
        + fragile(claims)
        + "\n"
        + (claims.rows().stream().anyMatch(x -> x.standing() == Standing.NOT_MEASURED)
            ? "Not measured: " + ids(claims, Standing.NOT_MEASURED) + "\n"
            : "")
        + (claims.plan().claims().size() < Claims.CLAIMS.size()
            ? "Not in this plan (--claims): " + claims.plan().claimList(false) + "\n"
            : "");
  }

  private static String fragile(ClaimsTable claims) {
    String list =
        claims.rows().stream()
            .filter(x -> x.robustness().startsWith("not robust"))
            .map(Row::id)
            .collect(Collectors.joining(", "));
    return list.isEmpty() ? "none" : "rows " + list;
  }

  private static String ids(ClaimsTable claims, Standing standing) {
    String list =
        claims.rows().stream()
            .filter(x -> x.standing() == standing)
            .map(Row::id)
            .collect(Collectors.joining(", "));
    return list.isEmpty() ? "-" : "rows " + list;
  }
}
