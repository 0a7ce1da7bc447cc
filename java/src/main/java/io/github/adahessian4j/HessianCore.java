package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** What the analysis and its group views share: parameters, closures, kept graphs, counters. */
final class HessianCore {
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

  HessianCore(
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
          TensorVector g = gradientsWithGraph(loss, ids);
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
    TensorVector g = gradientsWithGraph(evaluate(c), ids);
    Tensor[] out = new Tensor[params.length];
    for (int k = 0; k < ids.length; k++) {
      Tensor gk = g.get(k);
      if (gk.defined() && gk.requires_grad()) {
        out[ids[k]] = new Tensor(gk);
      }
    }
    return out;
  }

  /** {@code torch.grad(loss, params[ids], retain_graph, create_graph, allow_unused)}. */
  private TensorVector gradientsWithGraph(Tensor loss, int[] ids) {
    TensorVector inputs = new TensorVector();
    for (int i : ids) {
      inputs.push_back(params[i]);
    }
    return torch.grad(
        new TensorVector(loss), inputs, new TensorVector(), new BoolOptional(true), true, true);
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
