package io.github.adahessian4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The analysed parameters as one flat float64 vector space: the used members in order, each
 * flattened; products, probes and the split back into parameter shapes.
 */
final class HessianSpace {
  final HessianCore core;

  /** Positions in the core's parameter list that the analysis covers. */
  final int[] members;

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

  HessianSpace(HessianCore core, int[] members) {
    this.core = core;
    this.members = members;
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
          TensorVector hv;
          try {
            hv =
                torch.grad(
                    outputs, inputs, gradOutputs, new BoolOptional(core.keepGraphs), false, true);
          } catch (RuntimeException e) {
            OptimizerException refusal =
                DoubleBackward.notTwiceDifferentiable(e, "Hessian analysis");
            throw refusal != null ? refusal : e;
          }
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

  static List<Tensor> keepAll(PointerScope scope, List<Tensor> tensors) {
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
}
