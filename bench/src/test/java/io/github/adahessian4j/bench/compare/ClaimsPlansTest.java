package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.bench.BenchCli;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * {@code compare --full --plan short} and {@code --claims}: which options a plan sets, that the
 * command line wins over it, which claims and runs the plan holds, and the bad values refused. Only
 * parses and lays out; nothing is trained.
 */
class ClaimsPlansTest {
  /** The compare command parsed from {@code args} and resolved as a run would be. */
  private static Compare resolved(String... args) {
    CommandLine.ParseResult parsed = BenchCli.commandLine().parseArgs(args);
    Compare compare = (Compare) parsed.subcommand().commandSpec().userObject();
    compare.resolve();
    return compare;
  }

  /** The plan a run of {@code compare} would follow (the data's sizes as asked for). */
  private static Claims.Plan plan(Compare c) {
    return c.plan(
        new Protocol(
            c.dataset,
            "test",
            c.trainSize,
            c.valSize,
            0,
            1,
            c.model,
            c.seed,
            c.epochs,
            c.batch,
            c.batchSizes,
            c.adamLr,
            c.adaHessianLr,
            c.target != null ? c.target / 100 : 0.8,
            c.evalsPerEpoch,
            1));
  }

  @Test
  void theShortResNetPlanReducesSeedsDataGridsAndClaims() {
    Compare c = resolved("compare", "--full", "--plan", "short", "--model", "resnet");
    assertEquals("ResNet-20", c.model.name());
    assertEquals("fashion", c.dataset);
    assertEquals(4096, c.trainSize);
    assertEquals(1000, c.valSize);
    assertEquals(2, c.epochs);
    assertEquals(50.0, c.target.doubleValue());
    assertEquals(3, c.seeds);
    assertEquals(3, c.variantSeeds);
    assertEquals(3, c.memorySeeds.intValue());
    assertArrayEquals(new double[] {0.1, 1, 10}, c.lrFactors);
    assertEquals(3, c.timingRounds);
    assertEquals(4, c.timingSteps);
    Claims.Plan plan = plan(c);
    assertEquals(Set.of(1, 2, 3, 4, 5, 6, 8), plan.claims());
    assertEquals(List.of(Model.DEEP, Model.resnet(8), Model.resnet(32)), plan.deepModels());
    assertEquals(
        List.of(Claims.Arm.ADAM_ARM, Claims.Arm.ADAHESSIAN_ARM),
        plan.arms(),
        "no cheaper variants without claim 11");
    String lines = CompareFullRun.planLines(plan);
    assertTrue(
        lines.contains(
            "left out: 7 (batch size), 9 (label noise), 10 (flatter minima), 11 (cheaper variants)"),
        lines);
    assertTrue(lines.contains("plan short sets --dataset fashion --train-size 4096"), lines);
    assertTrue(plan.toJson().contains("\"claims\": [1, 2, 3, 4, 5, 6, 8]"), plan.toJson());
    assertTrue(
        c.outputDir().getFileName().toString().endsWith("-full-short-resnet-20"),
        "a named plan's own folder: " + c.outputDir());
  }

  @Test
  void theDepthClaimLeavesOutTheModelsOwnDepth() {
    Claims.Plan resnet32 =
        plan(resolved("compare", "--full", "--plan", "short", "--model", "resnet32"));
    assertEquals(List.of(Model.DEEP, Model.resnet(8), Model.resnet(20)), resnet32.deepModels());
    Claims.Plan full = plan(resolved("compare", "--full", "--model", "resnet"));
    assertEquals(
        List.of(Model.DEEP, Model.resnet(8), Model.resnet(32)),
        full.deepModels(),
        "the full plan does not train ResNet-20 twice either");
    assertEquals("full", full.name());
    assertEquals(11, full.claims().size());
    assertEquals(Claims.Arm.values().length, full.arms().size());
  }

  @Test
  void theShortTransformerPlanTrainsTheOtherBlockCounts() {
    Compare c = resolved("compare", "--full", "--plan", "short", "--model", "transformer");
    assertEquals("brown", c.dataset);
    assertEquals(6000, c.trainSize);
    assertEquals(64, c.batch);
    assertEquals(500, c.valSize);
    assertEquals(2, c.epochs);
    assertEquals(3, c.seeds);
    Claims.Plan plan = plan(c);
    assertEquals(Set.of(1, 2, 3, 4, 5, 6, 8), plan.claims());
    assertEquals(List.of(Model.TRANSFORMER_4, Model.TRANSFORMER_8), plan.deepModels());
    Claims.Plan four =
        plan(
            resolved(
                "compare", "--full", "--plan", "short", "--model", "transformer", "--blocks", "4"));
    assertEquals(List.of(Model.TRANSFORMER, Model.TRANSFORMER_8), four.deepModels());
  }

  @Test
  void optionsOnTheCommandLineWinOverThePlans() {
    Compare c =
        resolved(
            "compare",
            "--full",
            "--plan",
            "short",
            "--model",
            "resnet",
            "--seeds",
            "5",
            "--claims",
            "1,2,11",
            "--epochs",
            "4",
            "--dataset",
            "mnist");
    assertEquals(5, c.seeds);
    assertEquals(3, c.variantSeeds, "the plan's");
    assertEquals(4, c.epochs);
    assertEquals("mnist", c.dataset);
    assertEquals(4096, c.trainSize, "the plan's");
    Claims.Plan plan = plan(c);
    assertEquals(Set.of(1, 2, 11), plan.claims());
    assertEquals(Claims.Arm.values().length, plan.arms().size(), "claim 11: every variant");
    assertFalse(plan.has(5));
  }

  @Test
  void badPlansAndClaimsAreRefusedByName() {
    ParameterException notFull =
        assertThrows(
            ParameterException.class,
            () -> resolved("compare", "--plan", "short", "--model", "resnet"));
    assertTrue(
        notFull.getMessage().contains("--plan is an option of --full"), notFull.getMessage());
    ParameterException cnn =
        assertThrows(
            ParameterException.class, () -> resolved("compare", "--full", "--plan", "short"));
    assertTrue(
        cnn.getMessage().contains("plan short is sized for --model resnet and --model transformer"),
        cnn.getMessage());
    ParameterException unknown =
        assertThrows(
            ParameterException.class,
            () -> resolved("compare", "--full", "--plan", "tiny", "--model", "resnet"));
    assertTrue(
        unknown.getMessage().contains("unknown plan 'tiny': expected one of full, short"),
        unknown.getMessage());
    for (String claims : List.of("0", "12", "1,2,-3")) {
      ParameterException e =
          assertThrows(
              ParameterException.class,
              () -> resolved("compare", "--full", "--claims", claims),
              claims);
      assertTrue(
          e.getMessage().contains("--claims are numbers from 1 to 11"), claims + e.getMessage());
    }
  }

  @Test
  void depthRowsNameTheirNetworksInWords() {
    assertEquals("deep plain MLP (10 linear layers)", ClaimsTable.depthLabel(Model.DEEP));
    assertEquals("transformer LM, 4 blocks", ClaimsTable.depthLabel(Model.TRANSFORMER_4));
    assertEquals("transformer LM, 8 blocks", ClaimsTable.depthLabel(Model.TRANSFORMER_8));
    assertEquals("ResNet-14", ClaimsTable.depthLabel(Model.resnet(14)));
  }
}
