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
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.JitModule;
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
 * at 2, 4 and 8 blocks ({@link #transformer(int)}) and a user's TorchScript token language model.
 * {@link #of(String, int)} maps a {@code --model} value to one. Every language model trains with
 * {@link TransformerRecipe} ({@link OptimizerKind#create}, {@link TrainingRun}).
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
          + "torchscript:FILE (an image classifier, or a token language model)";

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
  private final int context;
  private final String initialisation;

  /** How the models built in this class start, in the words of {@link #initialisation()}. */
  private static final String LIBTORCH_INIT =
      "libtorch defaults after torch.manual_seed(seed), identical for both optimizers";

  private Model(String name, String description, List<String> options, Supplier<Net> factory) {
    this(name, description, options, factory, 0, LIBTORCH_INIT);
  }

  /** {@code context}: a language model's window length in tokens, 0 for a model of images. */
  private Model(
      String name,
      String description,
      List<String> options,
      Supplier<Net> factory,
      int context,
      String initialisation) {
    this.name = name;
    this.description = description;
    this.options = options;
    this.factory = factory;
    this.context = context;
    this.initialisation = initialisation;
  }

  /**
   * The model a {@code --model} value names ({@link #VALUES}, case-insensitive); {@code depth} is
   * the depth of {@code resnet}.
   *
   * @throws IllegalArgumentException for an unknown value, a depth that is not 6n+2, or a
   *     TorchScript file that cannot be loaded or follows neither {@link #torchScript}'s convention
   *     (the message names the file)
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
        TransformerLm.CONTEXT,
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
   * A TorchScript model, of one of two conventions. A module with an int attribute {@code context}
   * is a token language model: its forward takes int64 tokens [n, context] and returns logits [n,
   * context, {@value TextCorpus#VOCAB}] (the next token at each position), and it trains on windows
   * of {@code context} tokens of {@link TextCorpus}. Any other module is an image classifier: its
   * forward takes float32 images [n, 1, 28, 28] and returns logits [n, 10]. Either may return a
   * tuple whose first element the logits are. Every {@link #create()} loads the file afresh, so
   * every run starts from the file's weights (the seed does not change them). The file is loaded
   * and run once here on two zero samples, in evaluation mode, to check the convention; a language
   * model's 2-D parameters must also suit the transformer recipe's block averaging.
   *
   * @throws IllegalArgumentException naming the file, what was expected and what it got
   */
  static Model torchScript(Path file) {
    String what = "torchscript:" + file.toAbsolutePath();
    try (TorchScriptNet net = TorchScriptNet.load(file, 0);
        PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      JitModule module = net.model.module();
      if (!module.hasattr("context")) {
        checkClassifier(file, net);
        return new Model(
            "TorchScript " + file.getFileName(),
            "TorchScript classifier " + file + " (" + weights(net) + ")",
            List.of("--model", what),
            () -> TorchScriptNet.load(file, 0),
            0,
            fromFile(file));
      }
      IValue attribute = module.attr("context");
      long value = attribute.isInt() ? attribute.toInt() : 0;
      if (value < 1 || value > Integer.MAX_VALUE / 2) {
        throw new IllegalArgumentException(
            file
                + ": its attribute 'context' is "
                + (attribute.isInt() ? Long.toString(value) : attribute.tagKind().getString())
                + "; a token language model's 'context' is its window length, a positive int");
      }
      int context = (int) value;
      checkLanguageModel(file, net, context);
      return new Model(
          "TorchScript " + file.getFileName(),
          "TorchScript token language model "
              + file
              + " (context "
              + context
              + ", "
              + TextCorpus.VOCAB
              + " tokens, "
              + weights(net)
              + ")",
          List.of("--model", what),
          () -> TorchScriptNet.load(file, context),
          context,
          fromFile(file));
    }
  }

  /** The initialisation of a TorchScript model: its file's weights. */
  private static String fromFile(Path file) {
    return "the weights saved in "
        + file.toAbsolutePath()
        + ", loaded afresh for every run (not an initialiser of ours: the seed does not "
        + "change them), identical for both optimizers";
  }

  private static String weights(TorchScriptNet net) {
    List<Tensor> params = net.model.parameters();
    return params.size()
        + " parameter tensors, "
        + params.stream().mapToLong(Tensor::numel).sum()
        + " weights, initial weights from the file";
  }

  /** Runs {@code net} on two zero images: float logits [2, 10], or a message naming the file. */
  private static void checkClassifier(Path file, TorchScriptNet net) {
    String convention =
        "compare --model torchscript:FILE expects an image classifier, forward(images [n, 1, 28,"
            + " 28] float32) -> float logits [n, 10] (or a tuple whose first element they are), or"
            + " a token language model, a module with an int attribute 'context'"
            + " (docs/torchscript.md)";
    String inputs = "float32 images [2, 1, 28, 28]";
    Tensor out = probe(file, net, torch.zeros(2, 1, 28, 28), inputs, convention);
    if (!Arrays.equals(out.sizes().vec().get(), new long[] {2, 10}) || !out.is_floating_point()) {
      throw wrongOutput(file, out, inputs, convention);
    }
  }

  /**
   * Runs {@code net} on two windows of zero tokens: float logits [2, context, vocabulary] with the
   * corpus's vocabulary, or a message naming the file; then checks that the recipe's AdaHessian
   * takes every parameter.
   */
  private static void checkLanguageModel(Path file, TorchScriptNet net, int context) {
    String convention =
        "compare --model torchscript:FILE takes a module with an int attribute 'context' for a"
            + " token language model, forward(tokens [n, context] int64) -> float logits [n,"
            + " context, "
            + TextCorpus.VOCAB
            + "] (or a tuple whose first element they are) (docs/torchscript.md)";
    String inputs = "int64 tokens [2, " + context + "]";
    Tensor out =
        probe(
            file,
            net,
            AbstractTensor.create(new long[2 * context], 2, context),
            inputs,
            convention);
    long[] shape = out.sizes().vec().get();
    if (shape.length == 3
        && shape[0] == 2
        && shape[1] == context
        && shape[2] != TextCorpus.VOCAB
        && out.is_floating_point()) {
      throw new IllegalArgumentException(
          file
              + ": its forward returned logits over a vocabulary of "
              + shape[2]
              + " tokens, shape "
              + Arrays.toString(shape)
              + " for "
              + inputs
              + "; the corpus has "
              + TextCorpus.VOCAB
              + " tokens (newline 0, printable ASCII 32-126 as 1-95): export the model with a"
              + " vocabulary of "
              + TextCorpus.VOCAB);
    }
    if (!Arrays.equals(shape, new long[] {2, context, TextCorpus.VOCAB})
        || !out.is_floating_point()) {
      throw wrongOutput(file, out, inputs, convention);
    }
    List<String> names = net.model.parameterNames();
    List<Tensor> params = net.model.parameters();
    for (int i = 0; i < params.size(); i++) {
      try {
        TransformerRecipe.adaHessian(TransformerRecipe.ADAHESSIAN_LR)
            .build(params.subList(i, i + 1))
            .close();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            file
                + ": parameter '"
                + names.get(i)
                + "' does not suit the transformer recipe that compare trains a language model"
                + " with (TransformerRecipe, docs/transformers.md; AdaHessian over it alone: "
                + e.getMessage()
                + ")",
            e);
      }
    }
  }

  /**
   * A freshly initialised network, in training mode; its weights come from libtorch's global
   * generator (a TorchScript model's from its file, whichever mode it was saved in).
   */
  Net create() {
    Net net = factory.get();
    net.mode(true);
    return net;
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

  /**
   * Whether the model is a language model, trained on text rather than images, with {@link
   * TransformerRecipe}.
   */
  boolean languageModel() {
    return context > 0;
  }

  /**
   * A language model's window length in tokens: what it trains on (the longest window the built-in
   * transformer takes, a TorchScript model's {@code context}); 0 for a model of images.
   */
  int context() {
    return context;
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
   * A TorchScript model as a {@link Net}: the module's trainable parameters are registered here
   * (the same tensors, so an optimizer over {@link #parameters()} trains the module), and forward
   * takes the output, or a tuple's first element; a language model's logits [n, length, vocabulary]
   * are turned into the [n, vocabulary, length] that {@code cross_entropy_loss} takes.
   */
  static final class TorchScriptNet extends Net {
    final TorchScriptModel model;
    private final boolean tuple;
    private final boolean languageModel;

    private TorchScriptNet(TorchScriptModel model, boolean languageModel) {
      this.model = model;
      this.languageModel = languageModel;
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

    /** The model in {@code file}; {@code context} > 0: a language model. */
    static TorchScriptNet load(Path file, int context) {
      try {
        return new TorchScriptNet(TorchScriptModel.load(file), context > 0);
      } catch (IOException e) {
        throw new IllegalArgumentException(e.getMessage(), e); // the message names the file
      }
    }

    @Override
    Tensor forward(Tensor input) {
      Tensor out = module(input);
      return languageModel ? out.transpose(1, 2) : out;
    }

    /**
     * What the module returns (a tuple's first element), as it returns it. TorchScriptModel runs it
     * with libtorch's graph-executor optimisation off while training or while gradients are on, so
     * the full run's Hessian analysis, in evaluation mode, differentiates twice through the same
     * plan as the training steps (docs/torchscript.md).
     */
    Tensor module(Tensor input) {
      return tuple ? model.forward(0, input) : model.forward(input);
    }

    /** The module's mode (its train() or eval()), and this net's, which reports it. */
    @Override
    void mode(boolean training) {
      super.mode(training);
      model.train(training);
    }

    @Override
    public void close() {
      model.close();
      super.close();
    }
  }

  /**
   * What the module in {@code file} returns for {@code input} (described as {@code inputs}), in
   * evaluation mode, or a message naming the file and the {@code convention}.
   */
  private static Tensor probe(
      Path file, TorchScriptNet net, Tensor input, String inputs, String convention) {
    net.mode(false);
    try {
      return net.module(input);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          file
              + ": its forward failed on "
              + inputs
              + " ("
              + convention
              + "): "
              + firstLine(e.getMessage()),
          e);
    }
  }

  private static IllegalArgumentException wrongOutput(
      Path file, Tensor out, String inputs, String convention) {
    return new IllegalArgumentException(
        file
            + ": its forward returned "
            + (out.is_floating_point() ? "" : "non-float ")
            + "shape "
            + Arrays.toString(out.sizes().vec().get())
            + " for "
            + inputs
            + "; "
            + convention);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "(no message)";
    }
    int end = message.indexOf('\n');
    return end < 0 ? message : message.substring(0, end);
  }
}
