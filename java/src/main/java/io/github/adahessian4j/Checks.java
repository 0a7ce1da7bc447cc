package io.github.adahessian4j;

/** Hyperparameter checks, worded as PyTorch words them so users recognise the messages. */
final class Checks {
  private Checks() {}

  static void learningRate(double lr) {
    if (!(lr >= 0.0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("Invalid learning rate: " + lr);
    }
  }

  static void epsilon(double eps) {
    if (!(eps >= 0.0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("Invalid epsilon value: " + eps);
    }
  }

  static void beta(int index, double beta) {
    if (!(beta >= 0.0 && beta < 1.0)) {
      throw new IllegalArgumentException("Invalid beta parameter at index " + index + ": " + beta);
    }
  }

  static void weightDecay(double weightDecay) {
    if (!(weightDecay >= 0.0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("Invalid weight_decay value: " + weightDecay);
    }
  }

  static void hessianPower(double power) {
    if (!(power >= 0.0 && power <= 1.0)) {
      throw new IllegalArgumentException("Invalid Hessian power value: " + power);
    }
  }

  static void positive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(
          "Invalid " + name + " value: " + value + " (must be >= 1)");
    }
  }
}
