package io.github.adahessian4j;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringTensorDictItem;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
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
  /** Rows per block of the Lanczos basis (blocks grow with the steps taken). */
  private static final int BLOCK = 32;

  /** A Lanczos residual this small against the norm estimate means an invariant subspace. */
  private static final double BREAKDOWN = 1e-12;

  private final Core core;

  /** Positions in the core's parameter list that this analysis covers. */
  private final int[] members;

  private final List<String> groupNames;

  /** For each of this analysis's groups, positions in {@link #members}. */
  private final int[][] groupMembers;

  private final boolean owner;
  private Space space;

  private HessianAnalysis(
      Core core, int[] members, List<String> groupNames, int[][] groupMembers, boolean owner) {
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
    Space s = space();
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
   * The {@code k} largest eigenvalues by Lanczos with the default options (tolerance 1e-6, at most
   * 200 steps, no eigenvectors).
   *
   * @param k how many
   * @return the eigenvalues
   */
  public HessianEigenvalues topEigenvalues(int k) {
    return topEigenvalues(HessianEigenvalues.Options.DEFAULTS.withK(k));
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
   */
  public HessianEigenvalues topEigenvalues(HessianEigenvalues.Options options) {
    Objects.requireNonNull(options, "options");
    Space s = space();
    int cap = (int) Math.min(options.maxIterations(), s.dim);
    if (s.dim == 0) {
      return new HessianEigenvalues(
          HessianEigenvalues.Method.LANCZOS,
          new double[0],
          new double[0],
          List.of(),
          0,
          0,
          true,
          s.skipped);
    }
    try (PointerScope scope = new PointerScope();
        Krylov krylov = new Krylov(s, cap)) {
      long before = core.hvProducts;
      krylov.start(s.unitProbe(0));
      long restartDraw = 1;
      int blockStart = 0;
      boolean converged = false;
      Ritz ritz = null;
      int[] wanted = new int[0];
      while (true) {
        try (PointerScope step = new PointerScope()) {
          krylov.step();
          ritz = Ritz.of(krylov.alpha, krylov.beta, krylov.m);
          wanted = ritz.wanted(options.which(), options.k());
          double norm = ritz.maxAbs();
          if (krylov.m == s.dim) {
            converged = true; // the whole space: every Ritz value is exact
            break;
          }
          if (options.monitor() != null
              && options.monitor().accept(core.hvProducts - before, ritz.values(wanted))) {
            converged = true;
            break;
          }
          if (krylov.brokeDown()) {
            // An invariant subspace: its Ritz values are exact. If it found fewer than k, or if
            // this block found a wanted one (there may be further copies of it), go on from a
            // fresh probe; else the wanted ones are known.
            boolean more =
                wanted.length < options.k()
                    || blockContributes(
                        krylov,
                        blockStart,
                        ritz.values[wanted[wanted.length - 1]],
                        norm,
                        options.which());
            if (!more) {
              converged = true;
              break;
            }
            if (krylov.m >= cap) {
              break;
            }
            if (!krylov.advance(true, restartDraw++)) {
              converged = true; // only the zero vector is left: the space is exhausted
              break;
            }
            blockStart = krylov.m;
            continue;
          }
          boolean rule = options.tolerance() > 0 && wanted.length == options.k();
          for (int i : wanted) {
            rule &= ritz.residual(i, krylov.beta[krylov.m - 1]) <= options.tolerance() * norm;
          }
          if (rule) {
            converged = true;
            break;
          }
          if (krylov.m >= cap) {
            break;
          }
          krylov.advance(false, 0);
        }
      }
      double lastBeta = krylov.beta[krylov.m - 1];
      double[] values = ritz.values(wanted);
      double[] residuals = new double[wanted.length];
      for (int j = 0; j < wanted.length; j++) {
        residuals[j] = ritz.residual(wanted[j], lastBeta);
      }
      List<List<Tensor>> vectors = new ArrayList<>();
      if (options.eigenvectors()) {
        for (int i : wanted) {
          vectors.add(keepAll(scope, s.perMember(krylov.basis.combine(ritz.vector(i)))));
        }
      }
      return new HessianEigenvalues(
          HessianEigenvalues.Method.LANCZOS,
          values,
          residuals,
          vectors,
          krylov.m,
          core.hvProducts - before,
          converged,
          s.skipped);
    }
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
    Space s = space();
    int k = (int) Math.min(options.k(), s.dim);
    if (k == 0) {
      return new HessianEigenvalues(
          HessianEigenvalues.Method.POWER_ITERATION,
          new double[0],
          new double[0],
          List.of(),
          0,
          0,
          true,
          s.skipped);
    }
    long before = core.hvProducts;
    double[] values = new double[k];
    double[] residuals = new double[k];
    int iterations = 0;
    boolean allConverged = true;
    try (PointerScope scope = new PointerScope();
        Basis found = new Basis(s.dim);
        Basis current = new Basis(s.dim)) {
      for (int j = 0; j < k; j++) {
        try (PointerScope start = new PointerScope()) {
          current.set(0, s.unitProbe(j));
        }
        double previous = Double.NaN;
        boolean converged = false;
        for (int it = 0; it < options.maxIterations(); it++) {
          try (PointerScope step = new PointerScope()) {
            Tensor v = current.row(0).clone();
            found.subtractProjections(v, 1);
            v.div_(new Scalar(norm(v)));
            Tensor hv = s.product(v);
            iterations++;
            double estimate = dot(hv, v);
            double hvNorm = norm(hv);
            values[j] = estimate;
            residuals[j] = Math.sqrt(Math.max(0, hvNorm * hvNorm - estimate * estimate));
            if (hvNorm > 0) {
              hv.div_(new Scalar(hvNorm));
              current.set(0, hv);
            } else {
              current.set(0, v); // H v = 0: v is an eigenvector of eigenvalue 0
              converged = true;
              break;
            }
            if (options.monitor() != null
                && options
                    .monitor()
                    .accept(core.hvProducts - before, Arrays.copyOf(values, j + 1))) {
              converged = true;
              break;
            }
            if (it > 0
                && options.tolerance() > 0
                && Math.abs(estimate - previous) / (Math.abs(previous) + 1e-6)
                    < options.tolerance()) {
              converged = true;
              break;
            }
            previous = estimate;
          }
        }
        allConverged &= converged;
        try (PointerScope add = new PointerScope()) {
          found.set(j, current.row(0));
        }
      }
      List<List<Tensor>> vectors = new ArrayList<>();
      if (options.eigenvectors()) {
        for (int j = 0; j < k; j++) {
          vectors.add(keepAll(scope, s.perMember(found.row(j).clone())));
        }
      }
      return new HessianEigenvalues(
          HessianEigenvalues.Method.POWER_ITERATION,
          values,
          residuals,
          vectors,
          iterations,
          core.hvProducts - before,
          allConverged,
          s.skipped);
    }
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
    Space s = space();
    int groups = groupMembers.length;
    long before = core.hvProducts;
    List<double[]> perSample = new ArrayList<>(); // per member
    List<Double> totals = new ArrayList<>();
    boolean converged = s.dim == 0;
    if (s.dim > 0) {
      for (int n = 0; n < options.maxSamples(); n++) {
        double[] blocks = new double[members.length];
        try (PointerScope sample = new PointerScope()) {
          Tensor z = s.probe(n);
          Tensor zhz = s.product(z).mul_(z);
          Tensor[] parts = s.unflatten(zhz);
          double total = 0;
          for (int j = 0; j < s.ids.length; j++) {
            blocks[s.positions[j]] = parts[j].sum().item_double();
            total += blocks[s.positions[j]];
          }
          perSample.add(blocks);
          totals.add(total);
        }
        int count = n + 1;
        if (count >= options.minSamples()) {
          double[] ms = meanAndError(totals);
          if (ms[1] <= options.relativeError() * Math.abs(ms[0])
              || ms[1] <= options.absoluteError()) {
            converged = true;
            break;
          }
        }
      }
    }
    int count = totals.size();
    double[] overall = meanAndError(totals);
    double[] perParam = new double[members.length];
    double[] perParamError = new double[members.length];
    for (int k = 0; k < members.length; k++) {
      List<Double> values = new ArrayList<>(count);
      for (double[] b : perSample) {
        values.add(b[k]);
      }
      double[] ms = meanAndError(values);
      perParam[k] = ms[0];
      perParamError[k] = ms[1];
    }
    double[] perGroup = new double[groups];
    double[] perGroupError = new double[groups];
    for (int g = 0; g < groups; g++) {
      List<Double> values = new ArrayList<>(count);
      for (double[] b : perSample) {
        double sum = 0;
        for (int k : groupMembers[g]) {
          sum += b[k];
        }
        values.add(sum);
      }
      double[] ms = meanAndError(values);
      perGroup[g] = ms[0];
      perGroupError[g] = ms[1];
    }
    double[] samples = totals.stream().mapToDouble(Double::doubleValue).toArray();
    return new HessianTrace(
        overall[0],
        overall[1],
        count,
        core.hvProducts - before,
        converged,
        samples,
        parameterNames(),
        perParam,
        perParamError,
        groupNames,
        perGroup,
        perGroupError,
        s.skipped);
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
    Space s = space();
    long before = core.hvProducts;
    List<HessianDensity.Run> runs = new ArrayList<>();
    if (s.dim == 0) {
      for (int r = 0; r < options.runs(); r++) {
        runs.add(new HessianDensity.Run(new double[] {0}, new double[] {1}, 0));
      }
      return new HessianDensity(runs, 0, 0, s.skipped);
    }
    int steps = (int) Math.min(options.steps(), s.dim);
    for (int r = 0; r < options.runs(); r++) {
      try (PointerScope run = new PointerScope();
          Krylov krylov = new Krylov(s, steps)) {
        krylov.start(s.unitProbe(r));
        while (true) {
          try (PointerScope step = new PointerScope()) {
            krylov.step();
            if (krylov.m >= steps || !krylov.advance(false, 0)) {
              break;
            }
          }
        }
        Ritz ritz = Ritz.of(krylov.alpha, krylov.beta, krylov.m);
        double[] weights = new double[krylov.m];
        for (int i = 0; i < krylov.m; i++) {
          double first = ritz.vectors[i]; // row 0, column i
          weights[i] = first * first;
        }
        runs.add(new HessianDensity.Run(ritz.values, weights, krylov.m));
      }
    }
    return new HessianDensity(runs, s.dim, core.hvProducts - before, s.skipped);
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

  private Space space() {
    core.checkOpen();
    core.prepare();
    if (space == null) {
      space = new Space();
    }
    return space;
  }

  /**
   * Whether the Krylov block that starts at step {@code from} has a Ritz value strictly beyond
   * {@code kth}, the last wanted value of the whole basis (by more than a rounding margin).
   */
  private static boolean blockContributes(
      Krylov krylov, int from, double kth, double norm, HessianEigenvalues.Which which) {
    int size = krylov.m - from;
    Ritz block =
        Ritz.of(
            Arrays.copyOfRange(krylov.alpha, from, krylov.m),
            Arrays.copyOfRange(krylov.beta, from, krylov.m),
            size);
    double margin = 1e-9 * norm;
    for (double v : block.values) {
      boolean beyond =
          switch (which) {
            case LARGEST -> v > kth + margin;
            case SMALLEST -> v < kth - margin;
            case LARGEST_MAGNITUDE -> Math.abs(v) > Math.abs(kth) + margin;
          };
      if (beyond) {
        return true;
      }
    }
    return false;
  }

  private static List<Tensor> keepAll(PointerScope scope, List<Tensor> tensors) {
    for (Tensor t : tensors) {
      Natives.keep(scope, t);
    }
    return tensors;
  }

  static double dot(Tensor a, Tensor b) {
    return torch.dot(a, b).item_double();
  }

  static double norm(Tensor a) {
    return Math.sqrt(dot(a, a));
  }

  /** {mean, standard error} (n - 1 in the variance; 0 for fewer than two values). */
  static double[] meanAndError(List<Double> values) {
    int n = values.size();
    if (n == 0) {
      return new double[] {0, 0};
    }
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= n;
    if (n < 2) {
      return new double[] {mean, Double.POSITIVE_INFINITY};
    }
    double ss = 0;
    for (double v : values) {
      ss += (v - mean) * (v - mean);
    }
    return new double[] {mean, Math.sqrt(ss / (n - 1) / n)};
  }

  /**
   * The analysed parameters as one flat float64 vector space: the used members in order, each
   * flattened; products, probes and the split back into parameter shapes.
   */
  private final class Space {
    /** Core indices of the used members. */
    final int[] ids;

    /** Their positions in {@link #members}. */
    final int[] positions;

    final long[] numel;
    final long[] offset;
    final long[][] shapes;
    final long dim;
    final List<String> skipped;
    private final int[] indexOfPosition;

    Space() {
      List<Integer> used = new ArrayList<>();
      List<String> skip = new ArrayList<>();
      for (int k = 0; k < members.length; k++) {
        int i = members[k];
        if (core.skipReason[i] == null) {
          used.add(k);
        } else {
          skip.add(core.names[i] + " (" + core.skipReason[i] + ")");
        }
      }
      positions = used.stream().mapToInt(Integer::intValue).toArray();
      ids = new int[positions.length];
      numel = new long[positions.length];
      offset = new long[positions.length];
      shapes = new long[positions.length][];
      indexOfPosition = new int[members.length];
      Arrays.fill(indexOfPosition, -1);
      long total = 0;
      for (int j = 0; j < positions.length; j++) {
        ids[j] = members[positions[j]];
        indexOfPosition[positions[j]] = j;
        Tensor p = core.params[ids[j]];
        shapes[j] = FusedOptimizer.shapeOf(p);
        numel[j] = p.numel();
        offset[j] = total;
        total += numel[j];
      }
      dim = total;
      skipped = List.copyOf(skip);
    }

    /** The index in {@link #ids} of member position {@code k}, or -1 if it is skipped. */
    int indexOf(int k) {
      return indexOfPosition[k];
    }

    /** One flat float64 vector from per-used-parameter tensors. */
    Tensor flatten(Tensor[] parts) {
      TensorVector flat = new TensorVector();
      for (Tensor part : parts) {
        flat.push_back(part.reshape(-1).to(torch.ScalarType.Double));
      }
      return torch.cat(flat);
    }

    /** Views of a flat vector in the used parameters' shapes (same dtype as {@code flat}). */
    Tensor[] unflatten(Tensor flat) {
      Tensor[] parts = new Tensor[ids.length];
      for (int j = 0; j < ids.length; j++) {
        parts[j] = flat.narrow(0, offset[j], numel[j]).reshape(shapes[j]);
      }
      return parts;
    }

    /** A flat vector as one new float64 tensor per member (zeros for skipped ones). */
    List<Tensor> perMember(Tensor flat) {
      Tensor[] parts = unflatten(flat);
      List<Tensor> out = new ArrayList<>(members.length);
      for (int k = 0; k < members.length; k++) {
        int j = indexOf(k);
        out.add(
            j >= 0
                ? parts[j].clone()
                : torch.zeros_like(core.params[members[k]]).to(torch.ScalarType.Double));
      }
      return out;
    }

    /** Rademacher probe draw {@code counter} as a flat float64 vector (entries +-1). */
    Tensor probe(long counter) {
      Tensor[] z =
          core.hutchinson.draw(core.params, ids, core.seed, counter, "Hessian analysis probe");
      return flatten(z);
    }

    /** Probe draw {@code counter}, normalised. */
    Tensor unitProbe(long counter) {
      Tensor z = probe(counter);
      return z.div_(new Scalar(Math.sqrt((double) dim)));
    }

    /**
     * {@code H v} for a flat float64 {@code v}: the weighted sum over the closures of {@code
     * torch.grad(g, params, v)}, each in the parameters' dtype. A new tensor in the caller's scope;
     * every temporary (and, without kept graphs, each closure's graph) is freed.
     */
    Tensor product(Tensor v) {
      Tensor out = torch.zeros_like(v);
      try (PointerScope inner = new PointerScope()) {
        Tensor[] outParts = unflatten(out);
        Tensor[] vParts = unflatten(v);
        for (int j = 0; j < ids.length; j++) {
          vParts[j] = vParts[j].to(core.params[ids[j]].scalar_type());
        }
        for (int c = 0; c < core.losses.size(); c++) {
          try (PointerScope batch = new PointerScope()) {
            Tensor[] g = core.keepGraphs ? core.grads[c] : core.gradients(c, ids);
            TensorVector outputs = new TensorVector();
            TensorVector gradOutputs = new TensorVector();
            TensorVector inputs = new TensorVector();
            for (int j = 0; j < ids.length; j++) {
              inputs.push_back(core.params[ids[j]]);
              Tensor gj = g[ids[j]];
              if (gj != null) {
                outputs.push_back(gj);
                gradOutputs.push_back(vParts[j]);
              }
            }
            if (outputs.size() == 0) {
              continue;
            }
            TensorVector hv =
                torch.grad(
                    outputs, inputs, gradOutputs, new BoolOptional(core.keepGraphs), false, true);
            Scalar weight = new Scalar(core.weights[c]);
            for (int j = 0; j < ids.length; j++) {
              Tensor h = hv.get(j);
              if (h.defined()) {
                outParts[j].add_(h.to(torch.ScalarType.Double), weight);
              }
            }
          }
        }
      }
      core.hvProducts++;
      return out;
    }
  }

  /** Rows of float64 vectors in blocks of {@link #BLOCK}, owned here (not by any scope). */
  private static final class Basis implements AutoCloseable {
    private final long dim;
    private final List<Tensor> blocks = new ArrayList<>();
    int count;

    Basis(long dim) {
      this.dim = dim;
    }

    /** Sets row {@code i} (at most {@link #count}: then appends) to a copy of {@code v}. */
    void set(int i, Tensor v) {
      if (i == count) {
        if (count % BLOCK == 0) {
          blocks.add(Natives.keep(v.new_zeros(BLOCK, dim)));
        }
        count++;
      }
      row(i).copy_(v);
    }

    /** A view of row {@code i}. */
    Tensor row(int i) {
      return blocks.get(i / BLOCK).select(0, i % BLOCK);
    }

    /** {@code w -= V^T (V w)}, {@code passes} times (classical Gram-Schmidt, reorthogonalised). */
    void subtractProjections(Tensor w, int passes) {
      for (int pass = 0; pass < passes; pass++) {
        for (int b = 0; b * BLOCK < count; b++) {
          Tensor rows = blocks.get(b).narrow(0, 0, Math.min(BLOCK, count - b * BLOCK));
          w.sub_(torch.mv(rows.t(), torch.mv(rows, w)));
        }
      }
    }

    /** {@code sum_i s[i] * row(i)} for the first {@code s.length} rows, as a new tensor. */
    Tensor combine(double[] s) {
      Tensor out = row(0).mul(new Scalar(s[0]));
      for (int i = 1; i < s.length; i++) {
        out.add_(row(i), new Scalar(s[i]));
      }
      return out;
    }

    @Override
    public void close() {
      for (Tensor t : blocks) {
        t.close();
      }
      blocks.clear();
      count = 0;
    }
  }

  /**
   * The Lanczos recurrence with full reorthogonalisation. {@code basis} row {@code j} is {@code
   * v_j}; {@code alpha[j] = v_j^T H v_j}; {@code beta[j]} is the norm of the residual after step j
   * (the coupling of {@code v_j} and {@code v_{j+1}}, 0 across a restart).
   */
  private final class Krylov implements AutoCloseable {
    final Space s;
    final Basis basis;
    final double[] alpha;
    final double[] beta;
    int m;
    private double normEstimate;
    private Tensor residual;

    Krylov(Space s, int capacity) {
      this.s = s;
      this.basis = new Basis(s.dim);
      this.alpha = new double[capacity];
      this.beta = new double[capacity];
    }

    void start(Tensor v0) {
      basis.set(0, v0);
    }

    /** Step m: the product with {@code v_m}, alpha, the reorthogonalised residual and beta. */
    void step() {
      Tensor v = basis.row(m);
      Tensor w = s.product(v);
      double a = dot(v, w);
      w.sub_(v, new Scalar(a));
      if (m > 0 && beta[m - 1] != 0) {
        w.sub_(basis.row(m - 1), new Scalar(beta[m - 1]));
      }
      basis.subtractProjections(w, 2);
      double b = norm(w);
      alpha[m] = a;
      beta[m] = b;
      normEstimate = Math.max(normEstimate, Math.abs(a) + b + (m > 0 ? beta[m - 1] : 0));
      m++;
      if (residual != null) {
        residual.close();
      }
      residual = Natives.keep(w);
    }

    /** Whether the last residual vanished (against the norm estimate): an invariant subspace. */
    boolean brokeDown() {
      return !(beta[m - 1] > BREAKDOWN * normEstimate);
    }

    /**
     * Appends {@code v_m}: the normalised residual; after a breakdown (an invariant subspace), with
     * {@code restart}, probe draw {@code draw} made orthogonal to the basis (and {@code beta[m - 1]
     * = 0}). False when nothing can be appended.
     */
    boolean advance(boolean restart, long draw) {
      if (m >= s.dim) {
        return false;
      }
      if (!brokeDown()) {
        basis.set(m, residual.div(new Scalar(beta[m - 1])));
        return true;
      }
      if (!restart) {
        return false;
      }
      beta[m - 1] = 0;
      Tensor z = s.unitProbe(draw);
      basis.subtractProjections(z, 2);
      double nz = norm(z);
      if (!(nz > 1e-8)) {
        return false;
      }
      basis.set(m, z.div_(new Scalar(nz)));
      return true;
    }

    @Override
    public void close() {
      basis.close();
      if (residual != null) {
        residual.close();
        residual = null;
      }
    }
  }

  /**
   * Eigen-decomposition of the m-by-m tridiagonal matrix: Ritz values ascending, vectors
   * column-wise.
   */
  private record Ritz(double[] values, double[] vectors, int m) {
    static Ritz of(double[] alpha, double[] beta, int m) {
      double[] t = new double[m * m];
      for (int i = 0; i < m; i++) {
        t[i * m + i] = alpha[i];
        if (i + 1 < m) {
          t[i * m + i + 1] = beta[i];
          t[(i + 1) * m + i] = beta[i];
        }
      }
      try (PointerScope scope = new PointerScope()) {
        Tensor matrix = AbstractTensor.create(t, m, m);
        T_TensorTensor_T eigh = torch.linalg_eigh(matrix);
        return new Ritz(read(eigh.get0(), m), read(eigh.get1(), m * m), m);
      }
    }

    private static double[] read(Tensor t, int n) {
      Tensor c = t.contiguous();
      DoubleBuffer b = c.createBuffer();
      double[] out = new double[n];
      b.get(out);
      return out;
    }

    /** Residual norm of Ritz pair {@code i}: {@code beta_last * |s_{m-1,i}|}. */
    double residual(int i, double lastBeta) {
      return lastBeta * Math.abs(vectors[(m - 1) * m + i]);
    }

    /** Eigenvector {@code i} of T (column i). */
    double[] vector(int i) {
      double[] s = new double[m];
      for (int r = 0; r < m; r++) {
        s[r] = vectors[r * m + i];
      }
      return s;
    }

    double maxAbs() {
      double max = 0;
      for (double v : values) {
        max = Math.max(max, Math.abs(v));
      }
      return max;
    }

    double[] values(int[] idx) {
      double[] out = new double[idx.length];
      for (int j = 0; j < idx.length; j++) {
        out[j] = values[idx[j]];
      }
      return out;
    }

    /** Indices of the {@code k} wanted Ritz values, in the result's order. */
    int[] wanted(HessianEigenvalues.Which which, int k) {
      int n = Math.min(k, m);
      Integer[] order = new Integer[m];
      for (int i = 0; i < m; i++) {
        order[i] = i;
      }
      switch (which) {
        case LARGEST -> Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a]));
        case SMALLEST -> Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        case LARGEST_MAGNITUDE ->
            Arrays.sort(order, (a, b) -> Double.compare(Math.abs(values[b]), Math.abs(values[a])));
        default -> throw new IllegalStateException(String.valueOf(which));
      }
      int[] out = new int[n];
      for (int j = 0; j < n; j++) {
        out[j] = order[j];
      }
      return out;
    }
  }

  /** What the analysis and its group views share: parameters, closures, kept graphs, counters. */
  private static final class Core {
    final Tensor[] params;
    final String[] names;
    final List<Supplier<Tensor>> losses;
    final double[] weights;
    final boolean keepGraphs;
    final long seed;
    final NativeArgs args = new NativeArgs();
    final Hutchinson hutchinson = new Hutchinson(args);

    /**
     * Per closure, per parameter: the gradient with its graph (null where undefined or without
     * graph).
     */
    Tensor[][] grads;

    String[] skipReason;
    double loss;
    long hvProducts;
    boolean prepared;
    boolean closed;

    Core(
        Tensor[] params,
        String[] names,
        List<Supplier<Tensor>> losses,
        double[] weights,
        boolean keepGraphs,
        long seed) {
      this.params = params;
      this.names = names;
      this.losses = losses;
      this.weights = weights;
      this.keepGraphs = keepGraphs;
      this.seed = seed;
      args.capacity(params.length);
    }

    void checkOpen() {
      if (closed) {
        throw new IllegalStateException("this HessianAnalysis is closed");
      }
    }

    /** Evaluates every closure once: which parameters are used, the loss, the kept gradients. */
    void prepare() {
      if (prepared) {
        return;
      }
      int n = params.length;
      String[] reason = new String[n];
      List<Integer> differentiable = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (!params[i].requires_grad()) {
          reason[i] = "does not require grad";
        } else if (params[i].numel() == 0) {
          reason[i] = "has no elements";
        } else {
          differentiable.add(i);
        }
      }
      int[] ids = differentiable.stream().mapToInt(Integer::intValue).toArray();
      boolean[] hasGrad = new boolean[n];
      Tensor[][] kept = new Tensor[losses.size()][];
      double lossSum = 0;
      try {
        for (int c = 0; c < losses.size(); c++) {
          kept[c] = new Tensor[n];
          try (PointerScope scope = new PointerScope()) {
            Tensor loss = evaluate(c);
            lossSum += weights[c] * loss.item_double();
            if (ids.length == 0) {
              continue;
            }
            TensorVector g =
                torch.grad(
                    new TensorVector(loss),
                    inputs(ids),
                    new TensorVector(),
                    new BoolOptional(true),
                    true,
                    true);
            for (int k = 0; k < ids.length; k++) {
              Tensor gk = g.get(k);
              if (gk.defined()) {
                hasGrad[ids[k]] = true;
                if (keepGraphs && gk.requires_grad()) {
                  kept[c][ids[k]] = Natives.keep(scope, new Tensor(gk));
                }
              }
            }
          }
        }
      } catch (RuntimeException e) {
        release(kept);
        throw e;
      }
      for (int i : ids) {
        if (!hasGrad[i]) {
          reason[i] = "no gradient: the loss does not use it";
        }
      }
      grads = keepGraphs ? kept : null;
      if (!keepGraphs) {
        release(kept);
      }
      skipReason = reason;
      loss = lossSum;
      prepared = true;
    }

    /** Closure {@code c}'s gradients with their graphs, for {@code ids}, in the current scope. */
    Tensor[] gradients(int c, int[] ids) {
      Tensor loss = evaluate(c);
      TensorVector g =
          torch.grad(
              new TensorVector(loss),
              inputs(ids),
              new TensorVector(),
              new BoolOptional(true),
              true,
              true);
      Tensor[] out = new Tensor[params.length];
      for (int k = 0; k < ids.length; k++) {
        Tensor gk = g.get(k);
        if (gk.defined() && gk.requires_grad()) {
          out[ids[k]] = new Tensor(gk);
        }
      }
      return out;
    }

    private TensorVector inputs(int[] ids) {
      TensorVector v = new TensorVector();
      for (int i : ids) {
        v.push_back(params[i]);
      }
      return v;
    }

    private Tensor evaluate(int c) {
      Tensor loss = DoubleBackward.forward(losses.get(c));
      try {
        FusedOptimizer.checkLoss(loss);
      } catch (OptimizerException e) {
        throw new OptimizerException("Hessian analysis: loss closure " + c + ": " + e.getMessage());
      }
      return loss;
    }

    private static void release(Tensor[][] kept) {
      for (Tensor[] row : kept) {
        if (row != null) {
          for (Tensor t : row) {
            if (t != null) {
              t.close();
            }
          }
        }
      }
    }

    void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (grads != null) {
        release(grads);
        grads = null;
      }
      for (Tensor p : params) {
        p.close();
      }
      args.close();
    }
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
      Core core =
          new Core(params, names.toArray(new String[0]), losses, weights.clone(), keepGraphs, seed);
      int[] members = new int[params.length];
      for (int i = 0; i < members.length; i++) {
        members[i] = i;
      }
      return new HessianAnalysis(core, members, groupNames, groupMembers, true);
    }
  }
}
