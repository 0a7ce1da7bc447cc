package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.Optimizer;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The CIFAR-style ResNet of {@code --model resnet}: its layers, shapes and parameter count against
 * the paper's recipe counted here layer by layer, BatchNorm's modes in evaluation, and one step of
 * each optimizer.
 */
class ResNetModelTest {
  /**
   * Parameters of He et al.'s CIFAR ResNet with n blocks per stage on one input channel, counted
   * from the recipe: conv3x3 1->16 without bias and its BatchNorm (weight and bias); per stage of
   * width c, n blocks of two 3x3 convolutions (the first block's first one from the previous width)
   * and two BatchNorms; the option-A shortcuts have none; linear 64->10 with bias.
   */
  private static long paperCount(int n) {
    long count = 9L * 1 * 16 + 2 * 16;
    int in = 16;
    for (int width : new int[] {16, 32, 64}) {
      for (int b = 0; b < n; b++) {
        count += 9L * in * width + 9L * width * width + 2 * 2 * width;
        in = width;
      }
    }
    return count + 64 * 10 + 10;
  }

  @Test
  void depthsEightTwentyAndThirtyTwoHaveThePapersLayersShapesAndParameters() {
    // The paper's ResNet-20 has 0.27M parameters on 3 input channels (269,722); one channel saves
    // 2 x 16 x 9 of the first convolution's.
    assertEquals(269_722 - 2 * 16 * 9, paperCount(3));
    for (int depth : new int[] {8, 20, 32}) {
      int n = (depth - 2) / 6;
      torch.manual_seed(1);
      Model.ResNet net = (Model.ResNet) Model.of("resnet", depth).create();
      try (PointerScope scope = new PointerScope()) {
        List<Tensor> params = Arrays.asList(net.parameters().get());
        assertEquals(
            paperCount(n),
            params.stream().mapToLong(Tensor::numel).sum(),
            "ResNet-" + depth + " parameter count");
        long weighted = params.stream().filter(p -> p.dim() >= 2).count();
        assertEquals(depth, weighted, "6n+2 layers with weights (convolutions and the linear)");
        assertEquals(3 * n, net.blocks.length);
        // buffers: BatchNorm's running mean, running variance, batches seen
        assertEquals(3L * (1 + 6 * n), net.buffers().size(), "2 BatchNorms per block + the stem");

        Tensor x = torch.randn(3, 1, 28, 28);
        Tensor h = torch.relu(net.stemNorm.forward(net.stem.forward(x)));
        assertArrayEquals(new long[] {3, 16, 28, 28}, h.sizes().vec().get());
        long[][] stageShapes = {{3, 16, 28, 28}, {3, 32, 14, 14}, {3, 64, 7, 7}};
        for (int b = 0; b < net.blocks.length; b++) {
          h = net.blocks[b].forward(h);
          assertArrayEquals(
              stageShapes[b / n], h.sizes().vec().get(), "ResNet-" + depth + " block " + b);
        }
        assertArrayEquals(new long[] {3, 10}, net.forward(x).sizes().vec().get());
      } finally {
        net.close();
      }
    }
    assertEquals("ResNet-32", Model.of("resnet32", 20).name(), "resnetN names the depth");
    assertEquals(Model.of("resnet", 14), Model.of("ResNet-14", 20));
    for (int bad : new int[] {0, 2, 7, 10, 21}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Model.of("resnet", bad));
      assertTrue(e.getMessage().contains("6n+2"), e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Model.of("resnet-x", 20));
    assertTrue(e.getMessage().contains("unknown model 'resnet-x'"), e.getMessage());
  }

  @Test
  void theShortcutOfAStageStartIsTheSubsampledInputZeroPadded() {
    torch.manual_seed(2);
    Model.Block block = new Model.Block(16, 32, 2);
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      // With the residual branch's last BatchNorm scaled to zero, the block is ReLU(shortcut).
      block.bn2.weight().zero_();
      Tensor x = torch.relu(torch.randn(2, 16, 28, 28));
      Tensor y = block.forward(x);
      assertArrayEquals(new long[] {2, 32, 14, 14}, y.sizes().vec().get());
      for (int c = 0; c < 32; c++) {
        Tensor channel = y.select(1, c);
        if (c < 8 || c >= 24) {
          assertEquals(0, channel.abs().max().item_double(), "padded channel " + c);
        } else {
          for (int i = 0; i < 14; i++) {
            for (int j = 0; j < 14; j++) {
              assertEquals(
                  x.select(1, c - 8).select(1, 2 * i).select(1, 2 * j).select(0, 1).item_double(),
                  channel.select(1, i).select(1, j).select(0, 1).item_double(),
                  "channel " + c + " at " + i + "," + j);
            }
          }
        }
      }
    } finally {
      block.close();
    }
  }

  /**
   * Evaluation frees each chunk's tensors before the next chunk: a model written in Java hands
   * every activation to Java, and a scope over the whole split kept them all (the ResNet's short
   * claims plan ran out of memory evaluating 4,096 training images).
   */
  @Test
  void evaluationFreesEachChunkBeforeTheNext() throws Exception {
    List<Tensor> outputs = new java.util.ArrayList<>(); // extra handles, kept past their scope
    List<Long> stillHeld = new java.util.ArrayList<>();
    Model.Net probe =
        new Model.Net() {
          @Override
          Tensor forward(Tensor images) {
            for (Tensor earlier : outputs) {
              stillHeld.add(earlier.use_count() - 1); // 0 once evaluate's own handle is freed
            }
            Tensor logits = torch.zeros(images.size(0), 10);
            Tensor mine = new Tensor(logits);
            mine.retainReference();
            outputs.add(mine);
            return logits;
          }
        };
    try (DataSet data = DataSet.load("synthetic", null, 1000, 50)) {
      TrainingRun.evaluate(probe, data.train());
    } finally {
      outputs.forEach(Tensor::releaseReference);
      probe.close();
    }
    assertEquals(4, outputs.size(), "1000 images in chunks of 250");
    assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L), stillHeld, "handles to earlier chunks' logits");
  }

  /**
   * Evaluation runs in BatchNorm's evaluation mode: its running statistics stay as they are, a
   * batch's prediction does not depend on the other images, and the net trains again afterwards.
   */
  @Test
  void evaluationUsesRunningStatisticsAndTrainingResumes() throws Exception {
    try (DataSet data = DataSet.load("synthetic", null, 256, 50)) {
      torch.manual_seed(3);
      Model.ResNet net = (Model.ResNet) Model.resnet(8).create();
      try (PointerScope scope = new PointerScope()) {
        // move the running statistics away from their initial 0 and 1
        torch
            .cross_entropy_loss(
                net.forward(data.train().images().narrow(0, 0, 64)),
                data.train().labels().narrow(0, 0, 64))
            .item_double();
        Tensor mean = net.stemNorm.running_mean().clone();
        double[] measured = TrainingRun.evaluate(net, data.val());
        assertTrue(net.is_training(), "training mode again after evaluation");
        assertTrue(torch.equal(mean, net.stemNorm.running_mean()), "running statistics left alone");

        net.train(false);
        Tensor logits;
        try (NoGradGuard noGrad = new NoGradGuard()) {
          logits = net.forward(data.val().images());
          Tensor single = net.forward(data.val().images().narrow(0, 0, 1));
          assertTrue(
              torch.allclose(single, logits.narrow(0, 0, 1), 1e-5, 1e-5, false),
              "an image's logits do not depend on its batch in evaluation mode");
        }
        net.train(true);
        double loss = torch.cross_entropy_loss(logits, data.val().labels()).item_double();
        double accuracy =
            torch
                .argmax(logits, new LongOptional(1), false)
                .eq(data.val().labels())
                .to(torch.ScalarType.Double)
                .mean()
                .item_double();
        assertEquals(loss, measured[0], 1e-5 * Math.abs(loss));
        assertEquals(accuracy, measured[1], 1e-12);
        double trainingModeLoss;
        try (NoGradGuard noGrad = new NoGradGuard()) {
          trainingModeLoss =
              torch
                  .cross_entropy_loss(net.forward(data.val().images()), data.val().labels())
                  .item_double();
        }
        assertNotEquals(loss, trainingModeLoss, "the two modes differ on this net");
      } finally {
        net.close();
      }
    }
  }

  @Test
  void adamAndAdaHessianEachTakeAStep() throws Exception {
    try (DataSet data = DataSet.load("synthetic", null, 64, 16)) {
      Tensor x = data.train().images();
      Tensor y = data.train().labels();
      for (OptimizerKind kind : OptimizerKind.values()) {
        torch.manual_seed(4);
        Model.Net net = Model.resnet(8).create();
        try (PointerScope scope = new PointerScope();
            Optimizer opt = kind.create(Model.resnet(8), net, kind.defaultLr(), 1, 1, 0)) {
          List<Tensor> before = Arrays.stream(net.parameters().get()).map(Tensor::clone).toList();
          Tensor runningVar = ((Model.ResNet) net).stemNorm.running_var().clone();
          double loss = opt.step(() -> torch.cross_entropy_loss(net.forward(x), y)).item_double();
          assertTrue(Double.isFinite(loss), kind + ": loss " + loss);
          List<Tensor> after = Arrays.asList(net.parameters().get());
          for (int i = 0; i < after.size(); i++) {
            assertTrue(torch.isfinite(after.get(i)).all().item_bool(), kind + " param " + i);
            assertFalse(torch.equal(before.get(i), after.get(i)), kind + ": param " + i + " moved");
          }
          assertFalse(
              torch.equal(runningVar, ((Model.ResNet) net).stemNorm.running_var()),
              kind + ": the step's forward updated BatchNorm's running statistics");
          assertEquals(1, opt.lastStepStats().step());
        } finally {
          net.close();
        }
      }
    }
  }
}
