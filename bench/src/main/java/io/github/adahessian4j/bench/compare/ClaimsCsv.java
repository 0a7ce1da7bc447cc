package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.bench.compare.ClaimsTable.Row;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@link ClaimsTable} as CSV ({@code table.csv}): one line per row and optimizer. */
final class ClaimsCsv {
  private ClaimsCsv() {}

  /**
   * One line per row and optimizer: row, measure, optimizer, n, mean, sd, unit, p against Adam,
   * verdict, whether it survives leaving out any one seed.
   */
  static String csv(ClaimsTable claims) {
    StringBuilder csv =
        new StringBuilder(
            "row,claim,measure,optimizer,n,mean,sd,unit,p_vs_adam,verdict,leave_one_seed_out\n");
    for (List<Row> table : List.of(claims.rows(), claims.variantRows())) {
      for (Row row : table) {
        for (Map.Entry<String, double[]> e : row.values().entrySet()) {
          Stats.Summary s = Stats.Summary.of(e.getValue());
          Stats.Test t = row.tests().get(e.getKey());
          csv.append(
                  String.join(
                      ",",
                      csvCell(row.id()),
                      csvCell(row.claim()),
                      csvCell(row.measure()),
                      csvCell(e.getKey()),
                      Integer.toString(s.n()),
                      number(s.mean()),
                      number(s.sd()),
                      row.unit().name().toLowerCase(Locale.ROOT),
                      t == null || t.outcome() == Stats.Outcome.TOO_FEW ? "" : number(t.p()),
                      csvCell(row.verdict()),
                      csvCell(row.robustness())))
              .append('\n');
        }
        if (row.values().isEmpty()) {
          csv.append(
                  String.join(
                      ",",
                      csvCell(row.id()),
                      csvCell(row.claim()),
                      csvCell(row.measure()),
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      csvCell(row.verdict()),
                      csvCell(row.robustness())))
              .append('\n');
        }
      }
    }
    return csv.toString();
  }

  private static String number(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "";
  }

  private static String csvCell(String s) {
    return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }
}
