package io.github.adahessian4j;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * The Lanczos recurrence with full reorthogonalisation. {@code basis} row {@code j} is {@code v_j};
 * {@code alpha[j] = v_j^T H v_j}; {@code beta[j]} is the norm of the residual after step j (the
 * coupling of {@code v_j} and {@code v_{j+1}}, 0 across a restart).
 */
final class Lanczos implements AutoCloseable {
  /** A Lanczos residual this small against the norm estimate means an invariant subspace. */
  private static final double BREAKDOWN = 1e-12;

  final HessianSpace s;
  final KrylovBasis basis;
  final double[] alpha;
  final double[] beta;
  int m;
  private double normEstimate;
  private Tensor residual;

  Lanczos(HessianSpace s, int capacity) {
    this.s = s;
    this.basis = new KrylovBasis(s.dim);
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
    double a = HessianSpace.dot(v, w);
    w.sub_(v, new Scalar(a));
    if (m > 0 && beta[m - 1] != 0) {
      w.sub_(basis.row(m - 1), new Scalar(beta[m - 1]));
    }
    basis.subtractProjections(w, 2);
    double b = HessianSpace.norm(w);
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
   * {@code restart}, probe draw {@code draw} made orthogonal to the basis (and {@code beta[m - 1] =
   * 0}). False when nothing can be appended.
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
    double nz = HessianSpace.norm(z);
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
