package io.github.adahessian4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.adahessian4j.AdaHessian;
import io.github.adahessian4j.AdamW;
import io.github.adahessian4j.Optimizer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class TransformerLmTest {
  private static Tensor tokens(long seed, long n, long length) {
    torch.manual_seed(seed);
    return torch.randint(TextCorpus.VOCAB, new long[] {n, length});
  }

  @Test
  void logitsHaveOneScorePerTokenOfTheVocabulary() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(1);
      TransformerLm lm = new TransformerLm(2);
      Tensor x = tokens(2, 3, 10);
      assertArrayEquals(new long[] {3, 10, TextCorpus.VOCAB}, lm.logits(x).sizes().vec().get());
      assertArrayEquals(new long[] {3, TextCorpus.VOCAB, 10}, lm.forward(x).sizes().vec().get());
      assertEquals(2, lm.blocks());
      assertEquals(8, ((TransformerLm) Model.transformer(8).create()).blocks());
    }
  }

  @Test
  void theOutputProjectionIsTheTokenEmbedding() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(1);
      TransformerLm lm = new TransformerLm(2);
      // embedding 96x64 + positions 64x64, per block 2 norms (2x2x64), qkv 192x64+192, projection
      // 64x64+64, MLP 256x64+256 and 64x256+64; final norm 2x64; no separate output weight
      long perBlock = 4 * 64 + 192 * 64 + 192 + 64 * 64 + 64 + 256 * 64 + 256 + 64 * 256 + 64;
      long expected = 96 * 64 + 64 * 64 + 2 * perBlock + 2 * 64;
      long count = 0;
      for (Tensor p : lm.parameters().get()) {
        count += p.numel();
      }
      assertEquals(expected, count);
    }
  }

  /** Changing the token at position 6 changes no logit before it, and some from it on. */
  @Test
  void attentionIsCausal() {
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      torch.manual_seed(1);
      TransformerLm lm = new TransformerLm(2);
      lm.eval();
      Tensor a = tokens(3, 2, 12);
      Tensor b = a.clone();
      b.select(1, 6).fill_(new org.bytedeco.pytorch.Scalar((a.get(0).get(6).item_long() + 1) % 96));
      Tensor la = lm.logits(a);
      Tensor lb = lm.logits(b);
      assertTrue(torch.equal(la.narrow(1, 0, 6), lb.narrow(1, 0, 6)), "positions 0-5 unchanged");
      for (int t = 6; t < 12; t++) {
        assertFalse(
            torch.equal(la.select(1, t), lb.select(1, t)), "position " + t + " sees token 6");
      }
    }
  }

  @Test
  void refusesASequenceLongerThanItsPositionsAndTokensOutsideTheVocabulary() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(1);
      TransformerLm lm = new TransformerLm(2);
      IllegalArgumentException tooLong =
          assertThrows(IllegalArgumentException.class, () -> lm.forward(tokens(1, 2, 65)));
      assertEquals(
          "A sequence of 65 tokens does not fit the language model's 64 positions: cut it into "
              + "windows of at most 64",
          tooLong.getMessage());
      Tensor x = tokens(1, 2, 8);
      x.get(1).get(3).fill_(new org.bytedeco.pytorch.Scalar(96));
      IllegalArgumentException outside =
          assertThrows(IllegalArgumentException.class, () -> lm.forward(x));
      assertEquals(
          "Token 96 is outside the language model's vocabulary [0, 96)", outside.getMessage());
      IllegalArgumentException notTokens =
          assertThrows(IllegalArgumentException.class, () -> lm.forward(torch.zeros(2, 8)));
      assertEquals(
          "The language model takes int64 tokens [batch, length], not Float of shape [2, 8]",
          notTokens.getMessage());
      assertThrows(IllegalArgumentException.class, () -> Model.transformer(3));
    }
  }

  /**
   * One step of each optimizer of the recipe trains through SDPA: AdaHessian differentiates the
   * attention twice (libtorch's flash kernel, which the CPU picks for these shapes, cannot; the
   * library runs the closure with the math kernel), and both change every parameter.
   */
  @Test
  void oneAdaHessianAndOneAdamWStepRunThroughAttention() {
    for (boolean second : new boolean[] {false, true}) {
      try (PointerScope scope = new PointerScope()) {
        torch.manual_seed(4);
        TransformerLm lm = new TransformerLm(2);
        Tensor x = tokens(5, 4, 16);
        Tensor y = tokens(6, 4, 16);
        List<Tensor> before = new ArrayList<>();
        for (Tensor p : lm.parameters().get()) {
          before.add(p.detach().clone());
        }
        try (Optimizer opt =
            second
                ? TransformerRecipe.adaHessian(0.047).seed(1).build(lm.parameters())
                : TransformerRecipe.adamW(lm.parameters(), 1e-3)) {
          assertTrue(second ? opt instanceof AdaHessian : opt instanceof AdamW);
          double loss = opt.step(() -> torch.cross_entropy_loss(lm.forward(x), y)).item_double();
          assertTrue(Math.abs(loss - Math.log(TextCorpus.VOCAB)) < 0.5, "untrained loss " + loss);
        }
        Tensor[] after = lm.parameters().get();
        for (int i = 0; i < after.length; i++) {
          assertFalse(torch.equal(before.get(i), after[i]), "parameter " + i + " changed");
        }
      }
    }
  }
}
