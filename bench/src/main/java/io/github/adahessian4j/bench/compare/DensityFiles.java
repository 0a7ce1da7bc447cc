package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.HessianDensity;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler.LegendLayout;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The files of {@code hessian}'s spectral density: the smoothed density and the SLQ nodes as CSV
 * ({@code esd.csv}, {@code slq-nodes.csv}) and the ESD plot as PNG.
 */
final class DensityFiles {
  private DensityFiles() {}

  static void write(Path dir, HessianDensity density, HessianDensity.Grid grid) throws IOException {
    StringBuilder csv = new StringBuilder("eigenvalue,density\n");
    double[] x = grid.x();
    double[] d = grid.density();
    for (int j = 0; j < x.length; j++) {
      csv.append(String.format(Locale.ROOT, "%.8g,%.8g%n", x[j], d[j]));
    }
    Files.writeString(dir.resolve("esd.csv"), csv);
    StringBuilder nodes = new StringBuilder("run,node,weight\n");
    for (int r = 0; r < density.runs().size(); r++) {
      HessianDensity.Run run = density.runs().get(r);
      for (int i = 0; i < run.nodes().length; i++) {
        nodes.append(
            String.format(Locale.ROOT, "%d,%.10g,%.10g%n", r, run.nodes()[i], run.weights()[i]));
      }
    }
    Files.writeString(dir.resolve("slq-nodes.csv"), nodes);
  }

  /**
   * The density on a log scale (plus 1e-7, as PyHessian plots it), and the top eigenvalues found by
   * Lanczos.
   */
  static void plot(
      Path file,
      String title,
      HessianDensity density,
      HessianDensity.Grid grid,
      int slqSteps,
      double[] top)
      throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(720)
            .height(460)
            .title(title)
            .xAxisTitle("eigenvalue")
            .yAxisTitle("density (log scale)")
            .build();
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setLegendPosition(LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(LegendLayout.Horizontal);
    chart.getStyler().setXAxisDecimalPattern("0.##");
    double[] x = grid.x();
    double[] d = grid.density();
    double[] shown = new double[d.length];
    double peak = 0;
    for (int j = 0; j < d.length; j++) {
      shown[j] = d[j] + 1e-7;
      peak = Math.max(peak, shown[j]);
    }
    XYSeries series =
        chart.addSeries(
            String.format(
                Locale.ROOT,
                "SLQ: %d runs x %d steps (%d H v products)",
                density.runs().size(),
                slqSteps,
                density.hvProducts()),
            x,
            shown);
    series.setMarker(SeriesMarkers.NONE);
    series.setLineColor(new Color(0x1f77b4));
    double[] tx = new double[top.length];
    double[] ty = new double[top.length];
    for (int j = 0; j < top.length; j++) {
      tx[j] = top[j];
      ty[j] = peak;
    }
    XYSeries marks = chart.addSeries("top " + top.length + " eigenvalues (Lanczos)", tx, ty);
    marks.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    marks.setMarker(SeriesMarkers.DIAMOND);
    marks.setMarkerColor(new Color(0xd62728));
    BitmapEncoder.saveBitmap(List.of(chart), 1, 1, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
