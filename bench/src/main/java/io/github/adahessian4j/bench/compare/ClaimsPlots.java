package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler.LegendLayout;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The full run's figures: the curves of the main runs as the mean over seeds with a band of one
 * standard deviation (the cheaper variants as dashed means), and the sensitivity grids (learning
 * rate, batch size, label noise, depth) as bars of the mean final validation accuracy with error
 * bars of one standard deviation.
 */
final class ClaimsPlots {
  static final String CURVES = "claims-curves.png";
  static final String SENSITIVITY = "claims-sensitivity.png";
  private static final int WIDTH = 640;
  private static final int HEIGHT = 440;
  private static final int CURVE_HEIGHT = 560;
  private static final Map<Claims.Arm, Color> COLORS =
      new EnumMap<>(
          Map.of(
              Claims.Arm.ADAM_ARM,
              new Color(0x1f77b4),
              Claims.Arm.ADAHESSIAN_ARM,
              new Color(0xd62728),
              Claims.Arm.EACH2,
              new Color(0xff7f0e),
              Claims.Arm.EACH4,
              new Color(0x9467bd),
              Claims.Arm.EACH2_WARM,
              new Color(0x8c564b),
              Claims.Arm.EACH4_WARM,
              new Color(0xe377c2),
              Claims.Arm.QUARTER,
              new Color(0x2ca02c)));

  private ClaimsPlots() {}

  /**
   * Writes {@link #CURVES} and, when the plan has a grid, {@link #SENSITIVITY} into {@code dir};
   * returns their paths.
   */
  static List<Path> write(Claims.Results r, Path dir) throws IOException {
    Protocol p = r.plan.protocol();
    String what = p.model().name() + ", " + p.dataLabel();
    Path curves = dir.resolve(CURVES);
    BitmapEncoder.saveBitmap(
        List.of(curves(r, what, true), curves(r, what, false)),
        1,
        2,
        curves.toString(),
        BitmapEncoder.BitmapFormat.PNG);
    List<CategoryChart> panels = new ArrayList<>();
    for (String panel : sensitivityPanels(r.plan)) {
      panels.add(
          switch (panel) {
            case "learning rate" -> lr(r, what);
            case "batch size" -> batch(r, what);
            case "label noise" -> noise(r, what);
            default -> depth(r, what);
          });
    }
    if (panels.isEmpty()) {
      return List.of(curves);
    }
    Path sensitivity = dir.resolve(SENSITIVITY);
    BitmapEncoder.saveBitmap(
        panels,
        (panels.size() + 1) / 2,
        Math.min(2, panels.size()),
        sensitivity.toString(),
        BitmapEncoder.BitmapFormat.PNG);
    return List.of(curves, sensitivity);
  }

  /** The panels of {@link #SENSITIVITY}: the grids that the plan has. */
  static List<String> sensitivityPanels(Claims.Plan plan) {
    List<String> panels = new ArrayList<>();
    if (plan.has(5)) {
      panels.add("learning rate");
    }
    if (plan.has(7)) {
      panels.add("batch size");
    }
    if (plan.has(9) && plan.labelNoise().length > 0) {
      panels.add("label noise");
    }
    if (plan.has(8)) {
      panels.add("depth");
    }
    return panels;
  }

  /**
   * Mean and sd over runs of {@code value} at each step that some run evaluated: {steps, mean, sd,
   * n}.
   */
  static double[][] band(List<TrainingRun.Result> runs, ToDoubleFunction<TrainingRun.Point> value) {
    TreeMap<Integer, List<Double>> at = new TreeMap<>();
    for (TrainingRun.Result run : runs) {
      for (TrainingRun.Point point : run.curve()) {
        double v = value.applyAsDouble(point);
        if (Double.isFinite(v)) {
          at.computeIfAbsent(point.step(), k -> new ArrayList<>()).add(v);
        }
      }
    }
    double[][] out = new double[4][at.size()];
    int i = 0;
    for (Map.Entry<Integer, List<Double>> e : at.entrySet()) {
      Stats.Summary s =
          Stats.Summary.of(e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
      out[0][i] = e.getKey();
      out[1][i] = s.mean();
      out[2][i] = s.n() > 1 ? s.sd() : 0;
      out[3][i] = s.n();
      i++;
    }
    return out;
  }

  private static XYChart curves(Claims.Results r, String what, boolean accuracy) {
    Protocol p = r.plan.protocol();
    String title = accuracy ? "Validation accuracy, " + what : "Training loss, " + what;
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(CURVE_HEIGHT)
            .title(title)
            .xAxisTitle(
                String.format(
                    Locale.ROOT,
                    "step (batch %d, %d steps per epoch)",
                    p.batch(),
                    p.stepsPerEpoch()))
            .yAxisTitle(
                accuracy
                    ? "accuracy (%), mean ± sd over seeds"
                    : "cross-entropy (log scale), mean ± sd")
            .build();
    chart
        .getStyler()
        .setXAxisDecimalPattern("0")
        .setChartBackgroundColor(Color.WHITE)
        .setLegendPosition(LegendPosition.OutsideS)
        .setLegendLayout(LegendLayout.Vertical);
    if (!accuracy) {
      chart
          .getStyler()
          .setYAxisLogarithmic(true)
          .setYAxisLogarithmicDecadeOnly(true)
          .setYAxisDecimalPattern("0.###");
    }
    ToDoubleFunction<TrainingRun.Point> value =
        accuracy
            ? pt -> 100 * pt.valAccuracy()
            : pt -> pt.step() == 0 ? Double.NaN : pt.trainLoss();
    double lowest = 100 * p.target();
    for (Claims.Arm arm : Claims.Arm.values()) {
      List<TrainingRun.Result> runs = r.main.get(arm);
      if (runs.isEmpty()) {
        continue;
      }
      double[][] b = band(runs, value);
      if (b[0].length == 0) {
        continue;
      }
      Color color = COLORS.get(arm);
      String name = arm.label + " (" + runs.size() + " seeds)";
      if (arm.primary()) {
        int n = b[0].length;
        double[] x = new double[2 * n];
        double[] y = new double[2 * n];
        for (int i = 0; i < n; i++) {
          x[i] = b[0][i];
          y[i] = b[1][i] + b[2][i];
          x[2 * n - 1 - i] = b[0][i];
          y[2 * n - 1 - i] =
              accuracy ? b[1][i] - b[2][i] : Math.max(b[1][i] - b[2][i], b[1][i] / 10);
        }
        XYSeries area = chart.addSeries(name + " band", x, y);
        area.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
        area.setFillColor(new Color(color.getRed(), color.getGreen(), color.getBlue(), 60));
        area.setLineColor(new Color(0, 0, 0, 0));
        area.setMarker(SeriesMarkers.NONE);
        area.setShowInLegend(false);
      }
      XYSeries mean = chart.addSeries(name, b[0], b[1]);
      style(mean, color, arm.primary() ? SeriesLines.SOLID : SeriesLines.DASH_DASH);
      for (int i = 1; i < b[0].length; i++) {
        lowest = Math.min(lowest, b[1][i]);
      }
    }
    if (accuracy) {
      double last = p.epochs() * p.stepsPerEpoch();
      XYSeries target =
          chart.addSeries(
              "target " + Format.percent(p.target()),
              new double[] {0, last},
              new double[] {100 * p.target(), 100 * p.target()});
      style(target, Color.GRAY, SeriesLines.DOT_DOT);
      chart.getStyler().setYAxisMin(Math.max(0, 5 * Math.floor(lowest / 5) - 5)).setYAxisMax(100.0);
    }
    return chart;
  }

  private static void style(XYSeries series, Color color, BasicStroke stroke) {
    series.setLineColor(color);
    series.setLineStyle(stroke);
    series.setMarker(SeriesMarkers.NONE);
  }

  private static CategoryChart lr(Claims.Results r, String what) {
    Protocol p = r.plan.protocol();
    List<String> labels = new ArrayList<>();
    for (double f : r.plan.lrFactors()) {
      labels.add("x" + Format.number(f));
    }
    return bars(
        "Learning rate, " + what,
        "lr: factor of the default (Adam "
            + Format.number(p.adamLr())
            + ", AdaHessian "
            + Format.number(p.adaHessianLr())
            + ")",
        labels,
        kind -> r.lr.get(kind));
  }

  private static CategoryChart batch(Claims.Results r, String what) {
    List<String> labels = Arrays.stream(r.plan.batchSizes()).mapToObj(Integer::toString).toList();
    return bars(
        "Batch size (same lr and epochs), " + what,
        "batch size",
        labels,
        kind -> r.batch.get(kind));
  }

  private static CategoryChart noise(Claims.Results r, String what) {
    List<String> labels = new ArrayList<>(List.of("clean"));
    for (double n : r.plan.labelNoise()) {
      labels.add(Format.number(100 * n) + "% wrong");
    }
    return bars(
        "Label noise (validation clean), " + what,
        "training labels",
        labels,
        kind -> {
          List<List<TrainingRun.Result>> points = new ArrayList<>();
          List<TrainingRun.Result> clean = r.main.get(Claims.Arm.of(kind));
          points.add(clean.subList(0, Math.min(clean.size(), r.plan.variantSeeds())));
          points.addAll(r.noise.get(kind));
          return points;
        });
  }

  private static CategoryChart depth(Claims.Results r, String what) {
    Protocol p = r.plan.protocol();
    List<String> labels = new ArrayList<>();
    labels.add("default " + p.model().name());
    for (Model deep : r.plan.deepModels()) {
      labels.add(deep.equals(Model.DEEP) ? "plain MLP, 10 layers" : deep.name());
    }
    return bars(
        "Depth, " + p.dataLabel(),
        "network",
        labels,
        kind -> {
          List<TrainingRun.Result> main = r.main.get(Claims.Arm.of(kind));
          List<List<TrainingRun.Result>> points = new ArrayList<>();
          points.add(main.subList(0, Math.min(main.size(), r.plan.variantSeeds())));
          points.addAll(r.deep.get(kind));
          return points;
        });
  }

  /**
   * Grouped bars of the mean final validation accuracy over seeds, error bars one sd; one group per
   * label.
   */
  private static CategoryChart bars(
      String title,
      String xTitle,
      List<String> labels,
      java.util.function.Function<OptimizerKind, List<List<TrainingRun.Result>>> points) {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle(xTitle)
            .yAxisTitle("final val accuracy (%), mean ± sd")
            .build();
    CategoryStyler styler = chart.getStyler();
    styler.setYAxisMin(0.0).setYAxisMax(100.0).setYAxisDecimalPattern("0.#");
    styler.setErrorBarsColor(Color.BLACK);
    styler.setErrorBarsColorSeriesColor(false);
    styler
        .setChartBackgroundColor(Color.WHITE)
        .setLegendPosition(LegendPosition.OutsideS)
        .setLegendLayout(LegendLayout.Horizontal)
        .setSeriesColors(
            new Color[] {COLORS.get(Claims.Arm.ADAM_ARM), COLORS.get(Claims.Arm.ADAHESSIAN_ARM)});
    for (OptimizerKind kind : List.of(ADAM, ADAHESSIAN)) {
      List<Double> mean = new ArrayList<>();
      List<Double> sd = new ArrayList<>();
      for (List<TrainingRun.Result> point : points.apply(kind)) {
        Stats.Summary s =
            Stats.Summary.of(point.stream().mapToDouble(x -> 100 * x.valAccuracy()).toArray());
        mean.add(s.n() > 0 ? s.mean() : 0);
        sd.add(s.n() > 1 ? s.sd() : 0);
      }
      chart.addSeries(kind.label(), labels, mean, sd);
    }
    return chart;
  }
}
