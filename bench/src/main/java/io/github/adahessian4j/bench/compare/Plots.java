package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

/** The comparison's figures, as PNG files. */
final class Plots {
  static final String CURVES = "curves.png";
  static final String SENSITIVITY = "sensitivity.png";
  private static final int WIDTH = 640;
  private static final int HEIGHT = 440;
  private static final Map<OptimizerKind, Color> COLORS =
      Map.of(ADAM, new Color(0x1f77b4), ADAHESSIAN, new Color(0xd62728));

  private Plots() {}

  /** Writes {@link #CURVES} and {@link #SENSITIVITY} into {@code dir}; returns their paths. */
  static List<Path> write(Comparison c, Path dir) throws IOException {
    String what = c.protocol().model().name() + ", " + c.protocol().dataLabel();
    Path curves = dir.resolve(CURVES);
    BitmapEncoder.saveBitmap(
        List.of(loss(c, what), accuracy(c, what)),
        1,
        2,
        curves.toString(),
        BitmapEncoder.BitmapFormat.PNG);
    Path sensitivity = dir.resolve(SENSITIVITY);
    BitmapEncoder.saveBitmap(
        List.of(lrSensitivity(c, what), batchSensitivity(c, what)),
        1,
        2,
        sensitivity.toString(),
        BitmapEncoder.BitmapFormat.PNG);
    return List.of(curves, sensitivity);
  }

  private static XYChart loss(Comparison c, String what) {
    XYChart chart = chart("Loss, " + what, steps(c), "cross-entropy (log scale)");
    chart
        .getStyler()
        .setYAxisLogarithmic(true)
        .setYAxisLogarithmicDecadeOnly(false)
        .setYAxisDecimalPattern("0.0#")
        .setLegendPosition(LegendPosition.InsideNE);
    for (OptimizerKind kind : OptimizerKind.values()) {
      List<TrainingRun.Point> curve = c.main().get(kind).curve();
      line(
          chart,
          kind.label() + " train",
          curve,
          TrainingRun.Point::trainLoss,
          COLORS.get(kind),
          SeriesLines.SOLID);
      line(
          chart,
          kind.label() + " validation",
          curve,
          TrainingRun.Point::valLoss,
          COLORS.get(kind),
          SeriesLines.DASH_DASH);
    }
    return chart;
  }

  private static XYChart accuracy(Comparison c, String what) {
    XYChart chart = chart("Validation accuracy, " + what, steps(c), "accuracy (%)");
    double lowest = 100 * c.protocol().target();
    for (OptimizerKind kind : OptimizerKind.values()) {
      List<TrainingRun.Point> curve = c.main().get(kind).curve();
      line(
          chart,
          kind.label(),
          curve,
          p -> 100 * p.valAccuracy(),
          COLORS.get(kind),
          SeriesLines.SOLID);
      for (TrainingRun.Point p : curve.subList(Math.min(1, curve.size()), curve.size())) {
        lowest = Math.min(lowest, 100 * p.valAccuracy());
      }
    }
    double lastStep = c.protocol().epochs() * c.protocol().stepsPerEpoch();
    XYSeries target =
        chart.addSeries(
            "target " + Format.percent(c.protocol().target()),
            new double[] {0, lastStep},
            new double[] {100 * c.protocol().target(), 100 * c.protocol().target()});
    style(target, Color.GRAY, SeriesLines.DOT_DOT);
    // The untrained start (about 10%) would flatten everything after it: show it cut off below.
    chart
        .getStyler()
        .setYAxisMin(Math.max(0, 5 * Math.floor(lowest / 5) - 5))
        .setYAxisMax(100.0)
        .setLegendPosition(LegendPosition.InsideSE);
    return chart;
  }

  private static CategoryChart lrSensitivity(Comparison c, String what) {
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < Comparison.LR_FACTORS.length; i++) {
      labels.add(
          Format.number(Comparison.LR_FACTORS[i])
              + "x: "
              + Format.number(c.protocol().lrGrid(ADAM)[i])
              + " | "
              + Format.number(c.protocol().lrGrid(ADAHESSIAN)[i]));
    }
    return bars(
        "Learning-rate sensitivity, " + what,
        "learning rate: factor of the default: Adam | AdaHessian",
        labels,
        c.lrGrid());
  }

  private static CategoryChart batchSensitivity(Comparison c, String what) {
    List<String> labels =
        Arrays.stream(c.protocol().batchSizes()).mapToObj(Integer::toString).toList();
    return bars("Batch-size stability, " + what, "batch size", labels, c.batchGrid());
  }

  /** Grouped bars of final validation accuracy, one group per label, one bar per optimizer. */
  private static CategoryChart bars(
      String title,
      String xTitle,
      List<String> labels,
      Map<OptimizerKind, List<TrainingRun.Result>> runs) {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle(xTitle)
            .yAxisTitle("final validation accuracy (%)")
            .build();
    CategoryStyler styler = chart.getStyler();
    styler
        .setLabelsVisible(true)
        .setLabelsPosition(0.92)
        .setLabelsFontColorAutomaticEnabled(false)
        .setLabelsFontColor(Color.WHITE);
    styler.setYAxisMin(0.0).setYAxisMax(100.0).setYAxisDecimalPattern("0.#");
    styler
        .setChartBackgroundColor(Color.WHITE)
        .setLegendPosition(LegendPosition.OutsideS)
        .setLegendLayout(LegendLayout.Horizontal)
        .setSeriesColors(new Color[] {COLORS.get(ADAM), COLORS.get(ADAHESSIAN)});
    for (OptimizerKind kind : OptimizerKind.values()) {
      List<Double> accuracy =
          runs.get(kind).stream().map(r -> Math.round(1000 * r.valAccuracy()) / 10.0).toList();
      chart.addSeries(kind.label(), labels, accuracy);
    }
    return chart;
  }

  /**
   * The x axis of the curves: steps, not epochs, whose fractions XChart would print as 0.22,
   * 0.44...
   */
  private static String steps(Comparison c) {
    return String.format(
        Locale.ROOT,
        "step (batch %d, %d steps per epoch)",
        c.protocol().batch(),
        c.protocol().stepsPerEpoch());
  }

  private static XYChart chart(String title, String xTitle, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle(xTitle)
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setXAxisDecimalPattern("0").setChartBackgroundColor(Color.WHITE);
    return chart;
  }

  private static void line(
      XYChart chart,
      String name,
      List<TrainingRun.Point> curve,
      ToDoubleFunction<TrainingRun.Point> value,
      Color color,
      BasicStroke stroke) {
    List<Double> x = new ArrayList<>();
    List<Double> y = new ArrayList<>();
    for (TrainingRun.Point p : curve) {
      double v = value.applyAsDouble(p);
      if (Double.isFinite(v) && v > 0) {
        x.add((double) p.step());
        y.add(v);
      }
    }
    if (!x.isEmpty()) {
      style(chart.addSeries(name, x, y), color, stroke);
    }
  }

  private static void style(XYSeries series, Color color, BasicStroke stroke) {
    series.setLineColor(color);
    series.setLineStyle(stroke);
    series.setMarker(SeriesMarkers.NONE);
  }
}
