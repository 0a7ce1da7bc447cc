package io.github.adahessian4j.bench.compare;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.DropoutImpl;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LayerNormImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A small causal transformer language model over {@link TextCorpus}'s characters: token embedding
 * plus learned positions, {@code blocks} pre-LayerNorm blocks (causal multi-head attention through
 * libtorch's {@code scaled_dot_product_attention}, then a GELU MLP, each a residual branch ending
 * in dropout), a final LayerNorm, and the output projection tied to the token embedding (no bias).
 *
 * <p>{@link #forward} takes tokens {@code [n, length]} (int64, {@code length <= }{@value #CONTEXT})
 * and returns the next-token logits as {@code [n, vocab, length]}: the classes in dimension 1, as
 * {@code cross_entropy_loss} takes them with targets {@code [n, length]}. {@link #logits} gives
 * them as {@code [n, length, vocab]}.
 */
final class TransformerLm extends Model.Net {
  /** Positions, and the length of the training windows. */
  static final int CONTEXT = 64;

  static final int WIDTH = 64;
  static final int HEADS = 4;
  static final int MLP_WIDTH = 4 * WIDTH;
  static final double DROPOUT = 0.1;

  /** GPT-2's initial standard deviation of the embeddings (libtorch's default is 1). */
  private static final double EMBEDDING_STD = 0.02;

  private final EmbeddingImpl tokens;
  private final EmbeddingImpl positions;
  private final Block[] blocks;
  private final LayerNormImpl norm;
  private final DropoutImpl dropout;

  TransformerLm(int blocks) {
    if (blocks < 1) {
      throw new IllegalArgumentException("Invalid number of blocks: " + blocks);
    }
    tokens = register_module("tokens", new EmbeddingImpl(TextCorpus.VOCAB, WIDTH));
    positions = register_module("positions", new EmbeddingImpl(CONTEXT, WIDTH));
    try (NoGradGuard noGrad = new NoGradGuard()) {
      tokens.weight().normal_(0, EMBEDDING_STD, null);
      positions.weight().normal_(0, EMBEDDING_STD, null);
    }
    dropout = register_module("dropout", new DropoutImpl(DROPOUT));
    this.blocks = new Block[blocks];
    for (int i = 0; i < blocks; i++) {
      this.blocks[i] = register_module("block" + i, new Block());
    }
    norm = register_module("norm", new LayerNormImpl(new LongVector(new long[] {WIDTH})));
  }

  int blocks() {
    return blocks.length;
  }

  /** What {@link Model} says of the model with {@code blocks} blocks. */
  static String describe(int blocks) {
    return String.format(
        java.util.Locale.ROOT,
        "causal transformer LM: %d chars, embedding %d + learned positions, %d pre-LayerNorm blocks "
            + "(causal SDPA, %d heads; GELU MLP %d), dropout %s, output tied to the embedding",
        TextCorpus.VOCAB,
        WIDTH,
        blocks,
        HEADS,
        MLP_WIDTH,
        DROPOUT);
  }

  @Override
  Tensor forward(Tensor tokens) {
    return logits(tokens).transpose(1, 2);
  }

  /**
   * Next-token logits {@code [n, length, vocab]}.
   *
   * @throws IllegalArgumentException if {@code input} is not int64 {@code [n, length]} with {@code
   *     1 <= length <= }{@value #CONTEXT} and tokens in {@code [0, vocab)}
   */
  Tensor logits(Tensor input) {
    check(input);
    long n = input.size(0);
    long length = input.size(1);
    Tensor h =
        torch.add(tokens.forward(input), positions.forward(torch.arange(new Scalar(length))));
    h = dropout.forward(h);
    for (Block block : blocks) {
      h = block.forward(h, n, length);
    }
    return torch.matmul(norm.forward(h), tokens.weight().t());
  }

  private static void check(Tensor input) {
    if (input.dim() != 2 || input.scalar_type().value != torch.ScalarType.Long.value) {
      throw new IllegalArgumentException(
          "The language model takes int64 tokens [batch, length], not "
              + input.scalar_type()
              + " of shape "
              + shape(input));
    }
    long length = input.size(1);
    if (length < 1 || length > CONTEXT) {
      throw new IllegalArgumentException(
          "A sequence of "
              + length
              + " tokens does not fit the language model's "
              + CONTEXT
              + " positions: cut it into windows of at most "
              + CONTEXT);
    }
    if (input.numel() > 0) {
      long min = input.min().item_long();
      long max = input.max().item_long();
      if (min < 0 || max >= TextCorpus.VOCAB) {
        throw new IllegalArgumentException(
            "Token "
                + (min < 0 ? min : max)
                + " is outside the language model's vocabulary [0, "
                + TextCorpus.VOCAB
                + ")");
      }
    }
  }

  private static String shape(Tensor t) {
    StringBuilder shape = new StringBuilder("[");
    for (int i = 0; i < t.dim(); i++) {
      shape.append(i > 0 ? ", " : "").append(t.size(i));
    }
    return shape.append(']').toString();
  }

  /** Pre-LayerNorm: {@code h + drop(attention(norm1(h)))}, then {@code + drop(mlp(norm2(h)))}. */
  private static final class Block extends Module {
    final LayerNormImpl norm1 =
        register_module("norm1", new LayerNormImpl(new LongVector(new long[] {WIDTH})));
    final LinearImpl qkv = register_module("qkv", new LinearImpl(WIDTH, 3 * WIDTH));
    final LinearImpl projection = register_module("projection", new LinearImpl(WIDTH, WIDTH));
    final LayerNormImpl norm2 =
        register_module("norm2", new LayerNormImpl(new LongVector(new long[] {WIDTH})));
    final LinearImpl up = register_module("up", new LinearImpl(WIDTH, MLP_WIDTH));
    final LinearImpl down = register_module("down", new LinearImpl(MLP_WIDTH, WIDTH));
    final DropoutImpl dropout = register_module("dropout", new DropoutImpl(DROPOUT));

    Tensor forward(Tensor h, long n, long length) {
      // [n, length, 3 * width] -> three [n, heads, length, width / heads]
      Tensor qkvs =
          qkv.forward(norm1.forward(h))
              .view(n, length, 3, HEADS, WIDTH / HEADS)
              .permute(2, 0, 3, 1, 4);
      Tensor attended =
          torch.scaled_dot_product_attention(
              qkvs.select(0, 0),
              qkvs.select(0, 1),
              qkvs.select(0, 2),
              new TensorOptional(),
              0.0,
              true,
              new DoubleOptional(),
              false);
      Tensor merged = attended.transpose(1, 2).reshape(n, length, WIDTH);
      h = torch.add(h, dropout.forward(projection.forward(merged)));
      Tensor mlp = down.forward(torch.gelu(up.forward(norm2.forward(h))));
      return torch.add(h, dropout.forward(mlp));
    }
  }
}
