package io.github.adahessian4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Argument;
import org.bytedeco.pytorch.FunctionSchema;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Method;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

/**
 * A TorchScript module ({@code torch.jit.script} or {@code torch.jit.trace}, saved with {@code
 * torch.jit.save}) to train with this library's optimizers: its trainable parameters as the list
 * every optimizer builder takes, forward with tensors, train/eval, and saving back to a TorchScript
 * file that Python's {@code torch.jit.load} reads.
 *
 * <pre>{@code
 * try (TorchScriptModel model = TorchScriptModel.load(Path.of("model.pt"));
 *     AdaHessian opt = AdaHessian.builder().lr(0.05).build(model.parameters())) {
 *   Tensor loss = opt.step(() -> torch.cross_entropy_loss(model.forward(x), y));
 * }
 * }</pre>
 *
 * <p><b>Parameters.</b> {@link #parameters()} lists the module's parameters that require grad, in
 * {@code named_parameters()} order, each once: a parameter that two submodules share is listed
 * under its first name, as Python's {@code named_parameters()} does. Parameters loaded with {@code
 * requires_grad} false (frozen layers) are left out. The same tensors go to {@code
 * HessianAnalysis.builder().group("model", model.parameters(), model.parameterNames())} and {@code
 * processGroup.broadcastParameters(model.parameters())}.
 *
 * <p><b>Output convention.</b> {@link #forward(Tensor...)} takes a forward that returns a tensor;
 * {@link #forward(int, Tensor...)} takes one that returns a tuple (a language model's {@code
 * (logits, state)}) and gives the element asked for. The forward's declared return type is checked
 * before it runs, so a forward that returns a dict, or a tuple without an element named, is refused
 * and nothing runs (BatchNorm's running statistics do not move).
 *
 * <p><b>The graph executor.</b> In training mode, and in evaluation mode while gradients are on (a
 * Hessian analysis of a trained module), the forward runs with libtorch's graph-executor
 * optimisation off on the calling thread ({@code torch.setGraphExecutorOptimize(false)}, a
 * thread-local setting, restored after the call), so every call runs the same plan. With it on, the
 * profiling executor runs a fresh module's first call unoptimised and later calls through optimised
 * autodiff subgraphs, whose results differ in the last bits: training resumed from a saved module
 * and checkpoint would then not equal uninterrupted training bit for bit ({@code
 * TorchScriptRoundTripTest} shows it), and double backward through those subgraphs (AdaHessian's
 * Hessian-vector product) has failed or been wrong in some libtorch versions (pytorch#49764,
 * #108670). In evaluation mode under {@code NoGradGuard} (inference) the forward runs with the
 * thread's setting.
 *
 * <p>Not thread-safe. {@link #close()} frees the module; the parameter tensors handed out stay
 * valid (they hold their own references).
 */
public final class TorchScriptModel implements AutoCloseable {
  private final JitModule module;
  private final String source;
  private final List<String> names;
  private final List<Tensor> params;
  private final Signature signature;
  private boolean closed;

  /** What the forward method declares: its inputs and its return type. */
  private record Signature(
      List<String> inputs, int required, String returnKind, List<String> elements) {
    String describe() {
      return "forward(" + String.join(", ", inputs) + ") -> " + returnKind;
    }
  }

  private TorchScriptModel(
      JitModule module,
      String source,
      List<String> names,
      List<Tensor> params,
      Signature signature) {
    this.module = module;
    this.source = source;
    this.names = List.copyOf(names);
    this.params = List.copyOf(params);
    this.signature = signature;
  }

  /**
   * Loads a TorchScript module saved by {@code torch.jit.save} (or {@link #save(Path)}).
   *
   * @param file the {@code .pt} file
   * @return the model, in the training mode it was saved in
   * @throws NoSuchFileException if the file does not exist
   * @throws IllegalArgumentException if the file is not a TorchScript module, has no forward, or
   *     has no trainable parameters (a frozen or {@code optimize_for_inference} module)
   * @throws IOException if reading fails
   */
  public static TorchScriptModel load(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no TorchScript file there");
    }
    if (!Files.isReadable(file)) {
      throw new IOException(file + ": not readable");
    }
    return load(file, file.toString());
  }

  /**
   * Loads a TorchScript module from a stream (read to its end, not closed).
   *
   * @param in the bytes {@code torch.jit.save} wrote
   * @param name what messages call the stream (for example the resource's name)
   * @return the model
   * @throws IllegalArgumentException as {@link #load(Path)}
   * @throws IOException if reading fails
   */
  public static TorchScriptModel load(InputStream in, String name) throws IOException {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(name, "name");
    Path tmp = Files.createTempFile("adahessian4j-torchscript", ".pt");
    try {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      return load(tmp, name);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static TorchScriptModel load(Path file, String source) {
    try (PointerScope scope = new PointerScope()) {
      JitModule module;
      try {
        module = torch.load(file.toString());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            source
                + " is not a TorchScript module (torch.jit.save of a torch.jit.script or "
                + "torch.jit.trace module writes one; torch.save of a state_dict or of an "
                + "nn.Module does not): "
                + firstLine(e.getMessage()),
            e);
      }
      Signature signature = signature(module, source);
      List<String> names = new ArrayList<>();
      List<Tensor> params = new ArrayList<>();
      Set<Long> seen = new HashSet<>();
      int all = 0;
      named_parameter_list list = module.named_parameters(true);
      for (named_parameter_iterator it = list.begin();
          it.notEquals(list.end());
          it = it.increment()) {
        NamedTensor item = it.access();
        all++;
        Tensor p = item.value();
        if (!p.requires_grad() || !seen.add(p.unsafeGetTensorImpl().address())) {
          continue;
        }
        names.add(item.name().getString());
        params.add(Natives.keep(scope, new Tensor(p)));
      }
      if (params.isEmpty()) {
        throw new IllegalArgumentException(noParameters(module, source, all));
      }
      return new TorchScriptModel(Natives.keep(scope, module), source, names, params, signature);
    }
  }

  private static String noParameters(JitModule module, String source, int all) {
    if (all > 0) {
      return source
          + " has no trainable parameters: none of its "
          + all
          + " parameters requires grad (call requires_grad_(True) on those to train before "
          + "exporting)";
    }
    if (!module.hasattr("training")) {
      return source
          + " is a frozen module (torch.jit.freeze or torch.jit.optimize_for_inference folded "
          + "its parameters into constants, so nothing can be trained): export the module before "
          + "freezing it";
    }
    return source + " has no parameters: there is nothing to train";
  }

  private static Signature signature(JitModule module, String source) {
    if (!module.find_method("forward").has_value()) {
      throw new IllegalArgumentException(source + " has no forward method");
    }
    Method forward = module.get_method("forward");
    FunctionSchema schema = forward.function().getSchema();
    List<String> inputs = new ArrayList<>();
    int required = 0;
    for (long i = 1; i < forward.num_inputs(); i++) { // argument 0 is self
      Argument a = schema.arguments().getPointer(i);
      inputs.add(a.type().get().str().getString() + " " + a.name().getString());
      if (!a.default_value().has_value()) {
        required++;
      }
    }
    Type returns = schema.returns().type().get();
    List<String> elements = new ArrayList<>();
    if (returns.kind().value
        == torch.TypeKind.TupleType.value) { // bytedeco's enums: compare values
      for (long i = 0; i < returns.containedTypeSize(); i++) {
        elements.add(returns.containedType(i).get().str().getString());
      }
    }
    return new Signature(inputs, required, returns.str().getString(), elements);
  }

  /**
   * The trainable parameters, each once, in {@code named_parameters()} order (an unmodifiable list;
   * the same tensors on every call).
   *
   * @return the parameters
   */
  public List<Tensor> parameters() {
    checkOpen();
    return params;
  }

  /**
   * The names of {@link #parameters()}, in the same order ({@code "conv.weight"}, ...).
   *
   * @return the names
   */
  public List<String> parameterNames() {
    checkOpen();
    return names;
  }

  /**
   * The module's buffers (BatchNorm's running statistics, ...), by their {@code named_buffers()}
   * names, in that order.
   *
   * @return the buffers (new handles to the module's tensors)
   */
  public Map<String, Tensor> buffers() {
    checkOpen();
    Map<String, Tensor> buffers = new LinkedHashMap<>();
    named_buffer_list list = module.named_buffers(true);
    for (named_buffer_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
      NamedTensor item = it.access();
      buffers.put(item.name().getString(), new Tensor(item.value()));
    }
    return Collections.unmodifiableMap(buffers);
  }

  /**
   * Runs forward on tensors; the forward must return a tensor.
   *
   * @param inputs the forward's arguments, on the parameters' device
   * @return the output
   * @throws IllegalArgumentException if the forward returns something else than a tensor, the
   *     inputs do not match its arguments, or an input is on another device than a parameter;
   *     nothing ran
   */
  public Tensor forward(Tensor... inputs) {
    checkOpen();
    if (!signature.returnKind().equals("Tensor")) {
      throw new IllegalArgumentException(
          "the forward of "
              + source
              + " returns "
              + signature.returnKind()
              + ", not a Tensor: "
              + (signature.elements().isEmpty()
                  ? "TorchScriptModel takes a forward that returns a Tensor or a tuple"
                  : "say which element of the tuple the loss takes, with forward(element, inputs)"));
    }
    return run(inputs, -1);
  }

  /**
   * Runs forward on tensors; the forward must return a tuple, whose element {@code element} (a
   * tensor) this returns (for example a language model's logits out of {@code (logits, state)}).
   *
   * @param element the index of the tuple's element to return
   * @param inputs the forward's arguments, on the parameters' device
   * @return that element
   * @throws IllegalArgumentException if the forward does not return a tuple whose element {@code
   *     element} is a tensor, the inputs do not match its arguments, or an input is on another
   *     device than a parameter; nothing ran
   */
  public Tensor forward(int element, Tensor... inputs) {
    checkOpen();
    List<String> elements = signature.elements();
    if (elements.isEmpty()) {
      throw new IllegalArgumentException(
          "the forward of "
              + source
              + " returns "
              + signature.returnKind()
              + ", not a tuple: "
              + (signature.returnKind().equals("Tensor")
                  ? "call forward(inputs)"
                  : "TorchScriptModel takes a forward that returns a Tensor or a tuple"));
    }
    if (element < 0 || element >= elements.size() || !elements.get(element).equals("Tensor")) {
      throw new IllegalArgumentException(
          "the forward of "
              + source
              + " returns "
              + signature.returnKind()
              + ": element "
              + element
              + (element < 0 || element >= elements.size()
                  ? " does not exist"
                  : " is " + elements.get(element) + ", not a Tensor"));
    }
    return run(inputs, element);
  }

  /** Runs forward; returns its output ({@code element < 0}) or that element of its tuple. */
  private Tensor run(Tensor[] inputs, int element) {
    checkInputs(inputs);
    boolean optimize = torch.getGraphExecutorOptimize(); // a thread-local setting in libtorch
    Tensor out;
    try (PointerScope scope = new PointerScope()) {
      IValueVector args = new IValueVector();
      for (Tensor x : inputs) {
        args.push_back(new IValue(x));
      }
      IValue result;
      // Off while training or while gradients are on (a Hessian analysis in evaluation mode).
      torch.setGraphExecutorOptimize(optimize && !module.is_training() && !GradMode.is_enabled());
      try {
        result = module.forward(args);
      } finally {
        torch.setGraphExecutorOptimize(optimize);
      }
      IValue value = element < 0 ? result : result.toTuple().elements().get(element);
      out = Natives.keep(scope, new Tensor(value.toTensor())); // toTensor() refers into the IValue
    }
    return Natives.toCallerScope(out);
  }

  private void checkInputs(Tensor[] inputs) {
    Objects.requireNonNull(inputs, "inputs");
    int n = signature.inputs().size();
    if (inputs.length < signature.required() || inputs.length > n) {
      throw new IllegalArgumentException(
          "the forward of "
              + source
              + " is "
              + signature.describe()
              + ": got "
              + inputs.length
              + " input"
              + (inputs.length == 1 ? "" : "s"));
    }
    for (int i = 0; i < inputs.length; i++) {
      Tensor x = inputs[i];
      if (x == null || x.isNull() || !x.defined()) {
        throw new IllegalArgumentException(
            "input " + i + " of the forward of " + source + " is null or undefined");
      }
      String device = x.device().str().getString();
      for (int k = 0; k < params.size(); k++) {
        String on = params.get(k).device().str().getString();
        if (!on.equals(device)) {
          throw new IllegalArgumentException(
              "input "
                  + i
                  + " is on "
                  + device
                  + " but parameter '"
                  + names.get(k)
                  + "' of "
                  + source
                  + " is on "
                  + on
                  + ": move the inputs to the model's device");
        }
      }
    }
  }

  /**
   * Sets training mode (BatchNorm uses batch statistics and updates its running ones, dropout is
   * on) or evaluation mode, recursively.
   *
   * @param on true for training mode
   */
  public void train(boolean on) {
    checkOpen();
    module.train(on);
  }

  /** Sets evaluation mode, recursively. */
  public void eval() {
    train(false);
  }

  /**
   * Whether the module is in training mode.
   *
   * @return true in training mode
   */
  public boolean isTraining() {
    checkOpen();
    return module.is_training();
  }

  /**
   * Saves the module, with its current parameters and buffers, as a TorchScript file that {@code
   * torch.jit.load} (Python) and {@link #load(Path)} read. A temporary file is written next to
   * {@code file}, forced to disk and renamed over it, so a failure leaves the previous file intact.
   *
   * @param file where to write
   * @throws IOException if writing fails
   */
  public void save(Path file) throws IOException {
    checkOpen();
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      write(tmp);
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Writes the same TorchScript file to a stream (flushed, not closed).
   *
   * @param out where to write
   * @throws IOException if writing fails
   */
  public void save(OutputStream out) throws IOException {
    checkOpen();
    Objects.requireNonNull(out, "out");
    Path tmp = Files.createTempFile("adahessian4j-torchscript", ".pt");
    try {
      write(tmp);
      Files.copy(tmp, out);
      out.flush();
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private void write(Path file) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      module.save(file.toString());
    } catch (RuntimeException e) {
      throw new IOException(
          "saving " + source + " to " + file + ": " + firstLine(e.getMessage()), e);
    }
  }

  /**
   * The underlying bytedeco module, for what this class does not wrap (owned by this model: do not
   * close it).
   *
   * @return the module
   */
  public JitModule module() {
    checkOpen();
    return module;
  }

  /** Frees the module; every later call throws. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      module.close();
    }
  }

  @Override
  public String toString() {
    return "TorchScriptModel[" + source + ", " + params.size() + " parameters]";
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the TorchScriptModel of " + source + " is closed");
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
