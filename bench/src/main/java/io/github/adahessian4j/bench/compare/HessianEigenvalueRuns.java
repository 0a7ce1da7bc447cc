package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.HessianAnalysis;
import io.github.adahessian4j.HessianEigenvalues;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The eigenvalue part of {@code hessian} ({@link HessianCommand}): a reference far past the target,
 * then Lanczos against power iteration with deflation, each with an oracle and its own stopping
 * rule, timed over interleaved repeats, and their table.
 */
final class HessianEigenvalueRuns {
  /** One measured configuration: a method, a stopping rule and how many eigenvalues. */
  private record Run(
      String method,
      String rule,
      int count,
      Function<HessianAnalysis, HessianEigenvalues> compute) {}

  /** What a run gave: products, median seconds, the worst relative error against the reference. */
  private record Outcome(long products, double seconds, double error, boolean reached) {}

  private final int k;
  private final double target;
  private final int maxIterations;
  private final int repeats;

  HessianEigenvalueRuns(int k, double target, int maxIterations, int repeats) {
    this.k = k;
    this.target = target;
    this.maxIterations = maxIterations;
    this.repeats = repeats;
  }

  /**
   * Computes the reference, runs every configuration, prints the progress to {@code printer} and
   * appends the reference, the table and the top-k comparison to {@code md}.
   *
   * @return the reference's top k eigenvalues
   */
  double[] measure(HessianAnalysis h, PrintWriter printer, StringBuilder md) {
    // The reference: Lanczos far past the target.
    long began = System.nanoTime();
    HessianEigenvalues reference =
        h.topEigenvalues(
            HessianEigenvalues.Options.DEFAULTS
                .withK(k)
                .withTolerance(1e-10)
                .withMaxIterations(maxIterations));
    double referenceSeconds = (System.nanoTime() - began) / 1e9;
    HessianEigenvalues magnitude =
        h.topEigenvalues(
            HessianEigenvalues.Options.DEFAULTS
                .withK(k)
                .withTolerance(1e-10)
                .withMaxIterations(maxIterations)
                .withWhich(HessianEigenvalues.Which.LARGEST_MAGNITUDE));
    double[] ref = reference.eigenvalues();
    double[] refMagnitude = magnitude.eigenvalues();
    printer.printf(
        Locale.ROOT,
        "reference (Lanczos, residual tolerance 1e-10): top %d %s, residuals %s; %d products, "
            + "%.1f s%n",
        k,
        Arrays.toString(round(ref)),
        Arrays.toString(round(reference.residuals())),
        reference.hvProducts(),
        referenceSeconds);
    printer.flush();
    md.append(
        String.format(
            Locale.ROOT,
            "Reference: Lanczos to a residual tolerance of 1e-10 (%d products, converged "
                + "%s): top %d eigenvalues %s%s.%n%n",
            reference.hvProducts(),
            reference.converged(),
            k,
            Arrays.toString(round(ref)),
            Arrays.equals(round(ref), round(refMagnitude))
                ? ""
                : "; largest magnitude (what power iteration finds) "
                    + Arrays.toString(round(refMagnitude))));
    List<Run> runs = runs(ref, refMagnitude);
    Map<Run, Outcome> outcomes = time(h, runs, ref, refMagnitude, printer);
    appendTable(md, outcomes);
    return ref;
  }

  /**
   * Lanczos and power iteration, each with the oracle and with its own rule, for the top eigenvalue
   * and the top k.
   */
  private List<Run> runs(double[] ref, double[] refMagnitude) {
    List<Run> runs = new ArrayList<>();
    for (int count : new int[] {1, k}) {
      runs.add(
          new Run(
              "Lanczos",
              "oracle",
              count,
              a ->
                  a.topEigenvalues(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(0)
                          .withMaxIterations(maxIterations)
                          .withMonitor(lanczosOracle(ref, count)))));
      runs.add(
          new Run(
              "power iteration",
              "oracle",
              count,
              a ->
                  a.powerIteration(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(0)
                          .withMaxIterations(maxIterations)
                          .withMonitor(powerOracle(refMagnitude)))));
      runs.add(
          new Run(
              "Lanczos",
              "own rule",
              count,
              a ->
                  a.topEigenvalues(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(target)
                          .withMaxIterations(maxIterations))));
      runs.add(
          new Run(
              "power iteration",
              "own rule",
              count,
              a ->
                  a.powerIteration(
                      HessianEigenvalues.Options.DEFAULTS
                          .withK(count)
                          .withTolerance(target)
                          .withMaxIterations(maxIterations))));
    }
    return runs;
  }

  /**
   * Runs each configuration {@code repeats} times, interleaved, and measures the last result
   * against the reference (Lanczos) or the largest magnitudes (power iteration).
   */
  private Map<Run, Outcome> time(
      HessianAnalysis h, List<Run> runs, double[] ref, double[] refMagnitude, PrintWriter printer) {
    Map<Run, List<Double>> seconds = new LinkedHashMap<>();
    Map<Run, HessianEigenvalues> results = new LinkedHashMap<>();
    for (int r = 0; r < repeats; r++) {
      for (Run run : runs) {
        long t0 = System.nanoTime();
        HessianEigenvalues e = run.compute().apply(h);
        double s = (System.nanoTime() - t0) / 1e9;
        seconds.computeIfAbsent(run, key -> new ArrayList<>()).add(s);
        results.put(run, e);
        printer.printf(
            Locale.ROOT,
            "  repeat %d: %-15s %-8s top %d: %5d products, %6.2f s%n",
            r + 1,
            run.method(),
            run.rule(),
            run.count(),
            e.hvProducts(),
            s);
        printer.flush();
      }
    }
    Map<Run, Outcome> outcomes = new LinkedHashMap<>();
    for (Run run : runs) {
      HessianEigenvalues e = results.get(run);
      double[] expected = run.method().equals("Lanczos") ? ref : refMagnitude;
      double error = 0;
      for (int j = 0; j < run.count(); j++) {
        error =
            Math.max(
                error,
                j < e.eigenvalues().length
                    ? Math.abs(e.eigenvalues()[j] - expected[j]) / Math.abs(expected[j])
                    : Double.POSITIVE_INFINITY);
      }
      outcomes.put(
          run, new Outcome(e.hvProducts(), median(seconds.get(run)), error, error <= target));
    }
    return outcomes;
  }

  /** The table of products, seconds and errors, and whether Lanczos met its target. */
  private void appendTable(StringBuilder md, Map<Run, Outcome> outcomes) {
    String pct = String.format(Locale.ROOT, "%.0e", target).replace("e-0", "e-");
    md.append(
        String.format(
            Locale.ROOT,
            "H v products and seconds (median of %d) to the top eigenvalue and the top "
                + "%d to relative %s. *Oracle*: stop as soon as every estimate is within %s of the reference (the fewest "
                + "products the method needs). *Own rule* at tolerance %s: Lanczos stops when every wanted Ritz residual is "
                + "below %s x the largest Ritz value, power iteration (PyHessian's rule) when two successive estimates differ "
                + "by less than %s relative; the error column says what that gave.%n%n",
            repeats,
            k,
            pct,
            pct,
            pct,
            pct,
            pct));
    md.append(
        "| method | stopping | top 1: products | top 1: s | top 1: error | top "
            + k
            + ": products | top "
            + k
            + ": s | top "
            + k
            + ": max error |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (String method : List.of("Lanczos", "power iteration")) {
      for (String rule : List.of("oracle", "own rule")) {
        Outcome one = find(outcomes, method, rule, 1);
        Outcome many = find(outcomes, method, rule, k);
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %s | %.2f | %s | %s | %.2f | %s |%n",
                method.equals("Lanczos") ? "**Lanczos**" : method,
                rule,
                products(one),
                one.seconds(),
                error(one),
                products(many),
                many.seconds(),
                error(many)));
      }
    }
    Outcome lanczosK = find(outcomes, "Lanczos", "oracle", k);
    Outcome powerK = find(outcomes, "power iteration", "oracle", k);
    double ratio = (double) lanczosK.products() / powerK.products();
    md.append(
        String.format(
            Locale.ROOT,
            "%nTop %d to %s: Lanczos used %d products, %.1f%% of power iteration's %d "
                + "(%.1fx fewer; target: at most a third, %s).%n",
            k,
            pct,
            lanczosK.products(),
            100 * ratio,
            powerK.products(),
            1 / ratio,
            ratio <= 1.0 / 3 && lanczosK.reached() && powerK.reached() ? "met" : "NOT met"));
  }

  /**
   * Lanczos stops when all {@code count} wanted Ritz values are within the target of the reference.
   */
  private HessianEigenvalues.Monitor lanczosOracle(double[] ref, int count) {
    return (products, estimates) -> {
      if (estimates.length < count) {
        return false;
      }
      for (int j = 0; j < count; j++) {
        if (!(Math.abs(estimates[j] - ref[j]) <= target * Math.abs(ref[j]))) {
          return false;
        }
      }
      return true;
    };
  }

  /**
   * Power iteration accepts its current eigenvalue as soon as it is within the target of the
   * reference.
   */
  private HessianEigenvalues.Monitor powerOracle(double[] ref) {
    return (products, estimates) -> {
      int j = estimates.length - 1;
      return Math.abs(estimates[j] - ref[j]) <= target * Math.abs(ref[j]);
    };
  }

  private static Outcome find(Map<Run, Outcome> outcomes, String method, String rule, int count) {
    for (Map.Entry<Run, Outcome> e : outcomes.entrySet()) {
      Run r = e.getKey();
      if (r.method().equals(method) && r.rule().equals(rule) && r.count() == count) {
        return e.getValue();
      }
    }
    throw new IllegalStateException(method + " " + rule + " " + count);
  }

  private static String products(Outcome o) {
    return o.reached() ? Long.toString(o.products()) : o.products() + " (not reached)";
  }

  private static String error(Outcome o) {
    return String.format(Locale.ROOT, "%.1e", o.error());
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double[] round(double[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Double.parseDouble(String.format(Locale.ROOT, "%.6g", values[i]));
    }
    return out;
  }
}
