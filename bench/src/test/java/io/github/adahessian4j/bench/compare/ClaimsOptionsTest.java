package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The full run's label-noise and deep-network options, and its variants, on small synthetic data
 * (seconds).
 */
class ClaimsOptionsTest {
  private static DataSet data;

  @BeforeAll
  static void load() throws Exception {
    data = DataSet.load("synthetic", null, 256, 128);
  }

  @AfterAll
  static void close() {
    data.close();
  }

  @Test
  void labelNoiseReplacesExactlyThatFractionByOtherClasses() {
    byte[] labels = new byte[1000];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (byte) (i % DataSet.CLASSES);
    }
    for (double fraction : new double[] {0.2, 0.4}) {
      byte[] noisy = DataSet.noisyLabels(labels, fraction, 7);
      int changed = 0;
      for (int i = 0; i < labels.length; i++) {
        assertTrue(noisy[i] >= 0 && noisy[i] < DataSet.CLASSES, "label " + noisy[i]);
        changed += noisy[i] != labels[i] ? 1 : 0;
      }
      assertEquals(
          Math.round(fraction * labels.length), changed, "every replaced label is another class");
      assertArrayEquals(
          noisy, DataSet.noisyLabels(labels, fraction, 7), "the seed fixes the noise");
      assertNotEquals(
          java.util.Arrays.toString(noisy),
          java.util.Arrays.toString(DataSet.noisyLabels(labels, fraction, 8)),
          "another seed, other labels");
    }
    assertArrayEquals(labels, DataSet.noisyLabels(labels, 0, 7));
    assertThrows(IllegalArgumentException.class, () -> DataSet.noisyLabels(labels, 1.5, 7));
  }

  @Test
  void noisyRunsTrainOnNoisyLabelsAndValidateOnCleanOnes() {
    long[] valBefore = labels(data.val().labels());
    long[] trainBefore = labels(data.train().labels());
    DataSet.Split noisy = data.trainWithLabelNoise(0.4, 3);
    try {
      long[] noisyLabels = labels(noisy.labels());
      int changed = 0;
      for (int i = 0; i < trainBefore.length; i++) {
        changed += noisyLabels[i] != trainBefore[i] ? 1 : 0;
      }
      assertEquals(Math.round(0.4 * trainBefore.length), changed);
    } finally {
      noisy.labels().close();
    }
    TrainingRun.Settings clean = new TrainingRun.Settings(Model.MLP, 2, 3, 2, 0.9);
    TrainingRun.Spec spec = new TrainingRun.Spec(OptimizerKind.ADAM, 1e-3, 64);
    TrainingRun.Result cleanRun = TrainingRun.run(spec, clean, data, true);
    TrainingRun.Result noisyRun = TrainingRun.run(spec, clean.withLabelNoise(0.4), data, true);
    assertEquals(cleanRun.steps(), noisyRun.steps());
    assertNotEquals(
        cleanRun.valAccuracy(), noisyRun.valAccuracy(), "the noise changed what was learned");
    assertTrue(
        noisyRun.trainAccuracy() < cleanRun.trainAccuracy(),
        "training accuracy is against the noisy labels: "
            + noisyRun.trainAccuracy()
            + " vs "
            + cleanRun.trainAccuracy());
    assertArrayEquals(valBefore, labels(data.val().labels()), "validation labels stay clean");
    assertArrayEquals(
        trainBefore, labels(data.train().labels()), "the data set's own labels stay clean");
  }

  @Test
  void theDeepNetworkIsTenPlainLinearLayers() {
    torch.manual_seed(1);
    Model.Net net = Model.DEEP.create();
    try {
      List<Module> children = List.of(net.children().get());
      assertEquals(Model.DEEP_LAYERS, children.size(), "ten modules, no normalisation among them");
      Model.DeepMlp deep = (Model.DeepMlp) net;
      assertEquals(Model.DEEP_LAYERS, deep.linear.length);
      for (LinearImpl layer : deep.linear) {
        assertTrue(
            children.stream().anyMatch(m -> m.address() == layer.address()),
            "each child is a linear layer");
      }
      assertEquals(
          2L * Model.DEEP_LAYERS,
          net.parameters().size(),
          "a weight and a bias per layer, nothing else");
      try (PointerScope scope = new PointerScope()) {
        Tensor out = net.forward(data.val().images().narrow(0, 0, 5));
        assertArrayEquals(new long[] {5, 10}, out.sizes().vec().get());
      }
    } finally {
      net.close();
    }
    // Both optimizers train it through the runs of the full run; a failure is named, never thrown.
    TrainingRun.Settings settings = new TrainingRun.Settings(Model.DEEP, 1, 1, 2, 0.9);
    for (OptimizerKind kind : OptimizerKind.values()) {
      TrainingRun.Result r =
          TrainingRun.run(new TrainingRun.Spec(kind, kind.defaultLr(), 64), settings, data, false);
      assertEquals(4, r.steps());
      assertTrue(
          r.failure() == null || r.failure().equals("diverged") || r.failure().equals("at chance"),
          r.failure());
    }
  }

  @Test
  void variantsAndEarlyAccuracy() {
    TrainingRun.Settings settings = new TrainingRun.Settings(Model.MLP, 1, 2, 2, 0.9, 0, 0.25);
    TrainingRun.Result each4 =
        TrainingRun.run(
            new TrainingRun.Spec(OptimizerKind.ADAHESSIAN, 0.15, 64, 4, 1), settings, data, true);
    TrainingRun.Result quarter =
        TrainingRun.run(
            new TrainingRun.Spec(OptimizerKind.ADAHESSIAN, 0.15, 64, 1, 4), settings, data, true);
    TrainingRun.Result plain =
        TrainingRun.run(
            new TrainingRun.Spec(OptimizerKind.ADAHESSIAN, 0.15, 64), settings, data, true);
    for (TrainingRun.Result r : List.of(each4, quarter, plain)) {
      assertEquals(4, r.steps());
      assertTrue(
          r.earlyValAccuracy() >= 0 && r.earlyValAccuracy() <= 1,
          "early accuracy " + r.earlyValAccuracy());
      assertNull(r.curvature(), "no Hessian analysis was asked for");
    }
    assertNotEquals(
        plain.valAccuracy(),
        quarter.valAccuracy(),
        "the Hessian from a quarter of the batch differs");
    assertEquals("AdaHessian updateEach 4", each4.spec().optimizerLabel());
    assertEquals("AdaHessian Hessian 1/4 batch", quarter.spec().optimizerLabel());
    assertEquals(
        "AdaHessian updateEach 4 warm-up 2",
        new TrainingRun.Spec(OptimizerKind.ADAHESSIAN, 0.15, 64, 4, 1, 2).optimizerLabel());
    assertThrows(
        IllegalArgumentException.class,
        () -> new TrainingRun.Spec(OptimizerKind.ADAM, 1e-3, 64, 2, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new TrainingRun.Spec(OptimizerKind.ADAM, 1e-3, 64, 1, 1, 5));
    double[] ms =
        TrainingRun.interleavedMsPerStep(
            List.of(
                new TrainingRun.Spec(OptimizerKind.ADAM, 1e-3, 64),
                new TrainingRun.Spec(OptimizerKind.ADAHESSIAN, 0.15, 64)),
            settings,
            data,
            3,
            2,
            null);
    assertEquals(2, ms.length);
    assertTrue(ms[0] > 0 && ms[1] > 0);
  }

  @Test
  void theHessianHookReachesTheRunsFinalWeights() {
    double[] seen = new double[2];
    HessianAnalysis fake =
        (net, train, seed) -> {
          assertEquals(data.train().size(), train.size());
          seen[0] = seed;
          seen[1] = net.parameters().size();
          return new HessianAnalysis.Curvature(12.5, 340);
        };
    TrainingRun.Result r =
        TrainingRun.run(
            new TrainingRun.Spec(OptimizerKind.ADAM, 1e-3, 64),
            new TrainingRun.Settings(Model.MLP, 1, 5, 2, 0.9),
            data,
            false,
            null,
            fake);
    assertNotNull(r.curvature());
    assertEquals(12.5, r.curvature().topEigenvalue());
    assertEquals(5, seen[0]);
    assertEquals(4, seen[1]);
    assertNull(HessianAnalysis.OFF.analyse(null, null, 0));
  }

  @Test
  void theLibrarysCurvatureIsThatOfTheFirstImagesWhateverTheChunks() {
    torch.manual_seed(3);
    Model.Net net = Model.MLP.create();
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.TensorVector params = net.parameters();
      List<Tensor> before = new java.util.ArrayList<>();
      for (long i = 0; i < params.size(); i++) {
        before.add(params.get(i).clone());
      }
      // 250 images in closures of 64, 64, 64 and 58, weighted by size: the Hessian of the mean.
      HessianAnalysis.Curvature chunked =
          HessianAnalysis.library(250, 64, "images").analyse(net, data.train(), 11);
      Tensor x = data.train().images().narrow(0, 0, 250);
      Tensor y = data.train().labels().narrow(0, 0, 250);
      try (io.github.adahessian4j.HessianAnalysis h =
          io.github.adahessian4j.HessianAnalysis.builder()
              .module(net)
              .loss(() -> torch.cross_entropy_loss(net.forward(x), y))
              .seed(11)
              .build()) {
        double top = h.topEigenvalues(HessianAnalysis.TOP).eigenvalues()[0];
        double trace = h.trace(HessianAnalysis.TRACE).trace();
        assertTrue(top > 0, "top eigenvalue " + top);
        assertEquals(top, chunked.topEigenvalue(), 1e-4 * top);
        assertEquals(trace, chunked.trace(), 1e-4 * Math.abs(trace));
      }
      for (int i = 0; i < before.size(); i++) {
        assertTrue(torch.equal(before.get(i), params.get(i)), "parameter " + i + " unchanged");
      }
    } finally {
      net.close();
    }
  }

  private static long[] labels(Tensor t) {
    long[] out = new long[(int) t.numel()];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.get(i).item_long();
    }
    return out;
  }
}
