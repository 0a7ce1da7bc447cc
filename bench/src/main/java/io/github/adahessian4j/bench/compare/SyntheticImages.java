package io.github.adahessian4j.bench.compare;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A deterministic stand-in for MNIST when no IDX files are cached: 28x28 grey images of 10 classes.
 * Each class is three pen strokes out of a pool of eight that the classes share; every sample moves
 * the strokes' ends by up to 2 pixels, shifts the whole image by up to 2 pixels, varies thickness
 * and ink, and adds Gaussian noise, so that the classes overlap and a classifier has something to
 * learn.
 */
final class SyntheticImages {
  static final int SIZE = 28;
  static final int CLASSES = 10;
  private static final int STROKES = 3;
  private static final int POOL = 8;
  private static final double JITTER = 2;
  private static final long PROTOTYPE_SEED = 0x5eed_d161_75L;

  private SyntheticImages() {}

  /** {@code count} images with their labels; the same {@code seed} gives the same bytes. */
  static DataSet.Raw generate(int count, long seed) {
    double[][][] strokes = prototypes();
    Random random = new Random(seed);
    byte[] pixels = new byte[count * SIZE * SIZE];
    byte[] labels = new byte[count];
    double[] ends = new double[4];
    for (int n = 0; n < count; n++) {
      int label = random.nextInt(CLASSES);
      labels[n] = (byte) label;
      double shiftX = uniform(random, JITTER);
      double shiftY = uniform(random, JITTER);
      double width = 1.0 + 0.5 * random.nextDouble();
      double ink = 0.6 + 0.4 * random.nextDouble();
      double[][] sample = new double[STROKES][];
      for (int s = 0; s < STROKES; s++) {
        for (int e = 0; e < 4; e++) {
          ends[e] = strokes[label][s][e] + uniform(random, JITTER) + (e % 2 == 0 ? shiftX : shiftY);
        }
        sample[s] = ends.clone();
      }
      for (int y = 0; y < SIZE; y++) {
        for (int x = 0; x < SIZE; x++) {
          double d2 = Double.MAX_VALUE;
          for (double[] stroke : sample) {
            d2 = Math.min(d2, squaredDistanceToSegment(x, y, stroke));
          }
          double value = ink * Math.exp(-d2 / (2 * width * width)) + 0.25 * random.nextGaussian();
          pixels[(n * SIZE + y) * SIZE + x] =
              (byte) Math.round(255 * Math.min(1, Math.max(0, value)));
        }
      }
    }
    return new DataSet.Raw(new Idx.Images(count, SIZE, SIZE, pixels), labels);
  }

  /**
   * {@code [class][stroke] = {x0, y0, x1, y1}}: distinct triples of a shared pool of strokes inside
   * the central 18x18 pixels.
   */
  private static double[][][] prototypes() {
    Random random = new Random(PROTOTYPE_SEED);
    double[][] pool = new double[POOL][4];
    for (double[] stroke : pool) {
      for (int e = 0; e < 4; e++) {
        stroke[e] = 5 + 18 * random.nextDouble();
      }
    }
    double[][][] strokes = new double[CLASSES][][];
    Set<Set<Integer>> used = new HashSet<>();
    for (int c = 0; c < CLASSES; c++) {
      Set<Integer> picked;
      do {
        picked = new TreeSet<>();
        while (picked.size() < STROKES) {
          picked.add(random.nextInt(POOL));
        }
      } while (!used.add(picked));
      strokes[c] = picked.stream().map(i -> pool[i]).toArray(double[][]::new);
    }
    return strokes;
  }

  private static double uniform(Random random, double halfWidth) {
    return halfWidth * (2 * random.nextDouble() - 1);
  }

  private static double squaredDistanceToSegment(double px, double py, double[] s) {
    double dx = s[2] - s[0];
    double dy = s[3] - s[1];
    double length2 = dx * dx + dy * dy;
    double t =
        length2 == 0
            ? 0
            : Math.max(0, Math.min(1, ((px - s[0]) * dx + (py - s[1]) * dy) / length2));
    double ex = s[0] + t * dx - px;
    double ey = s[1] + t * dy - py;
    return ex * ex + ey * ey;
  }
}
