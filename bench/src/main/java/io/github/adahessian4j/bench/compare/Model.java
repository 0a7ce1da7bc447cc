package io.github.adahessian4j.bench.compare;

import io.github.adahessian4j.TorchScriptModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine;

/**
 * The models of the comparison (and of the benchmarks): for 28x28 single-channel images the MLP,
 * the CNN, the deeper plain network of the full run's depth claim, the CIFAR-style ResNet of any
 * depth 6n+2 and a user's TorchScript classifier; for text the {@link TransformerLm} language model
 * at 2, 4 and 8 blocks ({@link #transformer(int)}). {@link #of(String, int)} maps a {@code --model}
 * value to one.
 */
public final class Model {
  /** Linear layers of {@link #DEEP}. */
  static final int DEEP_LAYERS = 10;

  /** Width of {@link #DEEP}'s hidden layers. */
  static final int DEEP_WIDTH = 128;

  /** The ResNet's depth unless {@code --depth} says otherwise (ResNet-20). */
  static final int DEFAULT_DEPTH = 20;

  /** The --model values; {@code resnetN} (for example resnet32) names a depth too. */
  static final String VALUES =
      "mlp, cnn, deep, resnet (--depth), resnetN, transformer, transformer_4, transformer_8, "
          + "torchscript:FILE";

  static final Model MLP =
      new Model("MLP", "MLP 784-256-10 (ReLU)", List.of("--model", "mlp"), Mlp::new);

  static final Model CNN =
      new Model(
          "CNN",
          "CNN conv3x3(1->16)-ReLU-maxpool2, conv3x3(16->32)-ReLU-maxpool2, linear 1568->10 (padding 1)",
          List.of("--model", "cnn"),
          SmallCnn::new);

  /**
   * A deeper plain network for the depth claim: 10 linear layers, 784-128 (x9)-10, ReLU between
   * them, no normalisation, no residual connections, libtorch's default initialisation.
   */
  static final Model DEEP =
      new Model(
          "DEEP",
          "plain MLP, 10 linear layers 784-128x9-10 (ReLU; no normalisation, no residuals)",
          List.of("--model", "deep"),
          () -> new DeepMlp(DEEP_LAYERS, DEEP_WIDTH));

  static final Model TRANSFORMER = transformerOf(2);
  static final Model TRANSFORMER_4 = transformerOf(4);
  static final Model TRANSFORMER_8 = transformerOf(8);

  /**
   * The block counts of {@link #TRANSFORMER}, {@link #TRANSFORMER_4} and {@link #TRANSFORMER_8}.
   */
  static final int[] TRANSFORMER_BLOCKS = {2, 4, 8};

  private final String name;
  private final String description;
  private final List<String> options;
  private final Supplier<Net> factory;
  private final boolean languageModel;
  private final String initialisation;

  /** How the models built in this class start, in the words of {@link #initialisation()}. */
  private static final String LIBTORCH_INIT =
      "libtorch defaults after torch.manual_seed(seed), identical for both optimizers";

  private Model(String name, String description, List<String> options, Supplier<Net> factory) {
    this(name, description, options, factory, false, LIBTORCH_INIT);
  }

  private Model(
      String name,
      String description,
      List<String> options,
      Supplier<Net> factory,
      boolean languageModel,
      String initialisation) {
    this.name = name;
    this.description = description;
    this.options = options;
    this.factory = factory;
    this.languageModel = languageModel;
    this.initialisation = initialisation;
  }

  /**
   * The model a {@code --model} value names ({@link #VALUES}, case-insensitive); {@code depth} is
   * the depth of {@code resnet}.
   *
   * @throws IllegalArgumentException for an unknown value, a depth that is not 6n+2, or a
   *     TorchScript file that cannot be loaded or does not map [n, 1, 28, 28] images to [n, 10]
   *     logits (the message names the file)
   */
  public static Model of(String value, int depth) {
    String v = value.trim();
    String lower = v.toLowerCase(Locale.ROOT);
    if (lower.startsWith("torchscript:")) {
      return torchScript(Path.of(v.substring("torchscript:".length())));
    }
    if (lower.matches("resnet-?\\d+")) {
      return resnet(Integer.parseInt(lower.replaceAll("\\D", "")));
    }
    return switch (lower) {
      case "mlp" -> MLP;
      case "cnn" -> CNN;
      case "deep" -> DEEP;
      case "resnet" -> resnet(depth);
      case "transformer" -> TRANSFORMER;
      case "transformer_4" -> TRANSFORMER_4;
      case "transformer_8" -> TRANSFORMER_8;
      default ->
          throw new IllegalArgumentException(
              "unknown model '" + value + "': expected one of " + VALUES);
    };
  }

  /** Picocli's conversion of a --model value, ResNet at {@link #DEFAULT_DEPTH} unless named. */
  static final class Converter implements CommandLine.ITypeConverter<Model> {
    @Override
    public Model convert(String value) {
      return of(value, DEFAULT_DEPTH);
    }
  }

  private static Model transformerOf(int blocks) {
    return new Model(
        blocks == 2 ? "TRANSFORMER" : "TRANSFORMER_" + blocks,
        TransformerLm.describe(blocks),
        List.of("--model", "transformer", "--blocks", Integer.toString(blocks)),
        () -> new TransformerLm(blocks),
        true,
        "after torch.manual_seed(seed): token and position embeddings N(0, 0.02), the rest "
            + "libtorch defaults; identical for both optimizers");
  }

  /**
   * The CIFAR ResNet of He et al. (2016, section 4.2) for 28x28 single-channel images: {@code
   * depth} = 6n+2 layers with weights.
   *
   * @throws IllegalArgumentException unless depth is 6n+2 with n at least 1
   */
  static Model resnet(int depth) {
    if (depth < 8 || (depth - 2) % 6 != 0) {
      throw new IllegalArgumentException(
          "ResNet depth " + depth + " is not 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...)");
    }
    int blocks = (depth - 2) / 6;
    return new Model(
        "ResNet-" + depth,
        "ResNet-"
            + depth
            + " (He et al. 2016, 4.2): conv3x3(1->16)-BN-ReLU, 3 stages of "
            + blocks
            + " basic blocks (16/32/64 channels, BatchNorm, stride 2 and zero-padded identity"
            + " shortcut at stages 2-3), global average pooling, linear 64->10",
        List.of("--model", "resnet", "--depth", Integer.toString(depth)),
        () -> new ResNet(blocks));
  }

  /**
   * A TorchScript image classifier: its forward takes float32 images [n, 1, 28, 28] and returns
   * logits [n, 10], or a tuple whose first element they are. Every {@link #create()} loads the file
   * afresh, so every run starts from the file's weights (the seed does not change them). The file
   * is loaded and run once on two zero images here, in evaluation mode, to check that convention.
   *
   * @throws IllegalArgumentException naming the file and what was expected
   */
  static Model torchScript(Path file) {
    String what = "torchscript:" + file.toAbsolutePath();
    try (TorchScriptNet net = TorchScriptNet.load(file);
        PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      net.mode(false);
      Tensor out;
      try {
        out = net.forward(torch.zeros(2, 1, 28, 28));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            file
                + ": its forward failed on float32 images [2, 1, 28, 28] (compare --model "
                + "torchscript:FILE expects forward(images [n, 1, 28, 28]) -> logits [n, 10]): "
                + firstLine(e.getMessage()),
            e);
      }
      long[] shape = out.sizes().vec().get();
      if (!Arrays.equals(shape, new long[] {2, 10}) || !out.is_floating_point()) {
        throw new IllegalArgumentException(
            file
                + ": its forward returned "
                + (out.is_floating_point() ? "" : "non-float ")
                + "shape "
                + Arrays.toString(shape)
                + " for images [2, 1, 28, 28]; compare --model torchscript:FILE expects float "
                + "logits [n, 10] (or a tuple whose first element they are)");
      }
      return new Model(
          "TorchScript " + file.getFileName(),
          "TorchScript classifier "
              + file
              + " ("
              + net.model.parameters().size()
              + " parameter tensors, "
              + net.model.parameters().stream().mapToLong(Tensor::numel).sum()
              + " weights, initial weights from the file)",
          List.of("--model", what),
          () -> TorchScriptNet.load(file),
          false,
          "the weights saved in "
              + file.toAbsolutePath()
              + ", loaded afresh for every run (not an initialiser of ours: the seed does not "
              + "change them), identical for both optimizers");
    }
  }

  /**
   * A freshly initialised network; its weights come from libtorch's global generator (a TorchScript
   * model's from its file).
   */
  Net create() {
    return factory.get();
  }

  /** A short name for titles and labels: MLP, CNN, DEEP, ResNet-20, TorchScript model.pt. */
  public String name() {
    return name;
  }

  public String description() {
    return description;
  }

  /** The command-line options that select this model again (for a memory probe's JVM). */
  List<String> options() {
    return options;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Model m && m.options.equals(options);
  }

  @Override
  public int hashCode() {
    return options.hashCode();
  }

  @Override
  public String toString() {
    return name;
  }

  /** Whether the model is the language model, trained on text rather than images. */
  boolean languageModel() {
    return languageModel;
  }

  /** Where a run's initial weights come from: the protocol's {@code init}. */
  String initialisation() {
    return initialisation;
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

    /**
     * Training mode (BatchNorm normalises with the batch's statistics and updates its running ones)
     * or evaluation mode (it uses the running ones), recursively.
     */
    void mode(boolean training) {
      train(training);
    }
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
    final Conv2dImpl conv1 = register_module("conv1", new Conv2dImpl(conv3x3(1, 16, 1, true)));
    final Conv2dImpl conv2 = register_module("conv2", new Conv2dImpl(conv3x3(16, 32, 1, true)));
    final LinearImpl out = register_module("out", new LinearImpl(32 * 7 * 7, 10));

    @Override
    Tensor forward(Tensor images) {
      Tensor h = torch.max_pool2d(torch.relu(conv1.forward(images)), 2, 2);
      h = torch.max_pool2d(torch.relu(conv2.forward(h)), 2, 2);
      return out.forward(torch.flatten(h, 1, -1));
    }
  }

  /** A 3x3 convolution with padding 1. */
  private static Conv2dOptions conv3x3(long in, long out, long stride, boolean bias) {
    Conv2dOptions options = new Conv2dOptions(in, out, new LongPointer(3L, 3L));
    options.padding().put(new LongPointer(1L, 1L));
    options.stride().put(0, stride).put(1, stride);
    options.bias().put(bias);
    return options;
  }

  /**
   * The CIFAR ResNet (He et al. 2016, section 4.2) on [n, 1, 28, 28]: a 3x3 convolution to 16
   * channels, three stages of {@code blocks} basic blocks with 16, 32 and 64 channels (feature maps
   * 28, 14 and 7 wide), global average pooling and a linear layer to 10 classes; 6 x blocks + 2
   * weighted layers. Convolutions have no bias (BatchNorm's shift follows each). The first block of
   * stages 2 and 3 convolves with stride 2; its shortcut is the paper's option A, parameter-free:
   * the input subsampled by 2 and zero-padded with as many channels on each side as make up the
   * doubled width.
   */
  static final class ResNet extends Net {
    static final int[] WIDTHS = {16, 32, 64};

    final Conv2dImpl stem = register_module("conv", new Conv2dImpl(conv3x3(1, 16, 1, false)));
    final BatchNorm2dImpl stemNorm =
        register_module("bn", new BatchNorm2dImpl(new BatchNormOptions(16)));
    final Block[] blocks;
    final LinearImpl fc;

    ResNet(int perStage) {
      blocks = new Block[3 * perStage];
      long in = 16;
      for (int stage = 0; stage < 3; stage++) {
        for (int b = 0; b < perStage; b++) {
          int out = WIDTHS[stage];
          blocks[stage * perStage + b] =
              register_module(
                  "stage" + (stage + 1) + "_block" + b,
                  new Block(in, out, stage > 0 && b == 0 ? 2 : 1));
          in = out;
        }
      }
      fc = register_module("fc", new LinearImpl(64, 10));
    }

    @Override
    Tensor forward(Tensor images) {
      Tensor h = torch.relu(stemNorm.forward(stem.forward(images)));
      for (Block block : blocks) {
        h = block.forward(h);
      }
      return fc.forward(torch.flatten(torch.adaptive_avg_pool2d(h, 1, 1), 1, -1));
    }
  }

  /** conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU. */
  static final class Block extends Module {
    final Conv2dImpl conv1;
    final BatchNorm2dImpl bn1;
    final Conv2dImpl conv2;
    final BatchNorm2dImpl bn2;
    final long pad;
    final boolean subsample;

    Block(long in, long out, long stride) {
      conv1 = register_module("conv1", new Conv2dImpl(conv3x3(in, out, stride, false)));
      bn1 = register_module("bn1", new BatchNorm2dImpl(new BatchNormOptions(out)));
      conv2 = register_module("conv2", new Conv2dImpl(conv3x3(out, out, 1, false)));
      bn2 = register_module("bn2", new BatchNorm2dImpl(new BatchNormOptions(out)));
      pad = (out - in) / 2;
      subsample = stride > 1;
    }

    Tensor forward(Tensor x) {
      Tensor h = torch.relu(bn1.forward(conv1.forward(x)));
      h = bn2.forward(conv2.forward(h));
      Tensor shortcut = x;
      if (subsample) {
        LongOptional none = new LongOptional();
        shortcut = x.slice(2, none, none, 2).slice(3, none, none, 2);
      }
      if (pad > 0) {
        shortcut = torch.constant_pad_nd(shortcut, 0, 0, 0, 0, pad, pad);
      }
      return torch.relu(h.add(shortcut));
    }
  }

  /**
   * A TorchScript classifier as a {@link Net}: the module's trainable parameters are registered
   * here (the same tensors, so an optimizer over {@link #parameters()} trains the module), and
   * forward takes the output, or a tuple's first element.
   */
  static final class TorchScriptNet extends Net {
    final TorchScriptModel model;
    private final boolean tuple;

    private TorchScriptNet(TorchScriptModel model) {
      this.model = model;
      List<String> names = model.parameterNames();
      List<Tensor> params = model.parameters();
      for (int i = 0; i < params.size(); i++) {
        register_parameter(names.get(i).replace('.', '_'), params.get(i));
      }
      // A tuple's first element is the logits; which element is refused otherwise is the model's
      // own check (forward(0, ...) names the file and the element's type).
      tuple =
          model
                  .module()
                  .get_method("forward")
                  .function()
                  .getSchema()
                  .returns()
                  .type()
                  .get()
                  .kind()
                  .value
              == torch.TypeKind.TupleType.value;
    }

    static TorchScriptNet load(Path file) {
      try {
        return new TorchScriptNet(TorchScriptModel.load(file));
      } catch (IOException e) {
        throw new IllegalArgumentException(e.getMessage(), e); // the message names the file
      }
    }

    @Override
    Tensor forward(Tensor images) {
      return tuple ? model.forward(0, images) : model.forward(images);
    }

    @Override
    void mode(boolean training) {
      model.train(training);
    }

    @Override
    public void close() {
      model.close();
      super.close();
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "(no message)";
    }
    int end = message.indexOf('\n');
    return end < 0 ? message : message.substring(0, end);
  }
}
