package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringTensorDictItem;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Hessian analysis of a loss with respect to parameters, from Hessian-vector products: the top
 * eigenvalues and eigenvectors (Lanczos with full reorthogonalisation, and PyHessian's power
 * iteration with deflation for comparison), the trace (Hutchinson, with a standard-error stopping
 * rule and a per-parameter and per-group breakdown), the eigenvalue spectral density (stochastic
 * Lanczos quadrature) and the products themselves.
 *
 * <pre>{@code
 * try (HessianAnalysis h = HessianAnalysis.builder()
 *     .module(model)                                   // or params(list), group(name, list), paramGroups(optimizer)
 *     .loss(() -> torch.cross_entropy(model.forward(x), y))
 *     .seed(42)
 *     .build()) {
 *   HessianEigenvalues top = h.topEigenvalues(5);
 *   HessianTrace trace = h.trace();
 *   HessianDensity esd = h.spectralDensity(new HessianDensity.Options(3, 80));
 * }
 * }</pre>
 *
 * <p><b>The Hessian.</b> H is the Hessian of the loss the closure returns (or of the weighted mean
 * of several closures' losses: {@link Builder#losses(List, double[])}, one loss per batch) with
 * respect to the analysis's parameters. A product {@code H v} is libtorch's double backward: the
 * gradient {@code g = torch.grad(loss, params, create_graph=true)} once, then {@code torch.grad(g,
 * params, grad_outputs=v)} per product, never {@code backward(create_graph=true)} (which leaks
 * through a parameter-gradient reference cycle), and the parameters' {@code grad()} is never
 * touched. By default the gradients' graphs are kept for all products (memory: one double-backward
 * graph per closure); with {@link Builder#keepGraphs(boolean) keepGraphs(false)} every product
 * evaluates the closures again and frees each graph at once (then the closures must return the same
 * loss every time).
 *
 * <p><b>The model's mode is the caller's.</b> Unlike PyHessian, which calls {@code model.eval()},
 * nothing here changes the model: call {@code eval()} before building the analysis if dropout or
 * batch-norm statistics must not vary (with dropout in training mode and several products from one
 * kept graph, H is the Hessian of that one dropout mask).
 *
 * <p><b>Parameters.</b> Parameters that do not require grad, that the loss does not use (no
 * gradient) or that have no elements are skipped and named in every result, never a crash; a
 * parameter the loss uses linearly (its gradient has no graph) has zero rows in H and stays in. Any
 * floating dtype works: products run in the parameters' dtype (float32 products for float32
 * parameters), the vectors of every method are float64 on the parameters' device, and inner
 * products and norms run over all parameters at once. The Lanczos basis holds one float64 vector
 * per step: {@code steps * dimension * 8} bytes.
 *
 * <p><b>Probes are seeded.</b> Every random vector is Rademacher probe draw {@code j} of the
 * analysis's seed from the library's counter-based generator (the same as AdaHessian's, see {@code
 * cpp/include/adahessian4j.h}), for parameter id = the parameter's position in the list the
 * analysis was built from; results depend only on the seed, the parameters and the loss. Draws
 * used: trace sample {@code s} uses draw {@code s}; SLQ run {@code r} starts from draw {@code r}
 * (normalised, so its trace estimate equals Hutchinson's on the same draws); Lanczos starts from
 * draw 0 (draws 1, 2, ... after an exhausted Krylov space); power iteration starts eigenvalue
 * {@code j} from draw {@code j}.
 *
 * <p>Not thread-safe: use one analysis from one thread at a time. {@link #close()} frees the kept
 * graphs; group views ({@link #group(int)}) share them and stop working when their analysis is
 * closed.
 */
public final class HessianAnalysis implements AutoCloseable {
  private final HessianCore core;

  /** Positions in the core's parameter list that this analysis covers. */
  private final int[] members;

  private final List<String> groupNames;

  /** For each of this analysis's groups, positions in {@link #members}. */
  private final int[][] groupMembers;

  private final boolean owner;
  private HessianSpace space;

  private HessianAnalysis(
      HessianCore core,
      int[] members,
      List<String> groupNames,
      int[][] groupMembers,
      boolean owner) {
    this.core = core;
    this.members = members;
    this.groupNames = List.copyOf(groupNames);
    this.groupMembers = groupMembers;
    this.owner = owner;
  }

  /**
   * A builder: parameters (one or more groups), the loss closure(s), the seed.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The names of this analysis's parameters, in order: the module's names, or {@code "parameter i
   * (group g, index k, shape [..])"}.
   *
   * @return the names
   */
  public List<String> parameterNames() {
    List<String> names = new ArrayList<>(members.length);
    for (int i : members) {
      names.add(core.names[i]);
    }
    return Collections.unmodifiableList(names);
  }

  /**
   * The names of this analysis's parameter groups, in order.
   *
   * @return the names
   */
  public List<String> groupNames() {
    return groupNames;
  }

  /**
   * A view of the analysis restricted to parameter group {@code g}: its H is the diagonal block
   * {@code H_gg} (the Hessian with respect to that group, the other parameters held fixed), so its
   * eigenvalues are the group's ("per-layer") eigenvalues. It shares this analysis's closures, kept
   * graphs, seed and probe ids; closing it does nothing, closing this analysis ends it.
   *
   * @param g the group's index in {@link #groupNames()}
   * @return the view
   */
  public HessianAnalysis group(int g) {
    core.checkOpen();
    Objects.checkIndex(g, groupMembers.length);
    int[] pos = groupMembers[g];
    int[] sub = new int[pos.length];
    int[] own = new int[pos.length];
    for (int k = 0; k < pos.length; k++) {
      sub[k] = members[pos[k]];
      own[k] = k;
    }
    return new HessianAnalysis(core, sub, List.of(groupNames.get(g)), new int[][] {own}, false);
  }

  /**
   * The view of the group named {@code name} (see {@link #group(int)}).
   *
   * @param name a name in {@link #groupNames()}
   * @return the view
   */
  public HessianAnalysis group(String name) {
    int g = groupNames.indexOf(name);
    if (g < 0) {
      throw new IllegalArgumentException(
          "no parameter group named " + name + "; groups: " + groupNames);
    }
    return group(g);
  }

  /**
   * The parameters left out, each with the reason. Evaluates the loss closures if no method has
   * yet.
   *
   * @return the skipped parameters' names and reasons
   */
  public List<String> skipped() {
    return space().skipped;
  }

  /**
   * The dimension n of H: the number of elements of the parameters analysed.
   *
   * @return the dimension
   */
  public long dimension() {
    return space().dim;
  }

  /**
   * The loss (the weighted mean of the closures' losses) at which H is taken, as first evaluated.
   *
   * @return the loss
   */
  public double loss() {
    core.checkOpen();
    core.prepare();
    return core.loss;
  }

  /**
   * Hessian-vector products made so far by this analysis and its group views together.
   *
   * @return the count
   */
  public long hvProducts() {
    return core.hvProducts;
  }

  /**
   * The Hessian-vector product {@code H v} (the weighted mean over the closures' batches).
   *
   * @param v one tensor per parameter of {@link #parameterNames()}, each of that parameter's shape,
   *     any floating dtype; entries for skipped parameters are ignored and may be null
   * @return {@code H v}, one new tensor per parameter in the dtype of {@code v}'s entry (zeros for
   *     skipped parameters, in the parameter's dtype where that entry is null); the caller owns
   *     them
   */
  public List<Tensor> hvp(List<Tensor> v) {
    Objects.requireNonNull(v, "v");
    HessianSpace s = space();
    if (v.size() != members.length) {
      throw new IllegalArgumentException(
          "v has " + v.size() + " tensors, the analysis " + members.length + " parameters");
    }
    for (int k : s.positions) {
      Tensor t = v.get(k);
      String who = "v[" + k + "] (" + core.names[members[k]] + ")";
      if (t == null || t.isNull() || !t.defined()) {
        throw new IllegalArgumentException(who + " is null or undefined");
      }
      if (!t.is_floating_point()) {
        throw new IllegalArgumentException(
            who + ": expected a floating-point tensor, got " + t.scalar_type());
      }
      if (!Arrays.equals(FusedOptimizer.shapeOf(t), s.shapes[s.indexOf(k)])) {
        throw new IllegalArgumentException(
            who
                + " has shape "
                + Natives.shape(FusedOptimizer.shapeOf(t))
                + ", the parameter "
                + Natives.shape(s.shapes[s.indexOf(k)]));
      }
    }
    List<Tensor> result = new ArrayList<>(members.length);
    try (PointerScope scope = new PointerScope()) {
      Tensor[] parts = new Tensor[s.ids.length];
      for (int j = 0; j < s.ids.length; j++) {
        parts[j] = v.get(s.positions[j]);
      }
      Tensor hv = s.product(s.flatten(parts));
      Tensor[] split = s.unflatten(hv);
      for (int k = 0; k < members.length; k++) {
        Tensor t = v.get(k);
        int j = s.indexOf(k);
        Tensor out;
        if (j >= 0) {
          out = split[j].to(t.scalar_type()).contiguous().clone();
        } else if (t != null && !t.isNull() && t.defined()) {
          out = torch.zeros_like(t);
        } else {
          out = torch.zeros_like(core.params[members[k]]);
        }
        result.add(Natives.keep(scope, out));
      }
    }
    return result;
  }

  /**
   * The {@code k} largest eigenvalues by Lanczos with the default options (tolerance 1e-6, no
   * eigenvectors), at most {@code max(200, 2k + 1)} steps (the steps grow with k as SciPy's {@code
   * eigsh} takes {@code ncv = max(2k + 1, 20)} Lanczos vectors).
   *
   * @param k how many
   * @return the eigenvalues
   */
  public HessianEigenvalues topEigenvalues(int k) {
    HessianEigenvalues.Options options = HessianEigenvalues.Options.DEFAULTS.withK(k);
    int steps = (int) Math.min(Integer.MAX_VALUE, Math.max(options.maxIterations(), 2L * k + 1));
    return topEigenvalues(options.withMaxIterations(steps));
  }

  /**
   * Eigenvalues by the Lanczos method with full reorthogonalisation (classical Gram-Schmidt, twice,
   * against every basis vector): one Krylov space from the start vector (probe draw 0, normalised)
   * serves all {@code k}; after every step the tridiagonal matrix's eigenvalues (the Ritz values,
   * by libtorch's {@code linalg_eigh}) and their residual norms {@code beta_m |s_{m,i}|} decide
   * whether to stop (see {@link HessianEigenvalues.Options}). If the Krylov space becomes invariant
   * before the dimension is reached, Lanczos continues from a fresh probe made orthogonal to the
   * basis, so eigenvalues the start vector missed are found too. An eigenvalue of multiplicity
   * above one is found once per such restart: for exact multiplicities use {@link
   * #powerIteration(HessianEigenvalues.Options)}.
   *
   * @param options how many, which end of the spectrum, when to stop, eigenvectors or not
   * @return the eigenvalues, their residual norms and optionally eigenvectors
   * @throws IllegalArgumentException if {@code min(k, dimension())} is above {@code maxIterations}:
   *     that many steps could not give k Ritz values (refused before any product)
   */
  public HessianEigenvalues topEigenvalues(HessianEigenvalues.Options options) {
    Objects.requireNonNull(options, "options");
    return LanczosEigenvalues.run(space(), options);
  }

  /**
   * The {@code k} largest-magnitude eigenvalues by power iteration with deflation, as PyHessian's
   * {@code hessian.eigenvalues(maxIter, tol, top_n)} computes them: eigenvalue {@code j} starts
   * from probe draw {@code j} (normalised); every iteration makes the iterate orthogonal to the
   * eigenvectors found before (Gram-Schmidt, then normalised), multiplies by H, takes the Rayleigh
   * quotient as the estimate and the normalised product as the next iterate, and stops when two
   * successive estimates differ by less than {@code tolerance * (|previous| + 1e-6)}, when the
   * monitor accepts, or after {@code maxIterations}. The order is always by decreasing magnitude
   * ({@link HessianEigenvalues.Options#which()} is not used). PyHessian's defaults are {@code
   * tolerance 1e-3, maxIterations 100}. For comparison with {@link
   * #topEigenvalues(HessianEigenvalues.Options)}, which needs far fewer products.
   *
   * @param options how many, when to stop, eigenvectors or not
   * @return the eigenvalues in the order found, with residual norms and optionally eigenvectors
   */
  public HessianEigenvalues powerIteration(HessianEigenvalues.Options options) {
    Objects.requireNonNull(options, "options");
    return PowerIteration.run(space(), options);
  }

  /**
   * The trace by Hutchinson's method with the default stopping rule (a 1% standard error, 10 to
   * 1000 probes).
   *
   * @return the estimate with its standard error and breakdown
   */
  public HessianTrace trace() {
    return trace(HessianTrace.Options.DEFAULTS);
  }

  /**
   * The trace by Hutchinson's method: sample {@code s} is {@code z^T H z} for Rademacher probe draw
   * {@code s}; sampling stops by the standard-error rule of {@code options}. The same samples give
   * each parameter's {@code z_p^T (H z)_p} (estimating the trace of its diagonal block) and each
   * group's sum.
   *
   * @param options the stopping rule
   * @return the estimate with its standard error and breakdown
   */
  public HessianTrace trace(HessianTrace.Options options) {
    Objects.requireNonNull(options, "options");
    return HutchinsonTrace.run(space(), groupMembers, parameterNames(), groupNames, options);
  }

  /**
   * The eigenvalue spectral density by stochastic Lanczos quadrature, as PyHessian's {@code
   * hessian.density(iter, n_v)}: run {@code r} starts Lanczos (full reorthogonalisation) from probe
   * draw {@code r}, normalised, takes {@code steps} steps, and returns the eigenvalues of its
   * tridiagonal matrix as nodes and the squared first components of their eigenvectors as weights.
   * A run whose Krylov space becomes invariant stops there (fewer nodes, and a quadrature exact for
   * every polynomial) instead of continuing from a random vector as PyHessian does. {@link
   * HessianDensity#smoothed()} gives PyHessian's smoothed density on a grid.
   *
   * @param options runs and steps
   * @return the quadrature of every run
   */
  public HessianDensity spectralDensity(HessianDensity.Options options) {
    Objects.requireNonNull(options, "options");
    return LanczosQuadrature.run(space(), options);
  }

  /**
   * Frees the kept graphs (the analysis that the builder built; a group view's close does nothing).
   * Idempotent.
   */
  @Override
  public void close() {
    if (owner) {
      core.close();
    }
  }

  // --- internals ---

  private HessianSpace space() {
    core.checkOpen();
    core.prepare();
    if (space == null) {
      space = new HessianSpace(core, members);
    }
    return space;
  }

  /**
   * Builds a {@link HessianAnalysis}: parameters in one or more named groups, one loss closure (or
   * several with weights), whether to keep the graphs, the probe seed.
   */
  public static final class Builder {
    private final List<String> groupNames = new ArrayList<>();
    private final List<List<Tensor>> groups = new ArrayList<>();
    private final List<List<String>> paramNames = new ArrayList<>();
    private List<Supplier<Tensor>> losses;
    private double[] weights;
    private boolean keepGraphs = true;
    private long seed = 0x5EED_AD4E_551AL;

    private Builder() {}

    /**
     * Adds the parameters as one group named {@code "params"}.
     *
     * @param params the parameters
     * @return this builder
     */
    public Builder params(List<Tensor> params) {
      return group("params", params);
    }

    /**
     * Adds a group of parameters, named {@code "parameter i (group g, index k, shape [..])"}.
     *
     * @param name the group's name (unique)
     * @param params the group's parameters
     * @return this builder
     */
    public Builder group(String name, List<Tensor> params) {
      Objects.requireNonNull(params, "params");
      return addGroup(name, new ArrayList<>(params), null);
    }

    /**
     * Adds a group of named parameters.
     *
     * @param name the group's name (unique)
     * @param params the group's parameters
     * @param names their names, one per parameter
     * @return this builder
     */
    public Builder group(String name, List<Tensor> params, List<String> names) {
      Objects.requireNonNull(params, "params");
      Objects.requireNonNull(names, "names");
      if (names.size() != params.size()) {
        throw new IllegalArgumentException(
            names.size() + " names for " + params.size() + " parameters");
      }
      return addGroup(name, new ArrayList<>(params), new ArrayList<>(names));
    }

    /**
     * Adds all parameters of a module (recursively) as one group named {@code "model"}, named as
     * {@code named_parameters()} names them ({@code "conv1.weight"}, ...).
     *
     * @param module the module
     * @return this builder
     */
    public Builder module(Module module) {
      Objects.requireNonNull(module, "module");
      StringTensorDict dict = module.named_parameters(true);
      List<Tensor> params = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (long i = 0; i < dict.size(); i++) {
        StringTensorDictItem item = dict.get(i);
        names.add(item.key().getString());
        params.add(new Tensor(item.value()));
      }
      return addGroup("model", params, names);
    }

    /**
     * Adds an optimizer's parameter groups, named {@code "group 0"}, {@code "group 1"}, ... (for
     * per-group traces and, with {@link HessianAnalysis#group(int)}, per-group eigenvalues).
     *
     * @param optimizer the optimizer
     * @return this builder
     */
    public Builder paramGroups(Optimizer optimizer) {
      Objects.requireNonNull(optimizer, "optimizer");
      int base = groups.size();
      List<? extends ParamGroup<?>> list = optimizer.paramGroups();
      for (int g = 0; g < list.size(); g++) {
        addGroup("group " + (base + g), new ArrayList<>(list.get(g).params()), null);
      }
      return this;
    }

    private Builder addGroup(String name, List<Tensor> params, List<String> names) {
      Objects.requireNonNull(name, "name");
      if (groupNames.contains(name)) {
        throw new IllegalArgumentException(
            "a parameter group named " + name + " was already added");
      }
      groupNames.add(name);
      groups.add(params);
      paramNames.add(names);
      return this;
    }

    /**
     * The loss: a closure that computes it from the parameters and returns it (a scalar with a
     * graph), without calling {@code backward()}.
     *
     * @param loss the closure
     * @return this builder
     */
    public Builder loss(Supplier<Tensor> loss) {
      Objects.requireNonNull(loss, "loss");
      return losses(List.of(loss));
    }

    /**
     * Several losses, one per batch: H is the Hessian of their mean (each product is the mean of
     * the batches' products).
     *
     * @param losses the closures
     * @return this builder
     */
    public Builder losses(List<Supplier<Tensor>> losses) {
      Objects.requireNonNull(losses, "losses");
      double[] w = new double[losses.size()];
      Arrays.fill(w, 1.0);
      return losses(losses, w);
    }

    /**
     * Several losses with weights (for example batch sizes, as PyHessian's data-loader mode weights
     * them): H is the Hessian of {@code sum_c w_c L_c / sum_c w_c}.
     *
     * @param losses the closures
     * @param weights one positive, finite weight per closure
     * @return this builder
     */
    public Builder losses(List<Supplier<Tensor>> losses, double[] weights) {
      Objects.requireNonNull(losses, "losses");
      Objects.requireNonNull(weights, "weights");
      if (losses.isEmpty()) {
        throw new IllegalArgumentException("no loss closure given");
      }
      if (weights.length != losses.size()) {
        throw new IllegalArgumentException(
            weights.length + " weights for " + losses.size() + " loss closures");
      }
      double sum = 0;
      for (double w : weights) {
        if (!(w > 0) || Double.isInfinite(w)) {
          throw new IllegalArgumentException(
              "Invalid loss weight: " + w + " (must be positive and finite)");
        }
        sum += w;
      }
      for (Supplier<Tensor> l : losses) {
        Objects.requireNonNull(l, "loss closure");
      }
      this.losses = List.copyOf(losses);
      this.weights = new double[weights.length];
      for (int c = 0; c < weights.length; c++) {
        this.weights[c] = weights[c] / sum;
      }
      return this;
    }

    /**
     * Whether to keep each closure's gradient graph for all products (default true: the closures
     * run once). False: every product runs the closures again and frees each graph at once (less
     * memory, a forward and backward pass more per product and batch).
     *
     * @param keep whether to keep the graphs
     * @return this builder
     */
    public Builder keepGraphs(boolean keep) {
      this.keepGraphs = keep;
      return this;
    }

    /**
     * The probe generator's seed (default {@code 0x5EEDAD4E551A}, AdaHessian's).
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Checks the parameters (defined, floating point, one device, none twice) and builds the
     * analysis; the loss closures run on first use.
     *
     * @return the analysis
     */
    public HessianAnalysis build() {
      NativeCore.load();
      if (groups.isEmpty()) {
        throw new IllegalArgumentException("no parameters given");
      }
      if (losses == null) {
        throw new IllegalArgumentException("no loss closure given");
      }
      List<Tensor> all = new ArrayList<>();
      List<String> names = new ArrayList<>();
      int[][] groupMembers = new int[groups.size()][];
      for (int g = 0; g < groups.size(); g++) {
        List<Tensor> list = groups.get(g);
        groupMembers[g] = new int[list.size()];
        for (int k = 0; k < list.size(); k++) {
          Tensor p = list.get(k);
          int i = all.size();
          String who =
              paramNames.get(g) != null
                  ? paramNames.get(g).get(k)
                  : "parameter "
                      + i
                      + " (group "
                      + g
                      + ", index "
                      + k
                      + ", shape "
                      + (p == null || p.isNull() || !p.defined()
                          ? "?"
                          : Natives.shape(FusedOptimizer.shapeOf(p)))
                      + ")";
          if (p == null || p.isNull() || !p.defined()) {
            throw new IllegalArgumentException(who + " is null or undefined");
          }
          if (!p.is_floating_point()) {
            throw new IllegalArgumentException(
                who + ": expected a floating-point tensor, got " + p.scalar_type());
          }
          if (!all.isEmpty()
              && !FusedOptimizer.device(p).equals(FusedOptimizer.device(all.get(0)))) {
            throw new IllegalArgumentException(
                who
                    + " is on "
                    + FusedOptimizer.device(p)
                    + ", the first parameter on "
                    + FusedOptimizer.device(all.get(0))
                    + ": one analysis covers parameters of one device");
          }
          for (int j = 0; j < all.size(); j++) {
            if (all.get(j).is_same(p)) {
              throw new IllegalArgumentException(
                  who + " appears twice: it is also " + names.get(j));
            }
          }
          all.add(p);
          names.add(who);
          groupMembers[g][k] = i;
        }
      }
      Tensor[] params = new Tensor[all.size()];
      for (int i = 0; i < params.length; i++) {
        params[i] = Natives.keep(new Tensor(all.get(i)));
      }
      HessianCore core =
          new HessianCore(
              params, names.toArray(new String[0]), losses, weights.clone(), keepGraphs, seed);
      int[] members = new int[params.length];
      for (int i = 0; i < members.length; i++) {
        members[i] = i;
      }
      return new HessianAnalysis(core, members, groupNames, groupMembers, true);
    }
  }
}
