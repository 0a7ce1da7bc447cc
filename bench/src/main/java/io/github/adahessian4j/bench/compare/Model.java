package io.github.adahessian4j.bench.compare;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The models of the comparison (and of the benchmarks): for 28x28 single-channel images the MLP and
 * the CNN, and the deeper plain network of the full run's depth claim; for text the {@link
 * TransformerLm} language model at 2, 4 and 8 blocks ({@link #transformer(int)}).
 */
public enum Model {
  MLP("MLP 784-256-10 (ReLU)") {
    @Override
    Net create() {
      return new Mlp();
    }
  },
  CNN(
      "CNN conv3x3(1->16)-ReLU-maxpool2, conv3x3(16->32)-ReLU-maxpool2, linear 1568->10 (padding 1)") {
    @Override
    Net create() {
      return new SmallCnn();
    }
  },
  /**
   * A deeper plain network for the depth claim: 10 linear layers, 784-128 (x9)-10, ReLU between
   * them, no normalisation, no residual connections, libtorch's default initialisation.
   */
  DEEP("plain MLP, 10 linear layers 784-128x9-10 (ReLU; no normalisation, no residuals)") {
    @Override
    Net create() {
      return new DeepMlp(DEEP_LAYERS, DEEP_WIDTH);
    }
  },
  TRANSFORMER(TransformerLm.describe(2)) {
    @Override
    Net create() {
      return new TransformerLm(2);
    }
  },
  TRANSFORMER_4(TransformerLm.describe(4)) {
    @Override
    Net create() {
      return new TransformerLm(4);
    }
  },
  TRANSFORMER_8(TransformerLm.describe(8)) {
    @Override
    Net create() {
      return new TransformerLm(8);
    }
  };

  /**
   * The block counts of {@link #TRANSFORMER}, {@link #TRANSFORMER_4} and {@link #TRANSFORMER_8}.
   */
  static final int[] TRANSFORMER_BLOCKS = {2, 4, 8};

  /** Linear layers of {@link #DEEP}. */
  static final int DEEP_LAYERS = 10;

  /** Width of {@link #DEEP}'s hidden layers. */
  static final int DEEP_WIDTH = 128;

  private final String description;

  Model(String description) {
    this.description = description;
  }

  /** A freshly initialised network; its weights come from libtorch's global generator. */
  abstract Net create();

  public String description() {
    return description;
  }

  /** Whether the model is the language model, trained on text rather than images. */
  boolean languageModel() {
    return this == TRANSFORMER || this == TRANSFORMER_4 || this == TRANSFORMER_8;
  }

  /**
   * The language model with {@code blocks} blocks: --model transformer --blocks N.
   *
   * @throws IllegalArgumentException unless {@code blocks} is 2, 4 or 8
   */
  static Model transformer(int blocks) {
    return switch (blocks) {
      case 2 -> TRANSFORMER;
      case 4 -> TRANSFORMER_4;
      case 8 -> TRANSFORMER_8;
      default ->
          throw new IllegalArgumentException(
              "Invalid number of transformer blocks: " + blocks + " (2, 4 or 8)");
    };
  }

  /**
   * A module with a forward pass to logits with the classes in dimension 1, as {@code
   * cross_entropy_loss} takes them: from images {@code [n, 1, 28, 28]} to {@code [n, 10]}, or (the
   * language model) from tokens {@code [n, length]} to {@code [n, vocab, length]}.
   */
  abstract static class Net extends Module {
    abstract Tensor forward(Tensor input);
  }

  private static final class Mlp extends Net {
    final LinearImpl hidden = register_module("hidden", new LinearImpl(28 * 28, 256));
    final LinearImpl out = register_module("out", new LinearImpl(256, 10));

    @Override
    Tensor forward(Tensor images) {
      return out.forward(torch.relu(hidden.forward(torch.flatten(images, 1, -1))));
    }
  }

  /**
   * {@code layers} linear layers, {@code width} wide, ReLU between them: nothing that helps depth.
   */
  static final class DeepMlp extends Net {
    final LinearImpl[] linear;

    DeepMlp(int layers, int width) {
      linear = new LinearImpl[layers];
      for (int i = 0; i < layers; i++) {
        long in = i == 0 ? 28 * 28 : width;
        long out = i == layers - 1 ? 10 : width;
        linear[i] = register_module("linear" + i, new LinearImpl(in, out));
      }
    }

    @Override
    Tensor forward(Tensor images) {
      Tensor h = torch.flatten(images, 1, -1);
      for (int i = 0; i < linear.length; i++) {
        h = linear[i].forward(h);
        if (i < linear.length - 1) {
          h = torch.relu(h);
        }
      }
      return h;
    }
  }

  private static final class SmallCnn extends Net {
    final Conv2dImpl conv1 = register_module("conv1", new Conv2dImpl(conv3x3(1, 16)));
    final Conv2dImpl conv2 = register_module("conv2", new Conv2dImpl(conv3x3(16, 32)));
    final LinearImpl out = register_module("out", new LinearImpl(32 * 7 * 7, 10));

    @Override
    Tensor forward(Tensor images) {
      Tensor h = torch.max_pool2d(torch.relu(conv1.forward(images)), 2, 2);
      h = torch.max_pool2d(torch.relu(conv2.forward(h)), 2, 2);
      return out.forward(torch.flatten(h, 1, -1));
    }

    private static Conv2dOptions conv3x3(long in, long out) {
      Conv2dOptions options = new Conv2dOptions(in, out, new LongPointer(3L, 3L));
      options.padding().put(new LongPointer(1L, 1L));
      return options;
    }
  }
}
