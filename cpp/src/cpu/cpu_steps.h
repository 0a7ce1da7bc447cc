// The CPU kernel layer: the element loops of every entry point, over chunks of all tensors of a
// call on libtorch's OpenMP threads (parallel.h), each chunk with the best instruction set the
// CPU has. The same signatures as the CUDA layer's (../cuda/cuda_steps.h), plus the two passes
// that only the CPU has. The entry points (../entry_points.cpp) validate all inputs first and
// call these for cpu tensors; each returns when its tensors are written.
#pragma once

#include <cstdint>
#include <vector>

#include "../calls.h"

namespace ah4j {
namespace cpu {

void rademacher(const RademacherCall& call);
void hutchinson(const HutchinsonCall& call);
void adahessian(const AdaHessianCall& call);
void adam(const AdamCall& call);

// CPU only. Per tensor: non_finite[i] (1 if it holds NaN or infinity), and the sums of x^2 and
// |x| and the max of |x|, as doubles, in a fixed order (see ah4j_tensor_stats).
void tensor_stats(const std::vector<TensorView>& tensors, int32_t* non_finite, double* sum_sq,
                  double* sum_abs, double* max_abs);

// CPU only. The index of the first tensor that holds NaN or infinity, or -1.
int64_t find_non_finite(const std::vector<TensorView>& tensors);

// CPU only. The memory limit of the steps (ah4j_step_bytes_only_): x = g - x for x in p, m, v.
void step_bytes_only(const std::vector<TensorView>& p, const std::vector<TensorView>& g,
                     const std::vector<TensorView>& m, const std::vector<TensorView>& v);

}  // namespace cpu
}  // namespace ah4j
