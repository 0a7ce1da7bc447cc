package io.github.adahessian4j.bench.compare;

/**
 * The hook of the article's "flatter regions of the loss surface" claim (row 10 of the full run):
 * the top eigenvalue and the trace of the training loss's Hessian at a run's final weights. The
 * full run calls {@link #analyse} once at the end of each main run (Adam and AdaHessian, every
 * seed), with the network still holding its final weights, and the claims table compares the
 * results like any other measure (a lower top eigenvalue and trace: a flatter minimum).
 *
 * <p>The Hessian analysis (power iteration and Hutchinson's trace on Hessian-vector products) is
 * being built on another branch; until it lands, {@link #PENDING} stands in, returns nothing, and
 * the row says "pending". To plug it in, implement this interface over the analysis and pass it
 * where {@code Claims} uses {@link #PENDING}.
 */
interface HessianAnalysis {
  /** What row 10 measures: the Hessian's top eigenvalue and its trace, at the final weights. */
  record Curvature(double topEigenvalue, double trace) {}

  /**
   * The curvature of {@code net}'s mean cross-entropy loss on {@code train} at its current weights,
   * or null where not available. {@code seed} fixes any random probes. Must leave the weights as
   * they are.
   */
  Curvature analyse(Model.Net net, DataSet.Split train, long seed);

  /** Whether this analysis measures anything; false for {@link #PENDING}. */
  default boolean available() {
    return true;
  }

  /** The stand-in until the Hessian analysis is merged: measures nothing. */
  HessianAnalysis PENDING =
      new HessianAnalysis() {
        @Override
        public Curvature analyse(Model.Net net, DataSet.Split train, long seed) {
          return null;
        }

        @Override
        public boolean available() {
          return false;
        }
      };

  /** What row 10 prints while {@link #PENDING} stands in. */
  String PENDING_TEXT = "pending (Hessian analysis not merged yet)";
}
