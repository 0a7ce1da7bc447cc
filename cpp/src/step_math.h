// The math of one element of every fused step, shared by the CPU loops and the CUDA kernels so
// the two cannot drift apart. `T` is the "opmath" type: float for float32/float16/bfloat16
// parameters, double for float64 ones (as in PyTorch's fused optimizers).
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define AH4J_HD __host__ __device__ __forceinline__
#else
#define AH4J_HD inline __attribute__((always_inline))
#endif

namespace ah4j {

// SplitMix64's step: the counter-based generator behind the probes (see adahessian4j.h).
AH4J_HD uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

AH4J_HD uint64_t probe_stream(uint64_t seed, uint64_t counter, int64_t param_id) {
  return mix64(mix64(mix64(seed) ^ counter) ^ static_cast<uint64_t>(param_id));
}

// 64 probe signs: bit j of the result decides element (word_index * 64 + j).
AH4J_HD uint64_t probe_word(uint64_t stream, int64_t word_index) {
  return mix64(stream ^ static_cast<uint64_t>(word_index));
}

// Step-dependent scalars, computed once per parameter in double (like Python floats in the
// reference optimizers) and then narrowed to the opmath type.
template <typename T>
struct AdaHessianScalars {
  T beta1, one_minus_beta1, beta2, one_minus_beta2;
  // 1 / (1 - b1^t) and 1 / sqrt(1 - b2^t)^k: multiplying by reciprocals instead of dividing keeps
  // the loop memory-bound (one division per element is left); it moves results by an ulp at most.
  T inv_bias_correction1, inv_bias_correction2_pow;
  T power, eps, lr, weight_decay;
};

// The Hessian power k, as a compile-time kind so each loop is branch-free and vectorises.
enum class Power { kOne, kHalf, kGeneral };

inline Power power_kind(double power) {
  return power == 1.0 ? Power::kOne : power == 0.5 ? Power::kHalf : Power::kGeneral;
}

template <typename T>
AdaHessianScalars<T> adahessian_scalars(double lr, double beta1, double beta2, double eps,
                                        double weight_decay, double power, int64_t step) {
  AdaHessianScalars<T> s;
  s.beta1 = static_cast<T>(beta1);
  s.one_minus_beta1 = static_cast<T>(1.0 - beta1);
  s.beta2 = static_cast<T>(beta2);
  s.one_minus_beta2 = static_cast<T>(1.0 - beta2);
  s.inv_bias_correction1 = static_cast<T>(1.0 / (1.0 - std::pow(beta1, static_cast<double>(step))));
  s.inv_bias_correction2_pow = static_cast<T>(
      1.0 / std::pow(std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step))), power));
  s.power = static_cast<T>(power);
  s.eps = static_cast<T>(eps);
  s.lr = static_cast<T>(lr);
  s.weight_decay = static_cast<T>(weight_decay);
  return s;
}

// sqrt(v)^k, with the two common powers spelled out.
template <Power K, typename T>
AH4J_HD T sqrt_pow(T v, T power) {
  const T r = std::sqrt(v);
  if constexpr (K == Power::kOne) {
    return r;
  } else if constexpr (K == Power::kHalf) {
    return std::sqrt(r);
  } else {
    return std::pow(r, power);
  }
}

// The authors' update, in the order of their PyTorch ops:
//   exp_avg.mul_(b1).add_(1 - b1, g); exp_hessian_diag_sq.mul_(b2).addcmul_(1 - b2, D, D)
//   denom = (v.sqrt() ** k) / sqrt(bc2) ** k + eps;  p = p - lr * (m / bc1 / denom + wd * p)
template <Power K, typename T>
AH4J_HD void adahessian_element(T& p, T g, T d, T& m, T& v, const AdaHessianScalars<T>& s) {
  m = m * s.beta1 + s.one_minus_beta1 * g;
  v = v * s.beta2 + s.one_minus_beta2 * d * d;
  T denom = sqrt_pow<K>(v, s.power) * s.inv_bias_correction2_pow + s.eps;
  p = p - s.lr * (m * s.inv_bias_correction1 / denom + s.weight_decay * p);
}

template <typename T>
struct AdamScalars {
  T beta1, one_minus_beta1, beta2, one_minus_beta2;
  T inv_sqrt_bias_correction2, step_size, eps, weight_decay, decay_factor;
  bool amsgrad, maximize, decoupled;
};

template <typename T>
AdamScalars<T> adam_scalars(double lr, double beta1, double beta2, double eps, double weight_decay,
                            int64_t step, bool amsgrad, bool maximize, bool decoupled) {
  AdamScalars<T> s;
  s.beta1 = static_cast<T>(beta1);
  s.one_minus_beta1 = static_cast<T>(1.0 - beta1);
  s.beta2 = static_cast<T>(beta2);
  s.one_minus_beta2 = static_cast<T>(1.0 - beta2);
  s.inv_sqrt_bias_correction2 =
      static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step))));
  s.step_size = static_cast<T>(lr / (1.0 - std::pow(beta1, static_cast<double>(step))));
  s.eps = static_cast<T>(eps);
  s.weight_decay = static_cast<T>(weight_decay);
  s.decay_factor = static_cast<T>(1.0 - lr * weight_decay);
  s.amsgrad = amsgrad;
  s.maximize = maximize;
  s.decoupled = decoupled;
  return s;
}

// torch::optim::Adam / AdamW (libtorch's C++ optimizers), op for op:
//   Adam:  g += wd * p.   AdamW: p *= 1 - lr * wd.
//   m = m * b1 + (1 - b1) g;  v = v * b2 + (1 - b2) g g;  vmax = max(vmax, v) (amsgrad)
//   p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
template <typename T>
AH4J_HD void adam_element(T& p, T g, T& m, T& v, T* vmax, const AdamScalars<T>& s) {
  if (s.maximize) g = -g;
  if (s.decoupled) {
    p = p * s.decay_factor;
  } else {
    g = g + s.weight_decay * p;
  }
  m = m * s.beta1 + s.one_minus_beta1 * g;
  v = v * s.beta2 + s.one_minus_beta2 * g * g;
  T second = v;
  if (s.amsgrad) {
    *vmax = *vmax > v ? *vmax : v;
    second = *vmax;
  }
  T denom = std::sqrt(second) * s.inv_sqrt_bias_correction2 + s.eps;
  p = p - s.step_size * (m / denom);
}

}  // namespace ah4j
