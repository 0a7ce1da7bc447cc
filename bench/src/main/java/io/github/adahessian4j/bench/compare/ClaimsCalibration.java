package io.github.adahessian4j.bench.compare;

import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAHESSIAN;
import static io.github.adahessian4j.bench.compare.OptimizerKind.ADAM;

import io.github.adahessian4j.bench.compare.Claims.Arm;
import io.github.adahessian4j.bench.compare.Claims.Plan;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Measured costs that the progress bar's estimates start from; also warms up every path of the plan
 * (its arms, and the depth claim's networks when the plan has claim 8). {@code seconds}: how long
 * the calibration took.
 */
record ClaimsCalibration(
    Model model,
    Map<Arm, Double> msPerStep,
    Map<Model, Map<OptimizerKind, Double>> deepMsPerStep,
    double evalMs,
    Map<Model, Double> deepEvalMs,
    double trainEvalMs,
    double probeMs,
    double seconds) {
  double ms(Arm arm) {
    return msPerStep.get(arm);
  }

  /** Milliseconds per step of {@code kind} on a network of the depth claim. */
  double deepMs(Model deep, OptimizerKind kind) {
    return deepMsPerStep.get(deep).get(kind);
  }

  double deepEvalMs(Model deep) {
    return deepEvalMs.get(deep);
  }

  static ClaimsCalibration measure(Plan plan, DataSet data) {
    long began = System.nanoTime();
    Protocol p = plan.protocol();
    TrainingRun.Settings settings = plan.mainSettings(0);
    List<Arm> arms = plan.arms();
    double[] ms =
        TrainingRun.interleavedMsPerStep(
            arms.stream().map(a -> a.spec(p.defaultLr(a.kind), p.batch())).toList(),
            settings,
            data,
            2,
            8,
            null);
    Map<Arm, Double> perArm = new EnumMap<>(Arm.class);
    for (int k = 0; k < arms.size(); k++) {
      perArm.put(arms.get(k), ms[k]);
    }
    Map<Model, Map<OptimizerKind, Double>> perDeep = new HashMap<>();
    Map<Model, Double> deepEvalMs = new HashMap<>();
    for (Model model : plan.has(8) ? plan.deepModels() : List.<Model>of()) {
      double[] deepMs =
          TrainingRun.interleavedMsPerStep(
              List.of(
                  new TrainingRun.Spec(ADAM, p.adamLr(), p.batch()),
                  new TrainingRun.Spec(ADAHESSIAN, p.adaHessianLr(), p.batch())),
              settings.withModel(model),
              data,
              2,
              8,
              null);
      Map<OptimizerKind, Double> perKind = new EnumMap<>(OptimizerKind.class);
      perKind.put(ADAM, deepMs[0]);
      perKind.put(ADAHESSIAN, deepMs[1]);
      perDeep.put(model, perKind);
      deepEvalMs.put(model, evalMs(model, data));
    }
    double evalMs = evalMs(p.model(), data);
    double trainEvalMs = evalMs * data.train().size() / Math.max(1, data.val().size());
    // A memory probe starts a JVM, loads the data and trains 20 steps.
    double probeMs = 4000 + 2 * trainEvalMs + MemoryProbe.STEPS * perArm.get(Arm.ADAHESSIAN_ARM);
    return new ClaimsCalibration(
        p.model(),
        perArm,
        perDeep,
        evalMs,
        deepEvalMs,
        trainEvalMs,
        probeMs,
        (System.nanoTime() - began) / 1e9);
  }

  private static double evalMs(Model model, DataSet data) {
    Model.Net net = model.create();
    try {
      TrainingRun.evaluate(net, data.val());
      long began = System.nanoTime();
      TrainingRun.evaluate(net, data.val());
      return (System.nanoTime() - began) / 1e6;
    } finally {
      net.close();
    }
  }
}
